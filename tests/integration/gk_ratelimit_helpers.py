"""Helpers of the mod_gk_ratelimit tests (test_ratelimit*.py): the
RateLimit / RateLimit-Policy fields (draft-ietf-httpapi-ratelimit-headers,
structured-field lists), clock-aligned windows, bursts of concurrent
requests, access-log lines of the notes."""

import json
import re
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from gkhttpd.env import StartFailure

# the notes of mod_gk_ratelimit.h through a stock LogFormat
NOTES_FORMAT = ('LogFormat "%U %m %>s [%{gk-ratelimit-outcome}n] '
                '[%{gk-ratelimit-reason}n] [%{gk-ratelimit-name}n] '
                '[%{gk-ratelimit-remaining}n]" gkrlnotes')
_NOTES_LINE = re.compile(r"^(\S+) (\S+) (\d+) \[(.*?)\] \[(.*?)\] \[(.*?)\] "
                         r"\[(.*?)\]$")

_ITEM = re.compile(r'\s*"([A-Za-z0-9._-]+)"((?:;[a-z]+=[0-9]+)*)\s*(?:,|$)')


def need_ratelimit_module(env):
    if not env.has_gk_module("ratelimit"):
        pytest.skip("%s not built" % env.gk_module_path("ratelimit"))


def marker():
    return uuid.uuid4().hex


def _header(r, name):
    if hasattr(r, "header_list"):
        vals = [v for k, v in r.header_list if k.lower() == name.lower()]
        return ", ".join(vals) if vals else None
    return r.headers.get(name)


def parse_items(value):
    """'"a";q=5;w=60, "b";r=1;t=3' -> [("a", {"q": 5, "w": 60}), ...];
    AssertionError on anything else (the draft's sf-list of sf-string
    items with integer parameters)."""
    assert value, "no value"
    out = []
    rest = value
    while rest.strip():
        m = _ITEM.match(rest)
        assert m, "bad structured-field list %r (at %r)" % (value, rest)
        params = {}
        for p in m.group(2).split(";")[1:]:
            k, _, v = p.partition("=")
            assert k not in params, "repeated parameter in %r" % value
            params[k] = int(v)
        out.append((m.group(1), params))
        rest = rest[m.end():]
    return out


def fields(r):
    """{name: {"q", "w", "r", "t"}} from RateLimit-Policy and RateLimit
    (both present or both absent; the same names in the same order)."""
    pol = _header(r, "RateLimit-Policy")
    now = _header(r, "RateLimit")
    if pol is None and now is None:
        return {}
    assert pol is not None and now is not None, (pol, now)
    p = parse_items(pol)
    n = parse_items(now)
    assert [x[0] for x in p] == [x[0] for x in n], (pol, now)
    out = {}
    for (name, pp), (_, nn) in zip(p, n):
        assert set(pp) == {"q", "w"}, pol
        assert set(nn) == {"r", "t"}, now
        d = dict(pp)
        d.update(nn)
        out[name] = d
    return out


def remaining(r, name):
    return fields(r)[name]["r"]


def seconds_left(window, now=None):
    now = time.time() if now is None else now
    return window - (now % window)


def ensure_window(window, need):
    """Sleep to just after the next clock-aligned boundary of `window`
    seconds when fewer than `need` seconds are left in the current one, so
    that what follows stays in one window."""
    left = seconds_left(window)
    if left < need:
        time.sleep(left + 0.15)


def align_window(window, margin=0.15):
    """Sleep until just after the next boundary of `window` seconds."""
    time.sleep(seconds_left(window) + margin)


def burst(env, n, path, threads=32, per_session=1, headers=None,
          method="GET", port=None):
    """n requests from `threads` threads; each thread keeps a session of
    `per_session` requests on one connection (keep-alive). Returns the
    statuses."""
    url = env.url(path, port)
    statuses = []
    lock = threading.Lock()
    chunks = [per_session] * (n // per_session)
    if n % per_session:
        chunks.append(n % per_session)
    go = threading.Event()

    def run(count):
        s = requests.Session()
        got = []
        try:
            go.wait(timeout=30)
            for _ in range(count):
                r = s.request(method, url, headers=dict(headers or {}),
                              timeout=30)
                got.append(r.status_code)
        finally:
            s.close()
        with lock:
            statuses.extend(got)

    with ThreadPoolExecutor(max_workers=threads) as ex:
        futures = [ex.submit(run, c) for c in chunks]
        time.sleep(0.05)            # let the threads line up, then go
        go.set()
        for f in futures:
            f.result()
    return statuses


def read_lines(path, pred=lambda l: True, want=1, timeout=10.0):
    """Lines of a log file matching pred, waiting for `want` of them."""
    end = time.monotonic() + timeout
    while True:
        lines = path.read_text().splitlines() if path.exists() else []
        sel = [l for l in lines if pred(l)]
        if len(sel) >= want or time.monotonic() > end:
            return sel
        time.sleep(0.05)


class NotesLine:
    def __init__(self, text):
        m = _NOTES_LINE.match(text)
        assert m, text
        (self.path, self.method, status, self.outcome, self.reason,
         self.name, self.remaining) = m.groups()
        self.status = int(status)

    def __repr__(self):
        return "<%s %s %d %s %s %s %s>" % (
            self.method, self.path, self.status, self.outcome, self.reason,
            self.name, self.remaining)


def notes_lines(path, prefix, want=1):
    return [NotesLine(l) for l in
            read_lines(path, lambda l: l.startswith(prefix), want)]


def read_json_lines(path, pred, want=1, timeout=10.0):
    end = time.monotonic() + timeout
    while True:
        objs = []
        if path.exists():
            for l in path.read_bytes().split(b"\n")[:-1]:
                objs.append(json.loads(l.decode("utf-8")))
        sel = [o for o in objs if pred(o)]
        if len(sel) >= want or time.monotonic() > end:
            return sel
        time.sleep(0.05)


def apache_hup(env, timeout=15):
    """SIGHUP (a hard restart that keeps the parent): wait until done."""
    if not env.is_running:
        raise StartFailure("httpd is not running")
    pos = env.error_log._size()
    env._proc.send_signal(signal.SIGHUP)
    line = env.error_log.wait_for(r"resuming normal operations",
                                  timeout=timeout, since=pos)
    if line is None or env._proc.poll() is not None:
        raise StartFailure("restart (HUP) failed")
    time.sleep(0.3)
    end = time.monotonic() + timeout
    while not env.is_live() and time.monotonic() < end:
        time.sleep(0.05)


SINK_CGI = r'''#!/usr/bin/python3 -IS
# Reads the request body (so that POSTs end cleanly), answers its length.
import os, sys
n = int(os.environ.get("CONTENT_LENGTH") or 0)
got = len(sys.stdin.buffer.read(n)) if n else 0
body = b"read %d\n" % got
sys.stdout.buffer.write(b"Content-Type: text/plain\r\n"
                        b"Content-Length: %d\r\n\r\n" % len(body) + body)
'''


def install_sink_cgi(env):
    """A CGI that reads the body: <cgi_dir>/rlsink.py (the echo CGI does
    not read it, and a POST with a body to it may end in a reset)."""
    p = env.write_file(env.cgi_dir / "rlsink.py", SINK_CGI, mode=0o755)
    return p
