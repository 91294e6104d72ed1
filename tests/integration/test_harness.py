"""Self-test of the harness against a bare httpd (no Gatekeeper module):
start/stop, the echo CGI, the proxy backend, the error log check, the
expected-startup-failure mode, graceful restart, every MPM."""

import pytest

from gkhttpd import GkConf, StartFailure
from gkhttpd.check import echo


class TestHarness:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        conf = GkConf(env, gk_modules=())
        conf.add("""
            ProxyPass /p/ http://127.0.0.1:%d/_backend/
            <Location /denied>
                Require all denied
            </Location>
            <Location /hdr>
                Header always set X-Harness yes
            </Location>
        """ % env.backend_port)
        conf.install()
        env.apache_restart()

    def test_gk_harness_001_01_static(self, env):
        r = env.get("/any/path/at/all")
        assert r.status_code == 200
        assert r.text == "ok\n"

    def test_gk_harness_001_02_echo(self, env):
        r = env.get("/x/echo?a=1", headers={"X-Foo": "bar"})
        j = echo(r)
        assert j["headers"]["x-foo"] == "bar"
        assert j["env"]["QUERY_STRING"] == "a=1"
        assert "REMOTE_USER" not in j["env"]

    def test_gk_harness_001_03_proxy(self, env):
        r = env.get("/p/echo", headers={"X-Foo": "bar"})
        j = echo(r)
        assert j["headers"]["x-foo"] == "bar"
        assert j["env"]["SERVER_PORT"] == str(env.backend_port)

    def test_gk_harness_001_04_log_check(self, env):
        r = env.get("/denied")
        assert r.status_code == 403
        bad = env.error_log.check()
        assert [l.tag for l in bad] == ["AH01630"]
        env.get("/denied")
        env.error_log.ignore(tags=["AH01630"])

    def test_gk_harness_001_05_raw(self, env):
        r = env.raw_get("/hdr", ["X-A: 1", "X-A: 2"])
        assert r.status_code == 200
        assert r.headers["X-Harness"] == "yes"
        assert r.text == "ok\n"

    def test_gk_harness_001_06_graceful(self, env):
        env.apache_graceful()
        assert env.get("/x").status_code == 200

    def test_gk_harness_001_07_fail(self, env):
        conf = GkConf(env, gk_modules=())
        conf.add("NoSuchDirective on")
        conf.install()
        env.apache_fail().assert_refused("NoSuchDirective")
        with pytest.raises(StartFailure):
            env.apache_start()
        env.error_log.mark()


@pytest.mark.parametrize("mpm", ["event", "worker", "prefork"])
def test_gk_harness_002_mpm(env, mpm):
    conf = GkConf(env, mpm=mpm, gk_modules=())
    conf.install()
    env.apache_restart()
    try:
        assert echo(env.get("/m/echo"))["env"]["REQUEST_METHOD"] == "GET"
        assert env.get("/p").status_code == 200
    finally:
        env.apache_stop()
