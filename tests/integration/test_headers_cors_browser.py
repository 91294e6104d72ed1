"""mod_gk_headers: CORS as a real browser sees it (Debian's chromium,
headless).

One httpd, three loopback origins: two pages, http://127.0.0.1:<allowed>
(on GKCORSAllowOrigin) and http://127.0.0.1:<refused> (not on it), each
serving the same static page, and an API on http://127.0.0.1:<api> (the
echo CGI, behind GKSecurityHeaders api) with credentials on, X-Custom
allowed, GET POST PUT allowed, mod_gk_log loaded (so that X-Correlation-ID
is exposed by default) and a response header that is not exposed
(X-Secret-Out). The page's script makes, with the user's cookies,

  put   fetch(API/api/data, PUT, X-Custom: 1): a custom header and a method
        that is not CORS-safelisted, so the browser sends a preflight first;
  get   fetch(API/api/data): a simple request, no preflight;

and writes into <pre id=result> what it could read (status, the body,
X-Correlation-ID, X-Secret-Out) or the name of the error. chromium
--dump-dom prints the DOM after the script ran. The access log of the
API shows what the browser really sent: the preflight (204 for the allowed
origin, 403 for the other one) and, only when it was allowed, the PUT.

Skipped when /usr/bin/chromium is missing. The two pages load in two
chromium processes at once (--headless --no-sandbox --disable-gpu
--dump-dom --virtual-time-budget=10000), each with its own profile and
HOME under tmp_path, in its own session, killed as a group afterwards.
Loopback pages calling a loopback API need no Private Network Access flag.
"""

import html
import json
import os
import re
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from gkhttpd import GkConf
from gkhttpd.env import free_port
from gk_headers_helpers import need_headers_module

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_TIMEOUT = 60       # seconds a run may take (a first start is slow)
UUIDISH = re.compile(r"^[0-9A-Za-z._:-]{8,}$")

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>gk cors</title></head>
<body>
<pre id="result">pending</pre>
<script>
(async function () {
  const api = "%(api)s/api/data";
  const out = {origin: location.origin};
  // a cookie of 127.0.0.1 (cookies ignore the port): sent to the API only
  // when the fetch includes credentials
  document.cookie = "gkcors=1; path=/";
  async function read(r) {
    return {status: r.status, body: await r.text(),
            cid: r.headers.get("X-Correlation-ID"),
            secret: r.headers.get("X-Secret-Out")};
  }
  try {
    out.put = await read(await fetch(api, {
      credentials: "include", method: "PUT", headers: {"X-Custom": "1"}}));
  } catch (e) {
    out.put = {error: e.name, message: String(e.message)};
  }
  try {
    out.get = await read(await fetch(api + "?simple=1",
                                     {credentials: "include"}));
  } catch (e) {
    out.get = {error: e.name, message: String(e.message)};
  }
  document.getElementById("result").textContent = JSON.stringify(out);
})();
</script>
</body></html>
"""

LOG_FORMAT = ('"%{local}p %m %U origin=%{Origin}i '
              'acrm=%{Access-Control-Request-Method}i '
              'acrh=%{Access-Control-Request-Headers}i %>s"')


@pytest.fixture(autouse=True, scope="module")
def _need_module(env):
    need_headers_module(env)
    if not env.has_gk_module("log"):
        pytest.skip("mod_gk_log not built (X-Correlation-ID is the exposed "
                    "header)")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("%s is missing (Debian package chromium): the browser "
                    "test needs a real browser" % CHROMIUM)


def run_chromium(url, profile, timeout=CHROMIUM_TIMEOUT):
    """chromium --dump-dom url in its own session: (rc, stdout, stderr).
    Whatever is left of that session afterwards is killed."""
    profile.mkdir(parents=True, exist_ok=True)
    home = profile / "home"
    home.mkdir(exist_ok=True)
    cmd = [CHROMIUM, "--headless", "--disable-gpu", "--dump-dom",
           "--virtual-time-budget=10000",
           "--user-data-dir=%s" % (profile / "data"),
           "--no-first-run", "--no-default-browser-check",
           "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--disable-extensions",
           "--disable-dev-shm-usage",
           # required as root, and where user namespaces are not
           # available (containers); the browser loads only our pages
           "--no-sandbox", url]
    env = dict(os.environ, HOME=str(home),
               XDG_CONFIG_HOME=str(home / ".config"),
               XDG_CACHE_HOME=str(home / ".cache"))
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        out, err = b"", b"chromium timed out after %d s" % timeout
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # its renderers, zygotes...
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
    return proc.returncode, out.decode(errors="replace"), \
        err.decode(errors="replace")


def page_result(url, profile):
    """What the page's script wrote into <pre id=result>, as a dict."""
    rc, dom, err = run_chromium(url, profile)
    m = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
    assert m, "no result in the DOM of %s (rc %s):\n%s\n%s" % (
        url, rc, dom[-2000:], err[-3000:])
    text = html.unescape(m.group(1))
    assert text != "pending", "the script did not finish on %s:\n%s" % (
        url, err[-3000:])
    return json.loads(text)


class TestCorsBrowser:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, tmp_path_factory):
        cls = self.__class__
        ports = set()
        while len(ports) < 3:
            p = free_port()
            if p not in (env.port, env.backend_port):
                ports.add(p)
        cls.allowed, cls.refused, cls.api = sorted(ports)
        cls.api_origin = "http://127.0.0.1:%d" % cls.api
        page_dir = env.htdocs / "cors-browser"
        env.write_file(page_dir / "page.html",
                       PAGE % {"api": cls.api_origin})
        cls.log_path = env.logs_dir / "cors_browser_access.log"
        if cls.log_path.exists():
            cls.log_path.unlink()

        conf = GkConf(env, gk_modules=("headers", "log"))
        for p in (cls.allowed, cls.refused, cls.api):
            conf.add("Listen 127.0.0.1:%d" % p)
        conf.add("LogFormat %s gkcors" % LOG_FORMAT)
        conf.add('CustomLog "%s" gkcors' % cls.log_path)
        for p in (cls.allowed, cls.refused):
            conf.add("""
                <VirtualHost 127.0.0.1:%d>
                    ServerName 127.0.0.1
                    Alias /page.html "%s/page.html"
                </VirtualHost>
            """ % (p, page_dir))
        conf.add("""
            <VirtualHost 127.0.0.1:%d>
                ServerName 127.0.0.1
                ScriptAlias /api/data "%s/echo.py"
                Header always set X-Secret-Out hidden
                GKSecurityHeaders api
                GKCORSAllowOrigin http://127.0.0.1:%d
                GKCORSAllowCredentials On
                GKCORSAllowHeaders X-Custom
                GKCORSAllowMethods GET POST PUT
            </VirtualHost>
        """ % (cls.api, env.cgi_dir, cls.allowed))
        conf.install()
        env.apache_restart()

        base = tmp_path_factory.mktemp("chromium")
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=2) as pool:
            futs = {name: pool.submit(
                        page_result,
                        "http://127.0.0.1:%d/page.html" % port, base / name)
                    for name, port in (("allowed", cls.allowed),
                                       ("refused", cls.refused))}
            cls.results = {name: f.result() for name, f in futs.items()}
        cls.browser_seconds = time.monotonic() - start
        cls.log = self.read_log(cls)

    @staticmethod
    def read_log(cls, settle=3.0):
        """The access log's lines as dicts, once the requests the browser
        made have all been logged (the log line follows the answer)."""
        want = 2 + 4 + 3          # pages; allowed: OPTIONS PUT GET; GET
        deadline = time.monotonic() + settle
        while True:
            try:
                lines = cls.log_path.read_text().splitlines()
            except FileNotFoundError:
                lines = []
            if len(lines) >= want or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        out = []
        for line in lines:
            m = re.match(r"(\d+) (\S+) (\S+) origin=(\S*) acrm=(\S*) "
                         r"acrh=(.*) (\d{3})$", line)
            assert m, "unexpected access log line %r" % line
            port, method, path, origin, acrm, acrh, status = m.groups()
            out.append({"port": int(port), "method": method, "path": path,
                        "origin": origin, "acrm": acrm, "acrh": acrh,
                        "status": int(status), "line": line})
        return out

    def api_lines(self, origin_port):
        origin = "http://127.0.0.1:%d" % origin_port
        return [l for l in self.log
                if l["port"] == self.api and l["path"] == "/api/data"
                and l["origin"] == origin]

    def ctx(self):
        return "browser results: %s\naccess log:\n%s" % (
            json.dumps(self.results, indent=1),
            "\n".join(l["line"] for l in self.log))

    # -- the allowed origin --------------------------------------------------
    def test_gk_headers_050_01_allowed_reads_body(self, env):
        put = self.results["allowed"]["put"]
        assert "error" not in put, self.ctx()
        assert put["status"] == 200, self.ctx()
        seen = json.loads(put["body"])
        assert seen["env"]["REQUEST_METHOD"] == "PUT"
        # the custom header and the cookie (credentials: "include") arrived
        assert seen["headers"].get("x-custom") == "1", self.ctx()
        assert "gkcors=1" in seen["headers"].get("cookie", ""), self.ctx()
        assert seen["headers"].get("origin") == \
            "http://127.0.0.1:%d" % self.allowed

    def test_gk_headers_050_02_allowed_reads_exposed_header_only(self, env):
        for kind in ("put", "get"):
            res = self.results["allowed"][kind]
            assert "error" not in res, self.ctx()
            # exposed by default when mod_gk_log is loaded
            assert res["cid"] and UUIDISH.match(res["cid"]), self.ctx()
            # set by the server but not in Access-Control-Expose-Headers
            assert res["secret"] is None, self.ctx()
        assert self.results["allowed"]["get"]["status"] == 200
        assert json.loads(self.results["allowed"]["get"]["body"])[
            "env"]["REQUEST_METHOD"] == "GET"

    def test_gk_headers_050_03_allowed_preflight_then_put(self, env):
        lines = self.api_lines(self.allowed)
        kinds = [(l["method"], l["acrm"], l["status"]) for l in lines]
        assert ("OPTIONS", "PUT", 204) in kinds, self.ctx()
        assert ("PUT", "-", 200) in kinds, self.ctx()
        assert kinds.index(("OPTIONS", "PUT", 204)) < \
            kinds.index(("PUT", "-", 200)), self.ctx()
        pre = lines[kinds.index(("OPTIONS", "PUT", 204))]
        assert pre["acrh"].lower() == "x-custom", self.ctx()
        # the simple GET needs no preflight: one OPTIONS in all
        assert [k[0] for k in kinds].count("OPTIONS") == 1, self.ctx()
        assert ("GET", "-", 200) in kinds, self.ctx()

    # -- the refused origin --------------------------------------------------
    def test_gk_headers_050_04_refused_fetch_fails(self, env):
        res = self.results["refused"]
        for kind in ("put", "get"):
            assert res[kind].get("error") == "TypeError", self.ctx()
            assert "status" not in res[kind], self.ctx()

    def test_gk_headers_050_05_refused_preflight_403_no_put(self, env):
        # the page was served: the browser ran the script
        assert any(l["port"] == self.refused and l["path"] == "/page.html"
                   and l["status"] == 200 for l in self.log), self.ctx()
        lines = self.api_lines(self.refused)
        kinds = [(l["method"], l["acrm"], l["status"]) for l in lines]
        # the browser asked, the module refused, the PUT was never sent
        assert ("OPTIONS", "PUT", 403) in kinds, self.ctx()
        assert not [k for k in kinds if k[0] == "PUT"], self.ctx()
        # the simple GET was sent and answered, without any
        # Access-Control-* header: the browser kept the answer from the page
        assert ("GET", "-", 200) in kinds, self.ctx()
