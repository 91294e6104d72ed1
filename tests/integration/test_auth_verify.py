"""mod_gk_auth: token verification and the RFC 6750 answers.

Every algorithm with every kind of key source; the challenge and the
problem+json body of each failure class; time claims and leeway; iss,
aud, typ; the user claim; the cookie; the length limit.
"""

import pytest

from gkhttpd import GkConf
from gkhttpd import tokens as T
from gkhttpd.check import (assert_challenge, assert_problem, assert_status,
                           echo)

# the key of another owner, same kind, for "wrong key" tests
OTHER_KEY = {"hs256": "hs256-b", "hs384": "hs384-b", "hs512": "hs512-b",
             "rsa2048": "rsa2048-b", "p256": "p256-b", "p384": "p384-b",
             "p521": "p521-b", "ed25519": "ed25519-b"}
# an algorithm of the same family the key must not be used with
WRONG_ALG = {"HS256": "HS512", "HS384": "HS256", "HS512": "HS384",
             "RS256": "PS256", "RS384": "RS256", "RS512": "RS256",
             "PS256": "RS256", "PS384": "PS256", "PS512": "PS256",
             "ES256": "ES384", "ES384": "ES256", "ES512": "ES256"}


def key_source(env, keys, alg):
    """Each algorithm reads its key another way, so that every SOURCE form
    is exercised: bare PEM path, file:PEM, env:PEM, file:secret,
    env:secret."""
    k = keys[T.ALG_KEY[alg]]
    forms = {
        "HS256": "file:%s" % k.secret_path,
        "HS384": "env:GK_TEST_HS384",
        "HS512": "file:%s" % k.secret_path,
        "RS256": "%s" % k.pub_path,
        "RS384": "file:%s" % k.pub_path,
        "RS512": "env:GK_TEST_RSA_PEM",
        "PS256": "%s" % k.pub_path,
        "PS384": "file:%s" % k.pub_path,
        "PS512": "%s" % k.pub_path,
        "ES256": "%s" % k.pub_path,
        "ES384": "file:%s" % k.pub_path,
        "ES512": "%s" % k.pub_path,
        "EdDSA": "env:GK_TEST_ED_PEM",
    }
    env.extra_env.update({
        "GK_TEST_HS384": keys["hs384"].secret.decode(),
        "GK_TEST_RSA_PEM": keys["rsa2048"].pub_pem.decode(),
        "GK_TEST_ED_PEM": keys["ed25519"].pub_pem.decode(),
    })
    return forms[alg]


class TestAlgorithms:
    """One location per algorithm, Require valid-user."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        conf = GkConf(env)
        for alg in T.ALGS:
            conf.add_location("/alg/%s" % alg, """
                AuthType gk-bearer
                Require valid-user
                GKAuthKey %s %s
            """ % (alg, key_source(env, keys, alg)))
        conf.install()
        env.apache_restart()

    @pytest.mark.parametrize("alg", T.ALGS)
    def test_gk_auth_100_01_valid(self, env, keys, alg):
        tok = T.mint(keys[T.ALG_KEY[alg]], alg, sub="alice")
        j = echo(env.get("/alg/%s/echo" % alg, token=tok))
        assert j["env"]["REMOTE_USER"] == "alice"

    @pytest.mark.parametrize("alg", T.ALGS)
    def test_gk_auth_100_02_other_key(self, env, keys, alg):
        tok = T.mint(keys[OTHER_KEY[T.ALG_KEY[alg]]], alg)
        r = env.get("/alg/%s" % alg, token=tok)
        assert_status(r, 401)
        assert_challenge(r, error="invalid_token")
        assert_problem(r, 401)

    @pytest.mark.parametrize("alg", T.ALGS)
    def test_gk_auth_100_03_flipped_signature(self, env, keys, alg):
        tok = T.mint(keys[T.ALG_KEY[alg]], alg)
        h, p, s = tok.split(".")
        sig = bytearray(T.b64u_decode(s))
        sig[len(sig) // 2] ^= 0x01
        r = env.get("/alg/%s" % alg, token="%s.%s.%s" % (h, p,
                                                         T.b64u(bytes(sig))))
        assert_status(r, 401)
        assert_challenge(r, error="invalid_token")

    @pytest.mark.parametrize("alg", sorted(WRONG_ALG))
    def test_gk_auth_100_04_key_bound_to_alg(self, env, keys, alg):
        """The right key, used with another algorithm than configured."""
        other = WRONG_ALG[alg]
        tok = T.mint(keys[T.ALG_KEY[alg]], other)
        r = env.get("/alg/%s" % alg, token=tok)
        assert_status(r, 401)
        assert_challenge(r, error="invalid_token")

    @pytest.mark.parametrize("alg", T.ALGS)
    def test_gk_auth_100_05_tampered_payload(self, env, keys, alg):
        tok = T.mint(keys[T.ALG_KEY[alg]], alg, sub="alice")
        h, p, s = tok.split(".")
        forged = T.mint(keys[T.ALG_KEY[alg]], alg, sub="admin").split(".")[1]
        r = env.get("/alg/%s" % alg, token="%s.%s.%s" % (h, forged, s))
        assert_status(r, 401)
        assert_challenge(r, error="invalid_token")


class TestChallenge:
    """What a client without, or with a malformed, token is told."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        conf = GkConf(env)
        conf.add("GKAuthKey RS256 %s" % keys["rsa2048"].pub_path)
        conf.add_location("/v", """
            AuthType gk-bearer
            Require valid-user
        """)
        conf.add_location("/named", """
            AuthType gk-bearer
            AuthName "api"
            Require valid-user
        """)
        conf.add_location("/cookie", """
            AuthType gk-bearer
            GKAuthTokenCookie gk_token
            Require valid-user
        """)
        conf.add_location("/quoted", r"""
            AuthType gk-bearer
            AuthName 'say "hi", error="x"'
            Require valid-user
        """)
        conf.install()
        env.apache_restart()

    def tok(self, keys, **kw):
        return T.mint(keys["rsa2048"], "RS256", **kw)

    def test_gk_auth_101_01_no_token(self, env):
        r = env.get("/v")
        assert_status(r, 401)
        assert_challenge(r, error=None, realm="gatekeeper")
        body = assert_problem(r, 401)
        assert body.get("detail")

    def test_gk_auth_101_02_auth_name_is_realm(self, env):
        r = env.get("/named")
        assert_status(r, 401)
        assert_challenge(r, error=None, realm="api")

    def test_gk_auth_101_03_realm_on_errors(self, env):
        r = env.get("/named", token="x.y.z")
        assert_status(r, 401)
        assert_challenge(r, error="invalid_token", realm="api")

    @pytest.mark.parametrize("value", [
        "Basic YWxpY2U6c2VjcmV0", "Digest username=\"a\"", "Token abc",
        "Bearerx abc"])
    def test_gk_auth_101_04_other_scheme(self, env, value):
        r = env.get("/v", headers={"Authorization": value})
        assert_status(r, 401)
        assert_challenge(r, error=None)

    @pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
    def test_gk_auth_101_05_scheme_case(self, env, keys, scheme):
        r = env.get("/v/echo", token=self.tok(keys), scheme=scheme)
        assert echo(r)["env"]["REMOTE_USER"] == "alice"

    @pytest.mark.parametrize("line", [
        "Authorization: Bearer",
        "Authorization: Bearer ",
        "Authorization: Bearer a b",
        "Authorization: Bearer abc$def",
        "Authorization: Bearer abc,def",
        "Authorization: Bearer \"abc\"",
        "Authorization: Bearer a=b",
    ], ids=["empty", "space", "two-words", "dollar", "comma", "quoted",
            "inner-equals"])
    def test_gk_auth_101_06_malformed_header(self, env, line):
        r = env.raw_get("/v", [line])
        assert_status(r, 400)
        assert_challenge(r, error="invalid_request")
        assert_problem(r, 400)

    def test_gk_auth_101_07_two_authorization_headers(self, env, keys):
        tok = self.tok(keys)
        r = env.raw_get("/v", ["Authorization: Bearer " + tok,
                               "Authorization: Bearer " + tok])
        assert_status(r, 400)
        assert_challenge(r, error="invalid_request")

    def test_gk_auth_101_08_token68_chars_are_401(self, env):
        """Syntactically a token68 but not base64url: a bad token (401),
        not a bad request."""
        r = env.raw_get("/v", ["Authorization: Bearer ab+c/d.e~f.g=="])
        assert_status(r, 401)
        assert_challenge(r, error="invalid_token")

    def test_gk_auth_101_09_bad_token_body(self, env, keys):
        tok = T.mint(keys["rsa2048-b"], "RS256")
        r = env.get("/v", token=tok)
        body = assert_problem(r, 401)
        assert tok not in r.text
        assert tok.split(".")[2] not in r.headers["WWW-Authenticate"]
        for secret in (str(env.gen_dir), str(env.keys_dir), "BEGIN"):
            assert secret not in r.text
        params = assert_challenge(r, error="invalid_token")
        assert params.get("error_description")
        assert body.get("detail") == params["error_description"]

    def test_gk_auth_101_10_cookie(self, env, keys):
        j = echo(env.get("/cookie/echo",
                         cookies="gk_token=%s" % self.tok(keys)))
        assert j["env"]["REMOTE_USER"] == "alice"

    def test_gk_auth_101_11_cookie_among_others(self, env, keys):
        c = "a=1; gk_token=%s; b=2" % self.tok(keys)
        assert_status(env.get("/cookie", cookies=c), 200)

    def test_gk_auth_101_12_cookie_not_configured(self, env, keys):
        r = env.get("/v", cookies="gk_token=%s" % self.tok(keys))
        assert_status(r, 401)
        assert_challenge(r, error=None)

    def test_gk_auth_101_13_cookie_and_header(self, env, keys):
        t = self.tok(keys)
        r = env.get("/cookie", token=t, cookies="gk_token=%s" % t)
        assert_status(r, 400)
        assert_challenge(r, error="invalid_request")
        assert_problem(r, 400)

    def test_gk_auth_101_14_cookie_twice(self, env, keys):
        t = self.tok(keys)
        r = env.get("/cookie", cookies="gk_token=%s; gk_token=%s" % (t, t))
        assert_status(r, 400)
        assert_challenge(r, error="invalid_request")

    def test_gk_auth_101_15_cookie_twice_two_headers(self, env, keys):
        t = self.tok(keys)
        r = env.raw_get("/cookie", ["Cookie: gk_token=" + t,
                                    "Cookie: gk_token=" + t])
        assert_status(r, 400)
        assert_challenge(r, error="invalid_request")

    def test_gk_auth_101_16_bad_cookie_token(self, env, keys):
        r = env.get("/cookie",
                    cookies="gk_token=%s" % T.mint(keys["rsa2048-b"],
                                                   "RS256"))
        assert_status(r, 401)
        assert_challenge(r, error="invalid_token")

    def test_gk_auth_101_17_similar_cookie_name(self, env, keys):
        r = env.get("/cookie", cookies="xgk_token=%s; gk_token_x=%s" % (
            self.tok(keys), self.tok(keys)))
        assert_status(r, 401)
        assert_challenge(r, error=None)

    @staticmethod
    def token_of_length(keys, n):
        """A valid RS256 token of exactly n characters."""
        for kid_len in range(0, 4):
            for pad in range(max(0, (n * 3) // 4 - 600), (n * 3) // 4):
                t = T.mint(keys["rsa2048"], "RS256", kid="k" * kid_len,
                           pad="x" * pad) if kid_len else \
                    T.mint(keys["rsa2048"], "RS256", pad="x" * pad)
                if len(t) == n:
                    return t
                if len(t) > n:
                    break
        raise AssertionError("no token of length %d" % n)

    def test_gk_auth_101_18_max_length(self, env, keys):
        t = self.token_of_length(keys, 8192)
        assert_status(env.get("/v", token=t), 200)

    def test_gk_auth_101_19_too_long(self, env, keys):
        t = self.token_of_length(keys, 8193)
        r = env.get("/v", token=t)
        assert_status(r, 401)
        params = assert_challenge(r, error="invalid_token")
        assert "too long" in params.get("error_description", "").lower()
        assert "too long" in assert_problem(r, 401).get("detail", "").lower()

    def test_gk_auth_101_20_too_long_garbage(self, env):
        r = env.get("/v", token="a" * 20000)
        assert_status(r, 401)
        assert_challenge(r, error="invalid_token")

    def test_gk_auth_101_24_no_query_or_form_token(self, env, keys):
        """RFC 6750 2.2/2.3 transports are not accepted."""
        t = self.tok(keys)
        r = env.get("/v?access_token=" + t)
        assert_status(r, 401)
        assert_challenge(r, error=None)
        r = env.request("/v", "POST", data={"access_token": t})
        assert_status(r, 401)
        assert_challenge(r, error=None)

    def test_gk_auth_101_25_too_long_is_not_parsed(self, env):
        """Over 8192 bytes the token is refused for its length before its
        syntax is looked at: 401, not 400."""
        r = env.raw_get("/v", ["Authorization: Bearer " + "a$" * 5000])
        assert_status(r, 401)
        params = assert_challenge(r, error="invalid_token")
        assert "too long" in params.get("error_description", "")

    def test_gk_auth_101_21_too_long_cookie(self, env, keys):
        t = self.token_of_length(keys, 8193)
        r = env.get("/cookie", cookies="gk_token=" + t)
        assert_status(r, 401)
        assert_challenge(r, error="invalid_token")

    def test_gk_auth_101_22_realm_is_quoted(self, env):
        """A realm with quotes and backslashes stays one quoted-string."""
        r = env.get("/quoted")
        assert_status(r, 401)
        assert_challenge(r, error=None, realm='say "hi", error="x"')

    def test_gk_auth_101_23_keep_alive(self, env, keys):
        """Nothing of one request leaks into the next on a connection."""
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", env.port, timeout=20)
        try:
            def get(path, tok=None):
                h = {"Authorization": "Bearer " + tok} if tok else {}
                c.request("GET", path, headers=h)
                resp = c.getresponse()
                return resp.status, resp.read()
            assert get("/v/echo", self.tok(keys))[0] == 200
            assert get("/v")[0] == 401
            assert get("/v", T.mint(keys["rsa2048-b"], "RS256"))[0] == 401
            st, body = get("/v/echo", self.tok(keys, sub="bob"))
            assert st == 200 and b'"REMOTE_USER": "bob"' in body
            assert get("/v", "x")[0] == 401
            assert get("/v/echo", self.tok(keys))[0] == 200
        finally:
            c.close()


class TestTimeClaims:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        conf = GkConf(env)
        conf.add("GKAuthKey HS256 file:%s" % keys["hs256"].secret_path)
        conf.add_location("/t", """
            AuthType gk-bearer
            Require valid-user
        """)
        conf.add_location("/t0", """
            AuthType gk-bearer
            GKAuthLeeway 0
            Require valid-user
        """)
        conf.add_location("/noexp", """
            AuthType gk-bearer
            GKAuthRequireExp Off
            Require valid-user
        """)
        conf.install()
        env.apache_restart()

    def tok(self, keys, **kw):
        return T.mint(keys["hs256"], "HS256", **kw)

    def check(self, env, path, tok, status):
        r = env.get(path, token=tok)
        assert_status(r, status)
        if status == 401:
            assert_challenge(r, error="invalid_token")
            assert_problem(r, 401)

    @pytest.mark.parametrize("path,claim,delta,status", [
        ("/t", "exp", -30, 200),
        ("/t0", "exp", -30, 401),
        ("/t", "exp", -120, 401),
        ("/t0", "exp", 30, 200),
        ("/t", "nbf", 30, 200),
        ("/t0", "nbf", 30, 401),
        ("/t", "nbf", 300, 401),
        ("/t0", "nbf", -5, 200),
        ("/t", "iat", 30, 200),
        ("/t0", "iat", 30, 401),
        ("/t", "iat", 300, 401),
        ("/t", "iat", -86400 * 365, 200),
    ])
    def test_gk_auth_102_01_times(self, env, keys, path, claim, delta,
                                  status):
        now = T.now()
        kw = {"exp": now + 300} if claim != "exp" else {}
        kw[claim] = now + delta
        self.check(env, path, self.tok(keys, **kw), status)

    @pytest.mark.parametrize("claim,value,status", [
        ("exp", "now+300.5", 200),      # NumericDate may have a fraction
        ("exp", 1e300, 200),
        ("exp", 2 ** 62, 200),
        ("exp", 2 ** 63 - 1, 200),      # far future: no overflow with leeway
        ("exp", -1, 401),
        ("exp", 0, 401),
        ("nbf", -2 ** 63, 200),
        ("nbf", "now-0.5", 200),
        ("iat", -2 ** 63, 200),
        ("iat", -5, 200),
    ], ids=repr)
    def test_gk_auth_102_06_extreme_values(self, env, keys, claim, value,
                                           status):
        if isinstance(value, str):
            value = T.now() + float(value[3:])
        payload = T.claims()
        payload[claim] = value
        tok = T.forge({"alg": "HS256"}, payload, keys["hs256"])
        self.check(env, "/t", tok, status)

    def test_gk_auth_102_02_exp_required(self, env, keys):
        self.check(env, "/t", self.tok(keys, exp=None), 401)

    def test_gk_auth_102_03_exp_optional(self, env, keys):
        self.check(env, "/noexp", self.tok(keys, exp=None), 200)

    def test_gk_auth_102_04_exp_optional_still_checked(self, env, keys):
        self.check(env, "/noexp", self.tok(keys, exp=T.now() - 600), 401)

    @pytest.mark.parametrize("claim,value", [
        ("exp", "9999999999"), ("exp", True), ("exp", [1]),
        ("exp", {"t": 1}), ("nbf", "0"), ("iat", "0"), ("nbf", False),
    ], ids=lambda v: repr(v))
    def test_gk_auth_102_05_bad_types(self, env, keys, claim, value):
        payload = T.claims()
        payload[claim] = value
        tok = T.forge({"alg": "HS256", "typ": "JWT"}, payload,
                      keys["hs256"])
        self.check(env, "/noexp" if claim == "exp" else "/t", tok, 401)


class TestIssuerAudience:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        conf = GkConf(env)
        conf.add("GKAuthKey ES256 %s" % keys["p256"].pub_path)
        conf.add_location("/iss", """
            AuthType gk-bearer
            GKAuthIssuer https://issuer.example
            Require valid-user
        """)
        conf.add_location("/aud", """
            AuthType gk-bearer
            GKAuthAudience api1 api2
            Require valid-user
        """)
        conf.add_location("/both", """
            AuthType gk-bearer
            GKAuthIssuer https://issuer.example
            GKAuthAudience api1
            Require valid-user
        """)
        conf.add_location("/none", """
            AuthType gk-bearer
            Require valid-user
        """)
        conf.install()
        env.apache_restart()

    def get(self, env, keys, path, **kw):
        return env.get(path, token=T.mint(keys["p256"], "ES256", **kw))

    @pytest.mark.parametrize("iss,status", [
        ("https://issuer.example", 200),
        (None, 401),
        ("https://issuer.example/", 401),
        ("https://ISSUER.example", 401),
        ("https://issuer.example.evil", 401),
        ("", 401),
        (["https://issuer.example"], 401),
    ], ids=repr)
    def test_gk_auth_103_01_issuer(self, env, keys, iss, status):
        r = self.get(env, keys, "/iss", iss=iss)
        assert_status(r, status)
        if status == 401:
            assert_challenge(r, error="invalid_token")

    @pytest.mark.parametrize("aud,status", [
        ("api1", 200), ("api2", 200), (["x", "api2"], 200),
        (["api1"], 200), (None, 401), ("api3", 401), ([], 401),
        (["api", "api10"], 401), ("API1", 401), (1, 401),
        ("api1 api2", 401),
    ], ids=repr)
    def test_gk_auth_103_02_audience(self, env, keys, aud, status):
        r = self.get(env, keys, "/aud", aud=aud)
        assert_status(r, status)
        if status == 401:
            assert_challenge(r, error="invalid_token")

    @pytest.mark.parametrize("iss,aud,status", [
        ("https://issuer.example", "api1", 200),
        ("https://issuer.example", "api2", 401),
        ("https://other.example", "api1", 401),
    ])
    def test_gk_auth_103_03_both(self, env, keys, iss, aud, status):
        assert_status(self.get(env, keys, "/both", iss=iss, aud=aud), status)

    def test_gk_auth_103_04_unchecked_by_default(self, env, keys):
        r = self.get(env, keys, "/none", iss="whoever", aud="whatever")
        assert_status(r, 200)


class TestTokenType:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        conf = GkConf(env)
        conf.add("GKAuthKey EdDSA %s" % keys["ed25519"].pub_path)
        conf.add_location("/any", """
            AuthType gk-bearer
            Require valid-user
        """)
        conf.add_location("/at", """
            AuthType gk-bearer
            GKAuthTokenType at+jwt
            Require valid-user
        """)
        conf.add_location("/anyx", """
            AuthType gk-bearer
            GKAuthTokenType any
            Require valid-user
        """)
        conf.install()
        env.apache_restart()

    @pytest.mark.parametrize("typ,any_status,at_status", [
        (None, 200, 401),
        ("JWT", 200, 401),
        ("jwt", 200, 401),
        ("at+jwt", 200, 200),
        ("AT+JWT", 200, 200),
        ("application/at+jwt", 200, 200),
        ("Application/AT+JWT", 200, 200),
        ("foo", 401, 401),
        ("dpop+jwt", 401, 401),
        ("secevent+jwt", 401, 401),
        ("", 401, 401),
    ], ids=repr)
    def test_gk_auth_104_01_typ(self, env, keys, typ, any_status, at_status):
        h = {"alg": "EdDSA"}
        if typ is not None:
            h["typ"] = typ
        tok = T.forge(h, T.claims(), keys["ed25519"])
        assert_status(env.get("/any", token=tok), any_status)
        assert_status(env.get("/anyx", token=tok), any_status)
        r = env.get("/at", token=tok)
        assert_status(r, at_status)
        if at_status == 401:
            assert_challenge(r, error="invalid_token")

    @pytest.mark.parametrize("typ", [1, ["JWT"], {"a": 1}, True],
                             ids=repr)
    def test_gk_auth_104_02_typ_not_string(self, env, keys, typ):
        tok = T.forge({"alg": "EdDSA", "typ": typ}, T.claims(),
                      keys["ed25519"])
        assert_status(env.get("/any", token=tok), 401)


class TestNoKey:
    """AuthType gk-bearer where no key applies: never a pass."""

    def test_gk_auth_106_01_no_key_in_host(self, env, keys):
        """No key anywhere in the host: refused at startup."""
        conf = GkConf(env)
        conf.add_location("/nokey", """
            AuthType gk-bearer
            Require valid-user
        """)
        conf.install()
        env.apache_fail().assert_refused("GKAuthKey")

    def test_gk_auth_106_02_key_only_in_a_sibling(self, env, keys):
        """A key in another location only, a regex one (startup leaves
        regex sections to request time; a literal sibling is refused,
        GK10041): a request where no key applies is a server error, logged
        at error level naming the directives."""
        conf = GkConf(env)
        conf.add("""
            <LocationMatch "^/haskey">
                AuthType gk-bearer
                GKAuthKey RS256 %s
                Require valid-user
            </LocationMatch>
        """ % keys["rsa2048"].pub_path)
        conf.add_location("/nokey", """
            AuthType gk-bearer
            Require valid-user
        """)
        conf.install()
        env.apache_restart()
        tok = T.mint(keys["rsa2048"], "RS256")
        assert_status(env.get("/haskey", token=tok), 200)
        r = env.get("/nokey", token=tok)
        assert_status(r, 500)
        lines = env.error_log.find(regex=r"GKAuthKey", level="error")
        assert lines and lines[0].tag.startswith("GK"), lines
        env.error_log.ignore(tags=[lines[0].tag])


class TestUserClaim:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        conf = GkConf(env)
        conf.add("GKAuthKey PS256 %s" % keys["rsa2048"].pub_path)
        conf.add_location("/sub", """
            AuthType gk-bearer
            Require valid-user
        """)
        conf.add_location("/email", """
            AuthType gk-bearer
            GKAuthUserClaim email
            Require valid-user
        """)
        conf.add_location("/who", """
            AuthType gk-bearer
            Require user bob
        """)
        conf.install()
        env.apache_restart()

    def tok(self, keys, **kw):
        return T.mint(keys["rsa2048"], "PS256", **kw)

    def test_gk_auth_105_01_sub(self, env, keys):
        j = echo(env.get("/sub/echo", token=self.tok(keys, sub="u-123")))
        assert j["env"]["REMOTE_USER"] == "u-123"

    def test_gk_auth_105_02_no_sub(self, env, keys):
        r = env.get("/sub", token=self.tok(keys, sub=None))
        assert_status(r, 401)
        assert_challenge(r, error="invalid_token")

    @pytest.mark.parametrize("sub", [12, "", None, {"a": 1}, ["alice"], True],
                             ids=repr)
    def test_gk_auth_105_06_sub_not_a_string(self, env, keys, sub):
        p = T.claims()
        p["sub"] = sub
        r = env.get("/sub", token=T.forge({"alg": "PS256"}, p,
                                          keys["rsa2048"]))
        assert_status(r, 401)
        assert_challenge(r, error="invalid_token")

    def test_gk_auth_105_03_email(self, env, keys):
        tok = self.tok(keys, sub="u-1", email="bob@example.org")
        j = echo(env.get("/email/echo", token=tok))
        assert j["env"]["REMOTE_USER"] == "bob@example.org"

    def test_gk_auth_105_04_no_email(self, env, keys):
        r = env.get("/email", token=self.tok(keys, sub="u-1"))
        assert_status(r, 401)
        assert_challenge(r, error="invalid_token")

    def test_gk_auth_105_05_require_user(self, env, keys):
        """httpd's own `Require user` sees the user from the token."""
        assert_status(env.get("/who", token=self.tok(keys, sub="bob")), 200)
        r = env.get("/who", token=self.tok(keys, sub="alice"))
        assert r.status_code == 401
        # another provider denied: no insufficient_scope
        assert "insufficient_scope" not in r.headers.get(
            "WWW-Authenticate", "")
        env.error_log.ignore(tags=["AH01631"])
