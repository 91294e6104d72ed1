"""Helpers of the mod_gk_validate tests (test_validate_*.py): a CGI and a
proxied backend that record exactly what they receive, raw HTTP/1.1
requests whose framing the test controls (Content-Length or chunked,
Expect: 100-continue), the test schemas and bodies, h2c through curl.

What reaches a handler is compared byte for byte with what was sent, and
with what the same request delivers through a location where validation
is off (GKValidateSchema none).
"""

import base64
import hashlib
import json
import os
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from gkhttpd import GkConf
from gkhttpd.env import _dechunk
from gkhttpd.rawbackend import RawBackend

MARK = "X-Mark"
JSON = "application/json"

# ---- the recording CGI -------------------------------------------------------

# Reads the whole body (CONTENT_LENGTH bytes, or up to EOF when the request
# came chunked and httpd gave no length), appends one JSON line to the
# record file and answers the same JSON.
RECORD_CGI = r'''#!/usr/bin/python3 -IS
import base64, hashlib, json, os, sys
cl = os.environ.get("CONTENT_LENGTH")
data = sys.stdin.buffer.read(int(cl)) if cl else sys.stdin.buffer.read()
headers = {k[5:].replace("_", "-").lower(): v
           for k, v in os.environ.items() if k.startswith("HTTP_")}
rec = {"method": os.environ.get("REQUEST_METHOD"),
       "uri": os.environ.get("REQUEST_URI"),
       "content_length": cl,
       "content_type": os.environ.get("CONTENT_TYPE"),
       "headers": headers,
       "gk": {k: v for k, v in os.environ.items() if k.startswith("GK_")},
       "len": len(data),
       "sha256": hashlib.sha256(data).hexdigest(),
       "body_b64": base64.b64encode(data).decode()}
line = json.dumps(rec, sort_keys=True)
with open(%(path)r, "a") as f:
    f.write(line + "\n")
out = line.encode()
sys.stdout.buffer.write(b"Content-Type: application/json\r\n"
                        b"Content-Length: %%d\r\n\r\n" %% len(out) + out)
'''


def record_dir(env):
    d = env.gen_dir / "validate-records"
    d.mkdir(parents=True, exist_ok=True)
    d.chmod(0o777)      # the CGI runs as www-data
    return d


def install_record_cgi(env, name="record.py", directory=None):
    """The recording CGI at <directory or cgi_dir>/<name>; returns (script
    path, record file).  Map it with ScriptAliasMatch (record_alias)."""
    rec = record_dir(env) / (Path(name).stem + ".jsonl")
    rec.write_text("")
    rec.chmod(0o666)
    d = Path(directory) if directory else env.cgi_dir
    d.mkdir(parents=True, exist_ok=True)
    d.chmod(0o755)
    p = env.write_file(d / name, RECORD_CGI % {"path": str(rec)}, mode=0o755)
    return p, rec


def record_conf(env, cls, *names, **kw):
    """The usual start of a class's config: the modules named (validate
    first) loaded, the recording CGI installed and mapped at .../record,
    its record file in cls.rec.  kw go to GkConf."""
    need(env, *names)
    script, cls.rec = install_record_cgi(env)
    conf = GkConf(env, gk_modules=names, **kw)
    conf.add(record_alias(script))
    return conf


def record_alias(script, prefix=""):
    """ScriptAliasMatch of .../record (under prefix) to script."""
    return 'ScriptAliasMatch "^%s/(?:.*/)?record$" "%s"' % (prefix, script)


def records(path, mark=None):
    """The CGI's records (dicts), those carrying X-Mark: mark if given."""
    out = []
    for l in Path(path).read_text().splitlines():
        if not l.strip():
            continue
        o = json.loads(l)
        if mark is None or o["headers"].get(MARK.lower()) == mark:
            o["body"] = base64.b64decode(o["body_b64"])
            out.append(o)
    return out


def marker():
    return uuid.uuid4().hex


# ---- a proxied backend that records heads and bodies -------------------------

class BodyBackend(RawBackend):
    """An HTTP/1.1 backend on 127.0.0.1 (ProxyPass to it) that records every
    request as it arrived: the head's bytes, the framing (content-length or
    chunked) and the body's bytes (de-chunked); answers 200 "ok", after an
    interim 100 Continue when the request expects one.  RawBackend's
    listener, with a handler that keeps the bodies (self.requests holds
    dicts); started when made."""

    def __init__(self):
        super().__init__()
        self.start()

    def by_mark(self, mark):
        with self._lock:
            return [r for r in self.requests
                    if r["headers"].get(MARK.lower()) == mark]

    @staticmethod
    def _fill(conn, buf, n):
        while len(buf) < n:
            chunk = conn.recv(65536)
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    @staticmethod
    def _line(conn, buf, end=b"\r\n"):
        """(what comes before end, what follows) once end has arrived."""
        while end not in buf:
            chunk = conn.recv(65536)
            if not chunk:
                raise EOFError
            buf += chunk
        line, _, rest = buf.partition(end)
        return line, rest

    def _handle(self, conn):
        conn.settimeout(20)
        buf = b""
        try:
            while True:
                head, buf = self._line(conn, buf, b"\r\n\r\n")
                lines = head.split(b"\r\n")
                hdrs = {}
                for l in lines[1:]:
                    k, _, v = l.partition(b":")
                    hdrs.setdefault(k.strip().lower().decode("latin-1"),
                                    []).append(v.strip().decode("latin-1"))
                if "100-continue" in ",".join(hdrs.get("expect",
                                                        [])).lower():
                    # mod_proxy_http forwards the expectation (and waits)
                    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                te = ",".join(hdrs.get("transfer-encoding", [])).lower()
                if "chunked" in te:
                    framing, body = "chunked", b""
                    while True:
                        line, buf = self._line(conn, buf)
                        size = int(line.split(b";")[0], 16)
                        if size == 0:
                            # trailers up to the empty line
                            while True:
                                line, buf = self._line(conn, buf)
                                if not line:
                                    break
                            break
                        buf = self._fill(conn, buf, size + 2)
                        body += buf[:size]
                        buf = buf[size + 2:]
                else:
                    n = int(hdrs.get("content-length", ["0"])[0])
                    framing = "content-length" if "content-length" in hdrs \
                        else "none"
                    buf = self._fill(conn, buf, n)
                    body, buf = buf[:n], buf[n:]
                with self._lock:
                    self.requests.append({
                        "head": head,
                        "request_line": lines[0].decode("latin-1"),
                        "headers": {k: ", ".join(v) for k, v in hdrs.items()},
                        "framing": framing, "body": body})
                out = b"ok\n"
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain"
                             b"\r\nContent-Length: %d\r\n\r\n" % len(out)
                             + out)
        except (OSError, EOFError, ValueError):
            return
        finally:
            conn.close()


# ---- raw HTTP/1.1 requests ----------------------------------------------------

class RawAnswer:
    """A response read from a socket: interim (1xx) responses apart."""

    def __init__(self, data, sent_body):
        self.raw = data
        self.sent_body = sent_body       # False: the body was never sent
        self.interim = []
        rest = data
        while rest.startswith(b"HTTP/1.1 1"):
            head, _, rest = rest.partition(b"\r\n\r\n")
            self.interim.append(head.split(b"\r\n")[0].decode("latin-1"))
        head, _, body = rest.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        self.status_line = lines[0]
        self.status_code = int(parts[1]) if len(parts) > 1 and \
            parts[1].isdigit() else 0
        self.header_list = []
        self.headers = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            self.header_list.append((k.strip(), v.strip()))
            self.headers.setdefault(k.strip().lower(), v.strip())
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            body = _dechunk(body)
        self.content = body
        self.text = body.decode("utf-8", "replace")

    @property
    def got_100(self):
        return any(" 100 " in l + " " for l in self.interim)

    def json(self):
        return json.loads(self.content)

    def __repr__(self):
        return "<RawAnswer %s interim=%r %r>" % (self.status_line,
                                                  self.interim,
                                                  self.content[:300])


def chunked(body, size=1000):
    """body in chunks of `size` bytes (sizes in hex), then the last chunk."""
    out = b""
    for i in range(0, len(body), size):
        part = body[i:i + size]
        out += b"%x\r\n" % len(part) + part + b"\r\n"
    return out + b"0\r\n\r\n"


def _read_all(s):
    chunks = []
    while True:
        try:
            b = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not b:
            break
        chunks.append(b)
    return b"".join(chunks)


def post(env, path, body, ctype=JSON, method="POST", chunk=None,
         expect=False, headers=(), length=None, port=None, mark=None):
    """One request over its own connection (Connection: close), framed as
    told: Content-Length (default; `length` overrides the declared value)
    or chunked (chunk=size).  With expect, Expect: 100-continue goes with
    the head and the body is sent only after an interim 100; a final
    answer that comes first is returned with sent_body False.  ctype None:
    no Content-Type."""
    if isinstance(body, str):
        body = body.encode()
    head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % (
        method, path)
    if ctype is not None:
        head += "Content-Type: %s\r\n" % ctype
    if chunk:
        head += "Transfer-Encoding: chunked\r\n"
        payload = chunked(body, chunk)
    else:
        head += "Content-Length: %d\r\n" % (len(body) if length is None
                                            else length)
        payload = body
    if expect:
        head += "Expect: 100-continue\r\n"
    if mark:
        head += "%s: %s\r\n" % (MARK, mark)
    for k, v in headers:
        head += "%s: %s\r\n" % (k, v)
    head = (head + "\r\n").encode("latin-1")
    with socket.create_connection(("127.0.0.1", port or env.port),
                                  timeout=20) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not expect:
            try:
                s.sendall(head + payload)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return RawAnswer(_read_all(s), True)
        s.sendall(head)
        # up to the end of the first response head
        buf = b""
        while b"\r\n\r\n" not in buf:
            b = s.recv(65536)
            if not b:
                return RawAnswer(buf, False)
            buf += b
        if not buf.startswith(b"HTTP/1.1 100"):
            return RawAnswer(buf + _read_all(s), False)
        try:
            s.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return RawAnswer(buf + _read_all(s), True)


def post_pieces(env, path, head_lines, pieces, pause=0.05, close=False):
    """A request whose head (lines, no CRLF) goes first, then each piece
    of bytes after a pause: the body arrives over several reads; with
    close, the client shuts its side down after the last piece (a body
    shorter than declared)."""
    head = "\r\n".join(["POST %s HTTP/1.1" % path, "Host: 127.0.0.1",
                         "Connection: close"] + list(head_lines))
    with socket.create_connection(("127.0.0.1", env.port), timeout=20) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall((head + "\r\n\r\n").encode("latin-1"))
        for p in pieces:
            time.sleep(pause)
            s.sendall(p)
        if close:
            s.shutdown(socket.SHUT_WR)
        return RawAnswer(_read_all(s), True)


# ---- answers -------------------------------------------------------------------

ERROR_KEYS = {"instanceLocation", "keywordLocation", "keyword", "message"}


def problem(r, status):
    """The problem+json body of an answer (RawAnswer or requests')."""
    assert r.status_code == status, r
    ctype = r.headers.get("content-type") or r.headers.get("Content-Type")
    assert (ctype or "").split(";")[0].strip() == \
        "application/problem+json", (ctype, r)
    b = json.loads(r.text)
    assert b.get("status") == status and b.get("type") == "about:blank", b
    return b


def errors_of(r, secrets=()):
    """The errors[] of a 422, each member checked for its shape; no secret
    (an offending value) anywhere in the answer."""
    b = problem(r, 422)
    errs = b.get("errors")
    assert isinstance(errs, list) and errs, b
    for e in errs:
        assert set(e) == ERROR_KEYS, e
        for k in ERROR_KEYS:
            assert isinstance(e[k], str), e
        assert e["instanceLocation"] == "" or \
            e["instanceLocation"].startswith("/"), e
        assert e["keywordLocation"] == "" or \
            e["keywordLocation"].startswith("/"), e
        assert e["message"], e
    for s in secrets:
        assert s not in r.text, "offending value %r echoed" % s
    return errs


# ---- schemas and bodies ---------------------------------------------------------

REPO = Path(__file__).resolve().parent.parent.parent
USER_CREATE = REPO / "docs" / "examples" / "user_create.schema.json"
DRAFT7 = "http://json-schema.org/draft-07/schema#"

# The general test schema: an object with a required name.
ITEM = {
    "$schema": DRAFT7,
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 40},
        "n": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}},
        "blob": {"type": "string"},
    },
    "required": ["name"],
}
# Anything that parses.
ANY = {"$schema": DRAFT7}


def write_schema(env, name, schema):
    """A schema file under <gen>/schemas/ (readable by httpd)."""
    d = env.gen_dir / "schemas"
    d.mkdir(parents=True, exist_ok=True)
    d.chmod(0o755)
    text = schema if isinstance(schema, str) else json.dumps(schema,
                                                             indent=2)
    return env.write_file(d / name, text)


def user_create_schema(env):
    """The seed's UserCreate schema as shipped (docs/examples/), copied
    where httpd can read it."""
    assert USER_CREATE.is_file(), "%s missing" % USER_CREATE
    return write_schema(env, "user_create.schema.json",
                        USER_CREATE.read_text())


def big_body(size, name="big"):
    """A valid ITEM body of at least `size` bytes, with bytes a re-encoder
    would change: odd white space, escapes (\\u0000, \\u00e9, \\/), raw
    UTF-8, a key order no serializer would pick."""
    unit = 'abc\\u00e9\\/ \u00e9\u4e2d\\n\\u0000 '
    reps = size // len(unit.encode()) + 1
    return ('{ "tags" :[ "x" ,"y"],\t"blob":"%s",\r\n "name": "%s" , '
            '"n":7 }' % (unit * reps, name)).encode()


SMALL = b'{"name": "alice", "n": 1, "tags": ["a", "b"]}'


def nested(depth, leaf="1"):
    return ("[" * depth + leaf + "]" * depth).encode()


# ---- h2c through curl ------------------------------------------------------------

class H2Answer:
    def __init__(self, head, body):
        blocks = [b for b in head.split(b"\r\n\r\n") if b.strip()]
        self.interim = [b.split(b"\r\n")[0].decode("latin-1")
                        for b in blocks[:-1]]
        lines = blocks[-1].decode("latin-1").split("\r\n")
        self.status_line = lines[0]
        self.status_code = int(lines[0].split()[1])
        self.headers = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            self.headers.setdefault(k.strip().lower(), v.strip())
        self.content = body
        self.text = body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.text)


def h2_post(env, curl, path, body, ctype=JSON, mark=None, tmp=None,
            tries=10):
    """POST over h2c (prior knowledge) with curl --data-binary.  curl
    7.88 sometimes loses an answer that comes before the whole body was
    sent (exit 92, no status; as often with httpd's own 403 of `Require
    all denied` as with mod_gk_validate's 415: from one in ten to one in
    two, with the machine's load): such a run is tried again, up to
    `tries` times."""
    for _ in range(tries - 1):
        got = _h2_post(env, curl, path, body, ctype, mark, tmp)
        if got is not None:
            return got
    got = _h2_post(env, curl, path, body, ctype, mark, tmp)
    assert got is not None, "curl got no answer in %d tries" % tries
    return got


def _h2_post(env, curl, path, body, ctype, mark, tmp):
    f = Path(tmp) / ("h2-%s.body" % marker())
    f.write_bytes(body)
    out = f.with_suffix(".out")
    cmd = [curl, "-s", "--http2-prior-knowledge", "-D", "-", "-o", str(out),
           "--max-time", "20", "-X", "POST", "--data-binary", "@%s" % f,
           "-H", "Content-Type: %s" % ctype]
    if mark:
        cmd += ["-H", "%s: %s" % (MARK, mark)]
    cmd.append(env.url(path))
    p = subprocess.run(cmd, capture_output=True, timeout=30)
    data = out.read_bytes() if out.exists() else b""
    f.unlink()
    if out.exists():
        out.unlink()
    if p.returncode == 92 and not p.stdout.strip():
        return None
    assert p.returncode == 0, (p.returncode, p.stderr)
    return H2Answer(p.stdout, data)


# ---- the module ------------------------------------------------------------------

def need(env, *names):
    for n in names:
        if not env.has_gk_module(n):
            pytest.skip("%s not built" % env.gk_module_path(n))


def wait_lines(path, pred, want=1, timeout=10.0):
    """JSON lines of a log file matching pred, waiting until `want` exist."""
    end = time.monotonic() + timeout
    while True:
        got = []
        if os.path.exists(path):
            for l in Path(path).read_text().splitlines():
                if l.strip():
                    o = json.loads(l)
                    if pred(o):
                        got.append(o)
        if len(got) >= want or time.monotonic() > end:
            return got
        time.sleep(0.05)


def sha(b):
    return hashlib.sha256(b).hexdigest()
