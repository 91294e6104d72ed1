"""Helpers of the mod_gk_log tests (test_log_*.py): ID formats, header
values as sent, the access-log file the tests configure, raw requests,
HTTP/2 through curl."""

import json
import re
import shutil
import subprocess
import time
import uuid

import pytest

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}"
                   r"-[0-9a-f]{12}$")
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}"
                   r"-[0-9a-f]{12}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")

CID = "X-Correlation-ID"

# The access log the tests write: the request's %L, the environment
# variable, the response header, the note, the status and the request line.
ACCESS_LOG = "gk_ids.log"
LOG_FORMAT = ('LogFormat "%L %{GK_CORRELATION_ID}e %{X-Correlation-ID}o '
              '%{gk-correlation-id}n %>s \\"%r\\"" gkids')
ERROR_LOG_FORMAT = ('ErrorLogFormat "[%{u}t] [%-m:%l] [pid %P:tid %T] '
                    '[id:%L] [client\\ %a] %M"')
ERROR_LOG_FORMAT_REQ = ('ErrorLogFormat request "[%{u}t] [once-per-request] '
                        '[req:%L]"')
_LINE = re.compile(r'^(\S+) (\S+) (\S+) (\S+) (\d+) "(.*)"$')


def need_log_module(env):
    if not env.has_gk_module("log"):
        pytest.skip("%s not built" % env.gk_module_path("log"))


def marker():
    return uuid.uuid4().hex


def log_conf(env):
    """The access log and error-log format lines the tests read."""
    return [LOG_FORMAT,
            'CustomLog "%s/%s" gkids' % (env.logs_dir, ACCESS_LOG),
            ERROR_LOG_FORMAT, ERROR_LOG_FORMAT_REQ]


def header_values(r, name):
    """Every value of a response header, as separate fields."""
    if hasattr(r, "header_list"):
        return [v for k, v in r.header_list if k.lower() == name.lower()]
    if isinstance(r, H2Response):
        return [v for k, v in r.header_list if k == name.lower()]
    return r.raw.headers.getlist(name)


def one(r, name=CID):
    """The single value of a header: it must come exactly once."""
    vals = header_values(r, name)
    assert len(vals) == 1, "%s: expected one value, got %r" % (name, vals)
    return vals[0]


def echo_json(r):
    """The echo CGI's JSON, whatever the status (ErrorDocument keeps the
    error status)."""
    assert r.headers.get("Content-Type", "").startswith("application/json"),\
        (r.status_code, r.headers.get("Content-Type"), r.text[:300])
    return json.loads(r.text)


class AccessLine:
    def __init__(self, m):
        self.log_id, self.env, self.out, self.note, self.status, \
            self.request = m.groups()
        self.status = int(self.status)

    @property
    def ids(self):
        """(%L, the variable, the response header, the note)."""
        return (self.log_id, self.env, self.out, self.note)


def access_line(env, mark, timeout=10.0):
    """The access-log line whose request line holds mark (mod_log_config
    writes after the response went out: wait for it)."""
    path = env.logs_dir / ACCESS_LOG
    end = time.monotonic() + timeout
    while True:
        if path.exists():
            found = [l for l in path.read_text(errors="replace").splitlines()
                     if mark in l]
            if found:
                assert len(found) == 1, found
                m = _LINE.match(found[0])
                assert m, found[0]
                return AccessLine(m)
        if time.monotonic() > end:
            raise AssertionError("no access-log line with %s" % mark)
        time.sleep(0.05)


def error_lines(env, pos, needle, timeout=5.0):
    """Error-log lines written since pos that contain needle."""
    env.error_log.wait_for(re.escape(needle), timeout=timeout, since=pos)
    return [l.text for l in env.error_log.lines_since(pos)
            if needle in l.text]


def ids_in_error_log(env, pos):
    """Every [id:..] and [req:..] value written since pos."""
    out = []
    for l in env.error_log.lines_since(pos):
        out += re.findall(r"\[(?:id|req):([^\]]*)\]", l.text)
    return out


def raw_request(env, request_line, header_lines=(), host="127.0.0.1",
                port=None):
    """Bytes on a socket: the request line and header lines as given
    (str or bytes, no CRLF), Host first unless host is None."""
    def b(x):
        return x.encode("latin-1") if isinstance(x, str) else x
    out = b(request_line) + b"\r\n"
    if host is not None:
        out += b"Host: " + b(host) + b"\r\n"
    out += b"Connection: close\r\n"
    for l in header_lines:
        out += b(l) + b"\r\n"
    return env.raw(out + b"\r\n", port=port)


# ---- HTTP/2 through curl ----------------------------------------------------

def curl_h2():
    """curl's path when it speaks HTTP/2, else None."""
    curl = shutil.which("curl")
    if not curl:
        return None
    v = subprocess.run([curl, "-V"], capture_output=True, text=True).stdout
    feats = [l for l in v.splitlines() if l.startswith("Features:")]
    return curl if feats and "HTTP2" in feats[0].split() else None


class H2Response:
    def __init__(self, head, body):
        blocks = [b for b in head.split("\r\n\r\n") if b.strip()]
        lines = blocks[-1].split("\r\n")
        self.status_line = lines[0]
        self.status_code = int(lines[0].split()[1])
        self.header_list = []
        for l in lines[1:]:
            k, _, v = l.partition(":")
            self.header_list.append((k.strip().lower(), v.strip()))
        self.headers = {}
        for k, v in self.header_list:
            self.headers.setdefault(k, v)
        self.text = body

    def json(self):
        return json.loads(self.text)


def h2_get(env, path, headers=(), curl="curl", method="GET"):
    """A request over h2c (prior knowledge) through curl, GET unless
    method says otherwise."""
    cmd = [curl, "-s", "--http2-prior-knowledge", "-D", "-", "-o",
           "/dev/stderr", "--max-time", "20", "-X", method]
    for k, v in headers:
        cmd += ["-H", "%s: %s" % (k, v)]
    cmd.append(env.url(path))
    # bytes: text mode would turn the CRLFs into LFs
    p = subprocess.run(cmd, capture_output=True, timeout=30)
    assert p.returncode == 0, (p.returncode, p.stderr)
    return H2Response(p.stdout.decode("latin-1"),
                      p.stderr.decode("utf-8", "replace"))
