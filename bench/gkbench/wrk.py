"""Throughput with wrk: side by side, in rounds, against a quiet machine;
ratios are medians of per-round ratios of runs made back to back."""

import os
import re
import resource
import statistics
import subprocess
import time

from .settings import (CONNS, DURATION, MAX_OTHERS, MODES, RETRIES, ROUNDS,
                       THREADS, VERBOSE, WAIT_IDLE, WARMUP, RESOURCE, die,
                       log)
from .servers import errlog_lines, log_tail


class Target:
    """What one wrk run measures: a server and the profile of the requests
    sent.  The bare server is measured once per profile, with the same
    headers as the servers it is compared with (httpd's header parsing costs
    more for a longer RS256 token).  base: the bare target it is compared
    with; modes: the modes it runs in (a profile with a single mode runs in
    it whatever BENCH_MODES says)."""

    def __init__(self, srv, profile):
        self.srv, self.profile = srv, profile
        self.alg = profile.extras.get("alg")
        self.suite = profile.suite
        self.is_bare = srv.impl == "bare"
        self.base = f"bare-{profile.name}"
        self.name = self.base if self.is_bare else srv.name
        if len(profile.modes) == 1:
            self.modes = list(profile.modes)
        else:
            self.modes = [m for m in MODES if m in profile.modes]

    def label(self):
        return (f"bare httpd ({self.profile.label})" if self.is_bare
                else self.name)


def targets_of(servers, bare_profiles):
    out = []
    for s in servers:
        if s.impl == "bare":
            out += [Target(s, p) for p in bare_profiles]
        else:
            out.append(Target(s, s.profile))
    return out


CLK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pids):
    """CPU seconds used so far by these processes and their children that
    are still running (httpd parent and its worker processes)."""
    total = 0
    want = set(pids)
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0.0
    for e in entries:
        if not e.isdigit():
            continue
        try:
            with open(f"/proc/{e}/stat") as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        pid, ppid = int(e), int(fields[1])
        if pid in want or ppid in want:
            total += int(fields[11]) + int(fields[12])
    return total / CLK


def busy_seconds():
    """CPU seconds busy on all CPUs, including time stolen by the hypervisor
    (fields user nice system idle iowait irq softirq steal of /proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (sum(v) - v[3] - v[4]) / CLK


# Requests wrk completed, per target name (warm-up included), and under
# "<name> runs" the number of runs: a suite can compare them with what the
# server logged.
REQUESTS = {}


def wrk(t, mode, duration):
    """One wrk run; returns (requests/s, CPU seconds per second that other
    processes than wrk, this script and the measured httpd used)."""
    s = t.srv
    pids = [s.proc.pid] if s.proc else []
    b0, h0 = busy_seconds(), proc_cpu(pids)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    m0 = resource.getrusage(resource.RUSAGE_SELF)
    w0 = time.time()
    url = f"http://127.0.0.1:{s.port}{RESOURCE}"
    cmd = ["wrk", f"-t{THREADS}", f"-c{CONNS}", f"-d{duration}s"]
    cmd += t.profile.wrk_args(mode, url)
    r = subprocess.run(cmd, capture_output=True, text=True,
                       timeout=duration + 60)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    m1 = resource.getrusage(resource.RUSAGE_SELF)
    ours = (proc_cpu(pids) - h0
            + r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
            + m1.ru_utime + m1.ru_stime - m0.ru_utime - m0.ru_stime)
    others = max(0.0, busy_seconds() - b0 - ours) / max(time.time() - w0, 0.1)
    out = r.stdout + r.stderr
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if r.returncode != 0 or not m:
        die(f"wrk failed on {t.name}:\n{out}")
    n = re.search(r"(\d+) requests in", out)
    if n:
        REQUESTS[t.name] = REQUESTS.get(t.name, 0) + int(n.group(1))
        REQUESTS[t.name + " runs"] = REQUESTS.get(t.name + " runs", 0) + 1
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors:(.*)", out)
    if bad or sock:
        log_tail(s)
        die(f"{t.name} ({mode}): errors during the run:\n{out}")
    return float(m.group(1)), others


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def cpu_idle(seconds=2.0):
    """Fraction of CPU time idle over the next few seconds (/proc/stat)."""
    def snap():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v)
    i0, t0 = snap()
    time.sleep(seconds)
    i1, t1 = snap()
    return (i1 - i0) / max(t1 - t0, 1)


def wait_quiet(quiet=False):
    """Throughput needs the machine to itself: wait up to BENCH_WAIT_IDLE
    seconds until it is at least 90 % idle."""
    t0 = time.time()
    idle = cpu_idle()
    while idle < 0.9 and time.time() - t0 < WAIT_IDLE:
        if not quiet:
            log(f"machine busy ({100 * (1 - idle):.0f} % CPU used by others), "
                "waiting")
        time.sleep(5)
        idle = cpu_idle()
    if idle < 0.9:
        log(f"WARNING: {100 * (1 - idle):.0f} % CPU used by other processes; "
            "throughput figures will be noisy")
    return idle


def modes_of(targets):
    """The modes to run, in BENCH_MODES order, then any a target always
    runs in."""
    modes = [m for m in MODES if m in ("repeat", "fresh")]
    for t in targets:
        modes += [m for m in t.modes if m not in modes]
    return [m for m in modes if any(m in t.modes for t in targets)]


def run_wrk(servers, targets, profile_order):
    """profile_order: the order of the groups (one per request profile)."""
    idle = wait_quiet()
    modes = modes_of(targets)
    total = sum(len(t.modes) for t in targets) * (ROUNDS * DURATION + WARMUP)
    log(f"\n== throughput: wrk -t{THREADS} -c{CONNS} -d{DURATION}s, "
        f"{ROUNDS} rounds, modes {','.join(modes)} (about {total // 60} min "
        f"{total % 60} s); CPU idle before: {100 * idle:.0f} %, "
        f"load average {loadavg()}")
    res = {m: {t.name: [] for t in targets if m in t.modes} for m in modes}
    disturbed = [0]
    loglines = {s.name: errlog_lines(s) for s in servers}
    if WARMUP > 0:
        for m in modes:
            for t in targets:
                if m in t.modes:
                    wrk(t, m, WARMUP)
    # Paired schedule: the servers compared with each other (those sent one
    # profile of requests: bare, gk and the peers of one algorithm; bare and
    # log) run back to back, so that each ratio compares runs a few seconds
    # apart; the order of the groups and within each group rotates every
    # round and reverses every other.
    order_of = {p: i for i, p in enumerate(profile_order)}
    names = sorted({t.profile.name for t in targets},
                   key=lambda n: order_of.get(n, len(order_of)))
    # the runs' own CPU use is accounted; the rest is "others"
    for rnd in range(ROUNDS):
        for m in modes:
            groups = [[t for t in targets
                       if t.profile.name == p and m in t.modes] for p in names]
            groups = [g for g in groups if g]
            k = rnd % len(groups)
            order = []
            for g in groups[k:] + groups[:k]:
                if len(g) == 2 and all(t.profile.alternate for t in g):
                    # rotating and reversing a pair cancel out (the first
                    # would always run first): alternate it instead
                    order += g[::-1] if rnd % 2 else g
                    continue
                j = rnd % len(g)
                g = g[j:] + g[:j]
                order += g[::-1] if rnd % 2 else g
            line = []
            for t in order:
                # a run during which other processes used more than
                # BENCH_MAX_OTHERS of a CPU is repeated (up to BENCH_RETRIES
                # times, after waiting for a quiet machine)
                for attempt in range(RETRIES + 1):
                    rps, others = wrk(t, m, DURATION)
                    if others <= MAX_OTHERS:
                        break
                    disturbed[0] += 1
                    if attempt < RETRIES:
                        wait_quiet(quiet=True)
                res[m][t.name].append(rps)
                line.append(f"{t.name} {rps:.0f}"
                            + (f" (others {others:.2f} CPU!)"
                               if others > MAX_OTHERS else
                               f" ({others:.2f})" if VERBOSE else ""))
            log(f"round {rnd + 1} {m}: " + ", ".join(line))
    grown = {s.name: errlog_lines(s) - loglines[s.name] for s in servers}
    log(f"load average after: {loadavg()}; runs repeated because other "
        f"processes used more than {MAX_OTHERS} CPU: {disturbed[0]}")
    return res, grown


def ratio(a, b):
    return a / b if a and b else float("nan")


def per_round(res, m, a, b):
    """a's throughput over b's, round by round (the two ran back to back),
    or None."""
    va, vb = res.get(m, {}).get(a), res.get(m, {}).get(b)
    if not va or not vb:
        return None
    return [ratio(x, y) for x, y in zip(va, vb)]


def paired(res, m, a, b):
    """The median over rounds of a's throughput over b's in the same round
    (the two ran back to back), or None."""
    r = per_round(res, m, a, b)
    return None if r is None else statistics.median(r)


def summarize(targets, res):
    """(medians, (min, max) spreads, ratios to bare): per mode and target;
    every ratio is the median of the per-round ratios, not the ratio of the
    medians.  Ratios are keyed '<target>/bare'."""
    med = {m: {n: statistics.median(v) for n, v in d.items() if v}
           for m, d in res.items()}
    spread = {m: {n: (min(v), max(v)) for n, v in d.items() if v}
              for m, d in res.items()}
    ratios = {m: {} for m in med}
    for m in med:
        for t in targets:
            if not t.is_bare:
                r = paired(res, m, t.name, t.base)
                if r is not None:
                    ratios[m][f"{t.name}/bare"] = r
    return med, spread, ratios


def pair_lines(res, pairs, digits=2):
    """"throughput A / B: median (rounds min–max; reported, no target)" for
    each (A, B) of pairs both measured, from the per-round ratios."""
    out = []
    for a, b in pairs:
        pr = per_round(res, "repeat", a, b)
        if pr:
            out.append(f"throughput {a} / {b}: {statistics.median(pr):.{digits}f}"
                       f" (rounds {min(pr):.{digits}f}–{max(pr):.{digits}f}; "
                       "reported, no target)")
    return out


def suite_servers(targets, suite):
    """A suite's servers in a wrk run, and the bare runs they are compared
    with."""
    names = {t.base for t in targets
             if not t.is_bare and t.srv.suite is suite}
    return [t for t in targets
            if (not t.is_bare and t.srv.suite is suite)
            or (t.is_bare and t.name in names)]


def ratio_text(pr):
    """A median of per-round ratios with its spread: "0.94 (0.88–1.02)"."""
    return (f"{statistics.median(pr):.2f} ({min(pr):.2f}–{max(pr):.2f})"
            if pr else "–")


def suite_table(ts, res, med, spread, label, extra_pairs=()):
    """The throughput table of a suite's servers (ts, from suite_servers):
    req/s median (min–max) and × bare as the median of the per-round
    ratios; then the rounds' ratios, with those of extra_pairs (server,
    base) too. label(t) names a server's row."""
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
            r = ratio_text(pr)
            if pr:
                rounds.append(f"{t.name} / {t.base}: "
                              + " ".join(f"{x:.2f}" for x in pr))
        lines.append(f"| {label(t)} | "
                     + (f"{v:,.0f} ({lo:,.0f}–{hi:,.0f})" if v else "–")
                     + f" | {r} |")
    for name, base in extra_pairs:
        pr = per_round(res, m, name, base)
        if pr:
            rounds.append(f"{name} / {base}: "
                          + " ".join(f"{x:.2f}" for x in pr))
    if rounds:
        lines += ["", "Per round (runs made back to back): "
                  + "; ".join(rounds)]
    return lines


def suite_report(targets, suite, res, med, spread, labels, extra_pairs=()):
    """suite_table of a suite's servers, rows named labels[name] (bare
    rows by their own label); [] when none of them ran."""
    ts = suite_servers(targets, suite)
    if not ts:
        return []
    return suite_table(ts, res, med, spread,
                       lambda t: t.label() if t.is_bare else labels[t.name],
                       extra_pairs)


def reported_ratios(res, pairs):
    """A line per (server, base) of pairs that ran: the median of its
    per-round throughput ratios and their range (no target)."""
    out = []
    for k, base in pairs:
        pr = per_round(res, "repeat", k, base)
        if pr:
            out.append(f"throughput {k} / {base}: "
                       f"{statistics.median(pr):.2f} (rounds "
                       f"{min(pr):.2f}–{max(pr):.2f}; reported, no target)")
    return out
