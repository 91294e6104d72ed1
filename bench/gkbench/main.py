"""bench/run's modes: which servers, in which order, and what is written.

The suites (auth, log, headers, ratelimit, token, validate) each say which servers
they have, how each is configured and checked, which requests it is sent
and how its figures are reported; this module runs them side by side."""

import os
import sys

from . import auth as auth_suite
from . import headers as headers_suite
from . import log as log_suite
from . import ratelimit as ratelimit_suite
from . import revoke as revoke_suite
from . import token as token_suite
from . import validate as validate_suite
from .callgrind import CgRun, report_cg, run_callgrind
from .report import machine, write_results
from .servers import selected, start, stop, write_config
from .settings import (CG_N, CG_SERVERS, CG_STEADY, CONNS, DURATION, NTOKENS,
                       OUT, PORT_BASE, PROCS, ROUNDS, SERVERS_SEL, THREADS,
                       TPC, die, log)
from .setup import ensure_packages, make_keys, make_tokens, snapshot
from .wrk import run_wrk, summarize, targets_of

# In this order: servers, ports (index), groups and rows.
SUITES = [auth_suite, log_suite, headers_suite, ratelimit_suite,
          token_suite, revoke_suite, validate_suite]
MODES = ("all", "check", "wrk", "callgrind", "configs")


def all_servers():
    out = []
    for su in SUITES:
        out += su.servers(len(out))
    return out


def profile_order():
    return [p.name for su in SUITES for p in su.profiles()]


def bare_profiles(sel):
    """The profiles the bare server is sent, for the servers it is compared
    with; alone, the auth suite's (one per algorithm, as always)."""
    out = []
    for su in SUITES:
        out += [p for p in su.baselines(sel) if p not in out]
    return out or auth_suite.profiles()


def cg_runs(servers):
    runs = []
    for s in servers:
        if s.impl == "bare":
            runs += [CgRun(f"bare-{p.name}", s, p, "repeat", f"repeat-{p.name}",
                           f"bare-{p.name}", f"bare httpd ({p.label})")
                     for p in bare_profiles(servers)]
        else:
            runs += s.suite.cg_runs(s)
    return runs


def main(doc):
    mode = sys.argv[1] if len(sys.argv) > 1 else "all"
    if mode in ("-h", "--help", "help"):
        print(doc)
        return
    if mode not in MODES:
        die(f"unknown mode {mode!r}; see bench/run --help")
    ensure_packages()
    os.makedirs(OUT, exist_ok=True)
    make_keys()
    make_tokens()
    every = selected(all_servers(), SERVERS_SEL, everything=True)
    # check and wrk: BENCH_SERVERS (all: the throughput set); callgrind:
    # BENCH_CG_SERVERS among BENCH_SERVERS (all: every server)
    servers = selected(every, SERVERS_SEL)
    names = set(CG_SERVERS)
    cg_servers = [s for s in every
                  if "all" in names or s.name in names
                  or (s.family and s.family in names)]
    used = {"configs": every, "check": servers, "wrk": servers,
            "callgrind": cg_servers}.get(mode)
    if used is None:
        used = [s for s in every if s in servers or s in cg_servers]
    modules = {}
    for su in SUITES:
        for impl, (so, snap) in su.MODULES.items():
            users = [s for s in used if s.impl == impl]
            if not users:
                continue
            if not os.path.exists(so):
                log(f"{so} not built (make): skipping "
                    f"{', '.join(s.name for s in users)}")
                every = [s for s in every if s.impl != impl]
                servers = [s for s in servers if s.impl != impl]
                cg_servers = [s for s in cg_servers if s.impl != impl]
                used = [s for s in used if s.impl != impl]
                continue
            modules[impl] = snapshot(so, snap)
            log(modules[impl])
    for su in SUITES:
        su.prepare(used)
    if mode == "configs":
        for s in used:
            log(write_config(s))
        return
    summary = {"machine": machine(),
               "command": " ".join(["bench/run"] + sys.argv[1:]),
               "settings": dict(duration=DURATION, rounds=ROUNDS, conns=CONNS,
                                threads=THREADS, tokens=NTOKENS, procs=PROCS,
                                threads_per_child=TPC, cg_requests=CG_N)}
    gk_impl = next((i for i in ("gk", "token", "revoke") if i in modules),
                   None)
    if gk_impl:
        summary["gk_module"] = modules[gk_impl]
    if "log" in modules:
        summary["log_module"] = modules["log"]
    if "headers" in modules:
        summary["headers_module"] = modules["headers"]
    if "ratelimit" in modules:
        summary["ratelimit_module"] = modules["ratelimit"]
    if "validate" in modules:
        summary["validate_module"] = modules["validate"]
    md = [f"Machine: {summary['machine']}", ""]
    for impl in (gk_impl, "log", "headers", "ratelimit", "validate"):
        if impl in modules:
            md += [f"Module: {modules[impl]}", ""]
    goals = []
    if mode in ("all", "check", "wrk"):
        log(f"starting {len(servers)} servers on 127.0.0.1:{PORT_BASE}..")
        try:
            for s in servers:
                start(s)
            for s in servers:
                log(f"check {s.name:14s} :{s.port}  {s.suite.check(s)}")
            if mode in ("all", "wrk"):
                targets = targets_of(servers, bare_profiles(servers))
                res, grown = run_wrk(servers, targets, profile_order())
                med, spread, ratios = summarize(targets, res)
                lines = []
                for su in SUITES:
                    part = su.wrk_report(targets, res, med, spread, ratios)
                    if part and lines:
                        lines.append("")
                    lines += part
                noisy = {n: c for n, c in grown.items() if c > 0}
                if noisy:
                    lines.append("")
                    lines.append("error.log lines written during the runs: " +
                                 ", ".join(f"{n} {c}" for n, c in noisy.items()))
                table = "\n".join(lines)
                summary["wrk"] = {"runs": res, "median": med,
                                  "paired_ratios": ratios,
                                  "errorlog_lines": grown}
                log("\n" + table)
                md += [f"wrk -t{THREADS} -c{CONNS} -d{DURATION}s, {ROUNDS} "
                       "rounds; req/s: median (min–max); ratios: median of "
                       "the per-round ratios of runs made back to back; "
                       f"httpd event MPM, {PROCS}×{TPC} threads, keep-alive",
                       "", table, ""]
                for su in SUITES:
                    goals += su.wrk_targets(ratios, res)
        finally:
            for s in servers:
                stop(s)
    if mode in ("all", "callgrind"):
        runs = cg_runs(cg_servers)
        res = run_callgrind(runs)
        table = report_cg(runs, res)
        summary["callgrind"] = res
        log("\n" + table)
        md += [f"callgrind (instructions, apache2 -X): N={CG_N} requests over one "
               f"keep-alive connection minus a run with 0 requests, / N"
               + ("; steady state: a run with 2N minus the run with N, / N"
                  if CG_STEADY else ""), "", table, ""]
        for su in SUITES:
            goals += su.cg_targets(res)
    if goals:
        log("\nTargets:\n  " + "\n  ".join(goals))
        md += ["Targets:", ""] + ["- " + t for t in goals]
        summary["targets"] = goals
    if mode != "check":
        write_results(mode, summary, md)
