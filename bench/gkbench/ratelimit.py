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
    ratelimit-mc   the same limit on the memcached store (issue 12):
                       GKRateLimitStore memcached "--SERVER=127.0.0.1:PORT"
                       GKRateLimitKeySecret file:<server dir>/secret
                   (a 32-byte secret written there; GKRateLimitStoreTimeout
                   left at its default, 50 ms).  The suite starts its own
                   memcached before the server (PORT_BASE+98; under
                   callgrind another one at PORT_BASE+198):
                       /usr/bin/memcached -l 127.0.0.1 -p PORT -U 0 -m 64
                                          -c 1024 [-u nobody when root]
                   waits until it answers `stats`, and stops it after the
                   server (at exit at the latest, also when the run dies)
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
every response of ratelimit-shm is verified the same way.

ratelimit-mc is checked the same way and, from memcached's own `stats`
(text protocol) before and after MC_CHECK_REQUESTS requests, by its round
trips: (incr_hits + incr_misses) delta + new items == the requests, one
increment per request for the one limit (memcached counts a creating
increment, the first of a window, as neither a hit nor a miss, but as an
item: new items = curr_items delta + the items memcached itself removed
meanwhile, expired or evicted, normally none), and no other command.  The
same count is taken over each callgrind run (exactly N) and over each wrk
run (from one wrk run to the next: wrk's count leaves out the requests in
flight when it stops, so round trips / requests lies in
[1, 1 + connections / requests]).  During the wrk runs of ratelimit-mc,
memcached's CPU time counts as the measured server's, not as another
process's."""

import atexit
import http.client
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import time

from . import log as log_suite
from . import wrk as wrk_mod
from .callgrind import cg_ratio, CgRun, write_pairs
from .servers import Server, log_tail
from .settings import (BODY, CG, CG_N, CG_STEADY, CONNS, IS_ROOT, MODDIR,
                       PORT_BASE, RATELIMIT_SNAP, RATELIMIT_SO, RESOURCE, SRV,
                       die, log)
from .setup import chown_tree
from .wrk import suite_report, REQUESTS, per_round

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


class McProf(Prof):
    """PLAIN for ratelimit-mc: the same request and the same group (name
    plain, compared with bare-plain); before each wrk run it notes
    memcached's stats and wrk's request count so far, so that each run's
    round trips can be told apart (nothing else uses that memcached while
    wrk runs)."""

    def wrk_args(self, mode, url):
        WRK_MARKS.mark()
        return super().wrk_args(mode, url)


MC_PLAIN = McProf("plain", "no extra header", {})


def profiles():
    return []


def servers(index):
    """Not in BENCH_SERVERS=all nor in the default BENCH_CG_SERVERS: select
    them by name."""
    return [Server(name, impl, None, index + i, suite=SUITE,
                   profile=MC_PLAIN if name == MC_NAME else PLAIN,
                   in_all=False)
            for i, (name, impl) in enumerate((("ratelimit-shm", "ratelimit"),
                                              ("qos", "qos"),
                                              ("qos-clear", "qos"),
                                              ("evasive", "evasive"),
                                              ("ratelimit-shm-pthread",
                                               "ratelimit"),
                                              (MC_NAME, "ratelimit")))]


def baselines(sel):
    """bare-plain for every server of this suite."""
    if any(s.suite is SUITE for s in sel):
        return [log_suite.PLAIN]
    return []


def prepare(sel):
    pass


# ------------------------------------------------------------ memcached --

MC_NAME = "ratelimit-mc"
MEMCACHED = "/usr/bin/memcached"
# memcached's ports: the servers use PORT_BASE + index (< 98 here), the JWKS
# server PORT_BASE+99, callgrind PORT_BASE+100+index
MC_PORT = PORT_BASE + 98
MC_CG_PORT = PORT_BASE + 198
MC_CHECK_REQUESTS = 20
# items memcached removes by itself (expired, evicted): they leave
# curr_items, so they are added back to count the items created
REMOVED = ("reclaimed", "crawler_reclaimed", "evictions")
# every other command that touches items: none is expected
OTHER_CMDS = ("cmd_get", "cmd_set", "cmd_touch", "decr_hits", "decr_misses",
              "delete_hits", "delete_misses", "cas_hits", "cas_misses",
              "cas_badval", "cmd_flush")


class Memcached:
    """One memcached on 127.0.0.1:port, started by this suite."""

    def __init__(self, port, d):
        self.port, self.dir, self.proc = port, d, None

    def start(self):
        if self.proc and self.proc.poll() is None:
            return
        if _port_open(self.port):
            die(f"memcached: port {self.port} already in use (set "
                "BENCH_PORT_BASE)")
        os.makedirs(self.dir, exist_ok=True)
        cmd = [MEMCACHED, "-l", "127.0.0.1", "-p", str(self.port), "-U", "0",
               "-m", "64", "-c", "1024"]
        if IS_ROOT:
            cmd += ["-u", "nobody"]
        # not *.log: write_config deletes those in the server's directory
        out = open(os.path.join(self.dir, f"memcached.{self.port}.out"), "w")
        _started.append(self)
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=out,
                                     stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        t0 = time.time()
        while True:
            if self.proc.poll() is not None:
                die(f"memcached on port {self.port} exited with status "
                    f"{self.proc.returncode}; see {out.name}")
            try:
                self.stats()
                break
            except OSError:
                if time.time() - t0 > 10:
                    self.stop()
                    die(f"memcached on port {self.port}: no answer to stats "
                        "after 10 s")
                time.sleep(0.05)
        log(f"memcached {self.proc.pid} on 127.0.0.1:{self.port} "
            f"({' '.join(cmd[1:])})")

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def stats(self):
        """memcached's general `stats` (text protocol), numbers as ints."""
        with socket.create_connection(("127.0.0.1", self.port),
                                      timeout=5) as c:
            c.sendall(b"stats\r\n")
            buf = b""
            while not buf.endswith(b"END\r\n"):
                chunk = c.recv(65536)
                if not chunk:
                    raise OSError("memcached closed the connection")
                buf += chunk
        out = {}
        for line in buf.decode().splitlines():
            p = line.split()
            if len(p) == 3 and p[0] == "STAT":
                try:
                    out[p[1]] = int(p[2])
                except ValueError:
                    pass
        return out


def _port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


_started = []


@atexit.register
def _stop_all():
    for m in _started:
        m.stop()


def trips(a, b):
    """What happened in memcached between two stats: a dict with incr
    (incr_hits + incr_misses), new (items created: curr_items delta plus
    the items memcached removed itself), removed, other (other commands)
    and trips (incr + new: one per increment)."""
    def d(k):
        return b.get(k, 0) - a.get(k, 0)
    removed = sum(d(k) for k in REMOVED)
    out = {"incr": d("incr_hits") + d("incr_misses"),
           "new": d("curr_items") + removed, "removed": removed,
           "other": sum(d(k) for k in OTHER_CMDS)}
    out["trips"] = out["incr"] + out["new"]
    return out


def _mode():
    return sys.argv[1] if len(sys.argv) > 1 else "all"


MC = Memcached(MC_PORT, os.path.join(SRV, MC_NAME))
MC_CG = Memcached(MC_CG_PORT, os.path.join(CG, MC_NAME))
# memcached's stats before each callgrind run of ratelimit-mc (0, N, 2N
# requests), in the order they ran
CG_SNAPS = []


def secret_file(d):
    """A 32-byte secret (hex, no newline) in the server's directory,
    readable by the httpd user only; kept across runs."""
    p = os.path.join(d, "secret")
    if not os.path.exists(p):
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(16))
    os.chmod(p, 0o600)
    chown_tree(p)
    return p


class WrkMarks:
    """memcached's stats and wrk's request count for ratelimit-mc noted
    before each of its wrk runs (warm-up and repeated runs included) and
    once after the last: one (requests, trips...) per run."""

    def __init__(self):
        self.marks = []

    def mark(self):
        if MC.running():
            self.marks.append((REQUESTS.get(MC_NAME, 0), MC.stats(),
                               store_failures()))

    def runs(self):
        out = []
        for (n0, s0, f0), (n1, s1, f1) in zip(self.marks, self.marks[1:]):
            t = trips(s0, s1)
            t["requests"] = n1 - n0
            t["failures"] = f1 - f0
            out.append(t)
        return out


def store_failures():
    """GK30013 lines in ratelimit-mc's error.log: memcached failing (a
    timeout: GKRateLimitStoreTimeout, 50 ms), after which a child's
    breaker lets its requests through uncounted for a back-off interval
    (GKRateLimitOnStoreError allow, the default), so fewer round trips than
    requests."""
    try:
        with open(os.path.join(SRV, MC_NAME, "error.log"),
                  errors="replace") as f:
            return sum(1 for line in f if "GK30013" in line)
    except OSError:
        return 0


WRK_MARKS = WrkMarks()


def _install_cpu_accounting():
    """wrk.py counts as "others" the CPU time of every process but wrk,
    this script and the measured httpd; memcached serves the measured
    ratelimit-mc, so its time is counted with that httpd's."""
    if getattr(wrk_mod.proc_cpu, "with_memcached", False):
        return
    plain = wrk_mod.proc_cpu

    def proc_cpu(pids):
        pids = list(pids)
        srv = SERVER.get(MC_NAME)
        if MC.running() and srv and srv.proc and srv.proc.pid in pids:
            pids.append(MC.proc.pid)
        return plain(pids)

    proc_cpu.with_memcached = True
    wrk_mod.proc_cpu = proc_cpu


SERVER = {}


def evasive_dir(s, port):
    d = os.path.join(CG if port == s.cg_port else SRV, s.name, "evasive")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    chown_tree(d)
    return d


def config_block(s, port):
    if s.name == MC_NAME:
        cg = port == s.cg_port
        d = os.path.join(CG if cg else SRV, s.name)
        mc = MC_CG if cg else MC
        if _mode() != "configs":
            # the config is written just before httpd starts: memcached
            # first (kept running for the server's whole life; under
            # callgrind for its runs of 0, N and 2N requests)
            mc.start()
            if cg:
                CG_SNAPS.append(mc.stats())
            else:
                SERVER[s.name] = s
                _install_cpu_accounting()
        load = (f"LoadModule gk_ratelimit_module {RATELIMIT_SNAP}\n"
                "# one count per client in memcached, started by the suite\n"
                f'GKRateLimitStore memcached "--SERVER=127.0.0.1:{mc.port}"\n'
                f"GKRateLimitKeySecret file:{secret_file(d)}\n")
        body = f"    GKRateLimit bench {LIMIT}/minute\n"
        return load, body + "    Require all granted\n"
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
    with r going down over three requests; ratelimit-mc the same over
    MC_CHECK_REQUESTS requests, which must be as many round trips."""
    port = port or s.port
    dec = Decreasing()
    seen = []
    mc = s.name == MC_NAME
    k = MC_CHECK_REQUESTS if mc else 3
    before = MC.stats() if mc else None
    for i in range(k):
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
    if mc:
        t = trips(before, MC.stats())
        what = (f"memcached over {k} requests: incr_hits + incr_misses "
                f"+{t['incr']}, new items +{t['new']} (removed by memcached "
                f"{t['removed']}), other commands {t['other']}: "
                f"{t['trips']} round trips")
        if t["trips"] != k or t["other"] != 0:
            log_tail(s)
            die(f"{s.name}: {what}, want {k} and no other command")
        CHECKED[s.name] = t
        return (f"200; RateLimit-Policy {POLICY}; RateLimit {seen[0]} ... "
                f"{seen[-1]}; {what} = {k}")
    if s.impl == "ratelimit":
        return (f"200; RateLimit-Policy {POLICY}; RateLimit "
                + " then ".join(seen))
    return "200"


CHECKED = {}


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
          MC_NAME: "ratelimit-mc: the same limit, memcached store "
                   "(127.0.0.1)",
          "qos": "qos: mod_qos, never-reached QS_ClientEventLimitCount",
          "qos-clear": "qos-clear: mod_qos, the same, counter cleared by "
                       "every request",
          "evasive": "evasive: mod_evasive, never-reached DOSPageCount / "
                     "DOSSiteCount"}
RUNS = {}


def cg_runs(s):
    if s.name == MC_NAME:
        # the throughput servers are stopped by now: so is their memcached
        MC.stop()
    verify = Decreasing() if s.impl == "ratelimit" else None
    run = CgRun(s.name, s, s.profile, "repeat", "repeat", "bare-plain",
                LABELS[s.name] + " (× bare-plain)", verify=verify,
                vs_bare=True)
    RUNS[s.name] = run
    return [run]


# (server, the server it is also compared with): per-function differences
# in bench/out/cg/SERVER.repeat.vs-OTHER.txt
PAIRS = (("ratelimit-shm", "evasive"),
         ("ratelimit-shm-pthread", "ratelimit-shm"),
         (MC_NAME, "ratelimit-shm"))




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
    r, st = fig(MC_NAME)
    if r is not None:
        rs, sts = fig("ratelimit-shm")
        tg.append(f"callgrind ratelimit-mc / bare-plain (same request): "
                  f"{r:.3f}{st}; beside it ratelimit-shm "
                  + (f"{rs:.3f}{sts}" if rs is not None else "not run")
                  + " (reported: no target on instructions with memcached; "
                  "the round trip's wait is not an instruction)")
    for k in ("ratelimit-shm", "ratelimit-shm-pthread", MC_NAME):
        if k in results and "bare-plain" in results:
            f = "steady" if steady else "per_request"
            tg.append(f"callgrind {k} − bare-plain: "
                      f"{results[k][f] - results['bare-plain'][f]:+.0f}"
                      " instructions/request" + (" (steady state)" if steady
                                                 else ""))
    if (MC_NAME in results and "ratelimit-shm" in results):
        f = "steady" if steady else "per_request"
        tg.append(f"callgrind ratelimit-mc − ratelimit-shm: "
                  f"{results[MC_NAME][f] - results['ratelimit-shm'][f]:+.0f}"
                  " instructions/request" + (" (steady state)" if steady
                                             else ""))
    tg += cg_trips(results)
    for p in write_pairs(PAIRS, RUNS, results):
        tg.append(f"per-function difference: {os.path.relpath(p, CG)} "
                  "(in bench/out/cg/)")
    return tg


# ------------------------------------------------------------------ wrk --

def wrk_report(targets, res, med, spread, ratios):
    return suite_report(targets, SUITE, res, med, spread, LABELS)


def wrk_targets(ratios, res):
    out = []
    for k in ("ratelimit-shm", "ratelimit-shm-pthread", MC_NAME, "qos",
              "qos-clear", "evasive"):
        pr = per_round(res, "repeat", k, "bare-plain")
        if pr:
            out.append(f"throughput {k} / bare-plain: "
                       f"{statistics.median(pr):.2f} (rounds "
                       f"{min(pr):.2f}–{max(pr):.2f}; reported, no target)")
    pr = per_round(res, "repeat", MC_NAME, "ratelimit-shm")
    if pr:
        out.append(f"throughput ratelimit-mc / ratelimit-shm: "
                   f"{statistics.median(pr):.2f} (rounds "
                   f"{min(pr):.2f}–{max(pr):.2f}; reported, no target)")
    out += wrk_trips()
    return out


# ------------------------------------------------- round trips per request --

def cg_trips(results):
    """memcached's round trips over ratelimit-mc's callgrind runs: the
    stats noted before each run and now, after the last (nothing else used
    that memcached).  The run with N requests must come to N exactly (and
    the run with 0 to 0)."""
    if MC_NAME not in results or not MC_CG.running() or not CG_SNAPS:
        return []
    snaps = CG_SNAPS + [MC_CG.stats()]
    MC_CG.stop()
    ns = [0, CG_N] + ([2 * CG_N] if CG_STEADY else [])
    if len(snaps) != len(ns) + 1:
        return [f"memcached round trips under callgrind: {len(snaps) - 1} "
                f"runs noted, {len(ns)} expected: not counted"]
    out = []
    ok = True
    parts = []
    for n, a, b in zip(ns, snaps, snaps[1:]):
        t = trips(a, b)
        ok &= t["trips"] == n and t["other"] == 0
        parts.append(f"{n} requests: {t['trips']} (incr +{t['incr']}, new "
                     f"items +{t['new']}, removed by memcached "
                     f"{t['removed']}, other commands {t['other']})")
        if n == CG_N:
            per = t["trips"] / n
    RESULTS["callgrind"] = parts
    out.append(f"memcached round trips per request under callgrind "
               f"(ratelimit-mc, stats deltas over the run of N={CG_N}): "
               f"{per:.2f} {'EXACT' if ok else 'WRONG'}; "
               + "; ".join(parts))
    return out


RESULTS = {}


def wrk_trips():
    """memcached's round trips over each wrk run of ratelimit-mc against
    the requests wrk counted: at least one per request, at most one more
    per connection (the requests in flight when wrk stopped)."""
    if not MC.running() or not WRK_MARKS.marks:
        return []
    WRK_MARKS.mark()
    runs = WRK_MARKS.runs()
    if not runs:
        return []
    ratios, bad, extra, failed = [], 0, [], 0
    per_run = []
    for t in runs:
        if not t["requests"]:
            continue
        r = t["trips"] / t["requests"]
        ok = (t["requests"] <= t["trips"] <= t["requests"] + CONNS
              and t["other"] == 0)
        per_run.append(f"{t['trips']}/{t['requests']} = {r:.5f}"
                       + (f" (store failing {t['failures']}×: breaker "
                          "opened)" if t["failures"] else "")
                       + ("" if ok else " OUTSIDE"))
        if t["failures"]:
            failed += 1
        else:
            ratios.append(r)
            extra.append(t["trips"] - t["requests"])
        if not ok and not t["failures"]:
            bad += 1
    RESULTS["wrk"] = runs
    if not per_run:
        return []
    out = ["memcached round trips per request, each wrk run of ratelimit-mc "
           "in order (warm-up and repeats included): " + "; ".join(per_run)]
    if ratios:
        out.append(f"memcached round trips per request over the {len(ratios)}"
                   " wrk runs of ratelimit-mc without a store failure: "
                   f"{min(ratios):.5f}–{max(ratios):.5f}, round trips − "
                   f"requests {min(extra)}–{max(extra)} (bound 0–{CONNS}, "
                   f"-c{CONNS}): "
                   + ("every one within [1, 1 + connections/requests]"
                      if not bad else f"{bad} OUTSIDE [1, 1 + connections/"
                      "requests]")
                   + f"; runs with a store failure (timeout, uncounted "
                   f"requests allowed): {failed}; items removed by memcached "
                   + str(sum(t["removed"] for t in runs))
                   + ", other commands "
                   + str(sum(t["other"] for t in runs)))
    return out
