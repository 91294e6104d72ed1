"""mod_gk_auth: key sources and key sets.

JWKS files of every key type, alg= for keys without alg, reload on
mtime change (checked at most every 5 s per process), a broken file keeps
the old keys, graceful restart re-reads; key scoping (a scope's keys
replace the inherited set); kid selection; file:/env: secrets.
"""

import os
import time

import pytest

from gkhttpd import GkConf
from gkhttpd import tokens as T
from gkhttpd.check import assert_challenge, assert_status
from gkhttpd.keys import secret_key

RELOAD_WAIT = 6.5       # > the 5 s check interval


def jwks_all(keys):
    return [
        keys["rsa2048"].jwk(alg="RS256", kid="rs", use="sig"),
        keys["rsa2048-c"].jwk(alg="PS384", kid="ps"),
        keys["p256"].jwk(alg="ES256", kid="es256"),
        keys["p384"].jwk(alg="ES384", kid="es384"),
        keys["p521"].jwk(alg="ES512", kid="es512"),
        keys["ed25519"].jwk(alg="EdDSA", kid="ed"),
        keys["hs256"].jwk(alg="HS256", kid="oct"),
        keys["hs512"].jwk(alg="HS512", kid="oct512"),
    ]


KIDS = [("rs", "rsa2048", "RS256"), ("ps", "rsa2048-c", "PS384"),
        ("es256", "p256", "ES256"), ("es384", "p384", "ES384"),
        ("es512", "p521", "ES512"), ("ed", "ed25519", "EdDSA"),
        ("oct", "hs256", "HS256"), ("oct512", "hs512", "HS512")]


def write_later(keys, path, jwks):
    """Rewrite a JWKS file so that its mtime surely changes."""
    before = os.stat(path).st_mtime if os.path.exists(path) else 0
    keys.write_jwks(path, jwks)
    t = max(time.time(), before + 2)
    os.utime(path, (t, t))


class TestKeySet:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        d = env.data_dir / "keys"
        d.mkdir(parents=True, exist_ok=True)
        keys.write_jwks(d / "all.jwks", jwks_all(keys))
        keys.write_jwks(d / "noalg.jwks", [
            keys["rsa2048-d"].jwk(kid="n1"), keys["rsa2048-e"].jwk()])
        keys.write_jwks(d / "mixed.jwks", [
            keys["rsa2048-d"].jwk(kid="n1"),                 # no alg
            keys["p256-c"].jwk(alg="ES256", kid="m2")])
        conf = GkConf(env)
        conf.add_location("/set", """
            AuthType gk-bearer
            GKAuthKeySet %s
            Require valid-user
        """ % (d / "all.jwks"))
        conf.add_location("/noalg", """
            AuthType gk-bearer
            GKAuthKeySet %s alg=RS256
            Require valid-user
        """ % (d / "noalg.jwks"))
        conf.add_location("/mixed", """
            AuthType gk-bearer
            GKAuthKeySet %s alg=RS256
            Require valid-user
        """ % (d / "mixed.jwks"))
        conf.install()
        try:
            env.apache_restart()
        except Exception:
            pytest.fail("httpd refused the key sets", pytrace=False)

    @pytest.mark.parametrize("kid,key,alg", KIDS)
    def test_gk_auth_500_01_each_key_type(self, env, keys, kid, key, alg):
        assert_status(env.get("/set", token=T.mint(keys[key], alg, kid=kid)),
                      200)

    @pytest.mark.parametrize("kid,key,alg", KIDS)
    def test_gk_auth_500_02_kid_of_another_key(self, env, keys, kid, key,
                                               alg):
        """Signed by the right key type, but not by the key of that kid."""
        other = {"rsa2048": "rsa2048-b", "rsa2048-c": "rsa2048-b",
                 "p256": "p256-b", "p384": "p384-b", "p521": "p521-b",
                 "ed25519": "ed25519-b", "hs256": "hs256-b",
                 "hs512": "hs512-b"}[key]
        r = env.get("/set", token=T.mint(keys[other], alg, kid=kid))
        assert_status(r, 401)
        assert_challenge(r, error="invalid_token")

    @pytest.mark.parametrize("kid,key,alg", [
        ("rs", "rsa2048", "PS256"), ("rs", "rsa2048", "RS512"),
        ("ps", "rsa2048-c", "PS256"), ("ps", "rsa2048-c", "RS384"),
        ("oct", "hs256", "HS512"), ("es256", "p256", "ES384"),
    ])
    def test_gk_auth_500_03_key_alg_is_binding(self, env, keys, kid, key,
                                               alg):
        r = env.get("/set", token=T.mint(keys[key], alg, kid=kid))
        assert_status(r, 401)

    def test_gk_auth_500_04_unknown_kid(self, env, keys):
        r = env.get("/set", token=T.mint(keys["rsa2048"], "RS256",
                                         kid="nope"))
        assert_status(r, 401)
        assert_challenge(r, error="invalid_token")

    def test_gk_auth_500_05_alg_parameter(self, env, keys):
        assert_status(env.get("/noalg", token=T.mint(
            keys["rsa2048-d"], "RS256", kid="n1")), 200)
        assert_status(env.get("/noalg", token=T.mint(
            keys["rsa2048-e"], "RS256")), 200)
        assert_status(env.get("/noalg", token=T.mint(
            keys["rsa2048-d"], "PS256", kid="n1")), 401)

    def test_gk_auth_500_06_alg_parameter_does_not_override(self, env,
                                                            keys):
        """alg= is for keys without alg; a key's own alg stays."""
        assert_status(env.get("/mixed", token=T.mint(
            keys["rsa2048-d"], "RS256", kid="n1")), 200)
        assert_status(env.get("/mixed", token=T.mint(
            keys["p256-c"], "ES256", kid="m2")), 200)


class TestReload:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        d = env.data_dir / "keys"
        d.mkdir(parents=True, exist_ok=True)
        self.__class__.path = d / "rotate.jwks"
        keys.write_jwks(self.path, [keys["rsa2048"].jwk(alg="RS256",
                                                        kid="k1")])
        conf = GkConf(env)
        # One server process: each process re-reads the key set on its own,
        # so a process that answered no request while the good rotation
        # was in place would rightly keep its older keys when the next
        # write is broken. One process makes "the keys it had" certain.
        conf.add("""
            <IfModule mpm_event_module>
                StartServers 1
                ServerLimit 1
                MaxRequestWorkers 16
                MinSpareThreads 1
                MaxSpareThreads 16
            </IfModule>
            <IfModule mpm_worker_module>
                StartServers 1
                ServerLimit 1
                MaxRequestWorkers 16
                MinSpareThreads 1
                MaxSpareThreads 16
            </IfModule>
            <IfModule mpm_prefork_module>
                StartServers 1
                MinSpareServers 1
                MaxSpareServers 1
                MaxRequestWorkers 1
            </IfModule>
        """)
        conf.add_location("/rot", """
            AuthType gk-bearer
            GKAuthKeySet %s
            Require valid-user
        """ % self.path)
        conf.install()
        env.apache_restart()

    def burst(self, env, tok, n=12):
        """n requests on new connections: every child process is likely
        to answer one of them."""
        return [env.get("/rot", token=tok).status_code for _ in range(n)]

    def test_gk_auth_501_01_rotation(self, env, keys):
        k1 = T.mint(keys["rsa2048"], "RS256", kid="k1")
        k2 = T.mint(keys["p256"], "ES256", kid="k2")
        assert set(self.burst(env, k1)) == {200}
        write_later(keys, self.path, [keys["p256"].jwk(alg="ES256",
                                                       kid="k2")])
        time.sleep(RELOAD_WAIT)
        assert set(self.burst(env, k2)) == {200}
        assert set(self.burst(env, k1)) == {401}

    def test_gk_auth_501_02_broken_file_keeps_keys(self, env, keys):
        k2 = T.mint(keys["p256"], "ES256", kid="k2")
        pos = env.error_log._size()
        with open(self.path, "w") as f:
            f.write('{"keys": [ {"kty": "EC", "crv": ')
        t = time.time() + 2
        os.utime(self.path, (t, t))
        time.sleep(RELOAD_WAIT)
        assert set(self.burst(env, k2)) == {200}
        errors = [l for l in env.error_log.lines_since(pos)
                  if l.module == "gk_auth" and l.level == "error"]
        assert errors, "no error logged for the broken key set"
        assert all(l.tag and l.tag.startswith("GK") for l in errors), errors
        env.error_log.ignore(tags={l.tag for l in errors})

    def test_gk_auth_501_03_bad_key_keeps_keys(self, env, keys):
        """Valid JSON, but with a key that is refused (RSA 1024): the weak
        key never verifies, the good one still does, an error is logged."""
        k2 = T.mint(keys["p256"], "ES256", kid="k2")
        pos = env.error_log._size()
        write_later(keys, self.path, [
            keys["p256"].jwk(alg="ES256", kid="k2"),
            keys["rsa1024"].jwk(alg="RS256", kid="weak")])
        time.sleep(RELOAD_WAIT)
        assert set(self.burst(env, k2)) == {200}
        weak = T.mint(keys["rsa1024"], "RS256", kid="weak")
        assert set(self.burst(env, weak, 4)) == {401}
        errors = [l for l in env.error_log.lines_since(pos)
                  if l.module == "gk_auth" and l.level == "error"]
        assert errors, "no error logged for the refused key set"
        env.error_log.ignore(tags={l.tag for l in errors})

    def test_gk_auth_501_04_recovers(self, env, keys):
        write_later(keys, self.path, [keys["ed25519"].jwk(alg="EdDSA",
                                                          kid="k3")])
        time.sleep(RELOAD_WAIT)
        k3 = T.mint(keys["ed25519"], "EdDSA", kid="k3")
        assert set(self.burst(env, k3)) == {200}

    def test_gk_auth_501_05_graceful_rereads(self, env, keys):
        k4 = T.mint(keys["p384"], "ES384", kid="k4")
        # every child has just checked the file (501_04), so without the
        # graceful restart none would look again for 5 s
        write_later(keys, self.path, [keys["p384"].jwk(alg="ES384",
                                                       kid="k4")])
        t0 = time.monotonic()
        env.apache_graceful()
        codes = self.burst(env, k4)
        assert time.monotonic() - t0 < 5, "too slow to prove anything"
        assert set(codes) == {200}, codes


class TestScopes:
    """Keys set in a scope replace the inherited key set."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        d = env.data_dir / "keys"
        d.mkdir(parents=True, exist_ok=True)
        keys.write_jwks(d / "scope.jwks", [keys["p384"].jwk(alg="ES384")])
        conf = GkConf(env)
        conf.add("GKAuthKey RS256 %s" % keys["rsa2048"].pub_path)
        conf.add_location("/inherit", """
            AuthType gk-bearer
            Require valid-user
        """)
        conf.add_location("/replace", """
            AuthType gk-bearer
            GKAuthKey RS256 %s
            Require valid-user
        """ % keys["rsa2048-b"].pub_path)
        conf.add_location("/replace/sub", """
            GKAuthLeeway 10
        """)
        conf.add_location("/set", """
            AuthType gk-bearer
            GKAuthKeySet %s
            Require valid-user
        """ % (d / "scope.jwks"))
        conf.add_location("/both", """
            AuthType gk-bearer
            GKAuthKey ES256 %s
            GKAuthKeySet %s
            Require valid-user
        """ % (keys["p256"].pub_path, d / "scope.jwks"))
        conf.install()
        env.apache_restart()

    @pytest.mark.parametrize("path,key,alg,status", [
        ("/inherit", "rsa2048", "RS256", 200),
        ("/inherit", "rsa2048-b", "RS256", 401),
        ("/replace", "rsa2048-b", "RS256", 200),
        ("/replace", "rsa2048", "RS256", 401),
        ("/replace/sub", "rsa2048-b", "RS256", 200),
        ("/replace/sub", "rsa2048", "RS256", 401),
        ("/set", "p384", "ES384", 200),
        ("/set", "rsa2048", "RS256", 401),
        ("/both", "p256", "ES256", 200),
        ("/both", "p384", "ES384", 200),
        ("/both", "rsa2048", "RS256", 401),
    ])
    def test_gk_auth_502_01_scopes(self, env, keys, path, key, alg, status):
        assert_status(env.get(path, token=T.mint(keys[key], alg)), status)


class TestKidSelection:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        conf = GkConf(env)
        conf.add_location("/kid", """
            AuthType gk-bearer
            GKAuthKey RS256 %s kid=a
            GKAuthKey RS256 %s kid=b
            GKAuthKey HS256 file:%s kid=h
            Require valid-user
        """ % (keys["rsa2048"].pub_path, keys["rsa2048-b"].pub_path,
               keys["hs256"].secret_path))
        conf.install()
        env.apache_restart()

    @pytest.mark.parametrize("kid,key,alg,status", [
        ("a", "rsa2048", "RS256", 200),
        ("b", "rsa2048-b", "RS256", 200),
        ("h", "hs256", "HS256", 200),
        ("a", "rsa2048-b", "RS256", 401),
        ("b", "rsa2048", "RS256", 401),
        ("c", "rsa2048", "RS256", 401),
        ("A", "rsa2048", "RS256", 401),
        ("h", "rsa2048", "RS256", 401),
    ])
    def test_gk_auth_503_01_kid(self, env, keys, kid, key, alg, status):
        assert_status(env.get("/kid", token=T.mint(keys[key], alg, kid=kid)),
                      status)


class TestSecrets:
    """file: strips exactly one trailing newline; env: secrets and PEM
    come from the parent's environment and survive a graceful restart."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        d = env.data_dir / "keys"
        env.write_file(d / "nl2.secret", b"N" * 32 + b"\n\n")
        env.write_file(d / "cr.secret", b"R" * 32 + b"\r")
        env.write_file(d / "crlf.secret", b"C" * 32 + b"\r\n")
        env.write_file(d / "sp.secret", b"S" * 32 + b" \n")
        env.extra_env.update({
            "GK_TEST_SECRET": keys["hs256-env"].secret.decode(),
            "GK_TEST_PEM": keys["p521"].pub_pem.decode(),
        })
        conf = GkConf(env)
        for name, src in (("bin", "file:%s" % keys["hsbin"].secret_path),
                          ("nl2", "file:%s" % (d / "nl2.secret")),
                          ("cr", "file:%s" % (d / "cr.secret")),
                          ("crlf", "file:%s" % (d / "crlf.secret")),
                          ("sp", "file:%s" % (d / "sp.secret")),
                          ("env", "env:GK_TEST_SECRET")):
            conf.add_location("/s/%s" % name, """
                AuthType gk-bearer
                GKAuthKey HS256 %s
                Require valid-user
            """ % src)
        conf.add_location("/s/pem", """
            AuthType gk-bearer
            GKAuthKey ES512 env:GK_TEST_PEM
            Require valid-user
        """)
        conf.install()
        env.apache_restart()
        yield
        env.extra_env.clear()

    @pytest.mark.parametrize("path,secret,status", [
        ("/s/nl2", b"N" * 32 + b"\n", 200),
        ("/s/nl2", b"N" * 32, 401),
        ("/s/crlf", b"C" * 32, 200),
        ("/s/crlf", b"C" * 32 + b"\r", 401),
        ("/s/sp", b"S" * 32 + b" ", 200),
        ("/s/sp", b"S" * 32, 401),
    ], ids=repr)
    def test_gk_auth_504_01_file_newline(self, env, path, secret, status):
        tok = T.mint(secret_key(secret), "HS256")
        assert_status(env.get(path, token=tok), status)

    def test_gk_auth_504_02_lone_cr_kept(self, env):
        """Only \\n or \\r\\n is stripped; a lone \\r is secret data."""
        r1 = env.get("/s/cr", token=T.mint(secret_key(b"R" * 32 + b"\r"),
                                           "HS256"))
        assert_status(r1, 200)

    def test_gk_auth_504_03_binary_secret(self, env, keys):
        assert b"\x00" in keys["hsbin"].secret
        assert_status(env.get("/s/bin", token=T.mint(keys["hsbin"],
                                                     "HS256")), 200)

    def test_gk_auth_504_04_env_secret_and_pem(self, env, keys):
        assert_status(env.get("/s/env", token=T.mint(keys["hs256-env"],
                                                     "HS256")), 200)
        assert_status(env.get("/s/pem", token=T.mint(keys["p521"],
                                                     "ES512")), 200)

    def test_gk_auth_504_05_env_survives_graceful(self, env, keys):
        env.apache_graceful()
        for _ in range(6):
            assert_status(env.get("/s/env", token=T.mint(keys["hs256-env"],
                                                         "HS256")), 200)
            assert_status(env.get("/s/pem", token=T.mint(keys["p521"],
                                                         "ES512")), 200)
        env.apache_graceful()
        assert_status(env.get("/s/env", token=T.mint(keys["hs256-env"],
                                                     "HS256")), 200)
