"""mod_gk_validate: what reaches the handler, and what never does.

A CGI (record.py) and a proxied backend (BodyBackend) record exactly what
they receive.  Valid bodies reach them byte for byte, framed with a
Content-Length and never chunked, whether the client sent a length or
chunks, small or over 16 KiB, with or without Expect: 100-continue; the
same request through a location with GKValidateSchema none delivers the
same bytes.  Invalid bodies are answered (400, 413, 415, 422) and never
reach them; 413 and 415 go out before any 100 Continue.  The notes
gk-validate-outcome/-keyword/-reason are read from a CustomLog.
"""


import re
import time

import pytest

from gk_validate_helpers import (ANY, ITEM, JSON, MARK, SMALL, BodyBackend,
                                 big_body, errors_of, marker, nested, post,
                                 post_pieces, problem, record_conf, records,
                                 write_schema)

NOTES_LOG = "validate_notes.log"
# mark, status, outcome, keyword, reason (the notes; "-" when unset)
NOTES_FORMAT = ('LogFormat "%%{%s}i %%>s %%{gk-validate-outcome}n '
                '%%{gk-validate-keyword}n %%{gk-validate-reason}n" gkvnotes'
                % MARK)


def notes(env, mark):
    p = env.logs_dir / NOTES_LOG
    for l in p.read_text().splitlines() if p.exists() else []:
        f = l.split(" ")
        if f[0] == mark:
            return {"status": int(f[1]), "outcome": f[2], "keyword": f[3],
                    "reason": f[4]}
    return None


def big_integer(r, value, offset):
    """The 422 of a number beyond 64 bits: problem+json whose detail says
    why and where (a byte offset at or after the number's start), without
    the number."""
    b = problem(r, 422)
    assert "64 bits" in b.get("detail", ""), b
    at = [int(x) for x in re.findall(r"byte (\d+)", b["detail"])]
    assert at and offset <= at[0] <= offset + len(value), (b, offset)
    assert value not in r.text, "the number is echoed"
    if "errors" in b:
        errors_of(r)


def wait_notes(env, mark):
    end = time.monotonic() + 5
    while time.monotonic() < end:
        n = notes(env, mark)
        if n:
            return n
        time.sleep(0.05)
    raise AssertionError("no access-log line for %s" % mark)


@pytest.fixture(scope="module")
def backend():
    b = BodyBackend()
    yield b
    b.stop()


class TestReach:
    """GKValidateSchema ITEM for the server; /u/ and /pu/ switched off with
    none; /pv/ and /pu/ proxied to the recording backend; /small/ with a
    4 KiB GKValidateMaxBody."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, backend):
        conf = record_conf(env, self.__class__, "validate")
        item = write_schema(env, "item.json", ITEM)
        conf.add(NOTES_FORMAT)
        conf.add('CustomLog "%s/%s" gkvnotes' % (env.logs_dir, NOTES_LOG))
        conf.add('GKValidateSchema "%s"' % item)
        conf.add("ProxyPass /pv/ http://127.0.0.1:%d/pv/" % backend.port)
        conf.add("ProxyPass /pu/ http://127.0.0.1:%d/pu/" % backend.port)
        conf.add_location("/u/", "GKValidateSchema none")
        conf.add_location("/pu/", "GKValidateSchema none")
        conf.add_location("/small/", "GKValidateMaxBody 4096")
        conf.install()
        env.apache_restart()

    # -- valid bodies reach the CGI, byte for byte ------------------------
    def cgi_pair(self, env, body, **kw):
        """The same request to /v/record (validated) and /u/record (off):
        both records."""
        out = []
        for prefix in ("/v", "/u"):
            m = marker()
            r = post(env, prefix + "/record", body, mark=m, **kw)
            assert r.status_code == 200, r
            (rec,) = records(self.rec, m)
            out.append((r, rec))
        return out

    @pytest.mark.parametrize("size,chunk,expect", [
        (0, None, False),           # SMALL, Content-Length
        (0, 7, False),              # SMALL, chunked in 7-byte chunks
        (0, None, True),            # SMALL, Expect: 100-continue
        (20000, None, False),       # over 16 KiB
        (20000, 4096, False),
        (20000, 1000, True),        # chunked and Expect
        (300000, None, True),       # many brigades
        (300000, 65536, False),
    ])
    def test_gk_validate_100_01_cgi_gets_the_bytes(self, env, size, chunk,
                                                   expect):
        body = SMALL if not size else big_body(size)
        (rv, v), (ru, u) = self.cgi_pair(env, body, chunk=chunk,
                                         expect=expect)
        assert v["body"] == body, (len(v["body"]), len(body))
        assert u["body"] == body
        # the validated path: framed by a length, as mod_proxy_http frames
        # a body it has read whole
        assert v["content_length"] == str(len(body)), v["content_length"]
        assert "transfer-encoding" not in v["headers"], v["headers"]
        assert v["method"] == u["method"] == "POST"
        assert v["content_type"] == u["content_type"] == JSON
        if expect:
            assert rv.got_100 and ru.got_100, (rv.interim, ru.interim)

    def test_gk_validate_100_02_proxy_gets_the_bytes(self, env, backend):
        for body in (SMALL, big_body(20000), big_body(200000)):
            for chunk in (None, 5000):
                for expect in (False, True):
                    got = {}
                    for prefix in ("/pv", "/pu"):
                        m = marker()
                        r = post(env, prefix + "/x", body, chunk=chunk,
                                 expect=expect, mark=m)
                        assert r.status_code == 200, r
                        (b,) = backend.by_mark(m)
                        got[prefix] = b
                    v, u = got["/pv"], got["/pu"]
                    assert v["body"] == body and u["body"] == body
                    assert v["framing"] == "content-length", v["head"]
                    assert v["headers"]["content-length"] == str(len(body))
                    assert "transfer-encoding" not in v["headers"]
                    assert v["request_line"] == "POST /pv/x HTTP/1.1"
                    # the same headers reach the backend on both paths,
                    # but for the framing of a chunked request and the
                    # expectation, met by the gateway when it read the body
                    skip = {"content-length", "transfer-encoding", "x-mark",
                            "expect"}
                    hv = {k: x for k, x in v["headers"].items()
                          if k not in skip}
                    hu = {k: x for k, x in u["headers"].items()
                          if k not in skip}
                    assert hv == hu, (hv, hu)

    def test_gk_validate_100_03_exact_bytes_survive(self, env):
        """Escapes, NUL, white space and key order are not re-encoded; a
        top-level scalar with ANY is valid (see /any/ in TestParse)."""
        body = (b'\n\t{ "name":"a\\u0000b\\ud83d\\ude00\xf0\x9f\x98\x80",'
                b'"n" : 0e0 ,"tags":[]}\r\n ')
        body = body.replace(b'"n" : 0e0', b'"n" : 0')
        (_, v), (_, u) = self.cgi_pair(env, body)
        assert v["body"] == body == u["body"]

    def test_gk_validate_100_04_notes(self, env):
        m = marker()
        assert post(env, "/v/record", SMALL, mark=m).status_code == 200
        n = wait_notes(env, m)
        assert n["outcome"] == "valid", n
        m = marker()
        r = post(env, "/v/record", b'{"n": 1}', mark=m)
        assert r.status_code == 422
        n = wait_notes(env, m)
        assert n["outcome"] == "invalid" and n["keyword"] == "required", n
        m = marker()
        r = post(env, "/v/record", b'{"n": ', mark=m)
        assert r.status_code == 400
        assert wait_notes(env, m)["outcome"] in ("invalid", "error"), \
            notes(env, m)
        m = marker()
        assert post(env, "/u/record", b"not json", mark=m).status_code == 200
        assert wait_notes(env, m)["outcome"] in ("-", "skipped")

    def test_gk_validate_100_05_body_in_pieces(self, env):
        """A body that arrives over many reads (pauses between its pieces,
        one piece splitting a UTF-8 character and an escape) reaches the
        CGI whole, fixed length and chunked."""
        body = big_body(20000)
        cut = [0, 1, 700, 701, 5000, 16384, 16385, 19999, len(body)]
        pieces = [body[a:b] for a, b in zip(cut, cut[1:])]
        for framed in ("length", "chunked"):
            m = marker()
            if framed == "length":
                lines = ["Content-Length: %d" % len(body)]
                parts = pieces
            else:
                lines = ["Transfer-Encoding: chunked"]
                parts = [b"%x\r\n%s\r\n" % (len(p), p) for p in pieces] \
                    + [b"0\r\n\r\n"]
            r = post_pieces(env, "/v/record", lines + [
                "Content-Type: application/json", "%s: %s" % (MARK, m)],
                parts)
            assert r.status_code == 200, (framed, r)
            (rec,) = records(self.rec, m)
            assert rec["body"] == body and \
                rec["content_length"] == str(len(body)), framed

    def test_gk_validate_100_06_body_cut_short(self, env):
        """The client declares more than it sends and closes its side: the
        body is never complete, so nothing reaches the CGI."""
        m = marker()
        r = post_pieces(env, "/v/record", [
            "Content-Length: 100", "Content-Type: application/json",
            "%s: %s" % (MARK, m)], [SMALL], close=True)
        assert r.status_code in (0, 400, 408), r
        time.sleep(0.3)
        assert records(self.rec, m) == []
        n = wait_notes(env, m)
        assert n["outcome"] == "error", n

    # -- invalid bodies never reach them ------------------------------------
    INVALID = [
        # (body, extra post() args, status)
        (b'{"n": 1}', {}, 422),                      # required
        (b'{"name": "", "n": -1}', {}, 422),
        (b'{"name": 5}', {"chunk": 3}, 422),
        (b'{"name": "a",}', {}, 400),                # malformed
        (b'{"name": "a"', {"expect": True}, 400),    # cut short
        (b'', {}, 400),                              # empty
        (b'', {"chunk": 10}, 400),                   # empty, chunked
        (b'{"name": "a", "name": "b"}', {}, 400),    # duplicate key
        (b'{"name": "\xff\xfe"}', {}, 400),          # not UTF-8
        (b'{"name": "a"} {"name": "b"}', {}, 400),   # two documents
        (nested(200, '{"name": "a"}'), {}, 400),     # too deep
        (b'{"name": "a", "n": 123456789012345678901234567890}', {}, 422),
        (b'{"name": "a", "n": -99999999999999999999}', {}, 422),
        (SMALL, {"ctype": "text/plain"}, 415),
        (SMALL, {"ctype": "application/json; charset=iso-8859-1"}, 415),
        (SMALL, {"ctype": "application/x-www-form-urlencoded"}, 415),
        (SMALL, {"ctype": None}, 415),
        (SMALL, {"headers": [("Content-Encoding", "gzip")]}, 415),
    ]

    @pytest.mark.parametrize("body,kw,status", INVALID,
                             ids=["%d-%d" % (i, c[2])
                                  for i, c in enumerate(INVALID)])
    def test_gk_validate_101_01_never_reach(self, env, backend, body, kw,
                                            status):
        for path in ("/v/record", "/pv/x"):
            m = marker()
            r = post(env, path, body, mark=m, **kw)
            assert r.status_code == status, (path, r)
            problem(r, status)
            assert records(self.rec, m) == []
            assert backend.by_mark(m) == []
            # the same request where validation is off reaches the CGI
            m = marker()
            r = post(env, "/u/record", body, mark=m, **kw)
            assert r.status_code == 200, r
            (rec,) = records(self.rec, m)
            assert rec["body"] == body

    def test_gk_validate_101_02_media_types_accepted(self, env):
        for ctype in ("application/json; charset=utf-8",
                      "application/json;charset=UTF-8",
                      "Application/JSON",
                      "application/merge-patch+json",
                      "application/vnd.api+json"):
            m = marker()
            r = post(env, "/v/record", SMALL, ctype=ctype, mark=m)
            assert r.status_code == 200, (ctype, r)
            # and they are validated
            r = post(env, "/v/record", b'{"n": 1}', ctype=ctype)
            assert r.status_code == 422, (ctype, r)
        m = marker()
        r = post(env, "/v/record", SMALL, mark=m,
                 headers=[("Content-Encoding", "identity")])
        assert r.status_code == 200, r

    def test_gk_validate_101_03_problem_details(self, env):
        b = problem(post(env, "/v/record", b'{"name": "a",}'), 400)
        # malformed JSON: where, as a byte offset
        assert any(c.isdigit() for c in b.get("detail", "")), b
        b = problem(post(env, "/v/record", b'{"name": "a", "name": "b"}'),
                    400)
        assert "name" in b.get("detail", "") or \
            "duplicate" in b.get("detail", "").lower(), b
        big_integer(post(env, "/v/record",
                         b'{"name": "a", "n": 1234567890123456789012}'),
                    "1234567890123456789012", 22)

    # -- 413 and 415 before the body ------------------------------------------
    def test_gk_validate_102_01_no_100_continue(self, env, backend):
        cases = [
            ("/small/record", b"x" * 5000, {}, 413),
            ("/v/record", b"x" * (2 << 20), {}, 413),   # the 1 MiB default
            ("/v/record", SMALL, {"ctype": "text/plain"}, 415),
            ("/v/record", SMALL,
             {"ctype": "application/json; charset=latin1"}, 415),
            ("/v/record", SMALL,
             {"headers": [("Content-Encoding", "br")]}, 415),
            ("/pv/x", b"x" * (2 << 20), {}, 413),
            ("/pv/x", SMALL, {"ctype": "text/xml"}, 415),
        ]
        for path, body, kw, status in cases:
            m = marker()
            r = post(env, path, body, expect=True, mark=m, **kw)
            assert r.status_code == status, (path, kw, r)
            assert not r.got_100 and not r.sent_body, (path, kw, r)
            problem(r, status)
            assert records(self.rec, m) == [] and backend.by_mark(m) == []

    def test_gk_validate_102_02_max_body(self, env):
        # declared: 413 without reading
        r = post(env, "/small/record", b'{"name": "%s"}' % (b"a" * 5000))
        assert r.status_code == 413, r
        # chunked: only known once read; the 100 may go, the 413 follows
        m = marker()
        r = post(env, "/small/record", big_body(6000), chunk=1000,
                 expect=True, mark=m)
        assert r.status_code == 413, r
        assert records(self.rec, m) == []
        # at the limit and under it
        body = big_body(3000)
        assert len(body) <= 4096
        m = marker()
        r = post(env, "/small/record", body, chunk=512, mark=m)
        assert r.status_code == 200, r
        assert records(self.rec, m)[0]["body"] == body
        r = post(env, "/small/record", b" " * (4096 - len(SMALL)) + SMALL)
        assert r.status_code == 200, r


class TestParse:
    """Limits and parsing with GKValidateSchema ANY (anything that parses)
    and a GKValidateMaxDepth of 8 under /d8/."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        conf = record_conf(env, self.__class__, "validate")
        conf.add('GKValidateSchema "%s"' % write_schema(env, "any.json",
                                                        ANY))
        conf.add_location("/d8/", "GKValidateMaxDepth 8")
        conf.add_location("/d2048/", "GKValidateMaxDepth 2048")
        conf.install()
        env.apache_restart()

    def ok(self, env, path, body):
        m = marker()
        r = post(env, path, body, mark=m)
        assert r.status_code == 200, r
        (rec,) = records(self.rec, m)
        assert rec["body"] == body

    def test_gk_validate_103_01_scalars_and_nul(self, env):
        for body in (b"42", b'"text"', b"null", b"true", b"[]", b"{}",
                     b' "a\\u0000b" ', b"-0.5e-3", b"18446744073709551615.0"):
            self.ok(env, "/a/record", body)

    def test_gk_validate_103_02_depth(self, env):
        self.ok(env, "/a/record", nested(40))
        self.ok(env, "/d8/record", nested(6))
        for path, depth in (("/a/record", 100), ("/d8/record", 10),
                            ("/d2048/record", 2100)):
            b = problem(post(env, path, nested(depth)), 400)
            assert b.get("detail"), b
        # objects count too
        deep = b'{"a":' * 10 + b"1" + b"}" * 10
        problem(post(env, "/d8/record", deep), 400)
        self.ok(env, "/d2048/record", nested(1500))

    def test_gk_validate_103_03_big_integers(self, env):
        self.ok(env, "/a/record", b"9223372036854775807")
        self.ok(env, "/a/record", b"-9223372036854775808")
        for body in (b"9223372036854775810", b"-9223372036854775809",
                     b'{"deep": [1, 2, 99999999999999999999999]}'):
            m = marker()
            r = post(env, "/a/record", body, mark=m)
            assert r.status_code == 422, r
            assert records(self.rec, m) == []
            big_integer(r, body.strip(b"{}[]").split(b" ")[-1].strip(
                b"[]").decode(), body.index(b"9"))

    def test_gk_validate_103_04_duplicate_keys(self, env):
        for body in (b'{"a": 1, "a": 1}', b'[{"x": {"k": 1, "k": 2}}]',
                     b'{"a": 1, "\\u0061": 2}'):
            r = post(env, "/a/record", body)
            problem(r, 400)
        self.ok(env, "/a/record", b'{"a": {"a": {"a": 1}}, "b": {"a": 2}}')
