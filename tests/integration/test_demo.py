"""`make demo` is one of the README's two commands: its walk-through runs
non-interactively here (DEMO_ONESHOT=1) and must answer every step as
expected."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# demo.py takes the module from GK_BUILD_DIR too (build-asan/ under
# `make check-asan`, where it also runs its apache2 sanitized)
BUILD = os.environ.get("GK_BUILD_DIR") or os.path.join(ROOT, "build")


MEMCACHED = "/usr/bin/memcached"


def memcached_running(port):
    """A memcached started as demo.py starts it, on port, still running."""
    marker = "%s -l 127.0.0.1 -p %d " % (MEMCACHED, port)
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cmd.startswith(marker):
            return True
    return False


@pytest.mark.skipif(not os.path.exists(os.path.join(BUILD, "mod_gk_auth.so")),
                    reason="mod_gk_auth.so is not built")
@pytest.mark.skipif(not os.access(MEMCACHED, os.X_OK),
                    reason="memcached is not installed")
def test_gk_demo_001_walkthrough():
    env = dict(os.environ, DEMO_ONESHOT="1")
    p = subprocess.run([sys.executable, os.path.join(ROOT, "docs", "demo", "demo.py")],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    # a sanitizer report (`make check-asan`) is shown from its start
    at = p.stdout.find("FAIL: sanitizer report")
    out = p.stdout[at:at + 12000] if at >= 0 else p.stdout[-3000:]
    assert p.returncode == 0, out + p.stderr[-3000:]
    assert "Every step gave the expected answer." in p.stdout
    # mod_gk_validate: the seed's UserCreate with a weak password is
    # refused 422 with its errors, never echoing the password
    weak = p.stdout.split("Validation: a new user with a weak password", 1)
    assert len(weak) == 2, p.stdout[-3000:]
    weak = weak[1].split("Validation: the same user", 1)[0]
    assert "-> 422 Unprocessable Entity   ok" in weak, weak
    assert "error: /password must be at least 12 characters (minLength" \
        in weak, weak
    # mod_gk_log: every answer shows its correlation ID, and the backend
    # received the same one
    import re
    ids = re.findall(r"X-Correlation-ID: ([0-9a-f-]{36}) \(in the access",
                     p.stdout)
    assert len(ids) >= 5 and len(set(ids)) == len(ids), p.stdout[-3000:]
    seen = re.findall(r"backend saw: X-Correlation-ID: ([0-9a-f-]{36})",
                      p.stdout)
    assert seen and set(seen) <= set(ids), p.stdout[-3000:]
    # mod_gk_headers: the api profile on every answer, 401 and 403 too
    assert p.stdout.count("security headers: X-Frame-Options: DENY") >= 5
    # mod_gk_log's JSON access log: carol's line, valid JSON, same ID
    import json
    lines = p.stdout.split("one line a request; carol's:\n", 1)[1]
    doc = json.loads(lines.split("\n", 1)[0])
    assert doc["user"]["name"] == "carol"
    assert doc["gk"]["correlation_id"] in ids
    # mod_gk_headers' CORS: the steps that send an Origin
    # (the steps: the block after "Walk-through:" up to the blank line)
    walk = p.stdout.split("Walk-through:", 1)[1].split("\n\n")[1]
    steps = [s for s in re.split(r"(?m)^\s*\d+\. ", walk)
             if "-H 'Origin: " in (s.split("\n") + [""])[1]]
    allowed = [s for s in steps if "Origin: https://app.example.com'" in s]
    refused = [s for s in steps if "Origin: https://evil.example'" in s]
    # a preflight from the allowed origin: 204 and its Access-Control-*
    pre = [s for s in allowed if "-X OPTIONS" in s]
    assert len(pre) == 1 and "-> 204 No Content   ok" in pre[0], p.stdout
    for line in ("Access-Control-Allow-Origin: https://app.example.com",
                 "Access-Control-Allow-Credentials: true",
                 "Access-Control-Allow-Methods: ",
                 "Access-Control-Allow-Headers: authorization",
                 "Access-Control-Max-Age: 600"):
        assert "\n       " + line in pre[0], pre[0]
    # the refused origin: a preflight refused with 403, and a request
    # answered (200) without any Access-Control-* header
    pre = [s for s in refused if "-X OPTIONS" in s]
    req = [s for s in refused if "-X OPTIONS" not in s]
    assert len(pre) == 1 and "-> 403 Forbidden   ok" in pre[0], p.stdout
    assert len(req) == 1 and "-> 200 OK   ok" in req[0], p.stdout
    for s in pre + req:
        assert "no Access-Control-* header" in s, s
        assert "Access-Control-Allow" not in s.split("\n", 2)[2], s
    # mod_gk_ratelimit: the seed's login limit (5/minute per client on
    # POST /login): five attempts pass with what remains, the sixth is 429
    # with Retry-After, the RateLimit fields and a problem+json body
    rl = [s for s in re.split(r"(?m)^\s*\d+\. ", walk)
          if s.startswith("Rate limit:")]
    assert len(rl) == 1, walk
    rl = rl[0]
    for i in range(1, 6):
        assert re.search(r'-> attempt %d: 200 OK, RateLimit: "login";r=%d;'
                         r't=\d+   ok' % (i, 5 - i), rl), rl
    assert "-> attempt 6: 429 Too Many Requests   ok" in rl, rl
    retry = int(re.search(r"\n\s+Retry-After: (\d+)\n", rl).group(1))
    assert 1 <= retry <= 60, rl
    assert '\n       RateLimit-Policy: "login";q=5;w=60\n' in rl, rl
    assert '\n       RateLimit: "login";r=0;t=%d\n' % retry in rl, rl
    body = json.loads(rl.split("problem+json body: ", 1)[1].split("\n")[0])
    assert body["status"] == 429 and body["title"] == "Too Many Requests"
    assert body["correlation_id"] in ids
    assert "security headers: X-Frame-Options: DENY" in rl, rl
    # the refusal in the JSON log: the request's gk.ratelimit, and the
    # audit event with the same correlation ID
    part = p.stdout.split("then its audit event (mod_gk_log):\n", 1)[1]
    rl_fields, audit_line = part.split("\n")[:2]
    assert json.loads(rl_fields) == {"outcome": "failure",
                                     "reason": "rate_limited",
                                     "name": "login", "remaining": 0}
    audit = json.loads(audit_line)
    assert audit["event"]["action"] == "rate-limit-exceeded"
    assert audit["event"]["reason"] == "rate_limited"
    assert audit["labels"] == {"limit": "login", "rate": "5/minute"}
    assert audit["gk"]["correlation_id"] == body["correlation_id"]
    # the login limit counts in the memcached the demo started: its
    # configuration, the one counter holding 6 (the refused attempt
    # counts too) with its expiry, and memcached's own count of
    # increments (6 on one new counter: the creating one counts in
    # neither incr_hits nor incr_misses)
    port = int(re.search(r"(?m)^  memcached  127\.0\.0\.1:(\d+)   \(",
                         p.stdout).group(1))
    work = os.path.join(BUILD, "demo")
    with open(os.path.join(work, "httpd.conf")) as f:
        conf = f.read()
    assert re.search(r'(?m)^GKRateLimitStore\s+memcached '
                     r'"--SERVER=127\.0\.0\.1:%d"$' % port, conf), conf
    secret = os.path.join(work, "ratelimit.secret")
    assert re.search(r"(?m)^GKRateLimitKeySecret\s+file:%s$"
                     % re.escape(secret), conf), conf
    assert os.stat(secret).st_mode & 0o777 == 0o600
    m = re.search(r"\n       memcached 127\.0\.0\.1:%d holds "
                  r"gk:gkrl:[0-9a-f]{16}:(\d+) = 6 \(expires in (\d+) s"
                  % port, rl)
    assert m, rl
    assert int(m.group(1)) % 60 == 0, rl       # the window's start
    assert 5 <= int(m.group(2)) <= 66, rl      # its end + 5 s
    assert rl.count(" holds gk:gkrl:") == 1, rl
    assert re.search(r"\n       memcached stats: incr_hits 5, "
                     r"incr_misses 0, curr_items 1:", rl), rl
    # mod_gk_auth's token endpoint (SetHandler gk-token): the demo user
    # logs in with the password grant and gets an RS256 at+jwt with the
    # demo's verifying kid, its role and the role's permission; the issued
    # token passes the gateway's own verification; a wrong password and an
    # unknown user get the same invalid_grant bytes
    steps = re.split(r"(?m)^\s*\d+\. ", walk)
    tok = [s for s in steps if s.startswith("The token endpoint: dave logs")]
    assert len(tok) == 1 and "-> 200 OK   ok" in tok[0], walk
    tok = tok[0]
    assert "-d 'grant_type=password&username=dave&password=" in tok, tok
    assert "\n       Cache-Control: no-store; Pragma: no-cache\n" in tok, tok
    answer = json.loads(tok.split("\n       body: ", 1)[1].split("\n")[0])
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 900
    assert re.fullmatch(r"eyJ[\w-]{13}\.\.\.[\w-]{6}",
                        answer["access_token"]), answer   # shortened
    head = json.loads(tok.split("token header: ", 1)[1].split("\n")[0])
    assert head == {"alg": "RS256", "typ": "at+jwt", "kid": "demo-rs"}
    claims = json.loads(tok.split("token claims: ", 1)[1].split("\n")[0])
    assert claims["sub"] == "dave" and claims["roles"] == ["analyst"]
    assert claims["permissions"] == ["reports:read"]
    assert claims["iss"] == "https://issuer.demo.test"
    assert claims["aud"] == "https://api.demo.test"
    assert claims["exp"] - claims["iat"] == 900 and len(claims["jti"]) == 22
    assert '\n       RateLimit-Policy: "token";q=5;w=60\n' in tok, tok
    used = [s for s in steps if s.startswith("Dave's issued token")]
    assert len(used) == 1 and "-> 200 OK   ok" in used[0], walk
    assert '-H "Authorization: Bearer $ISSUED"' in used[0], used[0]
    assert re.search(r"backend saw: .*X-User: dave, X-Remote-User: dave, "
                     r"X-GK-Roles: analyst, X-GK-Permissions: reports:read",
                     used[0]), used[0]
    # logout (SetHandler gk-revoke, issue 14): the issued token logs
    # itself out, then is refused with invalid_token, reason revoked
    out = [s for s in steps if s.startswith("Dave logs out: POST /logout")]
    assert len(out) == 1 and "-> 200 OK   ok" in out[0], walk
    assert "-d ''" in out[0] and '-H "Authorization: Bearer $ISSUED"' \
        in out[0], out[0]
    gone = [s for s in steps
            if s.startswith("Dave's logged-out token on /reports/")]
    assert len(gone) == 1 and "-> 401 Unauthorized   ok" in gone[0], walk
    assert 'error="invalid_token"' in gone[0], gone[0]
    assert re.search(r'(?m)^\s+SetHandler gk-revoke$', conf), conf
    assert re.search(r'(?m)^\s+ProxyPass\s+"/logout" "!"$', conf), conf
    with open(os.path.join(work, "access.log")) as f:
        acc = f.read()
    assert re.search(r'"POST /logout HTTP/1.1" 200 .*reason=ok', acc), acc
    assert re.search(r'"GET /reports/q3 HTTP/1.1" 401 .*reason=revoked',
                     acc), acc
    invalid_grant = ('{"error":"invalid_grant","error_description":'
                     '"the user name or password is wrong"}')
    for title in ("The token endpoint: a wrong password",
                  "The token endpoint: a user that does not exist"):
        bad = [s for s in steps if s.startswith(title)]
        assert len(bad) == 1 and "-> 400 Bad Request   ok" in bad[0], walk
        assert "\n       body: %s\n" % invalid_grant in bad[0], bad[0]
    # the token endpoint's configuration: the verifying key's file pair
    # and kid, the users written by htpasswd -B, the roles file
    assert re.search(r'(?m)^\s+GKAuthKey\s+RS256 %s kid=demo-rs$'
                     % re.escape(os.path.join(work, "rs256.pub.pem")), conf)
    assert re.search(r'(?m)^\s+GKTokenKey\s+RS256 %s kid=demo-rs$'
                     % re.escape(os.path.join(work, "rs256.key.pem")), conf)
    assert re.search(r'(?m)^\s+SetHandler gk-token$', conf), conf
    assert re.search(r'(?m)^\s+ProxyPass\s+"/token" "!"$', conf), conf
    users = re.search(r'(?m)^\s+AuthUserFile\s+"([^"]+)"$', conf).group(1)
    if os.path.dirname(users) == work:      # else a /tmp directory, gone
        with open(users) as f:
            assert re.fullmatch(r"dave:\$2y\$05\$[./A-Za-z0-9]{53}\n",
                                f.read())
    with open(os.path.join(work, "roles")) as f:
        assert "\nanalyst: dave\n" in f.read()
    # the audit events of the token endpoint, after the refused login's
    part = p.stdout.split("a token issued, a login refused:\n", 1)[1]
    issued, refused = [json.loads(l) for l in part.split("\n")[:2]]
    assert issued["event"]["action"] == "token-issued"
    assert issued["event"]["outcome"] == "success"
    assert issued["labels"] == {"user": "dave"}
    assert refused["event"]["action"] == "login-refused"
    assert refused["event"]["reason"] == "login_failed"
    assert refused["labels"] == {"user": "dave"}
    # no password in any log (demo.py checks the files too)
    for name in ("error.log", "access.log", "access.json"):
        with open(os.path.join(work, name), errors="replace") as f:
            text = f.read()
        assert "horse-battery-staple" not in text, name
        assert "wrong-password" not in text, name
    # stopped with the demo
    assert not memcached_running(port), "memcached left running"
    assert not os.path.exists(os.path.join(work, "memcached.pid"))
