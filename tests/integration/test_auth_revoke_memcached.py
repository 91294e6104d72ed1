"""mod_gk_auth: token revocation on memcached (issue 14), against real
memcached servers on loopback ports and real httpd processes:

* two httpd instances sharing one memcached: revoked on one, refused on
  the other; the keys memcached holds are hashed and namespaced, with the
  token's exp (plus leeway) as their expiry, and gone after it;
* memcached restarted (everything lost): each front end replays its
  journal on its next request, so every revocation of either holds;
* memcached stopped (SIGSTOP, then killed) with
  GKAuthRevocationOnStoreError deny (503 + Retry-After, also for a
  revocation) and allow (admitted), every answer within a bound far above
  the 100 ms store timeout;
* exactly one round trip to memcached per authenticated request, counted
  by a loopback proxy that parses the binary protocol
  (gkhttpd/mcproxy.py), whatever the timing.
"""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from gkhttpd.check import assert_status
from gkhttpd.mcproxy import McProxy
from gkhttpd.memcached import Memcached, have_memcached
from gk_revoke_helpers import (BOUND, STORE_TIMEOUT_MS, AccessLog, Peer,
                               assert_refused_revoked, assert_revoked_ok,
                               get, marker, mint, revoke, rv_conf)

LEEWAY = 2
KEY_PREFIX = "gk:rv:"


@pytest.fixture(autouse=True, scope="module")
def _need(env):
    if not have_memcached():
        pytest.skip("no /usr/bin/memcached")


def new_mc(env, name="rvmc"):
    return Memcached(env.gen_dir / "memcached", name=name)


@pytest.fixture(scope="class")
def mc(env):
    with new_mc(env) as m:
        yield m


def mc_conf(e, keys, name, addr, on_error=None, timeout=None, server=()):
    """Every front end hashes its keys with the same secret."""
    secret = e.write_file(e.data_dir / "rv_mc_secret",
                          "rv-shared-secret-0123456789abcdef\n")
    lines = ["GKAuthRevocationKeySecret %s" % secret]
    if on_error:
        lines.append("GKAuthRevocationOnStoreError %s" % on_error)
    if timeout:
        lines.append("GKAuthRevocationStoreTimeout %d" % timeout)
    conf, jpath = rv_conf(e, keys, name,
                          store='memcached "--SERVER=%s"' % addr,
                          server=lines + list(server))
    return conf, jpath


def rv_keys(m):
    return {k for k in m.keys() if k.startswith(KEY_PREFIX)}


# ---- two front ends, one memcached ----------------------------------------

class TestTwoFrontEnds:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys, mc):
        self.__class__.mc = mc
        peer = Peer(env, name="rvpeer")
        self.__class__.other = peer.env
        try:
            for e, n in ((env, "fe-a"), (peer.env, "fe-b")):
                conf, _ = mc_conf(e, keys, n, mc.addr,
                                  server=["GKAuthLeeway %d" % LEEWAY])
                conf.install()
            env.apache_restart()
            peer.env.apache_start()
            yield
            bad = peer.env.error_log.check()
            assert not bad, "\n".join(l.text for l in bad)
        finally:
            peer.stop()

    def test_gk_auth_145_01_revoked_on_one(self, env, keys):
        other = self.other
        u = marker()
        t1, t2 = mint(keys, u), mint(keys, u)
        for e in (env, other):
            assert_status(get(e, "/api/x", t1), 200)     # cached in both
        assert_revoked_ok(revoke(env, t2, {"token": t1}))
        for e in (other, env):
            assert_refused_revoked(get(e, "/api/x", t1))
            assert_status(get(e, "/api/x", t2), 200)
        # and the other way round, log out everywhere on B
        assert_revoked_ok(revoke(other, t2, {"sub": u, "all": "1"}))
        for e in (env, other):
            assert_refused_revoked(get(e, "/api/x", t2))
        m = marker()
        get(env, "/api/x", t2, mark=m)
        assert AccessLog(env).reason(m) == "revoked"

    def test_gk_auth_145_02_keys(self, env, keys):
        """What memcached holds: gk:rv:<kind>:<32 hex>, never the
        subject, the jti or the token; expiring at exp + leeway, gone
        after."""
        u = marker()
        jti = marker()
        auth = mint(keys, u)
        t = mint(keys, u, ttl=3, jti=jti)
        exp = int(time.time()) + 3
        before = rv_keys(self.mc)
        assert_revoked_ok(revoke(env, auth, {"token": t}))
        new = rv_keys(self.mc) - before
        assert len(new) == 1, new
        key = new.pop()
        assert key.startswith("gk:rv:t:") and len(key) == 40, key
        for d in self.mc.metadump():
            k = d["key"]
            assert k.startswith(KEY_PREFIX), k
            assert u not in k and jti not in k and t[:20] not in k, k
            if k == key:
                assert abs(int(d["exp"]) - (exp + LEEWAY)) <= 2, (d, exp)
        assert_refused_revoked(get(env, "/api/x", t))
        # gone after exp + leeway
        time.sleep(max(0.0, exp + LEEWAY + 1.5 - time.time()))
        got = self.mc.command(("get %s\r\n" % key).encode())
        assert got == b"END\r\n", got

    def test_gk_auth_145_03_memcached_restarted(self, env, keys):
        """memcached restarted (empty): each front end finds the sentinel
        gone on its next request and replays its journal before answering,
        so A's and B's revocations hold on both."""
        other = self.other
        ua, ub = marker(), marker()
        ta, aa = mint(keys, ua), mint(keys, ua)
        tb, ab = mint(keys, ub), mint(keys, ub)
        assert_revoked_ok(revoke(env, aa, {"token": ta}))
        assert_revoked_ok(revoke(other, ab, {"token": tb}))
        assert rv_keys(self.mc)
        self.mc.restart()
        assert not rv_keys(self.mc)
        # the first request on each front end: its own revocation holds
        assert_refused_revoked(get(env, "/api/x", ta))
        assert_refused_revoked(get(other, "/api/x", tb))
        # the union is back: each front end refuses the other's too
        assert_refused_revoked(get(env, "/api/x", tb))
        assert_refused_revoked(get(other, "/api/x", ta))
        for e in (env, other):
            assert_status(get(e, "/api/x", aa), 200)
            assert_status(get(e, "/api/x", ab), 200)
        assert self.mc.stats()["curr_items"] > 0


# ---- memcached stopped: deny and allow --------------------------------------

@pytest.fixture(scope="class", params=["deny", "allow"])
def policy(request, env, keys):
    with new_mc(env, "rvdown") as m:
        conf, _ = mc_conf(env, keys, "down-%s" % request.param,
                          m.addr, on_error=request.param,
                          timeout=STORE_TIMEOUT_MS)
        conf.install()
        env.apache_restart()
        # what an unreachable store logs at warn or worse (mod_gk_auth)
        env.error_log.allow(regex=r"\[gk_auth:(error|warn)\]")
        yield request.param, m


def timed(fn, *a, **kw):
    t = time.monotonic()
    r = fn(*a, **kw)
    return r, time.monotonic() - t


class TestStoreDown:

    def check_down(self, env, keys, pol, toks):
        """Requests while the store cannot answer: each within BOUND;
        deny: 503 + Retry-After (a revocation too); allow: admitted."""
        got = []
        with ThreadPoolExecutor(4) as ex:
            got = list(ex.map(lambda t: timed(get, env, "/api/x", t),
                              toks * 3))
        for r, dt in got:
            assert dt < BOUND, dt
            if pol == "deny":
                assert r.status_code == 503, r.status_code
                assert r.headers.get("Retry-After"), r.headers
            else:
                assert r.status_code == 200, r.status_code
        r, dt = timed(revoke, env, toks[0], {"token": toks[1]})
        assert dt < BOUND, dt
        assert r.status_code == 503 and r.headers.get("Retry-After"), \
            (r.status_code, r.headers)

    def settle(self, env, token, timeout=10.0):
        """Until the store answers again in every child: rounds of
        concurrent requests all 200."""
        end = time.monotonic() + timeout
        good = 0
        while good < 3:
            with ThreadPoolExecutor(8) as ex:
                st = list(ex.map(lambda i: get(env, "/api/x", token)
                                 .status_code, range(8)))
            good = good + 1 if all(s == 200 for s in st) else 0
            assert time.monotonic() < end, st
            time.sleep(0.1)

    def test_gk_auth_146_01_stopped(self, env, keys, policy):
        pol, m = policy
        u = marker()
        toks = [mint(keys, u) for _ in range(4)]
        revoked = mint(keys, u)
        assert_revoked_ok(revoke(env, toks[0], {"token": revoked}))
        self.settle(env, toks[0])
        # frozen (SIGSTOP): every operation times out
        m.pause()
        try:
            self.check_down(env, keys, pol, toks)
            # a revoked token is never admitted by "deny"
            r, dt = timed(get, env, "/api/x", revoked)
            assert dt < BOUND
            assert r.status_code == (503 if pol == "deny" else 200), \
                r.status_code
        finally:
            m.resume()
        self.settle(env, toks[0])
        assert_refused_revoked(get(env, "/api/x", revoked))
        # killed: connections refused
        m.kill()
        self.check_down(env, keys, pol, toks)
        m.start()
        self.settle(env, toks[0])
        # back: the journal was replayed into the empty memcached
        assert_refused_revoked(get(env, "/api/x", revoked))


# ---- one round trip per request ------------------------------------------------

class TestRoundTrips:
    """httpd -> McProxy -> memcached: the proxy counts round trips of the
    binary protocol by its frames (gkhttpd/mcproxy.py), not by time."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys, mc):
        p = McProxy(mc.port).start()
        self.__class__.proxy = p
        try:
            conf, _ = mc_conf(env, keys, "trips", p.addr)
            conf.install()
            env.apache_restart()
            yield
        finally:
            p.stop()

    def count(self, fn):
        n0 = self.proxy.round_trips()
        fn()
        return self.proxy.round_trips() - n0

    def test_gk_auth_147_01_one_round_trip(self, env, keys):
        u = marker()
        t = mint(keys, u)
        revoked = mint(keys, u)
        assert_revoked_ok(revoke(env, t, {"token": revoked}))
        # warm up: each child's first request may replay the journal and
        # write the sentinel
        with ThreadPoolExecutor(8) as ex:
            list(ex.map(lambda i: get(env, "/api/x", t), range(32)))
        n = 20
        # a repeated token (cached after its first use), new connections
        assert self.count(lambda: [assert_status(get(env, "/api/x", t), 200)
                                   for _ in range(n)]) == n
        # first-seen tokens, concurrently
        fresh = [mint(keys, u) for _ in range(n)]

        def concurrent():
            with ThreadPoolExecutor(4) as ex:
                for r in ex.map(lambda x: get(env, "/api/x", x), fresh):
                    assert_status(r, 200)
        assert self.count(concurrent) == n
        # refused requests cost one round trip as well: the token's entry
        # and the subject's cutoff come in the same batch
        assert self.count(lambda: [assert_refused_revoked(
            get(env, "/api/x", revoked)) for _ in range(n)]) == n
        # where revocation is off: none
        assert self.count(lambda: [assert_status(get(env, "/off/x", t), 200)
                                   for _ in range(n)]) == 0
        assert not self.proxy.errors(), self.proxy.errors()[:3]
        # each round trip of a request is one multi-get: quiet gets and
        # one frame that waits
        for _, batch in self.proxy.batches()[-n:]:
            assert batch[-1] in ("NOOP", "GETK", "GET"), batch
            assert all(op in ("GETKQ", "GETQ") for op in batch[:-1]), batch
            assert 2 <= len(batch) <= 4, batch
