"""Instructions per request: apache2 -X under valgrind --tool=callgrind,
N requests over one keep-alive connection minus a run with 0 requests,
divided by N; per-function differences under bench/out/cg/."""

import http.client
import os
import re
import signal
import socket
import subprocess
import time

from .settings import (APACHE, BODY, CG, CG_N, CG_STEADY, IS_ROOT, RESOURCE,
                       die, log)
from .servers import port_open, write_config
from .setup import www_ids
from .wrk import ratio


class CgRun:
    """One measurement: a server sent n requests of one profile in one mode.
    key: its name in the results (bare-HS256, gk-HS256 repeat, log);
    tag: the part of its file names (callgrind.<tag>.<n>.out and
    <server>.<tag>.top.txt); base: the key of the bare run it is compared
    with (its own for a bare run); label: its row in the table;
    verify(i, response, body): None, or what is wrong with the answer to
    request i; vs_bare: also write the per-function differences from its
    base (<server>.<tag>.<vs_file>.txt, vs-bare unless told)."""

    def __init__(self, key, server, profile, mode, tag, base, label,
                 verify=None, vs_bare=False, vs_file="vs-bare"):
        self.key, self.server, self.profile = key, server, profile
        self.mode, self.tag, self.base, self.label = mode, tag, base, label
        self.verify, self.vs_bare, self.vs_file = verify, vs_bare, vs_file
        self.files = None


def drop_to_www():
    ids = www_ids()
    if IS_ROOT and ids:
        def f():
            os.setgroups([])
            os.setgid(ids[1])
            os.setuid(ids[0])
        return f
    return None


def cg_total(path):
    with open(path) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                return int(line.split()[1])
    die(f"no totals in {path}")


def accept_queue(port):
    """Connections waiting in the accept queue of 127.0.0.1:port (LISTEN)."""
    want = "0100007F:%04X" % port
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            p = line.split()
            if p[1] == want and p[3] == "0A":
                return int(p[4].split(":")[1], 16)
    return None


def cg_connect(port, proc, what, timeout=180):
    t0 = time.time()
    sock = None
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            die(f"{what} exited with status {proc.returncode}")
        if sock is None:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=60)
            except OSError:
                time.sleep(0.1)
                continue
        if accept_queue(port) == 0:
            return sock
        time.sleep(0.05)
    die(f"{what}: connection not accepted after {timeout} s")


def cg_once(s, n, hdrs, tag, verify=None, req=None):
    """Run s under callgrind and send it n requests; request i carries the
    headers hdrs[i % len(hdrs)].  req: (method, path, body, status, the
    answer's body or None not to compare it) for a request other than
    GET RESOURCE answered 200 BODY (a profile's cg_request).  Returns the
    callgrind output file."""
    method, path, payload, want, want_body = req or ("GET", RESOURCE, None,
                                                     200, BODY)
    conf = write_config(s, cg=True)
    d = os.path.join(CG, s.name)
    outf = os.path.join(d, f"callgrind.{tag}.{n}.out")
    if os.path.exists(outf):
        os.unlink(outf)
    if port_open(s.cg_port):
        die(f"port {s.cg_port} already in use")
    err = open(os.path.join(d, f"valgrind.{tag}.{n}.log"), "w")
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={outf}",
         APACHE, "-X", "-f", conf],
        stdout=err, stderr=err, preexec_fn=drop_to_www(),
        start_new_session=True)
    try:
        # A connect succeeds as soon as the listener exists, which is during
        # httpd's first configuration pass; the second pass and the MPM start
        # come later.  So keep that connection and wait until httpd has
        # accepted it (the listener's accept queue is empty): only then is
        # the server running, in the runs with and without requests alike.
        sock = cg_connect(s.cg_port, proc, f"{s.name} under callgrind")
        if payload is not None:
            # http.client writes the body after the head: without this, Nagle
            # and the server's delayed ACK hold every body back 40 ms
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c = http.client.HTTPConnection("127.0.0.1", s.cg_port, timeout=60)
        c.sock = sock
        for i in range(n):
            c.request(method, path, body=payload, headers=hdrs[i % len(hdrs)])
            r = c.getresponse()
            body = r.read()
            if r.status != want or (want_body is not None
                                    and body != want_body):
                die(f"{s.name} under callgrind: request {i}: {r.status}")
            wrong = verify(i, r, body) if verify else None
            if wrong:
                die(f"{s.name} under callgrind: request {i}: {wrong}")
        c.close()
        time.sleep(0.5)    # let httpd see the close before it is stopped
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if not os.path.exists(outf):
        die(f"{s.name}: callgrind wrote no {outf}; see {err.name}")
    return outf


def cg_parse(path):
    """Per function (name, object): (exclusive, inclusive) instructions, read
    from a callgrind output file (inclusive = own cost + cost of its calls;
    a recursive function counts its recursion twice)."""
    names = {"fn": {}, "ob": {}}
    ex, inc = {}, {}
    ob = fn = None
    call_next = False

    def name(kind, rest):
        m = re.match(r"\((\d+)\)(?:\s+(.*))?$", rest)
        if not m:
            return rest
        if m.group(2) is not None:
            names[kind][m.group(1)] = m.group(2)
        return names[kind].get(m.group(1), rest)

    with open(path) as f:
        for line in f:
            c = line[:1]
            if c.isdigit() or c in "+-*":
                parts = line.split()
                cost = int(parts[1]) if len(parts) > 1 else 0
                key = (fn, ob)
                if call_next:
                    inc[key] = inc.get(key, 0) + cost
                    call_next = False
                else:
                    ex[key] = ex.get(key, 0) + cost
                    inc[key] = inc.get(key, 0) + cost
                continue
            if line.startswith("fn="):
                fn = re.sub(r"'\d+$", "", name("fn", line[3:].strip()))
            elif line.startswith("ob="):
                ob = name("ob", line[3:].strip())
            elif line.startswith("cob="):
                name("ob", line[4:].strip())     # defines a compressed name
            elif line.startswith("cfn="):
                name("fn", line[4:].strip())
            elif line.startswith("calls="):
                call_next = True
    return {k: (ex.get(k, 0), inc.get(k, 0)) for k in inc}


_cg_cache = {}


def annotate(path, inclusive):
    if path not in _cg_cache:
        _cg_cache[path] = cg_parse(path)
    out = {}
    for (fn, ob), v in _cg_cache[path].items():
        k = (fn or "?", os.path.basename(ob or "?"))
        out[k] = out.get(k, 0) + v[1 if inclusive else 0]
    return out


def per_function(fa, fb, n, inclusive):
    """Per function: (cost in fb - cost in fa) / n."""
    a, b = annotate(fa, inclusive), annotate(fb, inclusive)
    return {k: (b.get(k, 0) - a.get(k, 0)) / n for k in set(a) | set(b)}


def cg_diff(fa, fb, n, inclusive):
    diff = per_function(fa, fb, n, inclusive)
    return sorted(((v, k) for k, v in diff.items() if v > 0), reverse=True)


def write_top(path, key, per, steady, ex, inc):
    with open(path, "w") as f:
        f.write(f"# {key}: {per:.0f} instructions/request ((N-0)/N, N={CG_N})"
                + (f", steady {steady:.0f} ((2N-N)/N)" if steady else "")
                + "\n# function costs below: difference of the last two runs"
                " / N\n\n")
        own = [(v, k) for v, k in inc if k[1].startswith("mod_gk")]
        if own:
            f.write("# inclusive, functions of mod_gk_*\n")
            for v, k in own[:40]:
                f.write(f"{v:10.0f}  {k[0]}\n")
            f.write("\n")
        objs = {}
        for v, k in ex:
            objs[k[1]] = objs.get(k[1], 0) + v
        f.write("# exclusive, by object\n")
        for k, v in sorted(objs.items(), key=lambda x: -x[1])[:15]:
            f.write(f"{v:10.0f}  {k}\n")
        f.write("\n# exclusive, top 40\n")
        for v, k in ex[:40]:
            f.write(f"{v:10.0f}  {k[0]}  [{k[1]}]\n")
        f.write("\n# inclusive, top 80\n")
        for v, k in inc[:80]:
            f.write(f"{v:10.0f}  {k[0]}  [{k[1]}]\n")


def write_vs_bare(path, run, base, per, base_per):
    """Where a server's instructions per request differ from its bare
    baseline's, function by function: (its last two runs' difference) / N
    minus the same for the bare run (apache2, libc... and the module's own
    functions)."""
    fa, fb = run.files[-2], run.files[-1]
    ba, bb = base.files[-2], base.files[-1]
    with open(path, "w") as f:
        f.write(f"# {run.key} - {base.key}: {per:.0f} - {base_per:.0f} = "
                f"{per - base_per:+.0f} instructions/request "
                + ("(steady, (2N-N)/N" if CG_STEADY else "((N-0)/N")
                + f", N={CG_N})\n"
                "# per function: (difference of the last two runs of "
                f"{run.key}) / N minus the same for {base.key}\n")
        for inclusive in (False, True):
            d = per_function(fa, fb, CG_N, inclusive)
            db = per_function(ba, bb, CG_N, inclusive)
            diff = {k: d.get(k, 0) - db.get(k, 0) for k in set(d) | set(db)}
            kind = "inclusive" if inclusive else "exclusive"
            if not inclusive:
                objs = {}
                for k, v in diff.items():
                    objs[k[1]] = objs.get(k[1], 0) + v
                f.write(f"\n# {kind}, by object (sum "
                        f"{sum(objs.values()):+.0f})\n")
                for k, v in sorted(objs.items(), key=lambda x: -abs(x[1])):
                    if abs(v) >= 0.5:
                        f.write(f"{v:+10.0f}  {k}\n")
            more = sorted(((v, k) for k, v in diff.items() if v >= 0.5),
                          reverse=True)
            less = sorted((v, k) for k, v in diff.items() if v <= -0.5)
            f.write(f"\n# {kind}, more than {base.key}, top 60\n")
            for v, k in more[:60]:
                f.write(f"{v:+10.0f}  {k[0]}  [{k[1]}]\n")
            f.write(f"\n# {kind}, less than {base.key}, top 20\n")
            for v, k in less[:20]:
                f.write(f"{v:+10.0f}  {k[0]}  [{k[1]}]\n")


def run_callgrind(runs):
    log(f"\n== callgrind: apache2 -X as www-data; N={CG_N} requests over one "
        f"keep-alive connection, minus a run with 0 requests, / N"
        + ("; steady = (2N run - N run) / N" if CG_STEADY else ""))
    os.makedirs(CG, exist_ok=True)
    os.chmod(CG, 0o755)
    results = {}
    done = {}
    for run in runs:
        s = run.server
        hdrs = run.profile.headers(run.mode, (2 if CG_STEADY else 1) * CG_N)
        req = getattr(run.profile, "cg_request", None)
        t0 = time.time()
        files = [cg_once(s, 0, hdrs, run.tag, run.verify, req),
                 cg_once(s, CG_N, hdrs, run.tag, run.verify, req)]
        if CG_STEADY:
            files.append(cg_once(s, 2 * CG_N, hdrs, run.tag, run.verify, req))
        run.files = files
        t = [cg_total(f) for f in files]
        per = (t[1] - t[0]) / CG_N
        steady = (t[2] - t[1]) / CG_N if CG_STEADY else None
        results[run.key] = dict({"per_request": per, "steady": steady},
                                **run.profile.extras)
        done[run.key] = run
        log(f"{run.key:24s} {per / 1000:8.1f}k instructions/request"
            + (f", steady {steady / 1000:.1f}k" if CG_STEADY else "")
            + f" ({time.time() - t0:.0f} s)")
        fa, fb = files[-2], files[-1]
        write_top(os.path.join(CG, f"{s.name}.{run.tag}.top.txt"), run.key,
                  per, steady, cg_diff(fa, fb, CG_N, False),
                  cg_diff(fa, fb, CG_N, True))
        base = done.get(run.base)
        if run.vs_bare and base is not None:
            bp = results[run.base]
            last = "steady" if CG_STEADY else "per_request"
            write_vs_bare(os.path.join(CG, f"{s.name}.{run.tag}."
                                           f"{run.vs_file}.txt"),
                          run, base, results[run.key][last], bp[last])
        _cg_cache.clear()
    return results


def report_cg(runs, results):
    """The table: a row per run, in the order they ran, with its ratio to
    its bare run."""
    if CG_STEADY:
        lines = ["| what | instructions per request | × bare | steady state "
                 "| × bare |", "|---|---:|---:|---:|---:|"]
    else:
        lines = ["| what | instructions per request | × bare |",
                 "|---|---:|---:|"]
    for run in runs:
        v = results.get(run.key)
        if v is None:
            continue
        b = results.get(run.base, {})
        r = ratio(v["per_request"], b.get("per_request"))
        row = f"| {run.label} | {v['per_request'] / 1000:.1f}k | {r:.2f} |"
        if CG_STEADY:
            row += (f" {v['steady'] / 1000:.1f}k | "
                    f"{ratio(v['steady'], b.get('steady')):.2f} |")
        lines.append(row)
    return "\n".join(lines)


def cg_ratio(results, key, base, steady=False):
    v, b = results.get(key), results.get(base)
    if not v or not b:
        return None
    f = "steady" if steady else "per_request"
    return ratio(v[f], b[f])


def write_pairs(pairs, runs, results):
    """Per-function differences between two servers measured in one run:
    for each (a, b) of pairs whose runs (CgRun by server name) and results
    exist, bench/out/cg/A.repeat.vs-B.txt. Returns the paths written."""
    last = "steady" if CG_STEADY else "per_request"
    out = []
    for a, b in pairs:
        ra, rb = runs.get(a), runs.get(b)
        if not (ra and rb and ra.files and rb.files and a in results
                and b in results):
            continue
        path = os.path.join(CG, f"{a}.repeat.vs-{b}.txt")
        write_vs_bare(path, ra, rb, results[a][last], results[b][last])
        out.append(path)
    return out
