"""Helpers of the revocation tests (test_auth_revoke*.py, issue 14):
tokens with a jti, the gk-revoke handler's form, the access log that
shows each request's child (%P) and reason note, a second front end, and
the configuration every class shares.

Every test uses subjects of its own (sub=marker()): a journal is replayed
at every start, and a "log out everywhere" cutoff would otherwise follow a
subject from one test into the next.
"""

import hashlib
import hmac
import re
import struct
import subprocess
import time
import urllib.parse
import uuid

from gkhttpd import GkConf, GkEnv
from gkhttpd import tokens as T
from gkhttpd.check import assert_challenge, assert_status

FORM = "application/x-www-form-urlencoded"
COOKIE = "gk_at"
ADMIN_ROLE = "rv-admin"

# what the handler logs (mod_gk_auth at debug, as GkConf sets it)
NOTHING_STORED = "gk-revoke: nothing stored:"
REVOKED_LINE = "gk-revoke: revoked"

# the access log: a marker header, the child, the path, the status, the
# reason note of mod_gk_auth
ACCESS = "rv_access.log"
LOG_FORMAT = ('LogFormat "%{X-Mark}i %P %U %>s [%{gk-auth-reason}n]" '
              'gkrv')
_LINE = re.compile(r"^(\S+) (\d+) (\S+) (\d+) \[(.*)\]$")

# a request answered while the store fails finishes within this (s), with
# GKAuthRevocationStoreTimeout 100 (as test_ratelimit_memcached.py)
BOUND = 0.5
STORE_TIMEOUT_MS = 100


def rv_key(kind, secret=None, *fields):
    """The store key of a revocation, derived here from gk_revoke.h's
    definition (not by the module): "rv:" kind ":" and the first 16
    bytes of HMAC-SHA-256(key16, M) (key16: the first 16 bytes of the
    SHA-256 of the secret, without its trailing newline) or SHA-256(M) without a secret, in
    hex; M = "gk-revoke-v1" NUL kind, then per field NUL (absent) or 0x01,
    its length (8 bytes, big-endian) and its bytes. kind: "t" (iss, jti),
    "r" (the token), "s" (iss, sub)."""
    m = b"gk-revoke-v1\0" + kind.encode()
    for f in fields:
        if f is None:
            m += b"\0"
        else:
            b = f.encode() if isinstance(f, str) else f
            m += b"\1" + struct.pack(">Q", len(b)) + b
    if secret is None:
        h = hashlib.sha256(m).digest()
    else:
        # the secret without its trailing newline (gk_secret_read)
        k16 = hashlib.sha256(secret.rstrip(b"\r\n")).digest()[:16]
        h = hmac.new(k16, m, hashlib.sha256).digest()
    return "rv:%s:%s" % (kind, h[:16].hex())


def marker():
    return uuid.uuid4().hex


def mint(keys, sub, ttl=300, jti=True, key="hs256", **kw):
    """An HS256 token of sub; jti True: a fresh random one, None: none."""
    if jti is True:
        jti = marker()
    return T.mint(keys[key], "HS256", sub=sub, ttl=ttl, jti=jti, **kw)


def wait_next_second():
    """Sleep until just past the next whole second (iat granularity)."""
    t = time.time()
    time.sleep(int(t) + 1.05 - t)


def rv_conf(env, keys, name, store=None, mpm=None, gk_modules=None,
            extra_modules=(), server=(), journal=None):
    """The configuration of a revocation test class: HS256 keys, the
    access log, and the locations

        /api/      AuthType gk-bearer, Require valid-user (revocation on)
        /off/      the same with GKAuthRevocation Off
        /capi/     the same, the token read from the cookie COOKIE
        /revoke    SetHandler gk-revoke, GKRevokeAdminRole ADMIN_ROLE
        /logout    SetHandler gk-revoke, the token from the cookie COOKIE,
                   which GKTokenCookie names (expired by a logout)

    store: the GKAuthRevocationStore arguments (None: the default, shm);
    server: more server-level lines. The journal is a file of the class
    (name), removed first: a class starts with no revocation."""
    conf = GkConf(env, mpm=mpm, gk_modules=gk_modules,
                  extra_modules=extra_modules)
    jpath = journal or (env.data_dir / ("rv-%s.journal" % name))
    remove_journal(jpath)
    conf.add("GKAuthKey HS256 file:%s" % keys["hs256"].secret_path)
    conf.add('GKAuthRevocationJournal "%s"' % jpath)
    if store:
        conf.add("GKAuthRevocationStore %s" % store)
    conf.add(list(server))
    conf.add(LOG_FORMAT)
    conf.add('CustomLog "%s/%s" gkrv' % (env.logs_dir, ACCESS))
    conf.add_location("/api/", """
        AuthType gk-bearer
        Require valid-user
    """)
    conf.add_location("/off/", """
        AuthType gk-bearer
        GKAuthRevocation Off
        Require valid-user
    """)
    conf.add_location("/capi/", """
        AuthType gk-bearer
        GKAuthTokenCookie %s
        Require valid-user
    """ % COOKIE)
    conf.add_location("/revoke", """
        AuthType gk-bearer
        SetHandler gk-revoke
        GKRevokeAdminRole %s
        Require valid-user
    """ % ADMIN_ROLE)
    conf.add_location("/logout", """
        AuthType gk-bearer
        SetHandler gk-revoke
        GKAuthTokenCookie %s
        GKTokenCookie %s
        Require valid-user
    """ % (COOKIE, COOKIE))
    return conf, jpath


def remove_journal(path):
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def revoke(env, auth=None, fields=None, path="/revoke", port=None,
           cookies=None, mark=None):
    """POST the form fields (dict; None: an empty body) to the handler,
    authenticated by auth (a token in Authorization) or cookies."""
    h = {"Content-Type": FORM, "X-Mark": mark or marker()}
    body = urllib.parse.urlencode(fields or {}).encode()
    return env.request(path, "POST", token=auth, headers=h, data=body,
                       port=port, cookies=cookies)


def assert_revoked_ok(r):
    """RFC 7009's answer: 200 with an empty body."""
    assert r.status_code == 200, (r.status_code, r.headers, r.text[:300])
    assert r.content == b"", r.content[:200]


def get(env, path, token, port=None, mark=None, **kw):
    h = dict(kw.pop("headers", {}) or {})
    h["X-Mark"] = mark or marker()
    return env.get(path, token=token, headers=h, port=port, **kw)


def assert_refused_revoked(r):
    """401 with error="invalid_token" (RFC 6750)."""
    assert_status(r, 401)
    assert_challenge(r, error="invalid_token")


class AccessLog:
    """The lines of ACCESS by marker: (pid, path, status, reason)."""

    def __init__(self, env):
        self.path = env.logs_dir / ACCESS

    def lines(self):
        try:
            text = self.path.read_text(errors="replace")
        except FileNotFoundError:
            return []
        out = []
        for l in text.splitlines():
            m = _LINE.match(l)
            if m:
                out.append((m.group(1), int(m.group(2)), m.group(3),
                            int(m.group(4)), m.group(5)))
        return out

    def of(self, mark, timeout=5.0):
        """The line of the request that carried X-Mark: mark (httpd
        writes it after the answer: wait a moment)."""
        end = time.monotonic() + timeout
        while True:
            for l in self.lines():
                if l[0] == mark:
                    return l
            assert time.monotonic() < end, "no access-log line for %s" % mark
            time.sleep(0.02)

    def reason(self, mark):
        return self.of(mark)[4]

    def pid(self, mark):
        return self.of(mark)[1]


def log_lines(env, pos, needle):
    """Error-log lines written since pos that contain needle."""
    return [l for l in env.error_log.lines_since(pos) if needle in l.text]


class Peer:
    """A second, independent httpd: its own GkEnv (gen dir, ports, config,
    error log), so its own apache2 parent and children."""

    def __init__(self, env, mpm=None, name="peer"):
        taken = {env.port, env.backend_port}
        while True:
            self.env = GkEnv(mpm=mpm or env.default_mpm,
                             gen_dir=env.gen_dir / name,
                             build_dir=env.build_dir)
            if not taken & {self.env.port, self.env.backend_port}:
                break
        self.env.extra_env = dict(env.extra_env)
        self.env.module_under_test = env.module_under_test
        self.env.setup()

    def stop(self):
        self.env.apache_stop()


def curl_h2c(env, path, token=None, data=None, headers=()):
    """One request over h2c (prior knowledge) by curl: (status, headers as
    a lower-case dict, body). POST when data (bytes of a form) is given."""
    cmd = ["curl", "-s", "--http2-prior-knowledge", "-D", "-", "-o",
           "/dev/stderr", "--max-time", "20", "-w", "%{http_version}\\n"]
    if token:
        cmd += ["-H", "Authorization: Bearer %s" % token]
    for k, v in headers:
        cmd += ["-H", "%s: %s" % (k, v)]
    if data is not None:
        cmd += ["-H", "Content-Type: %s" % FORM, "--data-binary", data]
    cmd.append(env.url(path))
    p = subprocess.run(cmd, capture_output=True, timeout=30)
    assert p.returncode == 0, (p.returncode, p.stderr[-300:])
    out = p.stdout.decode("latin-1")
    head, _, version = out.rpartition("\r\n\r\n")
    lines = head.split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        hdrs.setdefault(k.strip().lower(), v.strip())
    return status, hdrs, p.stderr, version.strip()
