"""mod_gk_headers: GKRequireHTTPS.

Plain-HTTP requests are redirected to HTTPS: 301 for GET and HEAD, 308
for other methods (or the configured status and its method-preserving
twin), to the configured host or the virtual host's ServerName (never the
request's Host), with the path and query byte for byte, also for an
absolute-form target. /.well-known/acme-challenge/ and except= prefixes
are served; CORS preflights are never redirected; a trusted proxy's
X-Forwarded-Proto: https means no redirect (no loop), an untrusted
client's does not. The redirect carries the security headers and no HSTS.
"""

import pytest

from gkhttpd import GkConf
from gkhttpd.env import free_port
from gk_headers_helpers import assert_profile, need_headers_module
from gk_log_helpers import header_values, raw_request

from test_headers_https import CERT, https_get, make_cert


@pytest.fixture(autouse=True, scope="module")
def _need_module(env):
    need_headers_module(env)


class TestRequire:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        cls = self.__class__
        key, cert = make_cert(env)
        CERT["path"] = cert
        cls.canon, cls.other, cls.trusting, cls.tls = (
            free_port(), free_port(), free_port(), free_port())
        conf = GkConf(env, extra_modules=["ssl"])
        conf.add("GKHSTS max-age=600")
        for p in (cls.canon, cls.other, cls.trusting, cls.tls):
            conf.add("Listen 127.0.0.1:%d" % p)
        conf.add("""
            <VirtualHost 127.0.0.1:%d>
                ServerName canon.example
                GKSecurityHeaders api
                GKRequireHTTPS On except=/health /status/
            </VirtualHost>
            <VirtualHost 127.0.0.1:%d>
                ServerName other.example
                GKRequireHTTPS On host=www.example:8443 status=302
            </VirtualHost>
            <VirtualHost 127.0.0.1:%d>
                ServerName proxied.example
                GKRequireHTTPS On
                GKTrustedProxies 127.0.0.1
            </VirtualHost>
            <VirtualHost 127.0.0.1:%d>
                ServerName localhost
                SSLEngine on
                SSLCertificateFile "%s"
                SSLCertificateKeyFile "%s"
                GKRequireHTTPS On
            </VirtualHost>
        """ % (cls.canon, cls.other, cls.trusting, cls.tls, cert, key))
        conf.install()
        env.error_log.allow(tags=["AH01909", "AH02572", "AH01906", "AH01873",
                                  "AH01882"])
        env.apache_restart()

    def req(self, env, target, method="GET", host="evil.example", port=None,
            headers=()):
        return raw_request(env, "%s %s HTTP/1.1" % (method, target),
                           list(headers), host=host,
                           port=port or self.canon)

    # -- status per method
    @pytest.mark.parametrize("method,status", [
        ("GET", 301), ("HEAD", 301), ("POST", 308), ("PUT", 308),
        ("DELETE", 308), ("PATCH", 308), ("OPTIONS", 308)])
    def test_gk_headers_030_01_status(self, env, method, status):
        hdrs = ["Content-Length: 0"] if method in ("POST", "PUT",
                                                   "PATCH") else []
        r = self.req(env, "/a/b", method=method, headers=hdrs)
        assert r.status_code == status
        assert header_values(r, "Location") == ["https://canon.example/a/b"]

    @pytest.mark.parametrize("method,status", [
        ("GET", 302), ("HEAD", 302), ("POST", 307)])
    def test_gk_headers_030_02_configured_status(self, env, method, status):
        r = self.req(env, "/x?q=1", method=method, port=self.other,
                     headers=["Content-Length: 0"] if method == "POST"
                     else [])
        assert r.status_code == status
        assert header_values(r, "Location") == [
            "https://www.example:8443/x?q=1"]

    # -- the target, byte for byte; the canonical host
    @pytest.mark.parametrize("target", [
        "/", "/a/c%20d", "/p?", "/p?x=%20&y=/?z&z=%zz",
        "/p?a=1;b=2&c=%C3%A9&d=a%2Fb", "//double//slash",
        "/a/../b?q=..%2F", "/a/./b", "/%7Euser/index.html?utm=a%26b",
        "/caf%C3%A9/%41"])
    def test_gk_headers_031_01_target_kept(self, env, target):
        r = self.req(env, target)
        assert r.status_code == 301
        assert header_values(r, "Location") == [
            "https://canon.example" + target]

    @pytest.mark.parametrize("target,want", [
        ("http://evil.example/abs//p?q=%41", "/abs//p?q=%41"),
        ("http://evil.example:8080/%7Ex", "/%7Ex"),
        ("http://canon.example?q=1", "/?q=1"),
        ("http://canon.example", "/")])
    def test_gk_headers_031_02_absolute_form(self, env, target, want):
        r = self.req(env, target)
        assert r.status_code == 301
        assert header_values(r, "Location") == ["https://canon.example"
                                                + want]

    @pytest.mark.parametrize("host", [
        "evil.example", "canon.example.evil.example", "127.0.0.1",
        "canon.example:80"])
    def test_gk_headers_031_03_host_ignored(self, env, host):
        r = self.req(env, "/x", host=host)
        assert header_values(r, "Location") == ["https://canon.example/x"]

    # -- what is not redirected
    @pytest.mark.parametrize("path", [
        "/.well-known/acme-challenge/tok-123", "/health", "/healthz",
        "/status/x"])
    def test_gk_headers_032_01_exempt(self, env, path):
        r = self.req(env, path)
        assert r.status_code == 200, path

    def test_gk_headers_032_02_not_exempt(self, env):
        for path in ("/.well-known/other", "/status", "/x/health"):
            assert self.req(env, path).status_code == 301, path

    def test_gk_headers_032_03_preflight(self, env):
        r = self.req(env, "/api/x", method="OPTIONS",
                     headers=["Origin: https://app.example",
                              "Access-Control-Request-Method: PUT"])
        assert r.status_code == 200
        assert header_values(r, "Location") == []

    def test_gk_headers_032_04_trusted_proxy_https(self, env):
        r = self.req(env, "/x", port=self.trusting,
                     headers=["X-Forwarded-Proto: https"])
        assert r.status_code == 200
        # and HSTS, since the client's connection is secure
        assert header_values(r, "Strict-Transport-Security") == [
            "max-age=600"]
        r = self.req(env, "/x", port=self.trusting,
                     headers=["Forwarded: for=192.0.2.7;proto=https"])
        assert r.status_code == 200
        r = self.req(env, "/x", port=self.trusting,
                     headers=["X-Forwarded-Proto: http"])
        assert r.status_code == 301
        assert header_values(r, "Location") == ["https://proxied.example/x"]

    def test_gk_headers_032_05_untrusted_claim(self, env):
        for h in ("X-Forwarded-Proto: https", "Forwarded: proto=https"):
            r = self.req(env, "/x", headers=[h])
            assert r.status_code == 301, h

    def test_gk_headers_032_06_tls_not_redirected(self, env):
        r = https_get(self.tls, "/x")
        assert r.status_code == 200
        assert header_values(r, "Strict-Transport-Security") == [
            "max-age=600"]

    # -- the redirect itself
    def test_gk_headers_033_01_headers_on_redirect(self, env):
        r = self.req(env, "/x")
        assert r.status_code == 301
        assert_profile(r, "api")
        assert header_values(r, "Strict-Transport-Security") == []

    def test_gk_headers_033_02_post_with_body(self, env):
        # the body is discarded by httpd's error path; the method is kept
        r = env.raw(b"POST /upload?a=1 HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Length: 5\r\nConnection: close\r\n\r\n"
                    b"hello", port=self.canon)
        assert r.status_code == 308
        assert header_values(r, "Location") == [
            "https://canon.example/upload?a=1"]


BAD = [
    "GKRequireHTTPS",
    "GKRequireHTTPS maybe",
    "GKRequireHTTPS Off host=a.example",
    "GKRequireHTTPS On status=303",
    "GKRequireHTTPS On status=301 status=308",
    "GKRequireHTTPS On host=",
    "GKRequireHTTPS On host=bad/host",
    "GKRequireHTTPS On host=a.example:0",
    "GKRequireHTTPS On host=a.example:70000",
    "GKRequireHTTPS On host=a.example host=b.example",
    "GKRequireHTTPS On except=relative",
    "GKRequireHTTPS On bogus=1",
    "<Location /x>\nGKRequireHTTPS On\n</Location>",
]


class TestRequireRefused:

    @pytest.mark.parametrize("line", BAD, ids=[str(i) for i in
                                               range(len(BAD))])
    def test_gk_headers_039_01_refused(self, env, line):
        conf = GkConf(env)
        conf.add(line)
        conf.install()
        env.apache_fail().assert_refused("GKRequireHTTPS")

    def test_gk_headers_039_02_accepted(self, env):
        conf = GkConf(env)
        conf.add("GKRequireHTTPS On host=[2001:db8::1]:8443 status=307 "
                 "except=/a /b/ except=/c")
        conf.add("<VirtualHost 127.0.0.1:%d>\nGKRequireHTTPS off\n"
                 "</VirtualHost>" % free_port())
        conf.install()
        rc, out = env.apache_test_config()
        assert rc == 0, out
