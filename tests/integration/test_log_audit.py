"""mod_gk_log: audit events (gk_log_audit) from mod_gk_auth's decisions,
to GKAuditLog or, without it, to the GKLog access log (told apart by
event.dataset); and no secret in any JSON log or Gatekeeper error-log line
at LogLevel debug.
"""

import json
import time

import pytest

from gkhttpd import GkConf
from gkhttpd import tokens as T

from gk_log_helpers import CID, marker, need_log_module

PREFLIGHT = {"Origin": "https://app.example",
             "Access-Control-Request-Method": "PUT"}


@pytest.fixture(autouse=True, scope="module")
def _need_modules(env):
    need_log_module(env)
    if not env.has_gk_module("auth"):
        pytest.skip("mod_gk_auth not built")


def read_json(path, pred, want=1, timeout=10.0):
    end = time.monotonic() + timeout
    while True:
        objs = []
        if path.exists():
            for l in path.read_bytes().split(b"\n")[:-1]:
                objs.append(json.loads(l.decode("utf-8")))
        sel = [o for o in objs if pred(o)]
        if len(sel) >= want or time.monotonic() > end:
            assert len(sel) >= want, (len(sel), want, objs[-3:])
            return sel
        time.sleep(0.05)


def events(path, cid, want=1):
    return read_json(path, lambda o: o["event"]["dataset"] ==
                     "gatekeeper.audit" and o["gk"]["correlation_id"] == cid,
                     want)


def conf_for(env, keys, audit):
    conf = GkConf(env, gk_modules=("log", "auth"))
    conf.add("LogLevel info gk_log:debug gk_auth:debug")
    conf.add("GKAuthKey RS256 %s" % keys["rsa2048"].pub_path)
    conf.add('GKLog "%s/audit_access.json"' % env.logs_dir)
    if audit:
        conf.add('GKAuditLog "%s/audit.json"' % env.logs_dir)
    conf.add_location("/a/", """
        AuthType gk-bearer
        AuthzSendForbiddenOnFailure On
        GKAuthAllowPreflight On
        Require gk-role admin
    """)
    return conf


class _Cases:
    audit = None

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        conf_for(env, keys, self.audit).install()
        env.apache_restart()
        env.error_log.allow(tags=["AH01630", "AH01631"])

    def events_path(self, env):
        return env.logs_dir / ("audit.json" if self.audit
                               else "audit_access.json")

    def check(self, env, r, action, outcome, reason, requirement=None):
        cid = r.headers[CID]
        (e,) = events(self.events_path(env), cid)
        assert e["event"]["kind"] == "event"
        assert e["event"]["category"] == ["authentication"]
        assert e["event"]["action"] == action
        assert e["event"]["outcome"] == outcome
        assert e["event"]["reason"] == reason
        assert e["client"]["address"] == "127.0.0.1"
        assert e["@timestamp"].endswith("Z")
        if requirement:
            assert requirement in e["labels"]["requirement"]
        return e

    def test_token_refused(self, env, keys):
        tok = T.mint(keys["rsa2048"], "RS256", ttl=-3600)
        r = env.get("/a/%s" % marker(), token=tok)
        assert r.status_code == 401
        self.check(env, r, "token-refused", "failure", "expired")
        r = env.get("/a/%s" % marker())
        self.check(env, r, "token-refused", "failure", "no_token")
        r = env.get("/a/%s" % marker(), token="s3cr3t not a token")
        assert r.status_code == 400
        self.check(env, r, "token-refused", "failure", "bad_credentials")

    def test_forbidden(self, env, keys):
        tok = T.mint(keys["rsa2048"], "RS256", roles=["user"])
        r = env.get("/a/%s" % marker(), token=tok)
        assert r.status_code == 403
        e = self.check(env, r, "access-forbidden", "failure",
                       "insufficient_scope", requirement="admin")
        assert e["user"]["name"]

    def test_preflight(self, env):
        r = env.request("/a/%s" % marker(), "OPTIONS", headers=PREFLIGHT)
        assert r.status_code == 200
        self.check(env, r, "preflight-pass", "success", "preflight",
                   requirement="admin")

    def test_no_secrets(self, env, keys):
        tok = T.mint(keys["rsa2048"], "RS256", roles=["admin"])
        sig = tok.split(".")[2]
        r = env.get("/a/%s?access_token=%s" % (marker(), tok), token=tok,
                    cookies={"sid": "c00kie-value"})
        assert r.status_code == 200
        bad = tok[:-4] + "AAAA"
        env.get("/a/%s" % marker(), token=bad)
        time.sleep(0.3)
        texts = [(env.logs_dir / "audit_access.json").read_bytes(),
                 open(env.error_log.path, "rb").read()]
        if self.audit:
            texts.append((env.logs_dir / "audit.json").read_bytes())
        for t in texts:
            for s in (sig.encode(), bad.split(".")[2].encode(),
                      b"c00kie-value"):
                assert s not in t


class TestAuditFile(_Cases):
    audit = True

    def test_hostile(self, env):
        from gk_log_helpers import raw_request
        for path in [b'/a/"}{"x":1}\\', b"/a/\xff\xfe\xc0\xaf", b"/a/%00\x01"]:
            raw_request(env, b"GET " + path + b" HTTP/1.1",
                        [b"Authorization: Bearer \xff\"\\x",
                         b"User-Agent: \x00\"}"])
        time.sleep(0.3)
        read_json(env.logs_dir / "audit.json", lambda o: True)
        read_json(env.logs_dir / "audit_access.json", lambda o: True)

    def test_access_log_has_no_events(self, env, keys):
        r = env.get("/a/%s" % marker())
        cid = r.headers[CID]
        events(self.events_path(env), cid)
        acc = read_json(env.logs_dir / "audit_access.json",
                        lambda o: o["gk"]["correlation_id"] == cid)
        assert [o["event"]["dataset"] for o in acc] == ["gatekeeper.access"]
        assert acc[0]["gk"]["auth"] == {"outcome": "failure",
                                        "reason": "no_token"}


class TestAuditInAccessLog(_Cases):
    audit = False

    def test_both_kinds(self, env, keys):
        r = env.get("/a/%s" % marker())
        cid = r.headers[CID]
        both = read_json(env.logs_dir / "audit_access.json",
                         lambda o: o["gk"]["correlation_id"] == cid, want=2)
        assert sorted(o["event"]["dataset"] for o in both) == [
            "gatekeeper.access", "gatekeeper.audit"]


class TestWithoutLogModule:
    """mod_gk_auth alone: its info lines are the record."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        conf = GkConf(env, gk_modules=("auth",))
        conf.add("LogLevel info")
        conf.add("GKAuthKey RS256 %s" % keys["rsa2048"].pub_path)
        conf.add_location("/a/", "AuthType gk-bearer\nRequire valid-user")
        conf.install()
        env.apache_restart()
        env.error_log.allow(tags=["AH01630", "AH01631"])

    def test_fallback_line(self, env, keys):
        pos = env.error_log.mark()
        tok = T.mint(keys["rsa2048"], "RS256", ttl=-3600)
        assert env.get("/a/x", token=tok).status_code == 401
        env.error_log.wait_for("GK10006", since=pos)
