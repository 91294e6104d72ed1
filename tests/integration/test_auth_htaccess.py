"""mod_gk_auth in .htaccess files (AllowOverride AuthConfig).

AuthType gk-bearer, Require gk-* and GKAuthAllowPreflight work there;
every other GKAuth* directive is refused with a 500 (httpd logs an
untagged [core:alert] line naming the .htaccess file).
.htaccess files are read per request, so one server serves all cases.
"""

import pytest

from gkhttpd import GkConf
from gkhttpd import tokens as T
from gkhttpd.check import (assert_challenge, assert_problem, assert_status)

HTACCESS = {
    "role": "AuthType gk-bearer\nRequire gk-role admin\n",
    "role403": "AuthType gk-bearer\nAuthzSendForbiddenOnFailure On\n"
               "Require gk-role admin\n",
    "perm": "AuthType gk-bearer\nRequire gk-permission docs:read\n",
    "claim": "AuthType gk-bearer\nRequire gk-claim department eng\n",
    "any": "AuthType gk-bearer\n<RequireAny>\nRequire ip 192.0.2.1\n"
           "Require gk-role admin\n</RequireAny>\n",
    "preflight": "AuthType gk-bearer\nGKAuthAllowPreflight On\n"
                 "Require gk-role admin\n",
    "dirkey": "AuthType gk-bearer\nRequire valid-user\n",
    "none": "AuthType gk-bearer\nRequire gk-role admin\n",
    # refused in .htaccess: a 500
    "key": "AuthType gk-bearer\nGKAuthKey RS256 %(pub)s\nRequire valid-user\n",
    "keyset": "GKAuthKeySet %(pub)s\n",
    "leeway": "GKAuthLeeway 0\n",
    "issuer": "GKAuthIssuer x\n",
    "audience": "GKAuthAudience x\n",
    "cookie": "GKAuthTokenCookie c\n",
    "userclaim": "GKAuthUserClaim email\n",
    "claimheader": "GKAuthClaimHeader sub X-User\n",
    "rolemap": "GKAuthRolePermissions a b\n",
    "errordetail": "GKAuthErrorDetail terse\n",
    "tokentype": "GKAuthTokenType at+jwt\n",
    "requireexp": "GKAuthRequireExp Off\n",
    "cachesize": "GKAuthCacheSize 1\n",
    "badrequire": "AuthType gk-bearer\nRequire gk-role\n",
    "badperm": "AuthType gk-bearer\nRequire gk-permission a::b\n",
}
# the .htaccess and what the alert line must name
REFUSED = {"key": "GKAuthKey", "keyset": "GKAuthKeySet",
           "leeway": "GKAuthLeeway", "issuer": "GKAuthIssuer",
           "audience": "GKAuthAudience", "cookie": "GKAuthTokenCookie",
           "userclaim": "GKAuthUserClaim", "claimheader": "GKAuthClaimHeader",
           "rolemap": "GKAuthRolePermissions",
           "errordetail": "GKAuthErrorDetail", "tokentype": "GKAuthTokenType",
           "requireexp": "GKAuthRequireExp", "cachesize": "GKAuthCacheSize",
           "badrequire": "gk-role", "badperm": "gk-permission"}


class TestHtaccess:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        top = env.data_dir / "ht"
        for name, text in HTACCESS.items():
            env.write_file(top / name / ".htaccess",
                           text % {"pub": keys["rsa2048"].pub_path})
            env.write_file(top / name / "ok.txt", "ok\n")
        conf = GkConf(env)
        conf.add("GKAuthKey RS256 %s" % keys["rsa2048"].pub_path)
        conf.add('Alias /ht/ "%s/"' % top)
        conf.add_directory(top, """
            AllowOverride AuthConfig
            Require all granted
        """)
        conf.add_directory(top / "none", """
            AllowOverride None
        """)
        conf.add_directory(top / "dirkey", """
            GKAuthKey ES256 %s
        """ % keys["p256"].pub_path)
        conf.install()
        env.make_readable()
        env.apache_restart()
        env.error_log.allow(tags=["AH01630", "AH01631"])

    def tok(self, keys, **kw):
        return T.mint(keys["rsa2048"], "RS256", **kw)

    @pytest.mark.parametrize("d,claims,status", [
        ("role", {"roles": ["admin"]}, 200),
        ("role", {"roles": ["user"]}, 401),
        ("role403", {"roles": ["user"]}, 403),
        ("perm", {"permissions": ["docs:*"]}, 200),
        ("perm", {"permissions": ["doc:read"]}, 401),
        ("claim", {"department": "eng"}, 200),
        ("claim", {"department": ["ops", "eng"]}, 200),
        ("claim", {"department": "ops"}, 401),
        ("any", {"roles": ["admin"]}, 200),
        ("any", {"roles": ["x"]}, 401),
    ], ids=repr)
    def test_gk_auth_700_01_require(self, env, keys, d, claims, status):
        r = env.get("/ht/%s/ok.txt" % d, token=self.tok(keys, **claims))
        assert_status(r, status)
        if status != 200:
            assert_challenge(r, error="insufficient_scope")
            assert_problem(r, status)

    @pytest.mark.parametrize("d", ["role", "perm", "claim", "any"])
    def test_gk_auth_700_02_no_token(self, env, d):
        r = env.get("/ht/%s/ok.txt" % d)
        assert_status(r, 401)
        assert_challenge(r, error=None)

    def test_gk_auth_700_03_preflight(self, env):
        r = env.request("/ht/preflight/ok.txt", "OPTIONS", headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "PUT"})
        assert_status(r, 200)
        assert_status(env.get("/ht/preflight/ok.txt"), 401)

    def test_gk_auth_700_04_directory_keys(self, env, keys):
        """GKAuthKey in <Directory> replaces the server's keys there."""
        assert_status(env.get("/ht/dirkey/ok.txt", token=T.mint(
            keys["p256"], "ES256")), 200)
        assert_status(env.get("/ht/dirkey/ok.txt", token=self.tok(keys)),
                      401)

    def test_gk_auth_700_05_allowoverride_none(self, env):
        assert_status(env.get("/ht/none/ok.txt"), 200)

    @pytest.mark.parametrize("d", sorted(REFUSED))
    def test_gk_auth_700_06_refused_in_htaccess(self, env, keys, d):
        r = env.get("/ht/%s/ok.txt" % d, token=self.tok(keys))
        assert_status(r, 500)
        rx = r"/ht/%s/\.htaccess: " % d
        lines = env.error_log.find(regex=rx, level="alert")
        assert lines, "no alert for %s/.htaccess" % d
        assert REFUSED[d] in lines[-1].text, lines[-1].text
        env.error_log.ignore(regex=rx)
