"""mod_gk_log: W3C Trace Context (traceparent, level 1) under each
GKTraceparent mode.

What the backend receives is read byte for byte by a raw backend behind
mod_proxy_http; GK_TRACE_ID and GK_SPAN_ID reach it through mod_headers
(RequestHeader ... %{..}e), and the CGI environment through the echo CGI.

  propagate (default)  valid: same trace-id, the gateway's new parent-id,
                       the sampled flag kept, tracestate unchanged;
                       invalid: traceparent and tracestate dropped;
                       absent: nothing sent
  generate             as propagate, and a new trace when none (valid)
                       arrived
  off                  traceparent and tracestate left alone
An untrusted peer's traceparent counts as absent. The trace ID and the
correlation ID are independent values.
"""

import pytest

from gkhttpd import GkConf
from gkhttpd.rawbackend import RawBackend

from gk_log_helpers import (CID, HEX16, HEX32, TRACEPARENT, UUID7,
                            echo_json, need_log_module, one, raw_request)


@pytest.fixture(autouse=True, scope="module")
def _need_module(env):
    need_log_module(env)


TID = "4bf92f3577b34da6a3ce929d0e0e4736"
PID = "00f067aa0ba902b7"
VALID = "00-%s-%s-01" % (TID, PID)
STATE = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"

INVALID = [
    ("upper-hex", "00-%s-%s-01" % (TID.upper(), PID)),
    ("zero-trace", "00-%s-%s-01" % ("0" * 32, PID)),
    ("zero-parent", "00-%s-%s-01" % (TID, "0" * 16)),
    ("version-ff", "ff-%s-%s-01" % (TID, PID)),
    ("short", "00-%s-%s-1" % (TID, PID)),
    ("v00-trailing", "00-%s-%s-01-extra" % (TID, PID)),
    ("no-dashes", "00%s%s01" % (TID, PID)),
    ("garbage", "hello"),
    ("two-joined", "%s, %s" % (VALID, VALID)),
]

VHOSTS = """
<VirtualHost 127.0.0.1:{port}>
    ServerName 127.0.0.1
</VirtualHost>
<VirtualHost 127.0.0.1:{port}>
    ServerName gen.test
    GKTraceparent generate
</VirtualHost>
<VirtualHost 127.0.0.1:{port}>
    ServerName off.test
    GKTraceparent off
</VirtualHost>
<VirtualHost 127.0.0.1:{port}>
    ServerName untrusted.test
    GKCorrelationTrust 127.0.0.2/32
</VirtualHost>
<VirtualHost 127.0.0.1:{port}>
    ServerName untrusted-gen.test
    GKCorrelationTrust 127.0.0.2/32
    GKTraceparent generate
</VirtualHost>
<VirtualHost 127.0.0.1:{port}>
    ServerName nocorr.test
    GKCorrelation Off
</VirtualHost>
"""


def values(head, name):
    return [v.decode("latin-1") for k, v in RawBackend.header_lines(head)
            if k.lower() == name.lower().encode()]


class TestTrace:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        cls = self.__class__
        cls.raw = RawBackend().start()
        conf = GkConf(env, gk_modules=("log",))
        conf.add_location("/raw/", """
            ProxyPass http://127.0.0.1:%d/
            RequestHeader set X-GK-Trace "%%{GK_TRACE_ID}e"
            RequestHeader set X-GK-Span "%%{GK_SPAN_ID}e"
            RequestHeader set X-GK-Corr "%%{GK_CORRELATION_ID}e"
        """ % cls.raw.port)
        conf.add(VHOSTS.format(port=env.port))
        conf.install()
        env.apache_restart()
        yield
        cls.raw.stop()

    def send(self, env, host="127.0.0.1", tp=None, ts=None, extra=()):
        """A request through the proxy; the head the backend got."""
        self.raw.clear()
        lines = list(extra)
        if tp is not None:
            lines.append("traceparent: " + tp)
        if ts is not None:
            lines.append("tracestate: " + ts)
        r = raw_request(env, "GET /raw/t HTTP/1.1", lines, host=host)
        assert r.status_code == 200, r.raw[:300]
        head = self.raw.last()
        assert head is not None
        return r, head

    def forwarded(self, head):
        """The one traceparent the backend got, parsed."""
        tps = values(head, "traceparent")
        assert len(tps) == 1, (tps, head)
        m = TRACEPARENT.match(tps[0])
        assert m, tps[0]
        trace_id, parent_id, flags = m.groups()
        # the gateway's span is the parent the backend sees, and both IDs
        # are in the environment
        assert values(head, "X-GK-Trace") == [trace_id], head
        assert values(head, "X-GK-Span") == [parent_id], head
        return trace_id, parent_id, flags

    def no_trace(self, head):
        assert values(head, "traceparent") == [], head
        assert values(head, "tracestate") == [], head
        assert values(head, "X-GK-Trace") == ["(null)"], head
        assert values(head, "X-GK-Span") == ["(null)"], head

    # ---- propagate (default) -----------------------------------------------
    def test_gk_log_200_01_valid_propagated(self, env):
        r, head = self.send(env, tp=VALID, ts=STATE)
        trace_id, parent_id, flags = self.forwarded(head)
        assert trace_id == TID
        assert parent_id != PID and HEX16.match(parent_id)
        assert flags == "01"
        assert values(head, "tracestate") == [STATE]

    def test_gk_log_200_02_new_span_each_request(self, env):
        spans = {self.forwarded(self.send(env, tp=VALID)[1])[1]
                 for _ in range(5)}
        assert len(spans) == 5

    @pytest.mark.parametrize("flags,out", [("00", "00"), ("01", "01"),
                                           ("03", "01"), ("ff", "01"),
                                           ("02", "00")])
    def test_gk_log_200_03_flags(self, env, flags, out):
        tp = "00-%s-%s-%s" % (TID, PID, flags)
        assert self.forwarded(self.send(env, tp=tp)[1])[2] == out

    def test_gk_log_200_04_higher_version(self, env):
        """A future version is read as version 00 and sent as 00."""
        for tp in ("01-%s-%s-01" % (TID, PID),
                   "cc-%s-%s-01-what-the-future-holds" % (TID, PID)):
            trace_id, parent_id, flags = self.forwarded(
                self.send(env, tp=tp)[1])
            assert (trace_id, flags) == (TID, "01")
            assert parent_id != PID

    @pytest.mark.parametrize("tp", [t for _, t in INVALID],
                             ids=[n for n, _ in INVALID])
    def test_gk_log_201_01_invalid_dropped(self, env, tp):
        r, head = self.send(env, tp=tp, ts=STATE)
        self.no_trace(head)

    def test_gk_log_201_02_two_headers_dropped(self, env):
        r, head = self.send(env, extra=["traceparent: " + VALID,
                                        "traceparent: " + VALID])
        self.no_trace(head)

    def test_gk_log_202_01_absent(self, env):
        r, head = self.send(env)
        self.no_trace(head)

    def test_gk_log_202_02_tracestate_alone_dropped(self, env):
        r, head = self.send(env, ts=STATE)
        self.no_trace(head)

    def test_gk_log_203_01_cgi_environment(self, env):
        r = env.get("/e/echo", headers={"traceparent": VALID,
                                        "tracestate": STATE})
        j = echo_json(r)
        assert j["env"]["GK_TRACE_ID"] == TID
        span = j["env"]["GK_SPAN_ID"]
        assert HEX16.match(span) and span != PID
        assert j["headers"]["traceparent"] == "00-%s-%s-01" % (TID, span)
        assert j["headers"]["tracestate"] == STATE

    def test_gk_log_203_02_cgi_no_trace(self, env):
        j = echo_json(env.get("/e/echo", headers={"traceparent": "bad"}))
        assert "GK_TRACE_ID" not in j["env"] and "GK_SPAN_ID" not in j["env"]
        assert "traceparent" not in j["headers"]

    # ---- generate ----------------------------------------------------------
    def test_gk_log_204_01_generate_absent(self, env):
        r, head = self.send(env, host="gen.test", ts=STATE)
        trace_id, parent_id, flags = self.forwarded(head)
        assert HEX32.match(trace_id) and trace_id != "0" * 32
        assert flags == "01"
        # a tracestate that came without its traceparent is not forwarded
        assert values(head, "tracestate") == []

    def test_gk_log_204_02_generate_unique(self, env):
        traces = {self.forwarded(self.send(env, host="gen.test")[1])[0]
                  for _ in range(5)}
        assert len(traces) == 5

    @pytest.mark.parametrize("tp", [t for _, t in INVALID],
                             ids=[n for n, _ in INVALID])
    def test_gk_log_204_03_generate_invalid(self, env, tp):
        r, head = self.send(env, host="gen.test", tp=tp, ts=STATE)
        trace_id, parent_id, flags = self.forwarded(head)
        assert trace_id != TID and parent_id != PID
        assert values(head, "tracestate") == []

    def test_gk_log_204_04_generate_valid_kept(self, env):
        r, head = self.send(env, host="gen.test", tp=VALID, ts=STATE)
        trace_id, parent_id, flags = self.forwarded(head)
        assert (trace_id, flags) == (TID, "01") and parent_id != PID
        assert values(head, "tracestate") == [STATE]

    def test_gk_log_204_05_generate_keeps_unsampled(self, env):
        tp = "00-%s-%s-00" % (TID, PID)
        r, head = self.send(env, host="gen.test", tp=tp)
        assert self.forwarded(head)[:1] == (TID,)
        assert self.forwarded(head)[2] == "00"

    # ---- off ---------------------------------------------------------------
    @pytest.mark.parametrize("tp", [VALID] + [t for _, t in INVALID],
                             ids=["valid"] + [n for n, _ in INVALID])
    def test_gk_log_205_01_off_untouched(self, env, tp):
        r, head = self.send(env, host="off.test", tp=tp, ts=STATE)
        assert values(head, "traceparent") == [tp]
        assert values(head, "tracestate") == [STATE]
        assert values(head, "X-GK-Trace") == ["(null)"]

    def test_gk_log_205_02_off_absent(self, env):
        r, head = self.send(env, host="off.test")
        self.no_trace(head)

    # ---- trust -------------------------------------------------------------
    def test_gk_log_206_01_untrusted_dropped(self, env):
        pos = env.error_log._size()
        r, head = self.send(env, host="untrusted.test", tp=VALID, ts=STATE)
        self.no_trace(head)
        env.error_log.wait_for("GK40006", timeout=5, since=pos)

    def test_gk_log_206_02_untrusted_generate(self, env):
        r, head = self.send(env, host="untrusted-gen.test", tp=VALID,
                            ts=STATE)
        trace_id, parent_id, flags = self.forwarded(head)
        assert trace_id != TID
        assert values(head, "tracestate") == []

    # ---- independent of the correlation ID ---------------------------------
    def test_gk_log_207_01_independent(self, env):
        r, head = self.send(env, tp=VALID, extra=[CID + ": corr-1"])
        assert one(r) == "corr-1"
        assert values(head, CID) == ["corr-1"]
        assert values(head, "X-GK-Corr") == ["corr-1"]
        assert self.forwarded(head)[0] == TID

    def test_gk_log_207_02_generated_both(self, env):
        r, head = self.send(env, host="gen.test")
        cid = one(r)
        assert UUID7.match(cid)
        trace_id = self.forwarded(head)[0]
        assert trace_id != cid.replace("-", "")

    def test_gk_log_207_03_trace_without_correlation(self, env):
        """GKCorrelation Off leaves traceparent to GKTraceparent."""
        r, head = self.send(env, host="nocorr.test", tp=VALID,
                            extra=[CID + ": passes, untouched"])
        assert not [v for k, v in r.header_list if k.lower() == CID.lower()]
        assert values(head, CID) == ["passes, untouched"]
        assert values(head, "X-GK-Corr") == ["(null)"]
        assert self.forwarded(head)[0] == TID


class TestTraceConfig:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        env.apache_stop()
        yield

    @pytest.mark.parametrize("text", [
        "GKTraceparent maybe",
        "GKTraceparent",
        "GKTraceparent on",
        "GKTraceparent propagate generate",
        "<Location /x>\n    GKTraceparent off\n</Location>",
    ], ids=["word", "none", "on", "two", "in-location"])
    def test_gk_log_210_01_refused(self, env, text):
        GkConf(env, gk_modules=("log",)).add(text).install()
        env.apache_fail().assert_refused("GKTraceparent")
