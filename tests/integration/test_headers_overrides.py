"""mod_gk_headers: GKSecurityHeader and GKSecurityHeaderPolicy.

A nested scope adds to its parent's overrides; choosing another profile
in a nested scope keeps them; `off` removes a header (and the handler's
copy under the default policy); keep-backend lets the handler's first
copy win, override replaces it; exactly one copy either way, whether the
handler put it in headers_out or err_headers_out (mod_headers' `always`);
a backend's Vary is extended, never replaced. mod_gk_auth's 401 and 403
carry the profile too. Bad values are refused at startup, naming the
directive.
"""

import pytest

from gkhttpd import GkConf
import gkhttpd.tokens as T
from gk_headers_helpers import (CSP, XFO, ScriptedBackend, assert_profile,
                                need_headers_module)
from gk_log_helpers import header_values


@pytest.fixture(autouse=True, scope="module")
def _need_module(env):
    need_headers_module(env)


BACKEND = [("X-Frame-Options", "SAMEORIGIN"),
           ("X-Frame-Options", "ALLOW-FROM https://a.example"),
           ("Content-Security-Policy", "default-src 'self' cdn.example"),
           ("Vary", "Accept-Encoding"),
           ("Vary", "Cookie"),
           ("X-Generator", "Drupal 7"),
           ("X-Custom", "backend")]


def vary(r):
    """The members of the one Vary field (httpd's HTTP_HEADER filter
    rewrites the list without spaces)."""
    vals = header_values(r, "Vary")
    assert len(vals) == 1, vals
    return [m.strip() for m in vals[0].split(",")]


class TestOverrides:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        cls = self.__class__
        cls.backend = ScriptedBackend(
            [("/nocc", (200, [("Vary", "Accept-Encoding")], "n\n"))],
            default=(200, BACKEND, "b\n")).start()
        conf = GkConf(env)
        conf.add("GKSecurityHeaders api")
        conf.add("GKSecurityHeader X-Team gatekeeper")
        conf.add("GKSecurityHeader X-XSS-Protection \"1; mode=block\"")
        conf.add('Alias /m/missing/ "%s/missing/"' % env.htdocs)
        conf.add_location("/m/", """
            GKSecurityHeader X-Other two
            GKSecurityHeader Referrer-Policy same-origin
        """)
        conf.add_location("/m/html/", "GKSecurityHeaders html")
        conf.add_location("/m/off/", """
            GKSecurityHeader X-Frame-Options off
            GKSecurityHeader X-Team off
        """)
        conf.add_location("/m/px/", "ProxyPass http://127.0.0.1:%d/"
                          % cls.backend.port)
        conf.add_location("/m/off/px/", "ProxyPass http://127.0.0.1:%d/"
                          % cls.backend.port)
        conf.add_location("/scrub/", """
            GKSecurityHeader X-Generator off
            GKSecurityHeader Vary Origin
            ProxyPass http://127.0.0.1:%d/
        """ % cls.backend.port)
        conf.add('Alias /vary/missing/ "%s/missing/"' % env.htdocs)
        conf.add_location("/vary/", "GKSecurityHeader Vary Origin")
        conf.add_location("/always/", """
            Header always set X-Frame-Options SAMEORIGIN
            Header always set X-Content-Type-Options other
            Header set Referrer-Policy unsafe-url
            Header always set Cache-Control "max-age=5"
        """)
        conf.install()
        env.apache_restart()
        yield
        cls.backend.stop()

    def test_gk_headers_010_01_server_overrides(self, env):
        r = env.get("/x")
        assert_profile(r, "api", {"X-Team": "gatekeeper",
                                  "X-XSS-Protection": "1; mode=block"})

    def test_gk_headers_010_02_nested_adds(self, env):
        r = env.get("/m/x")
        assert_profile(r, "api", {"X-Team": "gatekeeper",
                                  "X-XSS-Protection": "1; mode=block",
                                  "X-Other": "two",
                                  "Referrer-Policy": "same-origin"})

    def test_gk_headers_010_03_nested_profile_keeps_overrides(self, env):
        for path in ("/m/html/x", "/m/missing/x"):
            r = env.get(path)
            prof = "html" if "html" in path else "api"
            assert_profile(r, prof, {"X-Team": "gatekeeper",
                                     "X-XSS-Protection": "1; mode=block",
                                     "X-Other": "two",
                                     "Referrer-Policy": "same-origin"})

    def test_gk_headers_010_04_off(self, env):
        r = env.get("/m/off/x")
        assert_profile(r, "api", {"X-XSS-Protection": "1; mode=block",
                                  "X-Other": "two", XFO: None,
                                  "Referrer-Policy": "same-origin",
                                  "X-Team": None})

    def test_gk_headers_010_05_off_removes_backend_copy(self, env):
        r = env.get("/m/off/px/a")
        assert header_values(r, XFO) == []
        # a header the set does not name passes
        assert header_values(r, "X-Custom") == ["backend"]

    def test_gk_headers_010_06_override_one_copy(self, env):
        r = env.get("/m/px/a")
        assert header_values(r, XFO) == ["DENY"]
        assert header_values(r, CSP) == [
            "default-src 'none'; frame-ancestors 'none'"]

    def test_gk_headers_010_07_vary_extended(self, env):
        r = env.get("/scrub/a")
        assert vary(r) == ["Accept-Encoding", "Cookie", "Origin"]
        assert header_values(r, "X-Generator") == []
        r = env.get("/scrub/nocc")
        assert vary(r) == ["Accept-Encoding", "Origin"]

    def test_gk_headers_010_08_vary_alone(self, env):
        # a static file and httpd's own 404 have no Vary: ours alone
        assert vary(env.get("/vary/x")) == ["Origin"]
        r = env.get("/vary/missing/x")
        assert r.status_code == 404
        assert vary(r) == ["Origin"]

    def test_gk_headers_010_09_mod_headers_always(self, env):
        # mod_headers' copies in err_headers_out and headers_out: ours wins,
        # once; Cache-Control is keep-backend by default
        r = env.get("/always/x")
        assert_profile(r, "api", {"X-Team": "gatekeeper",
                                  "X-XSS-Protection": "1; mode=block",
                                  "Cache-Control": "max-age=5"})


class TestPolicy:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        cls = self.__class__
        cls.backend = ScriptedBackend(
            [("/cc", (200, [("Cache-Control", "public, max-age=60")],
                      "c\n"))],
            default=(500, BACKEND, "b\n")).start()
        conf = GkConf(env)
        conf.add("GKSecurityHeaders api")
        conf.add("GKSecurityHeaderPolicy X-Frame-Options keep-backend")
        conf.add("GKSecurityHeaderPolicy Content-Security-Policy "
                 "keep-backend")
        conf.add("GKSecurityHeaderPolicy Cache-Control override")
        conf.add("GKSecurityHeaderPolicy X-Not-In-Set override")
        conf.add('Alias /missing/ "%s/missing/"' % env.htdocs)
        conf.add_location("/px/", "ProxyPass http://127.0.0.1:%d/"
                          % cls.backend.port)
        conf.add_location("/nocsp/", """
            GKSecurityHeader Content-Security-Policy off
            ProxyPass http://127.0.0.1:%d/
        """ % cls.backend.port)
        conf.install()
        env.apache_restart()
        yield
        cls.backend.stop()

    def test_gk_headers_011_01_keep_backend_first_copy(self, env):
        r = env.get("/px/a")
        assert r.status_code == 500
        assert header_values(r, XFO) == ["SAMEORIGIN"]
        assert header_values(r, CSP) == ["default-src 'self' cdn.example"]
        # a policy alone never removes a header
        assert header_values(r, "X-Custom") == ["backend"]

    def test_gk_headers_011_02_keep_backend_default_when_absent(self, env):
        r = env.get("/missing/x")
        assert_profile(r, "api")

    def test_gk_headers_011_03_cache_control_override(self, env):
        r = env.get("/px/cc")
        assert header_values(r, "Cache-Control") == ["no-store"]

    def test_gk_headers_011_04_keep_backend_and_off(self, env):
        # the backend's CSP passes, none of ours where it sends none
        r = env.get("/nocsp/a")
        assert header_values(r, CSP) == ["default-src 'self' cdn.example"]
        r = env.get("/nocsp/cc")
        assert header_values(r, CSP) == []


class TestWithAuth:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        if not env.has_gk_module("auth"):
            pytest.skip("mod_gk_auth not built")
        conf = GkConf(env, gk_modules=("auth", "headers"))
        conf.add("GKAuthKey RS256 %s" % keys["rsa2048"].pub_path)
        conf.add("GKSecurityHeaders api")
        conf.add_location("/p/", """
            AuthType gk-bearer
            AuthzSendForbiddenOnFailure On
            Require gk-role admin
        """)
        conf.install()
        env.apache_restart()

    def test_gk_headers_012_01_auth_401(self, env):
        r = env.get("/p/x")
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
        assert r.headers["Content-Type"].startswith(
            "application/problem+json")
        assert_profile(r, "api")

    def test_gk_headers_012_02_auth_403(self, env, keys):
        env.error_log.ignore(tags=["AH01631"])
        r = env.get("/p/x", token=T.mint(keys["rsa2048"], "RS256",
                                         roles=["user"]))
        assert r.status_code == 403
        assert_profile(r, "api")

    def test_gk_headers_012_03_auth_200(self, env, keys):
        r = env.get("/p/echo", token=T.mint(keys["rsa2048"], "RS256",
                                            roles=["admin"]))
        assert r.status_code == 200
        assert_profile(r, "api")


# ---- startup refusals ---------------------------------------------------------

BAD = [
    ("GKSecurityHeaders loose", "GKSecurityHeaders"),
    ("GKSecurityHeaders", "GKSecurityHeaders"),
    ('GKSecurityHeader "X Bad" v', "GKSecurityHeader"),
    ("GKSecurityHeader X-A:b v", "GKSecurityHeader"),
    ('GKSecurityHeader X-A " v"', "GKSecurityHeader"),
    ('GKSecurityHeader X-A "v "', "GKSecurityHeader"),
    ('GKSecurityHeader X-A ""', "GKSecurityHeader"),
    ("GKSecurityHeader X-A caf\u00e9", "GKSecurityHeader"),
    ("GKSecurityHeader X-A " + "a" * 8193, "GKSecurityHeader"),
    ("GKSecurityHeader X-A", "GKSecurityHeader"),
    ("GKSecurityHeader Content-Type text/plain", "GKSecurityHeader"),
    ("GKSecurityHeader Set-Cookie a=b", "GKSecurityHeader"),
    ("GKSecurityHeader Strict-Transport-Security max-age=1",
     "GKSecurityHeader"),
    ("GKSecurityHeader Vary off", "GKSecurityHeader"),
    ('GKSecurityHeader Vary "Origin,, *"', "GKSecurityHeader"),
    ("GKSecurityHeaderPolicy X-Frame-Options maybe", "GKSecurityHeaderPolicy"),
    ("GKSecurityHeaderPolicy Vary override", "GKSecurityHeaderPolicy"),
    ("GKSecurityHeaderPolicy X:Y override", "GKSecurityHeaderPolicy"),
    ("<Location /x>\nGKSecurityHeaderPolicy X-Frame-Options override\n"
     "</Location>", "GKSecurityHeaderPolicy"),
]


class TestRefused:

    @pytest.mark.parametrize("line,directive", BAD,
                             ids=[str(i) for i in range(len(BAD))])
    def test_gk_headers_019_01_refused(self, env, line, directive):
        conf = GkConf(env)
        conf.add(line)
        conf.install()
        env.apache_fail().assert_refused(directive)

    def test_gk_headers_019_02_accepted(self, env):
        conf = GkConf(env)
        conf.add("GKSecurityHeaders STRICT")
        conf.add("GKSecurityHeader X-A OFF")
        conf.add('GKSecurityHeader Vary "Origin, Accept"')
        conf.add("GKSecurityHeaderPolicy x-frame-options KEEP-BACKEND")
        conf.install()
        rc, out = env.apache_test_config()
        assert rc == 0, out
