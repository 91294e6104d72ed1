"""mod_gk_auth: the verified-token cache never changes an answer.

What depends on the location (keys, iss, aud, leeway, typ, user claim) is
checked on every use, and a cached token still expires.
"""

import time

import pytest

from gkhttpd import GkConf
from gkhttpd import tokens as T
from gkhttpd.check import assert_challenge, assert_status

AUTH = """
    AuthType gk-bearer
    Require valid-user
"""


def cache_conf(env, keys, cache_size=None):
    conf = GkConf(env)
    if cache_size is not None:
        conf.add("GKAuthCacheSize %d" % cache_size)
    conf.add("GKAuthKey HS256 file:%s" % keys["hs256"].secret_path)
    conf.add_location("/a", AUTH + """
        GKAuthIssuer iss-a
        GKAuthAudience aud-a
    """)
    conf.add_location("/b", AUTH + """
        GKAuthIssuer iss-b
        GKAuthAudience aud-b
    """)
    conf.add_location("/t", AUTH)
    conf.add_location("/z", AUTH + "GKAuthLeeway 0\n")
    conf.add_location("/at", AUTH + "GKAuthTokenType at+jwt\n")
    conf.add_location("/email", AUTH + "GKAuthUserClaim email\n")
    conf.add_location("/otherkey", AUTH + "GKAuthKey HS256 file:%s\n"
                      % keys["hs256-b"].secret_path)
    # role maps differ per location (plus the server's viewer map)
    conf.add("GKAuthRolePermissions viewer docs:read")
    conf.add_location("/ra", """
        AuthType gk-bearer
        GKAuthRolePermissions editor docs:write docs:read
        Require gk-permission docs:write
    """)
    conf.add_location("/rb", """
        AuthType gk-bearer
        GKAuthRolePermissions editor docs:write
        Require gk-permission docs:read
    """)
    conf.add_location("/rc", """
        AuthType gk-bearer
        GKAuthRolePermissions editor docs:write
        Require valid-user
    """)
    conf.add_location("/rd", """
        AuthType gk-bearer
        GKAuthRolesClaim realm_access.roles
        Require gk-role admin
    """)
    conf.install()
    env.apache_restart()


class TestCache:

    N = 8       # repetitions, so that every child process caches the token

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        cache_conf(env, keys)

    def tok(self, keys, **kw):
        return T.mint(keys["hs256"], "HS256", **kw)

    def alternate(self, env, tok, expect):
        for _ in range(self.N):
            for path, status in expect:
                r = env.get(path, token=tok)
                assert r.status_code == status, (path, r.status_code)

    def test_gk_auth_900_01_iss_aud_per_location(self, env, keys):
        ta = self.tok(keys, iss="iss-a", aud="aud-a")
        tb = self.tok(keys, iss="iss-b", aud="aud-b")
        self.alternate(env, ta, [("/a", 200), ("/b", 401)])
        self.alternate(env, tb, [("/b", 200), ("/a", 401)])

    def test_gk_auth_900_02_aud_only_differs(self, env, keys):
        t = self.tok(keys, iss="iss-a", aud="aud-b")
        self.alternate(env, t, [("/t", 200), ("/a", 401), ("/b", 401)])

    def test_gk_auth_900_03_key_per_location(self, env, keys):
        t = self.tok(keys)
        self.alternate(env, t, [("/t", 200), ("/otherkey", 401)])
        t2 = T.mint(keys["hs256-b"], "HS256")
        self.alternate(env, t2, [("/otherkey", 200), ("/t", 401)])

    def test_gk_auth_900_04_leeway_per_location(self, env, keys):
        t = self.tok(keys, exp=T.now() - 20)
        self.alternate(env, t, [("/t", 200), ("/z", 401)])

    def test_gk_auth_900_05_typ_per_location(self, env, keys):
        t = self.tok(keys)
        self.alternate(env, t, [("/t", 200), ("/at", 401)])

    def test_gk_auth_900_06_user_claim_per_location(self, env, keys):
        t = self.tok(keys)
        self.alternate(env, t, [("/t", 200), ("/email", 401)])

    def test_gk_auth_900_08_role_map_per_location(self, env, keys):
        """Permissions derived from a role map are the location's own."""
        env.error_log.ignore(tags=["AH01631"])
        t = self.tok(keys, roles=["editor"])
        wrong = []
        for i in range(20):
            for path, status in (("/ra", 200), ("/rb", 401)):
                st = env.get(path, token=t).status_code
                if st != status:
                    wrong.append((i, path, st))
            r = env.get("/rc/echo", token=t)
            perms = r.json()["env"].get("GK_PERMISSIONS")
            if perms != "docs:write":
                wrong.append((i, "/rc/echo", perms))
        assert not wrong, wrong

    def test_gk_auth_900_09_roles_claim_per_location(self, env, keys):
        env.error_log.ignore(tags=["AH01631"])
        t = self.tok(keys, roles=["admin"], realm_access={"roles": ["x"]})
        self.alternate(env, t, [("/rc", 200), ("/rd", 401)])

    def test_gk_auth_900_07_expires_in_cache(self, env, keys):
        exp = T.now() + 3
        t = self.tok(keys, exp=exp)
        # in leeway: still fine at /t after exp
        t2 = self.tok(keys, exp=exp)
        self.alternate(env, t, [("/z", 200)])
        self.alternate(env, t2, [("/t", 200)])
        while time.time() < exp + 1.2:
            time.sleep(0.2)
        for _ in range(self.N):
            r = env.get("/z", token=t)
            assert_status(r, 401)
            assert_challenge(r, error="invalid_token")
        self.alternate(env, t2, [("/t", 200)])


class TestNoCache:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        cache_conf(env, keys, cache_size=0)

    def test_gk_auth_901_01_works_without_cache(self, env, keys):
        ta = T.mint(keys["hs256"], "HS256", iss="iss-a", aud="aud-a")
        for _ in range(4):
            assert_status(env.get("/a", token=ta), 200)
            assert_status(env.get("/b", token=ta), 401)

    def test_gk_auth_901_02_expiry(self, env, keys):
        exp = T.now() + 2
        t = T.mint(keys["hs256"], "HS256", exp=exp)
        assert_status(env.get("/z", token=t), 200)
        while time.time() < exp + 1.2:
            time.sleep(0.2)
        assert_status(env.get("/z", token=t), 401)


class TestConcurrency:
    """Threads of one child share the cache (3 entries here, so entries
    are evicted all the time): no answer may belong to another token."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        conf = GkConf(env)
        conf.add("GKAuthCacheSize 3")
        conf.add("GKAuthKey ES256 %s" % keys["p256"].pub_path)
        conf.add_location("/c", AUTH + "GKAuthClaimHeader sub X-Sub\n")
        conf.install()
        env.apache_restart()

    def test_gk_auth_902_01_parallel_users(self, env, keys):
        from concurrent.futures import ThreadPoolExecutor
        users = ["user%02d" % i for i in range(12)]
        toks = {u: T.mint(keys["p256"], "ES256", sub=u) for u in users}
        bad = T.mint(keys["p256-b"], "ES256", sub="mallory")
        jobs = [(u, toks[u]) for u in users] * 5 + [("mallory", bad)] * 10

        def one(job):
            user, tok = job
            r = env.get("/c/echo", token=tok)
            if user == "mallory":
                return user, r.status_code, None
            j = r.json() if r.status_code == 200 else {}
            return user, r.status_code, (j.get("env", {}).get("REMOTE_USER"),
                                         j.get("headers", {}).get("x-sub"))

        with ThreadPoolExecutor(max_workers=12) as ex:
            results = list(ex.map(one, jobs))
        wrong = []
        for user, status, seen in results:
            if user == "mallory":
                if status != 401:
                    wrong.append((user, status))
            elif status != 200 or seen != (user, user):
                wrong.append((user, status, seen))
        assert not wrong, wrong
