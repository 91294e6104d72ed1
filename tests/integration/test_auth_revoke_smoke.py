"""mod_gk_auth revocation, a quick smoke test of the pieces (the full suite
is test_auth_revoke*.py): revoke one's own token, the others still work;
not-yours changes nothing; an admin revokes any; logout without a token
field; log out everywhere; a full restart keeps revocations (journal);
GKAuthRevocation Off; 405."""

import time
import uuid

import pytest

from gkhttpd import GkConf
from gkhttpd import tokens as T
from gkhttpd.check import assert_challenge

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def tok(keys, sub="alice", **kw):
    kw.setdefault("jti", uuid.uuid4().hex)
    return T.mint(keys["hs256"], "HS256", sub=sub, **kw)


def revoke(env, caller, body):
    return env.request("/revoke", "POST", token=caller, headers=FORM,
                       data=body)


class TestRevokeSmoke:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        conf = GkConf(env)
        conf.add("GKAuthKey HS256 file:%s" % keys["hs256"].secret_path)
        conf.add("GKAuthTokenCookie gk_token")
        # a journal of this run only (a full restart replays it)
        conf.add("GKAuthRevocationJournal %s" % (
            env.gen_dir / ("rvsmoke-%s.journal" % uuid.uuid4().hex)))
        conf.add_location("/api", """
            AuthType gk-bearer
            Require valid-user
        """)
        conf.add_location("/off", """
            AuthType gk-bearer
            GKAuthRevocation Off
            Require valid-user
        """)
        conf.add_location("/revoke", """
            AuthType gk-bearer
            Require valid-user
            SetHandler gk-revoke
            GKRevokeAdminRole admin
        """)
        conf.install()
        env.apache_restart()

    def test_gk_auth_rvs_01_own_token(self, env, keys):
        a1, a2 = tok(keys), tok(keys)
        for _ in range(3):   # cached in some children
            assert env.get("/api/x", token=a1).status_code == 200
        r = revoke(env, a1, "token=" + a1)
        assert r.status_code == 200 and r.content == b""
        assert env.error_log.find(regex="gk-revoke: revoked")
        for _ in range(6):
            r = env.get("/api/x", token=a1)
            assert r.status_code == 401
            assert_challenge(r, error="invalid_token")
            assert env.get("/api/x", token=a2).status_code == 200
        # GKAuthRevocation Off in that scope: still admitted
        assert env.get("/off/x", token=a1).status_code == 200

    def test_gk_auth_rvs_02_not_yours_then_admin(self, env, keys):
        bob = tok(keys, sub="bob")
        r = revoke(env, tok(keys), "token=" + bob)
        assert r.status_code == 200
        assert env.error_log.find(regex="gk-revoke: nothing stored: "
                                     "not the caller's")
        assert env.get("/api/x", token=bob).status_code == 200
        r = revoke(env, tok(keys, sub="root", roles=["admin"]),
                   "token=" + bob)
        assert r.status_code == 200
        assert env.get("/api/x", token=bob).status_code == 401

    def test_gk_auth_rvs_03_unverified_and_expired(self, env, keys):
        bad = T.mint(keys["hs256-b"], "HS256", sub="alice")
        assert revoke(env, tok(keys), "token=" + bad).status_code == 200
        assert env.error_log.find(regex="nothing stored: signature not "
                                     "verified")
        old = tok(keys, exp=T.now() - 3600, iat=T.now() - 7200)
        assert revoke(env, tok(keys), "token=" + old).status_code == 200
        assert env.error_log.find(regex="nothing stored: expired")

    def test_gk_auth_rvs_04_logout_cookie(self, env, keys):
        c = tok(keys, sub="carol")
        r = env.request("/revoke", "POST", headers=FORM, data="",
                        cookies="gk_token=" + c)
        assert r.status_code == 200
        assert "Max-Age=0" in r.headers.get("Set-Cookie", "")
        assert env.get("/api/x", cookies="gk_token=" + c).status_code == 401

    def test_gk_auth_rvs_05_everywhere(self, env, keys):
        t = T.now()
        d1 = tok(keys, sub="dave", iat=t - 5)
        nojti = tok(keys, sub="dave", jti=None, iat=t - 5)
        assert env.get("/api/x", token=nojti).status_code == 200
        assert revoke(env, d1, "sub=dave&all=1").status_code == 200
        assert env.get("/api/x", token=d1).status_code == 401
        assert env.get("/api/x", token=nojti).status_code == 401
        noiat = tok(keys, sub="dave", iat=None)
        assert env.get("/api/x", token=noiat).status_code == 401
        time.sleep(1.1)
        later = tok(keys, sub="dave", iat=T.now() + 1)
        assert env.get("/api/x", token=later).status_code == 200

    def test_gk_auth_rvs_06_restart_keeps(self, env, keys):
        e = tok(keys, sub="erin")
        assert revoke(env, e, "").status_code == 200
        env.apache_restart()
        assert env.get("/api/x", token=e).status_code == 401

    def test_gk_auth_rvs_07_methods(self, env, keys):
        r = env.get("/revoke", token=tok(keys))
        assert r.status_code == 405
        assert r.headers.get("Allow") == "POST"


class TestRevokeSmokeMemcached:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        from gkhttpd.memcached import Memcached, have_memcached
        if not have_memcached():
            pytest.skip("no memcached")
        self.__class__.mc = Memcached(env.gen_dir / "memcached",
                                      name="rvsmoke").start()
        conf = GkConf(env)
        conf.add("GKAuthKey HS256 file:%s" % keys["hs256"].secret_path)
        conf.add('GKAuthRevocationStore memcached "--SERVER=%s"'
                 % self.mc.addr)
        conf.add("GKAuthRevocationJournal %s"
                 % (env.gen_dir / ("rvsmoke-mc-%s.journal"
                                   % uuid.uuid4().hex)))
        conf.add_location("/api", """
            AuthType gk-bearer
            Require valid-user
        """)
        conf.add_location("/revoke", """
            AuthType gk-bearer
            Require valid-user
            SetHandler gk-revoke
        """)
        conf.add_location("/email", """
            AuthType gk-bearer
            GKAuthUserClaim email
            Require valid-user
        """)
        conf.add_location("/email/revoke", """
            SetHandler gk-revoke
        """)
        conf.install()
        env.apache_restart()
        yield
        self.mc.stop()

    def test_gk_auth_rvs_10_no_sub(self, env, keys):
        """A token without sub: looked up without a group."""
        a = tok(keys, sub=None, email="x@example.org")
        b = tok(keys, sub=None, email="x@example.org")
        assert env.get("/email/x", token=a).status_code == 200
        r = env.request("/email/revoke", "POST", token=a, headers=FORM,
                        data="")
        assert r.status_code == 200
        for _ in range(4):
            assert env.get("/email/x", token=a).status_code == 401
            assert env.get("/email/x", token=b).status_code == 200

    def test_gk_auth_rvs_11_memcached_restart(self, env, keys):
        a, b, n = tok(keys), tok(keys), tok(keys, jti=None)
        assert revoke(env, a, "").status_code == 200
        assert revoke(env, n, "").status_code == 200
        assert any(k.startswith("gk:rv:") for k in self.mc.keys())
        for _ in range(4):
            assert env.get("/api/x", token=a).status_code == 401
            assert env.get("/api/x", token=n).status_code == 401
            assert env.get("/api/x", token=b).status_code == 200
        self.mc.restart()
        env.error_log.ignore(regex="memcached")
        for _ in range(6):
            assert env.get("/api/x", token=a).status_code == 401
            assert env.get("/api/x", token=n).status_code == 401
            assert env.get("/api/x", token=b).status_code == 200
        assert env.error_log.find(tag="GK10076")

    def test_gk_auth_rvs_12_memcached_down(self, env, keys):
        b = tok(keys)
        self.mc.stop()
        env.error_log.ignore(tags=["GK10073", "GK10081"])
        r = env.get("/api/x", token=b)
        assert r.status_code == 503
        assert r.headers.get("Retry-After")
        r = revoke(env, b, "")
        assert r.status_code == 503
        env.error_log.ignore(tags=["GK10083"])
        self.mc.start()
