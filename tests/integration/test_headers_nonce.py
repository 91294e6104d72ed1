"""mod_gk_headers: GKCSPNonce.

A fresh nonce per request (16 random bytes, base64url) in the CSP's
script-src and style-src, the same value in the CGI environment
(GK_CSP_NONCE) and in the request header proxied backends get (X-CSP-Nonce
or the configured name), where a client-sent copy never survives; an
ErrorDocument internal redirect keeps the request's nonce; a response with
a nonce gets Cache-Control: private unless the handler set caching itself.
"""

import re

import pytest

from gkhttpd import GkConf
from gkhttpd.env import free_port
from gkhttpd.rawbackend import RawBackend
from gk_headers_helpers import CSP, ScriptedBackend, need_headers_module
from gk_log_helpers import header_values, raw_request

NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]{22})'")


@pytest.fixture(autouse=True, scope="module")
def _need_module(env):
    need_headers_module(env)


def nonce_of(r):
    csp = header_values(r, CSP)
    assert len(csp) == 1, csp
    found = set(NONCE.findall(csp[0]))
    assert len(found) == 1, csp
    return found.pop()


def backend_values(head, name):
    want = name.lower().replace("_", "-").encode()
    return [v.decode() for k, v in RawBackend.header_lines(head)
            if k.lower().replace(b"_", b"-") == want]


class TestNonce:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        cls = self.__class__
        cls.raw = RawBackend().start()
        cls.caching = ScriptedBackend(
            [], default=(200, [("Cache-Control", "public, max-age=60")],
                         "c\n")).start()
        cls.named = free_port()
        conf = GkConf(env)
        conf.add("GKSecurityHeaders html")
        conf.add("GKCSPNonce On")
        conf.add('Alias /missing/ "%s/missing/"' % env.htdocs)
        conf.add('Alias /ed/ "%s/missing/"' % env.htdocs)
        conf.add_location("/ed/", "ErrorDocument 404 /errdoc/echo")
        conf.add_location("/raw/", "ProxyPass http://127.0.0.1:%d/"
                          % cls.raw.port)
        conf.add_location("/caching/", "ProxyPass http://127.0.0.1:%d/"
                          % cls.caching.port)
        conf.add_location("/api/", "GKSecurityHeaders api")
        conf.add_location("/own/", """
            GKSecurityHeader Content-Security-Policy "script-src 'none'; img-src data:"
        """)
        conf.add("Listen 127.0.0.1:%d" % cls.named)
        conf.add("""
            <VirtualHost 127.0.0.1:%d>
                GKCSPNonce On X-Page-Nonce
                GKSecurityHeaders off
                <Location /raw/>
                    ProxyPass http://127.0.0.1:%d/
                </Location>
            </VirtualHost>
        """ % (cls.named, cls.raw.port))
        conf.install()
        env.apache_restart()
        yield
        cls.raw.stop()
        cls.caching.stop()

    def test_gk_headers_040_01_in_csp(self, env):
        r = env.get("/x")
        n = nonce_of(r)
        assert header_values(r, CSP) == [
            "default-src 'self'; object-src 'none'; base-uri 'self'; "
            "form-action 'self'; frame-ancestors 'none'; "
            "script-src 'self' 'nonce-%s'; style-src 'self' 'nonce-%s'"
            % (n, n)]
        assert header_values(r, "Cache-Control") == ["private"]

    def test_gk_headers_040_02_fresh(self, env):
        seen = {nonce_of(env.get("/x")) for _ in range(20)}
        assert len(seen) == 20

    def test_gk_headers_040_03_cgi(self, env):
        r = env.get("/n/echo", headers={"X-CSP-Nonce": "evil",
                                         "X_CSP_Nonce": "evil2"})
        n = nonce_of(r)
        body = r.json()
        assert body["env"]["GK_CSP_NONCE"] == n
        assert body["headers"]["x-csp-nonce"] == n

    def test_gk_headers_040_04_backend(self, env):
        r = raw_request(env, "GET /raw/a HTTP/1.1",
                        ["X-CSP-Nonce: evil", "x-csp-nonce: evil2",
                         "X_CSP_NONCE: evil3"])
        n = nonce_of(r)
        assert backend_values(self.raw.last(), "X-CSP-Nonce") == [n]

    def test_gk_headers_040_05_backend_caching_kept(self, env):
        r = env.get("/caching/a")
        nonce_of(r)
        assert header_values(r, "Cache-Control") == ["public, max-age=60"]

    def test_gk_headers_040_06_api(self, env):
        r = env.get("/api/x")
        n = nonce_of(r)
        assert header_values(r, CSP) == [
            "default-src 'none'; frame-ancestors 'none'; "
            "script-src 'nonce-%s'; style-src 'nonce-%s'" % (n, n)]
        # the profile's no-store is stricter than private
        assert header_values(r, "Cache-Control") == ["no-store"]

    def test_gk_headers_040_07_own_policy(self, env):
        r = env.get("/own/x")
        n = nonce_of(r)
        assert header_values(r, CSP) == [
            "script-src 'nonce-%s'; img-src data:" % n]

    def test_gk_headers_040_08_error(self, env):
        r = env.get("/missing/x")
        assert r.status_code == 404
        nonce_of(r)
        assert header_values(r, "Cache-Control") == ["private"]

    def test_gk_headers_040_09_errordocument_same_nonce(self, env):
        r = env.get("/ed/x")
        assert r.status_code == 404
        n = nonce_of(r)
        assert r.json()["env"]["GK_CSP_NONCE"] == n

    def test_gk_headers_040_10_header_name(self, env):
        r = raw_request(env, "GET /raw/b HTTP/1.1",
                        ["X-Page-Nonce: evil", "X-CSP-Nonce: client"],
                        port=self.named)
        head = self.raw.last()
        vals = backend_values(head, "X-Page-Nonce")
        assert len(vals) == 1 and re.fullmatch(r"[A-Za-z0-9_-]{22}", vals[0])
        # the default name is not ours in this virtual host: passes
        assert backend_values(head, "X-CSP-Nonce") == ["client"]
        # no profile there: no CSP, but the page is still private
        assert header_values(r, CSP) == []
        assert header_values(r, "Cache-Control") == ["private"]


class TestNonceOff:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        conf = GkConf(env)
        conf.add("GKSecurityHeaders html")
        conf.install()
        env.apache_restart()

    def test_gk_headers_041_01_off(self, env):
        r = env.get("/n/echo", headers={"X-CSP-Nonce": "client"})
        assert "nonce" not in header_values(r, CSP)[0]
        body = r.json()
        assert "GK_CSP_NONCE" not in body["env"]
        assert body["headers"]["x-csp-nonce"] == "client"
        assert header_values(r, "Cache-Control") == []


BAD = [
    "GKCSPNonce",
    "GKCSPNonce maybe",
    "GKCSPNonce Off X-A",
    'GKCSPNonce On "X Bad"',
    "GKCSPNonce On Cookie",
    "GKCSPNonce On Host",
    "GKCSPNonce On X-A X-B",
    "<Location /x>\nGKCSPNonce On\n</Location>",
]


class TestNonceRefused:

    @pytest.mark.parametrize("line", BAD, ids=[str(i) for i in
                                               range(len(BAD))])
    def test_gk_headers_049_01_refused(self, env, line):
        conf = GkConf(env)
        conf.add(line)
        conf.install()
        env.apache_fail().assert_refused("GKCSPNonce")
