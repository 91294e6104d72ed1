"""Suite token: mod_gk_auth's token endpoint (SetHandler gk-token, issue
13), a whole login per request, against a bare httpd answering a POST of
the same form to its static file.

    token-hs256  bare httpd + mod_authn_file (Debian's) + mod_gk_auth (a
                 snapshot of BENCH_GK_SO), and
                     <Location /token>
                         SetHandler gk-token
                         AuthUserFile <dir>/users   (htpasswd -bB -C 5:
                                                     one user, alice,
                                                     bcrypt cost 5)
                         GKTokenRolesFile <dir>/roles  (admin: alice)
                         GKAuthRolePermissions admin reports:read
                                                     reports:export
                         GKTokenIssuer ISSUER, GKTokenAudience AUDIENCE
                         GKTokenKey HS256 file:<dir>/hs256.secret kid=h1
                     </Location>
                 (GKTokenAuthProvider left at its default, file;
                 GKTokenDummyHashCost at its, 5; <dir> is bench/out/token,
                 the secret 32 bytes)
    token-rs256  the same with GKTokenKey RS256 <dir>/rs256.key kid=r1 (the
                 auth suite's 2048-bit key, a private PEM, copied there
                 readable by the httpd user only)

Both are sent, over keep-alive, POST /token with Content-Type
application/x-www-form-urlencoded and the body
grant_type=password&username=alice&password=... (profile post, mode
repeat): a real login, one bcrypt verification and one signature per
request.  They are compared with bare-post: the bare server sent the same
POST, with the same body, to /ok.txt (httpd's default handler reads and
discards the body and answers the file).  Under callgrind token-hs256 is
also sent, in a second run, the same form for a user no provider knows
(tag unknown): answered 400 invalid_grant after the dummy bcrypt
verification against GKTokenDummyHashCost's hash.

check() verifies: 200, application/json, Cache-Control: no-store, token
type Bearer, expires_in 900, and a token PyJWT accepts with the key (alg,
iss, aud, exp), header typ at+jwt and the kid, sub alice, roles [admin]
and the two permissions; then that an unknown user and a wrong password
for alice get the same 400 invalid_grant bytes, and that GET is 405 with
Allow: POST.  Under callgrind every answer is checked too (each token by
PyJWT; each refusal byte for byte).

Each callgrind run also writes bench/out/cg/SERVER.TAG.breakdown.txt:
inclusive instructions per request of the parts of the request (bcrypt,
i.e. apr_password_validate, mod_authn_file, the form, the claims JSON,
the signature, EVP_PKEY_sign), from the per-function inclusive counts of
the runs with N and 0 requests (2N and N with BENCH_CG_STEADY=1).  A
bcrypt verification costs millions of instructions, tens of milliseconds
under callgrind: use a small BENCH_CG_REQUESTS (200 to 500).  None of
these servers is in BENCH_SERVERS=all or the default BENCH_CG_SERVERS:
name them (token selects both)."""

import http.client
import json
import os
import shutil
import statistics
import string
import secrets
import subprocess
import sys

from .callgrind import CgRun, cg_ratio, per_function
from .servers import Profile, Server, log_tail
from .settings import (AUDIENCE, BODY, CG, CG_N, CG_STEADY, GK_SNAP, GK_SO,
                       ISSUER, KEYS, MODDIR, OUT, RESOURCE, die)
from .setup import chown_tree, write
from .wrk import per_round, suite_servers, suite_table

SUITE = sys.modules[__name__]
NAME = "token"
# impl -> (module built, snapshot the servers load): the auth suite's
MODULES = {"token": (GK_SO, GK_SNAP)}

DIR = os.path.join(OUT, "token")
PATH = "/token"
USER = "alice"
PASSWORD = "correct-horse-battery-staple"
BCRYPT_COST = 5
ROLES = ["admin"]
PERMS = ["reports:read", "reports:export"]
LIFETIME = 900
CTYPE = "application/x-www-form-urlencoded"
FORM = f"grant_type=password&username={USER}&password={PASSWORD}".encode()
UNKNOWN_FORM = (b"grant_type=password&username=mallory&"
                b"password=wrong-horse-battery-staple")
WRONG_FORM = (f"grant_type=password&username={USER}&"
              "password=wrong-horse-battery-staple").encode()
INVALID_GRANT = (b'{"error":"invalid_grant","error_description":'
                 b'"the user name or password is wrong"}')
KIDS = {"HS256": "h1", "RS256": "r1"}


class PostProfile(Profile):
    """One POST of a login form over and over: to /token (the token
    servers) or to /ok.txt (the bare server, cg_request answered 200 and
    the file).  Named post for both, so that wrk groups and compares them
    (the bare run is bare-post); cg_request is what callgrind.py sends
    instead of GET /ok.txt: (method, path, body, status, body or None)."""

    def __init__(self, label, path, form, status, answer):
        super().__init__("post", label, ("repeat",), {"request": "post"},
                         alternate=False)
        self.suite = SUITE
        self.path, self.form = path, form
        self.cg_request = ("POST", path, form, status, answer)

    def headers(self, mode, n):
        return [{"Content-Type": CTYPE}]

    def wrk_args(self, mode, url):
        if self.path != RESOURCE:
            url = url[:-len(RESOURCE)] + self.path
        return ["-s", lua_script(), url]


BARE_POST = PostProfile("POST of the login form to /ok.txt", RESOURCE, FORM,
                        200, BODY)
LOGIN = PostProfile("POST /token, alice's password", PATH, FORM, 200, None)
UNKNOWN = PostProfile("POST /token, an unknown user", PATH, UNKNOWN_FORM,
                      400, INVALID_GRANT)


def lua_script():
    """wrk's script for the POST (bench/out/token/post.lua)."""
    p = os.path.join(DIR, "post.lua")
    write(p, 'wrk.method = "POST"\n'
             f'wrk.body = "{FORM.decode()}"\n'
             f'wrk.headers["Content-Type"] = "{CTYPE}"\n')
    return p


def profiles():
    return [BARE_POST]


def servers(index):
    """Not in BENCH_SERVERS=all nor in the default BENCH_CG_SERVERS: name
    them (token selects both)."""
    return [Server(f"token-{alg.lower()}", "token", alg, index + i,
                   suite=SUITE, profile=LOGIN, family="token", in_all=False)
            for i, alg in enumerate(("HS256", "RS256"))]


def baselines(sel):
    """bare-post when a token server is selected."""
    if any(s.suite is SUITE for s in sel):
        return [BARE_POST]
    return []


def files():
    """The user file, roles file and keys in bench/out/token/, readable by
    the httpd user (under callgrind httpd starts as www-data); kept between
    runs."""
    os.makedirs(DIR, exist_ok=True)
    os.chmod(DIR, 0o755)
    users = os.path.join(DIR, "users")
    if not os.path.exists(users):
        r = subprocess.run(["htpasswd", "-c", "-bB", "-C", str(BCRYPT_COST),
                            users, USER, PASSWORD],
                           capture_output=True, text=True)
        if r.returncode != 0:
            die(f"htpasswd: {r.stderr}")
    os.chmod(users, 0o644)
    roles = os.path.join(DIR, "roles")
    write(roles, "# GKTokenRolesFile, AuthGroupFile format\n"
                 + "".join(f"{role}: {USER}\n" for role in ROLES))
    sec = os.path.join(DIR, "hs256.secret")
    if not os.path.exists(sec):
        alphabet = string.ascii_letters + string.digits
        write(sec, "".join(secrets.choice(alphabet) for _ in range(32)),
              0o600)
    key = os.path.join(DIR, "rs256.key")
    shutil.copyfile(os.path.join(KEYS, "rs256.key"), key)
    for p in (sec, key):
        os.chmod(p, 0o600)
        chown_tree(p)
    return users, roles, sec, key


def prepare(sel):
    if any(s.suite is SUITE for s in sel):
        files()
        lua_script()


def config_block(s, port):
    users, roles, sec, key = files()
    src = f"file:{sec}" if s.alg == "HS256" else key
    load = (f"LoadModule authn_file_module {MODDIR}/mod_authn_file.so\n"
            f"LoadModule gk_auth_module {GK_SNAP}\n"
            f"<Location {PATH}>\n"
            "    SetHandler gk-token\n"
            f"    AuthUserFile {users}\n"
            f"    GKTokenRolesFile {roles}\n"
            f"    GKAuthRolePermissions admin {' '.join(PERMS)}\n"
            f"    GKTokenIssuer {ISSUER}\n"
            f"    GKTokenAudience {AUDIENCE}\n"
            f"    GKTokenKey {s.alg} {src} kid={KIDS[s.alg]}\n"
            "</Location>\n")
    return load, "    Require all granted\n"


# ---------------------------------------------------------------- check --

def post(port, path, form, method="POST"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path, body=form if method == "POST" else None,
              headers={"Content-Type": CTYPE} if method == "POST" else {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, r, body


def verify_key(alg):
    if alg == "HS256":
        with open(os.path.join(DIR, "hs256.secret"), "rb") as f:
            return f.read()
    with open(os.path.join(KEYS, "rs256.pub"), "rb") as f:
        return f.read()


_keys = {}


def wrong_token(alg, r, body):
    """What is wrong with a 200 answer to alice's login, or None."""
    import jwt
    if alg not in _keys:
        _keys[alg] = verify_key(alg)
    if r.getheader("Content-Type", "").split(";")[0] != "application/json":
        return f"Content-Type {r.getheader('Content-Type')!r}"
    if r.getheader("Cache-Control") != "no-store":
        return f"Cache-Control {r.getheader('Cache-Control')!r}"
    try:
        a = json.loads(body)
    except ValueError:
        return f"not JSON: {body[:80]!r}"
    if a.get("token_type") != "Bearer" or a.get("expires_in") != LIFETIME:
        return f"answer {a!r}"
    tok = a.get("access_token", "")
    try:
        h = jwt.get_unverified_header(tok)
        c = jwt.decode(tok, _keys[alg], algorithms=[alg], audience=AUDIENCE,
                       issuer=ISSUER)
    except Exception as e:  # noqa: BLE001 (any refusal by PyJWT)
        return f"PyJWT refused the token: {e}"
    if h.get("typ") != "at+jwt" or h.get("kid") != KIDS[alg]:
        return f"header {h!r}"
    if (c.get("sub") != USER or c.get("roles") != ROLES
            or sorted(c.get("permissions", [])) != sorted(PERMS)
            or c["exp"] - c["iat"] != LIFETIME or not c.get("jti")):
        return f"claims {c!r}"
    return None


def verifier(alg):
    def verify(i, r, body):
        return wrong_token(alg, r, body)
    return verify


def verify_refused(i, r, body):
    if r.getheader("Content-Type", "").split(";")[0] != "application/json":
        return f"Content-Type {r.getheader('Content-Type')!r}"
    return None


def check(s, port=None):
    """200 and a token PyJWT accepts; an unknown user and a wrong password
    the same 400 invalid_grant; GET 405 with Allow: POST."""
    port = port or s.port
    st, r, body = post(port, PATH, FORM)
    wrong = (f"{st} {body[:120]!r}" if st != 200
             else wrong_token(s.alg, r, body))
    if not wrong:
        su, _, bu = post(port, PATH, UNKNOWN_FORM)
        sw, _, bw = post(port, PATH, WRONG_FORM)
        if (su, bu) != (400, INVALID_GRANT) or (sw, bw) != (su, bu):
            wrong = (f"unknown user {su} {bu!r}, wrong password {sw} {bw!r}, "
                     f"want 400 {INVALID_GRANT!r} for both")
    if not wrong:
        sg, rg, _ = post(port, PATH, None, "GET")
        if sg != 405 or rg.getheader("Allow") != "POST":
            wrong = f"GET {sg}, Allow {rg.getheader('Allow')!r}"
    if wrong:
        log_tail(s)
        die(f"{s.name}: {wrong}")
    return (f"200, {s.alg} token accepted by PyJWT (typ at+jwt, kid "
            f"{KIDS[s.alg]}, sub, roles, permissions, iss, aud, exp); "
            "unknown user and wrong password: the same 400 invalid_grant; "
            "GET 405 Allow: POST")


# ------------------------------------------------------------ callgrind --

LABELS = {"token-hs256": "token-hs256: POST /token, bcrypt cost 5, HS256 "
                         "(× bare-post)",
          "token-rs256": "token-rs256: the same, RS256 2048 (× bare-post)",
          "token-hs256 unknown": "token-hs256: an unknown user, dummy "
                                 "bcrypt, 400 (× bare-post)"}
RUNS = {}


def cg_runs(s):
    out = [CgRun(s.name, s, LOGIN, "repeat", "repeat", "bare-post",
                 LABELS[s.name], verify=verifier(s.alg), vs_bare=True)]
    if s.alg == "HS256":
        out.append(CgRun(f"{s.name} unknown", s, UNKNOWN, "repeat", "unknown",
                         "bare-post", LABELS[f"{s.name} unknown"],
                         verify=verify_refused, vs_bare=True))
    for run in out:
        RUNS[run.key] = run
    return out


# (label, [(function, object prefix)...]): inclusive per request, in the
# order the handler reaches them; a function named "*" is the largest
# inclusive count of its object (Debian strips mod_authn_file: its
# check_password is the provider's entry point); a compiler's clone
# (sign_bytes.constprop.0) counts as the function
PARTS = (
    ("the handler, gk_auth_token_handler", [("gk_auth_token_handler",
                                             "mod_gk_auth")]),
    ("  reading the body (ap_get_client_block)", [("ap_get_client_block",
                                                    "apache2")]),
    ("  the form, gk_form_parse", [("gk_form_parse", "mod_gk_auth")]),
    ("  mod_authn_file's check_password (bcrypt included)",
     [("*", "mod_authn_file")]),
    ("    bcrypt: apr_password_validate", [("apr_password_validate",
                                            "libaprutil")]),
    ("    the user file: ap_pcfg_openfile", [("ap_pcfg_openfile",
                                              "apache2")]),
    ("  the claims JSON and jti, gk_sign_claims", [("gk_sign_claims",
                                                    "mod_gk_auth")]),
    ("    the JSON text, dump_json", [("dump_json", "mod_gk_auth")]),
    ("    jti: gk_rand_bytes", [("gk_rand_bytes", "mod_gk_auth")]),
    ("  the signed token, gk_sign_jwt", [("gk_sign_jwt", "mod_gk_auth")]),
    ("    the signature, sign_bytes", [("sign_bytes", "mod_gk_auth")]),
    ("      RSA: EVP_PKEY_sign", [("EVP_PKEY_sign", "libcrypto")]),
    ("  the answer's JSON, token_answer", [("token_answer", "mod_gk_auth")]),
    ("  the audit event, gk_auth_audit", [("gk_auth_audit", "mod_gk_auth")]),
    ("  sending the answer, send_json", [("send_json", "mod_gk_auth")]),
)
HANDLER = PARTS[0][0]
AUTHN = "  mod_authn_file's check_password (bcrypt included)"
BCRYPT = "    bcrypt: apr_password_validate"
RSA = "      RSA: EVP_PKEY_sign"
REST = ("  the rest of the handler (inlined: roles, permissions, the "
        "answer's JSON...)")


def parts_of(run):
    """{label: inclusive instructions per request}, from the run's last two
    callgrind runs (N and 0 requests, or 2N and N with BENCH_CG_STEADY);
    only the functions found (a static function may have been inlined)."""
    d = per_function(run.files[-2], run.files[-1], CG_N, True)
    out = {}
    for label, fns in PARTS:
        v = []
        for f, o in fns:
            mine = [(fn, x) for (fn, ob), x in d.items() if ob.startswith(o)]
            if f == "*":
                v += [max(x for _, x in mine)] if mine else []
            else:
                v += [x for fn, x in mine
                      if fn == f or fn.startswith(f + ".")]
        if v:
            out[label] = sum(v)
    if HANDLER in out:
        # what the handler does itself or in functions not listed (static
        # ones the compiler inlined); the dummy bcrypt verification of an
        # unknown user is called by the handler, not by mod_authn_file
        known = sum(v for k, v in out.items()
                    if k.startswith("  ") and not k.startswith("   "))
        if out.get(BCRYPT, 0) > out.get(AUTHN, 0):
            known += out[BCRYPT]
        out[REST] = out[HANDLER] - known
    return out


BREAKDOWN = {}


def breakdown(results):
    lines = []
    last = "steady" if CG_STEADY else "per_request"
    what = "(2N-N)/N" if CG_STEADY else "(N-0)/N"
    for key, run in RUNS.items():
        if key not in results or not run.files:
            continue
        per = results[key][last]
        base = results.get("bare-post", {}).get(last)
        parts = parts_of(run)
        BREAKDOWN[key] = parts
        path = os.path.join(CG, f"{run.server.name}.{run.tag}.breakdown.txt")
        with open(path, "w") as f:
            f.write(f"# {key}: {per:.0f} instructions/request ({what}, "
                    f"N={CG_N})"
                    + (f"; bare-post {base:.0f}" if base else "")
                    + "\n# inclusive instructions per request of each part "
                      f"(per-function inclusive counts, {what})\n\n")
            for label, v in parts.items():
                f.write(f"{v:12.0f}  {100 * v / per:5.1f} %  {label}\n")
        bc = parts.get(BCRYPT)
        tag = " (steady state)" if CG_STEADY else ""
        if bc is not None:
            rest = per - bc
            lines.append(
                f"callgrind {key}{tag}: {per:,.0f} instructions/request, of "
                f"which bcrypt (apr_password_validate, cost {BCRYPT_COST}) "
                f"{bc:,.0f} = {100 * bc / per:.1f} %; the rest {rest:,.0f}"
                + (f" ({rest / base:.2f} × bare-post {base:,.0f}, "
                   f"{rest - base:+,.0f})" if base else ""))
        sig = parts.get(RSA)
        if sig is not None and run.server.alg == "RS256":
            lines.append(f"callgrind {key}{tag}: EVP_PKEY_sign {sig:,.0f} = "
                         f"{100 * sig / per:.1f} % of the request, "
                         f"{100 * sig / (per - (bc or 0)):.1f} % of what is "
                         "not bcrypt")
        lines.append(f"breakdown: {os.path.relpath(path, CG)} (in "
                     "bench/out/cg/)")
    return lines


def cg_targets(results):
    tg = []
    for k in ("token-hs256", "token-rs256", "token-hs256 unknown"):
        r = cg_ratio(results, k, "bare-post")
        if r is not None:
            tg.append(f"callgrind {k} / bare-post: {r:.1f} (reported, no "
                      "target)")
    return tg + breakdown(results)


# ------------------------------------------------------------------ wrk --

def wrk_report(targets, res, med, spread, ratios):
    ts = suite_servers(targets, SUITE)
    if not ts:
        return []
    return suite_table(ts, res, med, spread,
                       lambda t: (t.label() if t.is_bare
                                  else LABELS[t.name].split(" (×")[0]), ())


def wrk_targets(ratios, res):
    out = []
    for k in ("token-hs256", "token-rs256"):
        pr = per_round(res, "repeat", k, "bare-post")
        if pr:
            out.append(f"throughput {k} / bare-post: "
                       f"{statistics.median(pr):.3f} (rounds "
                       f"{min(pr):.3f}–{max(pr):.3f}; reported, no target)")
    return out

