"""mod_gk_auth: what the backend sees.

REMOTE_USER, GK_USER, GK_ROLES, GK_PERMISSIONS, GK_CLAIMS for CGI (the
echo script), and GKAuthClaimHeader headers for proxied backends (the echo
script on the backend virtual host, through mod_proxy_http); client-sent
copies of configured headers are removed on every request; claim values
with CR/LF never make a header.
"""

import json

import pytest

from gkhttpd import GkConf
from gkhttpd import tokens as T
from gkhttpd.check import assert_status, echo


class TestBackend:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        b = "http://127.0.0.1:%d/_backend/" % env.backend_port
        conf = GkConf(env)
        conf.add("GKAuthKey RS256 %s" % keys["rsa2048"].pub_path)
        conf.add("GKAuthRolePermissions viewer docs:read")
        conf.add_location("/id", """
            AuthType gk-bearer
            GKAuthRolePermissions editor docs:write docs:read
            GKAuthClaimHeader sub X-User
            Require valid-user
        """)
        conf.add_location("/id-email", """
            AuthType gk-bearer
            GKAuthUserClaim email
            GKAuthRolesClaim realm_access.roles
            GKAuthPermissionsClaim authz.perms
            Require valid-user
        """)
        conf.add_location("/px/", """
            ProxyPass %s
            AuthType gk-bearer
            GKAuthClaimHeader sub X-User
            GKAuthClaimHeader email X-Email
            GKAuthClaimHeader tenant.id X-Tenant
            Require valid-user
        """ % b)
        conf.add_location("/px/sub/", """
            GKAuthClaimHeader name X-Name
        """)
        conf.add_location("/open/", """
            ProxyPass %s
            GKAuthClaimHeader sub X-User
            GKAuthClaimHeader email X-Email
            Require all granted
        """ % b)
        conf.add_location("/any/", """
            ProxyPass %s
            AuthType gk-bearer
            GKAuthClaimHeader sub X-User
            <RequireAny>
                Require ip 127.0.0.1
                Require valid-user
            </RequireAny>
        """ % b)
        conf.install()
        env.apache_restart()

    def tok(self, keys, **kw):
        return T.mint(keys["rsa2048"], "RS256", **kw)

    # ---- CGI environment ------------------------------------------------
    def test_gk_auth_600_01_env(self, env, keys):
        payload = T.claims(sub="alice", roles=["editor", "user"],
                           permissions=["billing:read"],
                           scope="openid profile:read",
                           email="alice@example.org", n=1,
                           nested={"a": [1, 2, {"b": None}]})
        tok = T.mint(keys["rsa2048"], "RS256", payload=payload)
        e = echo(env.get("/id/echo", token=tok))["env"]
        assert e["REMOTE_USER"] == "alice"
        assert e["GK_USER"] == "alice"
        assert e["GK_ROLES"].split(" ") == ["editor", "user"]
        assert set(e["GK_PERMISSIONS"].split(" ")) == {
            "billing:read", "openid", "profile:read", "docs:write",
            "docs:read"}
        assert json.loads(e["GK_CLAIMS"]) == payload

    def test_gk_auth_600_02_roles_string(self, env, keys):
        e = echo(env.get("/id/echo", token=self.tok(
            keys, roles="viewer  admin")))["env"]
        assert e["GK_ROLES"].split() == ["viewer", "admin"]
        assert "docs:read" in e["GK_PERMISSIONS"].split()

    def test_gk_auth_600_03_no_permissions(self, env, keys):
        e = echo(env.get("/id/echo", token=self.tok(keys)))["env"]
        assert e.get("GK_ROLES", "") == ""
        assert e.get("GK_PERMISSIONS", "") == ""
        assert e["GK_USER"] == "alice"

    def test_gk_auth_600_04_claim_paths(self, env, keys):
        tok = self.tok(keys, sub="u-1", email="bob@example.org",
                       realm_access={"roles": ["admin"]},
                       authz={"perms": ["x:y"]}, roles=["ignored"],
                       permissions=["ignored:too"])
        e = echo(env.get("/id-email/echo", token=tok))["env"]
        assert e["REMOTE_USER"] == "bob@example.org"
        assert e["GK_USER"] == "bob@example.org"
        assert e["GK_ROLES"] == "admin"
        assert e["GK_PERMISSIONS"] == "x:y"

    def test_gk_auth_600_05_unicode(self, env, keys):
        payload = T.claims(sub="j\u00fcrgen", name="\u5f20\u4f1f \U0001f600")
        tok = T.mint(keys["rsa2048"], "RS256", payload=payload)
        e = echo(env.get("/id/echo", token=tok))["env"]
        assert e["REMOTE_USER"] == "j\u00fcrgen"
        assert json.loads(e["GK_CLAIMS"]) == payload

    def test_gk_auth_600_06_no_gk_env_when_open(self, env):
        e = echo(env.get("/open-cgi/echo"))["env"]
        assert not [k for k in e if k.startswith("GK_")]
        assert "REMOTE_USER" not in e

    def test_gk_auth_600_07_claim_header_to_cgi(self, env, keys):
        h = echo(env.get("/id/echo", token=self.tok(keys),
                         headers={"X-User": "mallory"}))["headers"]
        assert h["x-user"] == "alice"

    # ---- headers for proxied backends -----------------------------------
    def test_gk_auth_601_01_claim_headers(self, env, keys):
        tok = self.tok(keys, email="alice@example.org", tenant={"id": "t1"})
        j = echo(env.get("/px/echo", token=tok))
        assert j["env"]["SERVER_PORT"] == str(env.backend_port)
        h = j["headers"]
        assert h["x-user"] == "alice"
        assert h["x-email"] == "alice@example.org"
        assert h["x-tenant"] == "t1"

    def test_gk_auth_601_02_client_copies_replaced(self, env, keys):
        r = env.raw_get("/px/echo", [
            "Authorization: Bearer " + self.tok(keys),
            "X-User: mallory", "x-user: mallory2", "X-USER: mallory3",
            "X-Email: forged@example.org", "X-Tenant: t666"])
        h = echo(r)["headers"]
        assert h["x-user"] == "alice"
        assert "x-email" not in h
        assert "x-tenant" not in h

    def test_gk_auth_601_03_absent_claim_no_header(self, env, keys):
        h = echo(env.get("/px/echo", token=self.tok(keys),
                         headers={"X-Email": "forged"}))["headers"]
        assert "x-email" not in h
        assert h["x-user"] == "alice"

    def test_gk_auth_601_04_stripped_when_unauthenticated(self, env):
        h = echo(env.get("/open/echo", headers={
            "X-User": "admin", "X-Email": "admin@example.org",
            "X-Other": "kept"}))["headers"]
        assert "x-user" not in h
        assert "x-email" not in h
        assert h["x-other"] == "kept"

    def test_gk_auth_601_05_stripped_when_ip_grants(self, env):
        """RequireAny: Require ip grants, no authentication happens; the
        forged header must still go."""
        h = echo(env.get("/any/echo", headers={"X-User": "admin"}))["headers"]
        assert "x-user" not in h

    def test_gk_auth_601_06_nested_location_adds(self, env, keys):
        tok = self.tok(keys, name="Alice A.")
        h = echo(env.get("/px/sub/echo", token=tok,
                         headers={"X-Name": "forged"}))["headers"]
        assert h["x-name"] == "Alice A."
        assert h["x-user"] == "alice"

    @pytest.mark.parametrize("value", [
        "a@b\r\nX-Injected: 1", "a@b\nX-Injected: 1", "a@b\rX-Injected: 1",
        "\r\n", "a@b\r\n\r\nGET / HTTP/1.1",
    ], ids=["crlf", "lf", "cr", "only-crlf", "smuggle"])
    def test_gk_auth_601_07_crlf_in_claim(self, env, keys, value):
        tok = self.tok(keys, email=value)
        r = env.get("/px/echo", token=tok, headers={"X-Email": "forged"})
        h = echo(r)["headers"]
        assert "x-email" not in h
        assert "x-injected" not in h
        assert h["x-user"] == "alice"

    def test_gk_auth_601_08_crlf_in_user(self, env, keys):
        """A CR/LF in the user claim never reaches a header either."""
        r = env.get("/px/echo", token=self.tok(keys, sub="bob\r\nX-Inj: 1"))
        if r.status_code == 200:
            h = echo(r)["headers"]
            assert "x-user" not in h
            assert "x-inj" not in h
        else:
            assert r.status_code == 401

    def test_gk_auth_601_09_backend_sees_no_forgery_on_401(self, env):
        r = env.get("/px/echo", headers={"X-User": "admin"})
        assert_status(r, 401)


class TestInternalRedirect:
    """The identity follows an internal redirect: mod_rewrite in a
    directory scope redirects, after authorization, to a URL that has no
    authentication of its own; the backend there still sees GK_*."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        conf = GkConf(env, extra_modules=["rewrite"])
        conf.add("GKAuthKey RS256 %s" % keys["rsa2048"].pub_path)
        conf.add_location("/rd", """
            AuthType gk-bearer
            Require gk-role editor
            RewriteEngine On
            RewriteRule ^ /plain/echo [L]
        """)
        conf.install()
        env.apache_restart()

    def test_gk_auth_602_01_env_kept(self, env, keys):
        payload = T.claims(sub="alice", roles=["editor"])
        tok = T.mint(keys["rsa2048"], "RS256", payload=payload)
        e = echo(env.get("/rd/x", token=tok))["env"]
        assert e["GK_USER"] == "alice"
        assert e["GK_ROLES"] == "editor"
        assert json.loads(e["GK_CLAIMS"]) == payload

    def test_gk_auth_602_02_still_authenticated_first(self, env, keys):
        env.error_log.ignore(tags=["AH01631"])  # bob's denial, logged by httpd
        assert_status(env.get("/rd/x"), 401)
        tok = T.mint(keys["rsa2048"], "RS256",
                     payload=T.claims(sub="bob", roles=["viewer"]))
        assert_status(env.get("/rd/x", token=tok), 401)


class TestMultiViews:
    """mod_negotiation's lookup subrequests run fixups, which derive the
    roles into the main request's state; the variants not chosen are
    destroyed. Whatever a subrequest adds to the main request's state must
    come from the main request's pool (MaxMemFree 1 hands freed memory back
    at once: under `make check-asan` a read of it is reported)."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        mv = env.htdocs / "mv"
        mv.mkdir(exist_ok=True)
        for lang in ("en", "de", "fr"):
            (mv / ("doc.html.%s" % lang)).write_text("<p>%s</p>\n" % lang)
        conf = GkConf(env, extra_modules=["negotiation"])
        conf.add("GKAuthKey RS256 %s" % keys["rsa2048"].pub_path)
        conf.add("MaxMemFree 1")
        conf.add("AddLanguage en .en\nAddLanguage de .de\nAddLanguage fr .fr")
        conf.add('Alias /mv/ "%s/"' % mv)
        conf.add_directory(str(mv), """
            Options MultiViews
            AuthType gk-bearer
            GKAuthRolePermissions editor docs:write
            Require valid-user
            Header always set X-Roles "expr=%{reqenv:GK_ROLES}"
            Header always set X-Perms "expr=%{reqenv:GK_PERMISSIONS}"
            Header always set X-User "expr=%{reqenv:GK_USER}"
        """)
        conf.install()
        env.apache_restart()

    @pytest.mark.parametrize("lang", ["de", "fr", "en"])
    def test_gk_auth_603_01_variants(self, env, keys, lang):
        for i in range(20):
            tok = T.mint(keys["rsa2048"], "RS256",
                         payload=T.claims(sub="u%d" % i,
                                          roles=["editor", "r%d" % i]))
            r = env.get("/mv/doc", token=tok,
                        headers={"Accept-Language": lang})
            assert_status(r, 200)
            assert r.text == "<p>%s</p>\n" % lang
            assert r.headers["X-Roles"] == "editor r%d" % i
            assert r.headers["X-Perms"] == "docs:write"
            assert r.headers["X-User"] == "u%d" % i

    def test_gk_auth_603_02_repeated_token(self, env, keys):
        """The same token again: the cached record's memo is used."""
        tok = T.mint(keys["rsa2048"], "RS256",
                     payload=T.claims(sub="carol", roles=["editor"]))
        for _ in range(10):
            r = env.get("/mv/doc", token=tok, headers={"Accept-Language": "de"})
            assert_status(r, 200)
            assert r.headers["X-Roles"] == "editor"
