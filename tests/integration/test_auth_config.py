"""mod_gk_auth: bad configuration is refused, by `apache2 -t` and at
startup, with a message naming the directive; good edge values are taken.
"""

import re

import pytest

from gkhttpd import GkConf
from gkhttpd import tokens as T
from gkhttpd.check import assert_status
from gkhttpd.keys import secret_key


def location(body):
    return "<Location /c>\n    AuthType gk-bearer\n    Require valid-user\n" \
        + "\n".join("    " + l for l in body.strip().split("\n")) \
        + "\n</Location>\n"


def secret_file(env, name, data):
    return env.write_file(env.data_dir / "cfg" / name, data)


def bad_configs(env, keys):
    """(id, config text, directive named in the error, extra env)."""
    rsa = keys["rsa2048"].pub_path
    d = env.data_dir / "cfg"
    s31 = secret_file(env, "s31", b"s" * 31)
    s32 = secret_file(env, "s32", b"s" * 32)
    s47 = secret_file(env, "s47", b"s" * 47)
    s63 = secret_file(env, "s63", b"s" * 63)
    s31nl = secret_file(env, "s31nl", b"s" * 31 + b"\n")
    s31crlf = secret_file(env, "s31crlf", b"s" * 31 + b"\r\n")
    empty = secret_file(env, "empty", b"")
    notpem = secret_file(env, "notpem", b"-----BEGIN NOTHING-----\nxx\n")
    jwks_bad = secret_file(env, "bad.jwks", b"{not json")
    jwks_nokeys = secret_file(env, "nokeys.jwks", b'{"x": []}')
    jwks_good = keys.write_jwks(d / "ok.jwks", [keys["rsa2048"].jwk(
        kid="j1")])
    good_ec = keys["p256"].jwk(alg="ES256", kid="fine")

    def jwks(name, bad):
        return keys.write_jwks(d / name, [good_ec, bad])
    K = "GKAuthKey"
    cases = [
        # HMAC secret strength
        ("hs256-31", "%s HS256 file:%s" % (K, s31), K, {}),
        ("hs384-47", "%s HS384 file:%s" % (K, s47), K, {}),
        ("hs384-32", "%s HS384 file:%s" % (K, s32), K, {}),
        ("hs512-63", "%s HS512 file:%s" % (K, s63), K, {}),
        ("hs256-31-nl", "%s HS256 file:%s" % (K, s31nl), K, {}),
        ("hs256-31-crlf", "%s HS256 file:%s" % (K, s31crlf), K, {}),
        ("hs256-empty-file", "%s HS256 file:%s" % (K, empty), K, {}),
        ("hs256-env-short", "%s HS256 env:GK_CFG_SHORT" % K, K,
         {"GK_CFG_SHORT": "x" * 16}),
        ("hs256-env-empty", "%s HS256 env:GK_CFG_EMPTY" % K, K,
         {"GK_CFG_EMPTY": ""}),
        ("hs256-env-unset", "%s HS256 env:GK_CFG_UNSET_VAR" % K, K, {}),
        ("hs256-bare-path", "%s HS256 %s" % (K, s32), "file:", {}),
        ("hs256-pem-bare", "%s HS256 %s" % (K, rsa), K, {}),
        # asymmetric keys
        ("rsa-1024", "%s RS256 %s" % (K, keys["rsa1024"].pub_path), K, {}),
        ("ps-1024", "%s PS256 %s" % (K, keys["rsa1024"].pub_path), K, {}),
        ("es256-p384", "%s ES256 %s" % (K, keys["p384"].pub_path), K, {}),
        ("es384-p256", "%s ES384 %s" % (K, keys["p256"].pub_path), K, {}),
        ("es512-p384", "%s ES512 %s" % (K, keys["p384"].pub_path), K, {}),
        ("es256-k1", "%s ES256 %s" % (K, keys["secp256k1"].pub_path), K,
         {}),
        ("rs256-ec", "%s RS256 %s" % (K, keys["p256"].pub_path), K, {}),
        ("es256-rsa", "%s ES256 %s" % (K, rsa), K, {}),
        ("eddsa-rsa", "%s EdDSA %s" % (K, rsa), K, {}),
        ("eddsa-ec", "%s EdDSA %s" % (K, keys["p256"].pub_path), K, {}),
        ("rs256-not-pem", "%s RS256 %s" % (K, notpem), K, {}),
        ("rs256-secret", "%s RS256 file:%s" % (K, s32), K, {}),
        ("rs256-env-empty", "%s RS256 env:GK_CFG_EMPTY" % K, K,
         {"GK_CFG_EMPTY": ""}),
        ("rs256-env-garbage", "%s RS256 env:GK_CFG_G" % K, K,
         {"GK_CFG_G": "not a key"}),
        # algorithms
        ("alg-none", "%s none %s" % (K, rsa), K, {}),
        ("alg-NONE", "%s NONE %s" % (K, rsa), K, {}),
        ("alg-rs1", "%s RS1 %s" % (K, rsa), K, {}),
        ("alg-hs128", "%s HS128 file:%s" % (K, s32), K, {}),
        ("alg-es256k", "%s ES256K %s" % (K, keys["secp256k1"].pub_path),
         K, {}),
        ("alg-foo", "%s FOO %s" % (K, rsa), K, {}),
        # sources
        ("missing-file", "%s RS256 %s/nope.pem" % (K, d), K, {}),
        ("missing-file-prefix", "%s RS256 file:%s/nope.pem" % (K, d), K,
         {}),
        ("missing-secret", "%s HS256 file:%s/nope" % (K, d), K, {}),
        ("directory", "%s RS256 %s" % (K, d), K, {}),
        ("no-source", "%s RS256" % K, K, {}),
        ("no-args", K, K, {}),
        # key sets
        ("keyset-missing", "GKAuthKeySet %s/nope.jwks" % d,
         "GKAuthKeySet", {}),
        ("keyset-bad-json", "GKAuthKeySet %s" % jwks_bad, "GKAuthKeySet",
         {}),
        ("keyset-no-keys-member", "GKAuthKeySet %s" % jwks_nokeys,
         "GKAuthKeySet", {}),
        ("keyset-bad-alg", "GKAuthKeySet %s alg=XX256" % jwks_good,
         "GKAuthKeySet", {}),
        ("keyset-key-without-alg", "GKAuthKeySet %s" % jwks(
            "noalg.jwks", keys["rsa2048"].jwk(kid="x")), "GKAuthKeySet", {}),
        ("keyset-rsa-1024", "GKAuthKeySet %s" % jwks(
            "rsa1024.jwks", keys["rsa1024"].jwk(alg="RS256")),
         "GKAuthKeySet", {}),
        ("keyset-curve-mismatch", "GKAuthKeySet %s" % jwks(
            "curve.jwks", keys["p256"].jwk(alg="ES384")), "GKAuthKeySet", {}),
        ("keyset-short-oct", "GKAuthKeySet %s" % jwks(
            "oct.jwks", keys["hs256"].jwk(alg="HS512")), "GKAuthKeySet", {}),
        ("keyset-use-enc", "GKAuthKeySet %s" % jwks(
            "enc.jwks", keys["rsa2048"].jwk(alg="RS256", use="enc")),
         "GKAuthKeySet", {}),
        ("keyset-alg-none", "GKAuthKeySet %s" % jwks(
            "none.jwks", keys["rsa2048"].jwk(alg="none")), "GKAuthKeySet",
         {}),
        ("keyset-alg-param-none", "GKAuthKeySet %s alg=none" % jwks_good,
         "GKAuthKeySet", {}),
        ("key-unknown-option", "%s RS256 %s id=x" % (K, rsa), K, {}),
        # numbers and keywords
        ("leeway-neg", "GKAuthLeeway -1", "GKAuthLeeway", {}),
        ("leeway-big", "GKAuthLeeway 86401", "GKAuthLeeway", {}),
        ("leeway-word", "GKAuthLeeway abc", "GKAuthLeeway", {}),
        ("leeway-unit", "GKAuthLeeway 10s", "GKAuthLeeway", {}),
        ("leeway-float", "GKAuthLeeway 1.5", "GKAuthLeeway", {}),
        ("leeway-empty", 'GKAuthLeeway ""', "GKAuthLeeway", {}),
        ("leeway-huge", "GKAuthLeeway 99999999999999999999",
         "GKAuthLeeway", {}),
        ("tokentype", "GKAuthTokenType jwt", "GKAuthTokenType", {}),
        ("requireexp", "GKAuthRequireExp maybe", "GKAuthRequireExp", {}),
        ("errordetail", "GKAuthErrorDetail verbose", "GKAuthErrorDetail",
         {}),
        ("preflight", "GKAuthAllowPreflight yes", "GKAuthAllowPreflight",
         {}),
        ("audience-none", "GKAuthAudience", "GKAuthAudience", {}),
        ("issuer-none", "GKAuthIssuer", "GKAuthIssuer", {}),
        ("rolepermissions-none", "GKAuthRolePermissions editor",
         "GKAuthRolePermissions", {}),
        ("claimheader-one", "GKAuthClaimHeader sub", "GKAuthClaimHeader",
         {}),
        # server-config-only directives in a directory context
        ("cachesize-location", "GKAuthCacheSize 10", "GKAuthCacheSize", {}),
        ("cachelifetime-location", "GKAuthCacheLifetime 10",
         "GKAuthCacheLifetime", {}),
        # Require lines
        ("require-role-empty", "Require gk-role", "gk-role", {}),
        ("require-perm-empty", "Require gk-permission", "gk-permission", {}),
        ("require-perm-empty-segment", "Require gk-permission a::b",
         "gk-permission", {}),
        ("require-claim-empty", "Require gk-claim", "gk-claim", {}),
        ("require-claim-novalue", "Require gk-claim name", "gk-claim", {}),
    ]
    server_only = [
        ("cachesize-neg", "GKAuthCacheSize -1", "GKAuthCacheSize", {}),
        ("cachesize-word", "GKAuthCacheSize many", "GKAuthCacheSize", {}),
        ("cachelifetime-neg", "GKAuthCacheLifetime -5",
         "GKAuthCacheLifetime", {}),
        ("cachelifetime-word", "GKAuthCacheLifetime abc",
         "GKAuthCacheLifetime", {}),
    ]
    out = [(n, location(t), dv, e) for n, t, dv, e in cases]
    out += [(n, t + "\n" + location(""), dv, e)
            for n, t, dv, e in server_only]
    # the same key errors at server level
    out += [("server-" + n, t + "\n" + location(""), dv, e)
            for n, t, dv, e in cases
            if n in ("hs256-31", "rsa-1024", "es256-p384", "alg-none",
                     "missing-file", "hs256-bare-path")]
    return out


class TestBadConfig:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        env.apache_stop()
        self.__class__.cases = bad_configs(env, keys)
        env.make_readable()
        yield
        env.extra_env.clear()

    def test_gk_auth_400_01_refused(self, env, keys):
        """Every bad config, refused by -t and at start, naming the
        directive (one test; one list of what went wrong)."""
        failures = []
        for name, text, directive, extra in self.cases:
            env.extra_env.clear()
            env.extra_env.update(extra)
            GkConf(env).add(text).install()
            res = env.apache_fail()
            why = []
            if not res.refused_by_configtest:
                why.append("apache2 -t accepted it")
            if not res.refused_at_start:
                why.append("httpd started")
            if (res.refused_by_configtest or res.refused_at_start) \
                    and directive not in res.output:
                why.append("message does not name %s: %s" % (
                    directive, " | ".join(l for l in res.output.split("\n")
                                          if l.strip())[-300:]))
            if why:
                failures.append("%-28s %s" % (name, "; ".join(why)))
        env.extra_env.clear()
        assert not failures, "bad configs not refused properly:\n" + \
            "\n".join(failures)


class TestGoodConfig:
    """Edge values that must be taken; every directive in its contexts."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        s32 = secret_file(env, "g32", b"g" * 32)
        s32nl = secret_file(env, "g32nl", b"n" * 32 + b"\n")
        s32crlf = secret_file(env, "g32crlf", b"c" * 32 + b"\r\n")
        s48 = secret_file(env, "g48", b"h" * 48)
        s64 = secret_file(env, "g64", b"i" * 64)
        jwks = env.data_dir / "cfg" / "good.jwks"
        keys.write_jwks(jwks, [keys["rsa2048"].jwk(alg="RS256", kid="j1")])
        conf = GkConf(env)
        conf.add("""
            GKAuthCacheSize 0
            GKAuthCacheLifetime 60
            GKAuthKey RS256 %(rsa)s kid=srv
            GKAuthLeeway 86400
            GKAuthIssuer https://issuer.example
            GKAuthAudience a b c
            GKAuthTokenType any
            GKAuthRequireExp On
            GKAuthTokenCookie tok
            GKAuthUserClaim sub
            GKAuthRolesClaim realm_access.roles
            GKAuthPermissionsClaim perms
            GKAuthRolePermissions viewer docs:read
            GKAuthClaimHeader sub X-User
            GKAuthAllowPreflight Off
            GKAuthErrorDetail terse
            <VirtualHost 127.0.0.1:%(bport)d>
                ServerName cfgtest
                GKAuthKey ES256 %(p256)s
                GKAuthLeeway 0
            </VirtualHost>
        """ % {"rsa": keys["rsa2048"].pub_path, "bport": env.backend_port,
               "p256": keys["p256"].pub_path})
        conf.add_location("/h32", """
            AuthType gk-bearer
            GKAuthKey HS256 file:%s
            GKAuthLeeway 0
            Require valid-user
        """ % s32)
        conf.add_location("/h32nl", """
            AuthType gk-bearer
            GKAuthKey HS256 file:%s
            Require valid-user
        """ % s32nl)
        conf.add_location("/h32crlf", """
            AuthType gk-bearer
            GKAuthKey HS256 file:%s
            Require valid-user
        """ % s32crlf)
        conf.add_location("/h48", """
            AuthType gk-bearer
            GKAuthKey HS384 file:%s
            GKAuthKey HS512 file:%s
            Require valid-user
        """ % (s48, s64))
        conf.add_location("/all", """
            AuthType gk-bearer
            GKAuthKeySet %s alg=RS256
            GKAuthKey RS384 %s kid=k384
            GKAuthLeeway 0
            GKAuthIssuer x
            GKAuthAudience y
            GKAuthTokenType at+jwt
            GKAuthRequireExp Off
            GKAuthTokenCookie c2
            GKAuthUserClaim email
            GKAuthRolesClaim roles
            GKAuthPermissionsClaim permissions
            GKAuthRolePermissions editor docs:write docs:read
            GKAuthClaimHeader email X-Email
            GKAuthAllowPreflight On
            GKAuthErrorDetail full
            Require gk-role a b
            Require gk-permission a:b c
            Require gk-claim realm_access.roles x y
        """ % (jwks, keys["rsa2048"].pub_path))
        conf.install()
        env.apache_restart()

    def test_gk_auth_401_01_configtest(self, env):
        rc, out = env.apache_test_config()
        assert rc == 0, out
        assert "Syntax OK" in out

    @pytest.mark.parametrize("path,secret", [
        ("/h32", b"g" * 32), ("/h32nl", b"n" * 32), ("/h32crlf", b"c" * 32),
    ])
    def test_gk_auth_401_02_hmac_edge_secrets(self, env, keys, path, secret):
        tok = T.mint(secret_key(secret), "HS256", iss="https://issuer.example", aud="a")
        assert_status(env.get(path, token=tok), 200)

    def test_gk_auth_401_03_hs384_hs512_in_one_scope(self, env):
        for alg, secret in (("HS384", b"h" * 48), ("HS512", b"i" * 64)):
            tok = T.mint(secret_key(secret), alg, iss="https://issuer.example", aud="b")
            assert_status(env.get("/h48", token=tok), 200)


# ---- AuthType gk-bearer and where keys are -------------------------------
#
# A literal <Location> that says AuthType gk-bearer and that no key can reach
# is refused at startup (GK10041). Whatever a key may reach depending on the
# request (a <Directory>, <Files>, <If>, <Proxy> or regex section) is left
# to request time, where a scope without keys answers 500 (GK10005).

def key_layout(env, keys, text):
    return text % {"rsa": keys["rsa2048"].pub_path, "htdocs": env.htdocs,
                   "bport": env.backend_port}


# (id, config, the <Location> refused, the server named)
UNREACHED = [
    ("sibling", """
        <Location /a>
            GKAuthKey RS256 %(rsa)s
        </Location>
        <Location /b>
            AuthType gk-bearer
            Require valid-user
        </Location>
    """, "/b", "the main server"),
    ("nested", """
        <Location /app>
            GKAuthLeeway 10
        </Location>
        <Location /app/a>
            GKAuthKey RS256 %(rsa)s
        </Location>
        <Location /app/b>
            AuthType gk-bearer
            Require valid-user
            <If "-n %%{HTTP:X-Trace}">
                GKAuthLeeway 0
            </If>
        </Location>
    """, "/app/b", "the main server"),
    ("string-prefix", """
        <Location /api>
            GKAuthKey RS256 %(rsa)s
        </Location>
        <Location /apix>
            AuthType gk-bearer
            Require valid-user
        </Location>
    """, "/apix", "the main server"),
    ("vhost", """
        <VirtualHost 127.0.0.1:%(bport)d>
            ServerName gk-vhost
            <Location /a>
                GKAuthKey RS256 %(rsa)s
            </Location>
            <Location /b>
                AuthType gk-bearer
                Require valid-user
            </Location>
        </VirtualHost>
    """, "/b", "the virtual host defined at"),
]

# (id, config, [(path, status)]): starts; a valid token gets status. A path
# "vhost:/x" is asked of the virtual host gk-vhost. 500 is the request-time
# answer where no key applies (GK10005).
REACHED = [
    ("server-defaults", """
        GKAuthKey RS256 %(rsa)s
        <Location /b>
            AuthType gk-bearer
            Require valid-user
        </Location>
    """, [("/b", 200)]),
    ("vhost-defaults", """
        <VirtualHost 127.0.0.1:%(bport)d>
            ServerName gk-vhost
            GKAuthKey RS256 %(rsa)s
            <Location /b>
                AuthType gk-bearer
                Require valid-user
            </Location>
        </VirtualHost>
    """, [("vhost:/b", 200)]),
    ("prefix-location", """
        <Location /api>
            GKAuthKey RS256 %(rsa)s
        </Location>
        <Location /api/v1>
            AuthType gk-bearer
            Require valid-user
        </Location>
    """, [("/api/v1", 200), ("/api/v1/x", 200)]),
    ("location-below", """
        <Location /b/sub>
            GKAuthKey RS256 %(rsa)s
        </Location>
        <Location /b>
            AuthType gk-bearer
            Require valid-user
        </Location>
    """, [("/b/sub/x", 200), ("/b/other", 500)]),
    ("directory", """
        <Directory "%(htdocs)s">
            GKAuthKey RS256 %(rsa)s
        </Directory>
        <Location /d>
            AuthType gk-bearer
            Require valid-user
        </Location>
    """, [("/d", 200), ("/d/echo", 500)]),
    ("files", """
        <Files "ok.txt">
            GKAuthKey RS256 %(rsa)s
        </Files>
        <Location /f>
            AuthType gk-bearer
            Require valid-user
        </Location>
    """, [("/f", 200), ("/f/echo", 500)]),
    ("locationmatch", """
        <LocationMatch "^/rx/">
            GKAuthKey RS256 %(rsa)s
        </LocationMatch>
        <Location /rx/b>
            AuthType gk-bearer
            Require valid-user
        </Location>
    """, [("/rx/b", 200)]),
    ("if", """
        <If "%%{REQUEST_URI} =~ m#^/if/#">
            GKAuthKey RS256 %(rsa)s
        </If>
        <Location /if/b>
            AuthType gk-bearer
            Require valid-user
        </Location>
    """, [("/if/b", 200)]),
    ("if-in-location", """
        <Location /n>
            AuthType gk-bearer
            Require valid-user
            <If "true">
                GKAuthKey RS256 %(rsa)s
            </If>
        </Location>
    """, [("/n", 200)]),
    ("proxy", """
        ProxyPass /p/ http://127.0.0.1:%(bport)d/_backend/
        <Proxy "http://127.0.0.1:%(bport)d/*">
            GKAuthKey RS256 %(rsa)s
        </Proxy>
        <Location /p/>
            AuthType gk-bearer
            Require valid-user
        </Location>
    """, [("/p/echo", 200)]),
    ("authtype-expression", """
        <Location /a>
            GKAuthKey RS256 %(rsa)s
        </Location>
        <Location /ex>
            AuthType "%%{tolower:GK-Bearer}"
            Require valid-user
        </Location>
        <Location /ex/k>
            GKAuthKey RS256 %(rsa)s
        </Location>
    """, [("/ex/k", 200), ("/ex", 500)]),
]


class TestKeyReach:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        env.apache_stop()
        yield

    @pytest.mark.parametrize("text,location,server",
                             [c[1:] for c in UNREACHED],
                             ids=[c[0] for c in UNREACHED])
    def test_gk_auth_402_01_unreached_location_refused(self, env, keys, text,
                                                       location, server):
        """A <Location> with AuthType gk-bearer that no key can reach: -t
        and a start refuse it, naming the section, where it is, the server
        and the directives."""
        GkConf(env).add(key_layout(env, keys, text)).install()
        res = env.apache_fail()
        res.assert_refused("GK10041")
        assert re.search(r"<Location %s> \(defined at \S*test\.conf:\d+\)"
                         % re.escape(location), res.output), res
        assert server in res.output, res
        assert "GKAuthKey" in res.output, res

    @pytest.mark.parametrize("text,answers", [c[1:] for c in REACHED],
                             ids=[c[0] for c in REACHED])
    def test_gk_auth_403_01_reached_location_starts(self, env, keys, text,
                                                    answers):
        """A key that can reach the location: -t and a start accept it, and
        a valid token gets 200 wherever a key applies, 500 (GK10005) where
        none does."""
        GkConf(env).add(key_layout(env, keys, text)).install()
        rc, out = env.apache_test_config()
        assert rc == 0, out
        env.apache_restart()
        tok = T.mint(keys["rsa2048"], "RS256")
        for path, status in answers:
            kw = {}
            if path.startswith("vhost:"):
                path = path[len("vhost:"):]
                kw = {"port": env.backend_port,
                      "headers": {"Host": "gk-vhost"}}
            assert_status(env.get(path, token=tok, **kw), status)
            if status == 500:
                lines = env.error_log.find(tag="GK10005", level="error")
                assert lines, "no GK10005 for %s" % path
                env.error_log.ignore(tags=["GK10005"])
