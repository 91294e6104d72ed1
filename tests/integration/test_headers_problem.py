"""mod_gk_headers: GKProblemJSON.

httpd's own 4xx/5xx and a backend's or CGI's 5xx get an RFC 9457
problem+json body (nothing of the original: no stack trace), with the
correlation ID when mod_gk_log is loaded; a backend's 4xx passes; an error
another Gatekeeper module answered keeps its own body; ErrorDocument wins;
HEAD gets no body; 3xx and 304 are untouched; WWW-Authenticate,
Retry-After and Allow survive; Content-Length is the new body's, also for
a streamed CGI body. mod_proxy with ProxyErrorOverride On 500-599 works
the same.
"""

import gzip
import json

import pytest

from gkhttpd import GkConf
from gkhttpd.check import assert_problem
from gk_headers_helpers import (ScriptedBackend, assert_profile,
                                install_hdrs_cgi, need_headers_module)
from gk_log_helpers import header_values, raw_request

SECRET = "password authentication failed"
STACK = ("Traceback (most recent call last):\n  File \"/srv/app/db.py\", "
         "line 42\npsycopg2.OperationalError: %s for user \"app\"\n"
         % SECRET)

STREAM_CGI = """#!/usr/bin/python3
import sys
sys.stdout.write("Status: 500 Internal\\r\\nContent-Type: text/html\\r\\n\\r\\n")
sys.stdout.flush()
for i in range(200):
    sys.stdout.write("<p>%d stack frame: {SECRET}</p>\\n" % i * 20)
    sys.stdout.flush()
""".replace("{SECRET}", SECRET)


@pytest.fixture(autouse=True, scope="module")
def _need_module(env):
    need_headers_module(env)


def routes():
    return [
        ("/err", (500, [("Content-Type", "text/plain"),
                        ("X-Powered-By", "Express")], STACK)),
        ("/gz", (500, [("Content-Type", "text/plain"),
                       ("Content-Encoding", "gzip")],
                 gzip.compress(STACK.encode()))),
        ("/busy", (503, [("Retry-After", "120"),
                         ("Content-Type", "text/html")], STACK)),
        ("/nf", (404, [("Content-Type", "application/json")],
                 '{"error":"no such order"}')),
        ("/teapot", (418, [("Content-Type", "text/plain")], "short\n")),
        ("/pj", (500, [("Content-Type", "application/problem+json")],
                 '{"title":"x","detail":"%s"}' % SECRET)),
    ]


def no_secret(r):
    assert SECRET not in r.text and "Traceback" not in r.text


def one_length(r):
    assert header_values(r, "Content-Length") == [str(len(r.content))]


class TestProblem:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        cls = self.__class__
        cls.backend = ScriptedBackend(routes()).start()
        cls.cgi = install_hdrs_cgi(env)
        env.write_file(env.cgi_dir / "stream.py", STREAM_CGI, mode=0o755)
        cls.mods = tuple(m for m in ("log", "auth", "headers")
                         if env.has_gk_module(m))
        conf = GkConf(env, gk_modules=cls.mods,
                      extra_modules=["auth_basic", "authn_file"])
        conf.add("GKSecurityHeaders api")
        conf.add("GKProblemJSON On")
        conf.add("TraceEnable off")
        conf.add("LimitRequestBody 10")
        conf.add('Alias /missing/ "%s/missing/"' % env.htdocs)
        conf.add('Alias /ed/ "%s/missing/"' % env.htdocs)
        conf.add('Alias /edtext/ "%s/missing/"' % env.htdocs)
        conf.add_location("/ed/", "ErrorDocument 404 /errdoc/echo")
        conf.add_location("/edtext/", 'ErrorDocument 404 "gone away"')
        conf.add('ScriptAlias /cgi/hdrs "%s"' % cls.cgi)
        conf.add('ScriptAlias /cgi/stream "%s/stream.py"' % env.cgi_dir)
        conf.add("Redirect 302 /moved http://127.0.0.1/elsewhere")
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
        conf.add_location("/ov/", """
            ProxyPass http://127.0.0.1:%d/
            ProxyErrorOverride On 500-599
        """ % cls.backend.port)
        conf.add_location("/down/", "ProxyPass http://127.0.0.1:1/")
        if "auth" in cls.mods:
            conf.add("GKAuthKey RS256 %s" % keys["rsa2048"].pub_path)
            conf.add_location("/tok/", """
                AuthType gk-bearer
                Require gk-role admin
            """)
        conf.install()
        env.error_log.allow(tags=["AH00957", "AH01114", "AH00959",
                                  "AH01630", "AH01618", "AH01617",
                                  "AH01215", "AH02429", "AH01270",
                                  "AH01225"])
        env.error_log.allow(regex=r"stack frame|Traceback|AH0121[0-9]")
        env.apache_restart()
        yield
        cls.backend.stop()

    def cid(self, r, body):
        if "log" in self.mods:
            assert body["correlation_id"] == r.headers["X-Correlation-ID"]
        else:
            assert "correlation_id" not in body

    # -- httpd's own errors
    @pytest.mark.parametrize("path,method,status", [
        ("/missing/x", "GET", 404), ("/denied", "GET", 403),
        ("/file.txt", "TRACE", 405), ("/down/x", "GET", 503)],
        ids=["404", "403", "405", "503"])
    def test_gk_headers_050_01_httpd_errors(self, env, path, method, status):
        r = env.request(path, method=method)
        if status == 503 and r.status_code == 502:
            status = 502
        body = assert_problem(r, status)
        assert list(body)[:3] == ["type", "title", "status"]
        self.cid(r, body)
        one_length(r)
        assert_profile(r, "api", skip=("Cache-Control",))

    def test_gk_headers_050_02_allow_kept(self, env):
        r = env.request("/file.txt", method="TRACE")
        assert r.status_code == 405
        assert "Allow" in r.headers

    def test_gk_headers_050_03_401_challenge_kept(self, env):
        r = env.get("/basic")
        assert_problem(r, 401)
        assert r.headers["WWW-Authenticate"].startswith("Basic")

    def test_gk_headers_050_04_413(self, env):
        r = env.request("/cgi/hdrs", method="POST", data=b"x" * 100)
        assert_problem(r, 413)

    def test_gk_headers_050_05_early_400(self, env):
        r = raw_request(env, "GET /x HTTP/1.1", ["no colon"])
        assert r.status_code == 400
        assert r.headers["Content-Type"] == "application/problem+json"
        assert json.loads(r.text)["status"] == 400

    def test_gk_headers_050_06_head(self, env):
        r = env.request("/missing/x", method="HEAD")
        assert r.status_code == 404
        assert r.headers["Content-Type"] == "application/problem+json"
        assert r.content == b""

    def test_gk_headers_050_07_redirect_and_304_untouched(self, env):
        r = env.get("/moved")
        assert r.status_code == 302
        assert r.headers["Content-Type"].startswith("text/html")
        etag = env.get("/file.txt").headers["ETag"]
        r = env.get("/file.txt", headers={"If-None-Match": etag})
        assert r.status_code == 304 and r.content == b""

    def test_gk_headers_050_08_errordocument_wins(self, env):
        r = env.get("/edtext/x")
        assert r.status_code == 404 and "gone away" in r.text
        r = env.get("/ed/x")
        assert r.status_code == 404
        assert r.headers["Content-Type"].startswith("application/json")
        assert "env" in r.json()

    # -- backends and CGI
    def test_gk_headers_051_01_backend_500(self, env):
        r = env.get("/px/err")
        body = assert_problem(r, 500)
        no_secret(r)
        one_length(r)
        self.cid(r, body)
        assert header_values(r, "X-Powered-By") == []

    def test_gk_headers_051_02_backend_gzip_500(self, env):
        r = env.get("/px/gz", headers={"Accept-Encoding": "gzip"})
        assert_problem(r, 500)
        assert "Content-Encoding" not in r.headers
        one_length(r)

    def test_gk_headers_051_03_retry_after_kept(self, env):
        r = env.get("/px/busy")
        assert_problem(r, 503)
        assert r.headers["Retry-After"] == "120"
        no_secret(r)

    def test_gk_headers_051_04_backend_4xx_passes(self, env):
        r = env.get("/px/nf")
        assert r.status_code == 404
        assert r.json() == {"error": "no such order"}
        r = env.get("/px/teapot")
        assert r.status_code == 418 and r.text == "short\n"

    def test_gk_headers_051_05_backend_problem_500_replaced(self, env):
        r = env.get("/px/pj")
        assert_problem(r, 500)
        no_secret(r)

    def test_gk_headers_051_06_proxy_error_override(self, env):
        for path, status in (("/ov/err", 500), ("/ov/busy", 503)):
            r = env.get(path)
            assert_problem(r, status)
            no_secret(r)
            one_length(r)
        # 4xx still the backend's
        assert env.get("/ov/nf").json() == {"error": "no such order"}

    def test_gk_headers_051_07_cgi_500(self, env):
        r = env.get("/cgi/hdrs?fail")
        assert_problem(r, 500)
        no_secret(r)
        one_length(r)

    def test_gk_headers_051_08_cgi_streamed_500(self, env):
        r = env.get("/cgi/stream")
        assert_problem(r, 500)
        no_secret(r)
        one_length(r)

    def test_gk_headers_051_09_success_untouched(self, env):
        r = env.get("/px/ok")
        assert r.status_code == 200 and r.text == "ok\n"

    # -- other Gatekeeper modules' answers
    def test_gk_headers_052_01_auth_problem_kept(self, env):
        if "auth" not in self.mods:
            pytest.skip("mod_gk_auth not built")
        r = env.get("/tok/x")
        assert_problem(r, 401, detail="Authentication required")
        assert r.headers["WWW-Authenticate"].startswith("Bearer")


class TestProblemOff:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        conf = GkConf(env)
        conf.add("GKSecurityHeaders api")
        conf.add('Alias /missing/ "%s/missing/"' % env.htdocs)
        conf.install()
        env.apache_restart()

    def test_gk_headers_053_01_off(self, env):
        r = env.get("/missing/x")
        assert r.status_code == 404
        assert r.headers["Content-Type"].startswith("text/html")


BAD = ["GKProblemJSON maybe", "GKProblemJSON",
       "<Location /x>\nGKProblemJSON On\n</Location>"]


class TestProblemRefused:

    @pytest.mark.parametrize("line", BAD, ids=[str(i) for i in
                                               range(len(BAD))])
    def test_gk_headers_059_01_refused(self, env, line):
        conf = GkConf(env)
        conf.add(line)
        conf.install()
        env.apache_fail().assert_refused("GKProblemJSON")
