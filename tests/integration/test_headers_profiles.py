"""mod_gk_headers: security header profiles (GKSecurityHeaders), one copy
of each header on every response.

Every header of a profile must reach the client exactly once, with the
profile's value, on every status: a static file, a 304, a CGI, a proxied
backend's 2xx and 5xx (a backend that sends its own X-Frame-Options,
HSTS, Vary and X-Powered-By), httpd's own 3xx/4xx/5xx, mod_auth_basic's
401, the early 400 httpd raises while reading a request (which gets the
server's profile), .htaccess, and HTTP/2. Loading the module alone changes
nothing.
"""

import pytest

from gkhttpd import GkConf
from gk_headers_helpers import (PROFILES, XFO, ScriptedBackend,
                                assert_none, assert_profile,
                                install_hdrs_cgi, need_headers_module)
from gk_log_helpers import curl_h2, h2_get, header_values, raw_request

STACK = ("Traceback (most recent call last):\n  File \"/srv/app/db.py\", "
         "line 42, in connect\npsycopg2.OperationalError: password "
         "authentication failed for user \"app\"\n")

BACKEND_HEADERS = [
    ("X-Frame-Options", "SAMEORIGIN"),
    ("Strict-Transport-Security", "max-age=1"),
    ("Vary", "Accept-Encoding"),
    ("X-Powered-By", "Express"),
    ("X-AspNet-Version", "4.0.30319"),
    ("X-AspNetMvc-Version", "5.2"),
    ("X-Runtime", "0.5"),
    ("Content-Security-Policy", "default-src *"),
    ("Referrer-Policy", "unsafe-url"),
]


@pytest.fixture(autouse=True, scope="module")
def _need_module(env):
    need_headers_module(env)


def backend_routes():
    return [
        ("/err", (500, BACKEND_HEADERS + [("Content-Type", "text/plain")],
                  STACK)),
        ("/cached", (200, BACKEND_HEADERS +
                     [("Cache-Control", "public, max-age=60")], "c\n")),
        ("/nm", (304, BACKEND_HEADERS + [("ETag", '"x"')], "")),
        ("/dup", (200, [("X-Frame-Options", "SAMEORIGIN"),
                        ("X-Frame-Options", "ALLOW-FROM x"),
                        ("Content-Security-Policy", "default-src *"),
                        ("Content-Security-Policy", "script-src *")], "d\n")),
    ]


# ---- default: nothing --------------------------------------------------------

class TestDefaultOff:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        cls = self.__class__
        cls.backend = ScriptedBackend(
            [], default=(200, BACKEND_HEADERS, "b\n")).start()
        conf = GkConf(env)
        conf.add('Alias /missing/ "%s/missing/"' % env.htdocs)
        conf.add_location("/px/", "ProxyPass http://127.0.0.1:%d/"
                          % cls.backend.port)
        conf.install()
        env.apache_restart()
        yield
        cls.backend.stop()

    def test_gk_headers_001_01_static(self, env):
        r = env.get("/file.txt")
        assert r.status_code == 200
        assert_none(r)

    def test_gk_headers_001_02_error(self, env):
        r = env.get("/missing/x")
        assert r.status_code == 404
        assert_none(r)

    def test_gk_headers_001_03_backend_untouched(self, env):
        r = env.get("/px/a")
        assert r.status_code == 200
        for k, v in BACKEND_HEADERS:
            assert header_values(r, k) == [v], k


# ---- every status, one copy each ---------------------------------------------

class TestEveryResponse:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        cls = self.__class__
        cls.backend = ScriptedBackend(
            backend_routes(), default=(200, BACKEND_HEADERS, "b\n")).start()
        cls.cgi = install_hdrs_cgi(env)
        ht = env.htdocs / "ht"
        env.write_file(ht / "page.txt", "page\n")
        env.write_file(ht / ".htaccess",
                       "GKSecurityHeaders strict\n"
                       "GKSecurityHeader X-Frame-Options SAMEORIGIN\n")
        env.write_file(env.htdocs / "ht-none" / "page.txt", "page\n")
        env.write_file(env.htdocs / "ht-none" / ".htaccess",
                       "GKSecurityHeaders off\n")
        env.write_file(env.htdocs / "ht-bad" / "page.txt", "page\n")
        env.write_file(env.htdocs / "ht-bad" / ".htaccess",
                       "GKSecurityHeaderPolicy X-Frame-Options override\n")
        env.write_file(env.htdocs / "dirscope" / "page.txt", "page\n")
        env.write_file(env.htdocs / "ht-auth" / "page.txt", "page\n")
        env.write_file(env.htdocs / "ht-auth" / ".htaccess",
                       "GKSecurityHeaders html\n")
        cls.h2 = curl_h2()
        conf = GkConf(env, extra_modules=["auth_basic", "authn_file", "http2"])
        conf.add("Protocols h2c http/1.1")
        conf.add("TraceEnable off")
        conf.add("GKSecurityHeaders api")
        conf.add('Alias /missing/ "%s/missing/"' % env.htdocs)
        conf.add('Alias /html/missing/ "%s/missing/"' % env.htdocs)
        conf.add('ScriptAlias /cgi/hdrs "%s"' % cls.cgi)
        conf.add('ScriptAlias /html/cgi/hdrs "%s"' % cls.cgi)
        for d in ("ht", "ht-none", "ht-bad"):
            conf.add('Alias /%s/ "%s/%s/"' % (d, env.htdocs, d))
            conf.add_directory(str(env.htdocs / d), "AllowOverride FileInfo")
        conf.add('Alias /dirscope/ "%s/dirscope/"' % env.htdocs)
        conf.add_directory(str(env.htdocs / "dirscope"), """
            GKSecurityHeaders strict
            GKSecurityHeader Cross-Origin-Resource-Policy cross-origin
        """)
        conf.add('Alias /ht-auth/ "%s/ht-auth/"' % env.htdocs)
        conf.add_directory(str(env.htdocs / "ht-auth"),
                           "AllowOverride AuthConfig")
        conf.add("Redirect 302 /moved http://127.0.0.1/elsewhere")
        conf.add("Redirect 301 /html/moved http://127.0.0.1/elsewhere")
        conf.add_location("/denied", "Require all denied")
        conf.add_location("/basic", """
            AuthType Basic
            AuthName test
            AuthBasicProvider file
            AuthUserFile /dev/null
            Require valid-user
        """)
        conf.add_location("/px/", "ProxyPass http://127.0.0.1:%d/"
                          % cls.backend.port)
        conf.add_location("/down/", "ProxyPass http://127.0.0.1:1/")
        conf.add_location("/html/", "GKSecurityHeaders html")
        conf.add_location("/html/px/", "ProxyPass http://127.0.0.1:%d/"
                          % cls.backend.port)
        conf.add_location("/strict/", "GKSecurityHeaders strict")
        conf.add_location("/strict/px/", "ProxyPass http://127.0.0.1:%d/"
                          % cls.backend.port)
        conf.add_location("/none/", "GKSecurityHeaders off")
        conf.add_location("/none/px/", "ProxyPass http://127.0.0.1:%d/"
                          % cls.backend.port)
        conf.install()
        # the 502 of an unreachable backend, a refused .htaccess line
        env.error_log.allow(tags=["AH00957", "AH01114", "AH00959",
                                  "AH10034"])
        env.error_log.allow(tags=["AH01630"])
        env.error_log.allow(regex=r"GKSecurityHeader\w* not allowed here")
        env.error_log.allow(regex=r"AH01618|AH01617|AH00529|AH00526")
        env.apache_restart()
        yield
        cls.backend.stop()

    # -- what handlers make
    def test_gk_headers_002_01_static(self, env):
        r = env.get("/file.txt")
        assert r.status_code == 200
        assert_profile(r, "api")

    def test_gk_headers_002_02_static_304(self, env):
        etag = env.get("/file.txt").headers["ETag"]
        r = env.get("/file.txt", headers={"If-None-Match": etag})
        assert r.status_code == 304
        assert_profile(r, "api")

    def test_gk_headers_002_03_head(self, env):
        r = env.request("/file.txt", method="HEAD")
        assert r.status_code == 200
        assert_profile(r, "api")

    def test_gk_headers_002_04_cgi(self, env):
        r = env.get("/cgi/hdrs")
        assert r.status_code == 200 and r.text == "cgi ok\n"
        assert_profile(r, "api")

    def test_gk_headers_002_05_cgi_500(self, env):
        r = env.get("/cgi/hdrs?fail")
        assert r.status_code == 500
        assert_profile(r, "api")

    def test_gk_headers_002_06_backend(self, env):
        r = env.get("/px/a")
        assert r.status_code == 200
        # a backend's Vary passes as it is; its HSTS is not ours to judge
        assert_profile(r, "api", {"Vary": "Accept-Encoding"})

    def test_gk_headers_002_07_backend_500(self, env):
        r = env.get("/px/err")
        assert r.status_code == 500
        assert_profile(r, "api", {"Vary": "Accept-Encoding"})

    def test_gk_headers_002_08_backend_304(self, env):
        r = env.get("/px/nm", headers={"If-None-Match": '"x"'})
        assert r.status_code == 304
        assert_profile(r, "api")

    def test_gk_headers_002_09_backend_cache_control_kept(self, env):
        r = env.get("/px/cached")
        assert_profile(r, "api", {"Cache-Control": "public, max-age=60",
                                  "Vary": "Accept-Encoding"})

    def test_gk_headers_002_10_backend_duplicates(self, env):
        r = env.get("/px/dup")
        assert_profile(r, "api")

    # -- httpd's own answers
    def test_gk_headers_003_01_404(self, env):
        r = env.get("/missing/x")
        assert r.status_code == 404
        assert_profile(r, "api")

    def test_gk_headers_003_02_302(self, env):
        r = env.get("/moved")
        assert r.status_code == 302
        assert_profile(r, "api")

    def test_gk_headers_003_03_403(self, env):
        r = env.get("/denied")
        assert r.status_code == 403
        assert_profile(r, "api")

    def test_gk_headers_003_04_401(self, env):
        r = env.get("/basic")
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"].startswith("Basic")
        assert_profile(r, "api")

    def test_gk_headers_003_05_502(self, env):
        r = env.get("/down/x")
        assert r.status_code in (502, 503)
        assert_profile(r, "api")

    def test_gk_headers_003_06_405(self, env):
        r = env.request("/file.txt", method="TRACE")
        assert r.status_code == 405
        assert_profile(r, "api")

    def test_gk_headers_003_07_early_400_gets_server_profile(self, env):
        # a header line without a colon: refused while the request is read,
        # before any <Location> applies
        r = raw_request(env, "GET /html/x HTTP/1.1", ["no colon here"])
        assert r.status_code == 400
        assert_profile(r, "api")

    def test_gk_headers_003_08_bad_request_line(self, env):
        r = env.raw(b"GET /x HTTP/1.1 extra\r\nHost: 127.0.0.1\r\n\r\n")
        assert r.status_code == 400
        assert_profile(r, "api")

    # -- the other profiles, and off
    def test_gk_headers_004_01_html(self, env):
        r = env.get("/html/x")
        assert_profile(r, "html")

    def test_gk_headers_004_02_html_backend(self, env):
        r = env.get("/html/px/a")
        assert_profile(r, "html", {"Vary": "Accept-Encoding"})

    def test_gk_headers_004_03_html_404_and_redirect(self, env):
        assert_profile(env.get("/html/missing/x"), "html")
        r = env.get("/html/moved")
        assert r.status_code == 301
        assert_profile(r, "html")

    def test_gk_headers_004_04_html_cgi(self, env):
        r = env.get("/html/cgi/hdrs")
        assert_profile(r, "html")

    def test_gk_headers_004_05_strict(self, env):
        assert_profile(env.get("/strict/x"), "strict")
        assert_profile(env.get("/strict/px/err"), "strict",
                       {"Vary": "Accept-Encoding"})

    def test_gk_headers_004_06_off_in_location(self, env):
        r = env.get("/none/px/a")
        for k, v in BACKEND_HEADERS:
            assert header_values(r, k) == [v], k
        assert_none(env.get("/none/x"))

    def test_gk_headers_004_07_api_no_store_only_without_handler_value(
            self, env):
        assert env.get("/file.txt").headers["Cache-Control"] == "no-store"
        assert header_values(env.get("/html/x"), "Cache-Control") == []

    def test_gk_headers_004_08_directory(self, env):
        r = env.get("/dirscope/page.txt")
        assert r.status_code == 200
        assert_profile(r, "strict",
                       {"Cross-Origin-Resource-Policy": "cross-origin"})
        r = env.get("/dirscope/missing.txt")
        assert r.status_code == 404
        assert_profile(r, "strict",
                       {"Cross-Origin-Resource-Policy": "cross-origin"})

    # -- .htaccess (AllowOverride FileInfo)
    def test_gk_headers_005_01_htaccess(self, env):
        r = env.get("/ht/page.txt")
        assert r.status_code == 200
        assert_profile(r, "strict", {XFO: "SAMEORIGIN"})

    def test_gk_headers_005_02_htaccess_off(self, env):
        assert_none(env.get("/ht-none/page.txt"))

    def test_gk_headers_005_03_htaccess_policy_refused(self, env):
        r = env.get("/ht-bad/page.txt")
        assert r.status_code == 500
        assert_profile(r, "api")

    def test_gk_headers_005_04_htaccess_needs_fileinfo(self, env):
        r = env.get("/ht-auth/page.txt")
        assert r.status_code == 500
        assert_profile(r, "api")

    # -- HTTP/2
    def test_gk_headers_006_01_h2(self, env):
        if not self.h2 or env.mpm == "prefork":
            pytest.skip("no HTTP/2 (curl or MPM)")
        for path, status, prof in [("/file.txt", 200, "api"),
                                   ("/missing/x", 404, "api"),
                                   ("/px/err", 500, "api"),
                                   ("/html/moved", 301, "html")]:
            r = h2_get(env, path, curl=self.h2)
            assert r.status_code == status, path
            for name, value in PROFILES[prof].items():
                vals = [v for k, v in r.header_list if k == name.lower()]
                assert vals == [value], (path, name, vals)
            assert [v for k, v in r.header_list
                    if k == "x-powered-by"] == [], path
