"""Suite validate: mod_gk_validate (issue 15), a JSON request body
validated against the seed's UserCreate schema, against the same POST
unvalidated on the same server and on a bare httpd.

    validate-long   bare httpd + mod_alias (Debian's) + mod_gk_validate (a
                    snapshot of BENCH_VALIDATE_SO), and
                        Alias /v/ <docroot>/
                        <Location /v/>
                            GKValidateSchema <out>/validate/user_create.schema.json
                        </Location>
                    (docs/examples/user_create.schema.json copied there;
                    every other GKValidate* directive at its default); sent
                    POST /v/ok.txt, Content-Type application/json, with
                    bench/validate/long_password.json (profile vlong):
                    read, parsed, validated, replayed to httpd's default
                    handler, which reads and discards it and answers the
                    file
    validate-extra  the same server, sent bench/validate/extra_properties.json
                    (profile vextra)
    validate-off    the same server, sent long_password.json to /ok.txt,
                    where no schema applies (wrk only: under callgrind the
                    unvalidated POSTs are runs of validate-long and
                    validate-extra themselves)

Under callgrind each validated run has its unvalidated twin on the same
server, in the same bench run: validate-long runs off-long (POST
/ok.txt), long (POST /v/ok.txt), off-weak and weak (422: the same server
sent bench/validate/weak_password.json, refused by the schema's password
rules); validate-extra runs off-extra and extra.  The bare server is sent
the same POSTs to /ok.txt (bare-vlong, bare-vextra).  Issue 15's target:
(validated - unvalidated) <= 1.3 x a standalone json_loadb of the body,
counted by build/bench/json_bench (bench/json_bench.c, run here under
callgrind: (I(N1 + D) - I(N1)) / D, inside json_loadb only with
--toggle-collect=json_loadb), which also counts the whole parse-and-free
loop and json_loadb followed by gk_schema_validate.  Per-function differences go to
bench/out/cg/validate-*.TAG.vs-off.txt.  None of these servers is in
BENCH_SERVERS=all nor in the default BENCH_CG_SERVERS: name them
(validate selects the three)."""

import http.client
import json
import os
import shutil
import subprocess
import sys

from .callgrind import CgRun, cg_total
from .servers import Profile, Server, log_tail
from .settings import (BODY, CG, HERE, MODDIR, OUT, RESOURCE, ROOT,
                       VALIDATE_SNAP, VALIDATE_SO, die)
from .setup import write
from .wrk import pair_lines, suite_servers, suite_table

SUITE = sys.modules[__name__]
NAME = "validate"
MODULES = {"validate": (VALIDATE_SO, VALIDATE_SNAP)}

DIR = os.path.join(OUT, "validate")
SCHEMA_SRC = os.path.join(ROOT, "docs", "examples", "user_create.schema.json")
SCHEMA = os.path.join(DIR, "user_create.schema.json")
BODIES = os.path.join(HERE, "validate")
CTYPE = "application/json"
VPATH = "/v" + RESOURCE
# json_bench's loops: (I(N1 + D) - I(N1)) / D
JB_N1, JB_D = 200, 2000
TARGET = 1.3


def body_of(name):
    with open(os.path.join(BODIES, name), "rb") as f:
        return f.read()


class BodyProfile(Profile):
    """One POST of a JSON body over and over, to path; named after the body
    so that the bare server, validate-off and the validated server sent the
    same body run in one wrk group.  cg_request: what callgrind.py sends
    instead of GET /ok.txt."""

    def __init__(self, name, label, file, path, status=200, answer=BODY):
        super().__init__(name, label, ("repeat",), {"request": name},
                         alternate=False)
        self.suite = SUITE
        self.file, self.path = file, path
        self.body = body_of(file)
        self.cg_request = ("POST", path, self.body, status, answer)

    def headers(self, mode, n):
        return [{"Content-Type": CTYPE}]

    def wrk_args(self, mode, url):
        if self.path != RESOURCE:
            url = url[:-len(RESOURCE)] + self.path
        return ["-s", lua_script(self), url]


LONG, EXTRA, WEAK = ("long_password.json", "extra_properties.json",
                     "weak_password.json")
VLONG = BodyProfile("vlong", "POST long_password.json to /ok.txt", LONG,
                    VPATH)
VEXTRA = BodyProfile("vextra", "POST extra_properties.json to /ok.txt", EXTRA,
                     VPATH)
# the same bodies where no schema applies (bare, validate-off, the
# unvalidated twins under callgrind)
OFF_LONG = BodyProfile("vlong", VLONG.label, LONG, RESOURCE)
OFF_EXTRA = BodyProfile("vextra", VEXTRA.label, EXTRA, RESOURCE)
OFF_WEAK = BodyProfile("vweak", "POST weak_password.json to /ok.txt", WEAK,
                       RESOURCE)
# refused: 422, the answer's body checked by verify_422
VWEAK = BodyProfile("vweak", OFF_WEAK.label, WEAK, VPATH, 422, None)


def lua_script(p):
    """wrk's script for the POST of p's body (bench/out/validate/P.lua)."""
    path = os.path.join(DIR, f"{p.name}.lua")
    text = p.body.decode()
    if "]==]" in text:
        die(f"{p.file}: cannot quote it for Lua")
    write(path, 'wrk.method = "POST"\n'
                f'wrk.body = [==[{text}]==]\n'
                f'wrk.headers["Content-Type"] = "{CTYPE}"\n')
    return path


def profiles():
    return [OFF_LONG, OFF_EXTRA]


def servers(index):
    return [Server("validate-long", "validate", None, index, suite=SUITE,
                   profile=VLONG, family="validate", in_all=False),
            Server("validate-extra", "validate", None, index + 1,
                   suite=SUITE, profile=VEXTRA, family="validate",
                   in_all=False),
            Server("validate-off", "validate", None, index + 2, suite=SUITE,
                   profile=OFF_LONG, family="validate", in_all=False)]


def baselines(sel):
    want = {s.profile.name for s in sel if s.suite is SUITE}
    return [p for p in profiles() if p.name in want]


def prepare(sel):
    if any(s.suite is SUITE for s in sel):
        os.makedirs(DIR, exist_ok=True)
        os.chmod(DIR, 0o755)
        if not os.path.exists(SCHEMA_SRC):
            die(f"{SCHEMA_SRC} missing")
        shutil.copyfile(SCHEMA_SRC, SCHEMA)
        os.chmod(SCHEMA, 0o644)


def config_block(s, port):
    docroot = os.path.join(OUT, "docroot")
    load = (f"LoadModule alias_module {MODDIR}/mod_alias.so\n"
            f"LoadModule gk_validate_module {VALIDATE_SNAP}\n"
            f"Alias /v/ {docroot}/\n"
            "<Location /v/>\n"
            f"    GKValidateSchema {SCHEMA}\n"
            "</Location>\n")
    return load, "    Require all granted\n"


# ---------------------------------------------------------------- check --

def post(port, path, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("POST", path, body=body, headers={"Content-Type": CTYPE})
    r = c.getresponse()
    out = r.read()
    c.close()
    return r.status, r, out


def wrong_422(r, body):
    """What is wrong with the 422 of weak_password.json, or None."""
    ctype = r.getheader("Content-Type", "").split(";")[0]
    if ctype != "application/problem+json":
        return f"Content-Type {r.getheader('Content-Type')!r}"
    try:
        b = json.loads(body)
    except ValueError:
        return f"not JSON: {body[:80]!r}"
    errs = b.get("errors") or []
    if not any(e.get("instanceLocation") == "/password" for e in errs):
        return f"no /password error in {errs!r}"
    if b'"password"' in body and WEAK_SECRET in body:
        return "the password is echoed"
    return None


WEAK_SECRET = json.loads(body_of(WEAK))["password"].encode()


def verify_422(i, r, body):
    return wrong_422(r, body)


def check(s, port=None):
    """Both bodies: 200 and the file where validated and where not; the
    weak password 422 with a /password error; a malformed body 400."""
    port = port or s.port
    wrong = None
    for p in (VLONG, VEXTRA, OFF_LONG, OFF_EXTRA):
        st, _, out = post(port, p.path, p.body)
        if (st, out) != (200, BODY):
            wrong = f"{p.file} to {p.path}: {st} {out[:120]!r}"
            break
    if not wrong:
        st, r, out = post(port, VPATH, VWEAK.body)
        wrong = (f"weak password: {st}" if st != 422
                 else wrong_422(r, out))
    if not wrong:
        st, _, out = post(port, VPATH, b'{"username": ')
        if st != 400:
            wrong = f"malformed body: {st} {out[:120]!r}"
    if wrong:
        log_tail(s)
        die(f"{s.name}: {wrong}")
    return ("200 validated and not (both bodies), weak password 422 with a "
            "/password error, malformed 400")


# ------------------------------------------------------------ callgrind --

RUNS = {}


def cg_runs(s):
    if s.name == "validate-long":
        out = [CgRun("validate-off long", s, OFF_LONG, "repeat", "off-long",
                     "bare-vlong", "validate-long server: POST "
                     "long_password.json, not validated (× bare-vlong)"),
               CgRun("validate-long", s, VLONG, "repeat", "long",
                     "validate-off long", "validate-long: the same POST, "
                     "validated (× unvalidated)", vs_bare=True,
                     vs_file="vs-off"),
               CgRun("validate-off weak", s, OFF_WEAK, "repeat", "off-weak",
                     "validate-off long", "validate-long server: POST "
                     "weak_password.json, not validated (× off long)"),
               CgRun("validate-422", s, VWEAK, "repeat", "weak",
                     "validate-off weak", "validate-422: the same POST, "
                     "validated, 422 (× unvalidated)", verify=verify_422,
                     vs_bare=True, vs_file="vs-off")]
    elif s.name == "validate-extra":
        out = [CgRun("validate-off extra", s, OFF_EXTRA, "repeat",
                     "off-extra", "bare-vextra", "validate-extra server: "
                     "POST extra_properties.json, not validated "
                     "(× bare-vextra)"),
               CgRun("validate-extra", s, VEXTRA, "repeat", "extra",
                     "validate-off extra", "validate-extra: the same POST, "
                     "validated (× unvalidated)", vs_bare=True,
                     vs_file="vs-off")]
    else:
        out = []
    for run in out:
        RUNS[run.key] = run
    return out


def json_bench():
    """build/bench/json_bench (BUILD of BENCH_VALIDATE_SO), made if
    missing."""
    build = os.path.dirname(os.path.abspath(VALIDATE_SO))
    exe = os.path.join(build, "bench", "json_bench")
    if not os.path.exists(exe):
        r = subprocess.run(["make", "-C", ROOT, f"BUILD={build}", exe],
                           capture_output=True, text=True)
        if r.returncode != 0:
            die(f"make {exe}:\n{r.stdout}{r.stderr}")
    return exe


def jb_count(exe, args, fn=None):
    """json_bench's instructions under callgrind (inside fn only, if
    given: --toggle-collect)."""
    os.makedirs(CG, exist_ok=True)
    out = os.path.join(CG, "json_bench.out")
    opts = [f"--toggle-collect={fn}"] if fn else []
    r = subprocess.run(["valgrind", "--tool=callgrind",
                        f"--callgrind-out-file={out}"] + opts + [exe] + args,
                       capture_output=True, text=True)
    if r.returncode != 0:
        die(f"json_bench {' '.join(args)}:\n{r.stderr[-2000:]}")
    n = cg_total(out)
    os.unlink(out)
    return n


def jb_per_call(exe, mode, file, fn=None):
    body = os.path.join(BODIES, file)
    pre = [mode] + ([SCHEMA] if mode == "validate" else []) + [body]
    a = jb_count(exe, pre + [str(JB_N1)], fn)
    b = jb_count(exe, pre + [str(JB_N1 + JB_D)], fn)
    return (b - a) / JB_D


def cg_targets(results):
    pairs = (("validate-long", "validate-off long", LONG),
             ("validate-extra", "validate-off extra", EXTRA),
             ("validate-422", "validate-off weak", WEAK))
    if not any(k in results for k, _, _ in pairs):
        return []
    exe = json_bench()
    tg = []
    for key, off, file in pairs:
        if key not in results or off not in results:
            continue
        added = results[key]["per_request"] - results[off]["per_request"]
        loadb = jb_per_call(exe, "loadb", file, "json_loadb")
        freed = jb_per_call(exe, "loadb", file)
        both = jb_per_call(exe, "validate", file)
        r = added / loadb
        results[key].update(added=added, json_loadb=loadb,
                            loadb_decref=freed, loadb_validate_decref=both)
        verdict = ("PASS" if r <= TARGET else "FAIL") if key != \
            "validate-422" else "(reported, no target)"
        tg.append(f"callgrind {key} - unvalidated: {added:+,.0f} "
                  f"instructions/request = {r:.2f} × json_loadb of "
                  f"{file} ({loadb:,.0f}); target <= {TARGET} {verdict}; "
                  f"standalone: json_loadb + json_decref {freed:,.0f}, with "
                  f"gk_schema_validate {both:,.0f} (validation alone "
                  f"{both - freed:,.0f})")
    return tg


# ------------------------------------------------------------------ wrk --

def wrk_report(targets, res, med, spread, ratios):
    ts = suite_servers(targets, SUITE)
    return suite_table(ts, res, med, spread, lambda t: t.label(),
                       (("validate-long", "validate-off"),)) if ts else []


def wrk_targets(ratios, res):
    return pair_lines(res, (("validate-long", "bare-vlong"),
                            ("validate-off", "bare-vlong"),
                            ("validate-long", "validate-off"),
                            ("validate-extra", "bare-vextra")), digits=3)
