"""Suite auth: mod_gk_auth side by side with a bare httpd,
mod_auth_openidc and mod_oauth2, on the same tokens and the same role
check.  Servers: bare, gk-<ALG>, oidc-<ALG>, oauth2-<ALG> for each of
BENCH_ALGS; requests carry 'Authorization: Bearer <token>'."""

import json
import os
import secrets
import sys

from .callgrind import CgRun, cg_ratio
from .servers import Profile, Server, check_bare, http_get, log_tail
from .settings import (ALGS, AUDIENCE, BODY, CG_MODES, CG_PEER_MODES, GK_SNAP,
                       GK_SO, HERE, ISSUER, JWKS_PORT, KEYS, MODDIR, THREADS,
                       TOKENS, die)
from .setup import fresh_tokens, kid, token
from .wrk import paired

SUITE = sys.modules[__name__]
NAME = "auth"
IMPLS = ("gk", "oidc", "oauth2")
PEERS = ("oidc", "oauth2")
# impl -> (module built, snapshot the servers load)
MODULES = {"gk": (GK_SO, GK_SNAP)}


class TokenProfile(Profile):
    """Requests with a bearer token of one algorithm: the same token over
    and over (repeat), or a different first-seen token each (fresh)."""

    def __init__(self, alg):
        super().__init__(alg, f"{alg} header", ("repeat", "fresh"),
                         {"alg": alg})
        self.alg = alg
        self.suite = SUITE

    def headers(self, mode, n):
        if mode == "repeat":
            toks = [token(self.alg)]
        else:
            toks = fresh_tokens(self.alg, n)
            if len(toks) < n:
                die(f"BENCH_TOKENS must be >= 2 × BENCH_CG_REQUESTS ({n})")
        return [{"Authorization": "Bearer " + t} for t in toks]

    def wrk_args(self, mode, url):
        if mode == "repeat":
            return ["-H", "Authorization: Bearer " + token(self.alg), url]
        return ["-s", os.path.join(HERE, "fresh.lua"), url, "--",
                os.path.join(TOKENS, self.alg + ".fresh"), str(THREADS)]


PROFILES = {alg: TokenProfile(alg) for alg in ALGS}


def profiles():
    return list(PROFILES.values())


def servers(index):
    """bare (index), then gk, oidc and oauth2 for each algorithm."""
    out = [Server("bare", "bare", None, index, suite=SUITE)]
    i = index + 1
    for impl in IMPLS:
        for alg in ALGS:
            out.append(Server(f"{impl}-{alg}", impl, alg, i, suite=SUITE,
                              profile=PROFILES[alg], family=impl))
            i += 1
    return out


def baselines(sel):
    """The profiles the bare server is sent when compared with these: every
    algorithm when any of this suite's servers is selected."""
    if any(s.suite is SUITE and s.impl != "bare" for s in sel):
        return profiles()
    return []


def prepare(sel):
    if any(s.impl == "oidc" and s.alg[:2] in ("ES", "Ed") for s in sel):
        start_jwks_server()


def config_block(s, port):
    """Module loading, server-wide directives and the <Location /> body."""
    k = KEYS
    alg = s.alg
    if s.impl == "bare":
        return "", "    Require all granted\n"
    if s.impl == "gk":
        src = {"HS256": "file:" + os.path.join(k, "hs256.secret"),
               "RS256": os.path.join(k, "rs256.pub"),
               "ES256": os.path.join(k, "es256.pub")}[alg]
        load = (f"LoadModule gk_auth_module {GK_SNAP}\n")
        body = (f"    AuthType gk-bearer\n"
                f"    AuthName bench\n"
                f"    GKAuthKey {alg} {src} kid={kid(alg)}\n"
                f"    GKAuthIssuer {ISSUER}\n"
                f"    GKAuthAudience {AUDIENCE}\n"
                f"    Require gk-role admin\n")
        return load, body
    if s.impl == "oidc":
        load = (f"LoadModule auth_openidc_module {MODDIR}/mod_auth_openidc.so\n"
                f"OIDCCryptoPassphrase {secrets.token_hex(16)}\n")
        if alg == "HS256":
            with open(os.path.join(k, "hs256.secret")) as f:
                load += (f"OIDCOAuthVerifySharedKeys "
                         f"plain#{kid(alg)}#{f.read().strip()}\n")
        elif alg.startswith("RS"):
            load += (f"OIDCOAuthVerifyCertFiles "
                     f"{kid(alg)}#{os.path.join(k, alg.lower() + '.crt')}\n")
        else:
            # 2.4.12.3 reads only RSA keys from OIDCOAuthVerifyCertFiles (an
            # EC certificate crashes it in oidc_jwk_rsa_bio_to_jwk), so EC
            # keys come from a JWKS served over https by bench/run itself
            # (the module wants an https URL); it is fetched once and then
            # kept in the module's cache (OIDCJWKSRefreshInterval, 3600 s).
            load += (f"OIDCOAuthVerifyJwksUri https://127.0.0.1:{JWKS_PORT}/"
                     f"jwks-{alg.lower()}.json\n"
                     f"OIDCOAuthSSLValidateServer Off\n")
        body = ("    AuthType oauth20\n"
                "    AuthName bench\n"
                "    Require claim roles:admin\n")
        return load, body
    if s.impl == "oauth2":
        load = f"LoadModule oauth2_module {MODDIR}/mod_oauth2.so\n"
        if alg == "HS256":
            with open(os.path.join(k, "hs256.secret")) as f:
                verify = (f"OAuth2TokenVerify plain {f.read().strip()} "
                          f"kid={kid(alg)}")
        else:
            with open(os.path.join(k, alg.lower() + ".jwk")) as f:
                verify = f"OAuth2TokenVerify jwk '{f.read().strip()}'"
        body = ("    AuthType oauth2\n"
                "    AuthName bench\n"
                f"    {verify}\n"
                "    Require oauth2_claim roles:admin\n")
        return load, body
    raise ValueError(s.impl)


def start_jwks_server():
    """https://127.0.0.1:JWKS_PORT/jwks-<alg>.json for mod_auth_openidc's EC
    keys, in a thread of this process (TLS with the RSA test certificate)."""
    import http.server
    import ssl
    import threading
    docs = {}
    for alg in ALGS:
        if alg != "HS256":
            with open(os.path.join(KEYS, alg.lower() + ".jwk")) as f:
                docs[f"/jwks-{alg.lower()}.json"] = json.dumps(
                    {"keys": [json.loads(f.read())]}).encode()

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = docs.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", JWKS_PORT), H)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(KEYS, "rs256.crt"),
                        os.path.join(KEYS, "rs256.key"))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def check(s, port=None):
    """200 with the token, 401 without, not 200 without the role."""
    port = port or s.port
    if s.impl == "bare":
        return check_bare(s, port)
    ok, _, body = http_get(port, token(s.alg))
    no, www, _ = http_get(port, None, "WWW-Authenticate")
    nr, _, _ = http_get(port, token(s.alg, "norole"))
    fr, _, _ = http_get(port, fresh_tokens(s.alg, 1)[0])
    t = token(s.alg)
    i = t.rindex(".") + 5
    bad = t[:i] + ("A" if t[i] != "A" else "B") + t[i + 1:]
    bs, _, _ = http_get(port, bad)
    res = (f"token {ok}, none {no}, no role {nr}, fresh {fr}, "
           f"bad signature {bs}")
    if (ok != 200 or body != BODY or no != 401 or nr == 200 or fr != 200
            or bs != 401):
        log_tail(s)
        die(f"{s.name}: unexpected: {res} (want 200, 401, 403, 200, 401)")
    return res


# ------------------------------------------------------------ callgrind --

def cg_runs(s):
    """gk in BENCH_CG_MODES, the peers in BENCH_CG_PEER_MODES."""
    modes = CG_MODES if s.impl == "gk" else CG_PEER_MODES
    out = []
    for m in modes:
        key = f"{s.name} {m}"
        label = key.replace(" repeat", ", repeated token").replace(
            " fresh", ", first-seen tokens")
        out.append(CgRun(key, s, s.profile, m, m, f"bare-{s.alg}", label))
    return out


def cg_targets(results):
    tg = []
    for k in results:
        if k in ("gk-HS256 repeat", "gk-RS256 repeat"):
            r = cg_ratio(results, k, f"bare-{results[k]['alg']}")
            tg.append(f"callgrind {k.replace(' repeat', '')} repeated token "
                      f"<= 1.25 × bare: {r:.2f} {'PASS' if r <= 1.25 else 'FAIL'}")
    return tg


# ------------------------------------------------------------------ wrk --

def peer_name(p):
    return {"oidc": "mod_auth_openidc", "oauth2": "mod_oauth2"}.get(p, p)


def wrk_report(targets, res, med, spread, ratios):
    """This suite's rows (bare per algorithm, gk, the peers) and the gk vs
    peer ratios, which it adds to ratios."""
    mine = [t for t in targets if t.suite is SUITE]
    if not mine:
        return []
    modes = [m for m in med if any(m in t.modes for t in mine)]
    for m in modes:
        for alg in ALGS:
            for peer in PEERS:
                r = paired(res, m, f"gk-{alg}", f"{peer}-{alg}")
                if r is not None:
                    ratios[m][f"gk-{alg}/{peer}-{alg}"] = r
    lines = []
    hdr = "| server |"
    sep = "|---|"
    for m in modes:
        label = "repeated token" if m == "repeat" else "first-seen tokens"
        hdr += f" {label}: req/s (min–max) | × bare |"
        sep += "---:|---:|"
    lines += [hdr, sep]
    for t in mine:
        row = f"| {t.label()} |"
        for m in modes:
            v = med[m].get(t.name)
            r = (1.0 if t.is_bare
                 else ratios[m].get(f"{t.name}/bare", float("nan")))
            lo, hi = spread[m].get(t.name, (0, 0))
            row += (f" {v:,.0f} ({lo:,.0f}–{hi:,.0f}) | {r:.2f} |"
                    if v else " – | – |")
        lines.append(row)
    peer_rows = []
    for alg in ALGS:
        for peer in PEERS:
            key = f"gk-{alg}/{peer}-{alg}"
            if key not in ratios[modes[0]]:
                continue
            row = f"| gk / {peer_name(peer)}, {alg} |"
            for m in modes:
                row += f" {ratios[m].get(key, float('nan')):.2f} |"
            peer_rows.append(row)
    if peer_rows:
        lines.append("")
        lines.append("| gk vs peer (throughput ratio) | " +
                     " | ".join("repeated token" if m == "repeat" else
                                "first-seen tokens" for m in modes) + " |")
        lines.append("|---|" + "---:|" * len(modes))
        lines += peer_rows
    return lines


def wrk_targets(ratios, res):
    out = []
    rep, fr = ratios.get("repeat", {}), ratios.get("fresh", {})
    for alg in ("HS256", "RS256"):
        r = rep.get(f"gk-{alg}/bare")
        if r is not None:
            out.append(f"gk {alg} repeated token >= 0.95 × bare: {r:.2f} "
                       f"{'PASS' if r >= 0.95 else 'FAIL'}")
    for m, d in (("repeated", rep), ("first-seen", fr)):
        for alg in ALGS:
            for peer in PEERS:
                r = d.get(f"gk-{alg}/{peer}-{alg}")
                if r is not None:
                    out.append(f"gk {alg} {m} >= 1.25 × {peer_name(peer)}: "
                               f"{r:.2f} {'PASS' if r >= 1.25 else 'FAIL'}")
    return out
