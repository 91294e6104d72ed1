"""mod_gk_headers: CORS (GKCORSAllowOrigin, GKCORSAllowMethods,
GKCORSAllowHeaders, GKCORSExposeHeaders, GKCORSAllowCredentials,
GKCORSMaxAge, GKCORSAllowPrivateNetwork).

An allowed origin gets Access-Control-Allow-Origin (its own value, or *),
-Allow-Credentials when on and -Expose-Headers; any other origin (refused,
null, repeated, unparsable) gets no Access-Control-* field; every response
of a CORS scope varies on Origin, and a backend's own Access-Control-*
fields are removed. A preflight (OPTIONS with Origin and
Access-Control-Request-Method) is answered in header_parser, before
Require, authentication and GKRequireHTTPS: 204 with the policy, or 403
with no Access-Control-* field. Errors (401, 403, 404, a backend's 429 and
500) carry the CORS headers. Refusals are recorded as notes
(gk-cors-outcome, gk-cors-reason) and mod_gk_log audit events. Unsafe
configurations are refused by `apache2 -t` and a start; an unsafe
combination formed only by inheritance sends no CORS header and says so
once per process in the error log.

Requests go out raw (gk_log_helpers.raw_request) so that Origin and the
other fields arrive exactly as written, duplicates included.
"""

import json
import re
import time

import pytest

from gkhttpd import GkConf
from gkhttpd import tokens as T
from gkhttpd.env import free_port
from gk_headers_helpers import (ScriptedBackend, acx_headers, assert_profile,
                                need_headers_module, vary_members)
from gk_log_helpers import (CID, curl_h2, h2_get, header_values, marker,
                            raw_request)

APP = "https://app.example.com"
ALLOW_LIST = "https://app.example.com https://*.example.org " \
             "http://localhost:3000"
EXPOSE_WITH_LOG = ("X-Correlation-ID, RateLimit, RateLimit-Policy, "
                   "Retry-After, WWW-Authenticate")
VARY_PREFLIGHT = ["origin", "access-control-request-method",
                  "access-control-request-headers"]
NOTES_LOG = "cors_notes.log"
AUDIT_LOG = "cors_audit.json"

ATTACK_ORIGINS = [
    "https://app.example.com.evil.net",
    "https://example.com.evil.net",
    "https://notexample.com",
    "https://evil-example.com",
    "http://app.example.com",
    "https://app.example.com:8443",
    "null",
    "https://app.example.com.",
    "https://app.example.com/",
    "https://example.org",
    "https://app.example.com, https://evil.net",
    ("https://app.example.com", "https://app.example.com"),   # two lines
    "https://app%2eexample.com",
    "https://APP.example.com",
    "HTTPS://app.example.com",
    "https://app.example.com:443",
    "http://localhost:3001",
    "http://localhost",
    "https://user@app.example.com",
    # beyond the list of the brief
    ("https://app.example.com", "https://evil.net"),
    "https://.example.org",
    "https://a..example.org",
    "https://xexample.org",
    "https://a.example.org.evil.net",
    "https://a.example.org:8443",
    "http://a.example.org",
    "https://app.example.com:0443",
    "https://app.example.com:",
    "https://app.example.com?x",
    "https://app.example.com#x",
    "https://app.example.com/%2e",
    "//app.example.com",
    "app.example.com",
    "https://app.example.com:99999",
    "http://localhost:03000",
    "http://LOCALHOST:3000",
]
ALLOWED_ORIGINS = [
    "https://app.example.com",
    "https://a.example.org",
    "https://a.b.example.org",
    "https://a.b.c.example.org",
    "http://localhost:3000",
]


@pytest.fixture(autouse=True, scope="module")
def _need_modules(env):
    need_headers_module(env)
    for m in ("log", "auth"):
        if not env.has_gk_module(m):
            pytest.skip("mod_gk_%s not built" % m)


# ---- helpers -----------------------------------------------------------------

def origin_lines(origin):
    if origin is None:
        return []
    if isinstance(origin, tuple):
        return ["Origin: %s" % o for o in origin]
    return ["Origin: %s" % origin]


def req(env, method, path, origin=None, headers=(), port=None, token=None):
    lines = origin_lines(origin) + list(headers)
    if token:
        lines.append("Authorization: Bearer %s" % token)
    if method in ("POST", "PUT", "PATCH"):
        lines.append("Content-Length: 0")
    return raw_request(env, "%s %s HTTP/1.1" % (method, path), lines,
                       port=port)


def preflight(env, path, origin=APP, method="PUT", req_headers=None,
              extra=(), port=None):
    lines = ["Access-Control-Request-Method: %s" % method]
    if req_headers is not None:
        lines.append("Access-Control-Request-Headers: %s" % req_headers)
    return req(env, "OPTIONS", path, origin, lines + list(extra), port=port)


def acx(r):
    """{name: [values]} of the Access-Control-* fields."""
    out = {}
    for k, v in acx_headers(r):
        out.setdefault(k, []).append(v)
    return out


def assert_no_acx(r, what=""):
    assert acx_headers(r) == [], (what, r.status_code, acx_headers(r))


def assert_allowed(r, origin, credentials=True, expose=EXPOSE_WITH_LOG):
    a = acx(r)
    assert a.get("access-control-allow-origin") == [origin], (r.status_code,
                                                             a)
    if credentials:
        assert a.get("access-control-allow-credentials") == ["true"], a
    else:
        assert "access-control-allow-credentials" not in a, a
    if expose is None:
        assert "access-control-expose-headers" not in a, a
    else:
        assert a.get("access-control-expose-headers") == [expose], a
    # never the preflight-only fields on an actual response
    for k in ("access-control-allow-methods", "access-control-allow-headers",
              "access-control-max-age"):
        assert k not in a, (k, a)
    assert "origin" in vary_members(r), header_values(r, "Vary")


def read_lines(path, pred, want=1, timeout=10.0):
    end = time.monotonic() + timeout
    while True:
        sel = []
        if path.exists():
            sel = [l for l in path.read_text(errors="replace").splitlines()
                   if pred(l)]
        if len(sel) >= want or time.monotonic() > end:
            assert len(sel) >= want, (path, want, sel)
            return sel
        time.sleep(0.05)


def audit_events(env, cid, want=1):
    lines = read_lines(env.logs_dir / AUDIT_LOG, lambda l: cid in l, want)
    return [e for e in (json.loads(l) for l in lines)
            if e["gk"]["correlation_id"] == cid]


# ---- the main configuration -------------------------------------------------

class TestCors:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        cls = self.__class__
        cls.backend = ScriptedBackend([
            ("/px/500", (500, [("Content-Type", "text/plain")], b"boom\n")),
            ("/px/429", (429, [("Content-Type", "text/plain"),
                               ("Retry-After", "7"),
                               ("RateLimit", "limit=10, remaining=0, "
                                             "reset=7")], b"slow\n")),
            ("/px/vary", (200, [("Content-Type", "text/plain"),
                                ("Vary", "Accept-Encoding, User-Agent")],
                          b"v\n")),
            ("/px/vorigin", (200, [("Content-Type", "text/plain"),
                                   ("Vary", "origin")], b"v\n")),
            ("/px/acx500", (500, [("Content-Type", "text/plain"),
                                  ("Access-Control-Allow-Origin", "*")],
                            b"e\n")),
            ("/px/acx", (200, [("Content-Type", "text/plain"),
                               ("Access-Control-Allow-Origin", "*"),
                               ("Access-Control-Allow-Credentials", "true"),
                               ("Access-Control-Allow-Methods", "*"),
                               ("Access-Control-Expose-Headers",
                                "X-Secret")], b"a\n")),
        ], default=(200, [("Content-Type", "text/plain")], b"b\n")).start()
        cls.h2 = curl_h2()
        cls.rh = free_port()
        b = cls.backend.port
        for d, body in [("htc", "GKCORSAllowOrigin https://app.example.com\n"
                                "GKCORSAllowCredentials On\n"),
                        ("htc-auth", "GKCORSAllowOrigin "
                                     "https://app.example.com\n"),
                        ("htc-none", "GKCORSAllowOrigin "
                                     "https://app.example.com\n")]:
            env.write_file(env.htdocs / d / "page.txt", "page\n")
            env.write_file(env.htdocs / d / ".htaccess", body)
        conf = GkConf(env, gk_modules=("headers", "log", "auth"),
                      extra_modules=["http2"])
        conf.add("Protocols h2c http/1.1")
        conf.add("GKAuthKey RS256 %s" % keys["rsa2048"].pub_path)
        conf.add('GKAuditLog "%s/%s"' % (env.logs_dir, AUDIT_LOG))
        conf.add('LogFormat "%{gk-cors-outcome}n %{gk-cors-reason}n '
                 '\\"%r\\"" gkcors')
        conf.add('CustomLog "%s/%s" gkcors' % (env.logs_dir, NOTES_LOG))
        conf.add('Alias /c/missing/ "%s/missing/"' % env.htdocs)
        for p in ("px", "apc", "apn"):
            conf.add("ProxyPass /%s/ http://127.0.0.1:%d/%s/" % (p, b, p))
        for d, ov in [("htc", "FileInfo"), ("htc-auth", "AuthConfig"),
                      ("htc-none", "None")]:
            conf.add('Alias /%s/ "%s/%s/"' % (d, env.htdocs, d))
            conf.add_directory(str(env.htdocs / d), "AllowOverride %s" % ov)
        cors_full = """
            GKSecurityHeaders api
            GKCORSAllowOrigin %s
            GKCORSAllowMethods GET POST PUT DELETE
            GKCORSAllowHeaders Content-Type X-Requested-With Authorization
            GKCORSAllowCredentials On
            GKCORSMaxAge 600
            GKCORSAllowPrivateNetwork On
        """ % ALLOW_LIST
        conf.add_location("/c/", cors_full)
        conf.add_location("/c/sub/", """
            GKCORSAllowMethods PATCH
            GKCORSExposeHeaders X-Total-Count ETag
            GKCORSMaxAge none
        """)
        conf.add_location("/c/off/", "GKCORSAllowOrigin none")
        conf.add_location("/px/", cors_full)
        conf.add_location("/d/", """
            GKCORSAllowOrigin https://app.example.com
            GKCORSAllowPrivateNetwork Off
        """)
        conf.add_location("/star/", """
            GKCORSAllowOrigin *
            GKCORSAllowMethods *
            GKCORSAllowHeaders *
        """)
        conf.add_location("/star-auth/", """
            GKCORSAllowOrigin *
            GKCORSAllowHeaders * Authorization
            GKCORSExposeHeaders none
            GKCORSMaxAge 0
        """)
        # an ErrorDocument outside any CORS scope answers for /ed/ (the
        # harness's catch-all serves /errdoc.txt as ok.txt)
        conf.add('Alias /ed/ "%s/missing-ed/"' % env.htdocs)
        conf.add_location("/ed/", """
            GKCORSAllowOrigin https://app.example.com
            ErrorDocument 404 /errdoc.txt
            ErrorDocument 403 /errdoc.txt
        """)
        conf.add_location("/denied/", """
            GKCORSAllowOrigin https://app.example.com
            Require all denied
        """)
        conf.add_location("/auth/", """
            GKSecurityHeaders api
            GKCORSAllowOrigin https://app.example.com
            GKCORSAllowCredentials On
            GKCORSAllowHeaders Authorization
            AuthType gk-bearer
            AuthzSendForbiddenOnFailure On
            Require gk-role admin
        """)
        conf.add_location("/apc/", """
            GKCORSAllowOrigin https://app.example.com
            AuthType gk-bearer
            GKAuthAllowPreflight On
            Require gk-role admin
        """)
        conf.add_location("/apn/", """
            AuthType gk-bearer
            GKAuthAllowPreflight On
            Require gk-role admin
        """)
        conf.add("Listen 127.0.0.1:%d" % cls.rh)
        conf.add("""
            <VirtualHost 127.0.0.1:%d>
                ServerName rh.example
                GKRequireHTTPS On
                GKCORSAllowOrigin https://app.example.com
            </VirtualHost>
        """ % cls.rh)
        conf.install()
        # AH10034: mod_http2 under prefork (inactive there)
        env.error_log.allow(tags=["AH01630", "AH01631", "AH10034"])
        env.error_log.allow(regex=r"GKCORS\w* not allowed here")
        env.error_log.allow(regex=r"AH00529|AH00526")
        env.apache_restart()
        yield
        cls.backend.stop()

    # -- 040: actual requests ---------------------------------------------
    @pytest.mark.parametrize("origin", ALLOWED_ORIGINS)
    def test_gk_headers_040_01_allowed(self, env, origin):
        for method in ("GET", "POST", "HEAD"):
            r = req(env, method, "/c/x", origin)
            assert r.status_code == 200, (method, r.status_code)
            assert_allowed(r, origin)
            assert_profile(r, "api")

    def test_gk_headers_040_02_refused_origin(self, env):
        for origin in ("https://evil.net", "https://app.example.net"):
            r = req(env, "GET", "/c/x", origin)
            assert r.status_code == 200
            assert_no_acx(r, origin)
            assert "origin" in vary_members(r), header_values(r, "Vary")

    def test_gk_headers_040_03_vary_without_origin(self, env):
        for path in ("/c/x", "/d/x", "/star/x", "/c/missing/x"):
            r = req(env, "GET", path)
            assert_no_acx(r, path)
            assert "origin" in vary_members(r), (path,
                                                 header_values(r, "Vary"))

    def test_gk_headers_040_04_defaults(self, env):
        # no credentials, default expose list with mod_gk_log's header
        r = req(env, "GET", "/d/x", APP)
        assert_allowed(r, APP, credentials=False)
        r = preflight(env, "/d/x", method="POST")
        assert r.status_code == 204
        a = acx(r)
        assert a["access-control-allow-methods"] == ["GET, HEAD, POST"], a
        assert "access-control-max-age" not in a, a
        assert "access-control-allow-credentials" not in a, a
        assert "access-control-allow-headers" not in a, a

    def test_gk_headers_040_05_star(self, env):
        r = req(env, "GET", "/star/x", "https://anything.example.net")
        assert_allowed(r, "*", credentials=False)
        r = req(env, "GET", "/star-auth/x", "https://anything.example.net")
        assert_allowed(r, "*", credentials=False, expose=None)
        # * still refuses what is not an origin
        for bad in ("null", ("https://a.example", "https://b.example"),
                    "https://a.example/"):
            assert_no_acx(req(env, "GET", "/star/x", bad), bad)

    def test_gk_headers_040_06_backend_vary_kept(self, env):
        r = req(env, "GET", "/px/vary", APP)
        assert r.status_code == 200
        assert_allowed(r, APP)
        m = vary_members(r)
        for want in ("accept-encoding", "user-agent", "origin"):
            assert want in m, m
        assert m.count("origin") == 1, m
        # the backend's own Vary: Origin is not doubled
        r = req(env, "GET", "/px/vorigin", APP)
        assert_allowed(r, APP)
        assert vary_members(r).count("origin") == 1, vary_members(r)

    def test_gk_headers_040_07_backend_acx_removed(self, env):
        r = req(env, "GET", "/px/acx", "https://evil.net")
        assert r.status_code == 200
        assert_no_acx(r, "backend's own fields")
        r = req(env, "GET", "/px/acx", APP)
        assert_allowed(r, APP)
        r = req(env, "GET", "/px/acx")
        assert_no_acx(r, "no origin")
        r = req(env, "GET", "/px/acx500", "https://evil.net")
        assert r.status_code == 500
        assert_no_acx(r, "backend's 500")
        r = req(env, "GET", "/px/acx500", APP)
        assert_allowed(r, APP)

    def test_gk_headers_040_08_nested_scopes(self, env):
        # /c/sub/ replaces the methods only; the origins are /c/'s
        r = preflight(env, "/c/sub/x", method="PATCH")
        assert r.status_code == 204
        assert acx(r)["access-control-allow-methods"] == ["PATCH"]
        assert "access-control-max-age" not in acx(r)      # none
        assert acx(r)["access-control-allow-credentials"] == ["true"]
        assert preflight(env, "/c/sub/x", method="PUT").status_code == 403
        assert_allowed(req(env, "GET", "/c/sub/x", APP), APP,
                       expose="X-Total-Count, ETag")
        r = preflight(env, "/star-auth/x", method="GET")
        assert acx(r)["access-control-max-age"] == ["0"]
        # none: CORS off below /c/
        r = req(env, "GET", "/c/off/x", APP)
        assert r.status_code == 200
        assert_no_acx(r)
        assert "origin" not in vary_members(r)
        r = preflight(env, "/c/off/x")
        assert r.status_code != 204
        assert_no_acx(r)

    # -- 041: hostile origins ---------------------------------------------
    @pytest.mark.parametrize("origin", ATTACK_ORIGINS,
                             ids=[repr(o) for o in ATTACK_ORIGINS])
    def test_gk_headers_041_01_attack_origins(self, env, origin):
        r = req(env, "GET", "/c/x", origin)
        assert r.status_code == 200
        assert_no_acx(r, "GET")
        assert "origin" in vary_members(r)
        r = preflight(env, "/c/x", origin=origin)
        assert r.status_code == 403, r.status_code
        assert_no_acx(r, "preflight")

    @pytest.mark.parametrize("origin", ALLOWED_ORIGINS)
    def test_gk_headers_041_02_allowed_preflight(self, env, origin):
        r = preflight(env, "/c/x", origin=origin)
        assert r.status_code == 204
        assert acx(r)["access-control-allow-origin"] == [origin]

    # -- 042: preflights ----------------------------------------------------
    def test_gk_headers_042_01_preflight_answer(self, env):
        r = preflight(env, "/c/x", method="PUT",
                      req_headers="Content-Type, X-Requested-With")
        assert r.status_code == 204
        assert r.content == b""
        assert header_values(r, "Content-Length") in ([], ["0"])
        a = acx(r)
        assert a == {
            "access-control-allow-origin": [APP],
            "access-control-allow-credentials": ["true"],
            "access-control-allow-methods": ["GET, POST, PUT, DELETE"],
            "access-control-allow-headers": ["content-type, "
                                             "x-requested-with"],
            "access-control-max-age": ["600"],
        }, a
        m = vary_members(r)
        for v in VARY_PREFLIGHT:
            assert v in m, m
        assert_profile(r, "api")
        assert header_values(r, CID), "no correlation ID"

    @pytest.mark.parametrize("method,status", [
        ("GET", 204), ("HEAD", 204), ("POST", 204), ("PUT", 204),
        ("DELETE", 204), ("PATCH", 403), ("put", 403), ("get", 403),
        ("OPTIONS", 403), ("X-CUSTOM", 403), ("", 403), ("PU T", 403),
        ("PUT, DELETE", 403)])
    def test_gk_headers_042_02_by_method(self, env, method, status):
        r = preflight(env, "/c/x", method=method)
        assert r.status_code == status
        if status == 403:
            assert_no_acx(r)
            assert "origin" in vary_members(r)
        else:
            assert acx(r)["access-control-allow-origin"] == [APP]

    @pytest.mark.parametrize("path,asked,status,answer", [
        ("/c/x", "content-type", 204, "content-type"),
        ("/c/x", "Content-Type,X-Requested-With", 204,
         "content-type, x-requested-with"),
        ("/c/x", "authorization", 204, "authorization"),
        ("/c/x", "accept, accept-language, content-language", 204,
         "accept, accept-language, content-language"),
        ("/c/x", "x-custom", 403, None),
        ("/c/x", "", 204, None),
        ("/c/x", ",Content-Type,, content-type ,", 204, "content-type"),
        ("/c/x", "content type", 403, None),
        ("/c/x", "content-type;x", 403, None),
        ("/c/x", ",".join("x-h%d" % i for i in range(80)), 403, None),
        ("/c/x", "content-type, x-custom", 403, None),
        ("/d/x", "content-type", 403, None),
        ("/d/x", "authorization", 403, None),
        ("/d/x", "accept", 204, "accept"),
        ("/star/x", "x-anything, content-type", 204, "*"),
        ("/star/x", "authorization", 403, None),
        ("/star/x", "x-a, authorization", 403, None),
        ("/star-auth/x", "x-foo, authorization", 204, "*, authorization"),
    ])
    def test_gk_headers_042_03_by_header(self, env, path, asked, status,
                                         answer):
        method = "GET" if path != "/c/x" else "PUT"
        r = preflight(env, path, method=method, req_headers=asked)
        assert r.status_code == status, (path, asked)
        if status == 403:
            assert_no_acx(r)
        elif answer is None:
            assert "access-control-allow-headers" not in acx(r)
            assert acx(r)["access-control-allow-origin"]
        else:
            assert acx(r).get("access-control-allow-headers") == [answer]

    def test_gk_headers_042_04_star_methods(self, env):
        r = preflight(env, "/star/x", origin="https://x.example.net",
                      method="PATCH")
        assert r.status_code == 204
        a = acx(r)
        assert a["access-control-allow-origin"] == ["*"]
        assert a["access-control-allow-methods"] == ["*"]
        assert "access-control-allow-credentials" not in a

    def test_gk_headers_042_05_private_network(self, env):
        pna = ["Access-Control-Request-Private-Network: true"]
        r = preflight(env, "/c/x", extra=pna)
        assert r.status_code == 204
        assert acx(r)["access-control-allow-private-network"] == ["true"]
        r = preflight(env, "/c/x")
        assert "access-control-allow-private-network" not in acx(r)
        r = preflight(env, "/c/x", extra=[
            "Access-Control-Request-Private-Network: false"])
        assert r.status_code == 204
        assert "access-control-allow-private-network" not in acx(r)
        r = preflight(env, "/d/x", method="GET", extra=pna)
        assert r.status_code == 204
        assert "access-control-allow-private-network" not in acx(r)

    def test_gk_headers_042_07_star_many_headers(self, env):
        # more members than the limit: refused even under *
        many = ",".join("x-h%d" % i for i in range(80))
        r = preflight(env, "/star/x", method="GET", req_headers=many)
        assert r.status_code == 403
        assert_no_acx(r)
        few = ",".join("x-h%d" % i for i in range(20))
        r = preflight(env, "/star/x", method="GET", req_headers=few)
        assert r.status_code == 204
        assert acx(r)["access-control-allow-headers"] == ["*"]

    def test_gk_headers_042_08_before_handler(self, env):
        # answered in header_parser: a missing file, a backend, the same
        for path in ("/c/missing/x", "/px/500"):
            r = preflight(env, path)
            assert r.status_code == 204, path
            assert acx(r)["access-control-allow-origin"] == [APP]
            assert r.content == b""

    def test_gk_headers_042_06_before_require(self, env):
        r = preflight(env, "/denied/x", method="GET")
        assert r.status_code == 204
        assert acx(r)["access-control-allow-origin"] == [APP]
        r = req(env, "GET", "/denied/x", APP)
        assert r.status_code == 403
        assert_allowed(r, APP, credentials=False)

    # -- 043: authentication, errors, GKAuthAllowPreflight ------------------
    def test_gk_headers_043_01_preflight_without_token(self, env):
        r = preflight(env, "/auth/x", method="GET",
                      req_headers="authorization")
        assert r.status_code == 204
        a = acx(r)
        assert a["access-control-allow-origin"] == [APP]
        assert a["access-control-allow-credentials"] == ["true"]
        assert header_values(r, "WWW-Authenticate") == []
        assert_profile(r, "api")

    def test_gk_headers_043_02_errors_carry_cors(self, env, keys):
        r = req(env, "GET", "/auth/x", APP)
        assert r.status_code == 401
        assert header_values(r, "WWW-Authenticate")
        assert_allowed(r, APP)
        user = T.mint(keys["rsa2048"], "RS256", roles=["user"])
        r = req(env, "GET", "/auth/x", APP, token=user)
        assert r.status_code == 403
        assert_allowed(r, APP)
        admin = T.mint(keys["rsa2048"], "RS256", roles=["admin"])
        r = req(env, "GET", "/auth/x", APP, token=admin)
        assert r.status_code == 200
        assert_allowed(r, APP)
        r = req(env, "GET", "/c/missing/x", APP)
        assert r.status_code == 404
        assert_allowed(r, APP)
        for path, status in (("/px/500", 500), ("/px/429", 429)):
            r = req(env, "GET", path, APP)
            assert r.status_code == status
            assert_allowed(r, APP)
        # a refused origin gets none on errors either
        r = req(env, "GET", "/auth/x", "https://evil.net")
        assert r.status_code == 401
        assert_no_acx(r)
        assert "origin" in vary_members(r)

    def test_gk_headers_043_03_allow_preflight_with_cors(self, env):
        self.backend.clear()
        r = preflight(env, "/apc/x", method="GET")
        assert r.status_code == 204
        assert acx(r)["access-control-allow-origin"] == [APP]
        assert [h for h in self.backend.requests
                if h.startswith(b"OPTIONS")] == []

    def test_gk_headers_043_04_allow_preflight_without_cors(self, env):
        self.backend.clear()
        r = preflight(env, "/apn/x", method="GET")
        assert r.status_code == 200     # the backend's answer
        assert r.content == b"b\n"
        assert_no_acx(r)
        assert [h.split(b"\r\n")[0] for h in self.backend.requests] == [
            b"OPTIONS /apn/x HTTP/1.1"]

    def test_gk_headers_043_05_error_document(self, env):
        """An ErrorDocument (an internal redirect to a URL without CORS)
        answers with the CORS decision of the URL the browser asked for;
        a refused preflight's ErrorDocument carries none."""
        r = req(env, "GET", "/ed/nothing", APP)
        assert r.status_code == 404
        assert r.content == b"ok\n"     # the ErrorDocument
        assert_allowed(r, APP, credentials=False)
        r = req(env, "GET", "/ed/nothing", "https://evil.net")
        assert r.status_code == 404
        assert r.content == b"ok\n"     # the ErrorDocument
        assert_no_acx(r)
        assert "origin" in vary_members(r)
        r = preflight(env, "/ed/nothing", method="DELETE")
        assert r.status_code == 403
        assert_no_acx(r)
        r = preflight(env, "/ed/nothing", method="GET")
        assert r.status_code == 204
        assert acx(r)["access-control-allow-origin"] == [APP]

    # -- 044: GKRequireHTTPS -----------------------------------------------
    def test_gk_headers_044_01_require_https(self, env):
        r = req(env, "GET", "/x", APP, port=self.rh)
        assert r.status_code == 301
        assert r.headers["Location"].startswith("https://rh.example/")
        r = preflight(env, "/x", method="GET", port=self.rh)
        assert r.status_code == 204
        assert acx(r)["access-control-allow-origin"] == [APP]
        assert "Location" not in r.headers

    # -- 045: notes and audit events ----------------------------------------
    def test_gk_headers_045_01_notes(self, env):
        path = env.logs_dir / NOTES_LOG
        cases = [
            (lambda p: req(env, "GET", p, APP), "success cors_allowed"),
            (lambda p: preflight(env, p), "success cors_preflight"),
            (lambda p: req(env, "GET", p, "https://evil.net"),
             "failure cors_refused"),
            (lambda p: req(env, "GET", p, "null"), "failure cors_bad_origin"),
            (lambda p: preflight(env, p, method="PATCH"),
             "failure cors_method_refused"),
            (lambda p: preflight(env, p, req_headers="x-nope"),
             "failure cors_header_refused"),
        ]
        for send, want in cases:
            m = marker()
            send("/c/%s" % m)
            (line,) = read_lines(path, lambda l, m=m: m in l)
            assert line.startswith(want + " "), (want, line)

    @pytest.mark.parametrize("kind,origin,action,reason", [
        ("get", "https://evil.net", "cors-origin-refused", "cors_refused"),
        ("get", "null", "cors-origin-refused", "cors_bad_origin"),
        ("pre", "https://evil.net", "cors-preflight-refused", "cors_refused"),
        ("pre-method", APP, "cors-preflight-refused", "cors_method_refused"),
        ("pre-header", APP, "cors-preflight-refused", "cors_header_refused"),
    ])
    def test_gk_headers_045_02_audit(self, env, kind, origin, action,
                                     reason):
        path = "/c/%s" % marker()
        if kind == "get":
            r = req(env, "GET", path, origin)
        elif kind == "pre":
            r = preflight(env, path, origin=origin)
        elif kind == "pre-method":
            r = preflight(env, path, origin=origin, method="PATCH")
        else:
            r = preflight(env, path, origin=origin, req_headers="x-nope")
        cid = r.headers[CID]
        evs = [e for e in audit_events(env, cid)
               if e["event"]["action"].startswith("cors-")]
        assert len(evs) == 1, evs
        e = evs[0]
        assert e["event"]["action"] == action
        assert e["event"]["outcome"] == "failure"
        assert e["event"]["reason"] == reason
        assert e["labels"]["origin"] == origin
        assert e["url"]["path"] == path

    def test_gk_headers_045_03_no_audit_when_allowed(self, env):
        r = req(env, "GET", "/c/%s" % marker(), APP)
        cid = r.headers[CID]
        r2 = req(env, "GET", "/c/%s" % marker(), "https://evil.net")
        audit_events(env, r2.headers[CID])      # written by now
        text = (env.logs_dir / AUDIT_LOG).read_text()
        assert cid not in text

    # -- 046: .htaccess ------------------------------------------------------
    def test_gk_headers_046_01_htaccess(self, env):
        r = req(env, "GET", "/htc/page.txt", APP)
        assert r.status_code == 200
        assert_allowed(r, APP)
        r = preflight(env, "/htc/page.txt", method="GET")
        assert r.status_code == 204
        assert acx(r)["access-control-allow-origin"] == [APP]
        # AllowOverride without FileInfo: the directive is not allowed
        r = req(env, "GET", "/htc-auth/page.txt", APP)
        assert r.status_code == 500
        assert_no_acx(r)
        # AllowOverride None: httpd does not read the .htaccess at all
        r = req(env, "GET", "/htc-none/page.txt", APP)
        assert r.status_code == 200
        assert_no_acx(r)

    # -- 047: HTTP/2 ------------------------------------------------------------
    def test_gk_headers_047_01_h2(self, env):
        if not self.h2 or env.mpm == "prefork":
            pytest.skip("no HTTP/2 (curl or MPM)")
        h1 = req(env, "GET", "/c/h2", APP)
        h2 = h2_get(env, "/c/h2", [("Origin", APP)], curl=self.h2)
        assert h2.status_code == 200
        assert acx_headers(h2) == acx_headers(h1)
        assert "origin" in vary_members(h2)
        pre = [("Origin", APP), ("Access-Control-Request-Method", "PUT"),
               ("Access-Control-Request-Headers", "content-type")]
        h1 = preflight(env, "/c/h2", req_headers="content-type")
        h2 = h2_get(env, "/c/h2", pre, curl=self.h2, method="OPTIONS")
        assert h2.status_code == 204
        assert sorted(acx_headers(h2)) == sorted(acx_headers(h1))
        assert acx(h2)["access-control-allow-origin"] == [APP]
        for v in VARY_PREFLIGHT:
            assert v in vary_members(h2)
        h2 = h2_get(env, "/c/h2", [("Origin", "https://evil.net")],
                    curl=self.h2)
        assert_no_acx(h2)


# ---- a dangerous combination made by inheritance ---------------------------

class TestInherited:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        conf = GkConf(env, gk_modules=("headers",))
        conf.add("GKCORSAllowOrigin *")
        conf.add_location("/cred/", "GKCORSAllowCredentials On")
        conf.add_location("/lo/", """
            GKCORSAllowOrigin http://localhost:3000 http://127.0.0.1:8080 http://[::1]:8080
            GKCORSAllowCredentials On
        """)
        conf.install()
        env.error_log.allow(tags=["GK20005"])
        env.apache_restart()

    def test_gk_headers_048_01_inherited_unsafe(self, env):
        pos = env.error_log._size()
        for i in range(8):
            r = req(env, "GET", "/cred/x%d" % i, APP)
            assert r.status_code == 200
            assert_no_acx(r, i)
            assert "origin" in vary_members(r)
            r = preflight(env, "/cred/x%d" % i)
            assert_no_acx(r, i)
        env.error_log.wait_for("GK20005", since=pos)
        time.sleep(0.2)
        lines = [l.text for l in env.error_log.lines_since(pos)
                 if l.tag == "GK20005"]
        assert lines
        for needle in ("GKCORSAllowOrigin *", "GKCORSAllowCredentials On",
                       str(env.test_conf), "combine"):
            for l in lines:
                assert needle in l, (needle, l)
        # with file and line: test.conf:<n> for both directives
        assert len(re.findall(re.escape(str(env.test_conf)) + r":\d+",
                              lines[0])) == 2, lines[0]
        pids = [re.search(r"\[pid (\d+)", l).group(1) for l in lines]
        assert len(pids) == len(set(pids)), lines     # once per process
        # at most one per child: ServerLimit 4, prefork MaxRequestWorkers 24
        assert 1 <= len(lines) <= (24 if env.mpm == "prefork" else 4), lines

    def test_gk_headers_048_02_server_star_elsewhere(self, env):
        r = req(env, "GET", "/other", "https://any.example.net")
        assert_allowed(r, "*", credentials=False,
                       expose="RateLimit, RateLimit-Policy, Retry-After, "
                              "WWW-Authenticate")

    @pytest.mark.parametrize("origin", ["http://localhost:3000",
                                        "http://127.0.0.1:8080",
                                        "http://[::1]:8080"])
    def test_gk_headers_048_03_loopback_with_credentials(self, env, origin):
        r = req(env, "GET", "/lo/x", origin)
        assert_allowed(r, origin, credentials=True,
                       expose="RateLimit, RateLimit-Policy, Retry-After, "
                              "WWW-Authenticate")
        assert_no_acx(req(env, "GET", "/lo/x", "http://localhost:3001"))
        # not as a browser writes it
        for bad in ("http://[0:0:0:0:0:0:0:1]:8080", "http://[::01]:8080",
                    "http://127.0.0.01:8080", "http://[::1]"):
            assert_no_acx(req(env, "GET", "/lo/x", bad), bad)

    def test_gk_headers_048_04_options_star(self, env):
        r = raw_request(env, "OPTIONS * HTTP/1.1",
                        ["Origin: https://a.example",
                         "Access-Control-Request-Method: GET"])
        assert r.status_code in (200, 204, 403), r.status_code
        assert env.is_live()


# ---- refused configurations ---------------------------------------------------

def _loc(body):
    return "<Location /r/>\n%s\n</Location>" % body


REFUSED = [
    ("star-then-credentials",
     "GKCORSAllowOrigin *\nGKCORSAllowCredentials On",
     ["GKCORSAllowCredentials", "GKCORSAllowOrigin *"]),
    ("credentials-then-star",
     "GKCORSAllowCredentials On\nGKCORSAllowOrigin *",
     ["GKCORSAllowOrigin", "GKCORSAllowCredentials On"]),
    ("location-credentials-then-star",
     _loc("GKCORSAllowCredentials On\nGKCORSAllowOrigin *"),
     ["GKCORSAllowOrigin", "GKCORSAllowCredentials On"]),
    ("null", "GKCORSAllowOrigin null", ["GKCORSAllowOrigin", "null"]),
    ("null-in-list", "GKCORSAllowOrigin https://app.example.com null",
     ["GKCORSAllowOrigin", "null"]),
    ("psl-com", "GKCORSAllowOrigin https://*.com",
     ["GKCORSAllowOrigin", "public suffix"]),
    ("psl-co-uk", "GKCORSAllowOrigin https://*.co.uk",
     ["GKCORSAllowOrigin", "public suffix"]),
    ("psl-github-io", _loc("GKCORSAllowOrigin https://*.github.io"),
     ["GKCORSAllowOrigin", "public suffix"]),
    ("plain-http-credentials",
     "GKCORSAllowOrigin http://app.example.com\nGKCORSAllowCredentials On",
     ["GKCORSAllowCredentials", "plain-HTTP"]),
    ("plain-http-credentials-reversed",
     _loc("GKCORSAllowCredentials On\nGKCORSAllowOrigin "
          "http://localhost:3000 http://app.example.com"),
     ["GKCORSAllowOrigin", "plain-HTTP"]),
    ("max-age", "GKCORSMaxAge 86401", ["GKCORSMaxAge", "86401"]),
    ("methods-star-credentials",
     _loc("GKCORSAllowOrigin https://app.example.com\n"
          "GKCORSAllowCredentials On\nGKCORSAllowMethods *"),
     ["GKCORSAllowMethods"]),
    ("headers-star-credentials",
     _loc("GKCORSAllowHeaders *\nGKCORSAllowOrigin https://app.example.com\n"
          "GKCORSAllowCredentials On"),
     ["GKCORSAllowCredentials", "GKCORSAllowHeaders *"]),
    ("expose-star-credentials",
     _loc("GKCORSAllowOrigin https://app.example.com\n"
          "GKCORSAllowCredentials On\nGKCORSExposeHeaders *"),
     ["GKCORSExposeHeaders"]),
    ("not-canonical", "GKCORSAllowOrigin https://App.Example.com:443/",
     ["GKCORSAllowOrigin", "https://app.example.com"]),
    ("path", "GKCORSAllowOrigin https://a.example.com/x",
     ["GKCORSAllowOrigin"]),
    ("non-ascii", "GKCORSAllowOrigin https://b\u00fccher.example",
     ["GKCORSAllowOrigin", "punycode"]),
    ("headers-star-beside-other",
     "GKCORSAllowHeaders * X-Foo", ["GKCORSAllowHeaders"]),
]


@pytest.mark.parametrize("snippet,needles", [(s, n) for _, s, n in REFUSED],
                         ids=[i for i, _, _ in REFUSED])
def test_gk_headers_049_01_refused(env, snippet, needles):
    conf = GkConf(env, gk_modules=("headers",))
    conf.add(snippet)
    conf.install()
    res = env.apache_fail()
    res.assert_refused(*needles)
    if "https://App.Example.com:443/" in snippet:
        # the message shows the canonical form, not only the input
        assert re.search(r"https://app\.example\.com(?![:/.\w])",
                         res.output), res
