"""mod_gk_log: GKErrorLog, a second error log in JSON, written from the
error_log hook: level, module, the AH/GK tag, the message, the client and
the correlation ID of request lines; server lines too; every line valid
JSON whatever the request carried.
"""

import json
import time

import pytest

from gkhttpd import GkConf

from gk_log_helpers import CID, marker, need_log_module, raw_request


@pytest.fixture(autouse=True, scope="module")
def _need_module(env):
    need_log_module(env)


def lines(env, pred=lambda o: True, want=1, timeout=10.0):
    path = env.logs_dir / "error.json"
    end = time.monotonic() + timeout
    while True:
        objs = []
        if path.exists():
            raw = path.read_bytes()
            assert raw == b"" or raw.endswith(b"\n")
            for l in raw.split(b"\n")[:-1]:
                objs.append(json.loads(l.decode("utf-8")))
        sel = [o for o in objs if pred(o)]
        if len(sel) >= want or time.monotonic() > end:
            assert len(sel) >= want, (len(sel), want, objs[-5:])
            return sel
        time.sleep(0.05)


class TestErrorLog:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        conf = GkConf(env, gk_modules=("log",))
        conf.add("LogLevel info gk_log:debug")
        conf.add('GKErrorLog "%s/error.json"' % env.logs_dir)
        conf.add('Alias /missing/ "%s/missing/"' % env.htdocs)
        conf.install()
        env.apache_restart()
        env.error_log.allow(regex=r"AH0\d{4}")

    def test_gk_log_320_01_request_line(self, env):
        m = marker()
        r = env.get("/missing/%s" % m, headers={CID: "bad id with spaces"})
        assert r.status_code == 404
        cid = r.headers[CID]
        mine = lines(env, lambda o: (o.get("gk") or {}).get(
            "correlation_id") == cid, want=2)
        codes = {o["error"]["code"] for o in mine}
        assert "GK40002" in codes, mine      # the replaced incoming ID
        assert "AH00128" in codes, mine      # File does not exist
        for o in mine:
            assert o["client"]["address"] == "127.0.0.1"
            assert o["log"]["level"] in ("debug", "info")
            assert o["log"]["logger"] in ("gk_log", "core")
            assert o["@timestamp"].endswith("Z")
            assert not o["message"].startswith(("GK", "AH"))
        (gk,) = [o for o in mine if o["error"]["code"] == "GK40002"]
        assert gk["log"]["logger"] == "gk_log"
        assert gk["log"]["level"] == "debug"

    def test_gk_log_320_02_server_line(self, env):
        found = lines(env, lambda o: "client" not in o
                      and o["error"]["code"] is not None)
        assert found[0]["gk"]["correlation_id"] is None

    def test_gk_log_320_03_hostile(self, env):
        for path in [b"/missing/a\"b\\c%22", b"/missing/\xff\xfe\xc0",
                     b"/missing/%00x", b"/missing/\"}{\"x\":1}"]:
            raw_request(env, b"GET " + path + b" HTTP/1.1")
        raw_request(env, b"GET /x HTTP/1.1", [b"broken header line"])
        time.sleep(0.5)
        lines(env)        # every line parses


    def test_gk_log_320_04_graceful(self, env):
        env.apache_graceful()
        m = marker()
        r = env.get("/missing/g-%s" % m)
        cid = r.headers[CID]
        lines(env, lambda o: (o.get("gk") or {}).get("correlation_id")
              == cid)


class TestConfig:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        env.apache_stop()
        yield

    def test_gk_log_321_01_unwritable(self, env):
        GkConf(env, gk_modules=("log",)).add(
            "GKErrorLog /nonexistent/dir/error.json").install()
        res = env.apache_fail()
        assert res.refused_at_start, res
        assert "GKErrorLog" in res.output, res
