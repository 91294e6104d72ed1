"""mod_gk_log: one correlation ID per request, the same everywhere.

The ID, generated or accepted, must be the same in the response header
(exactly one copy, on every status), the CGI environment and request
header, the header a proxied backend receives (raw backend), the access log
(%L and %{GK_CORRELATION_ID}e) and the error log (%L in ErrorLogFormat,
once-per-request lines included); also for a request httpd refuses while
reading it (early 400), an ErrorDocument internal redirect, an SSI
subrequest and HTTP/2. Unsafe incoming IDs are replaced, never refused;
GKCorrelationTrust decides whose IDs are kept; bad configurations are
refused naming the directive.
"""

import json
import re

import pytest

from gkhttpd import GkConf
from gkhttpd.rawbackend import RawBackend

from gk_log_helpers import (CID, UUID4, UUID7, access_line, curl_h2,
                            echo_json, error_lines, h2_get, header_values,
                            ids_in_error_log, log_conf, marker,
                            need_log_module, one, raw_request)


@pytest.fixture(autouse=True, scope="module")
def _need_module(env):
    need_log_module(env)


SSI_PAGE = """main:<!--#echo var="GK_CORRELATION_ID" -->:main
note:<!--#echo var="REDIRECT_STATUS" -->
sub:<!--#include virtual="/ssi-sub/echo" -->:sub
"""


def backend_values(head, name):
    """Values of a header in a recorded request head, every spelling a
    backend folds together (case, '-' or '_')."""
    want = name.lower().replace("_", "-").encode()
    return [v for k, v in RawBackend.header_lines(head)
            if k.lower().replace(b"_", b"-") == want]


# ---- the same ID everywhere -------------------------------------------------

class TestCorrelation:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        cls = self.__class__
        cls.raw = RawBackend().start()
        cls.echoing = RawBackend(
            reply_headers=[(CID, "from-backend"),
                           ("x-correlation-id", "again")]).start()
        cls.auth = env.has_gk_module("auth")
        htdocs = env.htdocs
        env.write_file(htdocs / "ssi" / "page.shtml", SSI_PAGE)
        gk = ("log", "auth") if cls.auth else ("log",)
        conf = GkConf(env, gk_modules=gk, extra_modules=["include", "dir"])
        conf.add("LogLevel info gk_log:debug core:debug")
        conf.add(log_conf(env))
        conf.add('Alias /missing/ "%s/missing/"' % htdocs)
        conf.add('Alias /ed/ "%s/missing/"' % htdocs)
        conf.add_location("/ed/", "ErrorDocument 404 /errdoc/echo")
        conf.add('Alias /ssi/ "%s/ssi/"' % htdocs)
        conf.add_directory(str(htdocs / "ssi"), """
            Options +Includes
            AddOutputFilter INCLUDES .shtml
            DirectoryIndex page.shtml
        """)
        conf.add("Redirect 302 /moved http://127.0.0.1/elsewhere")
        conf.add_location("/denied", "Require all denied")
        conf.add_location("/px/", "ProxyPass http://127.0.0.1:%d/"
                          % cls.raw.port)
        conf.add_location("/echoing/", "ProxyPass http://127.0.0.1:%d/"
                          % cls.echoing.port)
        conf.add_location("/echoing-hdr/", """
            ProxyPass http://127.0.0.1:%d/
            Header always set X-Correlation-ID from-mod-headers
        """ % cls.echoing.port)
        # nothing listens there: 503 from mod_proxy
        conf.add_location("/down/", "ProxyPass http://127.0.0.1:1/")
        if cls.auth:
            conf.add("GKAuthKey RS256 %s" % keys["rsa2048"].pub_path)
            conf.add_location("/auth/", """
                AuthType gk-bearer
                Require valid-user
            """)
        conf.install()
        env.apache_restart()
        yield
        cls.raw.stop()
        cls.echoing.stop()

    def everywhere(self, env, path, headers=None, status=200):
        """GET path (CGI echo); the ID of the response, which must be the
        CGI's variable and request header and the access log's."""
        m = marker()
        sep = "&" if "?" in path else "?"
        r = env.get(path + sep + "m=" + m, headers=headers)
        assert r.status_code == status, (r.status_code, r.text[:300])
        cid = one(r)
        j = echo_json(r)
        assert j["env"]["GK_CORRELATION_ID"] == cid, j
        assert j["headers"]["x-correlation-id"] == cid, j
        line = access_line(env, m)
        assert line.ids == (cid,) * 4, vars(line)
        return cid

    # ---- generated and accepted ----------------------------------------
    def test_gk_log_100_01_generated(self, env):
        cid = self.everywhere(env, "/a/echo")
        assert UUID7.match(cid), cid

    def test_gk_log_100_02_generated_unique_ordered(self, env):
        ids = [one(env.get("/ok.txt")) for _ in range(30)]
        assert all(UUID7.match(i) for i in ids), ids
        assert len(set(ids)) == len(ids)
        # time-ordered to the millisecond (the first 12 hex digits)
        stamps = [i.replace("-", "")[:12] for i in ids]
        assert stamps == sorted(stamps), ids

    @pytest.mark.parametrize("value", [
        "abc", "req-2024.07.01:node_3", "a" * 128, "0", "A.B_C:D-E",
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398f",
    ], ids=["short", "mixed", "len128", "one-char", "all-punct", "uuid"])
    def test_gk_log_100_03_accepted(self, env, value):
        assert self.everywhere(env, "/a/echo", headers={CID: value}) \
            == value

    def test_gk_log_100_04_header_name_case(self, env):
        r = env.get("/a/echo", headers={"x-CORRELATION-id": "lower-case-1"})
        assert one(r) == "lower-case-1"
        assert echo_json(r)["env"]["GK_CORRELATION_ID"] == "lower-case-1"

    def test_gk_log_100_05_static_file_and_head(self, env):
        r = env.get("/ok.txt", headers={CID: "static-1"})
        assert r.status_code == 200 and one(r) == "static-1"
        r = env.request("/ok.txt", method="HEAD", headers={CID: "head-1"})
        assert r.status_code == 200 and one(r) == "head-1"

    def test_gk_log_100_06_not_modified(self, env):
        r = env.get("/ok.txt")
        lm = r.headers["Last-Modified"]
        r = env.get("/ok.txt", headers={"If-Modified-Since": lm,
                                        CID: "cond-1"})
        assert r.status_code == 304
        assert one(r) == "cond-1"

    # ---- error log: %L and once-per-request lines --------------------------
    @pytest.mark.parametrize("sent", [None, "err-log-1"],
                             ids=["generated", "accepted"])
    def test_gk_log_101_01_error_log(self, env, sent):
        pos = env.error_log._size()
        m = marker()
        r = env.get("/missing/x.txt?m=" + m,
                    headers={CID: sent} if sent else None)
        assert r.status_code == 404
        cid = one(r)
        if sent:
            assert cid == sent
        else:
            assert UUID7.match(cid)
        lines = error_lines(env, pos, "AH00128")
        assert lines and all("[id:%s]" % cid in l for l in lines), lines
        # the once-per-request line was written: r->log_id was unset when
        # the first line came
        assert "[req:%s]" % cid in "\n".join(
            l.text for l in env.error_log.lines_since(pos)), \
            "no once-per-request line with the ID"
        assert set(ids_in_error_log(env, pos)) == {cid}
        line = access_line(env, m)
        assert (line.ids, line.status) == ((cid,) * 4, 404)

    def test_gk_log_101_02_no_error_line_still_logged(self, env):
        """%L in a LogFormat without any error-log line for the request
        (stock httpd logs '-')."""
        m = marker()
        pos = env.error_log._size()
        r = env.get("/ok.txt?m=" + m)
        cid = one(r)
        line = access_line(env, m)
        assert line.ids == (cid,) * 4
        assert not ids_in_error_log(env, pos)

    # ---- early 400: refused while the request was read ----------------------
    @pytest.mark.parametrize("request_line", [
        b"GET /x HTTP/1.1 junk",
        b"GET",
        b"\x01\x02\x03 / HTTP/1.1",
        b"GET /x HTTP/9.9x",
    ], ids=["extra-word", "method-only", "control-bytes", "bad-protocol"])
    def test_gk_log_102_01_malformed_request_line(self, env, request_line):
        m = marker()
        pos = env.error_log._size()
        line = request_line.replace(b"/x", b"/x" + m.encode()) \
            if b"/x" in request_line else request_line
        r = raw_request(env, line, [CID + ": client-chosen-1"])
        assert r.status_code == 400, r.raw[:300]
        cid = one(r)
        assert UUID7.match(cid), cid            # never the client's
        if b"/x" in request_line:
            a = access_line(env, m)
            assert (a.ids, a.status) == ((cid,) * 4, 400)
        lines = [l.text for l in env.error_log.lines_since(pos)
                 if "[id:" in l.text]
        assert lines, "core:debug logs the refusal"
        assert set(ids_in_error_log(env, pos)) == {cid}

    @pytest.mark.parametrize("bad", [
        "Content-Length: abc",
        "Transfer-Encoding: gzip",
    ], ids=["content-length", "transfer-encoding"])
    def test_gk_log_102_02_bad_header(self, env, bad):
        """Refused after the headers were read, before post_read_request:
        still a generated ID (the incoming one is not looked at)."""
        m = marker()
        r = raw_request(env, "GET /x%s HTTP/1.1" % m,
                        [CID + ": client-chosen-2", bad])
        assert r.status_code == 400
        cid = one(r)
        assert UUID7.match(cid), cid
        a = access_line(env, m)
        assert a.ids == (cid,) * 4

    def test_gk_log_102_03_no_host(self, env):
        m = marker()
        r = raw_request(env, "GET /x%s HTTP/1.1" % m, host=None)
        assert r.status_code == 400
        cid = one(r)
        assert UUID7.match(cid)
        assert access_line(env, m).ids == (cid,) * 4

    # ---- internal redirect (ErrorDocument) ----------------------------------
    @pytest.mark.parametrize("sent", [None, "ed-doc-1"],
                             ids=["generated", "accepted"])
    def test_gk_log_103_01_error_document(self, env, sent):
        pos = env.error_log._size()
        m = marker()
        r = env.get("/ed/nothing.txt?m=" + m,
                    headers={CID: sent} if sent else None)
        assert r.status_code == 404
        cid = one(r)
        if sent:
            assert cid == sent
        j = echo_json(r)
        # the ErrorDocument's CGI runs in the redirected request
        assert j["env"]["REQUEST_URI"].startswith("/errdoc/echo") or \
            j["env"]["SCRIPT_NAME"] == "/errdoc/echo", j
        assert j["env"]["GK_CORRELATION_ID"] == cid
        assert j["headers"]["x-correlation-id"] == cid
        a = access_line(env, m)
        assert (a.ids, a.status) == ((cid,) * 4, 404)
        # the original's and the redirect's error-log lines
        error_lines(env, pos, "AH00128")
        assert set(ids_in_error_log(env, pos)) == {cid}

    # ---- subrequest (mod_include) ------------------------------------------
    def test_gk_log_104_01_ssi_subrequest(self, env):
        m = marker()
        r = env.get("/ssi/page.shtml?m=" + m, headers={CID: "ssi-main-1"})
        assert r.status_code == 200, r.text
        assert one(r) == "ssi-main-1"
        assert "main:ssi-main-1:main" in r.text, r.text
        sub = re.search(r"sub:(.*):sub", r.text, re.S).group(1)
        j = json.loads(sub)
        assert j["env"]["GK_CORRELATION_ID"] == "ssi-main-1", j
        assert j["headers"]["x-correlation-id"] == "ssi-main-1", j
        assert access_line(env, m).ids == ("ssi-main-1",) * 4

    def test_gk_log_104_02_ssi_subrequest_generated(self, env):
        r = env.get("/ssi/page.shtml")
        cid = one(r)
        assert UUID7.match(cid)
        assert "main:%s:main" % cid in r.text
        assert '"GK_CORRELATION_ID": "%s"' % cid in r.text

    def test_gk_log_104_03_directory_index(self, env):
        """mod_dir looks the index up in a subrequest and takes it over
        (ap_internal_fast_redirect: the subrequest's filters and tables
        become the request's); the page then makes its own subrequest."""
        m = marker()
        r = env.get("/ssi/?m=" + m, headers={CID: "dir-index-1"})
        assert r.status_code == 200, r.text
        assert one(r) == "dir-index-1"
        assert "main:dir-index-1:main" in r.text, r.text
        assert '"GK_CORRELATION_ID": "dir-index-1"' in r.text
        assert access_line(env, m).ids == ("dir-index-1",) * 4
        r = env.get("/ssi/")
        cid = one(r)
        assert UUID7.match(cid) and "main:%s:main" % cid in r.text

    # ---- proxied backends ---------------------------------------------------
    def test_gk_log_105_01_backend_header(self, env):
        self.raw.clear()
        m = marker()
        r = raw_request(env, "GET /px/a?m=%s HTTP/1.1" % m, [
            CID + ": backend-1", "X_Correlation_ID: smuggled",
            "x-correlation_id: smuggled-too"])
        assert r.status_code == 200
        assert one(r) == "backend-1"
        head = self.raw.last()
        assert backend_values(head, CID) == [b"backend-1"], head
        assert access_line(env, m).ids == ("backend-1",) * 4

    def test_gk_log_105_02_backend_header_generated(self, env):
        self.raw.clear()
        r = env.get("/px/b", headers={CID: "not valid!"})
        cid = one(r)
        assert UUID7.match(cid)
        assert backend_values(self.raw.last(), CID) == [cid.encode()]

    def test_gk_log_105_03_backend_echo_replaced(self, env):
        """A backend that answers with its own X-Correlation-ID (twice):
        the client gets exactly one copy, ours."""
        r = raw_request(env, "GET /echoing/x HTTP/1.1",
                        [CID + ": ours-1"])
        assert r.status_code == 200
        assert header_values(r, CID) == ["ours-1"], r.header_list
        r = raw_request(env, "GET /echoing/x HTTP/1.1")
        vals = header_values(r, CID)
        assert len(vals) == 1 and UUID7.match(vals[0]), r.header_list

    def test_gk_log_105_04_mod_headers_copy_replaced(self, env):
        r = raw_request(env, "GET /echoing-hdr/x HTTP/1.1",
                        [CID + ": ours-2"])
        assert header_values(r, CID) == ["ours-2"], r.header_list

    # ---- every kind of answer -----------------------------------------------
    @pytest.mark.parametrize("path,status,tags", [
        ("/moved", 302, []),
        ("/denied", 403, ["AH01630"]),
        ("/missing/y.txt", 404, []),
        ("/down/z", 503, ["AH00957", "AH01114", "AH00959"]),
    ], ids=["302", "403", "404", "503"])
    def test_gk_log_106_01_statuses(self, env, path, status, tags):
        env.error_log.ignore(tags=tags)
        for sent in (None, "status-%d" % status):
            m = marker()
            r = raw_request(env, "GET %s?m=%s HTTP/1.1" % (path, m),
                            [CID + ": " + sent] if sent else [])
            assert r.status_code == status, r.raw[:200]
            cid = one(r)
            assert cid == sent if sent else UUID7.match(cid)
            a = access_line(env, m)
            assert a.ids == (cid,) * 4

    def test_gk_log_106_02_other_modules_401(self, env):
        if not self.auth:
            pytest.skip("mod_gk_auth not built")
        env.error_log.ignore(tags=["AH01631"])
        r = env.get("/auth/x", headers={CID: "auth-401"})
        assert r.status_code == 401
        assert one(r) == "auth-401"
        r = env.get("/auth/x")
        assert r.status_code == 401 and UUID7.match(one(r))

    # ---- unsafe incoming IDs: replaced, never refused -----------------------
    @pytest.mark.parametrize("value", [
        '"quoted"', '{"id":"x"}', "a" * 129, "a" * 4000, "a b", "a,b",
        "a;b", "<script>", "%0d%0a", "a/b", "a+b", "a=b", "a\tb",
    ], ids=["quotes", "json", "len129", "len4000", "space", "comma",
            "semicolon", "html", "pct-crlf", "slash", "plus", "equals",
            "tab"])
    def test_gk_log_107_01_unsafe_replaced(self, env, value):
        m = marker()
        r = raw_request(env, "GET /u/echo?m=%s HTTP/1.1" % m,
                        [CID + ": " + value])
        assert r.status_code == 200, r.raw[:300]
        cid = one(r)
        assert UUID7.match(cid), cid
        j = r.json()
        assert j["env"]["GK_CORRELATION_ID"] == cid
        assert j["headers"]["x-correlation-id"] == cid
        assert access_line(env, m).ids == (cid,) * 4

    @pytest.mark.parametrize("lines", [
        [CID + ": dup-1", CID + ": dup-2"],
        [CID + ": dup-1", "x-correlation-id: dup-1"],
        [(CID + ": caf\xc3\xa9").encode("latin-1")],
        [b"X-Correlation-ID: \xff\xfe"],
        [CID + ":"],
        [CID + ": abc", " def"],                    # obs-fold: "abc def"
    ], ids=["two-copies", "two-equal-copies", "utf8", "bytes", "empty",
            "obs-fold"])
    def test_gk_log_107_02_unsafe_raw(self, env, lines):
        m = marker()
        r = raw_request(env, "GET /u/echo?m=%s HTTP/1.1" % m, lines)
        cid = one(r)
        assert UUID7.match(cid), cid
        if r.status_code == 200:
            j = r.json()
            assert j["env"]["GK_CORRELATION_ID"] == cid
            assert j["headers"]["x-correlation-id"] == cid
        else:
            assert r.status_code == 400, r.raw[:300]
        assert access_line(env, m).ids == (cid,) * 4

    @pytest.mark.parametrize("lines", [
        [b"X-Correlation-ID: abc\rX-Injected: 1"],
        [b"X-Correlation-ID: abc\nX-Injected: 1"],
        [b"X-Correlation-ID: abc\r\nX-Injected: 1"],
    ], ids=["bare-cr", "bare-lf", "crlf"])
    def test_gk_log_107_03_cr_lf(self, env, lines):
        """CR and LF cannot be inside a field value: httpd refuses the
        request or ends the field there; either way the answer carries one
        ID, and no injected header comes back."""
        self.raw.clear()
        r = raw_request(env, "GET /px/crlf HTTP/1.1", lines)
        cid = one(r)
        assert "X-Injected" not in r.raw.decode("latin-1"), r.raw[:400]
        if r.status_code == 200:
            # the line ended at the CR/LF: "abc" is a valid ID
            assert cid == "abc"
            assert backend_values(self.raw.last(), CID) == [b"abc"]
        else:
            assert r.status_code == 400
            assert UUID7.match(cid)


# ---- per virtual host: alias, format, off, trust ----------------------------

VHOSTS = """
<VirtualHost 127.0.0.1:{port}>
    ServerName 127.0.0.1
</VirtualHost>
<VirtualHost 127.0.0.1:{port}>
    ServerName alias.test
    GKCorrelationHeader X-Correlation-ID X-Request-ID
</VirtualHost>
<VirtualHost 127.0.0.1:{port}>
    ServerName v4.test
    GKCorrelationFormat uuid4
    GKCorrelationHeader X-Request-ID
</VirtualHost>
<VirtualHost 127.0.0.1:{port}>
    ServerName off.test
    GKCorrelation Off
</VirtualHost>
<VirtualHost 127.0.0.1:{port}>
    ServerName untrusted.test
    GKCorrelationTrust 127.0.0.2/32
</VirtualHost>
<VirtualHost 127.0.0.1:{port}>
    ServerName trusted.test
    GKCorrelationTrust 10.0.0.0/8 127.0.0.0/8 ::1
</VirtualHost>
<VirtualHost 127.0.0.1:{port}>
    ServerName none.test
    GKCorrelationTrust none
</VirtualHost>
"""


class TestVirtualHosts:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        cls = self.__class__
        cls.raw = RawBackend().start()
        conf = GkConf(env, gk_modules=("log",),
                      extra_modules=["unique_id"])
        conf.add(log_conf(env))
        conf.add('Alias /missing/ "%s/missing/"' % env.htdocs)
        conf.add_location("/px/", "ProxyPass http://127.0.0.1:%d/"
                          % cls.raw.port)
        conf.add(VHOSTS.format(port=env.port))
        conf.install()
        env.apache_restart()
        yield
        cls.raw.stop()

    def get(self, env, host, path="/v/echo", headers=()):
        h = {"Host": host}
        h.update(dict(headers))
        return env.get(path, headers=h)

    # ---- aliases ------------------------------------------------------------
    def test_gk_log_110_01_alias_accepted(self, env):
        r = self.get(env, "alias.test", headers={"X-Request-ID": "alias-1"})
        assert one(r) == "alias-1"
        assert not header_values(r, "X-Request-ID")
        j = echo_json(r)
        assert j["env"]["GK_CORRELATION_ID"] == "alias-1"
        assert j["headers"]["x-correlation-id"] == "alias-1"
        assert "x-request-id" not in j["headers"], j

    def test_gk_log_110_02_alias_to_backend(self, env):
        self.raw.clear()
        r = raw_request(env, "GET /px/alias HTTP/1.1",
                        ["X-Request-ID: alias-2", "X_Request_ID: other"],
                        host="alias.test")
        assert one(r) == "alias-2"
        head = self.raw.last()
        assert backend_values(head, CID) == [b"alias-2"], head
        assert backend_values(head, "X-Request-ID") == [], head

    def test_gk_log_110_03_name_before_alias(self, env):
        r = self.get(env, "alias.test", headers={"X-Request-ID": "alias-3",
                                                  CID: "name-3"})
        assert one(r) == "name-3"
        assert "x-request-id" not in echo_json(r)["headers"]

    def test_gk_log_110_04_invalid_alias_replaced(self, env):
        r = self.get(env, "alias.test", headers={"X-Request-ID": "no way"})
        cid = one(r)
        assert UUID7.match(cid)
        assert echo_json(r)["env"]["GK_CORRELATION_ID"] == cid

    def test_gk_log_110_05_alias_not_accepted_elsewhere(self, env):
        r = self.get(env, "127.0.0.1", headers={"X-Request-ID": "alias-5"})
        assert UUID7.match(one(r))
        # not a name of this server: passed through untouched
        assert echo_json(r)["headers"]["x-request-id"] == "alias-5"

    # ---- format and name per virtual host -----------------------------------
    def test_gk_log_111_01_uuid4_other_name(self, env):
        r = self.get(env, "v4.test")
        cid = one(r, "X-Request-ID")
        assert UUID4.match(cid), cid
        assert not header_values(r, CID)
        j = echo_json(r)
        assert j["env"]["GK_CORRELATION_ID"] == cid
        assert j["headers"]["x-request-id"] == cid

    def test_gk_log_111_02_early_400_base_server(self, env):
        """A malformed request line is answered under the base server's
        settings, whatever Host would have said."""
        r = raw_request(env, b"GET /x HTTP/1.1 junk", host="v4.test")
        assert r.status_code == 400
        assert UUID7.match(one(r, CID))
        assert not header_values(r, "X-Request-ID")

    def test_gk_log_111_03_error_after_vhost_selected(self, env):
        """Refused after the Host header chose the virtual host (417 for an
        unknown expectation): that host's name and format."""
        m = marker()
        r = raw_request(env, "GET /x%s HTTP/1.1" % m, ["Expect: bogus"],
                        host="v4.test")
        assert r.status_code == 417
        cid = one(r, "X-Request-ID")
        assert UUID4.match(cid), cid
        assert not header_values(r, CID)
        a = access_line(env, m)
        # the LogFormat's %{X-Correlation-ID}o is not this host's name
        assert a.ids == (cid, cid, "-", cid)

    # ---- off ----------------------------------------------------------------
    def test_gk_log_112_01_off(self, env):
        m = marker()
        r = self.get(env, "off.test", path="/v/echo?m=" + m,
                     headers={CID: "anything goes, here"})
        assert not header_values(r, CID)
        j = echo_json(r)
        assert "GK_CORRELATION_ID" not in j["env"], j
        # the module leaves the header alone
        assert j["headers"]["x-correlation-id"] == "anything goes, here"
        a = access_line(env, m)
        assert a.ids == ("-",) * 4

    def test_gk_log_112_02_off_errors(self, env):
        r = self.get(env, "off.test", path="/nope/none.txt",
                     headers={"Expect": "bogus"})
        assert r.status_code == 417
        assert not header_values(r, CID)

    # ---- trust --------------------------------------------------------------
    def test_gk_log_113_01_untrusted_peer(self, env):
        """GKCorrelationTrust 127.0.0.2/32: the client, 127.0.0.1, is not
        trusted: its valid ID is replaced."""
        pos = env.error_log._size()
        r = self.get(env, "untrusted.test", headers={CID: "from-client-1"})
        cid = one(r)
        assert cid != "from-client-1" and UUID7.match(cid)
        j = echo_json(r)
        assert j["env"]["GK_CORRELATION_ID"] == cid
        assert j["headers"]["x-correlation-id"] == cid
        assert error_lines(env, pos, "GK40003")

    def test_gk_log_113_02_untrusted_backend(self, env):
        self.raw.clear()
        r = raw_request(env, "GET /px/t HTTP/1.1", [CID + ": from-client-2"],
                        host="untrusted.test")
        cid = one(r)
        assert UUID7.match(cid)
        assert backend_values(self.raw.last(), CID) == [cid.encode()]

    def test_gk_log_113_03_trusted_network(self, env):
        r = self.get(env, "trusted.test", headers={CID: "from-proxy-1"})
        assert one(r) == "from-proxy-1"
        assert echo_json(r)["env"]["GK_CORRELATION_ID"] == "from-proxy-1"

    def test_gk_log_113_04_trust_none(self, env):
        r = self.get(env, "none.test", headers={CID: "from-client-3"})
        assert UUID7.match(one(r))

    # ---- with mod_unique_id -------------------------------------------------
    def test_gk_log_114_01_unique_id(self, env):
        """%L is the correlation ID in both logs, not mod_unique_id's
        UNIQUE_ID, which stays its own value."""
        m = marker()
        r = self.get(env, "127.0.0.1", path="/v/echo?m=" + m,
                     headers={CID: "with-unique-id"})
        j = echo_json(r)
        assert j["env"]["GK_CORRELATION_ID"] == "with-unique-id"
        assert access_line(env, m).ids == ("with-unique-id",) * 4
        pos = env.error_log._size()
        r = self.get(env, "127.0.0.1", path="/missing/u.txt",
                     headers={CID: "with-unique-id-2"})
        assert r.status_code == 404
        lines = error_lines(env, pos, "AH00128")
        assert all("[id:with-unique-id-2]" in l for l in lines), lines


# ---- an error-log line before the decision ---------------------------------

class TestEarlyLogLine:
    """With core at trace5, httpd logs every request line before
    post_read_request: that line needs an ID before the module decided."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        conf = GkConf(env, gk_modules=("log",))
        conf.add("LogLevel info gk_log:debug core:trace5")
        conf.add(log_conf(env))
        conf.add("""
            <VirtualHost 127.0.0.1:{port}>
                ServerName 127.0.0.1
            </VirtualHost>
            <VirtualHost 127.0.0.1:{port}>
                ServerName v4.test
                GKCorrelationFormat uuid4
            </VirtualHost>
        """.replace("{port}", str(env.port)))
        conf.install()
        env.apache_restart()

    def request(self, env, host="127.0.0.1", sent=None):
        pos = env.error_log._size()
        m = marker()
        r = raw_request(env, "GET /e/echo?m=%s HTTP/1.1" % m,
                        [CID + ": " + sent] if sent else [], host=host)
        assert r.status_code == 200
        cid = one(r)
        assert r.json()["env"]["GK_CORRELATION_ID"] == cid
        a = access_line(env, m)
        first = [l.text for l in env.error_log.lines_since(pos)
                 if "Request received from client" in l.text and m in l.text]
        assert len(first) == 1, first
        prov = re.search(r"\[id:([^\]]*)\]", first[0]).group(1)
        replaced = [l.text for l in env.error_log.lines_since(pos)
                    if "GK40004" in l.text]
        return cid, prov, a, replaced

    def test_gk_log_115_01_generated_kept(self, env):
        cid, prov, a, replaced = self.request(env)
        assert prov == cid and UUID7.match(cid)
        assert a.ids == (cid,) * 4
        assert not replaced

    def test_gk_log_115_02_incoming_replaces(self, env):
        cid, prov, a, replaced = self.request(env, sent="early-in-1")
        assert cid == "early-in-1" and UUID7.match(prov)
        # the rest of the request, and the access log, carry the decision
        assert a.ids == (cid,) * 4
        assert len(replaced) == 1, replaced
        assert "correlation ID %s replaces %s" % (cid, prov) in replaced[0]
        assert "[id:%s]" % cid in replaced[0]

    def test_gk_log_115_03_other_format_replaces(self, env):
        cid, prov, a, replaced = self.request(env, host="v4.test")
        assert UUID4.match(cid) and UUID7.match(prov)
        assert a.ids == (cid,) * 4
        assert len(replaced) == 1, replaced


# ---- HTTP/2 -----------------------------------------------------------------

class TestHttp2:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        self.__class__.curl = curl_h2()
        if not self.curl:
            pytest.skip("curl without HTTP2")
        conf = GkConf(env, gk_modules=("log",), extra_modules=["http2"])
        conf.add("Protocols h2c http/1.1")
        conf.add(log_conf(env))
        conf.add('Alias /missing/ "%s/missing/"' % env.htdocs)
        conf.install()
        env.error_log.allow(tags=["AH10034"])   # prefork: h2 not supported
        env.apache_restart()

    def test_gk_log_120_01_h2_generated(self, env):
        m = marker()
        r = h2_get(env, "/h2/echo?m=" + m, curl=self.curl)
        assert r.status_line.startswith("HTTP/2"), r.status_line
        cid = one(r)
        assert UUID7.match(cid)
        j = r.json()
        assert j["env"]["GK_CORRELATION_ID"] == cid
        assert j["headers"]["x-correlation-id"] == cid
        a = access_line(env, m)
        assert a.ids == (cid,) * 4
        assert "HTTP/2" in a.request

    def test_gk_log_120_02_h2_accepted(self, env):
        r = h2_get(env, "/h2/echo", [(CID, "h2-id-1")], curl=self.curl)
        assert r.status_line.startswith("HTTP/2")
        assert one(r) == "h2-id-1"
        assert r.json()["env"]["GK_CORRELATION_ID"] == "h2-id-1"

    def test_gk_log_120_03_h2_replaced(self, env):
        r = h2_get(env, "/h2/echo", [(CID, "a,b")], curl=self.curl)
        cid = one(r)
        assert UUID7.match(cid)
        assert r.json()["headers"]["x-correlation-id"] == cid

    def test_gk_log_120_04_h2_error(self, env):
        pos = env.error_log._size()
        r = h2_get(env, "/missing/h2.txt", [(CID, "h2-err-1")],
                   curl=self.curl)
        assert r.status_code == 404
        assert one(r) == "h2-err-1"
        lines = error_lines(env, pos, "AH00128")
        assert all("[id:h2-err-1]" in l for l in lines), lines


# ---- configuration ----------------------------------------------------------

def bad_configs():
    """(id, config text, what the message must name)."""
    H, T = "GKCorrelationHeader", "GKCorrelationTrust"
    return [
        ("flag-word", "GKCorrelation maybe", "GKCorrelation"),
        ("header-none", H, H),
        ("header-colon", H + " X-Bad:Name", H),
        ("header-space", H + ' "X Bad"', H),
        ("header-non-ascii", H + " X-Caf\u00e9", H),
        ("header-empty", H + ' ""', H),
        ("header-host", H + " Host", H),
        ("header-content-length", H + " content-length", H),
        ("header-traceparent", H + " traceparent", H),
        ("header-cookie-alias", H + " X-Correlation-ID Cookie", H),
        ("header-dup", H + " X-Correlation-ID x-correlation-id", H),
        ("header-dup-underscore", H + " X-Request-ID X_Request_ID", H),
        ("header-too-many", H + " " + " ".join("X-N%d" % i
                                               for i in range(9)), H),
        ("trust-none-given", T, T),
        ("trust-bad-ip", T + " 300.1.1.1", T),
        ("trust-bad-bits", T + " 10.0.0.0/33", T),
        ("trust-name", T + " proxy.example.org", T),
        ("trust-partial", T + " 10.1", T),
        ("trust-all-mixed", T + " all 10.0.0.1", T),
        ("trust-none-mixed", T + " 10.0.0.1 none", T),
        ("format-uuid1", "GKCorrelationFormat uuid1", "GKCorrelationFormat"),
        ("format-none", "GKCorrelationFormat", "GKCorrelationFormat"),
        ("format-two", "GKCorrelationFormat uuid7 uuid4",
         "GKCorrelationFormat"),
        ("in-location", "<Location /x>\n    GKCorrelation Off\n</Location>",
         "GKCorrelation"),
        ("in-directory", '<Directory "/tmp">\n    GKCorrelationHeader X-A\n'
         "</Directory>", H),
        ("trust-in-location", "<Location /x>\n    GKCorrelationTrust none\n"
         "</Location>", T),
    ]


class TestConfig:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        env.apache_stop()
        yield

    def test_gk_log_130_01_refused(self, env):
        """Every bad configuration, refused by `apache2 -t` and at start,
        naming the directive (one test, one list of what went wrong)."""
        failures = []
        for name, text, directive in bad_configs():
            GkConf(env, gk_modules=("log",)).add(text).install()
            res = env.apache_fail()
            why = []
            if not res.refused_by_configtest:
                why.append("apache2 -t accepted it")
            if not res.refused_at_start:
                why.append("httpd started")
            if (res.refused_by_configtest or res.refused_at_start) \
                    and directive not in res.output:
                why.append("message does not name %s: %s" % (
                    directive, " | ".join(l for l in res.output.split("\n")
                                          if l.strip())[-300:]))
            if why:
                failures.append("%-24s %s" % (name, "; ".join(why)))
        assert not failures, "bad configs not refused properly:\n" + \
            "\n".join(failures)

    def test_gk_log_130_02_good(self, env):
        conf = GkConf(env, gk_modules=("log",), extra_modules=["remoteip"])
        conf.add("""
            # the trust advice of docs/mod_gk_log.md: one list for both
            Define GK_PROXIES "10.0.1.5 10.0.1.6 2001:db8:1::/64"
            RemoteIPHeader X-Forwarded-For
            RemoteIPInternalProxy ${GK_PROXIES}
            GKCorrelation on
            GKCorrelationHeader X-Correlation-ID X-Request-ID Request-Id
            GKCorrelationTrust 10.0.0.0/8 192.168.1.1 2001:db8::/32 ::1 \\
                10.0.0.0/255.0.0.0
            GKCorrelationFormat UUID4
            GKTraceparent Generate
            <VirtualHost 127.0.0.1:{port}>
                ServerName 127.0.0.1
            </VirtualHost>
            <VirtualHost 127.0.0.1:{port}>
                ServerName a.test
                GKCorrelation Off
                GKCorrelationHeader X-A
                GKCorrelationTrust all
                GKCorrelationFormat uuid7
                GKTraceparent off
            </VirtualHost>
            <VirtualHost 127.0.0.1:{port}>
                ServerName b.test
                GKCorrelationHeader A B C D E F G H
                GKCorrelationTrust none
            </VirtualHost>
            <VirtualHost 127.0.0.1:{port}>
                ServerName c.test
                GKCorrelationTrust ${GK_PROXIES}
            </VirtualHost>
        """.replace("{port}", str(env.port)))
        conf.install()
        rc, out = env.apache_test_config()
        assert rc == 0, out
        env.apache_restart()
        r = env.get("/ok.txt")
        assert UUID4.match(one(r)), r.headers
        r = env.get("/ok.txt", headers={"Host": "a.test", CID: "x"})
        assert not header_values(r, CID) and not header_values(r, "X-A")
        # b.test trusts nobody, and inherits the main server's format
        r = env.get("/ok.txt", headers={"Host": "b.test", "C": "via-c"})
        assert UUID4.match(one(r, "A"))
        # c.test trusts the proxies only, and 127.0.0.1 is not one of them
        r = env.get("/ok.txt", headers={"Host": "c.test",
                                        "X-Correlation-ID": "kept-not"})
        assert UUID4.match(one(r)), r.headers
        env.apache_stop()
