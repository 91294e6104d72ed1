"""Assertions on responses: RFC 6750 challenges, RFC 9457 bodies."""

import json
import re

TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}

_RE_PARAM = re.compile(
    r'\s*([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^\s,]+)\s*(,|$)')


def parse_challenge(value):
    """'Bearer realm="x", error="y"' -> ("bearer", {"realm": "x", ...}).
    Raises AssertionError on a syntax error or a repeated parameter."""
    assert value, "no WWW-Authenticate header"
    m = re.match(r"\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)(\s+|$)", value)
    assert m, "bad challenge %r" % value
    scheme = m.group(1).lower()
    rest = value[m.end():]
    params = {}
    while rest.strip():
        p = _RE_PARAM.match(rest)
        assert p, "bad auth-param list in %r (at %r)" % (value, rest)
        name = p.group(1).lower()
        v = p.group(3) if p.group(3) is not None else p.group(2)
        if p.group(3) is not None:
            v = re.sub(r"\\(.)", r"\1", v)
        assert name not in params, "repeated %s in %r" % (name, value)
        params[name] = v
        rest = rest[p.end():]
    return scheme, params


def assert_challenge(r, error=None, realm="gatekeeper"):
    """The response carries exactly one Bearer challenge; with error=None
    it must have no error attribute (RFC 6750 section 3.1)."""
    values = _header_values(r, "WWW-Authenticate")
    assert len(values) == 1, "expected one WWW-Authenticate, got %r" % values
    scheme, params = parse_challenge(values[0])
    assert scheme == "bearer", values[0]
    if realm is not None:
        assert params.get("realm") == realm, values[0]
    if error is None:
        assert "error" not in params, values[0]
        assert "error_description" not in params, values[0]
    else:
        assert params.get("error") == error, values[0]
        desc = params.get("error_description")
        if desc is not None:
            # RFC 6750 3: %x20-21 / %x23-5B / %x5D-7E
            assert re.fullmatch(r'[\x20\x21\x23-\x5b\x5d-\x7e]*', desc), desc
    return params


def assert_no_challenge(r):
    assert not _header_values(r, "WWW-Authenticate"), \
        "unexpected WWW-Authenticate %r" % r.headers.get("WWW-Authenticate")


def _header_values(r, name):
    if hasattr(r, "header_list"):
        return [v for k, v in r.header_list if k.lower() == name.lower()]
    raw = getattr(r, "raw", None)
    if raw is not None and hasattr(raw, "headers") and \
            hasattr(raw.headers, "getlist"):
        return raw.headers.getlist(name)
    v = r.headers.get(name)
    return [] if v is None else [v]


def assert_problem(r, status, detail=None, secrets=()):
    """An RFC 9457 body: application/problem+json with type about:blank,
    the standard title and the status; detail is a substring (or None)."""
    assert r.status_code == status, (r.status_code, r.text[:500])
    ctype = r.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip().lower() == \
        "application/problem+json", ctype
    body = json.loads(r.text)
    assert isinstance(body, dict), body
    assert body.get("type") == "about:blank", body
    assert body.get("status") == status, body
    if status in TITLES:
        assert body.get("title") == TITLES[status], body
    if detail is not None:
        assert detail in body.get("detail", ""), body
    for s in secrets:
        if s:
            assert s not in r.text, "secret material in the body"
    return body


def assert_status(r, status):
    assert r.status_code == status, "expected %s, got %s: %s %s" % (
        status, r.status_code, r.headers.get("WWW-Authenticate"),
        r.text[:300])
    return r


def echo(r):
    """The echo CGI's JSON: {"env": {...}, "headers": {...}}."""
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.headers.get("Content-Type", "").startswith("application/json"), \
        r.headers.get("Content-Type")
    return json.loads(r.text)
