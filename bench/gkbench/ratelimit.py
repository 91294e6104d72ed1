"""Suite ratelimit: mod_gk_ratelimit (issue 11) with one never-reached
limit per client, against a bare httpd sent the same request and against
the two Debian modules that limit requests per client, each configured
with an equivalent limit that is never reached.

    ratelimit-shm  bare httpd + LoadModule gk_ratelimit_module, one `ip`
                   limit in the resource's scope (<Location />):
                       GKRateLimit bench 100000000/minute
                   (key ip by default, the default shm store: 100,000
                   counters in one shared segment, the gk-ratelimit-shm
                   global mutex, RateLimit-Policy and RateLimit on every
                   response); its mutex follows the shared configuration's
                   `Mutex file:... default` line: fcntl locks
    ratelimit-shm-pthread  the same plus
                       Mutex pthread gk-ratelimit-shm
                   (the module's own default, a process-shared pthread
                   mutex, which Debian's `Mutex file:... default` line in
                   apache2.conf overrides too)
    qos            mod_qos (libapache2-mod-qos, LoadFile libpcre.so.3
                   first): a per-client request count over a period,
                       QS_ClientEntries         100000
                       QS_ClientEventLimitCount 32767 1 QS_Limit
                   (the count is a 16-bit signed number: 100000000 wraps
                   to -7936 and refuses the first request; 32767 is the
                   largest, over the shortest period, 1 s: not reached by
                   the 2N requests under callgrind, but reached within the
                   first second by wrk from one address)
    qos-clear      the same, each request also setting QS_Limit_Clear=1
                   (mod_qos finds the client's entry, counts the event and
                   resets the counter): the limit applies and is never
                   reached, also under wrk; the throughput runs use it
                   and, in <Location />, every request marked as the event:
                       SetEnvIf Request_URI ^ QS_Limit=1
    evasive        mod_evasive (libapache2-mod-evasive): per-client page
                   and site counts that are never reached,
                       DOSPageCount 100000000, DOSSiteCount 100000000,
                       DOSPageInterval 1, DOSSiteInterval 1,
                       DOSBlockingPeriod 10, DOSLogDir <server dir>/evasive
                   (server context: the module has no other)

All are sent the request of bare-plain (GET /ok.txt, no extra header) over
and over (mode repeat) whatever BENCH_MODES says, and compared with
bare-plain.  None is in BENCH_SERVERS=all or the default BENCH_CG_SERVERS:
name them.  check() verifies 200 and the file; for ratelimit-shm also
RateLimit-Policy: "bench";q=100000000;w=60 and a RateLimit field whose r
goes down from one request to the next (the limit counts); under callgrind
every response of ratelimit-shm is verified the same way."""

import http.client
import os
import re
import statistics
import sys

from . import log as log_suite
from .callgrind import cg_ratio, CgRun, write_vs_bare
from .servers import Server, log_tail
from .settings import (BODY, CG, CG_STEADY, MODDIR, RATELIMIT_SNAP,
                       RATELIMIT_SO, RESOURCE, SRV, die)
from .setup import chown_tree
from .wrk import per_round

SUITE = sys.modules[__name__]
NAME = "ratelimit"
# impl -> (module built, snapshot the servers load); qos and evasive load
# only Debian's modules
MODULES = {"ratelimit": (RATELIMIT_SO, RATELIMIT_SNAP)}

LIMIT = 100000000
WINDOW = 60
POLICY = f'"bench";q={LIMIT};w={WINDOW}'
RL_RE = re.compile(r'^"bench";r=(\d+);t=(\d+)$')
# mod_qos keeps the limit in a 16-bit signed number (100000000 wraps to
# -7936 and refuses the first request): its largest, over its shortest
# period
QOS_LIMIT = 32767
QOS_WINDOW = 1
PCRE = "/usr/lib/x86_64-linux-gnu/libpcre.so.3"


class Prof(log_suite.HeaderProfile):
    """One request over and over with no extra header: this suite's rows in
    the throughput table (the bare server's run is the log suite's plain
    profile, measured once when several suites are selected)."""

    def __init__(self, name, label, extra):
        super().__init__(name, label, extra)
        self.suite = SUITE


PLAIN = Prof("plain", "no extra header", {})


def profiles():
    return []


def servers(index):
    """Not in BENCH_SERVERS=all nor in the default BENCH_CG_SERVERS: select
    them by name."""
    return [Server(name, impl, None, index + i, suite=SUITE, profile=PLAIN,
                   in_all=False)
            for i, (name, impl) in enumerate((("ratelimit-shm", "ratelimit"),
                                              ("qos", "qos"),
                                              ("qos-clear", "qos"),
                                              ("evasive", "evasive"),
                                              ("ratelimit-shm-pthread",
                                               "ratelimit")))]


def baselines(sel):
    """bare-plain for every server of this suite."""
    if any(s.suite is SUITE for s in sel):
        return [log_suite.PLAIN]
    return []


def prepare(sel):
    pass


def evasive_dir(s, port):
    d = os.path.join(CG if port == s.cg_port else SRV, s.name, "evasive")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    chown_tree(d)
    return d


def config_block(s, port):
    if s.impl == "ratelimit":
        load = ("# the default store: GKRateLimitStore shm (100,000 counters)\n"
                f"LoadModule gk_ratelimit_module {RATELIMIT_SNAP}\n")
        if s.name == "ratelimit-shm-pthread":
            # after the shared `Mutex file:... default` line: this type
            # gets the module's own default back
            load += "Mutex pthread gk-ratelimit-shm\n"
        body = f"    GKRateLimit bench {LIMIT}/minute\n"
        return load, body + "    Require all granted\n"
    if s.impl == "qos":
        load = (f"LoadModule setenvif_module {MODDIR}/mod_setenvif.so\n"
                f"LoadFile {PCRE}\n"
                f"LoadModule qos_module {MODDIR}/mod_qos.so\n"
                "QS_ClientEntries 100000\n"
                f"QS_ClientEventLimitCount {QOS_LIMIT} {QOS_WINDOW} "
                "QS_Limit\n")
        body = "    SetEnvIf Request_URI ^ QS_Limit=1"
        body += " QS_Limit_Clear=1\n" if s.name == "qos-clear" else "\n"
        return load, body + "    Require all granted\n"
    if s.impl == "evasive":
        load = (f"LoadModule evasive20_module {MODDIR}/mod_evasive20.so\n"
                "DOSHashTableSize 3097\n"
                f"DOSPageCount {LIMIT}\n"
                f"DOSSiteCount {LIMIT}\n"
                "DOSPageInterval 1\n"
                "DOSSiteInterval 1\n"
                "DOSBlockingPeriod 10\n"
                f"DOSLogDir {evasive_dir(s, port)}\n")
        return load, "    Require all granted\n"
    raise ValueError(s.impl)


# ---------------------------------------------------------------- check --

def get(port, conn=None):
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", RESOURCE)
    r = c.getresponse()
    body = r.read()
    if conn is None:
        c.close()
    return r.status, r.getheaders(), body


def values(items, name):
    return [v for k, v in items if k.lower() == name.lower()]


def remaining(items):
    """(r, t) of the RateLimit field, or an error string."""
    pol = values(items, "RateLimit-Policy")
    if pol != [POLICY]:
        return f"RateLimit-Policy {pol!r}, want [{POLICY!r}]"
    rl = values(items, "RateLimit")
    m = RL_RE.match(rl[0]) if len(rl) == 1 else None
    if not m:
        return f"RateLimit {rl!r}, want ['\"bench\";r=N;t=S']"
    r, t = int(m.group(1)), int(m.group(2))
    if not (0 < t <= WINDOW) or r >= LIMIT:
        return f"RateLimit {rl[0]!r}: r or t out of range"
    return r, t


class Decreasing:
    """Verifies that r goes down by at least one per request (other
    requests may count in between under wrk; none under callgrind), unless
    a new window began (t went up)."""

    def __init__(self):
        self.last = None

    def __call__(self, i, resp, body):
        if i == 0:
            self.last = None    # a new server (callgrind runs 0, N, 2N)
        got = remaining(resp.getheaders())
        if isinstance(got, str):
            return got
        if self.last is not None:
            (r0, t0), (r1, t1) = self.last, got
            if not (r1 < r0 or t1 > t0):
                return f"RateLimit r={r1} after r={r0} (t {t0} -> {t1})"
        self.last = got
        return None


def check(s, port=None):
    """200 and the file; ratelimit-shm: RateLimit-Policy and RateLimit
    with r going down over three requests."""
    port = port or s.port
    dec = Decreasing()
    seen = []
    for i in range(3):
        st, items, body = get(port)
        if st != 200 or body != BODY:
            log_tail(s)
            die(f"{s.name}: expected 200 '{BODY.decode()}', got {st} "
                f"{body[:80]!r}")
        if s.impl == "ratelimit":
            wrong = dec(i, _Resp(items), body)
            if wrong:
                log_tail(s)
                die(f"{s.name}: {wrong}")
            seen.append(values(items, "RateLimit")[0])
        elif values(items, "RateLimit") or values(items, "RateLimit-Policy"):
            die(f"{s.name}: unexpected RateLimit fields")
    if s.impl == "ratelimit":
        return (f"200; RateLimit-Policy {POLICY}; RateLimit "
                + " then ".join(seen))
    return "200"


class _Resp:
    def __init__(self, items):
        self.items = items

    def getheaders(self):
        return self.items


# ------------------------------------------------------------ callgrind --

LABELS = {"ratelimit-shm": "ratelimit-shm: one never-reached ip limit, shm "
                           "store",
          "ratelimit-shm-pthread": "ratelimit-shm-pthread: the same, Mutex "
                                   "pthread gk-ratelimit-shm",
          "qos": "qos: mod_qos, never-reached QS_ClientEventLimitCount",
          "qos-clear": "qos-clear: mod_qos, the same, counter cleared by "
                       "every request",
          "evasive": "evasive: mod_evasive, never-reached DOSPageCount / "
                     "DOSSiteCount"}
RUNS = {}


def cg_runs(s):
    verify = Decreasing() if s.impl == "ratelimit" else None
    run = CgRun(s.name, s, s.profile, "repeat", "repeat", "bare-plain",
                LABELS[s.name] + " (× bare-plain)", verify=verify,
                vs_bare=True)
    RUNS[s.name] = run
    return [run]


# (server, the server it is also compared with): per-function differences
# in bench/out/cg/SERVER.repeat.vs-OTHER.txt
PAIRS = (("ratelimit-shm", "evasive"),
         ("ratelimit-shm-pthread", "ratelimit-shm"))


def write_pairs(results):
    last = "steady" if CG_STEADY else "per_request"
    out = []
    for a, b in PAIRS:
        ra, rb = RUNS.get(a), RUNS.get(b)
        if not (ra and rb and ra.files and rb.files and a in results
                and b in results):
            continue
        path = os.path.join(CG, f"{a}.repeat.vs-{b}.txt")
        write_vs_bare(path, ra, rb, results[a][last], results[b][last])
        out.append(path)
    return out


def cg_targets(results):
    tg = []
    steady = CG_STEADY and any(v.get("steady") for v in results.values())

    def fig(k):
        r = cg_ratio(results, k, "bare-plain")
        if r is None:
            return None, ""
        rs = (cg_ratio(results, k, "bare-plain", steady=True)
              if steady else None)
        return r, (f" (steady state {rs:.3f})" if rs is not None else "")

    r, st = fig("ratelimit-shm")
    if r is not None:
        peers = []
        for k in ("evasive", "qos", "qos-clear"):
            rp, stp = fig(k)
            if rp is not None:
                peers.append(f"{k} {rp:.3f}{stp}")
        tg.append(f"callgrind ratelimit-shm <= 1.15 × bare (same request): "
                  f"{r:.3f} {'PASS' if r <= 1.15 else 'FAIL'}{st}"
                  + (f"; beside it: {', '.join(peers)}" if peers else ""))
    else:
        for k in ("evasive", "qos", "qos-clear"):
            rp, stp = fig(k)
            if rp is not None:
                tg.append(f"callgrind {k} / bare-plain: {rp:.3f}{stp} "
                          "(reported)")
    r, st = fig("ratelimit-shm-pthread")
    if r is not None:
        tg.append("callgrind ratelimit-shm-pthread <= 1.15 × bare (same "
                  f"request): {r:.3f} {'PASS' if r <= 1.15 else 'FAIL'}{st}")
    for k in ("ratelimit-shm", "ratelimit-shm-pthread"):
        if k in results and "bare-plain" in results:
            f = "steady" if steady else "per_request"
            tg.append(f"callgrind {k} − bare-plain: "
                      f"{results[k][f] - results['bare-plain'][f]:+.0f}"
                      " instructions/request" + (" (steady state)" if steady
                                                 else ""))
    for p in write_pairs(results):
        tg.append(f"per-function difference: {os.path.relpath(p, CG)} "
                  "(in bench/out/cg/)")
    return tg


# ------------------------------------------------------------------ wrk --

def mine(targets):
    names = {t.base for t in targets
             if not t.is_bare and t.srv.suite is SUITE}
    return [t for t in targets
            if (not t.is_bare and t.srv.suite is SUITE)
            or (t.is_bare and t.name in names)]


def wrk_report(targets, res, med, spread, ratios):
    ts = mine(targets)
    if not ts:
        return []
    m = "repeat"
    lines = ["| server | same request: req/s, median (min–max) | × bare: "
             "median of the per-round ratios (min–max) |",
             "|---|---:|---:|"]
    rounds = []
    for t in ts:
        v = med.get(m, {}).get(t.name)
        lo, hi = spread.get(m, {}).get(t.name, (0, 0))
        if t.is_bare:
            r = "1.00"
        else:
            pr = per_round(res, m, t.name, t.base)
            if pr:
                r = (f"{statistics.median(pr):.2f} "
                     f"({min(pr):.2f}–{max(pr):.2f})")
                rounds.append(f"{t.name} / {t.base}: "
                              + " ".join(f"{x:.2f}" for x in pr))
            else:
                r = "–"
        label = t.label() if t.is_bare else LABELS[t.name]
        lines.append(f"| {label} | "
                     + (f"{v:,.0f} ({lo:,.0f}–{hi:,.0f})" if v else "–")
                     + f" | {r} |")
    if rounds:
        lines += ["", "Per round (runs made back to back): "
                  + "; ".join(rounds)]
    return lines


def wrk_targets(ratios, res):
    out = []
    for k in ("ratelimit-shm", "ratelimit-shm-pthread", "qos", "qos-clear",
              "evasive"):
        pr = per_round(res, "repeat", k, "bare-plain")
        if pr:
            out.append(f"throughput {k} / bare-plain: "
                       f"{statistics.median(pr):.2f} (rounds "
                       f"{min(pr):.2f}–{max(pr):.2f}; reported, no target)")
    return out
