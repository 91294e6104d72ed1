"""mod_gk_auth under the worker and prefork MPMs (the rest of the suite
runs under event, or --mpm): a smoke set."""

import time

import pytest

from gkhttpd import GkConf
from gkhttpd import tokens as T
from gkhttpd.check import assert_challenge, assert_status, echo


@pytest.fixture(scope="class", params=["worker", "prefork"])
def mpm_server(request, env, keys):
    d = env.data_dir / "mpm"
    d.mkdir(parents=True, exist_ok=True)
    keys.write_jwks(d / "set.jwks", [keys["p256"].jwk(alg="ES256",
                                                      kid="e1")])
    conf = GkConf(env, mpm=request.param)
    conf.add("GKAuthKey RS256 %s" % keys["rsa2048"].pub_path)
    conf.add_location("/m", """
        AuthType gk-bearer
        AuthzSendForbiddenOnFailure On
        GKAuthLeeway 0
        Require gk-role admin
    """)
    conf.add_location("/set", """
        AuthType gk-bearer
        GKAuthKeySet %s
        Require valid-user
    """ % (d / "set.jwks"))
    conf.install()
    env.apache_restart()
    env.error_log.allow(tags=["AH01631"])
    yield request.param
    env.apache_stop()


@pytest.mark.usefixtures("mpm_server")
class TestMpm:

    def tok(self, keys, **kw):
        return T.mint(keys["rsa2048"], "RS256", **kw)

    def test_gk_auth_800_01_valid(self, env, keys, mpm_server):
        for _ in range(6):
            j = echo(env.get("/m/echo", token=self.tok(keys,
                                                       roles=["admin"])))
            assert j["env"]["REMOTE_USER"] == "alice"
            assert j["env"]["GK_ROLES"] == "admin"

    def test_gk_auth_800_02_denials(self, env, keys, mpm_server):
        r = env.get("/m")
        assert_status(r, 401)
        assert_challenge(r, error=None)
        r = env.get("/m", token=T.mint(keys["rsa2048-b"], "RS256"))
        assert_status(r, 401)
        assert_challenge(r, error="invalid_token")
        r = env.get("/m", token=self.tok(keys, roles=["user"]))
        assert_status(r, 403)
        assert_challenge(r, error="insufficient_scope")

    def test_gk_auth_800_03_keyset(self, env, keys, mpm_server):
        assert_status(env.get("/set", token=T.mint(keys["p256"], "ES256",
                                                   kid="e1")), 200)

    def test_gk_auth_800_04_expiry_after_cache(self, env, keys, mpm_server):
        exp = T.now() + 2
        t = self.tok(keys, roles=["admin"], exp=exp)
        for _ in range(6):
            assert_status(env.get("/m", token=t), 200)
        while time.time() < exp + 1.2:
            time.sleep(0.2)
        for _ in range(6):
            assert_status(env.get("/m", token=t), 401)

    def test_gk_auth_800_05_graceful(self, env, keys, mpm_server):
        env.apache_graceful()
        assert_status(env.get("/m", token=self.tok(keys, roles=["admin"])),
                      200)
