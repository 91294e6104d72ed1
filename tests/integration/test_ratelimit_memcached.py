"""mod_gk_ratelimit on memcached (GKRateLimitStore memcached, issue 12),
against real memcached servers started on loopback ports
(gkhttpd/memcached.py) and real httpd processes:

* one exact count through two httpd instances (two apache2 processes, two
  configs) sharing one memcached, on every MPM; through two memcached
  servers (keys spread over both, still exact); over h2c with many
  streams (the pool never waits);
* window rollover; round trips per request counted by memcached's stats;
  the keys memcached holds (namespaced, hashed, expiring);
* memcached killed mid-run (allow, deny), restarted (counts from zero),
  not running at startup, frozen with SIGSTOP then SIGCONT (timeouts
  honoured and counted per child, the breaker opens and closes, audit
  events, no stale replies), one of two servers down;
* every refused configuration, by `apache2 -t` and by a start.

Counting after an outage: each child has its own breaker, so "the store is
back" means every child that opened its breaker closed it (GK30013 ->
GK30014 per pid) and rounds of fresh-keyed requests are all counted
(settle()).
"""

import os
import re
import subprocess
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from gkhttpd import GkConf, GkEnv
from gkhttpd.check import assert_problem
from gkhttpd.memcached import Memcached, have_memcached
from gk_log_helpers import curl_h2
from gk_ratelimit_helpers import (align_window, ensure_window, fields,
                                  marker, need_ratelimit_module,
                                  read_json_lines, remaining)

MPMS = ["event", "worker", "prefork"]
RE_PID = re.compile(r"\[pid (\d+)")
RE_KEY = re.compile(r"^gk:gkrl:[0-9a-f]{16}:[0-9]+$")
# what a failing memcached may log at warn or worse: a limit's store
# failed (error, once a minute per process), the breaker opened or a
# probe failed (warn)
FAIL_TAGS = ["GK30006", "GK30013"]
PROBE_LIMIT = 1000
# a request against a failing memcached finishes within this (s)
BOUND = 0.5


@pytest.fixture(autouse=True, scope="module")
def _need(env):
    need_ratelimit_module(env)
    if not have_memcached():
        pytest.skip("no /usr/bin/memcached")


@pytest.fixture(scope="module")
def secret(env):
    return env.write_file(env.data_dir / "rl_mc_secret",
                          "mc-shared-secret-0123456789abcdef\n")


def new_mc(env, name="mc"):
    return Memcached(env.gen_dir / "memcached", name=name)


@pytest.fixture(scope="class")
def mc(env):
    m = new_mc(env).start()
    yield m
    m.stop()


def mc_conf(env, secret, servers, on_error="allow", timeout=None, mpm=None,
            gk_modules=("ratelimit",), extra_modules=()):
    """A config on memcached: the servers, the shared secret, the policy,
    and /probe/ (settle's limit)."""
    conf = GkConf(env, mpm=mpm, gk_modules=gk_modules,
                  extra_modules=extra_modules)
    conf.add('GKRateLimitStore memcached "%s"' % " ".join(
        "--SERVER=%s" % (s.addr if hasattr(s, "addr") else s)
        for s in servers))
    conf.add("GKRateLimitKeySecret file:%s" % secret)
    conf.add("GKRateLimitOnStoreError %s" % on_error)
    if timeout is not None:
        conf.add("GKRateLimitStoreTimeout %d" % timeout)
    conf.add_location("/probe/", "GKRateLimit probe %d/hour "
                      "key=header:X-Probe" % PROBE_LIMIT)
    return conf


# ---- helpers ------------------------------------------------------------

def pid_of(line):
    m = RE_PID.search(line.text)
    return m.group(1) if m else None


def tag_lines(env, tag, pos):
    return [l for l in env.error_log.lines_since(pos) if l.tag == tag]


def per_pid(lines):
    out = defaultdict(int)
    for l in lines:
        out[pid_of(l)] += 1
    return dict(out)


def alive(pid):
    try:
        return b"apache2" in open("/proc/%s/cmdline" % pid, "rb").read()
    except OSError:
        return False


def open_children(env, pos):
    """Live children whose breaker opened since pos and did not close
    after it opened last."""
    state = {}
    for l in env.error_log.lines_since(pos):
        if l.tag == "GK30013":
            state[pid_of(l)] = "open"
        elif l.tag == "GK30014":
            state[pid_of(l)] = "closed"
    return {p for p, s in state.items() if s == "open" and alive(p)}


def settle(env, pos=None, timeout=12.0, rounds=3, width=8):
    """Until the store counts again in every child: rounds of `width`
    concurrent requests to /probe/, each with a fresh key, until `rounds`
    rounds in a row were all counted and no live child that opened its
    breaker since pos has it open. Every counted reply must be a fresh
    count (r == PROBE_LIMIT - 1): a stale reply (a late answer to an
    earlier operation) would show another count. Returns the counted
    responses."""
    end = time.monotonic() + timeout
    good = 0
    counted = []
    while True:
        with ThreadPoolExecutor(width) as ex:
            got = list(ex.map(lambda i: env.get(
                "/probe/", headers={"X-Probe": marker()}), range(width)))
        for r in got:
            f = fields(r)
            if f:
                assert r.status_code == 200, r.status_code
                assert f["probe"]["r"] == PROBE_LIMIT - 1, \
                    "stale reply? a fresh key counted %r" % f
                counted.append(r)
        good = good + 1 if all(fields(r) for r in got) else 0
        if good >= rounds and (pos is None or not open_children(env, pos)):
            return counted
        assert time.monotonic() < end, (
            "memcached not counting again after %ss: children still open "
            "%r, last round %r" % (timeout, open_children(env, pos or 0),
                                   [r.status_code for r in got]))
        time.sleep(0.1)


def burst_r(env, n, path, name, threads=24, per_session=1, headers=None):
    """n requests from `threads` threads (sessions of per_session
    requests); [(status, r of limit `name` or None)]."""
    url = env.url(path)
    out = []
    lock = threading.Lock()
    go = threading.Event()
    chunks = [per_session] * (n // per_session)
    if n % per_session:
        chunks.append(n % per_session)

    def run(count):
        s = requests.Session()
        got = []
        try:
            go.wait(30)
            for _ in range(count):
                r = s.get(url, headers=dict(headers or {}), timeout=30)
                f = fields(r)
                got.append((r.status_code,
                            f[name]["r"] if name in f else None))
        finally:
            s.close()
        with lock:
            out.extend(got)

    with ThreadPoolExecutor(threads) as ex:
        futs = [ex.submit(run, c) for c in chunks]
        time.sleep(0.05)
        go.set()
        for f in futs:
            f.result()
    return out


def assert_exact(got, limit, n):
    """Exactly `limit` of n admitted, each count handed out once: the
    admitted requests' r values are limit-1 .. 0, one each."""
    codes = [s for s, _ in got]
    assert len(codes) == n
    assert codes.count(200) == limit, (codes.count(200), sorted(set(codes)))
    assert codes.count(429) == n - limit, sorted(set(codes))
    assert sorted(r for s, r in got if s == 200) == list(range(limit)), \
        sorted(r for s, r in got if s == 200)
    assert all(r == 0 for s, r in got if s == 429)


def hammer(env, path, headers, threads, seconds, event_at=None,
           event=None):
    """`threads` clients, each sending requests one after another (a new
    connection each) for `seconds`; event() runs at event_at seconds.
    Returns [(start, elapsed, response)] with times relative to the start,
    and the time event() ran."""
    t0 = time.monotonic()
    out = []
    lock = threading.Lock()
    when = [None]

    def client():
        got = []
        while time.monotonic() - t0 < seconds:
            s = time.monotonic()
            r = env.get(path, headers=dict(headers))
            got.append((s - t0, time.monotonic() - s, r))
        with lock:
            out.extend(got)

    ts = [threading.Thread(target=client) for _ in range(threads)]
    for t in ts:
        t.start()
    try:
        if event:
            time.sleep(max(0, event_at - (time.monotonic() - t0)))
            when[0] = time.monotonic() - t0
            event()
    finally:
        for t in ts:
            t.join(60)
    return sorted(out, key=lambda x: x[0]), when[0]


def incr_items(m):
    """(incr_hits + incr_misses, curr_items): the increments memcached
    counted, and the keys it holds (a key created by an increment with
    an initial value counts in neither incr_hits nor incr_misses)."""
    s = m.stats()
    return m.incr_ops(s), s["curr_items"]


def assert_store_error_503(r):
    assert r.status_code == 503, (r.status_code, r.text[:200])
    assert r.headers.get("Retry-After") == "1", r.headers
    assert_problem(r, 503)
    assert not fields(r), r.headers


# ---- configurations refused and accepted --------------------------------------

def refused(env, secret, lines, *needles, with_secret=True):
    conf = GkConf(env, gk_modules=("ratelimit",))
    if with_secret:
        conf.add("GKRateLimitKeySecret file:%s" % secret)
    conf.add(lines)
    conf.install()
    res = env.apache_fail()
    res.assert_refused(*needles)
    return res


BAD_OPTIONS = ["--NOREPLY", "--USE-UDP", "--DISTRIBUTION=modula",
               "--CONNECT-TIMEOUT=10", "--POOL-MAX=4", "--NAMESPACE=x",
               "--BUFFER-REQUESTS", "--NUMBER-OF-REPLICAS=1",
               "--RANDOMIZE-REPLICA-READ", "--HASH=MD5",
               "--REMOVE-FAILED-SERVERS", "--POLL-TIMEOUT=10",
               "--RETRY-TIMEOUT=1", "--POOL-MIN=1", "--ENCODING-KEY=abc",
               "--SORT-HOSTS", "--FROBNICATE"]

BAD_STRINGS = [
    ("garbage", "garbage"),
    ("garbage after", "--SERVER=127.0.0.1:11211 garbage"),
    ("empty", ""),
    ("no server", "--TCP-NODELAY"),
    ("two spaces", "--SERVER=127.0.0.1:11211  --TCP-NODELAY"),
    ("leading space", " --SERVER=127.0.0.1:11211"),
    ("tab", "--SERVER=127.0.0.1:11211\t--TCP-NODELAY"),
    ("bad port", "--SERVER=127.0.0.1:99999999"),
    ("empty server", "--SERVER="),
]


class TestConfig:

    @pytest.mark.parametrize("opt", BAD_OPTIONS)
    def test_gk_ratelimit_079_01_refused_option(self, env, secret, opt):
        refused(env, secret, 'GKRateLimitStore memcached '
                '"--SERVER=127.0.0.1:11211 %s"' % opt,
                "GKRateLimitStore", opt.split("=")[0])

    @pytest.mark.parametrize("case,string", BAD_STRINGS,
                             ids=[c[0] for c in BAD_STRINGS])
    def test_gk_ratelimit_079_02_refused_string(self, env, secret, case,
                                                string):
        refused(env, secret, 'GKRateLimitStore memcached "%s"' % string,
                "GKRateLimitStore")

    def test_gk_ratelimit_079_03_two_arguments(self, env, secret):
        refused(env, secret, "GKRateLimitStore memcached "
                "--SERVER=127.0.0.1:11211 --TCP-NODELAY", "GKRateLimitStore")

    def test_gk_ratelimit_079_04_no_secret(self, env, secret):
        res = refused(env, secret, 'GKRateLimitStore memcached '
                      '"--SERVER=127.0.0.1:11211"', "GKRateLimitKeySecret",
                      "GK30010", "%s:1" % env.test_conf, with_secret=False)
        assert "GKRateLimitStore" in res.output

    @pytest.mark.parametrize("ms", ["0", "60001", "-1", "abc", "50ms"])
    def test_gk_ratelimit_079_05_timeout(self, env, secret, ms):
        refused(env, secret, 'GKRateLimitStore memcached '
                '"--SERVER=127.0.0.1:11211"\nGKRateLimitStoreTimeout %s'
                % ms, "GKRateLimitStoreTimeout")

    @pytest.mark.parametrize("line", [
        'GKRateLimitStore memcached "--SERVER=127.0.0.1:11211"',
        "GKRateLimitStoreTimeout 100"])
    def test_gk_ratelimit_079_06_in_vhost(self, env, secret, line):
        refused(env, secret, """
            <VirtualHost 127.0.0.1:%d>
                ServerName v.example
                %s
            </VirtualHost>
        """ % (env.port, line), line.split()[0])

    def test_gk_ratelimit_079_07_in_location(self, env, secret):
        refused(env, secret, '<Location /x/>\nGKRateLimitStore memcached '
                '"--SERVER=127.0.0.1:11211"\n</Location>',
                "GKRateLimitStore")

    def test_gk_ratelimit_079_09_unquoted_socket(self, env, secret):
        """libmemcached wants a socket's path quoted (as the docs write
        it): unquoted, refused when read, naming the directive."""
        refused(env, secret, 'GKRateLimitStore memcached '
                '"--SOCKET=/run/memcached/memcached.sock"',
                "GKRateLimitStore")

    def test_gk_ratelimit_079_10_quoted_socket(self, env, secret):
        conf = GkConf(env, gk_modules=("ratelimit",))
        conf.add('GKRateLimitStore memcached '
                 '"--SOCKET=\\"/run/memcached/memcached.sock\\""')
        conf.add("GKRateLimitKeySecret file:%s" % secret)
        conf.install()
        rc, out = env.apache_test_config()
        assert rc == 0, out

    def test_gk_ratelimit_079_08_accepted(self, env, secret):
        """The options allowed, both timeout bounds; memcached not running
        (httpd starts anyway)."""
        for ms in (1, 60000):
            conf = GkConf(env, gk_modules=("ratelimit",))
            conf.add('GKRateLimitStore memcached "--SERVER=127.0.0.1:1 '
                     '--SERVER=localhost:2/?3 --BINARY-PROTOCOL '
                     '--TCP-NODELAY --TCP-KEEPALIVE --TCP-KEEPIDLE --SUPPORT-CAS '
                     '--SOCKET-SEND-SIZE=65536 --SOCKET-RECV-SIZE=65536"')
            conf.add("GKRateLimitStoreTimeout %d" % ms)
            conf.add("GKRateLimitKeySecret file:%s" % secret)
            conf.install()
            rc, out = env.apache_test_config()
            assert rc == 0, out
        env.apache_restart()
        assert env.get("/x").status_code == 200      # no limit applies


# ---- one memcached: rollover, round trips, keys, kill, restart -----------------

class TestOneStore:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, secret, mc):
        self.__class__.mc = mc
        conf = mc_conf(env, secret, [mc])
        conf.add_location("/roll/", "GKRateLimit roll 3/2s "
                          "key=header:X-Run")
        conf.add_location("/rt1/", "GKRateLimit rt1 1000/hour "
                          "key=header:X-Run")
        conf.add_location("/rt2/", """
            GKRateLimit rta 1000/hour key=header:X-Run
            GKRateLimit rtb 1000/hour key=header:X-Run|ip
            GKRateLimit rtp 1000/hour key=header:X-Run methods=POST
        """)
        conf.add_location("/lim/", "GKRateLimit lim 3/hour key=header:X-Run")
        conf.install()
        env.apache_restart()
        env.error_log.allow(tags=FAIL_TAGS)

    def test_gk_ratelimit_073_01_rollover(self, env):
        align_window(2)
        h = {"X-Run": marker()}
        items0 = self.mc.stats()["curr_items"]
        got = [env.get("/roll/", headers=h) for _ in range(4)]
        assert [r.status_code for r in got] == [200, 200, 200, 429], \
            [r.status_code for r in got]
        assert [remaining(r, "roll") for r in got] == [2, 1, 0, 0]
        ra = int(got[3].headers["Retry-After"])
        assert 1 <= ra <= 2, ra
        align_window(2)
        r = env.get("/roll/", headers=h)
        assert r.status_code == 200 and remaining(r, "roll") == 2, fields(r)
        # each window is its own key in memcached
        assert self.mc.stats()["curr_items"] - items0 == 2

    def test_gk_ratelimit_073_02_round_trips(self, env):
        """One increment per applying limit per request, counted by
        memcached: incr_hits + incr_misses + keys created."""
        ensure_window(3600, 30)
        n = 20
        for path, per in (("/rt1/", 1), ("/rt2/", 2)):
            h = {"X-Run": marker()}
            ops0, items0 = incr_items(self.mc)
            for _ in range(n):
                assert env.get(path, headers=h).status_code == 200
            ops1, items1 = incr_items(self.mc)
            assert items1 - items0 == per, (path, items1 - items0)
            assert (ops1 - ops0) + (items1 - items0) == per * n, \
                (path, ops1 - ops0, items1 - items0)
        # concurrent requests on keys that exist: no race to create a key
        # and exactly one increment per limit per request
        h = {"X-Run": marker()}
        assert env.get("/rt2/", headers=h).status_code == 200
        ops0, items0 = incr_items(self.mc)
        got = burst_r(env, 96, "/rt2/", "rta", threads=16, per_session=3,
                      headers=h)
        ops1, items1 = incr_items(self.mc)
        assert items1 == items0
        assert ops1 - ops0 == 2 * 96, ops1 - ops0
        assert sorted(r for _, r in got) == list(range(1000 - 97,
                                                       1000 - 1))
        # a POST: the third limit applies too
        h = {"X-Run": marker()}
        ops0, items0 = incr_items(self.mc)
        assert env.request("/rt2/", "POST", headers=h).status_code == 200
        ops1, items1 = incr_items(self.mc)
        assert (ops1 - ops0, items1 - items0) == (0, 3)

    def test_gk_ratelimit_073_03_keys(self, env):
        """Keys are "gk:gkrl:<16 hex>:<window start>", never the raw key,
        and expire with their window."""
        ensure_window(3600, 30)
        raw = "raw-key-" + marker()
        assert env.get("/lim/", headers={"X-Run": raw}).status_code == 200
        now = time.time()
        dump = self.mc.metadump()
        assert dump
        for d in dump:
            assert RE_KEY.match(d["key"]), d
            assert raw not in d["key"] and raw[8:] not in d["key"]
        # every key expires, at the latest at the end of its window (plus
        # GK_RATE_TTL_MARGIN and memcached's clock, which ticks in
        # seconds)
        for d in dump:
            exp = int(d["exp"])
            assert exp != -1, d
            start = int(d["key"].rsplit(":", 1)[1])
            assert now - 5 < exp <= start + 3600 + 15, (d, now)

    def test_gk_ratelimit_073_04_killed_allow(self, env):
        """Killed mid-run with GKRateLimitOnStoreError allow: every
        request passes, each within the bound, uncounted after the
        kill."""
        ensure_window(3600, 30)
        pos = env.error_log._size()
        h = {"X-Run": marker()}
        got, killed = hammer(env, "/rt1/", h, threads=6, seconds=1.2,
                             event_at=0.4, event=self.mc.kill)
        assert got
        assert all(r.status_code == 200 for _, _, r in got), \
            sorted({r.status_code for _, _, r in got})
        before = [r for s, e, r in got if s + e < killed]
        after = [r for s, e, r in got if s > killed + 0.02]
        assert before and after, (len(before), len(after))
        assert all(fields(r) for r in before)
        assert not any(fields(r) for r in after), \
            [fields(r) for r in after if fields(r)][:3]
        slow = [(s, e) for s, e, r in got if e >= BOUND]
        assert not slow, slow[:5]
        assert tag_lines(env, "GK30006", pos)
        assert tag_lines(env, "GK30013", pos)
        self.mc.start()
        settle(env, pos)

    def test_gk_ratelimit_073_05_restarted(self, env):
        """Restarted (killed and started at once): the counts start from
        zero."""
        ensure_window(3600, 30)
        h = {"X-Run": marker()}
        got = [env.get("/lim/", headers=h).status_code for _ in range(4)]
        assert got == [200, 200, 200, 429], got
        pos = env.error_log._size()
        self.mc.restart()
        settle(env, pos)
        r = env.get("/lim/", headers=h)
        assert r.status_code == 200 and remaining(r, "lim") == 2, fields(r)


# ---- two httpd instances, one memcached, every MPM ------------------------------

class Peer:
    """A second, independent httpd: its own GkEnv (gen dir, ports,
    config, error log), so its own apache2 parent and children."""

    def __init__(self, env, mpm):
        taken = {env.port, env.backend_port}
        while True:
            self.env = GkEnv(mpm=mpm, gen_dir=env.gen_dir / "peer",
                             build_dir=env.build_dir)
            if not taken & {self.env.port, self.env.backend_port}:
                break
        self.env.extra_env = dict(env.extra_env)
        self.env.setup()

    def stop(self):
        self.env.apache_stop()


@pytest.fixture(scope="class", params=MPMS)
def two_front_ends(request, env, secret, mc):
    mpm = request.param
    if not env.mod_path("mpm_%s" % mpm).exists():
        pytest.skip("no mod_mpm_%s" % mpm)
    peer = Peer(env, mpm)
    try:
        for e in (env, peer.env):
            conf = mc_conf(e, secret, [mc], mpm=mpm)
            conf.add_location("/two/", "GKRateLimit two 50/hour "
                              "key=header:X-Run")
            conf.add_location("/twoka/", "GKRateLimit twoka 37/hour "
                              "key=header:X-Run")
            conf.install()
        env.apache_restart()
        peer.env.apache_start()
        yield mpm, peer.env
    finally:
        peer.stop()
        env.mpm = env.default_mpm


class TestTwoFrontEnds:

    def test_gk_ratelimit_078_01_exact(self, env, mc, two_front_ends):
        mpm, other = two_front_ends
        assert other.port != env.port and other.is_running
        ensure_window(3600, 30)
        for path, name, limit, n, per in (("/two/", "two", 50, 240, 1),
                                          ("/twoka/", "twoka", 37, 240, 6)):
            h = {"X-Run": marker()}
            if per == 1:
                h["Connection"] = "close"
            ops0, items0 = incr_items(mc)
            with ThreadPoolExecutor(2) as ex:
                futs = [ex.submit(burst_r, e, n // 2, path, name, 20, per, h)
                        for e in (env, other)]
                parts = [f.result() for f in futs]
            got = parts[0] + parts[1]
            assert_exact(got, limit, n)
            # both front ends answered from the one count
            assert all(len(p) == n // 2 for p in parts)
            ops1, items1 = incr_items(mc)
            assert items1 - items0 == 1
            assert (ops1 - ops0) + (items1 - items0) == n, (mpm, ops1 - ops0)
        # a key counted on one front end is spent on the other
        h = {"X-Run": marker()}
        for i in range(50):
            assert (env if i % 2 else other).get(
                "/two/", headers=h).status_code == 200
        for e in (env, other):
            r = e.get("/two/", headers=h)
            assert r.status_code == 429 and remaining(r, "two") == 0
        bad = other.error_log.check()
        assert not bad, "\n".join(l.text for l in bad)


# ---- two memcached servers ------------------------------------------------------

def key_per_server(env, mcs, path, header, want=None):
    """Fresh keys, each requested once on path (one limit), until one
    landed on each server (by the servers' curr_items): {index: key}."""
    found = {}
    for _ in range(64):
        k = marker()
        before = [m.stats()["curr_items"] for m in mcs]
        r = env.get(path, headers={header: k})
        assert r.status_code == 200 and fields(r), r.status_code
        d = [m.stats()["curr_items"] - b for m, b in zip(mcs, before)]
        assert sorted(d) == [0] * (len(mcs) - 1) + [1], d
        found.setdefault(d.index(1), k)
        if len(found) == len(mcs):
            return found
    raise AssertionError("64 keys, all on %r" % list(found))


class TestTwoServers:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, secret):
        a = new_mc(env, "mca").start()
        b = new_mc(env, "mcb").start()
        self.__class__.mcs = [a, b]
        try:
            conf = mc_conf(env, secret, [a, b], on_error="deny")
            conf.add_location("/sp/", "GKRateLimit sp 5/hour "
                              "key=header:X-Run")
            conf.install()
            env.apache_restart()
            env.error_log.allow(tags=FAIL_TAGS)
            yield
        finally:
            a.stop()
            b.stop()

    def test_gk_ratelimit_076_01_spread_exact(self, env):
        ensure_window(3600, 30)
        keys = [marker() for _ in range(16)]
        before = [incr_items(m) for m in self.mcs]
        statuses = defaultdict(list)
        lock = threading.Lock()

        def one(k):
            r = env.get("/sp/", headers={"X-Run": k})
            f = fields(r)
            with lock:
                statuses[k].append((r.status_code, f["sp"]["r"]))

        with ThreadPoolExecutor(24) as ex:
            list(ex.map(one, [k for k in keys for _ in range(12)]))
        for k in keys:
            assert_exact(statuses[k], 5, 12)
        after = [incr_items(m) for m in self.mcs]
        d = [(o1 - o0, i1 - i0) for (o0, i0), (o1, i1) in zip(before, after)]
        # both servers hold keys and counted increments
        assert all(ops > 0 and items > 0 for ops, items in d), d
        assert sum(items for _, items in d) == 16, d
        assert sum(ops + items for ops, items in d) == 16 * 12, d

    def test_gk_ratelimit_076_02_one_down(self, env):
        """One of two servers down (deny): keys on the live one are still
        counted exactly, keys on the dead one get the policy and are not
        moved to the live one."""
        ensure_window(3600, 30)
        a, b = self.mcs
        found = key_per_server(env, self.mcs, "/sp/", "X-Run")
        ka, kb = found[0], found[1]          # each counted once
        pos = env.error_log._size()
        b.kill()
        ops0, items0 = incr_items(a)
        for _ in range(6):
            t = time.monotonic()
            assert_store_error_503(env.get("/sp/", headers={"X-Run": kb}))
            assert time.monotonic() - t < BOUND
        # not moved: the live server never saw them
        assert incr_items(a) == (ops0, items0)
        assert tag_lines(env, "GK30013", pos)
        # past the back-off, keys on the live server count on exactly
        # (the breaker is per store: until a probe closed it, they too
        # got the policy)
        time.sleep(1.1)
        got = [env.get("/sp/", headers={"X-Run": ka}) for _ in range(6)]
        assert [r.status_code for r in got] == [200] * 4 + [429] * 2, \
            [r.status_code for r in got]
        assert [remaining(r, "sp") for r in got] == [3, 2, 1, 0, 0, 0]
        assert incr_items(a)[0] - ops0 == 6
        # the dead server's keys still take the policy
        assert_store_error_503(env.get("/sp/", headers={"X-Run": kb}))
        b.start()


# ---- memcached frozen (SIGSTOP) then resumed (SIGCONT) ---------------------------

class TestFrozen:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, secret, mc):
        if not env.has_gk_module("log"):
            pytest.skip("mod_gk_log not built")
        self.__class__.mc = mc
        self.__class__.audit = env.logs_dir / "rl_mc_audit.json"
        conf = mc_conf(env, secret, [mc], timeout=50,
                       gk_modules=("ratelimit", "log"))
        conf.add('GKAuditLog "%s"' % self.audit)
        conf.add_location("/fz/", "GKRateLimit fz 100/hour key=header:X-Run")
        conf.install()
        env.apache_restart()
        env.error_log.allow(tags=FAIL_TAGS)
        yield
        if mc.paused:
            mc.resume()

    def actions(self, action):
        return read_json_lines(self.audit, lambda o: o.get("event", {}).get(
            "action") == action, want=1, timeout=3)

    def test_gk_ratelimit_075_01_frozen(self, env):
        ensure_window(3600, 30)
        ka = {"X-Run": marker()}
        for i in range(5):
            r = env.get("/fz/", headers=ka)
            assert remaining(r, "fz") == 99 - i
        settle(env, rounds=2)           # every child has connections
        pos = env.error_log._size()
        threads, seconds = 6, 1.6
        self.mc.pause()
        got, _ = hammer(env, "/fz/", ka, threads=threads, seconds=seconds)
        lines = tag_lines(env, "GK30012", pos)
        opened = tag_lines(env, "GK30013", pos)
        self.mc.resume()
        # every request answered by the policy (allow), each in the bound
        assert len(got) > 40, len(got)
        assert all(r.status_code == 200 for _, _, r in got)
        slow = sorted(e for _, e, _ in got if e >= BOUND)
        assert not slow, slow
        # the timeouts paid, counted per child: at most the client's
        # concurrency at the first failure, then one probe per back-off
        # interval (1 s, 2 s...)
        assert lines, "no GK30012 line"
        assert all("memcached incr: TIMEOUT" in l.text for l in lines), \
            [l.text for l in lines if "TIMEOUT" not in l.text][:3]
        counts = per_pid(lines)
        bound = threads + int(seconds) + 1
        assert max(counts.values()) <= bound, (counts, bound)
        assert sum(counts.values()) < len(got) / 4, (counts, len(got))
        uncounted = [r for _, _, r in got if not fields(r)]
        assert len(uncounted) >= len(got) - sum(counts.values())
        # the breaker opened (a warning per interval per child), with an
        # audit event
        assert opened
        assert max(per_pid(opened).values()) <= int(seconds) + 1, \
            per_pid(opened)
        assert set(per_pid(opened)) >= set(counts)
        assert self.actions("rate-limit-store-down")
        # resumed: every child closes its breaker, and every count is
        # fresh (settle() checks each reply)
        settle(env, pos)
        closed = tag_lines(env, "GK30014", pos)
        assert set(per_pid(closed)) >= {p for p in per_pid(opened)
                                        if alive(p)}
        up = self.actions("rate-limit-store-up")
        assert up and up[0]["event"]["outcome"] == "success", up
        kb = {"X-Run": marker()}
        rs = [remaining(env.get("/fz/", headers=kb), "fz") for _ in range(5)]
        assert rs == [99, 98, 97, 96, 95], rs
        # key A: its 5, the frozen increments memcached may have applied
        # after SIGCONT (at most one per timeout), and this one
        r = remaining(env.get("/fz/", headers=ka), "fz")
        assert 100 - 6 - len(lines) <= r <= 100 - 6, (r, len(lines))


# ---- memcached not running at startup; killed mid-run (deny) ------------------

class TestNotRunningAtStart:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, secret):
        m = new_mc(env, "mclate")           # a port, nothing running
        self.__class__.mc = m
        try:
            conf = mc_conf(env, secret, [m], on_error="deny")
            conf.add_location("/nr/", "GKRateLimit nr 3/hour "
                              "key=header:X-Run")
            conf.add_location("/nk/", "GKRateLimit nk 1000/hour "
                              "key=header:X-Run")
            conf.install()
            env.apache_restart()            # starts without memcached
            env.error_log.allow(tags=FAIL_TAGS)
            yield
        finally:
            m.stop()

    def test_gk_ratelimit_074_01_late_memcached(self, env):
        ensure_window(3600, 30)
        pos = env.error_log._size()
        h = {"X-Run": marker()}
        for _ in range(5):
            t = time.monotonic()
            r = env.get("/nr/", headers=h)
            assert time.monotonic() - t < BOUND
            assert_store_error_503(r)
            assert r.json().get("status") == 503
        assert tag_lines(env, "GK30006", pos)
        self.mc.start()
        settle(env, pos)
        got = [env.get("/nr/", headers=h) for _ in range(4)]
        assert [r.status_code for r in got] == [200, 200, 200, 429]
        assert [remaining(r, "nr") for r in got] == [2, 1, 0, 0]

    def test_gk_ratelimit_074_02_killed_deny(self, env):
        """Killed mid-run with deny: 503 + Retry-After: 1 from the kill
        on, counted before."""
        ensure_window(3600, 30)
        if not self.mc.is_running:
            self.mc.start()
            settle(env)
        h = {"X-Run": marker()}
        got, killed = hammer(env, "/nk/", h, threads=6, seconds=1.2,
                             event_at=0.4, event=self.mc.kill)
        before = [r for s, e, r in got if s + e < killed]
        after = [r for s, e, r in got if s > killed + 0.02]
        assert before and after
        assert all(r.status_code == 200 and fields(r) for r in before)
        for r in after:
            assert_store_error_503(r)
        assert {r.status_code for _, _, r in got} <= {200, 503}
        slow = [(s, e) for s, e, r in got if e >= BOUND]
        assert not slow, slow[:5]


# ---- h2c: many streams, the pool never waits --------------------------------------

# curl's exit code for "Error in the HTTP2 framing layer"
CURL_HTTP2_ERROR = 16


def h2_parallel(env, curl, path, n, headers):
    """n GETs of path over h2c, in parallel streams of (mostly) one
    connection: [(status, time_total, r or None, http_version)]; None when
    curl 7.88 gave up with its HTTP/2 framing error (seen now and then
    with --parallel, on the client's side: the caller runs again).

    curl 7.88 fails every transfer but one of --parallel with
    --http2-prior-knowledge ("Error in the HTTP2 framing layer", no
    connection made), so the connection is upgraded (--http2: Upgrade:
    h2c) by a first request to an unlimited path, and the n requests are
    streams multiplexed on it (curl may still open a few connections of
    HTTP/1.1 while the upgrade is under way). The warm-up request goes to
    an unlimited path; a request upgraded to h2c is counted once, as its
    HTTP/2 stream (test_gk_ratelimit_077_02)."""
    fmt = ("%{http_code} %{time_total} %{http_version} %{num_connects} "
           "%{url_effective} %header{ratelimit}\\n")
    cmd = [curl, "-s", "--http2", "--parallel", "--parallel-max", "100",
           "--max-time", "20", "-w", fmt]
    for k, v in headers:
        cmd += ["-H", "%s: %s" % (k, v)]
    cmd += ["-o", "/dev/null"] * (n + 1) + [env.url("/h2warm")] + \
        [env.url(path)] * n
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if p.returncode == CURL_HTTP2_ERROR:
        return None
    assert p.returncode == 0, (p.returncode, p.stderr[-500:])
    out = []
    for line in p.stdout.splitlines():
        parts = line.split(" ", 5)
        if parts[4].endswith("/h2warm"):
            assert parts[2] == "2", line
            continue
        m = re.search(r";r=(\d+)", parts[5]) if len(parts) > 5 else None
        # a new connection whose request went out as HTTP/2: upgraded
        out.append((int(parts[0]), float(parts[1]),
                    int(m.group(1)) if m else None, parts[2],
                    parts[2] == "2" and int(parts[3]) > 0))
    assert len(out) == n, p.stdout[-500:]
    return out


class TestH2c:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, secret, mc):
        if env.default_mpm == "prefork":
            pytest.skip("mod_http2 does not serve h2 on prefork")
        self.__class__.curl = curl_h2()
        if not self.curl:
            pytest.skip("curl without HTTP2")
        self.__class__.mc = mc
        conf = mc_conf(env, secret, [mc], extra_modules=["http2"])
        conf.add("Protocols h2c http/1.1")
        conf.add("H2MaxSessionStreams 128")
        conf.add_location("/h2/", "GKRateLimit h2 60/hour key=header:X-Run")
        conf.install()
        env.apache_restart()

    def test_gk_ratelimit_077_01_many_streams(self, env):
        ensure_window(3600, 30)
        pos = env.error_log._size()
        n = 300
        for _ in range(3):
            # a fresh counter for each try: a try curl broke off counts
            # for nothing here
            ops0, items0 = incr_items(self.mc)
            got = h2_parallel(env, self.curl, "/h2/", n,
                              [("X-Run", marker())])
            if got is not None:
                break
        assert got is not None, "curl's HTTP/2 framing error, three times"
        h2 = [g for g in got if g[3] == "2"]
        assert len(h2) >= n // 2, "%d of %d over HTTP/2" % (len(h2), n)
        # exact, also for requests that upgraded a connection of their
        # own (curl opens more than one now and then): counted once each
        assert_exact([(g[0], g[2]) for g in got], 60, n)
        ops1, items1 = incr_items(self.mc)
        assert (ops1 - ops0) + (items1 - items0) == n
        # no stream waited for a connection: none took the store-error
        # path (GK30011: empty pool), none was slow
        assert not tag_lines(env, "GK30011", pos)
        assert not tag_lines(env, "GK30006", pos)
        slow = sorted(g[1] for g in got if g[1] >= 2.0)
        assert not slow, slow[:5]

    def test_gk_ratelimit_077_02_upgrade_counted_once(self, env):
        ensure_window(3600, 30)
        h = [("X-Run", marker())]
        cmd = [self.curl, "-s", "--http2", "-o", "/dev/null", "-w",
               "%{http_version} %header{ratelimit}", "-H", "%s: %s" % h[0],
               env.url("/h2/")]
        out = subprocess.run(cmd, capture_output=True, text=True,
                             timeout=30).stdout
        if not out.startswith("2 "):
            pytest.skip("not upgraded to h2c: %r" % out)
        # one request of a fresh key: r=59 (got r=58)
        assert '"h2";r=59;' in out, out
