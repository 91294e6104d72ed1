"""mod_gk_ratelimit across processes and threads, on every MPM (each
class restarts httpd with its MPM, whatever --mpm says): exactly L of N
concurrent requests are admitted, on fresh connections and on keep-alive
ones; counts are kept across a graceful restart (SIGUSR1) and a hard one
(SIGHUP: the parent stays), and start afresh after a stop and a start."""

import pytest

from gkhttpd import GkConf
from gk_ratelimit_helpers import (apache_hup, burst, ensure_window, fields,
                                  marker, need_ratelimit_module, remaining)

MPMS = ["event", "worker", "prefork"]


@pytest.fixture(autouse=True, scope="module")
def _need_module(env):
    need_ratelimit_module(env)


@pytest.fixture(scope="class", params=MPMS)
def mpm_server(request, env):
    mpm = request.param
    if not env.mod_path("mpm_%s" % mpm).exists():
        pytest.skip("no mod_mpm_%s" % mpm)
    conf = GkConf(env, mpm=mpm, gk_modules=("ratelimit",))
    conf.add_location("/burst/", "GKRateLimit burst 50/hour key=header:X-Run")
    conf.add_location("/bip/", "GKRateLimit bip 37/hour")
    conf.add_location("/bg/", "GKRateLimit bg 23/hour key=global")
    conf.add_location("/rs/", "GKRateLimit rs 5/hour key=header:X-Run")
    conf.install()
    env.apache_restart()
    yield mpm
    env.mpm = env.default_mpm


class TestConcurrency:

    def test_gk_ratelimit_040_01_exact_new_connections(self, env,
                                                       mpm_server):
        ensure_window(3600, 60)
        h = {"X-Run": marker(), "Connection": "close"}
        got = burst(env, 300, "/burst/", threads=48, headers=h)
        assert len(got) == 300
        assert got.count(200) == 50, (mpm_server, got.count(200))
        assert got.count(429) == 250, sorted(set(got))

    def test_gk_ratelimit_040_02_exact_keepalive(self, env, mpm_server):
        ensure_window(3600, 60)
        h = {"X-Run": marker()}
        got = burst(env, 320, "/burst/", threads=32, per_session=10,
                    headers=h)
        assert got.count(200) == 50, (mpm_server, got.count(200))
        assert got.count(429) == 270

    def test_gk_ratelimit_040_03_exact_ip_and_global(self, env, mpm_server):
        ensure_window(3600, 60)
        got = burst(env, 150, "/bip/", threads=40, per_session=3)
        assert got.count(200) == 37 and got.count(429) == 113, \
            (mpm_server, got.count(200))
        got = burst(env, 100, "/bg/", threads=40,
                    headers={"Connection": "close"})
        assert got.count(200) == 23 and got.count(429) == 77, \
            (mpm_server, got.count(200))

    def test_gk_ratelimit_041_01_restarts(self, env, mpm_server):
        ensure_window(3600, 60)
        h = {"X-Run": marker()}
        for i in range(3):
            assert env.get("/rs/", headers=h).status_code == 200
        env.apache_graceful()
        r = env.get("/rs/", headers=h)
        assert r.status_code == 200 and remaining(r, "rs") == 1, fields(r)
        apache_hup(env)
        r = env.get("/rs/", headers=h)
        assert r.status_code == 200 and remaining(r, "rs") == 0, fields(r)
        assert env.get("/rs/", headers=h).status_code == 429
        # a graceful restart under load: still exact
        h2 = {"X-Run": marker(), "Connection": "close"}
        got = burst(env, 40, "/burst/", threads=20, headers=h2)
        env.apache_graceful()
        got += burst(env, 60, "/burst/", threads=20, headers=h2)
        assert got.count(200) == 50, (mpm_server, got.count(200))
        # stop and start: afresh
        env.apache_stop()
        env.apache_start()
        r = env.get("/rs/", headers=h)
        assert r.status_code == 200 and remaining(r, "rs") == 4, fields(r)
