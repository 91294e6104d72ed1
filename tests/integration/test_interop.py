"""The cooperation contract (docs/INTEROP.md), from outside.

Every built module alone, and all of them together in both load orders:
  - the request notes and environment variables INTEROP.md lists are set
    by their module when it is loaded, and absent when it is not;
  - the optional functions are found by another module (mod_gkprobe, a
    test-only consumer) exactly when their module is loaded, in any order;
  - a 401 from mod_gk_auth carries, in its problem body, the correlation
    ID of its response header when mod_gk_log is loaded, and no ID when it
    is not; with mod_gk_headers, its security headers reach that early
    answer (the error path of INTEROP.md's "Early answers");
  - so does a 429 from mod_gk_ratelimit, with mod_gk_headers' CORS
    headers too, and a CORS preflight answered by mod_gk_headers is never
    counted by a rate limit.
"""

import json
import re
import time
import uuid

import pytest

from gkhttpd import GkConf
from gkhttpd import tokens as T
from gkhttpd.check import assert_status, echo

NOTES = ["gk-auth-outcome", "gk-auth-reason", "gk-correlation-id",
         "gk-trace-id", "gk-span-id"]
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                  r"[0-9a-f]{12}$")

# each module alone, and every module together in both load orders
ORDERS = [("auth",), ("log",), ("headers",), ("ratelimit",),
          ("auth", "log"), ("log", "auth"), ("auth", "log", "headers"),
          ("headers", "log", "auth"), ("auth", "log", "headers", "ratelimit"),
          ("ratelimit", "headers", "log", "auth")]
APP = "https://app.example.com"


def built(env, mods):
    return all(env.has_gk_module(m) for m in mods)


@pytest.fixture(params=ORDERS, ids=lambda o: "+".join(o), scope="class")
def order(request, env, keys):
    mods = request.param
    if not built(env, mods):
        pytest.skip("not built: %s" % ", ".join(mods))
    probe = env.build_dir / "tests" / "mod_gkprobe.so"
    if not probe.exists():
        pytest.skip("%s not built (make check-integration builds it)"
                    % probe)
    log = env.logs_dir / "interop.log"
    conf = GkConf(env, gk_modules=mods)
    conf.add('LoadModule gkprobe_module "%s"' % probe)
    fmt = " ".join("[%%{%s}n]" % n for n in NOTES)
    conf.add('LogFormat "%%U %%>s %s" interop' % fmt)
    conf.add('CustomLog "%s" interop' % log)
    if "auth" in mods:
        conf.add("GKAuthKey RS256 %s" % keys["rsa2048"].pub_path)
        conf.add_location("/a/", """
            AuthType gk-bearer
            Require gk-role admin
        """)
        conf.add_location("/a/probe", "SetHandler gk-probe")
    if "log" in mods:
        conf.add("GKTraceparent propagate")
    if "headers" in mods:
        conf.add("GKSecurityHeaders api")
        conf.add("GKCSPNonce On")
    if "ratelimit" in mods:
        conf.add_location("/rl/", "GKRateLimit interop 2/minute "
                          "key=header:X-RL|ip")
    if "headers" in mods:
        conf.add_location("/rl/", "GKCORSAllowOrigin %s" % APP)
    conf.add_location("/probe", "SetHandler gk-probe")
    conf.install()
    env.apache_restart()
    if log.exists():
        # lines of another load order must not count (httpd appends)
        open(log, "w").close()
    return mods, log


def logged(log, path):
    end = time.monotonic() + 5
    while time.monotonic() < end:
        if log.exists():
            for line in reversed(log.read_text().splitlines()):
                if line.split(" ")[0] == path:
                    vals = re.findall(r"\[([^\]]*)\]", line)
                    return dict(zip(NOTES, vals))
        time.sleep(0.02)
    raise AssertionError("no log line for %s" % path)


class TestInterop:

    def test_gk_interop_001_notes(self, env, keys, order):
        mods, log = order
        tok = T.mint(keys["rsa2048"], "RS256", roles=["admin"])
        r = env.get("/a/echo" if "auth" in mods else "/x/echo", token=tok,
                    headers={"traceparent": TRACEPARENT})
        assert_status(r, 200)
        notes = logged(log, r.request.path_url)
        if "auth" in mods:
            assert notes["gk-auth-outcome"] == "success"
            assert notes["gk-auth-reason"] == "ok"
        else:
            assert notes["gk-auth-outcome"] == "-"
            assert notes["gk-auth-reason"] == "-"
        if "log" in mods:
            assert notes["gk-correlation-id"] == \
                r.headers["X-Correlation-ID"]
            assert notes["gk-trace-id"] == TRACEPARENT.split("-")[1]
            assert re.match(r"^[0-9a-f]{16}$", notes["gk-span-id"])
        else:
            for n in ("gk-correlation-id", "gk-trace-id", "gk-span-id"):
                assert notes[n] == "-"

    def test_gk_interop_002_env(self, env, keys, order):
        mods, _ = order
        tok = T.mint(keys["rsa2048"], "RS256", roles=["admin"])
        r = env.get("/a/echo" if "auth" in mods else "/x/echo", token=tok,
                    headers={"traceparent": TRACEPARENT})
        e = echo(r)["env"]
        for v in ("GK_USER", "GK_ROLES", "GK_PERMISSIONS", "GK_CLAIMS"):
            assert (v in e) == ("auth" in mods), v
        for v in ("GK_CORRELATION_ID", "GK_TRACE_ID", "GK_SPAN_ID"):
            assert (v in e) == ("log" in mods), v
        assert ("GK_CSP_NONCE" in e) == ("headers" in mods)
        if "log" in mods:
            assert e["GK_CORRELATION_ID"] == r.headers["X-Correlation-ID"]

    def test_gk_interop_003_optional_functions(self, env, keys, order):
        mods, _ = order
        path = "/a/probe" if "auth" in mods else "/probe"
        tok = T.mint(keys["rsa2048"], "RS256", roles=["admin"],
                     tenant="acme")
        r = env.get(path + "?claim=tenant", token=tok)
        assert_status(r, 200)
        j = r.json()
        assert j["claim_fn"] == ("auth" in mods)
        assert j["correlation_fn"] == ("log" in mods)
        if "auth" in mods:
            assert j["claim"] == "acme"
        if "log" in mods:
            assert j["correlation_id"] == r.headers["X-Correlation-ID"]
        else:
            assert j["correlation_id"] is None

    def test_gk_interop_004_problem_body(self, env, keys, order):
        mods, _ = order
        if "auth" not in mods:
            pytest.skip("mod_gk_auth not loaded")
        env.error_log.ignore(tags=["AH01631"])
        for tok in (None, T.mint(keys["rsa2048"], "RS256", ttl=-3600),
                    T.mint(keys["rsa2048"], "RS256", roles=["user"])):
            r = env.get("/a/x", token=tok)
            assert r.status_code in (401, 403)
            body = json.loads(r.text)
            # mod_gk_headers' profile reaches mod_gk_auth's early answers
            assert (r.headers.get("X-Frame-Options") == "DENY") == \
                ("headers" in mods)
            if "log" in mods:
                cid = r.headers["X-Correlation-ID"]
                assert body["correlation_id"] == cid
                assert UUID.match(cid)
                assert body["instance"] == "urn:uuid:" + cid
            else:
                assert "X-Correlation-ID" not in r.headers
                assert "correlation_id" not in body
                assert "instance" not in body

    def test_gk_interop_005_incoming_id_in_body(self, env, keys, order):
        """An accepted incoming ID that is not a UUID: correlation_id, and
        no instance."""
        mods, _ = order
        if "auth" not in mods or "log" not in mods:
            pytest.skip("needs mod_gk_auth and mod_gk_log")
        r = env.get("/a/x", headers={"X-Correlation-ID": "req-42.a:b"})
        assert_status(r, 401)
        body = json.loads(r.text)
        assert r.headers["X-Correlation-ID"] == "req-42.a:b"
        assert body["correlation_id"] == "req-42.a:b"
        assert "instance" not in body

    def test_gk_interop_006_rate_limited(self, env, keys, order):
        """A 429 of mod_gk_ratelimit: its problem body with the correlation
        ID (mod_gk_log), the security and CORS headers (mod_gk_headers);
        preflights answered by mod_gk_headers are not counted."""
        mods, _ = order
        if "ratelimit" not in mods:
            pytest.skip("mod_gk_ratelimit not loaded")
        run = {"X-RL": uuid.uuid4().hex, "Origin": APP}
        if "headers" in mods:
            for _ in range(3):
                r = env.request("/rl/x", method="OPTIONS", headers=dict(
                    run, **{"Access-Control-Request-Method": "GET"}))
                assert r.status_code == 204
                assert "RateLimit" not in r.headers
        got = [env.get("/rl/x", headers=run) for _ in range(3)]
        assert [r.status_code for r in got] == [200, 200, 429]
        r = got[2]
        assert r.headers["RateLimit-Policy"] == '"interop";q=2;w=60'
        assert r.headers["RateLimit"].startswith('"interop";r=0;t=')
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        body = json.loads(r.text)
        assert body["status"] == 429
        assert (r.headers.get("X-Frame-Options") == "DENY") == \
            ("headers" in mods)
        if "headers" in mods:
            assert r.headers["Access-Control-Allow-Origin"] == APP
            assert "RateLimit" in r.headers["Access-Control-Expose-Headers"]
        else:
            assert "Access-Control-Allow-Origin" not in r.headers
        if "log" in mods:
            assert body["correlation_id"] == r.headers["X-Correlation-ID"]
        else:
            assert "correlation_id" not in body
