"""Settings from the environment (BENCH_*), paths and constants shared by
every part of the benchmark.  Read once, at import time."""

import os
import sys

# bench/gkbench/settings.py -> bench/
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")
KEYS = os.path.join(OUT, "keys")
TOKENS = os.path.join(OUT, "tokens")
SRV = os.path.join(OUT, "srv")
CG = os.path.join(OUT, "cg")
APACHE = "/usr/sbin/apache2"
MODDIR = "/usr/lib/apache2/modules"
DEB_PKGS = ["apache2", "wrk", "libapache2-mod-auth-openidc",
            "libapache2-mod-oauth2", "valgrind", "python3-jwt",
            "python3-cryptography"]

ISSUER = "https://issuer.bench.example"
AUDIENCE = "bench-api"
RESOURCE = "/ok.txt"
BODY = b"ok"


def env_int(name, default):
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


def env_list(name, default):
    v = os.environ.get(name, "")
    return [x.strip() for x in (v or default).split(",") if x.strip()]


DURATION = env_int("BENCH_DURATION", 4)
ROUNDS = env_int("BENCH_ROUNDS", 3)
WARMUP = env_int("BENCH_WARMUP", 1)
CONNS = env_int("BENCH_CONNS", 8)
THREADS = env_int("BENCH_THREADS", 1)
NTOKENS = env_int("BENCH_TOKENS", 20000)
PROCS = env_int("BENCH_PROCS", 2)
TPC = env_int("BENCH_THREADS_PER_CHILD", 16)
PORT_BASE = env_int("BENCH_PORT_BASE", 18600)
JWKS_PORT = PORT_BASE + 99
WAIT_IDLE = env_int("BENCH_WAIT_IDLE", 120)
RETRIES = env_int("BENCH_RETRIES", 3)
VERBOSE = env_int("BENCH_VERBOSE", 0)
MAX_OTHERS = float(os.environ.get("BENCH_MAX_OTHERS") or 0.1)
CG_N = env_int("BENCH_CG_REQUESTS", 2000)
ALGS = env_list("BENCH_ALGS", "HS256,RS256,ES256")
SERVERS_SEL = env_list("BENCH_SERVERS", "all")
MODES = env_list("BENCH_MODES", "repeat,fresh")
CG_SERVERS = env_list("BENCH_CG_SERVERS",
                      "bare,gk-HS256,gk-RS256,gk-ES256,oidc-HS256,"
                      "oauth2-HS256,oidc-RS256,oauth2-RS256,log,log-in")
CG_MODES = env_list("BENCH_CG_MODES", "repeat,fresh")
CG_PEER_MODES = env_list("BENCH_CG_PEER_MODES", "repeat")
CG_STEADY = env_int("BENCH_CG_STEADY", 0)
GK_SO = os.environ.get("BENCH_GK_SO") or os.path.join(ROOT, "build",
                                                      "mod_gk_auth.so")
LOG_SO = os.environ.get("BENCH_LOG_SO") or os.path.join(ROOT, "build",
                                                        "mod_gk_log.so")
HEADERS_SO = os.environ.get("BENCH_HEADERS_SO") or os.path.join(
    ROOT, "build", "mod_gk_headers.so")
RATELIMIT_SO = os.environ.get("BENCH_RATELIMIT_SO") or os.path.join(
    ROOT, "build", "mod_gk_ratelimit.so")
VALIDATE_SO = os.environ.get("BENCH_VALIDATE_SO") or os.path.join(
    ROOT, "build", "mod_gk_validate.so")
# The servers load a copy, so that a rebuild during a run (make copies the
# new module over build/mod_gk_*.so in place) cannot crash them.
GK_SNAP = os.path.join(OUT, "mod_gk_auth.so")
LOG_SNAP = os.path.join(OUT, "mod_gk_log.so")
HEADERS_SNAP = os.path.join(OUT, "mod_gk_headers.so")
RATELIMIT_SNAP = os.path.join(OUT, "mod_gk_ratelimit.so")
VALIDATE_SNAP = os.path.join(OUT, "mod_gk_validate.so")
IS_ROOT = os.geteuid() == 0


def log(*a):
    print(*a, flush=True)


def die(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)
