"""mod_gk_ratelimit: behaviour against a real httpd.

The RateLimit / RateLimit-Policy fields and Retry-After against the
clock-aligned window, rollover, every key kind and the fallback, empty
keys, methods=, report mode, nested / removed / replaced limits, the
seed's login example, the notes, no double count through ErrorDocument or
subrequests, GKRateLimitHeaders Off, the problem+json body with the module
alone.

Most limits are keyed by a header carrying a fresh marker per test
(key=header:X-Run), so each test has counters of its own whatever ran
before; limits keyed by ip are used once per server life.
"""

import json
import time

import pytest

from gkhttpd import GkConf
from gkhttpd.check import assert_problem
from gk_log_helpers import raw_request
from gk_ratelimit_helpers import (NOTES_FORMAT, align_window, ensure_window,
                                  fields, install_sink_cgi, marker,
                                  need_ratelimit_module,
                                  notes_lines, remaining, seconds_left)

NOTES_LOG = "rl_notes.log"


@pytest.fixture(autouse=True, scope="module")
def _need_module(env):
    need_ratelimit_module(env)


def run_hdr():
    return {"X-Run": marker()}


class TestBehaviour:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        self.__class__.notes = env.logs_dir / NOTES_LOG
        di = env.data_dir / "di"
        env.write_file(di / "index.html", "index\n")
        env.write_file(di / "part.txt", "part\n")
        env.write_file(di / "page.shtml",
                       'a <!--#include virtual="/di/part.txt" -->'
                       ' b <!--#include virtual="/di/part.txt" -->'
                       ' c <!--#include virtual="/di/part.txt" -->\n')
        conf = GkConf(env, gk_modules=("ratelimit",),
                      extra_modules=["dir", "include"])
        conf.add(NOTES_FORMAT)
        conf.add('CustomLog "%s" gkrlnotes' % self.notes)
        sink = install_sink_cgi(env)
        conf.add('ScriptAlias /login "%s"' % sink)
        conf.add('ScriptAlias /m/sink "%s"' % sink)
        conf.add('Alias /di/ "%s/"' % di)
        conf.add_directory(di, """
            Require all granted
            Options +Includes
            AddOutputFilter INCLUDES .shtml
            DirectoryIndex a.html b.html index.html
        """)
        conf.add_location("/f/", "GKRateLimit f 3/hour key=header:X-Run")
        conf.add_location("/s/", "GKRateLimit s 2/3s key=header:X-Run")
        conf.add_location("/k/",
                          "GKRateLimit k 2/hour key=header:X-API-Key|ip")
        conf.add_location("/e/", """
            SetEnvIf X-Tenant "^(.+)$" RL_TENANT=$1
            GKRateLimit e 2/hour key=env:RL_TENANT
        """)
        conf.add_location("/g/", "GKRateLimit g 3/hour key=global")
        conf.add_location("/h/", "GKRateLimit h 1/hour key=header:X-Key")
        conf.add_location("/m/",
                          "GKRateLimit m 2/hour methods=POST key=header:X-Run")
        conf.add_location("/mg/",
                          "GKRateLimit mg 2/hour methods=GET key=header:X-Run")
        conf.add_location("/r/", """
            GKRateLimit rep 1/hour key=header:X-Run mode=report
        """)
        conf.add_location("/r2/", """
            GKRateLimit rep 1/hour key=header:X-Run mode=report
            GKRateLimit enf 5/hour key=header:X-Run
        """)
        conf.add_location("/n/", "GKRateLimit outer 5/hour key=header:X-Run")
        conf.add_location("/n/in/",
                          "GKRateLimit inner 2/hour key=header:X-Run")
        conf.add_location("/n/off/", "GKRateLimit outer off")
        conf.add_location(
            "/n/rep/", "GKRateLimit outer 5/hour key=header:X-Run status=503")
        conf.add_location("/login", "GKRateLimit login 5/minute methods=POST")
        conf.add_location("/ed/", """
            GKRateLimit ed 1/hour key=header:X-Run
            ErrorDocument 429 /errdoc/echo
        """)
        conf.add_location("/errdoc/", "GKRateLimit errd 1000/hour key=global")
        conf.add_location("/di/", "GKRateLimit di 100/hour key=header:X-Run")
        conf.add_location("/hoff/", """
            GKRateLimit hoff 1/hour key=header:X-Run
            GKRateLimitHeaders Off
        """)
        conf.install()
        env.apache_restart()

    def notes_of(self, prefix, want):
        lines = notes_lines(self.notes, prefix, want)
        assert len(lines) >= want, (prefix, lines)
        return lines

    # ---- the fields, Retry-After, the body ---------------------------------
    def test_gk_ratelimit_000_01_fields_under_limit(self, env):
        ensure_window(3600, 30)
        h = run_hdr()
        seen = []
        for i in range(3):
            r = env.get("/f/%d" % i, headers=h)
            assert r.status_code == 200, r.status_code
            f = fields(r)
            assert list(f) == ["f"], f
            assert f["f"]["q"] == 3 and f["f"]["w"] == 3600, f
            seen.append(f["f"]["r"])
            left = seconds_left(3600)
            assert 1 <= f["f"]["t"] <= 3600
            assert abs(f["f"]["t"] - left) <= 2, (f, left)
        assert seen == [2, 1, 0]

    def test_gk_ratelimit_000_02_refusal(self, env):
        ensure_window(3600, 30)
        h = run_hdr()
        for i in range(3):
            assert env.get("/f/x", headers=h).status_code == 200
        for i in range(2):
            r = env.get("/f/x", headers=h)
            body = assert_problem(r, 429)
            assert body["title"] == "Too Many Requests", body
            assert body["detail"] == "Too many requests", body
            assert "correlation_id" not in body, body   # no mod_gk_log
            ra = r.headers.get("Retry-After")
            assert ra and ra.isdigit(), ra
            f = fields(r)["f"]
            assert f["r"] == 0 and f["q"] == 3 and f["w"] == 3600, f
            assert 1 <= int(ra) <= 3600
            assert int(ra) == f["t"], (ra, f)
            assert abs(int(ra) - seconds_left(3600)) <= 2
        # another key is untouched
        r = env.get("/f/x", headers=run_hdr())
        assert r.status_code == 200 and remaining(r, "f") == 2

    def test_gk_ratelimit_000_03_notes(self, env):
        ensure_window(3600, 30)
        h = run_hdr()
        m = marker()
        for i in range(4):
            env.get("/f/%s" % m, headers=h)
        lines = self.notes_of("/f/%s " % m, 4)
        got = [(l.status, l.outcome, l.reason, l.name, l.remaining)
               for l in lines]
        assert got == [(200, "success", "ok", "f", "2"),
                       (200, "success", "ok", "f", "1"),
                       (200, "success", "ok", "f", "0"),
                       (429, "failure", "rate_limited", "f", "0")], got

    def test_gk_ratelimit_000_04_rollover(self, env):
        h = run_hdr()
        align_window(3)
        for i in range(2):
            r = env.get("/s/", headers=h)
            assert r.status_code == 200
            assert fields(r)["s"]["w"] == 3
        r = env.get("/s/", headers=h)
        assert r.status_code == 429
        ra = int(r.headers["Retry-After"])
        assert 1 <= ra <= 3, ra
        assert fields(r)["s"]["t"] == ra
        # the next window
        align_window(3)
        r = env.get("/s/", headers=h)
        assert r.status_code == 200, r.status_code
        assert remaining(r, "s") == 1

    # ---- key kinds ---------------------------------------------------------
    def test_gk_ratelimit_001_01_header_fallback_ip(self, env):
        ensure_window(3600, 30)
        a, b = {"X-API-Key": "key-a-" + marker()}, \
            {"X-API-Key": "key-b-" + marker()}
        assert [env.get("/k/", headers=a).status_code
                for _ in range(3)] == [200, 200, 429]
        r = env.get("/k/", headers=b)
        assert r.status_code == 200 and remaining(r, "k") == 1
        # no key: the client's address, a counter of its own
        got = [env.get("/k/") for _ in range(3)]
        assert [r.status_code for r in got] == [200, 200, 429]
        assert remaining(got[0], "k") == 1
        # an empty X-API-Key falls back to ip too (refused now)
        r = raw_request(env, "GET /k/ HTTP/1.1", ["X-API-Key: "])
        assert r.status_code == 429
        # key b still has one left
        assert env.get("/k/", headers=b).status_code == 200
        assert env.get("/k/", headers=b).status_code == 429

    def test_gk_ratelimit_001_02_env(self, env):
        ensure_window(3600, 30)
        t1, t2 = {"X-Tenant": "t1" + marker()}, {"X-Tenant": "t2" + marker()}
        assert [env.get("/e/", headers=t1).status_code
                for _ in range(3)] == [200, 200, 429]
        r = env.get("/e/", headers=t2)
        assert r.status_code == 200 and remaining(r, "e") == 1
        # no variable: not counted, no fields
        for _ in range(4):
            r = env.get("/e/")
            assert r.status_code == 200
            assert fields(r) == {}

    def test_gk_ratelimit_001_03_global(self, env):
        ensure_window(3600, 30)
        got = [env.get("/g/", headers=run_hdr()).status_code
               for _ in range(4)]
        assert got == [200, 200, 200, 429]
        r = env.get("/g/", headers={"X-API-Key": "other"})
        assert r.status_code == 429

    def test_gk_ratelimit_001_04_empty_key_not_counted(self, env):
        env.error_log.mark()
        m = marker()
        for _ in range(4):
            r = env.get("/h/%s" % m)
            assert r.status_code == 200
            assert fields(r) == {}
        r = raw_request(env, "GET /h/%s HTTP/1.1" % m, ["X-Key: "])
        assert r.status_code == 200
        assert "RateLimit" not in r.headers
        lines = self.notes_of("/h/%s " % m, 5)
        assert all(l.outcome == "-" and l.name == "-" for l in lines), lines
        # GK30007 at debug (LogLevel gk_ratelimit:debug)
        assert env.error_log.find(tag="GK30007", regex=r"rate limit h\b")
        # a request with the header is counted
        ensure_window(3600, 30)
        k = {"X-Key": marker()}
        assert [env.get("/h/", headers=k).status_code
                for _ in range(2)] == [200, 429]

    # ---- methods= ----------------------------------------------------------
    def test_gk_ratelimit_002_01_methods_post(self, env):
        ensure_window(3600, 30)
        h = run_hdr()
        for _ in range(5):
            r = env.get("/m/echo", headers=h)
            assert r.status_code == 200 and fields(r) == {}
        got = [env.request("/m/sink", "POST", headers=h, data="x")
               for _ in range(3)]
        assert [r.status_code for r in got] == [200, 200, 429]
        assert [remaining(r, "m") for r in got] == [1, 0, 0]
        r = env.get("/m/echo", headers=h)
        assert r.status_code == 200

    def test_gk_ratelimit_002_02_head_counts_as_get(self, env):
        ensure_window(3600, 30)
        h = run_hdr()
        assert env.request("/mg/", "HEAD", headers=h).status_code == 200
        assert env.get("/mg/", headers=h).status_code == 200
        assert env.request("/mg/", "HEAD", headers=h).status_code == 429
        r = env.request("/mg/", "OPTIONS", headers=h)
        assert r.status_code != 429 and fields(r) == {}

    # ---- report mode -------------------------------------------------------
    def test_gk_ratelimit_003_01_report(self, env):
        ensure_window(3600, 30)
        env.error_log.mark()
        h = run_hdr()
        m = marker()
        for _ in range(4):
            r = env.get("/r/%s" % m, headers=h)
            assert r.status_code == 200
            assert fields(r) == {}
            assert "Retry-After" not in r.headers
        # said once per key and window: at the first request over
        found = env.error_log.find(tag="GK30008")
        assert len(found) == 1, found
        assert "rate limit rep " in found[0].text
        assert all(l.level == "notice" for l in found)
        lines = self.notes_of("/r/%s " % m, 4)
        assert [l.reason for l in lines] == \
            ["-", "rate_limit_report", "rate_limit_report",
             "rate_limit_report"] or \
            [l.reason for l in lines][1:] == ["rate_limit_report"] * 3, lines
        assert all(l.outcome in ("success", "-") for l in lines)

    def test_gk_ratelimit_003_02_report_beside_enforce(self, env):
        ensure_window(3600, 30)
        h = run_hdr()
        for i in range(5):
            r = env.get("/r2/", headers=h)
            assert r.status_code == 200
            assert list(fields(r)) == ["enf"], fields(r)
            assert remaining(r, "enf") == 4 - i
        r = env.get("/r2/", headers=h)
        assert r.status_code == 429
        assert list(fields(r)) == ["enf"]

    # ---- nested, off, replaced ---------------------------------------------
    def test_gk_ratelimit_004_01_nested_both_apply(self, env):
        ensure_window(3600, 30)
        h = run_hdr()
        r = env.get("/n/in/", headers=h)
        f = fields(r)
        assert set(f) == {"outer", "inner"}, f
        assert f["outer"]["r"] == 4 and f["inner"]["r"] == 1
        assert env.get("/n/in/", headers=h).status_code == 200
        r = env.get("/n/in/", headers=h)
        assert r.status_code == 429           # inner
        f = fields(r)
        assert f["inner"]["r"] == 0 and f["outer"]["r"] == 2, f
        # the refused request counted on outer too
        r = env.get("/n/", headers=h)
        assert r.status_code == 200 and list(fields(r)) == ["outer"]
        assert remaining(r, "outer") == 1
        r = env.get("/n/", headers=h)
        assert r.status_code == 200 and remaining(r, "outer") == 0
        assert env.get("/n/", headers=h).status_code == 429

    def test_gk_ratelimit_004_02_outer_refuses_nested(self, env):
        ensure_window(3600, 30)
        h = run_hdr()
        for _ in range(5):
            assert env.get("/n/", headers=h).status_code == 200
        r = env.get("/n/in/", headers=h)
        assert r.status_code == 429
        f = fields(r)
        assert f["outer"]["r"] == 0 and f["inner"]["r"] == 1, f

    def test_gk_ratelimit_004_03_off(self, env):
        ensure_window(3600, 30)
        h = run_hdr()
        for _ in range(7):
            r = env.get("/n/off/", headers=h)
            assert r.status_code == 200 and fields(r) == {}
        # /n/off/ did not count on outer
        r = env.get("/n/", headers=h)
        assert remaining(r, "outer") == 4

    def test_gk_ratelimit_004_04_same_name_replaces(self, env):
        ensure_window(3600, 30)
        h = run_hdr()
        # same policy, same counter, its own status
        for i in range(3):
            assert env.get("/n/", headers=h).status_code == 200
        r = env.get("/n/rep/", headers=h)
        assert list(fields(r)) == ["outer"], fields(r)  # one item, not two
        assert remaining(r, "outer") == 1
        assert env.get("/n/rep/", headers=h).status_code == 200
        r = env.get("/n/rep/", headers=h)
        assert_problem(r, 503)
        assert r.headers.get("Retry-After", "").isdigit()
        assert env.get("/n/", headers=h).status_code == 429

    # ---- the seed's login example -------------------------------------------
    def test_gk_ratelimit_005_01_login(self, env):
        ensure_window(60, 10)
        got = []
        for i in range(6):
            r = env.request("/login", "POST", data={"user": "u", "pw": "p"})
            got.append(r)
        assert [r.status_code for r in got] == [200] * 5 + [429]
        assert [remaining(r, "login") for r in got] == [4, 3, 2, 1, 0, 0]
        f = fields(got[0])["login"]
        assert f["q"] == 5 and f["w"] == 60
        ra = int(got[5].headers["Retry-After"])
        assert 1 <= ra <= 60
        assert_problem(got[5], 429)
        for _ in range(5):
            r = env.get("/login")
            assert r.status_code == 200 and fields(r) == {}
        assert env.request("/login", "POST").status_code == 429

    # ---- no double count -----------------------------------------------------
    def test_gk_ratelimit_006_01_error_document(self, env):
        ensure_window(3600, 30)
        h = run_hdr()
        m = marker()
        assert env.get("/ed/%s" % m, headers=h).status_code == 200
        for _ in range(3):
            r = env.get("/ed/%s" % m, headers=h)
            assert r.status_code == 429
            # the ErrorDocument's body (the echo CGI), not problem+json
            assert r.headers["Content-Type"].startswith("application/json")
            j = json.loads(r.text)
            assert j["env"]["REQUEST_URI"] == "/ed/%s" % m, j["env"]
            assert 1 <= int(r.headers["Retry-After"]) <= 3600
            assert list(fields(r)) == ["ed"], fields(r)
        lines = self.notes_of("/ed/%s " % m, 4)
        assert len(lines) == 4, lines
        assert [l.status for l in lines] == [200, 429, 429, 429]
        # the redirects to /errdoc/ were not counted by its limit
        r = env.get("/errdoc/")
        assert remaining(r, "errd") == 999, fields(r)

    def test_gk_ratelimit_006_02_directory_index_subrequests(self, env):
        ensure_window(3600, 30)
        h = run_hdr()
        r = env.get("/di/", headers=h)
        assert r.status_code == 200 and r.text == "index\n"
        assert remaining(r, "di") == 99, fields(r)
        r = env.get("/di/", headers=h)
        assert remaining(r, "di") == 98, fields(r)

    def test_gk_ratelimit_006_03_include_subrequests(self, env):
        ensure_window(3600, 30)
        h = run_hdr()
        r = env.get("/di/page.shtml", headers=h)
        assert r.status_code == 200 and r.text.count("part") == 3, r.text
        assert remaining(r, "di") == 99, fields(r)
        r = env.get("/di/part.txt", headers=h)
        assert remaining(r, "di") == 98, fields(r)

    # ---- GKRateLimitHeaders Off ----------------------------------------------
    def test_gk_ratelimit_007_01_headers_off(self, env):
        ensure_window(3600, 30)
        h = run_hdr()
        r = env.get("/hoff/", headers=h)
        assert r.status_code == 200
        assert "RateLimit" not in r.headers
        assert "RateLimit-Policy" not in r.headers
        r = env.get("/hoff/", headers=h)
        assert r.status_code == 429
        assert "RateLimit" not in r.headers
        assert int(r.headers["Retry-After"]) >= 1


class TestVhosts:
    """The same name in two name-based virtual hosts counts apart; the
    same ServerName on another port shares the counter (the site)."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        from gkhttpd.env import free_port
        self.__class__.port3 = p3 = free_port()
        conf = GkConf(env, gk_modules=("ratelimit",))
        conf.add("Listen 127.0.0.1:%d" % p3)
        conf.add("""
            <VirtualHost 127.0.0.1:%(p)d>
                ServerName a.example
                GKRateLimit v 2/hour key=header:X-Run
            </VirtualHost>
            <VirtualHost 127.0.0.1:%(p)d>
                ServerName b.example
                GKRateLimit v 3/hour key=header:X-Run
            </VirtualHost>
            <VirtualHost 127.0.0.1:%(p3)d>
                ServerName a.example
                GKRateLimit v 2/hour key=header:X-Run
            </VirtualHost>
        """ % {"p": env.port, "p3": p3})
        conf.install()
        env.apache_restart()

    def get(self, env, host, h, port=None):
        return env.get("/v/", headers=dict(h, Host=host), port=port)

    def test_gk_ratelimit_010_01_two_vhosts_apart(self, env):
        ensure_window(3600, 30)
        h = run_hdr()
        assert [self.get(env, "a.example", h).status_code
                for _ in range(3)] == [200, 200, 429]
        got = [self.get(env, "b.example", h) for _ in range(4)]
        assert [r.status_code for r in got] == [200, 200, 200, 429]
        assert fields(got[0])["v"]["q"] == 3

    def test_gk_ratelimit_010_02_same_site_other_port(self, env):
        ensure_window(3600, 30)
        h = run_hdr()
        assert self.get(env, "a.example", h).status_code == 200
        r = self.get(env, "a.example", h, port=self.port3)
        assert r.status_code == 200 and remaining(r, "v") == 0
        assert self.get(env, "a.example", h).status_code == 429


class TestHtaccess:
    """A .htaccess limit (AllowOverride Limit) counts apart from the
    server's limit of the same name, and from another directory's."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        for d, rate in (("ht", "2/hour"), ("ht2", "5/hour")):
            env.write_file(env.data_dir / d / "f.txt", "f\n")
            env.write_file(env.data_dir / d / ".htaccess",
                           "GKRateLimit x %s key=header:X-Run\n" % rate)
        conf = GkConf(env, gk_modules=("ratelimit",))
        conf.add("GKRateLimit x 2/hour key=header:X-Run")
        for d in ("ht", "ht2"):
            conf.add('Alias /%s/ "%s/%s/"' % (d, env.data_dir, d))
            conf.add_directory(env.data_dir / d, """
                AllowOverride Limit
                Require all granted
            """)
        conf.install()
        env.apache_restart()

    def test_gk_ratelimit_011_01_server_then_htaccess(self, env):
        ensure_window(3600, 30)
        h = run_hdr()
        assert [env.get("/other", headers=h).status_code
                for _ in range(3)] == [200, 200, 429]
        got = [env.get("/ht/f.txt", headers=h) for _ in range(3)]
        assert [r.status_code for r in got] == [200, 200, 429]
        assert [remaining(r, "x") for r in got] == [1, 0, 0]

    def test_gk_ratelimit_011_02_htaccess_then_server(self, env):
        ensure_window(3600, 30)
        h = run_hdr()
        assert [env.get("/ht/f.txt", headers=h).status_code
                for _ in range(3)] == [200, 200, 429]
        r = env.get("/other", headers=h)
        assert r.status_code == 200 and remaining(r, "x") == 1

    def test_gk_ratelimit_011_03_two_htaccess_apart(self, env):
        ensure_window(3600, 30)
        h = run_hdr()
        for _ in range(3):
            env.get("/ht/f.txt", headers=h)
        r = env.get("/ht2/f.txt", headers=h)
        assert r.status_code == 200
        f = fields(r)["x"]
        assert f["q"] == 5 and f["r"] == 4, f


def _ipv6_loopback_port():
    import socket
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            s.bind(("::1", 0))
            return s.getsockname()[1]
        finally:
            s.close()
    except OSError:
        return None


class TestIPv6:
    """A `Listen [::1]:PORT` server: clients over ::1 are limited and
    counted apart from 127.0.0.1, with the default /64 grouping and with
    ip/128. (Two addresses of one /64 cannot be made from loopback.)"""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        p6 = _ipv6_loopback_port()
        if p6 is None:
            pytest.skip("no IPv6 loopback (::1) on this host")
        self.__class__.p6 = p6
        conf = GkConf(env, gk_modules=("ratelimit",))
        conf.add("Listen [::1]:%d" % p6)
        conf.add_location("/v6/", "GKRateLimit v6 2/hour")
        conf.add_location("/v6b/", "GKRateLimit v6b 2/hour key=ip/128")
        conf.add_location("/v6c/", "GKRateLimit v6c 2/hour key=ip/1")
        conf.install()
        env.apache_restart()

    def get6(self, path):
        import requests
        return requests.get("http://[::1]:%d%s" % (self.p6, path),
                            headers={"Connection": "close"}, timeout=20)

    @pytest.mark.parametrize("loc", ["v6", "v6b", "v6c"])
    def test_gk_ratelimit_012_01_v6_apart_from_v4(self, env, loc):
        ensure_window(3600, 30)
        got = [self.get6("/%s/" % loc) for _ in range(3)]
        assert [r.status_code for r in got] == [200, 200, 429]
        assert [remaining(r, loc) for r in got] == [1, 0, 0]
        got = [env.get("/%s/" % loc) for _ in range(3)]
        assert [r.status_code for r in got] == [200, 200, 429]
        assert remaining(got[0], loc) == 1
