"""Helpers of the mod_gk_headers tests (test_headers_*.py): the headers of
each profile, a scripted backend, a CGI that sets its own headers."""

import pytest

from gk_log_helpers import header_values
from gkhttpd.rawbackend import RawBackend

XCTO = "X-Content-Type-Options"
XFO = "X-Frame-Options"
CSP = "Content-Security-Policy"

PP_BASE = ("accelerometer=(), autoplay=(), camera=(), display-capture=(), "
           "geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
           "midi=(), payment=(), usb=()")
PP_STRICT = (PP_BASE + ", bluetooth=(), browsing-topics=(), hid=(), "
             "idle-detection=(), interest-cohort=(), serial=(), "
             "xr-spatial-tracking=()")

COMMON = {
    XCTO: "nosniff",
    XFO: "DENY",
    "X-Permitted-Cross-Domain-Policies": "none",
    "X-XSS-Protection": "0",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

PROFILES = {
    "api": dict(COMMON, **{
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": PP_BASE,
        CSP: "default-src 'none'; frame-ancestors 'none'",
        "Cache-Control": "no-store",
    }),
    "html": dict(COMMON, **{
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": PP_BASE,
        CSP: "default-src 'self'; object-src 'none'; base-uri 'self'; "
             "form-action 'self'; frame-ancestors 'none'",
    }),
    "strict": dict(COMMON, **{
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": PP_STRICT,
        CSP: "default-src 'self'; object-src 'none'; base-uri 'none'; "
             "form-action 'self'; frame-ancestors 'none'; "
             "upgrade-insecure-requests",
        "Origin-Agent-Cluster": "?1",
    }),
}

# every name any profile sends, and the ones a profile removes
ALL_NAMES = sorted(set().union(*[set(p) for p in PROFILES.values()]))
REMOVED = ["X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version",
           "X-Runtime"]


def need_headers_module(env):
    if not env.has_gk_module("headers"):
        pytest.skip("mod_gk_headers not built")


def assert_profile(r, profile, changes=None, skip=()):
    """Every header of the profile exactly once with its value; changes:
    {name: value or None (absent)}; skip: names not checked."""
    want = dict(PROFILES[profile])
    want.update(changes or {})
    for name in ALL_NAMES + list(want):
        if name in skip:
            continue
        vals = header_values(r, name)
        if want.get(name) is None:
            assert vals == [], (r.status_code, name, vals)
        else:
            assert vals == [want[name]], (r.status_code, name, vals)
    for name in REMOVED:
        assert header_values(r, name) == [], (r.status_code, name)


def assert_none(r):
    """No header of any profile (what the module adds)."""
    for name in ALL_NAMES:
        if name == "Cache-Control":
            continue
        assert header_values(r, name) == [], (r.status_code, name)


class ScriptedBackend(RawBackend):
    """An HTTP/1.1 backend on 127.0.0.1 that answers each path prefix
    with a chosen status, header lines (duplicates allowed) and body."""

    REASON = "X"

    def __init__(self, routes, default=(200, [], b"ok\n")):
        super().__init__()
        self.routes = routes        # [(prefix, (status, headers, body))]
        self.default = default

    def answer(self, method, path):
        for prefix, ans in self.routes:
            if path.startswith(prefix):
                return ans
        return self.default


# A CGI that sets the headers a framework would.
HDRS_CGI = """#!/usr/bin/python3
import os, sys
status = os.environ.get("QUERY_STRING", "") == "fail"
sys.stdout.write("Status: %s\\r\\n" % ("500 Internal" if status else "200 OK"))
sys.stdout.write("Content-Type: text/plain\\r\\n")
sys.stdout.write("X-Frame-Options: SAMEORIGIN\\r\\n")
sys.stdout.write("X-Powered-By: PHP/8.2.1\\r\\n")
sys.stdout.write("X-Runtime: 0.0123\\r\\n")
sys.stdout.write("Referrer-Policy: unsafe-url\\r\\n")
sys.stdout.write("\\r\\n")
sys.stdout.write("Traceback (most recent call last): secret\\n"
                 if status else "cgi ok\\n")
"""


def install_hdrs_cgi(env):
    p = env.cgi_dir / "hdrs.py"
    env.write_file(p, HDRS_CGI, mode=0o755)
    return p


# ---- CORS (test_headers_cors.py) --------------------------------------------

def acx_headers(r):
    """Every Access-Control-* field of a response as (lower-case name,
    value), in order, duplicates kept."""
    from gk_log_helpers import H2Response
    if isinstance(r, H2Response) or hasattr(r, "header_list"):
        items = r.header_list
    else:
        items = r.raw.headers.items()
    return [(k.lower(), v) for k, v in items
            if k.lower().startswith("access-control-")]


def vary_members(r):
    """The members of every Vary field, lower-case (httpd may rewrite
    Vary without spaces, so compare members, not text)."""
    out = []
    for v in header_values(r, "Vary"):
        out += [m.strip().lower() for m in v.split(",") if m.strip()]
    return out

