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

The JSON access log against mod_log_config (issue 8), the same modules
loaded on both sides (mod_gk_log with its defaults; mod_log_config and
mod_logio are built into Debian's apache2):

    log-combined  CustomLog <server dir>/access.log combined (the stock
                  LogFormat, %O from mod_logio)
    log-json      GKLog <server dir>/access.json instead (no CustomLog)

Both are sent the same request, with a browser's User-Agent and a Referer
(profile access), and log to files.  log-json is compared with
log-combined; after each run the lines of both files are counted (one per
request) and every JSON line must parse.

All send one request over and over (mode repeat) whatever BENCH_MODES
says: nothing is cached, there are no tokens."""

import json
import os
import re
import statistics
import sys

from .callgrind import CgRun, cg_ratio
from .servers import Profile, Server, http_get, log_tail
from .settings import (BODY, CG, CG_N, CG_STEADY, CONNS, LOG_SNAP, LOG_SO,
                       SRV, die)
from .wrk import REQUESTS, per_round

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
# What a browser's request carries into an access log line: the combined
# format's Referer and User-Agent fields, the JSON log's
# http.request.referrer and user_agent.original.
ACCESS = HeaderProfile("access", "User-Agent and Referer", {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) "
                  "Gecko/20100101 Firefox/128.0",
    "Referer": "https://www.example.com/shop/cart.html"})
# server -> (access log file in its directory, JSON lines)
ACCESS_LOGS = {"log-combined": ("access.log", False),
               "log-json": ("access.json", True)}
COMBINED = ('LogFormat "%h %l %u %t \\"%r\\" %>s %O \\"%{Referer}i\\" '
            '\\"%{User-Agent}i\\"" combined\n')


def profiles():
    return [PLAIN, CID, ACCESS]


def servers(index):
    return [Server("log", "log", None, index, suite=SUITE, profile=PLAIN),
            # not in BENCH_SERVERS=all (the throughput set): select it by
            # name; it is in the default BENCH_CG_SERVERS
            Server("log-in", "log", None, index + 1, suite=SUITE,
                   profile=CID, in_all=False),
            # issue 8: select them by name (not in BENCH_SERVERS=all nor in
            # the default BENCH_CG_SERVERS)
            Server("log-combined", "log", None, index + 2, suite=SUITE,
                   profile=ACCESS, in_all=False),
            Server("log-json", "log", None, index + 3, suite=SUITE,
                   profile=ACCESS, in_all=False)]


def baselines(sel):
    """bare-plain for log, bare-cid for log-in, bare-access for
    log-combined and log-json."""
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
    if s.name in ACCESS_LOGS:
        path = access_log(s, cg=port == s.cg_port)
        if os.path.exists(path):
            os.unlink(path)    # a fresh file for every run
        if s.name == "log-combined":
            load += ("# mod_log_config and mod_logio are built in "
                     "(apache2 -l)\n" + COMBINED
                     + f"CustomLog {path} combined\n")
        else:
            load += f"GKLog {path}\n"
    return load, "    Require all granted\n"


def access_log(s, cg=False):
    return access_path(s.name, cg)


def access_path(name, cg=False):
    return os.path.join(CG if cg else SRV, name, ACCESS_LOGS[name][0])


def count_lines(name, cg=False):
    """(lines, lines that are not one JSON object, or None for the combined
    log) of the server's access log."""
    path = access_path(name, cg)
    n, bad = 0, 0
    try:
        with open(path, "rb") as f:
            for line in f:
                n += 1
                if ACCESS_LOGS[name][1]:
                    try:
                        if not isinstance(json.loads(line), dict):
                            bad += 1
                    except ValueError:
                        bad += 1
    except OSError:
        return 0, None
    return n, (bad if ACCESS_LOGS[name][1] else None)


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
    if s.name in ACCESS_LOGS:
        hdrs = dict(ACCESS.extra)
        st, _, body = http_get(port, headers=hdrs)
        if st != 200 or body != BODY:
            die(f"{s.name}: expected 200, got {st}")
        REQUESTS[s.name] = REQUESTS.get(s.name, 0) + 5
        res += f"; {ACCESS_LOGS[s.name][0]}"
    return res


# ------------------------------------------------------------ callgrind --

LABELS = {"log": "log: generated UUIDv7 (no extra header)",
          "log-in": f"log-in: incoming {HEADER} kept",
          "log-combined": "log-combined: CustomLog combined (× log-combined)",
          "log-json": "log-json: GKLog (× log-combined)"}


def cg_runs(s):
    verify = verify_kept if s.profile is CID else verify_generated
    if s.name in ACCESS_LOGS:
        # compared with log-combined; log-json's per-function differences
        # from it go to log-json.repeat.vs-log-combined.txt
        return [CgRun(s.name, s, s.profile, "repeat", "repeat",
                      "log-combined", LABELS[s.name], verify=verify,
                      vs_bare=s.name == "log-json",
                      vs_file="vs-log-combined")]
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
    r = cg_ratio(results, "log-json", "log-combined")
    if r is not None:
        line = (f"callgrind log-json <= 1.05 × log-combined (same request): "
                f"{r:.2f} {'PASS' if r <= 1.05 else 'FAIL'}")
        rs = cg_ratio(results, "log-json", "log-combined", steady=True)
        if rs is not None and results["log-json"].get("steady") is not None:
            line += (f" (steady state {rs:.3f} "
                     f"{'PASS' if rs <= 1.05 else 'FAIL'})")
        tg.append(line)
    # the last run of each (N, or 2N requests with BENCH_CG_STEADY=1) left
    # its access log: one line per request
    want = (2 if CG_STEADY else 1) * CG_N
    for name in ACCESS_LOGS:
        if name in results:
            tg.append(lines_check(name, count_lines(name, cg=True),
                                  want, want))
    return tg


def lines_check(name, counted, lo, hi):
    n, bad = counted
    ok = lo <= n <= hi and not bad
    return (f"{name} {ACCESS_LOGS[name][0]}: {n} lines for "
            + (f"{lo} requests" if lo == hi else f"{lo} to {hi} requests")
            + ("" if bad is None else f", {bad} not JSON objects")
            + f" {'OK' if ok else 'WRONG'}")


# ------------------------------------------------------------------ wrk --

def wrk_report(targets, res, med, spread, ratios):
    """bare-plain and log, bare-cid and log-in: req/s, and the ratio to bare
    as the median of the per-round ratios with their spread."""
    mine = [t for t in targets if t.suite is SUITE]
    if not mine:
        return []
    m = "repeat"
    acc = [t for t in mine if t.name in ACCESS_LOGS]
    vs = " (log-json: × log-combined)" if acc else ""
    lines = ["| server | same request: req/s (min–max) | × bare"
             f"{vs}: median of the rounds (min–max) |", "|---|---:|---:|"]
    rounds = []
    for t in mine:
        v = med.get(m, {}).get(t.name)
        lo, hi = spread.get(m, {}).get(t.name, (0, 0))
        # log-combined and log-json: × log-combined
        base = "log-combined" if t.name in ACCESS_LOGS else t.base
        if t.is_bare or t.name == "log-combined":
            r = "1.00"
        else:
            pr = per_round(res, m, t.name, base)
            if pr:
                r = (f"{statistics.median(pr):.2f} "
                     f"({min(pr):.2f}–{max(pr):.2f})")
                rounds.append(f"{t.name} / {base}: "
                              + " ".join(f"{x:.2f}" for x in pr))
            else:
                r = "–"
        lines.append(f"| {t.label()} | "
                     + (f"{v:,.0f} ({lo:,.0f}–{hi:,.0f})" if v else "–")
                     + f" | {r} |")
    if rounds:
        lines += ["", "Per round (runs made back to back): "
                  + "; ".join(rounds)]
    pr = per_round(res, m, "log-json", "log-combined")
    if pr:
        lines += ["", "log-json / log-combined: median "
                  f"{statistics.median(pr):.3f} (rounds {min(pr):.3f}–"
                  f"{max(pr):.3f}); per round: "
                  + " ".join(f"{x:.3f}" for x in pr)]
    for t in acc:
        lines.append(f"{t.name}: " + access_lines(t.srv))
    return lines


def access_lines(s):
    """Lines in the server's access log against the requests wrk reported
    (and check sent); wrk does not count the requests still in flight when
    it stops (at most one per connection and run)."""
    got = REQUESTS.get(s.name, 0)
    runs = REQUESTS.get(s.name + " runs", 0)
    return lines_check(s.name, count_lines(s.name), got, got + CONNS * runs)


def wrk_targets(ratios, res):
    out = []
    for k, base in (("log", "bare-plain"), ("log-in", "bare-cid")):
        pr = per_round(res, "repeat", k, base)
        if pr:
            out.append(f"throughput {k} / bare: {statistics.median(pr):.2f} "
                       f"(rounds {min(pr):.2f}–{max(pr):.2f}; reported, no "
                       "target)")
    pr = per_round(res, "repeat", "log-json", "log-combined")
    if pr:
        out.append(f"throughput log-json / log-combined: "
                   f"{statistics.median(pr):.3f} (rounds {min(pr):.3f}–"
                   f"{max(pr):.3f}; reported beside the callgrind target)")
    return out
