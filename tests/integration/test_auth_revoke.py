"""mod_gk_auth: token revocation on one front end with the shm store
(issue 14): `SetHandler gk-revoke` (RFC 7009 style) and the denylist every
`AuthType gk-bearer` request consults.

* revoked by its owner: refused (401 invalid_token, reason `revoked`),
  another token of the same user still admitted; someone else's token
  without the admin role: 200 and nothing changes (an audit event); an
  admin revokes any; an invalid, foreign-signed or expired posted token:
  200 and nothing stored (the handler's debug line); a token without jti;
* logout without a token field, by the Authorization header and by the
  token cookie (the cookie expired in the answer);
* "log out everywhere" (sub=USER&all=1): older tokens refused, a token
  issued after the cutoff admitted, a token without iat refused;
* GKAuthRevocation Off in a directory;
* a cached revoked token refused in every child (prefork, several
  connections);
* a full restart: the shm table is gone, the journal brings the
  revocation back (and without the journal it is gone);
* a full table (size=): 503 + Retry-After and an error-log line, every
  stored entry kept, the refused token still admitted; the entries gone
  after exp (the table takes revocations again);
* over h2c.

memcached (several front ends, restarts, outages, round trips) is in
test_auth_revoke_memcached.py.
"""

import json
import time
import urllib.parse

import pytest
import requests

from gkhttpd import tokens as T
from gkhttpd.check import assert_challenge, assert_status
from gk_log_helpers import curl_h2
from gk_ratelimit_helpers import read_json_lines
from gk_revoke_helpers import (ADMIN_ROLE, COOKIE, NOTHING_STORED,
                               REVOKED_LINE, AccessLog, assert_refused_revoked,
                               assert_revoked_ok, curl_h2c, get, log_lines,
                               marker, mint, revoke, rv_conf,
                               wait_next_second)

AUDIT = "rv_audit.json"


class TestRevoke:
    """One server (event MPM, shm store by default), mod_gk_log loaded for
    the audit events when built."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        mods = ("auth", "log") if env.has_gk_module("log") else ("auth",)
        self.__class__.audit = "log" in mods
        conf, _ = rv_conf(env, keys, "main", gk_modules=mods)
        if self.audit:
            conf.add('GKAuditLog "%s/%s"' % (env.logs_dir, AUDIT))
        conf.install()
        env.apache_restart()
        env.error_log.allow(tags=["AH01630", "AH01631"])

    # ---- revoked by its owner, by others, by an admin -----------------------
    def test_gk_auth_140_01_owner(self, env, keys):
        """The owner revokes one of its tokens (authenticated by another):
        that one is refused everywhere revocation is on, with the reason
        `revoked`; the other is still admitted."""
        acc = AccessLog(env)
        u = marker()
        t1, t2 = mint(keys, u), mint(keys, u)
        for t in (t1, t2):
            assert_status(get(env, "/api/x", t), 200)
        pos = env.error_log._size()
        assert_revoked_ok(revoke(env, t2, {"token": t1}))
        assert log_lines(env, pos, REVOKED_LINE), "no info line"
        m = marker()
        r = get(env, "/api/x", t1, mark=m)
        assert_refused_revoked(r)
        assert acc.reason(m) == "revoked"
        assert_status(get(env, "/api/x", t2), 200)
        # the revoke handler itself refuses it too
        assert_refused_revoked(revoke(env, t1, {"token": t2}))
        assert_status(get(env, "/api/x", t2), 200)
        # revoking it again: 200, still refused
        assert_revoked_ok(revoke(env, t2, {"token": t1}))
        assert_refused_revoked(get(env, "/api/x", t1))

    def test_gk_auth_140_02_token_type_hint(self, env, keys):
        """token_type_hint is accepted and ignored."""
        u = marker()
        t1, t2 = mint(keys, u), mint(keys, u)
        assert_revoked_ok(revoke(env, t2, {"token": t1,
                                           "token_type_hint":
                                           "refresh_token"}))
        assert_refused_revoked(get(env, "/api/x", t1))
        assert_status(get(env, "/api/x", t2), 200)

    def test_gk_auth_140_03_not_yours(self, env, keys):
        """Someone else's token without the admin role: 200, the token
        stays valid, nothing stored, and an audit event."""
        alice, bob = marker(), marker()
        ta = mint(keys, alice)
        tb = mint(keys, bob, roles=["user"])
        pos = env.error_log._size()
        assert_revoked_ok(revoke(env, tb, {"token": ta}))
        assert_status(get(env, "/api/x", ta), 200)
        assert not log_lines(env, pos, REVOKED_LINE)
        # a user cannot log someone else out everywhere either
        assert_revoked_ok(revoke(env, tb, {"sub": alice, "all": "1"}))
        assert_status(get(env, "/api/x", ta), 200)
        assert_status(get(env, "/api/x", mint(keys, alice)), 200)
        assert_status(get(env, "/api/x", tb), 200)
        assert not log_lines(env, pos, REVOKED_LINE)
        if self.audit:
            mine = read_json_lines(env.logs_dir / AUDIT,
                                   lambda o: bob in json.dumps(o), want=2)
            assert len(mine) >= 2, mine
            for o in mine:
                assert o["event"]["outcome"] == "failure", o
                assert "revok" in o["event"]["action"], o
            # no token in the audit log
            text = (env.logs_dir / AUDIT).read_text()
            assert ta not in text and ta.split(".")[2] not in text

    def test_gk_auth_140_04_admin(self, env, keys):
        """A holder of GKRevokeAdminRole revokes anybody's token and logs
        anybody out everywhere; the admin's own token stays valid."""
        alice, carol = marker(), marker()
        adm = mint(keys, marker(), roles=[ADMIN_ROLE])
        ta, ta2, tc = mint(keys, alice), mint(keys, alice), mint(keys, carol)
        assert_revoked_ok(revoke(env, adm, {"token": ta}))
        assert_refused_revoked(get(env, "/api/x", ta))
        assert_status(get(env, "/api/x", ta2), 200)
        assert_revoked_ok(revoke(env, adm, {"sub": carol, "all": "1"}))
        assert_refused_revoked(get(env, "/api/x", tc))
        assert_status(get(env, "/api/x", adm), 200)
        # a role of another name is no admin role
        other = mint(keys, marker(), roles=["admin", "rv-admins"])
        assert_revoked_ok(revoke(env, other, {"token": ta2}))
        assert_status(get(env, "/api/x", ta2), 200)

    @pytest.mark.parametrize("case", ["garbage", "foreign", "expired",
                                      "unsigned", "tampered"])
    def test_gk_auth_140_05_nothing_stored(self, env, keys, case):
        """An unverifiable or expired posted token: 200, and the handler
        says at debug level that it stored nothing (never `revoked`)."""
        u = marker()
        auth = mint(keys, u)
        victim = mint(keys, u)
        posted = {
            "garbage": lambda: "not-a-token",
            "foreign": lambda: mint(keys, u, key="hs256-b"),
            "expired": lambda: mint(keys, u, ttl=-3600),
            "unsigned": lambda: T.forge({"alg": "none", "typ": "JWT"},
                                        T.claims(sub=u, jti=marker())),
            "tampered": lambda: victim[:-6] + ("AAAAAA" if not
                                               victim.endswith("AAAAAA")
                                               else "BBBBBB"),
        }[case]()
        pos = env.error_log._size()
        assert_revoked_ok(revoke(env, auth, {"token": posted}))
        assert env.error_log.wait_for(NOTHING_STORED, timeout=5,
                                      since=pos), "no debug line"
        assert not log_lines(env, pos, REVOKED_LINE)
        # the debug line never shows the posted token
        for l in log_lines(env, pos, NOTHING_STORED):
            assert posted not in l.text
        assert_status(get(env, "/api/x", auth), 200)
        assert_status(get(env, "/api/x", victim), 200)

    def test_gk_auth_140_06_methods(self, env, keys):
        """405 for anything but POST, nothing revoked."""
        t = mint(keys, marker())
        for m in ("GET", "PUT", "DELETE"):
            r = env.request("/revoke", m, token=t)
            assert r.status_code == 405, (m, r.status_code)
        assert_status(get(env, "/api/x", t), 200)

    # ---- logout: no token field -----------------------------------------------
    def test_gk_auth_140_07_logout_header(self, env, keys):
        """Without a token field the token that authenticated the request
        is revoked."""
        u = marker()
        t1, t2 = mint(keys, u), mint(keys, u)
        assert_revoked_ok(revoke(env, t1))
        assert_refused_revoked(get(env, "/api/x", t1))
        assert_status(get(env, "/api/x", t2), 200)

    def test_gk_auth_140_08_logout_cookie(self, env, keys):
        """A browser logs out with its HttpOnly cookie: the cookie's token
        is revoked, the answer expires the cookie, and the token is then
        refused by the cookie and by the header alike."""
        u = marker()
        t, other = mint(keys, u), mint(keys, u)
        assert_status(get(env, "/capi/x", None, cookies={COOKIE: t}), 200)
        r = revoke(env, None, None, path="/logout", cookies={COOKIE: t})
        assert_revoked_ok(r)
        cookies = r.raw.headers.getlist("Set-Cookie")
        assert len(cookies) == 1, cookies
        c = cookies[0]
        name, _, rest = c.partition("=")
        assert name == COOKIE, c
        attrs = [a.strip().lower() for a in rest.split(";")]
        assert attrs[0] == "", c                  # no value left
        assert "max-age=0" in attrs or any(
            a.startswith("expires=") and "1970" in a for a in attrs), c
        assert "httponly" in attrs and "path=/" in attrs, c
        assert t not in c
        m = marker()
        r = get(env, "/capi/x", None, cookies={COOKIE: t}, mark=m)
        assert_status(r, 401)
        assert AccessLog(env).reason(m) == "revoked"
        assert_refused_revoked(get(env, "/api/x", t))
        assert_status(get(env, "/capi/x", None, cookies={COOKIE: other}),
                      200)

    # ---- log out everywhere -------------------------------------------------
    def test_gk_auth_140_09_everywhere(self, env, keys):
        """sub=USER&all=1 by the user itself: every token of that subject
        issued at or before the cutoff is refused, another subject's is
        not, a token issued after it is admitted, one without iat is
        refused from then on."""
        u, v = marker(), marker()
        old1, old2, tv = mint(keys, u), mint(keys, u), mint(keys, v)
        noiat_before = mint(keys, u, iat=None)
        assert_status(get(env, "/api/x", noiat_before), 200)
        assert_revoked_ok(revoke(env, old1, {"sub": u, "all": "1"}))
        for t in (old1, old2, noiat_before):
            assert_refused_revoked(get(env, "/api/x", t))
        assert_status(get(env, "/api/x", tv), 200)
        # iat has a granularity of seconds: a token of the next second
        wait_next_second()
        new = mint(keys, u)
        assert_status(get(env, "/api/x", new), 200)
        assert_refused_revoked(get(env, "/api/x", mint(keys, u, iat=None)))
        m = marker()
        get(env, "/api/x", old2, mark=m)
        assert AccessLog(env).reason(m) == "revoked"

    def test_gk_auth_140_10_everywhere_cutoff_second(self, env, keys):
        """The cutoff is the second of the revocation: a token with iat of
        that second is refused, one with iat one second later admitted."""
        u = marker()
        auth = mint(keys, u)
        t0 = int(time.time())
        assert_revoked_ok(revoke(env, auth, {"sub": u, "all": "1"}))
        t1 = int(time.time())
        # the cutoff lies in [t0, t1]: iat <= t0 is refused for certain
        assert_refused_revoked(get(env, "/api/x", mint(keys, u, iat=t0)))
        while int(time.time()) <= t1:
            time.sleep(0.05)
        assert_status(get(env, "/api/x", mint(keys, u, iat=t1 + 1)), 200)

    # ---- no jti -------------------------------------------------------------
    def test_gk_auth_140_11_no_jti(self, env, keys):
        """A token without jti (an external identity provider's) is
        revoked by a hash of itself: that token refused, another of the
        same user without jti admitted."""
        u = marker()
        t1 = mint(keys, u, jti=None)
        t2 = mint(keys, u, jti=None, nonce=marker())
        assert t1 != t2
        assert_revoked_ok(revoke(env, t2, {"token": t1}))
        assert_refused_revoked(get(env, "/api/x", t1))
        assert_status(get(env, "/api/x", t2), 200)

    # ---- GKAuthRevocation Off -----------------------------------------------
    def test_gk_auth_140_12_off_in_directory(self, env, keys):
        """A revoked token is admitted where GKAuthRevocation Off, refused
        elsewhere."""
        u = marker()
        t, auth = mint(keys, u), mint(keys, u)
        assert_revoked_ok(revoke(env, auth, {"token": t}))
        assert_status(get(env, "/off/x", t), 200)
        assert_refused_revoked(get(env, "/api/x", t))
        # and a subject's cutoff likewise
        assert_revoked_ok(revoke(env, auth, {"sub": u, "all": "1"}))
        assert_status(get(env, "/off/x", auth), 200)
        assert_refused_revoked(get(env, "/api/x", auth))


class TestEveryChild:
    """prefork, several children: a token cached in each of them, then
    revoked, is refused by every child, over new and kept-alive
    connections (the per-process cache does not bypass the denylist)."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        conf, _ = rv_conf(env, keys, "children", mpm="prefork",
                          server=["GKAuthCacheSize 64"])
        conf.install()
        env.apache_restart()
        yield
        env.mpm = env.default_mpm

    def test_gk_auth_141_01_cached_every_child(self, env, keys):
        acc = AccessLog(env)
        u = marker()
        t, auth = mint(keys, u), mint(keys, u)

        def burst(want):
            marks = []
            # new connections, then one kept alive per round
            for i in range(24):
                m = marker()
                marks.append(m)
                assert_status(get(env, "/api/x", t, mark=m), want)
            with requests.Session() as s:
                for i in range(3):
                    for _ in range(4):
                        m = marker()
                        marks.append(m)
                        r = s.get(env.url("/api/x"), headers={
                            "Authorization": "Bearer " + t, "X-Mark": m},
                            timeout=10)
                        assert r.status_code == want, r.status_code
            return {acc.pid(m) for m in marks}

        warm = burst(200)
        assert len(warm) >= 2, "one child served everything: %r" % warm
        assert_revoked_ok(revoke(env, auth, {"token": t}))
        after = burst(401)
        both = warm & after
        assert len(both) >= 2, (warm, after)
        assert_challenge(get(env, "/api/x", t), error="invalid_token")
        assert_status(get(env, "/api/x", auth), 200)


class TestRestart:
    """A full restart drops the shm table; the journal brings every
    revocation back."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        conf, jpath = rv_conf(env, keys, "restart")
        self.__class__.journal = jpath
        conf.install()
        env.apache_restart()

    def test_gk_auth_142_01_full_restart(self, env, keys):
        u, v = marker(), marker()
        t, auth, tv = mint(keys, u), mint(keys, u), mint(keys, v)
        assert_revoked_ok(revoke(env, auth, {"token": t}))
        assert_revoked_ok(revoke(env, tv, {"sub": v, "all": "1"}))
        assert_refused_revoked(get(env, "/api/x", t))
        assert self.journal.exists() and self.journal.stat().st_size > 0
        env.apache_restart()
        assert_refused_revoked(get(env, "/api/x", t))
        assert_refused_revoked(get(env, "/api/x", tv))
        assert_status(get(env, "/api/x", auth), 200)
        # what kept them is the journal: without it, a full restart
        # forgets them (the table did not survive)
        env.apache_stop()
        self.journal.unlink()
        env.apache_start()
        assert_status(get(env, "/api/x", t), 200)
        assert_status(get(env, "/api/x", tv), 200)


# the smallest table the store takes (entries)
SMALL = 64
# the posted tokens' lifetime in the full-table test (s), and the leeway
FULL_TTL = 8
LEEWAY = 1


class TestFullTable:
    """A small shm table: when no slot is free the revocation answers 503
    with Retry-After and an error-log line; nothing stored is evicted;
    once the entries pass exp (plus leeway) they are gone and the table
    takes revocations again."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        conf, _ = rv_conf(env, keys, "full", store="shm size=%d" % SMALL,
                          server=["GKAuthLeeway %d" % LEEWAY])
        conf.install()
        env.apache_restart()

    def test_gk_auth_143_01_full_then_expired(self, env, keys):
        u = marker()
        # the authenticating token outlives the posted ones
        auth = mint(keys, u, ttl=600)
        posted = [mint(keys, u, ttl=FULL_TTL) for _ in range(3 * SMALL)]
        t_start = time.time()
        pos = env.error_log._size()
        stored, refused = [], []
        for t in posted:
            if len(refused) >= 8:
                break
            r = revoke(env, auth, {"token": t})
            if r.status_code == 200:
                assert r.content == b""
                stored.append(t)
            else:
                assert r.status_code == 503, (r.status_code, r.text[:200])
                assert r.headers.get("Retry-After"), r.headers
                refused.append(t)
        assert refused, "%d revocations, none refused" % len(posted)
        assert SMALL // 2 <= len(stored) <= SMALL, len(stored)
        # an error-level line of mod_gk_auth said so
        errs = [l for l in env.error_log.lines_since(pos)
                if l.module == "gk_auth" and l.level == "error"]
        assert errs, "no error-log line for the full table"
        env.error_log.ignore(tags={l.tag for l in errs if l.tag})
        # every stored entry is kept, every refused token still admitted
        for t in stored:
            assert_refused_revoked(get(env, "/api/x", t))
        for t in refused[:10]:
            assert_status(get(env, "/api/x", t), 200)
        assert time.time() - t_start < FULL_TTL, \
            "too slow to check before the entries expire"
        # past exp + leeway every entry is gone: the table takes
        # revocations again
        time.sleep(max(0.0, t_start + FULL_TTL + LEEWAY + 1.5 - time.time()))
        again = [mint(keys, u, ttl=600) for _ in range(SMALL // 2)]
        for t in again:
            assert_revoked_ok(revoke(env, auth, {"token": t}))
        for t in again:
            assert_refused_revoked(get(env, "/api/x", t))
        assert_status(get(env, "/api/x", auth), 200)


class TestH2c:
    """Revoking and being refused over h2c (HTTP/2 streams)."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        if env.default_mpm == "prefork":
            pytest.skip("mod_http2 does not serve h2 on prefork")
        if not curl_h2() or not (env.mod_path("http2")).exists():
            pytest.skip("curl without HTTP2, or no mod_http2")
        conf, _ = rv_conf(env, keys, "h2c", extra_modules=["http2"])
        conf.add("Protocols h2c http/1.1")
        conf.install()
        env.apache_restart()

    def test_gk_auth_144_01_h2c(self, env, keys):
        u = marker()
        t1, t2 = mint(keys, u), mint(keys, u)
        st, _, _, ver = curl_h2c(env, "/api/x", t1)
        assert (st, ver) == (200, "2")
        st, hdrs, body, ver = curl_h2c(
            env, "/revoke", t2, data=urllib.parse.urlencode(
                {"token": t1}).encode())
        assert (st, ver, body) == (200, "2", b""), (st, body[:200])
        st, hdrs, _, ver = curl_h2c(env, "/api/x", t1)
        assert (st, ver) == (401, "2")
        assert 'error="invalid_token"' in hdrs.get("www-authenticate", "")
        st, _, _, _ = curl_h2c(env, "/api/x", t2)
        assert st == 200
        # logout without a token field, over h2c
        st, _, body, _ = curl_h2c(env, "/revoke", t2, data=b"")
        assert (st, body) == (200, b"")
        st, _, _, _ = curl_h2c(env, "/api/x", t2)
        assert st == 401
