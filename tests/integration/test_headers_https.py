"""mod_gk_headers: GKHSTS and GKTrustedProxies.

Strict-Transport-Security goes out exactly once on every response of a
secure connection (TLS to httpd, made with a throw-away self-signed
certificate; or a trusted proxy's X-Forwarded-Proto / Forwarded
proto=https), httpd's own redirects and errors included, and never over
plain HTTP: not ours, not a backend's, not when an untrusted client claims
X-Forwarded-Proto: https. preload is refused without a year and
includeSubDomains.
"""

import socket
import ssl
import subprocess

import pytest
import requests

from gkhttpd import GkConf
from gkhttpd.env import RawResponse, free_port
from gk_headers_helpers import (ScriptedBackend, assert_profile,
                                need_headers_module)
from gk_log_helpers import header_values

HSTS = "Strict-Transport-Security"
OURS = "max-age=63072000; includeSubDomains"


@pytest.fixture(autouse=True, scope="module")
def _need_module(env):
    need_headers_module(env)


def make_cert(env):
    d = env.conf_dir / "h8tls"
    d.mkdir(parents=True, exist_ok=True)
    key, cert = d / "key.pem", d / "cert.pem"
    if not cert.exists():
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", str(key), "-out", str(cert),
                        "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "basicConstraints=critical,CA:FALSE",
                        "-addext",
                        "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                       check=True, capture_output=True)
    return key, cert


CERT = {}


def https_get(port, path, **kw):
    # the test's own certificate is the one trusted
    return requests.get("https://127.0.0.1:%d%s" % (port, path),
                        verify=str(CERT["path"]), allow_redirects=False, timeout=20,
                        headers={"Connection": "close"}, **kw)


def tls_raw(port, data):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            t.sendall(data)
            out = b""
            while True:
                try:
                    b = t.recv(65536)
                except (ConnectionResetError, ssl.SSLError):
                    break
                if not b:
                    break
                out += b
    return RawResponse(out)


class TestHSTS:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        cls = self.__class__
        cls.backend = ScriptedBackend(
            [("/err", (500, [(HSTS, "max-age=1"),
                             ("X-Frame-Options", "SAMEORIGIN")],
                       "Traceback: secret\n"))],
            default=(200, [(HSTS, "max-age=1"), (HSTS, "max-age=2")],
                     "b\n")).start()
        key, cert = make_cert(env)
        CERT["path"] = cert
        cls.tls = free_port()
        cls.trusting = free_port()
        conf = GkConf(env, extra_modules=["ssl"])
        conf.add("GKSecurityHeaders api")
        conf.add("GKHSTS max-age=63072000 includeSubDomains")
        conf.add('Alias /missing/ "%s/missing/"' % env.htdocs)
        conf.add("Redirect 302 /moved http://127.0.0.1/elsewhere")
        conf.add_location("/px/", "ProxyPass http://127.0.0.1:%d/"
                          % cls.backend.port)
        conf.add_location("/noprofile/", "GKSecurityHeaders off")
        conf.add("Listen 127.0.0.1:%d" % cls.tls)
        conf.add("Listen 127.0.0.1:%d" % cls.trusting)
        conf.add("""
            <VirtualHost 127.0.0.1:%d>
                ServerName localhost
                SSLEngine on
                SSLCertificateFile "%s"
                SSLCertificateKeyFile "%s"
            </VirtualHost>
            <VirtualHost 127.0.0.1:%d>
                ServerName proxied
                GKTrustedProxies 127.0.0.0/8
            </VirtualHost>
        """ % (cls.tls, cert, key, cls.trusting))
        conf.install()
        # a self-signed certificate, no session cache, Debian's OpenSSL
        env.error_log.allow(tags=["AH01909", "AH02572", "AH01906", "AH01873",
                                  "AH01882"])
        env.apache_restart()
        yield
        cls.backend.stop()

    # -- over TLS: once, ours, everywhere
    @pytest.mark.parametrize("path,status", [
        ("/file.txt", 200), ("/missing/x", 404), ("/moved", 302),
        ("/px/a", 200), ("/px/err", 500)])
    def test_gk_headers_020_01_tls(self, env, path, status):
        r = https_get(self.tls, path)
        assert r.status_code == status
        assert header_values(r, HSTS) == [OURS]
        assert_profile(r, "api")

    def test_gk_headers_020_02_tls_no_profile(self, env):
        r = https_get(self.tls, "/noprofile/x")
        assert header_values(r, HSTS) == [OURS]
        assert header_values(r, "X-Frame-Options") == []

    def test_gk_headers_020_03_tls_early_400(self, env):
        r = tls_raw(self.tls, b"GET /x HTTP/1.1\r\nHost: localhost\r\n"
                    b"no colon\r\n\r\n")
        assert r.status_code == 400
        assert header_values(r, HSTS) == [OURS]

    # -- plain HTTP: never
    @pytest.mark.parametrize("path,status", [
        ("/file.txt", 200), ("/missing/x", 404), ("/moved", 302),
        ("/px/a", 200), ("/px/err", 500), ("/noprofile/x", 200)])
    def test_gk_headers_021_01_plain(self, env, path, status):
        r = env.get(path)
        assert r.status_code == status
        assert header_values(r, HSTS) == []

    @pytest.mark.parametrize("hdrs", [
        {"X-Forwarded-Proto": "https"},
        {"Forwarded": "for=192.0.2.1;proto=https"},
        {"X-Forwarded-Proto": "https", "Forwarded": "proto=https"}],
        ids=["xfp", "forwarded", "both"])
    def test_gk_headers_021_02_untrusted_claim(self, env, hdrs):
        r = env.get("/px/a", headers=hdrs)
        assert header_values(r, HSTS) == []

    # -- a trusted proxy's word
    @pytest.mark.parametrize("hdrs,want", [
        ({"X-Forwarded-Proto": "https"}, [OURS]),
        ({"X-Forwarded-Proto": "HTTPS"}, [OURS]),
        ({"Forwarded": "for=192.0.2.1;proto=https"}, [OURS]),
        ({"X-Forwarded-Proto": "http"}, []),
        ({}, []),
        ({"X-Forwarded-Proto": "https", "Forwarded": "proto=http"}, []),
        ({"X-Forwarded-Proto": "https, http"}, []),
        ({"X-Forwarded-Proto": "http, https"}, [OURS])],
        ids=["xfp", "xfp-upper", "forwarded", "xfp-http", "none",
             "forwarded-wins", "last-http", "last-https"])
    def test_gk_headers_022_01_trusted(self, env, hdrs, want):
        for path in ("/px/a", "/missing/x"):
            r = env.get(path, port=self.trusting, headers=hdrs)
            assert header_values(r, HSTS) == want, path


BAD = [
    "GKHSTS",
    "GKHSTS includeSubDomains",
    "GKHSTS max-age=abc",
    "GKHSTS max-age=315360001",
    "GKHSTS max-age=600 includeSubdomain",
    "GKHSTS max-age=600 max-age=6",
    "GKHSTS max-age=31536000 preload",
    "GKHSTS max-age=600 includeSubDomains preload",
    "<Location /x>\nGKHSTS max-age=600\n</Location>",
    "GKTrustedProxies",
    "GKTrustedProxies 10.0.0.0/33",
    "GKTrustedProxies example.com",
    "<Location /x>\nGKTrustedProxies all\n</Location>",
]


class TestRefused:

    @pytest.mark.parametrize("line", BAD, ids=[str(i) for i in
                                               range(len(BAD))])
    def test_gk_headers_029_01_refused(self, env, line):
        conf = GkConf(env)
        conf.add(line)
        conf.install()
        directive = line.split("\n")[-2 if "<" in line else 0].split()[0]
        env.apache_fail().assert_refused(directive)

    def test_gk_headers_029_02_accepted(self, env):
        conf = GkConf(env)
        conf.add("GKHSTS max-age=31536000 includeSubDomains preload")
        conf.add("GKTrustedProxies 10.0.0.0/8 2001:db8::/32")
        conf.add("<VirtualHost 127.0.0.1:%d>\nGKHSTS off\n"
                 "</VirtualHost>" % free_port())
        conf.install()
        rc, out = env.apache_test_config()
        assert rc == 0, out
