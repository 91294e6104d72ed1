"""mod_gk_validate, a smoke test of the whole path (the full suite is in
the other test_validate_*.py files): a valid body reaches a CGI and a
proxied backend byte for byte, framed with a Content-Length, the same as
without validation; each kind of refusal answers as documented and never
reaches the backend; 413 and 415 go out without a 100 Continue."""

import hashlib
import json
import socket
import subprocess
import time

import pytest

from gkhttpd import GkConf
from gkhttpd.check import assert_problem

# Records what a backend receives: the body's length and digest, the CGI's
# CONTENT_LENGTH, and a count in a file (so a refusal can be shown never to
# reach it).
BODY_CGI = r'''#!/usr/bin/python3 -IS
import hashlib, json, os, sys
n = os.environ.get("CONTENT_LENGTH")
data = sys.stdin.buffer.read(int(n)) if n else sys.stdin.buffer.read()
with open(os.path.join(os.path.dirname(__file__), "..", "..", "data",
                       "body-hits"), "a") as f:
    f.write("x")
out = json.dumps({"len": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                  "content_length": n,
                  "te": os.environ.get("HTTP_TRANSFER_ENCODING")}).encode()
sys.stdout.buffer.write(b"Content-Type: application/json\r\n"
                        b"Content-Length: %d\r\n\r\n" % len(out) + out)
'''

SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["username", "password"],
    "properties": {
        "username": {"type": "string", "minLength": 3, "maxLength": 50},
        "password": {"type": "string", "minLength": 12},
    },
}

JSON = {"Content-Type": "application/json"}


@pytest.fixture(autouse=True, scope="module")
def _need_module(env):
    if not env.has_gk_module("validate"):
        pytest.skip("mod_gk_validate not built")


def hits(env):
    p = env.gen_dir / "data" / "body-hits"
    return len(p.read_text()) if p.exists() else 0


def body(user="alice", password="Secret-password-1", **extra):
    d = {"username": user, "password": password}
    d.update(extra)
    return json.dumps(d).encode()


def expect_100(env, path, headers, data, wait=3.0):
    """POST with Expect: 100-continue on a raw socket: the first answer
    (interim or final) and, when it was 100, the final one after the
    body."""
    head = "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" \
           "Expect: 100-continue\r\n" % path
    for k, v in headers.items():
        head += "%s: %s\r\n" % (k, v)
    with socket.create_connection(("127.0.0.1", env.port), timeout=10) as s:
        s.sendall(head.encode() + b"\r\n")
        s.settimeout(wait)
        first = s.recv(65536)
        rest = b""
        if first.startswith(b"HTTP/1.1 100"):
            s.settimeout(10)
            s.sendall(data)
            while True:
                b = s.recv(65536)
                if not b:
                    break
                rest += b
        return first, rest


class TestSmoke:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        schema = env.data_dir / "validate" / "user.schema.json"
        env.write_file(schema, json.dumps(SCHEMA))
        env.write_file(env.cgi_dir / "body.py", BODY_CGI, mode=0o755)
        (env.data_dir).mkdir(parents=True, exist_ok=True)
        backend = "http://127.0.0.1:%d/_backend/" % env.backend_port
        h2 = env.mpm != "prefork"   # mod_http2 needs a threaded MPM
        conf = GkConf(env, extra_modules=("rewrite",) + (("http2",) if h2
                                                          else ()))
        if h2:
            conf.add("Protocols h2c http/1.1")
        conf.add('ScriptAliasMatch "^/(?:.*/)?body$" "%s/body.py"'
                 % env.cgi_dir)
        # internal redirects (mod_rewrite in a section runs in fixups and
        # redirects from the handler): validated here, then redirected;
        # not validated here, redirected into a validated scope
        conf.add_location("/rv/", """
            GKValidateSchema "%s"
            RewriteEngine On
            RewriteRule ^ /n/body [PT]
        """ % schema)
        conf.add_location("/rn/", """
            RewriteEngine On
            RewriteRule ^ /v/body [PT]
        """)
        conf.add_location("/v/", 'GKValidateSchema "%s"' % schema)
        conf.add_location("/v/small/", "GKValidateMaxBody 64")
        conf.add_location("/v/off/", "GKValidateSchema none")
        conf.add_location("/pv/", """
            ProxyPass "%s"
            GKValidateSchema "%s"
            GKValidateMaxBody 200000
        """ % (backend, schema))
        conf.add_location("/pn/", 'ProxyPass "%s"' % backend)
        conf.install()
        env.data_dir.chmod(0o777)
        env.apache_restart()

    def test_gk_validate_900_01_valid_reaches_cgi(self, env):
        b = body()
        r = env.request("/v/body", "POST", headers=JSON, data=b)
        assert r.status_code == 200, r.text
        got = r.json()
        assert got["len"] == len(b)
        assert got["sha256"] == hashlib.sha256(b).hexdigest()
        assert got["content_length"] == str(len(b))

    def test_gk_validate_900_02_chunked_same_bytes_with_length(self, env):
        b = body(note="x" * 40000)
        r = env.request("/v/body", "POST", headers=JSON,
                        data=iter([b[:1000], b[1000:30000], b[30000:]]))
        assert r.status_code == 200, r.text
        got = r.json()
        assert got["sha256"] == hashlib.sha256(b).hexdigest()
        # framed as mod_proxy_http frames a body it read whole
        assert got["content_length"] == str(len(b))

    @pytest.mark.parametrize("chunked", [False, True])
    def test_gk_validate_900_03_proxy_same_as_unvalidated(self, env,
                                                          chunked):
        b = body(note="y" * 20000)
        data = iter([b[:7], b[7:]]) if chunked else b
        r1 = env.request("/pv/body", "POST", headers=JSON, data=data)
        data = iter([b[:7], b[7:]]) if chunked else b
        r2 = env.request("/pn/body", "POST", headers=JSON, data=data)
        assert r1.status_code == r2.status_code == 200, (r1.text, r2.text)
        assert r1.json()["sha256"] == hashlib.sha256(b).hexdigest()
        assert r1.json()["sha256"] == r2.json()["sha256"]
        assert r1.json()["content_length"] == str(len(b))

    def test_gk_validate_900_04_invalid_is_422_never_reaches(self, env):
        before = hits(env)
        r = env.request("/v/body", "POST", headers=JSON,
                        data=body(password="short-pw"))
        p = assert_problem(r, 422)
        assert p["errors"], p
        e = p["errors"][0]
        assert e["instanceLocation"] == "/password"
        assert e["keyword"] == "minLength"
        assert e["keywordLocation"].endswith("/properties/password/minLength")
        assert "short-pw" not in r.text
        assert hits(env) == before

    @pytest.mark.parametrize("data,status,detail", [
        (b'{"username": "alice", "password": ', 400, "byte"),
        (b'{"username": "a", "username": "b"}', 400, "repeats"),
        (b'{"username": "alice", "n": 123456789012345678901234567890}',
         422, "64 bits"),
        (b'[' * 65 + b']' * 65, 400, "64 deep"),
        (b'', 400, "body"),
    ], ids=["malformed", "duplicate", "big-integer", "too-deep", "empty"])
    def test_gk_validate_900_05_bad_json(self, env, data, status, detail):
        before = hits(env)
        r = env.request("/v/body", "POST", headers=JSON, data=data)
        assert_problem(r, status, detail)
        assert hits(env) == before

    @pytest.mark.parametrize("headers", [
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/json; charset=latin1"},
        {"Content-Type": "application/json", "Content-Encoding": "gzip"},
    ], ids=["type", "charset", "encoding"])
    def test_gk_validate_900_06_415(self, env, headers):
        r = env.request("/v/body", "POST", headers=headers, data=body())
        assert_problem(r, 415)

    def test_gk_validate_900_07_413_declared(self, env):
        r = env.request("/v/small/body", "POST", headers=JSON,
                        data=body(note="z" * 100))
        assert_problem(r, 413, "64 bytes")

    def test_gk_validate_900_08_413_chunked(self, env):
        b = body(note="z" * 100)
        r = env.request("/v/small/body", "POST", headers=JSON,
                        data=iter([b[:10], b[10:]]))
        assert_problem(r, 413, "64 bytes")

    def test_gk_validate_900_09_refusals_without_100_continue(self, env):
        for path, hdrs, status in [
                ("/v/small/body", dict(JSON, **{"Content-Length": "100"}),
                 b"413"),
                ("/v/body", {"Content-Type": "text/plain",
                             "Content-Length": "10"}, b"415")]:
            first, _ = expect_100(env, path, hdrs, b"x" * 10)
            assert first.startswith(b"HTTP/1.1 " + status), first[:200]

    def test_gk_validate_900_10_valid_after_100_continue(self, env):
        b = body()
        first, rest = expect_100(
            env, "/v/body", dict(JSON, **{"Content-Length": str(len(b))}), b)
        assert first.startswith(b"HTTP/1.1 100"), first[:200]
        assert b"HTTP/1.1 200" in rest, rest[:300]
        assert hashlib.sha256(b).hexdigest().encode() in rest

    @pytest.mark.parametrize("path", ["/rv/x", "/rn/x"])
    def test_gk_validate_900_12_internal_redirect(self, env, path):
        b = body(note="w" * 30000)
        r = env.request(path, "POST", headers=JSON,
                        data=iter([b[:100], b[100:]]))
        assert r.status_code == 200, r.text
        assert r.json()["sha256"] == hashlib.sha256(b).hexdigest()
        assert r.json()["content_length"] == str(len(b))
        before = hits(env)
        r = env.request(path, "POST", headers=JSON,
                        data=body(password="short"))
        assert_problem(r, 422)
        assert hits(env) == before

    @pytest.mark.parametrize("chunked", [False, True])
    def test_gk_validate_900_14_pipelined_request_after_body(self, env,
                                                             chunked):
        """The body is read to its end and no further: a request
        pipelined behind it is answered."""
        b = body()
        if chunked:
            framed, hdr = b"%x\r\n%s\r\n0\r\n\r\n" % (len(b), b), \
                b"Transfer-Encoding: chunked\r\n"
        else:
            framed, hdr = b, b"Content-Length: %d\r\n" % len(b)
        r = env.raw(b"POST /v/body HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\n" + hdr + b"\r\n"
                    + framed + b"GET /v/body HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Connection: close\r\n\r\n")
        assert r.status_code == 200
        assert hashlib.sha256(b).hexdigest().encode() in r.raw
        # the second answer: the GET's empty body
        assert r.raw.count(b"HTTP/1.1 200 OK") == 2, r.raw[-400:]
        assert hashlib.sha256(b"").hexdigest().encode() in r.raw

    def test_gk_validate_900_11_methods_and_none(self, env):
        r = env.request("/v/body", "DELETE", headers=JSON, data=b"not json")
        assert r.status_code == 200
        r = env.request("/v/off/body", "POST", headers=JSON, data=b"{")
        assert r.status_code == 200

    @pytest.mark.parametrize("data,status", [
        (body(note="h" * 20000), 200), (body(password="short"), 422)],
        ids=["valid", "invalid"])
    def test_gk_validate_900_13_h2c(self, env, data, status):
        """Over h2c the body has no Content-Length (curl sends none with
        a body from stdin): it reaches the CGI with one."""
        if env.mpm == "prefork":
            pytest.skip("mod_http2 needs a threaded MPM")
        p = subprocess.run(
            ["curl", "-s", "--http2-prior-knowledge", "-o", "-", "-w",
             "\n%{http_version} %{http_code}", "-H",
             "Content-Type: application/json", "--data-binary", "@-",
             "-H", "Content-Length:", env.url("/v/body")],
            input=data, capture_output=True, timeout=20)
        out, _, tail = p.stdout.rpartition(b"\n")
        assert tail == b"2 %d" % status, (p.stdout[-300:], p.stderr)
        if status == 200:
            got = json.loads(out)
            assert got["sha256"] == hashlib.sha256(data).hexdigest()
            assert got["content_length"] == str(len(data))


class TestWithLog:
    """With mod_gk_log: the JSON access line carries gk.validate.*, a
    refusal is an audit event without the body, the problem body carries
    the correlation ID."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        if not env.has_gk_module("log"):
            pytest.skip("mod_gk_log not built")
        schema = env.data_dir / "validate" / "user.schema.json"
        env.write_file(schema, json.dumps(SCHEMA))
        env.write_file(env.cgi_dir / "body.py", BODY_CGI, mode=0o755)
        conf = GkConf(env, gk_modules=("validate", "log"))
        conf.add('ScriptAliasMatch "^/(?:.*/)?body$" "%s/body.py"'
                 % env.cgi_dir)
        conf.add('GKLog "%s/access.json"' % env.logs_dir)
        conf.add('GKAuditLog "%s/audit.json"' % env.logs_dir)
        conf.add_location("/v/", 'GKValidateSchema "%s"' % schema)
        conf.install()
        env.data_dir.chmod(0o777)
        env.apache_restart()

    def lines(self, env, name, cid, want=1):
        path = env.logs_dir / name
        end = time.monotonic() + 10
        while True:
            objs = [json.loads(l) for l in path.read_bytes().split(b"\n")
                    if l] if path.exists() else []
            sel = [o for o in objs if o["gk"]["correlation_id"] == cid]
            if len(sel) >= want or time.monotonic() > end:
                assert len(sel) >= want, objs[-3:]
                return sel
            time.sleep(0.05)

    def test_gk_validate_901_01_valid_logged(self, env):
        r = env.request("/v/body", "POST", headers=JSON, data=body())
        assert r.status_code == 200
        cid = r.headers["X-Correlation-ID"]
        o = self.lines(env, "access.json", cid)[0]
        assert o["gk"]["validate"] == {"outcome": "valid", "reason": "ok",
                                       "keyword": None}

    def test_gk_validate_901_02_invalid_logged_and_audited(self, env):
        secret = "pw-short-9"
        r = env.request("/v/body", "POST", headers=JSON,
                        data=body(password=secret))
        p = assert_problem(r, 422)
        cid = r.headers["X-Correlation-ID"]
        assert p["correlation_id"] == cid
        o = self.lines(env, "access.json", cid)[0]
        assert o["gk"]["validate"] == {"outcome": "invalid",
                                       "reason": "invalid_body",
                                       "keyword": "minLength"}
        a = self.lines(env, "audit.json", cid)[0]
        assert a["event"]["action"] == "body-refused"
        assert a["event"]["outcome"] == "failure"
        assert a["event"]["reason"] == "invalid_body"
        for f in ("audit.json", "access.json", "error_log"):
            assert secret not in (env.logs_dir / f).read_text(), f

    def test_gk_validate_901_03_skipped_logged(self, env):
        r = env.request("/v/body", "GET")
        assert r.status_code == 200
        cid = r.headers["X-Correlation-ID"]
        o = self.lines(env, "access.json", cid)[0]
        assert o["gk"]["validate"]["outcome"] == "skipped"
        assert o["gk"]["validate"]["reason"] is None
