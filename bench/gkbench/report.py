"""What a run writes: the machine's description, and bench/out/results
[.MODE].json and .md."""

import json
import os
import subprocess

from .settings import OUT, log


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    def ver(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
        except Exception:
            return "?"
    pk = {}
    for p in ("apache2-bin", "libapache2-mod-auth-openidc",
              "libapache2-mod-oauth2", "libssl3", "wrk", "valgrind"):
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", p],
                           capture_output=True, text=True)
        pk[p] = r.stdout.strip() or "?"
    return (f"{os.cpu_count()} vCPU {cpu}, "
            f"{ver(['sh', '-c', '. /etc/os-release; echo $PRETTY_NAME'])}, "
            + ", ".join(f"{k} {v}" for k, v in pk.items()))


def write_results(mode, summary, md):
    """bench/out/results.json and .md for mode all, results.MODE.* else."""
    suffix = "" if mode == "all" else "." + mode
    with open(os.path.join(OUT, f"results{suffix}.json"), "w") as f:
        json.dump(summary, f, indent=1)
    with open(os.path.join(OUT, f"results{suffix}.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    log(f"\nwritten: bench/out/results{suffix}.md, bench/out/results{suffix}.json")
