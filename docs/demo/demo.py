#!/usr/bin/python3
"""`make demo`: a local Gatekeeper gateway with a guided walk-through.

What it does, all on 127.0.0.1 and all under build/demo/:

  1. makes an HS256 secret (read through `file:`), an RSA key pair, the
     rate limit's counter-key secret, a password file with one demo user
     (`htpasswd -B`) and a roles file,
  2. writes an httpd configuration: a gateway virtual host that checks
     bearer tokens with mod_gk_auth, issues them for the demo user at
     /token (SetHandler gk-token, signed with the RSA key the gateway
     verifies with), logs a token out at /logout (SetHandler gk-revoke:
     the token is refused from then on), answers CORS for one web origin
     with mod_gk_headers,
     limits login attempts with mod_gk_ratelimit (its counters in
     memcached), validates sign-up bodies against the seed's UserCreate
     schema with mod_gk_validate and proxies to a small echo backend,
  3. starts memcached (/usr/bin/memcached, on a loopback port), the echo
     backend (docs/demo/backend.py) and httpd in the foreground,
  4. sends a series of real requests and shows what came back, including
     what the backend saw and the login counter in memcached,
  5. prints tokens and curl commands to try, and stays up until Ctrl-C,
     then stops httpd, the backend and memcached.

With DEMO_ONESHOT=1 it runs the walk-through, stops everything and exits 0
only if every step gave the expected answer (a smoke test).

Environment: DEMO_PORT (gateway, default 8480), DEMO_BACKEND_PORT (default
8481), DEMO_MEMCACHED_PORT (default 8482); a busy port falls back to a
free one.  GK_BUILD_DIR (an absolute
path), else BUILD (default build, under the checkout) is where the module
is found and <build>/demo/ is written.

A sanitized module (`make check-asan`: GK_SANITIZE=1, or the module links
libasan) gets httpd started with gcc's ASan and UBSan runtimes preloaded,
as the integration harness does; a sanitizer report written by httpd is a
failed step, and is shown.
"""

import base64
import hashlib
import hmac
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BUILD = Path(os.environ.get("GK_BUILD_DIR")
             or ROOT / os.environ.get("BUILD", "build")).resolve()
WORK = BUILD / "demo"
MODULE = BUILD / "mod_gk_auth.so"
LOG_MODULE = BUILD / "mod_gk_log.so"
HEADERS_MODULE = BUILD / "mod_gk_headers.so"
RATELIMIT_MODULE = BUILD / "mod_gk_ratelimit.so"
VALIDATE_MODULE = BUILD / "mod_gk_validate.so"
# mod_gk_validate: the seed's UserCreate model as a JSON Schema, shipped
# under docs/examples/ and copied into the demo's directory.
USER_SCHEMA = ROOT / "docs" / "examples" / "user_create.schema.json"
BACKEND = HERE / "backend.py"
MEMCACHED = "/usr/bin/memcached"
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") \
    else sys.executable

ISSUER = "https://issuer.demo.test"
# CORS: the one web origin whose pages may call the API from a browser,
# and one that may not.
APP_ORIGIN = "https://app.example.com"
EVIL_ORIGIN = "https://evil.example"
AUDIENCE = "https://api.demo.test"
HS_KID = "demo-hs"
RS_KID = "demo-rs"
# The token endpoint (SetHandler gk-token): one user in an htpasswd -B
# file, with the role analyst in the roles file; a demo password, shown so
# that you can try it yourself.
TOKEN_USER = "dave"
TOKEN_PASSWORD = "horse-battery-staple"
TOKEN_ROLE = "analyst"
TOKEN_LIFETIME = 900
HTPASSWD = "/usr/bin/htpasswd"
# The answer of gk-token to a wrong password and to an unknown user: the
# same bytes (RFC 6749 section 5.2), so that it tells no one which users
# exist.
INVALID_GRANT = ('{"error":"invalid_grant","error_description":'
                 '"the user name or password is wrong"}')
ONESHOT = os.environ.get("DEMO_ONESHOT", "") not in ("", "0")
# mod_gk_validate: a sign-up body (the seed's UserCreate), with a weak
# password and with a good one
NEW_USER = {"username": "erin2024", "email": "erin@example.org",
            "password": "Tr0ub4dor-and-3-more"}
NEW_USER_WEAK = dict(NEW_USER, password="Secret1")
# mod_gk_ratelimit: the seed's login limit, POST /login, per client
LOGIN_LIMIT, LOGIN_WINDOW = 5, 60

# The modules the gateway needs, from Debian's apache2 package.
HTTPD_MODULES = [
    ("mpm_event_module", "mod_mpm_event.so"),
    ("authn_core_module", "mod_authn_core.so"),
    ("authn_file_module", "mod_authn_file.so"),
    ("authz_core_module", "mod_authz_core.so"),
    ("authz_host_module", "mod_authz_host.so"),
    ("authz_user_module", "mod_authz_user.so"),
    ("headers_module", "mod_headers.so"),
    ("proxy_module", "mod_proxy.so"),
    ("proxy_http_module", "mod_proxy_http.so"),
]


def say(text=""):
    print(text, flush=True)


def find_apache():
    for cand in (shutil.which("apache2"), "/usr/sbin/apache2",
                 shutil.which("httpd")):
        if cand and os.access(cand, os.X_OK):
            return cand
    sys.exit("demo: apache2 not found; run `make demo` as root on Debian "
             "so that it installs the apache2 package")


def module_dir():
    apxs = shutil.which("apxs")
    if apxs:
        out = subprocess.run([apxs, "-q", "LIBEXECDIR"],
                             capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
    return Path("/usr/lib/apache2/modules")


# ---- a sanitized module ----------------------------------------------------

def sanitized():
    """GK_SANITIZE=1 or 0, else whether the module names libasan."""
    v = os.environ.get("GK_SANITIZE", "").strip().lower()
    if v:
        return v not in ("0", "no", "off", "false")
    try:
        return b"libasan.so." in MODULE.read_bytes()
    except OSError:
        return False


def reachable_by_others(path):
    """True when every directory down to path can be entered by others
    (httpd's children run as www-data and write their reports there)."""
    p = Path(path).resolve()
    return all(d.stat().st_mode & 0o001 for d in [p] + list(p.parents)
               if d.exists())


class Sanitizer:
    """The environment httpd (and nothing else) runs with when the module
    is sanitized, and the reports it leaves in self.dir."""

    RUNTIMES = ("libasan.so", "libubsan.so")    # ASan first

    def __init__(self):
        self.on = sanitized()
        self.dir = None
        self.env = {}
        if not self.on:
            return
        preload = []
        for name in self.RUNTIMES:
            out = subprocess.run(["gcc", "-print-file-name=" + name],
                                 capture_output=True, text=True)
            path = out.stdout.strip()
            if not os.path.isabs(path) or not os.path.exists(path):
                sys.exit("demo: the module is sanitized but gcc's %s was "
                         "not found" % name)
            preload.append(os.path.realpath(path))
        if os.environ.get("LD_PRELOAD"):
            preload.append(os.environ["LD_PRELOAD"])
        self.dir = WORK / "sanitizer"
        if os.geteuid() == 0 and not reachable_by_others(WORK):
            self.dir = Path(tempfile.mkdtemp(prefix="gk-demo-sanitizer-"))
        self.env = {
            "LD_PRELOAD": ":".join(preload),
            "ASAN_OPTIONS": "detect_leaks=0:allow_user_segv_handler=0:"
                            "abort_on_error=1:log_path=%s/asan" % self.dir,
            "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:"
                             "log_path=%s/ubsan" % self.dir,
        }

    def prepare(self):
        if not self.on:
            return
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self.dir.chmod(0o1777)   # the children (www-data) write here

    def httpd_env(self):
        env = dict(os.environ)
        env.update(self.env)
        return env

    def reports(self):
        """Print the reports written so far, once each; return how many."""
        if not self.on or not self.dir.is_dir():
            return 0
        files = sorted(f for f in self.dir.iterdir() if f.is_file())
        if files:
            time.sleep(0.5)     # a report takes several writes
        shown = self.dir / "shown"
        for f in files:
            say("FAIL: sanitizer report %s:" % f)
            say(f.read_text(errors="replace").rstrip())
            shown.mkdir(exist_ok=True)
            f.rename(shown / f.name)
        return len(files)


# ---- processes from a previous run -----------------------------------------

def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def stop_pid(pid, timeout=8.0):
    """SIGTERM, wait, then SIGKILL a process left by an earlier run (not
    our child: children are stopped through their Popen)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def kill_leftovers():
    """Stop an httpd, backend or memcached left by an earlier run, found by
    pid file.

    A pid is only signalled when its command line shows it is ours: the
    httpd started with our configuration file, our backend script, or a
    memcached started as this script starts it.
    """
    for name, marker in (("httpd.pid", str(WORK / "httpd.conf")),
                         ("backend.pid", str(BACKEND)),
                         ("memcached.pid", MEMCACHED + " -l 127.0.0.1 -p ")):
        pidfile = WORK / name
        try:
            pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            continue
        if pid > 1 and pid_alive(pid) and marker in cmdline(pid):
            say("demo: stopping %s left by a previous run (pid %d)"
                % (name[:-4], pid))
            stop_pid(pid)
        try:
            pidfile.unlink()
        except OSError:
            pass


# ---- ports -----------------------------------------------------------------

def port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def pick_port(preferred, avoid=()):
    if preferred not in avoid and port_free(preferred):
        return preferred
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port not in avoid:
            return port


def wait_port(port, proc, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


# ---- memcached -------------------------------------------------------------

def start_memcached(port):
    """memcached on 127.0.0.1:port, in the foreground (so that stopping the
    demo stops it), TCP only, 16 MB; as root it runs as nobody, since
    memcached refuses to run as root."""
    if not os.access(MEMCACHED, os.X_OK):
        sys.exit("demo: %s not found; run `make demo` as root on Debian "
                 "so that it installs the memcached package" % MEMCACHED)
    argv = [MEMCACHED, "-l", "127.0.0.1", "-p", str(port), "-U", "0",
            "-m", "16", "-c", "256"]
    if os.geteuid() == 0:
        argv += ["-u", "nobody"]
    out = open(WORK / "memcached.out", "wb")
    proc = subprocess.Popen(argv, start_new_session=True,
                            stdin=subprocess.DEVNULL, stdout=out,
                            stderr=subprocess.STDOUT)
    out.close()
    (WORK / "memcached.pid").write_text("%d\n" % proc.pid)
    return proc


def memcached_ask(port, command, timeout=3.0):
    """One command of memcached's text protocol; its reply, up to END."""
    with socket.create_connection(("127.0.0.1", port), timeout) as s:
        s.sendall(command.encode() + b"\r\n")
        reply = b""
        while not reply.endswith((b"END\r\n", b"ERROR\r\n")) \
                and not reply.startswith(b"BUSY"):
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    return reply.decode(errors="replace")


def memcached_stats(port):
    out = {}
    for line in memcached_ask(port, "stats").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "STAT":
            out[parts[1]] = parts[2]
    return out


def memcached_counters(port):
    """[(key, value, seconds to expiry)] of mod_gk_ratelimit's counters
    (keys gk:gkrl:...), listed by memcached's LRU crawler."""
    for _ in range(20):
        dump = memcached_ask(port, "lru_crawler metadump all")
        if not dump.startswith("BUSY"):
            break
        time.sleep(0.1)
    found = []
    for line in dump.splitlines():
        m = re.match(r"key=(\S+) exp=(-?\d+)", line)
        if not m:
            continue
        key = unquote(m.group(1))
        if not key.startswith("gk:gkrl:"):
            continue
        got = re.search(r"^VALUE \S+ \d+ \d+\r?\n(\d+)",
                        memcached_ask(port, "get " + key), re.M)
        found.append((key, int(got.group(1)) if got else None,
                      int(m.group(2)) - int(time.time())))
    return found


def show_login_counter(port, incr_before):
    """The login counter in memcached after the six attempts: one counter
    holding 6 (the refused attempt counts too), and memcached's own count
    of increments: 5, since the one that created the counter is counted
    as neither a hit nor a miss."""
    try:
        stats = memcached_stats(port)
        counters = memcached_counters(port)
    except OSError as e:
        return ["memcached did not answer (%s)" % e], "memcached did not answer"
    incr = int(stats.get("incr_hits", 0)) + int(stats.get("incr_misses", 0))
    lines = []
    for key, value, ttl in counters:
        lines.append("memcached 127.0.0.1:%d holds %s = %s (expires in %d "
                     "s: the window's end + 5 s)" % (port, key, value, ttl))
    lines.append("memcached stats: incr_hits %s, incr_misses %s, "
                 "curr_items %s: one round trip per attempt, the first "
                 "created the counter" % (stats.get("incr_hits"),
                                          stats.get("incr_misses"),
                                          stats.get("curr_items")))
    want = LOGIN_LIMIT + 1
    if len(counters) != 1 or counters[0][1] != want:
        return lines, "expected one gk:gkrl: counter holding %d in " \
                      "memcached, found %r" % (want, counters)
    if incr - incr_before != want - 1:
        return lines, "expected %d increments in memcached's stats, " \
                      "found %d" % (want - 1, incr - incr_before)
    return lines, None


# ---- keys and tokens -------------------------------------------------------

def write_file(path, data, mode):
    if isinstance(data, str):
        data = data.encode()
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(str(path), mode)


def make_keys():
    """An HS256 secret for `file:` and an RSA key pair for a bare PEM path.

    The secret file is read by httpd's parent process (root, when started
    as root) at startup, so it can stay 0600.  The file ends with one
    newline, which mod_gk_auth strips, as editors add one.
    """
    secret = secrets.token_urlsafe(48)  # 64 characters, 64 bytes > 32
    write_file(WORK / "hs256.secret", secret + "\n", 0o600)

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write_file(WORK / "rs256.key.pem", key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()), 0o600)
    pub_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    write_file(WORK / "rs256.pub.pem", pub_pem, 0o644)

    # mod_gk_ratelimit hashes the counter keys with this secret
    # (GKRateLimitKeySecret, required with memcached): front ends sharing
    # a memcached share it, and memcached never sees a client address.
    write_file(WORK / "ratelimit.secret",
               secrets.token_urlsafe(32) + "\n", 0o600)
    return secret.encode(), key, pub_pem


def make_users():
    """The token endpoint's users and roles: a password file written by
    `htpasswd -B` (bcrypt, cost 5, htpasswd's default; the password read
    from stdin, never on a command line) and a roles file in
    AuthGroupFile format (ROLE: USER...).  Returns the password file's
    path.

    The serving processes (www-data, when started as root) read the
    password file at each login; when they cannot reach build/demo/ (a
    checkout under /root, mode 0700), the file goes to a directory of its
    own under /tmp, removed when the demo stops."""
    if not os.access(HTPASSWD, os.X_OK):
        sys.exit("demo: %s not found; run `make demo` as root on Debian so "
                 "that it installs the apache2 package (apache2-utils)"
                 % HTPASSWD)
    where = WORK
    if os.geteuid() == 0 and not reachable_by_others(WORK):
        where = Path(tempfile.mkdtemp(prefix="gk-demo-users-"))
        where.chmod(0o755)
    users = where / "users.htpasswd"
    try:
        users.unlink()
    except OSError:
        pass
    out = subprocess.run([HTPASSWD, "-B", "-C", "5", "-i", "-c", str(users),
                          TOKEN_USER], input=TOKEN_PASSWORD + "\n",
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("demo: htpasswd failed: %s" % out.stderr.strip())
    os.chmod(str(users), 0o644)
    write_file(WORK / "roles", "# ROLE: USER... (AuthGroupFile format)\n"
               "%s: %s\n" % (TOKEN_ROLE, TOKEN_USER), 0o644)
    return users


def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(obj):
    return b64url(json.dumps(obj, separators=(",", ":")))


def claims(sub, roles, lifetime=3600, **extra):
    now = int(time.time())
    c = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now,
         "exp": now + lifetime, "roles": roles,
         "jti": secrets.token_hex(8)}
    c.update(extra)
    return c


def make_tokens(secret, rsa_key, pub_pem):
    hs = {"kid": HS_KID, "typ": "at+jwt"}
    rs = {"kid": RS_KID, "typ": "at+jwt"}
    now = int(time.time())
    t = {}
    t["ALICE"] = jwt.encode(
        claims("alice", ["user"], email="alice@example.org",
               scope="profile"), secret, "HS256", headers=hs)
    t["BOB"] = jwt.encode(
        claims("bob", ["analyst"], email="bob@example.org"),
        secret, "HS256", headers=hs)
    t["CAROL"] = jwt.encode(
        claims("carol", ["admin"], email="carol@example.org"),
        rsa_key, "RS256", headers=rs)

    expired = claims("alice", ["user"])
    expired["iat"], expired["exp"] = now - 7200, now - 600
    t["EXPIRED"] = jwt.encode(expired, secret, "HS256", headers=hs)

    # RFC 8725 2.1: "alg":"none" and an empty signature.
    t["ALG_NONE"] = "%s.%s." % (
        b64url_json({"alg": "none", "typ": "JWT"}),
        b64url_json(claims("mallory", ["admin"])))

    # RFC 8725 2.1, key confusion: HS256 keyed with the RSA *public* key,
    # naming the RSA key's kid.  The public key is no secret.
    head = b64url_json({"alg": "HS256", "typ": "JWT", "kid": RS_KID})
    body = b64url_json(claims("mallory", ["admin"]))
    mac = hmac.new(pub_pem, ("%s.%s" % (head, body)).encode(),
                   hashlib.sha256).digest()
    t["CONFUSED"] = "%s.%s.%s" % (head, body, b64url(mac))

    # Alice's token with the payload edited to grant admin.
    h, p, s = t["ALICE"].split(".")
    pad = "=" * (-len(p) % 4)
    payload = json.loads(base64.urlsafe_b64decode(p + pad))
    payload["roles"] = ["admin"]
    t["TAMPERED"] = "%s.%s.%s" % (h, b64url_json(payload), s)

    t["OTHER_AUD"] = jwt.encode(
        claims("alice", ["user"], aud="https://elsewhere.example"),
        secret, "HS256", headers=hs)
    return t


# ---- httpd configuration ---------------------------------------------------

def httpd_conf(port, backend_port, mc_port, moddir, users):
    loads = "\n".join("LoadModule %-18s %s" % (name, moddir / so)
                      for name, so in HTTPD_MODULES)
    user = ""
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("www-data")
            user = "User www-data\nGroup www-data\n"
        except KeyError:
            user = ""
    return f"""\
# Written by docs/demo/demo.py on every run; edit the script, not this file.
ServerRoot "{WORK}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{WORK}/httpd.pid"
DefaultRuntimeDir "{WORK}/run"
ErrorLog "{WORK}/error.log"
LogLevel warn gk_auth:info gk_ratelimit:info
# %L: the request's correlation ID (mod_gk_log), the same one the client,
# the backend and the error log see
ErrorLogFormat "[%{{u}}t] [%-m:%l] [id %L] [client %a] %M"
LogFormat "%h id=%L user=%u \\"%r\\" %>s %b reason=%{{gk-auth-reason}}n ratelimit=%{{gk-ratelimit-reason}}n" demo
CustomLog "{WORK}/access.log" demo
{user}
{loads}
LoadModule gk_auth_module     {MODULE}
LoadModule gk_log_module      {LOG_MODULE}
LoadModule gk_headers_module  {HEADERS_MODULE}
LoadModule gk_ratelimit_module {RATELIMIT_MODULE}
LoadModule gk_validate_module {VALIDATE_MODULE}

# The revocation journal (logout below) where the serving processes can
# append to it: beside the password file, which make_users() puts in a
# directory of its own when they cannot reach build/demo/.
GKAuthRevocationJournal "{users.parent}/revocations.journal"

# One JSON object a request (ECS field names; tokens, cookies and secret
# query values never appear), next to the classic access log.
GKLog "{WORK}/access.json"

# mod_gk_ratelimit's counters live in memcached, the one this demo
# started: every front end naming the same servers (and the same key
# secret) would share one exact count per client. The counter keys are
# hashed with the secret, so memcached never sees a client address.
GKRateLimitStore     memcached "--SERVER=127.0.0.1:{mc_port}"
GKRateLimitKeySecret file:{WORK}/ratelimit.secret

StartServers         1
ServerLimit          2
ThreadsPerChild      10
MaxRequestWorkers    20
MinSpareThreads      5
MaxSpareThreads      20

<Directory "/">
    AllowOverride None
    Require all denied
</Directory>

<VirtualHost 127.0.0.1:{port}>
    ServerName 127.0.0.1

    # Keys: an HMAC secret read through file: (one trailing newline is
    # stripped), and an RSA public key given as a bare PEM path.
    GKAuthKey      HS256 file:{WORK}/hs256.secret kid={HS_KID}
    GKAuthKey      RS256 {WORK}/rs256.pub.pem kid={RS_KID}
    GKAuthIssuer   {ISSUER}
    GKAuthAudience {AUDIENCE}

    # Roles grant permissions; `*` covers the rest of the name.
    GKAuthRolePermissions analyst reports:read
    GKAuthRolePermissions admin   reports:*

    # Identity for the backend: claims, and with @user, @roles and
    # @permissions what mod_gk_auth derived (REMOTE_USER, GK_ROLES,
    # GK_PERMISSIONS).  Client-sent copies of these headers are removed
    # from every request, authenticated or not, in every spelling a
    # backend reads as the same header (X_User, x-user...).
    GKAuthClaimHeader sub          X-User
    GKAuthClaimHeader email        X-User-Email
    GKAuthClaimHeader @user        X-Remote-User
    GKAuthClaimHeader @roles       X-GK-Roles
    GKAuthClaimHeader @permissions X-GK-Permissions

    # /token is answered by the gateway itself, never proxied.
    ProxyPass        "/token" "!"
    ProxyPass        "/logout" "!"
    ProxyPass        "/" "http://127.0.0.1:{backend_port}/"
    ProxyPassReverse "/" "http://127.0.0.1:{backend_port}/"
    ProxyTimeout     10

    # Security headers on every answer, the errors included: the api
    # profile (CSP default-src 'none', nosniff, X-Frame-Options DENY,
    # Cache-Control no-store...).
    GKSecurityHeaders api

    # CORS: pages of {APP_ORIGIN} may call the API from a browser with
    # the user's credentials; preflights are answered 204 or 403 before
    # authentication (they carry no token), and a refused origin gets no
    # Access-Control-* header, so the browser keeps the answer from its
    # page.
    GKCORSAllowOrigin      {APP_ORIGIN}
    GKCORSAllowCredentials On
    GKCORSAllowHeaders     Authorization Content-Type
    GKCORSMaxAge           600

    # Public unless a more specific Location says otherwise.
    <Location "/">
        Require all granted
    </Location>

    # Any valid token.
    <Location "/api/">
        AuthType gk-bearer
        Require valid-user
        AuthzSendForbiddenOnFailure On
    </Location>

    <Location "/admin/">
        AuthType gk-bearer
        Require gk-role admin
        AuthzSendForbiddenOnFailure On
    </Location>

    <Location "/reports/">
        AuthType gk-bearer
        Require gk-permission reports:read
        AuthzSendForbiddenOnFailure On
    </Location>

    # The seed's UserCreate model (Pydantic) as a JSON Schema: a POST of a
    # new user is parsed and validated before it is proxied; an invalid
    # one is answered 422 with the list of what is wrong (never the values
    # themselves: one may be a password) and never reaches the backend.
    <Location "/users">
        GKValidateSchema "{WORK}/user_create.schema.json"
    </Location>

    # The seed's @limiter.limit("5/minute") on its login: at most
    # {LOGIN_LIMIT} POSTs a minute per client address, counted exactly in
    # memcached (GKRateLimitStore above), one increment per attempt. The
    # sixth is answered 429 with Retry-After, the RateLimit fields and a
    # problem+json body; GETs of the login page are not counted. Each run
    # of this demo starts its own memcached, so each starts from zero.
    <Location "/login">
        GKRateLimit login {LOGIN_LIMIT}/minute methods=POST
    </Location>

    # The token endpoint (RFC 6749 section 4.3, the password grant, for
    # first-party clients only): a POST of username and password, checked
    # by mod_authn_file against the htpasswd -B file, answered with a JWT
    # signed with the RSA private key whose public half GKAuthKey above
    # verifies (same kid), so the gateway accepts its own tokens. The
    # token carries the user's roles (GKTokenRolesFile) and what
    # GKAuthRolePermissions grants them (analyst: reports:read). An
    # unknown user gets the same answer as a wrong password, after a
    # bcrypt check of the same cost. The login limit applies here too
    # (under its own name, so the /login counter above stays apart).
    <Location "/token">
        SetHandler gk-token
        AuthUserFile         "{users}"
        GKTokenAuthProvider  file
        GKTokenRolesFile     "{WORK}/roles"
        GKTokenKey           RS256 {WORK}/rs256.key.pem kid={RS_KID}
        GKTokenIssuer        {ISSUER}
        GKTokenAudience      {AUDIENCE}
        GKTokenLifetime      15m
        GKTokenDummyHashCost 5
        GKRateLimit token {LOGIN_LIMIT}/minute methods=POST
    </Location>

    # Logout (RFC 7009 style): a POST with the token to log out, or, as
    # here, with no token field at all: the token that authenticated the
    # request is revoked. From then on every AuthType gk-bearer location
    # refuses it with 401 invalid_token until it expires. The denylist
    # lives in shared memory (GKAuthRevocationStore shm, the default) and
    # in a journal (GKAuthRevocationJournal above), replayed at every start.
    <Location "/logout">
        SetHandler gk-revoke
        AuthType gk-bearer
        Require valid-user
    </Location>
</VirtualHost>
"""


# ---- the walk-through ------------------------------------------------------

class Step:
    def __init__(self, title, path, token=None, status=200, headers=None,
                 auth=None, check=None, note=None, method="GET",
                 repeat=1, counter=False, data=None, save=None):
        self.title = title
        self.path = path
        self.method = method
        self.token = token            # name in the token table
        self.status = status
        self.headers = dict(headers or {})
        self.auth = auth              # a literal Authorization value
        self.check = check            # fn(response) -> error text or None
        self.note = note
        self.repeat = repeat          # send it this many times, show the last
        self.counter = counter        # show the login counter in memcached
        self.data = data              # a form body (dict), sent urlencoded
        self.save = save              # keep the issued token under this name


def www_auth(resp):
    return resp.headers.get("WWW-Authenticate", "")


def expect_challenge(error):
    def check(resp):
        value = www_auth(resp)
        if not value.lower().startswith("bearer"):
            return "no Bearer challenge in WWW-Authenticate"
        if error is None:
            if "error=" in value:
                return "challenge should carry no error attribute"
        elif 'error="%s"' % error not in value:
            return 'challenge lacks error="%s"' % error
        return None
    return check


def expect_backend(**want):
    def check(resp):
        try:
            seen = resp.json().get("identity_headers", {})
        except ValueError:
            return "the backend's answer is not JSON"
        for name, value in want.items():
            name = name.replace("_", "-")
            got = seen.get(name)
            if value is None and got is not None:
                return "backend received %s: %r" % (name, got)
            if value is not None and got != value:
                return "backend received %s: %r, expected %r" % (
                    name, got, value)
        return None
    return check


ACX = "Access-Control-"


def acx_headers(resp):
    return [(k, v) for k, v in resp.headers.items()
            if k.lower().startswith(ACX.lower())]


def expect_cors(origin, preflight=False):
    def check(resp):
        h = resp.headers
        if h.get(ACX + "Allow-Origin") != origin:
            return "%sAllow-Origin is %r, expected %r" % (
                ACX, h.get(ACX + "Allow-Origin"), origin)
        if h.get(ACX + "Allow-Credentials") != "true":
            return "no %sAllow-Credentials: true" % ACX
        if preflight and "authorization" not in \
                h.get(ACX + "Allow-Headers", "").lower():
            return "%sAllow-Headers lacks authorization" % ACX
        return None
    return check


def expect_no_cors(resp):
    found = acx_headers(resp)
    if found:
        return "a refused origin got %s" % found[0][0]
    return None


RATELIMIT_FIELDS = ("Retry-After", "RateLimit-Policy", "RateLimit")


def expect_rate_limited(name, limit, window):
    """429 with Retry-After, the RateLimit fields of the draft
    (draft-ietf-httpapi-ratelimit-headers-10) and a problem+json body."""
    def check(resp):
        h = resp.headers
        try:
            retry = int(h.get("Retry-After", ""))
        except ValueError:
            return "no Retry-After in seconds"
        if not 1 <= retry <= window:
            return "Retry-After %d is not within the window" % retry
        want = '"%s";q=%d;w=%d' % (name, limit, window)
        if h.get("RateLimit-Policy") != want:
            return "RateLimit-Policy is %r, expected %r" % (
                h.get("RateLimit-Policy"), want)
        want = '"%s";r=0;t=%d' % (name, retry)
        if h.get("RateLimit") != want:
            return "RateLimit is %r, expected %r" % (h.get("RateLimit"), want)
        if not h.get("Content-Type", "").startswith(
                "application/problem+json"):
            return "the body is not problem+json"
        try:
            doc = resp.json()
        except ValueError:
            return "the problem+json body does not parse"
        if doc.get("status") != 429 or doc.get("title") != \
                "Too Many Requests":
            return "the problem body is %r" % doc
        return None
    return check


def jwt_part(token, i):
    """The decoded JSON of a token's header (0) or payload (1)."""
    part = token.split(".")[i]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def expect_token(user, roles, permissions):
    """gk-token's success (RFC 6749 section 5.1): 200, JSON with the
    token, Bearer and the lifetime, not to be cached; the token an
    RFC 9068 access token signed with the demo's RSA key (verified here
    with its public half, as the gateway does), for our issuer and
    audience, carrying the user's roles and their permissions."""
    def check(resp):
        if resp.headers.get("Content-Type") != "application/json":
            return "Content-Type is %r" % resp.headers.get("Content-Type")
        if resp.headers.get("Cache-Control") != "no-store" or \
                resp.headers.get("Pragma") != "no-cache":
            return "the answer may be cached"
        try:
            doc = resp.json()
        except ValueError:
            return "the answer is not JSON"
        if sorted(doc) != ["access_token", "expires_in", "token_type"] or \
                doc["token_type"] != "Bearer" or \
                doc["expires_in"] != TOKEN_LIFETIME:
            return "the answer is %r" % doc
        token = doc["access_token"]
        try:
            head = jwt_part(token, 0)
            got = jwt.decode(token, (WORK / "rs256.pub.pem").read_bytes(),
                             algorithms=["RS256"], audience=AUDIENCE,
                             issuer=ISSUER)
        except (ValueError, OSError, jwt.PyJWTError) as e:
            return "the token does not verify: %s" % e
        if head != {"alg": "RS256", "typ": "at+jwt", "kid": RS_KID}:
            return "the token's header is %r" % head
        if got.get("sub") != user or got.get("roles") != roles or \
                got.get("permissions") != permissions:
            return "the token's claims are %r" % got
        if got["exp"] - got["iat"] != TOKEN_LIFETIME or \
                len(got.get("jti", "")) != 22:
            return "the token's exp or jti is wrong: %r" % got
        return None
    return check


def expect_body(body):
    def check(resp):
        if resp.headers.get("Content-Type") != "application/json":
            return "Content-Type is %r" % resp.headers.get("Content-Type")
        if resp.text != body:
            return "the body is %r, expected %r" % (resp.text, body)
        return None
    return check


def expect_empty(resp):
    if resp.content:
        return "the body is %r, expected none" % resp.text[:200]
    return None


def expect_validation_errors(field, keyword, message, secret):
    """A 422 problem+json whose errors[] has (field, keyword, message) and
    nowhere the offending value."""
    def check(resp):
        if not resp.headers.get("Content-Type", "").startswith(
                "application/problem+json"):
            return "Content-Type is %r" % resp.headers.get("Content-Type")
        if secret in resp.text:
            return "the answer echoes the offending value"
        try:
            errs = resp.json().get("errors") or []
        except ValueError:
            return "the answer is not JSON"
        want = {"instanceLocation": field, "keyword": keyword,
                "message": message}
        if not any(all(e.get(k) == v for k, v in want.items())
                   for e in errs):
            return "no error %r in %r" % (want, errs)
        return None
    return check


def shorten(token):
    return "%s...%s" % (token[:16], token[-6:])


def preflight(origin, method="GET", headers="authorization"):
    return {"Origin": origin, "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers}


STEPS = [
    Step("A public page; the client forges an X-User header",
         "/public/hello", headers={"X-User": "mallory"},
         check=expect_backend(X_User=None),
         note="GKAuthClaimHeader strips client-sent copies everywhere."),
    Step("No token on a protected path", "/api/hello", status=401,
         check=expect_challenge(None)),
    Step("A malformed Authorization header", "/api/hello",
         auth="Bearer a b", status=400,
         check=expect_challenge("invalid_request")),
    Step("Alice's valid token (HS256)", "/api/hello", "ALICE",
         check=expect_backend(X_User="alice",
                              X_User_Email="alice@example.org",
                              X_Remote_User="alice")),
    Step("Alice on /admin/ without the admin role", "/admin/users",
         "ALICE", status=403, check=expect_challenge("insufficient_scope")),
    Step("Carol, role admin, token signed with RS256", "/admin/users",
         "CAROL", check=expect_backend(X_User="carol")),
    Step("Bob, role analyst: GKAuthRolePermissions grants reports:read",
         "/reports/q3", "BOB", check=expect_backend(X_User="bob")),
    Step("Carol, role admin: reports:* covers reports:read",
         "/reports/q3", "CAROL"),
    Step("Alice holds no reports permission", "/reports/q3", "ALICE",
         status=403, check=expect_challenge("insufficient_scope")),
    Step("An expired token (exp 10 minutes ago, leeway 60 s)",
         "/api/hello", "EXPIRED", status=401,
         check=expect_challenge("invalid_token")),
    Step("A forged token with \"alg\":\"none\"", "/api/hello",
         "ALG_NONE", status=401, check=expect_challenge("invalid_token")),
    Step("Key confusion: HS256 keyed with the RSA public key",
         "/admin/users", "CONFUSED", status=401,
         check=expect_challenge("invalid_token")),
    Step("Alice's token with the payload edited to roles [admin]",
         "/admin/users", "TAMPERED", status=401,
         check=expect_challenge("invalid_token")),
    Step("A token for another audience", "/api/hello", "OTHER_AUD",
         status=401, check=expect_challenge("invalid_token")),
    Step("CORS: a preflight from the allowed origin %s" % APP_ORIGIN,
         "/api/hello", method="OPTIONS", status=204,
         headers=preflight(APP_ORIGIN),
         check=expect_cors(APP_ORIGIN, preflight=True),
         note="Answered before authentication: a preflight carries no "
              "token."),
    Step("CORS: a preflight from a refused origin %s" % EVIL_ORIGIN,
         "/api/hello", method="OPTIONS", status=403,
         headers=preflight(EVIL_ORIGIN), check=expect_no_cors),
    Step("CORS: Alice's token sent from a page of %s" % EVIL_ORIGIN,
         "/api/hello", "ALICE", headers={"Origin": EVIL_ORIGIN},
         check=expect_no_cors,
         note="The server answers; the browser keeps the answer from "
              "the page."),
    Step("Rate limit: six login attempts (POST /login) within a minute; "
         "the limit is %d/minute per client" % LOGIN_LIMIT,
         "/login", method="POST", status=429, repeat=LOGIN_LIMIT + 1,
         check=expect_rate_limited("login", LOGIN_LIMIT, LOGIN_WINDOW),
         counter=True,
         note="Counted in access_checker, before authentication, in "
              "memcached: every child and thread of httpd, and every "
              "front end sharing the memcached, count in one counter."),
    Step("Validation: a new user with a weak password (POST /users, the "
         "seed's UserCreate as a JSON Schema)", "/users", method="POST",
         headers={"Content-Type": "application/json"},
         data=json.dumps(NEW_USER_WEAK), status=422,
         check=expect_validation_errors("/password", "minLength",
                                        "must be at least 12 characters",
                                        NEW_USER_WEAK["password"]),
         note="Parsed and validated by mod_gk_validate before the proxy: "
              "the backend never sees it, and the answer never repeats "
              "the password."),
    Step("Validation: the same user with a good password", "/users",
         method="POST", headers={"Content-Type": "application/json"},
         data=json.dumps(NEW_USER), check=expect_backend(),
         note="Valid: handed on to the backend as it was sent, framed "
              "with a Content-Length."),
    Step("The token endpoint: %s logs in with a password (POST /token, "
         "the password grant)" % TOKEN_USER, "/token", method="POST",
         data={"grant_type": "password", "username": TOKEN_USER,
               "password": TOKEN_PASSWORD},
         check=expect_token(TOKEN_USER, [TOKEN_ROLE], ["reports:read"]),
         save="ISSUED",
         note="Checked by mod_authn_file against the htpasswd -B file; "
              "signed with the RSA key GKAuthKey verifies (kid %s)."
              % RS_KID),
    Step("%s's issued token on /reports/: role %s, reports:read from "
         "GKAuthRolePermissions" % (TOKEN_USER.capitalize(), TOKEN_ROLE),
         "/reports/q3", "ISSUED",
         check=expect_backend(X_User=TOKEN_USER, X_GK_Roles=TOKEN_ROLE,
                              X_GK_Permissions="reports:read")),
    Step("%s logs out: POST /logout with the issued token and no token "
         "field" % TOKEN_USER.capitalize(), "/logout", "ISSUED",
         method="POST", data={}, check=expect_empty,
         headers={"Content-Type": "application/x-www-form-urlencoded"},
         note="SetHandler gk-revoke revokes the token that authenticated "
              "the request: 200 with an empty body (RFC 7009)."),
    Step("%s's logged-out token on /reports/ again" % TOKEN_USER.capitalize(),
         "/reports/q3", "ISSUED", status=401,
         check=expect_challenge("invalid_token"),
         note="Refused in authentication, before any Require: the reason "
              "is revoked (access.log), on every child of httpd."),
    Step("The token endpoint: a wrong password", "/token", method="POST",
         data={"grant_type": "password", "username": TOKEN_USER,
               "password": "wrong-password"},
         status=400, check=expect_body(INVALID_GRANT)),
    Step("The token endpoint: a user that does not exist", "/token",
         method="POST",
         data={"grant_type": "password", "username": "nobody",
               "password": "wrong-password"},
         status=400, check=expect_body(INVALID_GRANT),
         note="The same bytes as a wrong password, after a bcrypt check "
              "of the same cost: the answer tells no one which users "
              "exist."),
]


def curl_line(base, step):
    parts = ["curl -i"]
    if isinstance(step.data, str):
        parts.append("--data-binary '%s'" % step.data)
    elif step.data is not None:
        parts.append("-d '%s'" % "&".join("%s=%s" % kv
                                          for kv in step.data.items()))
    elif step.method != "GET":
        parts.append("-X " + step.method)
    if step.auth is not None:
        parts.append("-H 'Authorization: %s'" % step.auth)
    elif step.token:
        parts.append("-H \"Authorization: Bearer $%s\"" % step.token)
    for k, v in step.headers.items():
        parts.append("-H '%s: %s'" % (k, v))
    parts.append(base + step.path)
    if step.repeat > 1:
        return "for i in $(seq %d); do %s; done" % (step.repeat,
                                                   " ".join(parts))
    return " ".join(parts)


def describe(resp):
    lines = []
    cid = resp.headers.get("X-Correlation-ID")
    if cid:
        lines.append("X-Correlation-ID: %s (in the access and error logs "
                     "as %%L)" % cid)
    sec = [h for h in ("X-Frame-Options", "X-Content-Type-Options",
                       "Content-Security-Policy") if h in resp.headers]
    if sec:
        lines.append("security headers: " + "; ".join(
            "%s: %s" % (h, resp.headers[h]) for h in sec))
    value = www_auth(resp)
    if value:
        lines.append("WWW-Authenticate: " + value)
    if "Origin" in resp.request.headers:
        found = acx_headers(resp)
        for k, v in found:
            lines.append("%s: %s" % (k, v))
        if not found:
            lines.append("no %s* header" % ACX)
    for h in RATELIMIT_FIELDS:
        if h in resp.headers:
            lines.append("%s: %s" % (h, resp.headers[h]))
    ctype = resp.headers.get("Content-Type", "")
    if resp.request.path_url == "/token":
        lines += describe_token_answer(resp)
    elif ctype.startswith("application/problem+json") and \
            resp.status_code == 429:
        lines.append("problem+json body: %s" % resp.text.strip())
    elif ctype.startswith("application/problem+json") and \
            resp.status_code == 422:
        lines += describe_validation(resp)
    elif ctype.startswith("application/problem+json"):
        try:
            detail = resp.json().get("detail")
        except ValueError:
            detail = None
        lines.append("problem+json detail: %s" % (detail,))
    elif ctype.startswith("application/json"):
        try:
            doc = resp.json()
            seen = doc.get("identity_headers", {})
            shown = ", ".join("%s: %s" % kv for kv in seen.items())
            lines.append("backend saw: " + (shown or "no identity headers"))
        except ValueError:
            pass
    return lines


def describe_validation(resp):
    """mod_gk_validate's 422: the detail, then one line per error."""
    try:
        doc = resp.json()
    except ValueError:
        return ["body: %r" % resp.text[:200]]
    lines = ["problem+json detail: %s" % doc.get("detail")]
    for e in doc.get("errors") or []:
        lines.append("error: %s %s (%s, schema %s)" % (
            e.get("instanceLocation") or "/", e.get("message"),
            e.get("keyword"), e.get("keywordLocation")))
    return lines


def describe_token_answer(resp):
    """gk-token's JSON answer, the token shortened, then what the token
    says (its header and claims, decoded; the gateway checks them)."""
    lines = ["Cache-Control: %s; Pragma: %s" % (
        resp.headers.get("Cache-Control"), resp.headers.get("Pragma"))]
    try:
        doc = resp.json()
    except ValueError:
        return lines + ["body: %r" % resp.text[:200]]
    token = doc.get("access_token")
    if not isinstance(token, str):
        return lines + ["body: %s" % resp.text]
    shown = dict(doc, access_token=shorten(token))
    lines.append("body: %s" % json.dumps(shown, separators=(",", ":")))
    try:
        lines.append("token header: %s" % json.dumps(
            jwt_part(token, 0), separators=(",", ":")))
        lines.append("token claims: %s" % json.dumps(
            jwt_part(token, 1), separators=(",", ":")))
    except (ValueError, IndexError):
        lines.append("the token does not decode")
    return lines


def run_walkthrough(base, tokens, mc_port):
    session = requests.Session()
    session.trust_env = False   # no proxies or .netrc from the environment
    failures = 0
    say("Walk-through: real requests to %s" % base)
    say("")
    for n, step in enumerate(STEPS, 1):
        headers = dict(step.headers)
        if step.auth is not None:
            headers["Authorization"] = step.auth
        elif step.token:
            headers["Authorization"] = "Bearer " + tokens.get(step.token,
                                                              "")
        say("%2d. %s" % (n, step.title))
        say("    $ " + curl_line(base, step))
        if step.token and step.token not in tokens:
            failures += 1
            say("    FAIL: no token %s was issued" % step.token)
            continue
        if step.repeat > 1:
            # all of them within one window: fixed windows start on the
            # clock's minute, so wait for the next one when this one is
            # about to end
            left = LOGIN_WINDOW - time.time() % LOGIN_WINDOW
            if left < 5:
                say("    (waiting %.0f s for the next minute: the window "
                    "is aligned to the clock)" % left)
                time.sleep(left + 0.2)
        incr_before = 0
        if step.counter:
            try:
                st = memcached_stats(mc_port)
                incr_before = int(st.get("incr_hits", 0)) + \
                    int(st.get("incr_misses", 0))
            except OSError:
                pass
        try:
            before = []
            for _ in range(step.repeat - 1):
                r = session.request(step.method, base + step.path,
                                    headers=headers, timeout=10,
                                    allow_redirects=False)
                before.append(r)
            resp = session.request(step.method, base + step.path,
                                   headers=headers, data=step.data,
                                   timeout=10, allow_redirects=False)
        except requests.RequestException as e:
            failures += 1
            say("    FAIL: no answer (%s)" % e.__class__.__name__)
            continue
        for i, r in enumerate(before, 1):
            ok = r.status_code == 200 and r.headers.get(
                "RateLimit", "").startswith('"login";r=%d;t='
                                            % (LOGIN_LIMIT - i))
            say("    -> attempt %d: %d %s, RateLimit: %s%s" % (
                i, r.status_code, r.reason, r.headers.get("RateLimit"),
                "   ok" if ok else ""))
            if not ok:
                failures += 1
                say("    FAIL: expected 200 with %d left" % (LOGIN_LIMIT - i))
        problem = None
        if resp.status_code != step.status:
            problem = "expected %d" % step.status
        elif step.check:
            problem = step.check(resp)
        counter_lines = []
        if step.counter:
            counter_lines, wrong = show_login_counter(mc_port, incr_before)
            problem = problem or wrong
        say("    -> %s%d %s%s" % (
            "attempt %d: " % step.repeat if step.repeat > 1 else "",
            resp.status_code, resp.reason, "" if problem else "   ok"))
        for line in describe(resp):
            say("       " + line)
        for line in counter_lines:
            say("       " + line)
        if step.note:
            say("       (" + step.note + ")")
        if problem:
            failures += 1
            say("    FAIL: " + problem)
        elif step.save:
            tokens[step.save] = resp.json()["access_token"]
    say("")
    return failures


def show_json_log():
    """Show the JSON access log's line of the admin request (step 6);
    every line must parse and no token may appear in it."""
    path = WORK / "access.json"
    try:
        lines = path.read_text().splitlines()
    except OSError:
        say("FAIL: no JSON access log at %s" % path)
        return 1
    shown = limited = audit = None
    token_events = {}
    for line in lines:
        try:
            doc = json.loads(line)
        except ValueError:
            say("FAIL: a JSON log line does not parse: %r" % line[:200])
            return 1
        if "eyJ" in line:
            say("FAIL: a token reached the JSON log")
            return 1
        if (doc.get("user") or {}).get("name") == "carol":
            shown = line
        rl = (doc.get("gk") or {}).get("ratelimit") or {}
        if rl.get("reason") == "rate_limited":
            limited = rl
        if (doc.get("event") or {}).get("action") == "rate-limit-exceeded":
            audit = line
        if (doc.get("event") or {}).get("action") in ("token-issued",
                                                       "login-refused"):
            token_events.setdefault(doc["event"]["action"], line)
    say("The JSON access log (%s), one line a request; carol's:" % path)
    if shown is None:
        say("FAIL: no line for carol's request")
        return 1
    say(shown)
    say("")
    say("The refused login: its line's gk.ratelimit, then its audit event "
        "(mod_gk_log):")
    if limited is None or audit is None:
        say("FAIL: no gk.ratelimit of the refused login, or no audit event")
        return 1
    say(json.dumps(limited, separators=(",", ":")))
    say(audit)
    say("")
    say("The token endpoint's audit events (mod_gk_log): a token issued, "
        "a login refused:")
    if sorted(token_events) != ["login-refused", "token-issued"]:
        say("FAIL: no token-issued or no login-refused audit event")
        return 1
    say(token_events["token-issued"])
    say(token_events["login-refused"])
    say("")
    return 0


def password_in_logs():
    """The logs that hold the demo password (never one: gk-token logs no
    password at any LogLevel)."""
    found = []
    for name in ("error.log", "access.log", "access.json", "httpd.out"):
        try:
            text = (WORK / name).read_text(errors="replace")
        except OSError:
            continue
        if TOKEN_PASSWORD in text or "wrong-password" in text or \
                NEW_USER["password"] in text or \
                NEW_USER_WEAK["password"] in text:
            found.append(name)
    return found


def error_log_problems():
    """Lines that must never appear after the walk-through."""
    try:
        text = (WORK / "error.log").read_text(errors="replace")
    except OSError:
        return []
    bad = []
    for line in text.splitlines():
        if re.search(r"\] \[[a-z_]+:(error|crit|alert|emerg)\] ", line) \
                and re.search(r"GK\d{5}", line):
            bad.append(line)
        elif "Segmentation fault" in line or "exit signal" in line:
            bad.append(line)
    return bad


def print_try_it(base, tokens, mc_port):
    tokfile = WORK / "tokens.sh"
    with open(tokfile, "w") as f:
        f.write("# Demo tokens, valid for one hour from %s\n"
                % time.strftime("%H:%M"))
        for name, value in tokens.items():
            if name != "ISSUED":    # gk-token's, valid for 15 minutes
                f.write("%s='%s'\n" % (name, value))
    try:
        shown = os.path.relpath(tokfile)
    except ValueError:
        shown = str(tokfile)
    say("Try it yourself (tokens are valid for one hour):")
    say("")
    say("    . %s" % shown)
    say("    curl -i %s/api/hello" % base)
    say("    curl -i -H \"Authorization: Bearer $ALICE\" %s/api/hello" % base)
    say("    curl -i -H \"Authorization: Bearer $ALICE\" %s/admin/users"
        % base)
    say("    curl -i -H \"Authorization: Bearer $CAROL\" %s/admin/users"
        % base)
    say("    curl -i -H \"Authorization: Bearer $BOB\" %s/reports/q3" % base)
    say("    curl -i -X OPTIONS -H 'Origin: %s' "
        "-H 'Access-Control-Request-Method: GET' %s/api/hello"
        % (APP_ORIGIN, base))
    say("    curl -i -X POST %s/login     # %d a minute, then 429"
        % (base, LOGIN_LIMIT))
    say("")
    say("A token from the gateway's own token endpoint (user %s, password "
        "%s; valid %d minutes):" % (TOKEN_USER, TOKEN_PASSWORD,
                                    TOKEN_LIFETIME // 60))
    say("")
    say("    curl -i -d 'username=%s&password=%s' %s/token"
        % (TOKEN_USER, TOKEN_PASSWORD, base))
    say("    %s=$(curl -s -d 'username=%s&password=%s' %s/token | python3 "
        "-c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')"
        % (TOKEN_USER.upper(), TOKEN_USER, TOKEN_PASSWORD, base))
    say("    curl -i -H \"Authorization: Bearer $%s\" %s/reports/q3"
        % (TOKEN_USER.upper(), base))
    say("")
    say("Alice's token, to paste into a JWT viewer (HS256, roles [user]):")
    say("    " + tokens["ALICE"])
    say("")
    say("memcached's count of increments (one per counted login attempt, "
        "less one per new counter):")
    say("")
    say("    bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d; "
        "printf \"stats\\r\\nquit\\r\\n\" >&3; grep incr_ <&3'" % mc_port)
    say("")
    say("Configuration: %s" % (WORK / "httpd.conf"))
    say("Logs:          %s  %s" % (WORK / "error.log", WORK / "access.log"))
    say("")


# ---- main ------------------------------------------------------------------

class Demo:
    def __init__(self):
        self.httpd = None
        self.backend = None
        self.memcached = None
        self.mc_port = None
        self.sanitizer = None
        self.users = None

    def stop(self):
        # httpd first: memcached goes last, once nothing counts in it
        for proc in (self.httpd, self.backend, self.memcached):
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for name in ("httpd.pid", "backend.pid", "memcached.pid"):
            try:
                (WORK / name).unlink()
            except OSError:
                pass
        if self.users is not None and self.users.parent != WORK:
            shutil.rmtree(self.users.parent, ignore_errors=True)

    def start(self):
        apache = find_apache()
        for m in (MODULE, LOG_MODULE, HEADERS_MODULE, RATELIMIT_MODULE,
                  VALIDATE_MODULE):
            if not m.exists():
                sys.exit("demo: %s not found; run `make demo` (it builds "
                         "the modules first) or `make`" % m)
        WORK.mkdir(parents=True, exist_ok=True)
        (WORK / "run").mkdir(exist_ok=True)
        kill_leftovers()
        self.sanitizer = Sanitizer()
        self.sanitizer.prepare()
        for log in ("error.log", "access.log", "access.json", "httpd.out",
                    "memcached.out"):
            try:
                (WORK / log).unlink()
            except OSError:
                pass

        port = pick_port(int(os.environ.get("DEMO_PORT", "8480")))
        backend_port = pick_port(
            int(os.environ.get("DEMO_BACKEND_PORT", "8481")), avoid=(port,))
        self.mc_port = pick_port(
            int(os.environ.get("DEMO_MEMCACHED_PORT", "8482")),
            avoid=(port, backend_port))
        secret, rsa_key, pub_pem = make_keys()
        write_file(WORK / "user_create.schema.json", USER_SCHEMA.read_text(),
                   0o644)
        tokens = make_tokens(secret, rsa_key, pub_pem)
        self.users = make_users()
        conf = WORK / "httpd.conf"
        conf.write_text(httpd_conf(port, backend_port, self.mc_port,
                                   module_dir(), self.users))

        say("Gatekeeper demo: mod_gk_auth, mod_gk_log, mod_gk_headers, "
            "mod_gk_ratelimit and mod_gk_validate in front of an echo "
            "backend")
        say("  gateway  http://127.0.0.1:%d/   (httpd, %s)" % (port, conf))
        say("  backend  http://127.0.0.1:%d/   (docs/demo/backend.py)"
            % backend_port)
        say("  memcached  127.0.0.1:%d   (%s: the login limit's counters)"
            % (self.mc_port, MEMCACHED))
        if self.sanitizer.on:
            say("  sanitized: httpd runs with %s; reports go to %s"
                % (self.sanitizer.env["LD_PRELOAD"], self.sanitizer.dir))
        say("")

        test = subprocess.run([apache, "-t", "-f", str(conf)],
                              capture_output=True, text=True,
                              env=self.sanitizer.httpd_env())
        if test.returncode != 0:
            say("demo: httpd refused the configuration:")
            say(test.stderr.strip() or test.stdout.strip())
            return None

        self.memcached = start_memcached(self.mc_port)
        if not wait_port(self.mc_port, self.memcached):
            say("demo: memcached did not start; its output:")
            say((WORK / "memcached.out").read_text(errors="replace").strip())
            return None

        self.backend = subprocess.Popen(
            [PYTHON, str(BACKEND), str(backend_port),
             str(WORK / "backend.pid")],
            start_new_session=True, stdin=subprocess.DEVNULL)
        if not wait_port(backend_port, self.backend):
            say("demo: the echo backend did not start")
            return None

        out = open(WORK / "httpd.out", "wb")
        self.httpd = subprocess.Popen(
            [apache, "-f", str(conf), "-DFOREGROUND"],
            start_new_session=True, stdin=subprocess.DEVNULL,
            stdout=out, stderr=subprocess.STDOUT,
            env=self.sanitizer.httpd_env())
        out.close()
        if not wait_port(port, self.httpd):
            say("demo: httpd did not start; its output and error log:")
            say((WORK / "httpd.out").read_text(errors="replace").strip())
            self.show_error_log()
            return None
        return "http://127.0.0.1:%d" % port, tokens

    def show_error_log(self, lines=30):
        try:
            text = (WORK / "error.log").read_text(errors="replace")
        except OSError:
            return
        tail = text.splitlines()[-lines:]
        if tail:
            say("--- last lines of %s" % (WORK / "error.log"))
            for line in tail:
                say(line)
            say("---")


def main():
    demo = Demo()

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    # Ctrl-C stops the demo even when started with SIGINT ignored (as a
    # background job of a script); httpd and the backend run in their own
    # sessions, so the terminal's Ctrl-C reaches only this process.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        started = demo.start()
        if started is None:
            if demo.sanitizer:
                demo.stop()
                demo.sanitizer.reports()
            return 1
        base, tokens = started
        failures = run_walkthrough(base, tokens, demo.mc_port)
        time.sleep(0.3)  # let the last log lines reach the error log
        bad = error_log_problems()
        if bad:
            failures += 1
            say("FAIL: the error log shows problems:")
            for line in bad:
                say("    " + line)
        failures += demo.sanitizer.reports()
        failures += show_json_log()
        leaked = password_in_logs()
        if leaked:
            failures += 1
            say("FAIL: a password reached %s" % ", ".join(leaked))
        if failures:
            say("%d step(s) did not give the expected answer." % failures)
            demo.show_error_log()
        else:
            say("Every step gave the expected answer.")
        say("")
        if ONESHOT:
            demo.stop()     # a report at shutdown counts too
            failures += demo.sanitizer.reports()
            return 1 if failures else 0

        print_try_it(base, tokens, demo.mc_port)
        say("The gateway stays up; press Ctrl-C to stop it.")
        while True:
            if demo.httpd.poll() is not None:
                say("demo: httpd exited (status %s)" % demo.httpd.returncode)
                demo.show_error_log()
                return 1
            if demo.backend.poll() is not None:
                say("demo: the backend exited")
                return 1
            if demo.memcached.poll() is not None:
                say("demo: memcached exited")
                return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        say("")
        say("Stopping httpd, the backend and memcached.")
        demo.stop()
        return 1 if demo.sanitizer and demo.sanitizer.reports() else 0
    finally:
        demo.stop()


if __name__ == "__main__":
    sys.exit(main())
