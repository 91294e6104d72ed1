"""mod_gk_validate with the other modules and over h2c.

With mod_gk_auth, mod_gk_ratelimit and mod_gk_log loaded together, the
body is validated in fixups after authentication and the limits: an
unauthenticated request gets 401 whatever its body (never validated), a
rate-limited one 429 (the limit is counted first), the JSON access log
carries gk.validate.outcome and .keyword, and an invalid body is an audit
event without the body's content.  Over h2c valid bodies reach the CGI
byte for byte and invalid ones are answered as over HTTP/1.1.
"""

import json

import pytest

from gkhttpd import tokens as T
from gk_log_helpers import curl_h2
from gk_ratelimit_helpers import ensure_window
from gk_validate_helpers import (big_body, errors_of, h2_post,
                                 marker, need, post, problem, record_conf,
                                 records, user_create_schema, wait_lines)

GOOD = {"username": "alice42", "email": "alice@example.com",
        "password": "Correct-Horse-Battery-9"}
WEAK_PASSWORD = "weakpass"


def dumps(o):
    return json.dumps(o).encode()


class TestWithAuthLimitsLog:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        conf = record_conf(env, self.__class__, "validate", "auth",
                           "ratelimit", "log")
        user = user_create_schema(env)
        self.__class__.access = env.logs_dir / "v_access.json"
        self.__class__.audit = env.logs_dir / "v_audit.json"
        conf.add("GKAuthKey RS256 %s" % keys["rsa2048"].pub_path)
        conf.add('GKLog "%s"' % self.access)
        conf.add('GKAuditLog "%s"' % self.audit)
        conf.add_location("/api/", """
            AuthType gk-bearer
            Require valid-user
            GKRateLimit vu 2/hour key=user
            GKValidateSchema "%s"
        """ % user)
        conf.add_location("/ipl/", """
            GKRateLimit vip 1/hour key=header:X-Run
            GKValidateSchema "%s"
        """ % user)
        conf.install()
        env.error_log.allow(tags=["AH01630", "AH01631"])
        env.apache_restart()

    def token(self, keys, sub):
        return T.mint(keys["rsa2048"], "RS256", sub=sub)

    def send(self, env, body, token=None, path="/api/record", headers=()):
        h = list(headers)
        if token:
            h.append(("Authorization", "Bearer " + token))
        m = marker()
        r = post(env, path, body, mark=m, headers=h)
        return r, m

    def line_of(self, r):
        cid = r.headers.get("x-correlation-id")
        assert cid, r
        got = wait_lines(self.access, lambda o: o.get("gk", {}).get(
            "correlation_id") == cid and o.get("event", {}).get(
            "dataset") != "gatekeeper.audit")
        assert len(got) == 1, got
        return got[0], cid

    def test_gk_validate_130_01_unauthenticated_not_validated(self, env):
        for body in (b"not JSON at all", b'{"username": 1}', b""):
            r, m = self.send(env, body)
            assert r.status_code == 401, r
            assert records(self.rec, m) == []
            a, _ = self.line_of(r)
            v = (a.get("gk") or {}).get("validate") or {}
            assert v.get("outcome") in (None, "skipped"), a

    def test_gk_validate_130_02_valid_invalid_limited(self, env, keys):
        ensure_window(3600, 30)
        tok = self.token(keys, "val-" + marker())
        r, m = self.send(env, dumps(GOOD), tok)
        assert r.status_code == 200, r
        (rec,) = records(self.rec, m)
        assert rec["body"] == dumps(GOOD)
        weak = dumps(dict(GOOD, password=WEAK_PASSWORD))
        r, m = self.send(env, weak, tok)
        errors_of(r, secrets=(WEAK_PASSWORD,))
        assert records(self.rec, m) == []
        a, cid = self.line_of(r)
        assert a["gk"]["ratelimit"]["outcome"] == "success", a["gk"]
        assert a["gk"]["auth"]["outcome"] == "success", a["gk"]
        # the audit event: the reason, no content
        ev = wait_lines(self.audit, lambda o: o.get("gk", {}).get(
            "correlation_id") == cid)
        assert len(ev) == 1, ev
        assert ev[0]["event"]["reason"] == "invalid_body", ev[0]
        assert ev[0]["event"]["outcome"] == "failure", ev[0]
        for f in (self.audit, self.access):
            assert WEAK_PASSWORD not in f.read_text()
        # the limit (2/hour) was counted before validation: the third
        # request is refused by it, whatever its body
        for body in (weak, dumps(GOOD), b"not JSON"):
            r, m = self.send(env, body, tok)
            assert r.status_code == 429, r
            problem(r, 429)
            assert records(self.rec, m) == []

    def test_gk_validate_130_05_json_log_outcome(self, env, keys):
        """mod_gk_log's JSON line: gk.validate.outcome and .keyword (the
        notes gk-validate-outcome and gk-validate-keyword)."""
        ensure_window(3600, 30)
        tok = self.token(keys, "log-" + marker())
        r, _ = self.send(env, dumps(GOOD), tok)
        assert r.status_code == 200, r
        a, _ = self.line_of(r)
        assert a["gk"].get("validate", {}).get("outcome") == "valid", \
            a["gk"]
        r, _ = self.send(env, dumps(dict(GOOD, password=WEAK_PASSWORD)),
                         tok)
        errs = errors_of(r, secrets=(WEAK_PASSWORD,))
        a, _ = self.line_of(r)
        assert a["gk"]["validate"]["outcome"] == "invalid", a["gk"]
        assert a["gk"]["validate"]["keyword"] == errs[0]["keyword"], \
            (a["gk"], errs)

    def test_gk_validate_130_03_client_limit_first(self, env):
        run = ("X-Run", marker())
        r, _ = self.send(env, b"{", path="/ipl/record", headers=[run])
        problem(r, 400)
        r, _ = self.send(env, b"{", path="/ipl/record", headers=[run])
        assert r.status_code == 429, r

    def test_gk_validate_130_04_log_outcome_skipped(self, env, keys):
        ensure_window(3600, 30)
        tok = self.token(keys, "get-" + marker())
        r = env.get("/api/record", token=tok)
        assert r.status_code == 200
        a, _ = self.line_of(r)
        v = (a.get("gk") or {}).get("validate") or {}
        assert v.get("outcome") in (None, "skipped"), a["gk"]


class TestH2c:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        need(env, "validate")
        if env.default_mpm == "prefork":
            pytest.skip("mod_http2 does not serve h2 on prefork")
        self.__class__.curl = curl_h2()
        if not self.curl:
            pytest.skip("curl without HTTP2")
        conf = record_conf(env, self.__class__, "validate",
                           extra_modules=["http2"])
        user = user_create_schema(env)
        conf.add("Protocols h2c http/1.1")
        conf.add_location("/v/", 'GKValidateSchema "%s"' % user)
        conf.add_location("/any/", "GKValidateSchema none")
        conf.install()
        env.apache_restart()

    def test_gk_validate_131_01_valid_reaches(self, env, tmp_path):
        for body in (dumps(GOOD),
                     dumps(dict(GOOD, note=big_body(40000).decode()))):
            m = marker()
            r = h2_post(env, self.curl, "/v/record", body, mark=m,
                        tmp=tmp_path)
            assert r.status_line.startswith("HTTP/2"), r.status_line
            assert r.status_code == 200, (r.status_code, r.text[:300])
            (rec,) = records(self.rec, m)
            assert rec["body"] == body
            assert rec["content_length"] == str(len(body))
            # the same through the unvalidated location
            m = marker()
            r = h2_post(env, self.curl, "/any/record", body, mark=m,
                        tmp=tmp_path)
            assert r.status_code == 200
            assert records(self.rec, m)[0]["body"] == body

    def test_gk_validate_131_02_invalid_answered(self, env, tmp_path):
        m = marker()
        r = h2_post(env, self.curl, "/v/record",
                    dumps(dict(GOOD, password=WEAK_PASSWORD)), mark=m,
                    tmp=tmp_path)
        errs = errors_of(r, secrets=(WEAK_PASSWORD,))
        assert any(e["instanceLocation"] == "/password" for e in errs)
        # the 415 is decided from the headers: sent with no body, since
        # curl 7.88 loses many answers that come before a body is read
        # (httpd's own 403 too; see h2_post)
        for body, ctype, status in ((b'{"a":', "application/json", 400),
                                    (b"", "text/plain", 415)):
            m = marker()
            r = h2_post(env, self.curl, "/v/record", body, ctype=ctype,
                        mark=m, tmp=tmp_path)
            problem(r, status)
            assert records(self.rec, m) == []
