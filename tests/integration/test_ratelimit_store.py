"""mod_gk_ratelimit: a full shared-memory table (GKRateLimitStore shm
size=64 and more distinct keys than slots in one window) follows
GKRateLimitOnStoreError: allow lets requests through, deny answers 503
with Retry-After: 1 (never for mode=report limits); GK30006 is logged at
most once a minute per process."""

import re
from collections import defaultdict

import pytest

from gkhttpd import GkConf
from gkhttpd.check import assert_problem
from gk_ratelimit_helpers import (NOTES_FORMAT, ensure_window, fields,
                                  marker, need_ratelimit_module, notes_lines)

RE_PID = re.compile(r"\[pid (\d+)")


@pytest.fixture(autouse=True, scope="module")
def _need_module(env):
    need_ratelimit_module(env)


def store_error_lines(env):
    return env.error_log.find(tag="GK30006")


def assert_once_per_process(lines):
    per = defaultdict(int)
    for l in lines:
        assert l.level == "error", l.text
        per[RE_PID.search(l.text).group(1)] += 1
    assert per and max(per.values()) == 1, [l.text for l in lines]


class _Full:
    on_error = None

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        self.__class__.notes = env.logs_dir / ("rl_full_%s.log"
                                               % self.on_error)
        conf = GkConf(env, gk_modules=("ratelimit",))
        conf.add("GKRateLimitStore shm size=64")
        conf.add("GKRateLimitOnStoreError %s" % self.on_error)
        conf.add(NOTES_FORMAT)
        conf.add('CustomLog "%s" gkrlnotes' % self.notes)
        conf.add_location("/full/", "GKRateLimit full 1000/hour key=header:X-K")
        conf.add_location("/fullr/", """
            GKRateLimit fullr 1000/hour key=header:X-K mode=report
        """)
        conf.install()
        env.apache_restart()
        env.error_log.allow(tags=["GK30006"])

    def fill(self, env, n=200, path="/full/"):
        m = marker()
        out = []
        for i in range(n):
            out.append(env.get("%s%s" % (path, m),
                               headers={"X-K": "%s-%d" % (m, i)}))
        return m, out


class TestFullAllow(_Full):
    on_error = "allow"

    def test_gk_ratelimit_030_01_full_allow(self, env):
        ensure_window(3600, 60)
        env.error_log.mark()
        m, got = self.fill(env)
        assert all(r.status_code == 200 for r in got), \
            sorted({r.status_code for r in got})
        counted = [r for r in got if fields(r)]
        uncounted = [r for r in got if not fields(r)]
        assert 0 < len(counted) <= 64, len(counted)
        assert len(uncounted) >= 200 - 64
        # the keys counted before the table filled still count
        assert all(fields(r)["full"]["r"] == 999 for r in counted)
        assert_once_per_process(store_error_lines(env))
        # more store errors in the same minute: still once per process
        self.fill(env, 60)
        assert_once_per_process(store_error_lines(env))


class TestFullDeny(_Full):
    on_error = "deny"

    def test_gk_ratelimit_031_01_full_deny(self, env):
        ensure_window(3600, 60)
        env.error_log.mark()
        m, got = self.fill(env)
        codes = [r.status_code for r in got]
        assert set(codes) == {200, 503}, sorted(set(codes))
        assert 0 < codes.count(200) <= 64
        for r in got:
            if r.status_code == 503:
                assert r.headers.get("Retry-After") == "1", r.headers
                body = assert_problem(r, 503)
                assert body["status"] == 503
        lines = notes_lines(self.notes, "/full/%s " % m, 200)
        bad = [l for l in lines if l.status == 503]
        assert bad and all(l.outcome == "failure" and
                           l.reason == "store_error" for l in bad), bad[:3]
        assert_once_per_process(store_error_lines(env))

    def test_gk_ratelimit_031_02_report_never_denied(self, env):
        ensure_window(3600, 60)
        self.fill(env, 80)                      # the table is full
        m, got = self.fill(env, 50, "/fullr/")
        assert all(r.status_code == 200 for r in got)
        assert all("Retry-After" not in r.headers for r in got)
