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

import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from gkhttpd.check import assert_status
from gkhttpd.mcproxy import McProxy
from gkhttpd.memcached import Memcached, have_memcached
from gk_revoke_helpers import (BOUND, STORE_TIMEOUT_MS, AccessLog, Peer,
                               assert_refused_revoked, assert_revoked_ok,
                               get, marker, mint, revoke, rv_conf, rv_key)

LEEWAY = 2
SECRET = b"rv-shared-secret-0123456789abcdef\n"
# the memcached store's own namespace before every key it writes (the
# rate limit's are "gk:gkrl:..."): the revocation keys "gk:rv:..." are
# found under it
STORE_NS = "gk:"
RE_STORED = re.compile(r"^gk:rv:(?:[trs]:[0-9a-f]{32}|sentinel)$")


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
    secret = e.write_file(e.data_dir / "rv_mc_secret", SECRET)
    lines = ["GKAuthRevocationKeySecret file:%s" % secret]
    if on_error:
        lines.append("GKAuthRevocationOnStoreError %s" % on_error)
    if timeout:
        lines.append("GKAuthRevocationStoreTimeout %d" % timeout)
    conf, jpath = rv_conf(e, keys, name,
                          store='memcached "--SERVER=%s"' % addr,
                          server=lines + list(server))
    return conf, jpath


def token_key(jti, iss=None):
    """What memcached holds for a token revoked by (iss, jti)."""
    return STORE_NS + rv_key("t", SECRET, iss, jti)


def ttl(m, key):
    """The seconds key has left in m (meta get), or None when m does not
    hold it."""
    got = m.command(("mg %s t\r\n" % key).encode(), end=b"\r\n")
    if got.startswith(b"EN"):
        return None
    assert got.startswith(b"HD "), got
    return int(got.split()[1][1:])


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
        """What memcached holds: the key derived from (iss, jti) and the
        shared secret as gk_revoke.h defines it (computed here), never the
        subject, the jti or the token; expiring at exp + leeway, gone
        after."""
        u = marker()
        jti = marker()
        auth = mint(keys, u)
        t = mint(keys, u, ttl=3, jti=jti)
        exp = int(time.time()) + 3
        key = token_key(jti)
        assert ttl(self.mc, key) is None
        assert_revoked_ok(revoke(env, auth, {"token": t}))
        left = ttl(self.mc, key)
        assert left is not None, "no %s in memcached" % key
        assert abs(time.time() + left - (exp + LEEWAY)) <= 2, (left, exp)
        # without the secret the key would differ: it is keyed
        assert rv_key("t", None, None, jti) != key[len(STORE_NS):]
        for k in self.mc.keys():
            assert RE_STORED.match(k), k
            assert u not in k and jti not in k and t[:20] not in k, k
        assert_refused_revoked(get(env, "/api/x", t))
        # gone after exp + leeway
        time.sleep(max(0.0, exp + LEEWAY + 1.5 - time.time()))
        assert ttl(self.mc, key) is None

    def revoke_on(self, e, keys):
        """A token revoked on front end e: (token, jti, another token of
        the same user)."""
        u, j = marker(), marker()
        t, other = mint(keys, u, jti=j), mint(keys, u)
        assert_revoked_ok(revoke(e, other, {"token": t}))
        assert ttl(self.mc, token_key(j))
        return t, j, other

    def test_gk_auth_145_03_memcached_restarted(self, env, keys):
        """memcached restarted (empty): the front end that revoked finds
        the sentinel gone on its next request and replays its journal
        before answering; the entry is back in memcached, for the other
        front end too."""
        t, j, fine = self.revoke_on(env, keys)
        self.mc.restart()
        assert self.mc.stats()["curr_items"] == 0
        assert_refused_revoked(get(env, "/api/x", t))
        assert ttl(self.mc, token_key(j))
        assert_refused_revoked(get(self.other, "/api/x", t))
        for e in (env, self.other):
            assert_status(get(e, "/api/x", fine), 200)

    def test_gk_auth_145_04_restarted_union(self, env, keys):
        """memcached restarted: the union of both front ends' journals is
        back within one request per front end, whichever comes first."""
        other = self.other
        ta, ja, fa = self.revoke_on(env, keys)
        tb, jb, fb = self.revoke_on(other, keys)
        self.mc.restart()
        # A first: it replays its journal and writes the sentinel back
        assert_refused_revoked(get(env, "/api/x", ta))
        # then B's first request: its own revocation must hold
        assert_refused_revoked(get(other, "/api/x", tb))
        # the union is back: each front end refuses the other's too
        assert_refused_revoked(get(env, "/api/x", tb))
        assert_refused_revoked(get(other, "/api/x", ta))
        for e in (env, other):
            assert_status(get(e, "/api/x", fa), 200)
            assert_status(get(e, "/api/x", fb), 200)
        assert ttl(self.mc, token_key(ja)) and ttl(self.mc, token_key(jb))


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

    def settle(self, env, revoked, timeout=10.0):
        """Until the store answers again in every child: rounds of
        concurrent requests with a revoked token, all refused as revoked
        (while a child's store fails, deny answers 503 and allow admits
        it)."""
        end = time.monotonic() + timeout
        good = 0
        while good < 3:
            with ThreadPoolExecutor(8) as ex:
                st = list(ex.map(lambda i: get(env, "/api/x", revoked)
                                 .status_code, range(8)))
            good = good + 1 if all(s == 401 for s in st) else 0
            assert time.monotonic() < end, st
            time.sleep(0.1)

    def test_gk_auth_146_01_stopped(self, env, keys, policy):
        pol, m = policy
        u = marker()
        toks = [mint(keys, u) for _ in range(4)]
        revoked = mint(keys, u)
        assert_revoked_ok(revoke(env, toks[0], {"token": revoked}))
        self.settle(env, revoked)
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
        self.settle(env, revoked)
        assert_refused_revoked(get(env, "/api/x", revoked))
        # killed: connections refused
        m.kill()
        self.check_down(env, keys, pol, toks)
        m.start()
        self.settle(env, revoked)
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

    def lookups(self):
        """Round trips that look something up: a child that the MPM stops
        in the meantime (idle-server maintenance) closes its connections
        with a QUIT, which is a frame that waits but no request's."""
        return sum(1 for _, b in self.proxy.batches() if b != ["QUIT"])

    def count(self, fn):
        n0 = self.lookups()
        fn()
        return self.lookups() - n0

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
        for batch in [b for _, b in self.proxy.batches()
                      if b != ["QUIT"]][-n:]:
            assert batch[-1] in ("NOOP", "GETK", "GET"), batch
            assert all(op in ("GETKQ", "GETQ") for op in batch[:-1]), batch
            assert 2 <= len(batch) <= 4, batch
