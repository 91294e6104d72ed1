"""Suite log: mod_gk_log (correlation IDs, issue 7) against a bare httpd
sent the same requests.

    log     bare httpd + LoadModule gk_log_module, defaults: every request
            gets a generated UUIDv7 correlation ID (request and response
            header X-Correlation-ID, GK_CORRELATION_ID, the notes); the
            requests carry no extra header, like those of bare-plain
    log-in  the same configuration; every request carries a valid incoming
            X-Correlation-ID from the loopback peer, which the default
            GKCorrelationTrust (all) trusts, so it is kept as it is; compared
            with bare-cid, the bare server sent the same header

Both send one request over and over (mode repeat) whatever BENCH_MODES
says: nothing is cached, there are no tokens."""

import re
import statistics
import sys

from .callgrind import CgRun, cg_ratio
from .servers import Profile, Server, http_get, log_tail
from .settings import BODY, LOG_SNAP, LOG_SO, die
from .wrk import per_round

SUITE = sys.modules[__name__]
NAME = "log"
HEADER = "X-Correlation-ID"
# A valid UUIDv7 (version 7, variant 10), kept by the module as it is.
INCOMING_ID = "0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b"
UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                   r"[0-9a-f]{12}$")
# impl -> (module built, snapshot the servers load)
MODULES = {"log": (LOG_SO, LOG_SNAP)}


class HeaderProfile(Profile):
    """One request over and over, with these extra headers."""

    def __init__(self, name, label, extra):
        super().__init__(name, label, ("repeat",), {"request": name},
                         alternate=True)
        self.extra = dict(extra)
        self.suite = SUITE

    def headers(self, mode, n):
        return [dict(self.extra)]

    def wrk_args(self, mode, url):
        out = []
        for k, v in self.extra.items():
            out += ["-H", f"{k}: {v}"]
        return out + [url]


PLAIN = HeaderProfile("plain", "no extra header", {})
CID = HeaderProfile("cid", f"{HEADER} header", {HEADER: INCOMING_ID})


def profiles():
    return [PLAIN, CID]


def servers(index):
    return [Server("log", "log", None, index, suite=SUITE, profile=PLAIN),
            # not in BENCH_SERVERS=all (the throughput set): select it by
            # name; it is in the default BENCH_CG_SERVERS
            Server("log-in", "log", None, index + 1, suite=SUITE,
                   profile=CID, in_all=False)]


def baselines(sel):
    """bare-plain for log, bare-cid for log-in."""
    want = {s.profile.name for s in sel if s.suite is SUITE}
    return [p for p in profiles() if p.name in want]


def prepare(sel):
    pass


def config_block(s, port):
    load = ("# mod_gk_log with its defaults: GKCorrelation On, "
            f"GKCorrelationHeader {HEADER},\n"
            "# GKCorrelationFormat uuid7, GKCorrelationTrust all, "
            "GKTraceparent propagate\n"
            f"LoadModule gk_log_module {LOG_SNAP}\n")
    return load, "    Require all granted\n"


def verify_generated(i, r, body):
    v = r.getheader(HEADER)
    if not v or not UUID7.match(v):
        return f"{HEADER} {v!r} is not a generated UUIDv7"
    return None


def verify_kept(i, r, body):
    v = r.getheader(HEADER)
    if v != INCOMING_ID:
        return f"{HEADER} {v!r}, want the incoming {INCOMING_ID}"
    return None


def check(s, port=None):
    """A generated UUIDv7 per request, a valid incoming ID kept, an invalid
    one replaced; 200 and the file each time."""
    port = port or s.port
    got = []
    for hdrs in ({}, {}, {HEADER: INCOMING_ID}, {HEADER: "not valid!"}):
        st, v, body = http_get(port, header=HEADER, headers=hdrs)
        if st != 200 or body != BODY:
            log_tail(s)
            die(f"{s.name}: expected 200 '{BODY.decode()}', got {st} "
                f"{body[:80]!r}")
        got.append(v)
    gen = bool(got[0] and UUID7.match(got[0]) and got[1]
               and UUID7.match(got[1]) and got[0] != got[1])
    kept = got[2] == INCOMING_ID
    repl = bool(got[3] and UUID7.match(got[3]))
    res = (f"200; {HEADER}: generated {'uuid7' if gen else got[:2]}, "
           f"incoming {'kept' if kept else got[2]}, "
           f"invalid {'replaced' if repl else got[3]}")
    if not (gen and kept and repl):
        log_tail(s)
        die(f"{s.name}: unexpected: {res}")
    return res


# ------------------------------------------------------------ callgrind --

LABELS = {"log": "log: generated UUIDv7 (no extra header)",
          "log-in": f"log-in: incoming {HEADER} kept"}


def cg_runs(s):
    verify = verify_kept if s.profile is CID else verify_generated
    return [CgRun(s.name, s, s.profile, "repeat", "repeat",
                  f"bare-{s.profile.name}", LABELS.get(s.name, s.name),
                  verify=verify, vs_bare=True)]


def cg_targets(results):
    tg = []
    for k, s in (("log", ""), ("log-in", f", both with {HEADER}")):
        r = cg_ratio(results, k, "bare-" + ("plain" if k == "log" else "cid"))
        if r is None:
            continue
        line = (f"callgrind {k} <= 1.05 × bare{s}: {r:.2f} "
                f"{'PASS' if r <= 1.05 else 'FAIL'}")
        rs = cg_ratio(results, k, "bare-" + ("plain" if k == "log" else "cid"),
                      steady=True)
        if rs is not None and results[k].get("steady") is not None:
            line += f" (steady state {rs:.2f})"
        tg.append(line)
    return tg


# ------------------------------------------------------------------ wrk --

def wrk_report(targets, res, med, spread, ratios):
    """bare-plain and log, bare-cid and log-in: req/s, and the ratio to bare
    as the median of the per-round ratios with their spread."""
    mine = [t for t in targets if t.suite is SUITE]
    if not mine:
        return []
    m = "repeat"
    lines = ["| server | same request: req/s (min–max) | × bare: median of "
             "the rounds (min–max) |", "|---|---:|---:|"]
    rounds = []
    for t in mine:
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
        lines.append(f"| {t.label()} | "
                     + (f"{v:,.0f} ({lo:,.0f}–{hi:,.0f})" if v else "–")
                     + f" | {r} |")
    if rounds:
        lines += ["", "Per round (runs made back to back): "
                  + "; ".join(rounds)]
    return lines


def wrk_targets(ratios, res):
    out = []
    for k, base in (("log", "bare-plain"), ("log-in", "bare-cid")):
        pr = per_round(res, "repeat", k, base)
        if pr:
            out.append(f"throughput {k} / bare: {statistics.median(pr):.2f} "
                       f"(rounds {min(pr):.2f}–{max(pr):.2f}; reported, no "
                       "target)")
    return out
