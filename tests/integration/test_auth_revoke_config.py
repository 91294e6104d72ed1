"""mod_gk_auth revocation configuration: every bad value refused by
`apache2 -t` and by a start, naming the directive; GKTokenLifetime longer
than GKAuthMaxTokenLifetime refused (GK10060); the store-wide directives
refused in a <VirtualHost>; and GKAuthRevocation Off at server level makes
no store (no journal), while one location saying On makes it."""

import jwt
import pytest

from gkhttpd import GkConf
from gkhttpd import tokens as T

AUTH = """
    AuthType gk-bearer
    Require valid-user
"""


def vhost(env, body):
    return """
<VirtualHost 127.0.0.1:%d>
    ServerName rvcfg
    %s
</VirtualHost>
""" % (env.backend_port, body)


def bad_configs(env, keys):
    short = env.write_file(env.data_dir / "rv_short_secret", "0123456789")
    key = "GKAuthKey HS256 file:%s\n" % keys["hs256"].secret_path
    loc = "<Location /api>\n%s</Location>\n" % AUTH
    cases = [
        ("store-word", 'GKAuthRevocationStore redis', "GKAuthRevocationStore"),
        ("store-none", 'GKAuthRevocationStore', "GKAuthRevocationStore"),
        ("store-size-small", "GKAuthRevocationStore shm size=10",
         "GKAuthRevocationStore"),
        ("store-size-word", "GKAuthRevocationStore shm size=lots",
         "GKAuthRevocationStore"),
        ("store-shm-opt", "GKAuthRevocationStore shm slots=100",
         "GKAuthRevocationStore"),
        ("store-mc-bad", 'GKAuthRevocationStore memcached "--SERVER="',
         "GKAuthRevocationStore"),
        ("store-mc-noconf", "GKAuthRevocationStore memcached",
         "GKAuthRevocationStore"),
        ("store-vhost", vhost(env, "GKAuthRevocationStore shm"),
         "GKAuthRevocationStore"),
        ("timeout-zero", "GKAuthRevocationStoreTimeout 0",
         "GKAuthRevocationStoreTimeout"),
        ("timeout-word", "GKAuthRevocationStoreTimeout fast",
         "GKAuthRevocationStoreTimeout"),
        ("timeout-vhost", vhost(env, "GKAuthRevocationStoreTimeout 10"),
         "GKAuthRevocationStoreTimeout"),
        ("onerror-word", "GKAuthRevocationOnStoreError maybe",
         "GKAuthRevocationOnStoreError"),
        ("onerror-dir", "<Location /x>\nGKAuthRevocationOnStoreError allow\n"
         "</Location>", "GKAuthRevocationOnStoreError"),
        ("revocation-word", "GKAuthRevocation maybe", "GKAuthRevocation"),
        ("journal-empty", 'GKAuthRevocationJournal ""',
         "GKAuthRevocationJournal"),
        ("journal-vhost", vhost(env, "GKAuthRevocationJournal /tmp/j"),
         "GKAuthRevocationJournal"),
        ("secret-missing",
         "GKAuthRevocationKeySecret file:/nonexistent/secret",
         "GKAuthRevocationKeySecret"),
        ("secret-short", "GKAuthRevocationKeySecret file:%s" % short,
         "GKAuthRevocationKeySecret"),
        ("secret-bare-path", "GKAuthRevocationKeySecret %s" % short,
         "GKAuthRevocationKeySecret"),
        ("secret-unset-env", "GKAuthRevocationKeySecret env:GK_RV_UNSET_VAR",
         "GKAuthRevocationKeySecret"),
        ("secret-vhost",
         vhost(env, "GKAuthRevocationKeySecret file:%s" % short),
         "GKAuthRevocationKeySecret"),
        ("max-zero", "GKAuthMaxTokenLifetime 0", "GKAuthMaxTokenLifetime"),
        ("max-word", "GKAuthMaxTokenLifetime forever",
         "GKAuthMaxTokenLifetime"),
        ("max-too-long", "GKAuthMaxTokenLifetime 400d",
         "GKAuthMaxTokenLifetime"),
        ("max-dir", "<Location /x>\nGKAuthMaxTokenLifetime 1h\n</Location>",
         "GKAuthMaxTokenLifetime"),
        ("admin-role-space", '<Location /x>\nGKRevokeAdminRole "a b"\n'
         "</Location>", "GKRevokeAdminRole"),
        ("admin-role-none", "<Location /x>\nGKRevokeAdminRole\n</Location>",
         "GKRevokeAdminRole"),
        # GK10060: a token lifetime longer than the lifetime kept
        ("lifetime-over-max", "GKAuthMaxTokenLifetime 1h\n"
         "<Location /t>\nGKTokenLifetime 2h\n</Location>", "GKTokenLifetime"),
        ("lifetime-over-max-names-max", "GKAuthMaxTokenLifetime 30m\n"
         "GKTokenLifetime 3600", "GKAuthMaxTokenLifetime"),
        ("lifetime-over-vhost-max", vhost(
            env, "GKAuthMaxTokenLifetime 10m\n<Location /t>\n"
            "GKTokenLifetime 1h\n</Location>"), "GKTokenLifetime"),
    ]
    return [(n, key + t + "\n" + loc, d) for n, t, d in cases]


class TestRevokeBadConfig:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        env.apache_stop()
        self.__class__.cases = bad_configs(env, keys)
        env.make_readable()

    def test_gk_auth_rvc_01_refused(self, env, keys):
        """Every bad config, refused by -t and at start, naming the
        directive (one test; one list of what went wrong)."""
        failures = []
        for name, text, directive in self.cases:
            GkConf(env).add(text).install()
            why = env.apache_fail().problems(directive)
            if why:
                failures.append("%-28s %s" % (name, "; ".join(why)))
        assert not failures, "bad configs not refused properly:\n" + \
            "\n".join(failures)

    def test_gk_auth_rvc_02_lifetime_tag(self, env, keys):
        """GK10060 says where both values were read."""
        text = [t for n, t, _ in bad_configs(env, keys)
                if n == "lifetime-over-max"][0]
        GkConf(env).add(text).install()
        res = env.apache_fail()
        res.assert_refused("GK10060", "GKTokenLifetime", "test.conf:")

    def test_gk_auth_rvc_03_journal_unwritable(self, env, keys):
        """A journal that cannot be made stops the start (post_config; -t
        does not open files), naming the directive."""
        conf = GkConf(env)
        conf.add("GKAuthKey HS256 file:%s" % keys["hs256"].secret_path)
        conf.add("GKAuthRevocationJournal /nonexistent/dir/journal")
        conf.add_location("/api", AUTH)
        conf.install()
        res = env.apache_fail()
        assert res.refused_at_start, res
        assert "GKAuthRevocationJournal" in res.output, res
        assert "GK10062" in res.output, res


class TestRevokeOffMakesNoStore:

    def _start(self, env, keys, journal, extra, loc=""):
        if journal.exists():
            journal.unlink()
        conf = GkConf(env)
        conf.add("GKAuthKey HS256 file:%s" % keys["hs256"].secret_path)
        conf.add("GKAuthRevocationJournal %s" % journal)
        conf.add(extra)
        conf.add_location("/api", AUTH + loc)
        conf.install()
        env.apache_restart()

    def test_gk_auth_rvc_10_off_everywhere(self, env, keys):
        journal = env.gen_dir / "rvc-off.journal"
        self._start(env, keys, journal, "GKAuthRevocation Off")
        tok = T.mint(keys["hs256"], "HS256")
        assert env.get("/api/x", token=tok).status_code == 200
        assert not journal.exists()
        assert not env.error_log.find(tag="GK10070")

    def test_gk_auth_rvc_11_on_in_a_location(self, env, keys):
        journal = env.gen_dir / "rvc-on.journal"
        self._start(env, keys, journal, "GKAuthRevocation Off",
                    "GKAuthRevocation On\n")
        assert journal.exists()

    def test_gk_auth_rvc_12_default_on(self, env, keys):
        journal = env.gen_dir / "rvc-default.journal"
        self._start(env, keys, journal, "")
        assert journal.exists()
        assert env.error_log.find(tag="GK10070")


class TestMaxLifetimeCapsDefault:

    def test_gk_auth_rvc_20_default_token_lifetime_capped(self, env, keys):
        """GKAuthMaxTokenLifetime under the default GKTokenLifetime (15
        minutes): gk-token issues tokens of GKAuthMaxTokenLifetime."""
        from test_auth_token import PW, htpasswd, issued, login, post
        d = env.data_dir / "rvc-cap"
        d.mkdir(parents=True, exist_ok=True)
        users = htpasswd(d / "users.htpasswd", {"alice": PW["alice"]})
        conf = GkConf(env, extra_modules=["authn_file"])
        conf.add("GKAuthMaxTokenLifetime 5m")
        conf.add("GKTokenKey ES256 %s" % keys["p256"].priv_path)
        conf.add_location("/token", """
            SetHandler gk-token
            AuthUserFile %s
        """ % users)
        conf.install()
        env.make_readable()
        env.apache_restart()
        tok = issued(post(env, "/token", login("alice")))
        assert tok["expires_in"] == 300
        claims = jwt.decode(tok["access_token"],
                            options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == 300
