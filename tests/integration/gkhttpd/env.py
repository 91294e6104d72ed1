"""GkEnv: where things are, and how httpd is started, stopped, restarted.

httpd is Debian's /usr/sbin/apache2, run directly as
    apache2 -d <gen>/apache -f <gen>/apache/conf/httpd.conf -DFOREGROUND
in its own process group, on two free loopback ports: `port` for the tests
and `backend_port` for a backend virtual host (the proxy target).

Sanitized mode (`make check-asan`: GK_SANITIZE=1, or a module in the build
directory linked against libasan): apache2, and only apache2, gets gcc's
ASan and UBSan runtimes preloaded and options that write every report to
<gen>/sanitizer/; conftest.py fails the test after which a report shows up.
"""

import grp
import json
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from .log import ErrorLog

ECHO_CGI = r'''#!/usr/bin/python3 -IS
# Gatekeeper test backend: shows what a CGI/backend sees, as JSON.
import json, os, sys

NAMES = ("REMOTE_USER", "AUTH_TYPE", "REQUEST_METHOD", "REQUEST_URI",
         "QUERY_STRING", "SCRIPT_NAME", "SERVER_PORT")
env = {k: os.environ[k] for k in NAMES if k in os.environ}
env.update({k: v for k, v in os.environ.items() if k.startswith("GK_")})
headers = {}
for k, v in os.environ.items():
    if k.startswith("HTTP_"):
        headers[k[5:].replace("_", "-").lower()] = v
body = json.dumps({"env": env, "headers": headers}, sort_keys=True).encode()
sys.stdout.buffer.write(b"Content-Type: application/json\r\n"
                        b"Content-Length: %d\r\n\r\n" % len(body) + body)
'''


class StartFailure(Exception):
    pass


# The runtimes a sanitized module needs, in LD_PRELOAD order: ASan must come
# first in the initial library list.
SANITIZER_RUNTIMES = ("libasan.so", "libubsan.so")


def sanitizer_runtimes(cc="gcc"):
    """Absolute paths of gcc's ASan and UBSan runtimes."""
    out = []
    for name in SANITIZER_RUNTIMES:
        try:
            path = subprocess.run([cc, "-print-file-name=" + name],
                                  capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            path = ""
        # without the library, gcc prints the bare name back
        if not os.path.isabs(path) or not os.path.exists(path):
            raise RuntimeError("sanitized mode: `%s -print-file-name=%s` "
                               "found no runtime" % (cc, name))
        out.append(os.path.realpath(path))
    return out


def is_sanitized_module(path):
    """True when the shared object names libasan (as a NEEDED library)."""
    try:
        with open(path, "rb") as f:
            return b"libasan.so." in f.read()
    except OSError:
        return False


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def _others_can_traverse(path):
    """True when a process running as www-data can reach path (every
    ancestor directory is searchable by others or by www-data)."""
    try:
        wd = pwd.getpwnam("www-data")
    except KeyError:
        return True
    p = Path(path).resolve()
    for d in [p] + list(p.parents):
        if not d.exists():
            continue
        st = d.stat()
        if st.st_uid == wd.pw_uid and st.st_mode & stat.S_IXUSR:
            continue
        if st.st_gid == wd.pw_gid and st.st_mode & stat.S_IXGRP:
            continue
        if st.st_mode & stat.S_IXOTH:
            continue
        return False
    return True


class RawResponse:
    """A response read from a raw socket (for requests that the requests
    library refuses to send, e.g. CR/LF in a header or duplicate headers)."""

    def __init__(self, data):
        self.raw = data
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        self.status_code = int(parts[1]) if len(parts) > 1 else 0
        self.headers = requests.structures.CaseInsensitiveDict()
        self.header_list = []
        for l in lines[1:]:
            k, _, v = l.partition(":")
            self.header_list.append((k.strip(), v.strip()))
            if k.strip() in self.headers:
                self.headers[k.strip()] += ", " + v.strip()
            else:
                self.headers[k.strip()] = v.strip()
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = _dechunk(body)
        self.content = body
        self.text = body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.content)


def _dechunk(data):
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2:]
    return out


class GkEnv:
    MPMS = ("event", "worker", "prefork")

    def __init__(self, mpm="event", gen_dir=None, build_dir=None):
        self.test_dir = Path(__file__).resolve().parent.parent
        self.repo_root = self._find_repo_root(self.test_dir)
        self.build_dir = Path(build_dir or os.environ.get("GK_BUILD_DIR")
                              or self.repo_root / "build").resolve()
        self.apache_bin = shutil.which("apache2", path="/usr/sbin:/usr/bin"
                                       ":" + os.environ.get("PATH", "")) \
            or "/usr/sbin/apache2"
        self.apxs = shutil.which("apxs") or "/usr/bin/apxs"
        self.mod_dir = Path(self._apxs_q("LIBEXECDIR")
                            or "/usr/lib/apache2/modules")
        if mpm not in self.MPMS:
            raise ValueError("unknown MPM %r" % mpm)
        self.default_mpm = mpm
        self.mpm = mpm

        # GK_GEN_DIR lets two suites (e.g. a sanitized one) run side by side
        gen = Path(gen_dir or os.environ.get("GK_GEN_DIR")
                   or self.test_dir / "gen")
        self.is_root = os.geteuid() == 0
        if self.is_root and not _others_can_traverse(gen.parent):
            # e.g. a checkout under /root: www-data cannot reach it
            gen = Path(tempfile.mkdtemp(prefix="gk-itest-"))
        self.gen_dir = gen
        # sanitized mode: GK_SANITIZE=1 or 0, else what the module says
        san = os.environ.get("GK_SANITIZE", "").strip().lower()
        if san:
            self.sanitize = san not in ("0", "no", "off", "false")
        else:
            self.sanitize = any(is_sanitized_module(self.gk_module_path(n))
                                for n in self.built_gk_modules())
        self.sanitizer_dir = gen / "sanitizer"
        self._sanitizer_env = None
        self.server_root = gen / "apache"
        self.conf_dir = self.server_root / "conf"
        self.htdocs = self.server_root / "htdocs"
        self.cgi_dir = self.server_root / "cgi-bin"
        self.logs_dir = self.server_root / "logs"
        self.run_dir = self.server_root / "run"
        self.keys_dir = gen / "keys"
        self.data_dir = gen / "data"
        self.conf_file = self.conf_dir / "httpd.conf"
        self.test_conf = self.conf_dir / "test.conf"
        self.pid_file = self.run_dir / "httpd.pid"
        self.stderr_file = self.logs_dir / "stderr.log"
        self.error_log = ErrorLog(str(self.logs_dir / "error_log"))

        self.port = free_port()
        self.backend_port = free_port()
        while self.backend_port == self.port:
            self.backend_port = free_port()
        self.user = "www-data" if self.is_root else None
        self.group = "www-data" if self.is_root else None
        self.extra_env = {}
        # the module whose tests run (test_<name>_*.py), set by conftest.py:
        # GkConf loads it alone unless told otherwise
        self.module_under_test = None
        self._proc = None
        self._running_mpm = None

    # ---- paths ---------------------------------------------------------
    @staticmethod
    def _find_repo_root(start):
        for d in [start] + list(start.parents):
            if (d / "Makefile").exists() and (d / "tests").is_dir() \
                    and (d / "common").is_dir():
                return d
        return start.parent.parent

    def _apxs_q(self, var):
        try:
            return subprocess.run([self.apxs, "-q", var], capture_output=True,
                                  text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    def gk_module_path(self, name):
        return self.build_dir / ("mod_gk_%s.so" % name)

    def has_gk_module(self, name):
        return self.gk_module_path(name).is_file()

    def built_gk_modules(self):
        """Names of the modules built: every <build>/mod_gk_<name>.so."""
        return sorted(p.name[len("mod_gk_"):-len(".so")]
                      for p in self.build_dir.glob("mod_gk_*.so")
                      if p.is_file())

    def source_gk_modules(self):
        """Names of the modules in the source tree: mod_gk_<name>/ holding
        mod_gk_<name>.c (the Makefile's rule)."""
        return sorted(p.name[len("mod_gk_"):]
                      for p in self.repo_root.glob("mod_gk_*")
                      if (p / (p.name + ".c")).is_file())

    def mod_path(self, name):
        return self.mod_dir / ("mod_%s.so" % name)

    @property
    def http_base(self):
        return "http://127.0.0.1:%d" % self.port

    def url(self, path, port=None):
        return "http://127.0.0.1:%d%s" % (port or self.port, path)

    # ---- filesystem ----------------------------------------------------
    def setup(self):
        for d in (self.gen_dir, self.server_root, self.conf_dir, self.htdocs,
                  self.cgi_dir, self.logs_dir, self.run_dir, self.keys_dir,
                  self.data_dir):
            d.mkdir(parents=True, exist_ok=True)
        (self.htdocs / "ok.txt").write_text("ok\n")
        cgi = self.cgi_dir / "echo.py"
        cgi.write_text(ECHO_CGI)
        cgi.chmod(0o755)
        for f in self.logs_dir.iterdir():
            if f.is_file():
                f.unlink()
        if self.sanitize:
            # reports of an earlier run are not this run's
            shutil.rmtree(self.sanitizer_dir, ignore_errors=True)
            self.sanitizer_dir.mkdir(parents=True)
        self.make_readable()

    def make_readable(self, path=None):
        """Let www-data read every file and enter every directory below
        path (default: the whole gen tree)."""
        top = Path(path or self.gen_dir)
        paths = [top]
        if top.is_dir():
            for root, dirs, files in os.walk(top):
                paths += [Path(root) / n for n in dirs + files]
        for p in paths:
            if p.is_symlink():
                continue
            mode = p.stat().st_mode
            add = stat.S_IRGRP | stat.S_IROTH
            if p.is_dir() or mode & stat.S_IXUSR:
                add |= stat.S_IXGRP | stat.S_IXOTH
            p.chmod(stat.S_IMODE(mode) | add)
        if self.is_root:
            # the run dir holds the cgid socket and mutexes
            os.chown(self.run_dir, 0, grp.getgrnam("www-data").gr_gid)
            self.run_dir.chmod(0o775)
            if self.sanitize and self.sanitizer_dir.is_dir():
                # the children (www-data) write their reports there
                os.chown(self.sanitizer_dir, 0,
                         grp.getgrnam("www-data").gr_gid)
                self.sanitizer_dir.chmod(0o775)

    def write_file(self, path, content, mode=0o644):
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode()
        p.write_bytes(content)
        p.chmod(mode)
        return p

    # ---- process control -----------------------------------------------
    def _httpd_env(self):
        e = dict(os.environ)
        if self.sanitize:
            e.update(self.sanitizer_env())
        e.update(self.extra_env)
        return e

    # ---- sanitized mode --------------------------------------------------
    def sanitizer_env(self):
        """What apache2 (and nothing else) gets in sanitized mode: the
        runtimes preloaded, reports written to files in sanitizer_dir.

        httpd hides a child's crash (its own SIGSEGV handler, nothing
        logged for a non-zero exit) and a report has no log level, hence
        files.  Leak detection stays off: children never run the
        configuration pool's cleanups."""
        if self._sanitizer_env is None:
            d = self.sanitizer_dir
            preload = sanitizer_runtimes()
            if os.environ.get("LD_PRELOAD"):
                preload.append(os.environ["LD_PRELOAD"])
            self._sanitizer_env = {
                "LD_PRELOAD": ":".join(preload),
                "ASAN_OPTIONS": "detect_leaks=0:allow_user_segv_handler=0:"
                                "abort_on_error=1:log_path=%s/asan" % d,
                "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:"
                                 "log_path=%s/ubsan" % d,
            }
        return dict(self._sanitizer_env)

    def sanitizer_reports(self, settle=3.0):
        """The reports written since the last call, as (file name, text);
        each is moved to sanitizer_dir/reported/ so that it is reported
        once.  [] when not sanitized."""
        if not self.sanitize or not self.sanitizer_dir.is_dir():
            return []
        files = sorted(f for f in self.sanitizer_dir.iterdir()
                       if f.is_file())
        if not files:
            return []
        # a report takes several writes: wait until the sizes settle
        sizes = None
        end = time.monotonic() + settle
        while time.monotonic() < end:
            now = [f.stat().st_size if f.exists() else -1 for f in files]
            if now == sizes:
                break
            sizes = now
            time.sleep(0.1)
        done = self.sanitizer_dir / "reported"
        done.mkdir(exist_ok=True)
        out = []
        for f in files:
            try:
                text = f.read_text(errors="replace")
                f.rename(done / f.name)
            except FileNotFoundError:
                continue
            out.append((f.name, text))
        return out

    def _cmd(self, *extra):
        return [self.apache_bin, "-d", str(self.server_root),
                "-f", str(self.conf_file)] + list(extra)

    def is_live(self, port=None, timeout=0.2):
        try:
            with socket.create_connection(("127.0.0.1", port or self.port),
                                          timeout=timeout):
                return True
        except OSError:
            return False

    @property
    def is_running(self):
        return self._proc is not None and self._proc.poll() is None

    def died(self):
        """The exit status when the server we started has exited on its
        own (not stopped by us), else None."""
        if self._proc is not None and self._proc.poll() is not None:
            return self._proc.returncode
        return None

    def _kill_stale(self):
        """A server left over by an interrupted run of ours (same pid file)
        is ended by its pid."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        try:
            cmdline = Path("/proc/%d/cmdline" % pid).read_bytes()
        except OSError:
            return
        if str(self.conf_file).encode() in cmdline:
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                if not Path("/proc/%d" % pid).exists():
                    break
                time.sleep(0.1)

    def apache_start(self, timeout=15, retries=3):
        """Start and wait until both ports answer.  A start that fails
        because a port is still held (a slow shutdown before) is retried."""
        for attempt in range(retries):
            try:
                return self._start_once(timeout)
            except StartFailure as e:
                if "Address already in use" not in str(e) \
                        or attempt == retries - 1:
                    raise
                time.sleep(1)

    def _start_once(self, timeout):
        if self.is_running:
            return
        self._kill_stale()
        pos = self.error_log._size()
        spos = self.stderr_file.stat().st_size \
            if self.stderr_file.exists() else 0
        err = open(self.stderr_file, "ab")
        self._proc = subprocess.Popen(self._cmd("-DFOREGROUND"),
                                      stdin=subprocess.DEVNULL,
                                      stdout=err, stderr=err,
                                      env=self._httpd_env(),
                                      start_new_session=True)
        err.close()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self._proc.poll() is not None:
                out = self._read_stderr_since(spos)
                logs = "\n".join(l.text for l in
                                 self.error_log.lines_since(pos))
                self._proc = None
                raise StartFailure("httpd exited at startup:\n%s\n%s"
                                   % (out, logs))
            if self.is_live(self.port) and self.is_live(self.backend_port):
                time.sleep(0.05)
                if self._proc.poll() is not None:
                    continue        # someone else answers on our port
                self._running_mpm = self.mpm
                return
            time.sleep(0.05)
        self.apache_stop()
        raise StartFailure("httpd did not answer on port %d within %ds"
                           % (self.port, timeout))

    def _read_stderr_since(self, pos):
        try:
            with open(self.stderr_file, "rb") as f:
                f.seek(pos)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _read_stderr_tail(self, n=8000):
        try:
            return self.stderr_file.read_bytes()[-n:].decode("utf-8",
                                                             "replace")
        except OSError:
            return ""

    def apache_stop(self, timeout=15):
        p = self._proc
        if p is None:
            return
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(5)
        self._proc = None
        # children may still hold the listening socket for a moment
        end = time.monotonic() + 5
        while time.monotonic() < end and (self.is_live(self.port)
                                          or self.is_live(self.backend_port)):
            time.sleep(0.05)

    def apache_restart(self):
        """Full stop and start (the MPM may change between classes)."""
        self.apache_stop()
        self.apache_start()
        return 0

    def apache_graceful(self, timeout=15):
        """SIGUSR1: re-read the config, new children; wait until done."""
        if not self.is_running:
            raise StartFailure("httpd is not running")
        pos = self.error_log._size()
        self._proc.send_signal(signal.SIGUSR1)
        line = self.error_log.wait_for(r"resuming normal operations",
                                       timeout=timeout, since=pos)
        if line is None or self._proc.poll() is not None:
            raise StartFailure("graceful restart failed:\n%s\n%s" % (
                self._read_stderr_tail(),
                "\n".join(l.text for l in self.error_log.lines_since(pos))))
        # let the old generation's listeners go
        time.sleep(0.3)
        end = time.monotonic() + timeout
        while not self.is_live() and time.monotonic() < end:
            time.sleep(0.05)

    def apache_fail(self, timeout=15):
        """Expect the installed config to be refused, by `apache2 -t` and
        by a start.  Returns a FailResult; never leaves a server running."""
        self.apache_stop()
        pos = self.error_log._size()
        t = subprocess.run(self._cmd("-t"), capture_output=True, text=True,
                           env=self._httpd_env(), timeout=timeout)
        spos = self.stderr_file.stat().st_size \
            if self.stderr_file.exists() else 0
        err = open(self.stderr_file, "ab")
        p = subprocess.Popen(self._cmd("-DFOREGROUND"),
                             stdin=subprocess.DEVNULL, stdout=err,
                             stderr=err, env=self._httpd_env(),
                             start_new_session=True)
        err.close()
        started = False
        end = time.monotonic() + timeout
        while p.poll() is None and time.monotonic() < end:
            if self.is_live(self.port):
                started = True
                break
            time.sleep(0.05)
        if started:
            # httpd binds its listeners before the open_logs hooks run, so
            # a refusal there can answer a connect for a moment: a server
            # that exits right after did not start
            try:
                p.wait(1.0)
            except subprocess.TimeoutExpired:
                pass
            if p.poll() is not None and p.returncode != 0:
                started = False
        if p.poll() is None:
            self._proc = p
            self.apache_stop()
            started = True
        with open(self.stderr_file, "rb") as f:
            f.seek(spos)
            start_out = f.read().decode("utf-8", "replace")
        log = "\n".join(l.text for l in self.error_log.lines_since(pos))
        self.error_log.mark()
        return FailResult(t.returncode, t.stdout + t.stderr,
                          None if started else p.returncode, start_out, log)

    def apache_test_config(self):
        """`apache2 -t`: (returncode, output)."""
        t = subprocess.run(self._cmd("-t"), capture_output=True, text=True,
                           env=self._httpd_env(), timeout=15)
        return t.returncode, t.stdout + t.stderr

    # ---- HTTP ----------------------------------------------------------
    def request(self, path, method="GET", token=None, headers=None,
                port=None, scheme="Bearer", cookies=None, **kw):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "%s %s" % (scheme, token)
        if cookies is not None:
            h["Cookie"] = cookies if isinstance(cookies, str) else \
                "; ".join("%s=%s" % kv for kv in cookies.items())
        h.setdefault("Connection", "close")
        return requests.request(method, self.url(path, port), headers=h,
                                allow_redirects=False, timeout=20, **kw)

    def get(self, path, token=None, **kw):
        return self.request(path, "GET", token=token, **kw)

    def raw(self, data, port=None, timeout=20):
        """Send bytes as they are; `data` may be a str with \\n line ends
        (turned into CRLF) or bytes (sent verbatim)."""
        if isinstance(data, str):
            data = data.replace("\r\n", "\n").replace("\n", "\r\n").encode(
                "latin-1")
        with socket.create_connection(("127.0.0.1", port or self.port),
                                      timeout=timeout) as s:
            s.sendall(data)
            chunks = []
            while True:
                try:
                    b = s.recv(65536)
                except ConnectionResetError:
                    break
                if not b:
                    break
                chunks.append(b)
        return RawResponse(b"".join(chunks))

    def raw_get(self, path, header_lines=(), port=None):
        """GET with header lines given verbatim (bytes or str, no CRLF);
        they may contain anything, duplicates included."""
        out = b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" \
            % path.encode()
        for l in header_lines:
            out += (l.encode("latin-1") if isinstance(l, str) else l) \
                + b"\r\n"
        return self.raw(out + b"\r\n", port=port)


class FailResult:
    def __init__(self, test_rc, test_out, start_rc, start_out, log):
        self.test_rc = test_rc          # `apache2 -t` exit code
        self.test_out = test_out
        self.start_rc = start_rc        # None: it started (not refused)
        self.start_out = start_out
        self.log = log

    @property
    def refused_by_configtest(self):
        return self.test_rc != 0

    @property
    def refused_at_start(self):
        return self.start_rc is not None and self.start_rc != 0

    def assert_refused(self, *needles):
        """Refused by `apache2 -t` and by a start, with every needle (a
        directive's name, a log tag) in what httpd said."""
        assert self.refused_by_configtest, self
        assert self.refused_at_start, self
        for n in needles:
            assert n in self.output, self

    @property
    def output(self):
        return "\n".join([self.test_out, self.start_out, self.log])

    def problems(self, needle):
        """What is wrong with this refusal, [] when nothing: -t or the
        start accepted it, or what httpd said does not name needle."""
        why = []
        if not self.refused_by_configtest:
            why.append("apache2 -t accepted it")
        if not self.refused_at_start:
            why.append("httpd started")
        if (self.refused_by_configtest or self.refused_at_start) \
                and needle not in self.output:
            why.append("message does not name %s: %s" % (
                needle, " | ".join(l for l in self.output.split("\n")
                                   if l.strip())[-300:]))
        return why

    def __repr__(self):
        return ("<FailResult -t rc=%s start rc=%s>\n--- apache2 -t:\n%s\n"
                "--- start:\n%s\n--- error_log:\n%s" % (
                    self.test_rc, self.start_rc, self.test_out,
                    self.start_out, self.log))
