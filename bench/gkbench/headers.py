"""Suite headers: mod_gk_headers (issue 9's security-header profile, issue
10's CORS) against a bare httpd sent the same request, and against stock
mod_headers + mod_setenvif configured to do the same.

    headers-api      bare httpd + LoadModule gk_headers_module,
                     GKSecurityHeaders api for the resource's scope; the
                     requests carry no extra header (profile plain), like
                     those of bare-plain
    headers-cors     the same plus CORS for that scope:
                         GKCORSAllowOrigin https://app.example.com
                                           https://*.example.org
                         GKCORSAllowCredentials On
                         GKCORSAllowHeaders Authorization Content-Type
                         GKCORSMaxAge 600
                     every request carries Origin: https://app.example.com
                     (profile origin); compared with bare-origin, the bare
                     server sent the same header
    modheaders-cors  no Gatekeeper module: mod_headers and mod_setenvif
                     (Debian's, /usr/lib/apache2/modules) doing what
                     headers-cors does, as a careful admin would write it:
                     the ten api-profile headers with `Header always set`
                     and the usual CORS recipe (SetEnvIf Origin with an
                     anchored expression, the allowed origin echoed, the
                     credentials and expose headers only for it, Vary:
                     Origin merged); sent the same request, compared with
                     bare-origin

None is in BENCH_SERVERS=all nor in the default BENCH_CG_SERVERS: name
them.  All send one request over and over (mode repeat) whatever
BENCH_MODES says.  Before measuring, check() verifies every header of the
api profile (once each, with its value), and for the CORS servers the
allowed origin echoed with credentials and expose headers, Vary: Origin,
and no Access-Control-* header for a refused origin; under callgrind every
response is verified too."""

import http.client
import os
import sys

from . import log as log_suite
from .callgrind import cg_ratio, CgRun, write_pairs
from .servers import Server, log_tail
from .settings import (BODY, CG, CG_STEADY, HEADERS_SNAP, HEADERS_SO,
                       MODDIR, RESOURCE, die)
from .wrk import reported_ratios, suite_servers, suite_table

SUITE = sys.modules[__name__]
NAME = "headers"
# impl -> (module built, snapshot the servers load); modheaders-cors loads
# only Debian's modules
MODULES = {"headers": (HEADERS_SO, HEADERS_SNAP)}

ORIGIN = "https://app.example.com"
REFUSED = "https://app.example.com.attacker.example"
ALLOW_ORIGINS = "https://app.example.com https://*.example.org"
# mod_gk_headers' default GKCORSExposeHeaders without mod_gk_log
EXPOSE = "RateLimit, RateLimit-Policy, Retry-After, WWW-Authenticate"

# GKSecurityHeaders api: tests/integration/gk_headers_helpers.py
# PROFILES["api"]
PP_BASE = ("accelerometer=(), autoplay=(), camera=(), display-capture=(), "
           "geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
           "midi=(), payment=(), usb=()")
API = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Permitted-Cross-Domain-Policies": "none",
    "X-XSS-Protection": "0",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": PP_BASE,
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
}


class Prof(log_suite.HeaderProfile):
    """One request over and over with these extra headers; this suite's
    rows in the throughput table."""

    def __init__(self, name, label, extra):
        super().__init__(name, label, extra)
        self.suite = SUITE


# headers-api is sent what log and bare-plain are (no extra header); the
# bare server's plain run is the log suite's profile object, so that bare
# is measured once when both suites are selected
PLAIN = Prof("plain", "no extra header", {})
ORIGIN_P = Prof("origin", "Origin header", {"Origin": ORIGIN})


def profiles():
    return [ORIGIN_P]


def servers(index):
    """Not in BENCH_SERVERS=all nor in the default BENCH_CG_SERVERS: select
    them by name."""
    return [Server(name, impl, None, index + i, suite=SUITE, profile=prof,
                   in_all=False)
            for i, (name, impl, prof) in enumerate((
                ("headers-api", "headers", PLAIN),
                ("headers-cors", "headers", ORIGIN_P),
                ("modheaders-cors", "modheaders", ORIGIN_P)))]


def baselines(sel):
    """bare-plain for headers-api (the log suite's profile), bare-origin for
    the CORS servers."""
    want = {s.profile.name for s in sel if s.suite is SUITE}
    out = []
    if "plain" in want:
        out.append(log_suite.PLAIN)
    if "origin" in want:
        out.append(ORIGIN_P)
    return out


def prepare(sel):
    pass


def quote(v):
    return '"' + v.replace('\\', '\\\\').replace('"', '\\"') + '"'


def config_block(s, port):
    if s.impl == "headers":
        load = f"LoadModule gk_headers_module {HEADERS_SNAP}\n"
        body = "    GKSecurityHeaders api\n"
        if s.name == "headers-cors":
            body += (f"    GKCORSAllowOrigin {ALLOW_ORIGINS}\n"
                     "    GKCORSAllowCredentials On\n"
                     "    GKCORSAllowHeaders Authorization Content-Type\n"
                     "    GKCORSMaxAge 600\n")
        return load, body + "    Require all granted\n"
    if s.impl == "modheaders":
        load = (f"LoadModule headers_module {MODDIR}/mod_headers.so\n"
                f"LoadModule setenvif_module {MODDIR}/mod_setenvif.so\n")
        body = "".join(f"    Header always set {k} {quote(v)}\n"
                       for k, v in API.items())
        body += (
            '    SetEnvIf Origin "^https://(app\\.example\\.com|'
            '[a-z0-9.-]+\\.example\\.org)$" CORS_ORIGIN=$0\n'
            "    Header always set Access-Control-Allow-Origin "
            "%{CORS_ORIGIN}e env=CORS_ORIGIN\n"
            "    Header always set Access-Control-Allow-Credentials true "
            "env=CORS_ORIGIN\n"
            f"    Header always set Access-Control-Expose-Headers "
            f"{quote(EXPOSE)} env=CORS_ORIGIN\n"
            "    Header always merge Vary Origin\n")
        return load, body + "    Require all granted\n"
    raise ValueError(s.impl)


# ---------------------------------------------------------------- check --

def get(port, headers):
    """GET RESOURCE; (status, [(name, value)...], body)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", RESOURCE, headers=headers)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, r.getheaders(), body


def values(items, name):
    return [v for k, v in items if k.lower() == name.lower()]


def vary(items):
    return [m.strip().lower() for v in values(items, "Vary")
            for m in v.split(",") if m.strip()]


def acx(items):
    return [(k, v) for k, v in items
            if k.lower().startswith("access-control-")]


def wrong_api(items):
    """What is wrong with the api profile's headers, or None."""
    for k, want in API.items():
        got = values(items, k)
        if got != [want]:
            return f"{k}: {got!r}, want [{want!r}]"
    return None


def wrong_cors(items, cors):
    """cors: the answer to an allowed Origin (True), to no Origin or a
    refused one (False)."""
    if "origin" not in vary(items):
        return f"Vary {values(items, 'Vary')!r} lacks Origin"
    got = acx(items)
    if not cors:
        return f"unexpected {got!r}" if got else None
    want = {"access-control-allow-origin": [ORIGIN],
            "access-control-allow-credentials": ["true"]}
    for k, v in want.items():
        if values(items, k) != v:
            return f"{k}: {values(items, k)!r}, want {v!r}"
    exp = values(items, "Access-Control-Expose-Headers")
    if len(exp) != 1 or ([m.strip().lower() for m in exp[0].split(",")]
                         != [m.strip().lower() for m in EXPOSE.split(",")]):
        return f"Access-Control-Expose-Headers {exp!r}, want [{EXPOSE!r}]"
    known = ("access-control-allow-origin",
             "access-control-allow-credentials",
             "access-control-expose-headers")
    extra = [k for k, _ in got if k.lower() not in known]
    return f"unexpected {extra!r}" if extra else None


def check(s, port=None):
    """headers-api: 200, the file and the ten api headers (each once, with
    its value), no Access-Control-*; the CORS servers: the same, and for the
    allowed Origin the origin echoed, credentials, expose headers and Vary:
    Origin; for a refused origin and for none, Vary: Origin and no
    Access-Control-* header."""
    port = port or s.port
    cors = s.profile is ORIGIN_P
    cases = [({}, False), ({"Origin": ORIGIN}, cors)]
    if cors:
        cases.append(({"Origin": REFUSED}, False))
    for hdrs, allowed in cases:
        st, items, body = get(port, hdrs)
        wrong = None
        if st != 200 or body != BODY:
            wrong = f"{st} {body[:80]!r}, want 200 '{BODY.decode()}'"
        wrong = wrong or wrong_api(items)
        if not wrong and cors:
            wrong = wrong_cors(items, allowed)
        elif not wrong and acx(items):
            wrong = f"unexpected {acx(items)!r}"
        if wrong:
            log_tail(s)
            die(f"{s.name}: {hdrs or 'no Origin'}: {wrong}")
    res = "200; the 10 api headers"
    if cors:
        res += ("; Origin allowed: echoed, credentials, expose, Vary Origin;"
                " refused and none: no Access-Control-*, Vary Origin")
    return res


def verify_api(i, r, body):
    items = r.getheaders()
    return wrong_api(items) or (f"unexpected {acx(items)!r}"
                                if acx(items) else None)


def verify_cors(i, r, body):
    items = r.getheaders()
    if values(items, "X-Frame-Options") != ["DENY"]:
        return f"X-Frame-Options {values(items, 'X-Frame-Options')!r}"
    return wrong_cors(items, True) or wrong_api(items)


# ------------------------------------------------------------ callgrind --

LABELS = {"headers-api": "headers-api: GKSecurityHeaders api (× bare-plain)",
          "headers-cors": "headers-cors: api + CORS, allowed Origin "
                          "(× bare-origin)",
          "modheaders-cors": "modheaders-cors: mod_headers + mod_setenvif, "
                             "the same headers (× bare-origin)"}
# the runs of this suite, by key, for the differences between them
RUNS = {}


def cg_runs(s):
    run = CgRun(s.name, s, s.profile, "repeat", "repeat",
                f"bare-{s.profile.name}", LABELS[s.name],
                verify=verify_cors if s.profile is ORIGIN_P else verify_api,
                vs_bare=True)
    RUNS[s.name] = run
    return [run]


# (server, the server it is also compared with): per-function differences
# in bench/out/cg/SERVER.repeat.vs-OTHER.txt, written after the runs
PAIRS = (("headers-cors", "headers-api"), ("modheaders-cors", "headers-cors"))




def cg_targets(results):
    tg = []
    steady = CG_STEADY and any(v.get("steady") for v in results.values())

    def fig(k, base):
        r = cg_ratio(results, k, base)
        if r is None:
            return None, ""
        rs = cg_ratio(results, k, base, steady=True) if steady else None
        return r, (f" (steady state {rs:.3f})" if rs is not None else "")

    r, st = fig("headers-cors", "bare-origin")
    if r is not None:
        tg.append(f"callgrind headers-cors <= 1.15 × bare (same Origin "
                  f"request): {r:.3f} {'PASS' if r <= 1.15 else 'FAIL'}{st}")
    for k, base, what in (("headers-api", "bare-plain", "no extra header"),
                          ("modheaders-cors", "bare-origin",
                           "same Origin request")):
        r, st = fig(k, base)
        if r is not None:
            tg.append(f"callgrind {k} / {base} ({what}): {r:.3f}{st} "
                      "(reported)")
    if "headers-cors" in results and "modheaders-cors" in results:
        r, st = fig("headers-cors", "modheaders-cors")
        tg.append(f"callgrind headers-cors / modheaders-cors: {r:.3f}{st} "
                  "(reported)")
    keys = ("headers-cors", "bare-origin", "headers-api", "bare-plain")
    if all(k in results for k in keys):
        f = "steady" if steady else "per_request"
        v = [results[k][f] for k in keys]
        tg.append("callgrind CORS itself, (headers-cors − bare-origin) − "
                  "(headers-api − bare-plain): "
                  f"{v[0] - v[1] - v[2] + v[3]:+.0f} instructions/request"
                  + (" (steady state)" if steady else ""))
    for p in write_pairs(PAIRS, RUNS, results):
        tg.append(f"per-function difference: {os.path.relpath(p, CG)} "
                  "(in bench/out/cg/)")
    return tg


# ------------------------------------------------------------------ wrk --

def wrk_report(targets, res, med, spread, ratios):
    ts = suite_servers(targets, SUITE)
    if not ts:
        return []
    return suite_table(ts, res, med, spread,
                       lambda t: t.label() if t.is_bare else LABELS[t.name].split(" (×")[0],
                       (("headers-cors", "modheaders-cors"),))


def wrk_targets(ratios, res):
    return reported_ratios(res, (("headers-api", "bare-plain"),
                                 ("headers-cors", "bare-origin"),
                                 ("modheaders-cors", "bare-origin"),
                                 ("headers-cors", "modheaders-cors")))
