"""mod_gk_ratelimit: configurations refused by `apache2 -t` and by a
start, each naming the directive (and, for one name with two policies in
a virtual host, the file and line of the first); and a few accepted ones
around them."""

import os

import pytest

from gkhttpd import GkConf
from gkhttpd.conf import assert_refused_conf
from gk_ratelimit_helpers import need_ratelimit_module


@pytest.fixture(autouse=True, scope="module")
def _need_module(env):
    need_ratelimit_module(env)


def refused(env, lines, *needles, location=None):
    return assert_refused_conf(env, ("ratelimit",), lines, *needles,
                               location=location)


BAD_LIMITS = [
    # bad rates
    ("0/minute", "GKRateLimit r0 0/minute", "at least 1"),
    ("fortnight", "GKRateLimit r1 5/fortnight", "fortnight"),
    ("zero window", "GKRateLimit r2 5/0s", "at least 1 second"),
    ("32 days", "GKRateLimit r3 5/32d", "31 days"),
    ("no slash", "GKRateLimit r4 5", "5"),
    ("negative", "GKRateLimit r5 -5/minute", "-5/minute"),
    # bad keys
    ("key=foo", "GKRateLimit k1 5/minute key=foo", "foo"),
    ("global first", "GKRateLimit k2 5/minute key=global|ip", "global"),
    ("header:", "GKRateLimit k3 5/minute key=header:", "header:"),
    ("ip/129", "GKRateLimit k4 5/minute key=ip/129", "1 to 128"),
    ("ip/0", "GKRateLimit k5 5/minute key=ip/0", "1 to 128"),
    ("five keys", "GKRateLimit k6 5/minute key=ip|header:A|header:B|"
     "header:C|global", "key"),
    ("empty key", "GKRateLimit k7 5/minute key=", "key"),
    # the other options
    ("method", "GKRateLimit m1 5/minute methods=POST,FROB", "FROB"),
    ("status=200", "GKRateLimit s1 5/minute status=200", "400 to 599"),
    ("status=600", "GKRateLimit s2 5/minute status=600", "600"),
    ("mode=maybe", "GKRateLimit o1 5/minute mode=maybe", "maybe"),
    ("algorithm", "GKRateLimit o2 5/minute algorithm=sliding", "sliding"),
    ("unknown option", "GKRateLimit o3 5/minute burst=3", "burst=3"),
    ("bad name", "GKRateLimit a/b 5/minute", "a/b"),
    ("long name", "GKRateLimit %s 5/minute" % ("n" * 65), "n" * 65),
    ("off with options", "GKRateLimit x off key=ip", "off"),
    ("twice in a scope", "GKRateLimit d 5/minute\nGKRateLimit d 5/minute",
     "twice"),
]


class TestRefusals:

    @pytest.mark.parametrize("case,line,needle", BAD_LIMITS,
                             ids=[c[0] for c in BAD_LIMITS])
    def test_gk_ratelimit_050_01_bad_limit(self, env, case, line, needle):
        refused(env, line, "GKRateLimit", needle)

    def test_gk_ratelimit_050_02_bad_limit_in_location(self, env):
        refused(env, "GKRateLimit r 5/fortnight", "GKRateLimit",
                "fortnight", location="/x/")

    def test_gk_ratelimit_051_01_same_name_other_rate(self, env):
        conf = GkConf(env, gk_modules=("ratelimit",))
        conf.add("GKRateLimit api 5/minute")            # test.conf:1
        conf.add_location("/x/", "GKRateLimit api 10/minute")
        conf.install()
        res = env.apache_fail()
        res.assert_refused("GKRateLimit", "api",
                           "%s:1" % env.test_conf)

    def test_gk_ratelimit_051_02_same_name_other_key(self, env):
        conf = GkConf(env, gk_modules=("ratelimit",))
        conf.add_location("/a/", "GKRateLimit api 5/minute key=ip")
        conf.add_location("/b/", "GKRateLimit api 5/minute key=header:X-K")
        conf.install()
        res = env.apache_fail()
        res.assert_refused("GKRateLimit", "api", "%s:2" % env.test_conf)

    def test_gk_ratelimit_051_03_same_name_other_window(self, env):
        conf = GkConf(env, gk_modules=("ratelimit",))
        conf.add("<VirtualHost 127.0.0.1:%d>" % env.port)
        conf.add("    ServerName v.example")
        conf.add("    GKRateLimit api 60/minute")     # test.conf:3
        conf.add("    <Location /x/>")
        conf.add("        GKRateLimit api 60/2m")
        conf.add("    </Location>")
        conf.add("</VirtualHost>")
        conf.install()
        res = env.apache_fail()
        res.assert_refused("GKRateLimit", "%s:3" % env.test_conf)

    def test_gk_ratelimit_052_01_store_in_vhost(self, env):
        refused(env, """
            <VirtualHost 127.0.0.1:%d>
                ServerName v.example
                GKRateLimitStore shm
            </VirtualHost>
        """ % env.port, "GKRateLimitStore", "VirtualHost")

    @pytest.mark.parametrize("args", ["shm size=10", "shm size=0",
                                      "shm size=10000001", "memcached",
                                      "shm size=abc", "shm max=100"])
    def test_gk_ratelimit_052_02_bad_store(self, env, args):
        refused(env, "GKRateLimitStore %s" % args, "GKRateLimitStore")

    def test_gk_ratelimit_053_01_secret_env_unset(self, env):
        os.environ.pop("GK_RL_UNSET_VAR", None)
        env.extra_env.pop("GK_RL_UNSET_VAR", None)
        refused(env, "GKRateLimitKeySecret env:GK_RL_UNSET_VAR",
                "GKRateLimitKeySecret", "GK_RL_UNSET_VAR")

    def test_gk_ratelimit_053_02_secret_file_short(self, env):
        p = env.write_file(env.data_dir / "rl_short_secret", "abcde\n")
        refused(env, 'GKRateLimitKeySecret "file:%s"' % p,
                "GKRateLimitKeySecret", "5 bytes")

    def test_gk_ratelimit_053_03_secret_file_missing(self, env):
        refused(env, "GKRateLimitKeySecret file:%s/nope" % env.data_dir,
                "GKRateLimitKeySecret", "nope")

    def test_gk_ratelimit_053_04_secret_env_short(self, env):
        env.extra_env["GK_RL_SHORT"] = "x" * 15
        try:
            refused(env, "GKRateLimitKeySecret env:GK_RL_SHORT",
                    "GKRateLimitKeySecret", "15 bytes")
        finally:
            env.extra_env.pop("GK_RL_SHORT", None)

    def test_gk_ratelimit_053_05_secret_in_vhost(self, env):
        p = env.write_file(env.data_dir / "rl_secret", "s" * 32)
        refused(env, """
            <VirtualHost 127.0.0.1:%d>
                ServerName v.example
                GKRateLimitKeySecret file:%s
            </VirtualHost>
        """ % (env.port, p), "GKRateLimitKeySecret")

    @pytest.mark.parametrize("line", [
        "GKRateLimitOnStoreError maybe", "GKRateLimitHeaders sometimes"])
    def test_gk_ratelimit_054_01_other_directives(self, env, line):
        refused(env, line, line.split()[0])

    def test_gk_ratelimit_054_02_on_store_error_in_location(self, env):
        refused(env, "GKRateLimitOnStoreError deny",
                "GKRateLimitOnStoreError", location="/x/")

    def test_gk_ratelimit_055_01_htaccess_without_override(self, env):
        d = env.data_dir / "rl_noov"
        env.write_file(d / "f.txt", "f\n")
        env.write_file(d / ".htaccess", "GKRateLimit t 1/hour\n")
        conf = GkConf(env, gk_modules=("ratelimit",))
        conf.add('Alias /noov/ "%s/"' % d)
        conf.add_directory(d, """
            AllowOverride AuthConfig
            Require all granted
        """)
        conf.install()
        env.apache_restart()
        env.error_log.ignore(tags=["AH00526"], regex=r"GKRateLimit not "
                             r"allowed here|Invalid command|not allowed")
        r = env.get("/noov/f.txt")
        assert r.status_code == 500


class TestAccepted:
    """Lines around the refusals that start."""

    def test_gk_ratelimit_056_01_accepted(self, env):
        p = env.write_file(env.data_dir / "rl_secret_ok", "s" * 16 + "\n")
        conf = GkConf(env, gk_modules=("ratelimit",))
        conf.add("GKRateLimitStore shm size=64")
        conf.add("GKRateLimitKeySecret file:%s" % p)
        conf.add("GKRateLimitOnStoreError deny")
        conf.add("GKRateLimitHeaders On")
        conf.add("Mutex default gk-ratelimit-shm")
        conf.add_location("/a/", """
            GKRateLimit all 1/1s key=ip/56|header:X-A|env:X_B|global
            GKRateLimit b 10000000/31d key=user|ip methods=GET,POST,PUT status=503 mode=report algorithm=fixed
            GKRateLimit c 100/10s
            GKRateLimit d 1000/5m
            GKRateLimit e 10000/day
            GKRateLimit f 5/sec
        """)
        conf.add_location("/a/b/", "GKRateLimit c off")
        conf.add("""
            <VirtualHost 127.0.0.1:%d>
                ServerName other.example
                GKRateLimit c 1/hour
                GKRateLimitOnStoreError allow
            </VirtualHost>
        """ % env.port)
        conf.install()
        rc, out = env.apache_test_config()
        assert rc == 0, out
        env.apache_restart()
        r = env.get("/a/x")
        assert r.status_code == 200
        assert "RateLimit" in r.headers

    def test_gk_ratelimit_056_02_secret_env(self, env):
        env.extra_env["GK_RL_SECRET"] = "0123456789abcdef-secret"
        try:
            conf = GkConf(env, gk_modules=("ratelimit",))
            conf.add("GKRateLimitKeySecret env:GK_RL_SECRET")
            conf.add_location("/s/", "GKRateLimit s 2/hour key=header:X-R")
            conf.install()
            env.apache_restart()
            h = {"X-R": "v"}
            assert [env.get("/s/", headers=h).status_code
                    for _ in range(3)] == [200, 200, 429]
        finally:
            env.extra_env.pop("GK_RL_SECRET", None)
