"""mod_gk_ratelimit with the other modules and protocols: key=user with
mod_gk_auth's tokens (fixups, after authentication) and client-keyed
limits before authentication; the problem+json body, the JSON log's
gk.ratelimit fields and the audit events with mod_gk_log (no raw key in
any log); CORS preflights answered by mod_gk_headers are not counted;
h2c.
"""

import json
import time

import pytest

from gkhttpd import GkConf
from gkhttpd import tokens as T
from gkhttpd.check import assert_problem
from gk_log_helpers import CID, curl_h2, h2_get, one
from gk_ratelimit_helpers import (ensure_window, fields, marker,
                                  need_ratelimit_module, read_json_lines,
                                  remaining)


@pytest.fixture(autouse=True, scope="module")
def _need_module(env):
    need_ratelimit_module(env)


def need(env, name):
    if not env.has_gk_module(name):
        pytest.skip("%s not built" % env.gk_module_path(name))


# ---- key=user with mod_gk_auth ------------------------------------------------

class TestUser:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        need(env, "auth")
        conf = GkConf(env, gk_modules=("ratelimit", "auth"))
        conf.add("GKAuthKey RS256 %s" % keys["rsa2048"].pub_path)
        conf.add_location("/u/", """
            AuthType gk-bearer
            Require valid-user
            GKRateLimit u 2/hour key=user
        """)
        conf.add_location("/uo/", """
            AuthType gk-bearer
            Require all granted
            GKRateLimit uo 1/hour key=user
        """)
        conf.add_location("/uf/", """
            Require all granted
            GKRateLimit uf 2/hour key=user|ip
        """)
        conf.add_location("/ua/", """
            AuthType gk-bearer
            Require valid-user
            GKRateLimit ua 2/hour key=header:X-Run
        """)
        conf.install()
        env.error_log.allow(tags=["AH01630", "AH01631"])
        env.apache_restart()

    def tok(self, keys, sub):
        return T.mint(keys["rsa2048"], "RS256", sub=sub)

    def test_gk_ratelimit_020_01_users_apart(self, env, keys):
        ensure_window(3600, 30)
        a = self.tok(keys, "alice-" + marker())
        b = self.tok(keys, "bob-" + marker())
        got = [env.get("/u/echo", token=a) for _ in range(3)]
        assert [r.status_code for r in got] == [200, 200, 429]
        assert [remaining(r, "u") for r in got] == [1, 0, 0]
        assert_problem(got[2], 429)
        r = env.get("/u/echo", token=b)
        assert r.status_code == 200 and remaining(r, "u") == 1

    def test_gk_ratelimit_020_02_unauthenticated_not_counted(self, env,
                                                              keys):
        ensure_window(3600, 30)
        c = self.tok(keys, "carol-" + marker())
        for _ in range(4):
            r = env.get("/u/echo")
            assert r.status_code == 401
            assert fields(r) == {}
        # with Require all granted nobody is authenticated: never counted
        for _ in range(4):
            r = env.get("/uo/echo")
            assert r.status_code == 200 and fields(r) == {}
        r = env.get("/u/echo", token=c)
        assert r.status_code == 200 and remaining(r, "u") == 1

    def test_gk_ratelimit_020_03_user_falls_back_to_ip(self, env):
        ensure_window(3600, 30)
        got = [env.get("/uf/") for _ in range(3)]
        assert [r.status_code for r in got] == [200, 200, 429]

    def test_gk_ratelimit_020_04_before_authentication(self, env, keys):
        """A header-keyed limit is checked before the token: bad tokens
        are counted and then refused with 429, not 401."""
        ensure_window(3600, 30)
        h = {"X-Run": marker()}
        bad = self.tok(keys, "dave")[:-4] + "AAAA"
        got = [env.get("/ua/", token=bad, headers=h) for _ in range(3)]
        assert [r.status_code for r in got] == [401, 401, 429]
        assert_problem(got[2], 429)


# ---- mod_gk_log: correlation id, JSON log, audit, no raw key --------------------

class TestWithLog:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        need(env, "log")
        self.__class__.access = env.logs_dir / "rl_access.json"
        self.__class__.audit = env.logs_dir / "rl_audit.json"
        conf = GkConf(env, gk_modules=("ratelimit", "log"))
        conf.add("LogLevel debug")
        conf.add('GKLog "%s"' % self.access)
        conf.add('GKAuditLog "%s"' % self.audit)
        conf.add_location("/lg/",
                          "GKRateLimit lg 1/hour key=header:X-API-Key|ip")
        conf.add_location("/lr/", """
            GKRateLimit lr 1/hour key=header:X-API-Key mode=report
        """)
        conf.install()
        env.apache_restart()

    def events(self, cid, want=1):
        return read_json_lines(
            self.audit, lambda o: o.get("gk", {}).get("correlation_id")
            == cid, want)

    def access_line(self, cid):
        got = read_json_lines(
            self.access, lambda o: o.get("gk", {}).get("correlation_id")
            == cid and o["event"]["dataset"] != "gatekeeper.audit")
        assert got, cid
        return got[0]

    def test_gk_ratelimit_021_01_problem_correlation_id(self, env):
        ensure_window(3600, 30)
        key = "sk-live-" + marker()
        assert env.get("/lg/", headers={"X-API-Key": key}).status_code == 200
        r = env.get("/lg/", headers={"X-API-Key": key})
        body = assert_problem(r, 429)
        assert body["correlation_id"] == one(r, CID), body
        assert body["title"] == "Too Many Requests"
        assert key not in r.text

    def test_gk_ratelimit_021_02_audit_event_and_json_log(self, env):
        ensure_window(3600, 30)
        key = "sk-live-" + marker()
        r1 = env.get("/lg/", headers={"X-API-Key": key})
        r = env.get("/lg/", headers={"X-API-Key": key})
        assert r.status_code == 429
        cid = one(r, CID)
        (e,) = self.events(cid)
        assert e["event"]["action"] == "rate-limit-exceeded", e
        assert e["event"]["outcome"] == "failure"
        assert e["event"]["reason"] == "rate_limited"
        assert "web" in e["event"]["category"], e
        assert e["labels"]["limit"] == "lg", e
        assert e["labels"]["rate"] == "1/hour", e
        a = self.access_line(cid)
        rl = a["gk"]["ratelimit"]
        assert rl["outcome"] == "failure" and rl["reason"] == "rate_limited"
        assert rl["name"] == "lg" and rl["remaining"] == 0, rl
        a1 = self.access_line(one(r1, CID))
        assert a1["gk"]["ratelimit"]["outcome"] == "success"
        assert a1["gk"]["ratelimit"]["remaining"] == 0
        # a passed request is no audit event
        assert not self.events(one(r1, CID), want=0)

    def test_gk_ratelimit_021_03_no_raw_key_anywhere(self, env):
        ensure_window(3600, 30)
        key = "sk-live-" + marker()
        cids = []
        for _ in range(3):
            r = env.get("/lg/", headers={"X-API-Key": key})
            cids.append(one(r, CID))
        for _ in range(3):
            r = env.get("/lr/", headers={"X-API-Key": key})
            assert r.status_code == 200
            cids.append(one(r, CID))
        # ip-keyed: refused too, the address is not in the event's labels
        for _ in range(2):
            r = env.get("/lg/")
        assert r.status_code == 429
        (ipev,) = self.events(one(r, CID))
        assert "127.0.0.1" not in json.dumps(ipev["labels"])
        assert "127.0.0.1" not in json.dumps(ipev["event"])
        time.sleep(0.3)
        # the report: one event, at the first request over (the 2nd)
        ev = self.events(cids[4])
        assert ev and ev[0]["event"]["action"] == "rate-limit-report", ev
        assert ev[0]["event"]["outcome"] == "success"
        assert ev[0]["labels"]["limit"] == "lr"
        assert not self.events(cids[5], want=0)
        assert not self.events(cids[3], want=0)
        for path in (self.audit, self.access, env.error_log.path):
            text = open(path, "rb").read()
            assert key.encode() not in text, path
            assert key[8:].encode() not in text, path
        # the module's own error-log lines never name the address
        for l in env.error_log.recent():
            if l.tag and l.tag.startswith("GK300"):
                msg = l.text.split(l.tag, 1)[1]
                assert "127.0.0.1" not in msg, l.text


# ---- CORS preflights answered by mod_gk_headers -------------------------------

class TestPreflight:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        need(env, "headers")
        conf = GkConf(env, gk_modules=("ratelimit", "headers"))
        conf.add_location("/c/", """
            GKCORSAllowOrigin https://app.example.com
            GKCORSAllowMethods PUT
            GKRateLimit c 3/hour key=header:X-Run
        """)
        conf.install()
        env.apache_restart()

    def test_gk_ratelimit_022_01_preflight_not_counted(self, env):
        ensure_window(3600, 30)
        h = {"X-Run": marker(), "Origin": "https://app.example.com"}
        pre = dict(h, **{"Access-Control-Request-Method": "PUT"})
        for _ in range(6):
            r = env.request("/c/x", "OPTIONS", headers=pre)
            assert r.status_code == 204, r.status_code
            assert r.headers.get("Access-Control-Allow-Origin") == \
                "https://app.example.com"
        r = env.get("/c/x", headers=h)
        assert r.status_code == 200
        assert remaining(r, "c") == 2, fields(r)
        for _ in range(2):
            env.get("/c/x", headers=h)
        r = env.get("/c/x", headers=h)
        assert r.status_code == 429
        # the refusal carries the CORS fields
        assert r.headers.get("Access-Control-Allow-Origin") == \
            "https://app.example.com"
        # preflights still answered once over the limit
        r = env.request("/c/x", "OPTIONS", headers=pre)
        assert r.status_code == 204


# ---- h2c -------------------------------------------------------------------

class TestH2c:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        if env.default_mpm == "prefork":
            pytest.skip("mod_http2 does not serve h2 on prefork")
        self.__class__.curl = curl_h2()
        if not self.curl:
            pytest.skip("curl without HTTP2")
        conf = GkConf(env, gk_modules=("ratelimit",), extra_modules=["http2"])
        conf.add("Protocols h2c http/1.1")
        conf.add_location("/h2/", "GKRateLimit h2 2/hour key=header:X-Run")
        conf.install()
        env.apache_restart()

    def test_gk_ratelimit_023_01_h2c(self, env):
        ensure_window(3600, 30)
        h = [("X-Run", marker())]
        got = [h2_get(env, "/h2/x", h, curl=self.curl) for _ in range(3)]
        assert all(r.status_line.startswith("HTTP/2") for r in got)
        assert [r.status_code for r in got] == [200, 200, 429]
        assert [remaining(r, "h2") for r in got] == [1, 0, 0]
        ra = int(got[2].headers["retry-after"])
        assert 1 <= ra <= 3600 and fields(got[2])["h2"]["t"] == ra
        body = json.loads(got[2].text)
        assert body["status"] == 429 and body["title"] == "Too Many Requests"
        assert got[2].headers["content-type"].startswith(
            "application/problem+json")
