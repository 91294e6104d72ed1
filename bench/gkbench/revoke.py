"""Suite revoke: what token revocation (issue 14) costs mod_gk_auth per
request, the same repeated HS256 token sent to the same gk-HS256
configuration (the auth suite's <Location />: GKAuthKey HS256, issuer,
audience, Require gk-role admin) with

    revoke-off      GKAuthRevocation Off at server level: no store at all
                    (the baseline of the three below)
    revoke-shm      revocation on, the default shm store, an empty
                    denylist (a journal of the suite's, emptied before
                    each start)
    revoke-shm-10k  the same with 10,000 live entries in the table: before
                    the runs the suite starts the server normally and
                    revokes 10,000 distinct tokens (exp 12 hours ahead)
                    through its <Location /revoke> (SetHandler gk-revoke,
                    the bench token's admin role as GKRevokeAdminRole),
                    one POST each, into a journal kept in
                    bench/out/revoke/; every later start, the callgrind
                    runs' included, replays it into a fresh table, so each
                    run's requests look up a table of 10,000 entries; the
                    check restarts the server and finds the first and the
                    last revoked token refused (401)
    revoke-mc       revocation on memcached: GKAuthRevocationStore
                    memcached "--SERVER=127.0.0.1:PORT", a memcached the
                    suite starts (PORT_BASE+97); under callgrind PORT is a
                    loopback proxy in this process
                    (tests/integration/gkhttpd/mcproxy.py) in front of
                    another one (PORT_BASE+197), which counts round trips
                    of the binary protocol by their frames (a batch of
                    quiet gets ends with the frame the client waits on),
                    whatever the timing (check and wrk go to memcached
                    directly: a proxy in Python would be a throughput
                    run's bottleneck); under callgrind
                    GKAuthRevocationStoreTimeout 5000 (time does not
                    count there, a timeout's 503 would end the run)

Targets (instructions per request, callgrind, the same request):
revoke-shm <= 1.02 x revoke-off, revoke-shm-10k <= 1.05 x revoke-off;
revoke-mc: memcached round trips over the run of N requests minus those of
the run of 0 requests == N exactly (one per request; instructions
reported). None of these servers is in BENCH_SERVERS=all or the default
BENCH_CG_SERVERS: name them (revoke selects all four)."""

import http.client
import importlib.util
import os
import secrets
import sys
import time
import urllib.parse
from collections import Counter

from . import auth as auth_suite
from .callgrind import CgRun, cg_ratio, write_pairs
from .ratelimit import Memcached
from .servers import Server, http_get, log_tail, start, stop
from .settings import (AUDIENCE, BODY, CG, CG_N, CG_STEADY, GK_SNAP, GK_SO,
                       ISSUER, OUT, PORT_BASE, ROOT, SRV, die, log)
from .setup import chown_tree, kid, signing_key, token
from .wrk import reported_ratios, suite_report

SUITE = sys.modules[__name__]
NAME = "revoke"
# impl -> (module built, snapshot the servers load): the auth suite's
MODULES = {"revoke": (GK_SO, GK_SNAP)}

DIR = os.path.join(OUT, "revoke")
ENTRIES = 10000
ALG = "HS256"
OFF, SHM, SHM10K, MC_NAME = ("revoke-off", "revoke-shm", "revoke-shm-10k",
                             "revoke-mc")
NAMES = (OFF, SHM, SHM10K, MC_NAME)
LABELS = {OFF: "gk-HS256, GKAuthRevocation Off (no store)",
          SHM: "gk-HS256, revocation on shm, empty denylist",
          SHM10K: "gk-HS256, revocation on shm, 10,000 entries",
          MC_NAME: "gk-HS256, revocation on memcached (under callgrind "
                   "through the counting proxy)"}
PROFILE = auth_suite.PROFILES.get(ALG) or auth_suite.TokenProfile(ALG)

MC = Memcached(PORT_BASE + 97, os.path.join(SRV, MC_NAME))
MC_CG = Memcached(PORT_BASE + 197, os.path.join(CG, MC_NAME))


def _load_mcproxy():
    path = os.path.join(ROOT, "tests", "integration", "gkhttpd",
                        "mcproxy.py")
    spec = importlib.util.spec_from_file_location("gk_mcproxy", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_proxies = {}


def proxy_for(mc):
    """The counting proxy in front of mc (started with it)."""
    p = _proxies.get(mc.port)
    if p is None:
        p = _load_mcproxy().McProxy(mc.port).start()
        _proxies[mc.port] = p
    return p


# round_trips() of the callgrind proxy before each run of revoke-mc
CG_SNAPS = []


def profiles():
    return []


def servers(index):
    return [Server(name, "revoke", ALG, index + i, suite=SUITE,
                   profile=PROFILE, family="revoke", in_all=False)
            for i, name in enumerate(NAMES)]


def baselines(sel):
    return []


def journal(name):
    return os.path.join(DIR, f"{name}.journal")


def _fresh_dir():
    os.makedirs(DIR, exist_ok=True)
    os.chmod(DIR, 0o755)
    chown_tree(DIR)


def secret_file():
    p = os.path.join(DIR, "secret")
    if not os.path.exists(p):
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(16))
    chown_tree(p)
    return p


def _unlink(p):
    try:
        os.unlink(p)
    except FileNotFoundError:
        pass


def _configs_only():
    return len(sys.argv) > 1 and sys.argv[1] == "configs"


def config_block(s, port):
    """Module loading and server-wide directives; the <Location /> body is
    the auth suite's gk-HS256 one."""
    _, body = auth_suite.config_block(
        Server("gk-" + ALG, "gk", ALG, 0), port)
    cg = port == s.cg_port
    load = f"LoadModule gk_auth_module {GK_SNAP}\n"
    # every server has the same <Location> blocks: the same walk per
    # request
    revoke_loc = ("<Location /revoke>\n"
                  "    SetHandler gk-revoke\n"
                  "    GKRevokeAdminRole admin\n"
                  "</Location>\n")
    if s.name == OFF:
        return load + "GKAuthRevocation Off\n" + revoke_loc, body
    _fresh_dir()
    j = journal(s.name)
    if s.name != SHM10K:
        _unlink(j)          # an empty denylist at every start
    load += f'GKAuthRevocationJournal "{j}"\n'
    if s.name == MC_NAME:
        mc = MC_CG if cg else MC
        port = mc.port
        if not _configs_only():
            # memcached (and, under callgrind, the counting proxy) run
            # before the server starts; check and wrk talk to memcached
            # directly: a proxy in Python would be the bottleneck of a
            # throughput run
            mc.start()
            if cg:
                p = proxy_for(mc)
                port = p.port
                CG_SNAPS.append(p.round_trips())
        load += (f'GKAuthRevocationStore memcached '
                 f'"--SERVER=127.0.0.1:{port}"\n'
                 f"GKAuthRevocationKeySecret file:{secret_file()}\n")
        if cg:
            # under valgrind, behind a proxy in Python, on a shared
            # machine, an answer may take longer than the default wait:
            # time does not count here, a 503 would end the run
            load += "GKAuthRevocationStoreTimeout 5000\n"
    return load + revoke_loc, body


def mint(sub, jti, ttl=12 * 3600, roles=("user",)):
    import jwt
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub,
              "roles": list(roles), "iat": now - 10, "exp": now + ttl,
              "jti": jti}
    tok = jwt.encode(claims, signing_key(ALG), algorithm=ALG,
                     headers={"typ": "JWT", "kid": kid(ALG)})
    return tok if isinstance(tok, str) else tok.decode()


def revoke_all(port, toks):
    """POST token=T to /revoke for each, over one keep-alive connection,
    authenticated by the bench token (role admin)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    h = {"Authorization": "Bearer " + token(ALG),
         "Content-Type": "application/x-www-form-urlencoded"}
    for i, t in enumerate(toks):
        c.request("POST", "/revoke",
                  body=urllib.parse.urlencode({"token": t}), headers=h)
        r = c.getresponse()
        body = r.read()
        if r.status != 200 or body:
            c.close()
            die(f"revoking token {i}: {r.status} {body[:100]!r}")
    c.close()


FILLED = {}


def prepare(sel):
    """revoke-shm-10k: fill its journal with ENTRIES revocations through
    the handler, then check that a restart replays them."""
    if _configs_only():
        return
    s = next((x for x in sel if x.name == SHM10K), None)
    if s is None:
        return
    _fresh_dir()
    _unlink(journal(SHM10K))
    run = secrets.token_hex(4)
    t0 = time.time()
    toks = [mint(f"revoked-{i % 100}", f"rv-{run}-{i}")
            for i in range(ENTRIES)]
    start(s)
    try:
        revoke_all(s.port, toks)
    finally:
        stop(s)
    if os.path.exists(journal(SHM10K)):
        chown_tree(journal(SHM10K))     # callgrind's httpd -X replays it
    log(f"{SHM10K}: {ENTRIES} tokens revoked into {journal(SHM10K)} "
        f"({time.time() - t0:.0f} s)")
    FILLED["first"], FILLED["last"] = toks[0], toks[-1]
    start(s)
    try:
        for which in ("first", "last"):
            st, _, _ = http_get(s.port, FILLED[which])
            if st != 401:
                log_tail(s)
                die(f"{SHM10K}: the {which} revoked token answered {st} "
                    "after a restart (journal not replayed?)")
    finally:
        stop(s)


def check(s, port=None):
    """200 with the token; where revocation is on, a fresh token revoked
    through /revoke is then refused (401)."""
    port = port or s.port
    st, _, body = http_get(port, token(ALG))
    if st != 200 or body != BODY:
        log_tail(s)
        die(f"{s.name}: the bench token answered {st}")
    if s.name == OFF:
        return "token 200"
    t = mint("bench-check", "check-" + secrets.token_hex(8),
             roles=("admin",))
    ok, _, _ = http_get(port, t)
    revoke_all(port, [t])
    no, _, _ = http_get(port, t)
    res = f"token 200, fresh {ok}, revoked {no}"
    if s.name == SHM10K and FILLED:
        st, _, _ = http_get(port, FILLED["last"])
        res += f", one of the {ENTRIES} {st}"
        if st != 401:
            die(f"{s.name}: unexpected: {res}")
    if ok != 200 or no != 401:
        log_tail(s)
        die(f"{s.name}: unexpected: {res} (want 200, 401)")
    return res


# ------------------------------------------------------------ callgrind --

RUNS = {}


def cg_runs(s):
    if s.name == MC_NAME:
        MC.stop()
    base = f"bare-{ALG}" if s.name == OFF else OFF
    run = CgRun(s.name, s, PROFILE, "repeat", "repeat", base,
                LABELS[s.name] + (" (× bare)" if s.name == OFF
                                  else " (× revoke-off)"),
                vs_bare=s.name != OFF, vs_file="vs-off")
    RUNS[s.name] = run
    return [run]


PAIRS = ((SHM10K, SHM), (MC_NAME, SHM))
TARGETS = ((SHM, 1.02), (SHM10K, 1.05))


def cg_targets(results):
    tg = []
    steady = CG_STEADY and any(v.get("steady") for v in results.values())
    f = "steady" if steady else "per_request"
    for name, limit in TARGETS:
        r = cg_ratio(results, name, OFF, steady=steady)
        if r is None:
            continue
        d = results[name][f] - results[OFF][f]
        tg.append(f"callgrind {name} <= {limit:.2f} × revoke-off (repeated "
                  f"token): {r:.4f} {'PASS' if r <= limit else 'FAIL'} "
                  f"({d:+.0f} instructions/request"
                  + (", steady state)" if steady else ")"))
    r = cg_ratio(results, MC_NAME, OFF, steady=steady)
    if r is not None:
        d = results[MC_NAME][f] - results[OFF][f]
        tg.append(f"callgrind revoke-mc / revoke-off: {r:.4f} ({d:+.0f} "
                  "instructions/request; reported, no target)")
    tg += cg_trips(results)
    for p in write_pairs(PAIRS, RUNS, results):
        tg.append(f"per-function difference: {os.path.relpath(p, CG)} "
                  "(in bench/out/cg/)")
    return tg


def is_lookup(batch):
    """A request's lookup: quiet gets ended by the frame waited on."""
    return batch[-1] in ("NOOP", "GETK", "GET") and all(
        op in ("GETKQ", "GETQ") for op in batch[:-1])


def cg_trips(results):
    """Round trips the proxy counted over revoke-mc's callgrind runs (0, N
    and maybe 2N requests), by their frames: lookups (quiet gets and the
    frame waited on), SETs (the sentinel written after a replay into a
    memcached without one), QUITs (connections closed at exit) and
    anything else. As for the instructions, what a run does at start and
    exit (the parent's replay and its lookup, the QUITs) is the same in
    every run and cancels out of the difference of two runs: exact when
    the last two runs' lookups differ by exactly their difference in
    requests (2N − N with BENCH_CG_STEADY=1, else N − 0) and nothing else
    was sent."""
    if MC_NAME not in results or not CG_SNAPS:
        return []
    p = proxy_for(MC_CG)
    snaps = CG_SNAPS + [p.round_trips()]
    batches = [b for _, b in p.batches()]
    MC_CG.stop()
    ns = [0, CG_N] + ([2 * CG_N] if CG_STEADY else [])
    if len(snaps) - 1 != len(ns):
        return [f"memcached round trips under callgrind: {len(snaps) - 1} "
                f"runs counted, {len(ns)} expected"]
    parts, looks, clean = [], [], not p.errors()
    for n, a, b in zip(ns, snaps, snaps[1:]):
        run = batches[a:b]
        looks.append(sum(1 for x in run if is_lookup(x)))
        sets = sum(1 for x in run if x == ["SET"])
        quits = sum(1 for x in run if x == ["QUIT"])
        other = Counter(" ".join(x) for x in run if not is_lookup(x)
                        and x not in (["SET"], ["QUIT"]))
        clean &= not other
        parts.append(f"{n} requests: {looks[-1]} lookups, {sets} sentinel "
                     f"SET, {quits} QUIT"
                     + (f", other {dict(other)}" if other else ""))
    d, dn = looks[-1] - looks[-2], ns[-1] - ns[-2]
    exact = clean and d == dn
    return ["memcached round trips under callgrind (revoke-mc, counted by "
            "the proxy from the binary protocol's frames): "
            + "; ".join(parts)
            + f"; lookups of the last two runs: {d} for {dn} requests, "
            + ("EXACT, one per request" if exact else "WRONG")
            + ("" if not p.errors() else f"; protocol errors {p.errors()[:2]}")]


# ------------------------------------------------------------------ wrk --

def wrk_report(targets, res, med, spread, ratios):
    return suite_report(targets, SUITE, res, med, spread, LABELS,
                        ((SHM, OFF), (SHM10K, OFF), (MC_NAME, OFF)))


def wrk_targets(ratios, res):
    return reported_ratios(res, ((SHM, OFF), (SHM10K, OFF), (MC_NAME, OFF)))
