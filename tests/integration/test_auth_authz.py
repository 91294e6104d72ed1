"""mod_gk_auth: the Require providers gk-role, gk-permission, gk-claim,
with httpd's RequireAny/RequireAll, Require ip, Require all denied,
AuthzSendForbiddenOnFailure, ErrorDocument, GKAuthErrorDetail and
GKAuthAllowPreflight.

`Require ip 192.0.2.1` is only an ACL that never matches (TEST-NET-1);
no traffic goes anywhere but 127.0.0.1.
"""

import pytest

from gkhttpd import GkConf
from gkhttpd import tokens as T
from gkhttpd.check import (assert_challenge, assert_problem, assert_status,
                           echo)

AUTH = "AuthType gk-bearer\n"
FORBID = "AuthzSendForbiddenOnFailure On\n"

LOCATIONS = {
    # roles
    "/role/admin": AUTH + FORBID + "Require gk-role admin superadmin",
    "/role/admin401": AUTH + "Require gk-role admin superadmin",
    "/role/realm": AUTH + FORBID + "GKAuthRolesClaim realm_access.roles\n"
                                   "Require gk-role admin",
    # permissions
    "/perm/del": AUTH + FORBID + "Require gk-permission admin:users:delete",
    "/perm/admin": AUTH + FORBID + "Require gk-permission admin",
    "/perm/administrator": AUTH + FORBID
    + "Require gk-permission administrator:x",
    "/perm/read": AUTH + FORBID + "Require gk-permission docs:read",
    "/perm/any": AUTH + FORBID + "Require gk-permission a:b c:d",
    "/perm/claim": AUTH + FORBID + "GKAuthPermissionsClaim authz.perms\n"
                                   "Require gk-permission docs:write",
    "/perm/rolemap": AUTH + FORBID
    + "GKAuthRolePermissions editor docs:write docs:read\n"
      "Require gk-permission docs:write",
    "/perm/rolemap-inherited": AUTH + FORBID
    + "GKAuthRolePermissions editor docs:write\n"
      "Require gk-permission docs:read",
    # claims
    "/claim/dept": AUTH + FORBID
    + "Require gk-claim department engineering research",
    "/claim/realm": AUTH + FORBID
    + "Require gk-claim realm_access.roles admin",
    "/claim/deep": AUTH + FORBID + "Require gk-claim a.b.c x",
    # combinations with other providers
    "/any/ip-grant": AUTH + FORBID + """<RequireAny>
    Require ip 127.0.0.1
    Require gk-role admin
</RequireAny>""",
    "/any/ip-deny": AUTH + FORBID + """<RequireAny>
    Require ip 192.0.2.1
    Require gk-role admin
</RequireAny>""",
    "/all/ip-grant": AUTH + FORBID + """<RequireAll>
    Require ip 127.0.0.1
    Require gk-role admin
</RequireAll>""",
    "/all/ip-deny": AUTH + FORBID + """<RequireAll>
    Require ip 192.0.2.1
    Require gk-role admin
</RequireAll>""",
    "/all/not-ip": AUTH + FORBID + """<RequireAll>
    Require gk-role admin
    Require not ip 127.0.0.1
</RequireAll>""",
    "/any/gk": AUTH + FORBID + """<RequireAny>
    Require gk-role admin
    Require gk-permission docs:read
</RequireAny>""",
    "/all/gk": AUTH + FORBID + """<RequireAll>
    Require gk-role editor
    Require gk-claim department engineering
</RequireAll>""",
    "/lines": AUTH + FORBID + "Require gk-role admin\n"
                              "Require gk-permission docs:read",
    "/denied": AUTH + "Require all denied",
    "/any/denied": AUTH + FORBID + """<RequireAny>
    Require all denied
    Require gk-role admin
</RequireAny>""",
    "/all/valid": AUTH + FORBID + """<RequireAll>
    Require valid-user
    Require gk-role admin
</RequireAll>""",
    # error detail and documents
    "/terse": AUTH + FORBID + "GKAuthErrorDetail terse\n"
                              "Require gk-role admin superadmin",
    "/errdoc": AUTH + FORBID + 'ErrorDocument 403 "custom forbidden"\n'
                               'ErrorDocument 401 "custom unauthorized"\n'
                               "Require gk-role admin",
    "/errdoc-url": AUTH + FORBID + "ErrorDocument 403 /errdocs/403.txt\n"
                                   "ErrorDocument 401 /errdocs/401.txt\n"
                                   "Require gk-role admin",
    "/all/user": AUTH + FORBID + """<RequireAll>
    Require gk-role admin
    Require user bob
</RequireAll>""",
    # CORS preflight
    "/pre/on": AUTH + "GKAuthAllowPreflight On\nRequire gk-role admin",
    "/pre/off": AUTH + "Require gk-role admin",
    "/pre/valid-user": AUTH + "GKAuthAllowPreflight On\nRequire valid-user",
    "/pre/ip-deny": AUTH + "GKAuthAllowPreflight On\n" + """<RequireAll>
    Require gk-role admin
    Require ip 192.0.2.1
</RequireAll>""",
    "/pre/ip-grant": AUTH + "GKAuthAllowPreflight On\n" + """<RequireAll>
    Require gk-role admin
    Require ip 127.0.0.1
</RequireAll>""",
    "/pre/perm": AUTH + "GKAuthAllowPreflight On\n"
                        "Require gk-permission docs:write",
}

PREFLIGHT = {"Origin": "https://app.example",
             "Access-Control-Request-Method": "DELETE"}


class TestAuthz:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        conf = GkConf(env)
        conf.add("GKAuthKey RS256 %s" % keys["rsa2048"].pub_path)
        conf.add("GKAuthRolePermissions viewer docs:read")
        for path, body in LOCATIONS.items():
            conf.add_location(path, body)
        conf.install()
        env.apache_restart()
        # authz_core logs each authorization failure at error level
        env.error_log.allow(tags=["AH01630", "AH01631"])

    def tok(self, keys, **kw):
        return T.mint(keys["rsa2048"], "RS256", **kw)

    def get(self, env, keys, path, **kw):
        return env.get(path, token=self.tok(keys, **kw))

    def assert_insufficient(self, r, status=403):
        assert_status(r, status)
        assert_challenge(r, error="insufficient_scope")
        return assert_problem(r, status)

    # ---- gk-role ------------------------------------------------------
    @pytest.mark.parametrize("roles,status", [
        (["admin"], 200), (["user", "superadmin"], 200), ("admin", 200),
        ("user admin", 200), (["user"], 403), ([], 403), (None, 403),
        (["Admin"], 403), (["admin "], 403), ("administrator", 403),
        (["adm"], 403), ({"admin": True}, 403),
    ], ids=repr)
    def test_gk_auth_300_01_role(self, env, keys, roles, status):
        r = self.get(env, keys, "/role/admin", roles=roles)
        if status == 200:
            assert_status(r, 200)
        else:
            self.assert_insufficient(r)

    def test_gk_auth_300_02_detail_names_roles(self, env, keys):
        body = self.assert_insufficient(
            self.get(env, keys, "/role/admin", roles=["user"]))
        assert "admin" in body["detail"] and "superadmin" in body["detail"]

    def test_gk_auth_300_03_without_forbidden_on_failure(self, env, keys):
        r = self.get(env, keys, "/role/admin401", roles=["user"])
        self.assert_insufficient(r, 401)

    def test_gk_auth_300_04_no_token_is_401(self, env):
        r = env.get("/role/admin")
        assert_status(r, 401)
        assert_challenge(r, error=None)

    def test_gk_auth_300_05_bad_token_is_401(self, env, keys):
        r = env.get("/role/admin", token=T.mint(keys["rsa2048-b"], "RS256",
                                                roles=["admin"]))
        assert_status(r, 401)
        assert_challenge(r, error="invalid_token")

    @pytest.mark.parametrize("claim,status", [
        ({"realm_access": {"roles": ["admin"]}}, 200),
        ({"realm_access": {"roles": "user admin"}}, 200),
        ({"realm_access": {"roles": ["user"]}}, 403),
        ({"roles": ["admin"]}, 403),
        ({"realm_access": ["admin"]}, 403),
    ], ids=repr)
    def test_gk_auth_300_06_roles_claim_path(self, env, keys, claim,
                                             status):
        r = self.get(env, keys, "/role/realm", **claim)
        assert_status(r, status)

    # ---- gk-permission --------------------------------------------------
    @pytest.mark.parametrize("held,status", [
        (["admin:users:delete"], 200),
        (["admin:*"], 200),
        (["admin:users:*"], 200),
        (["admin:*:delete"], 200),
        (["*:users:delete"], 200),
        (["*"], 200),
        (["x", "admin:users:delete"], 200),
        (["admin:users"], 403),
        (["admin"], 403),
        (["admin:users:delete:x"], 403),
        (["admin:user*"], 403),
        (["admin:*:read"], 403),
        (["Admin:users:delete"], 403),
        (["administrator:*"], 403),
        ([], 403),
        (None, 403),
    ], ids=repr)
    def test_gk_auth_301_01_permission(self, env, keys, held, status):
        r = self.get(env, keys, "/perm/del", permissions=held)
        if status == 200:
            assert_status(r, 200)
        else:
            self.assert_insufficient(r)

    @pytest.mark.parametrize("path,held,status", [
        ("/perm/admin", ["admin:*"], 403),
        ("/perm/admin", ["admin"], 200),
        ("/perm/administrator", ["admin:*"], 403),
        ("/perm/administrator", ["administrator:*"], 200),
        ("/perm/any", ["c:d"], 200),
        ("/perm/any", ["a:*"], 200),
        ("/perm/any", ["b:a"], 403),
    ])
    def test_gk_auth_301_02_wildcard_bounds(self, env, keys, path, held,
                                            status):
        assert_status(self.get(env, keys, path, permissions=held), status)

    @pytest.mark.parametrize("scope,status", [
        ("docs:read", 200), ("openid docs:read profile", 200),
        ("docs:*", 200), ("openid", 403), ("docs:readx", 403),
        ("docs", 403),
    ])
    def test_gk_auth_301_03_scope(self, env, keys, scope, status):
        assert_status(self.get(env, keys, "/perm/read", scope=scope), status)

    def test_gk_auth_301_04_permissions_claim_path(self, env, keys):
        assert_status(self.get(env, keys, "/perm/claim",
                               authz={"perms": ["docs:write"]}), 200)
        assert_status(self.get(env, keys, "/perm/claim",
                               permissions=["docs:write"]), 403)
        # the scope claim counts wherever the permissions come from
        assert_status(self.get(env, keys, "/perm/claim",
                               scope="docs:write"), 200)

    @pytest.mark.parametrize("path,roles,status", [
        ("/perm/rolemap", ["editor"], 200),
        ("/perm/rolemap", ["viewer"], 403),
        ("/perm/rolemap-inherited", ["viewer"], 200),
        ("/perm/rolemap-inherited", ["editor"], 403),
        ("/perm/read", ["viewer"], 200),
        ("/perm/read", ["editor"], 403),
    ])
    def test_gk_auth_301_05_role_permissions(self, env, keys, path, roles,
                                             status):
        assert_status(self.get(env, keys, path, roles=roles), status)

    # ---- gk-claim -------------------------------------------------------
    @pytest.mark.parametrize("path,claims,status", [
        ("/claim/dept", {"department": "engineering"}, 200),
        ("/claim/dept", {"department": "research"}, 200),
        ("/claim/dept", {"department": ["sales", "research"]}, 200),
        ("/claim/dept", {"department": "Engineering"}, 403),
        ("/claim/dept", {"department": "engineering "}, 403),
        ("/claim/dept", {"department": "engineering research"}, 403),
        ("/claim/dept", {"department": ["sales"]}, 403),
        ("/claim/dept", {"department": {"engineering": 1}}, 403),
        ("/claim/dept", {}, 403),
        ("/claim/realm", {"realm_access": {"roles": ["x", "admin"]}}, 200),
        ("/claim/realm", {"realm_access": {"roles": "admin"}}, 200),
        ("/claim/realm", {"realm_access": {"roles": ["x"]}}, 403),
        ("/claim/deep", {"a": {"b": {"c": "x"}}}, 200),
        ("/claim/deep", {"a": {"b": {"c": ["y", "x"]}}}, 200),
        ("/claim/deep", {"a": {"b": "x"}}, 403),
        ("/claim/deep", {"a": [{"b": {"c": "x"}}]}, 403),
    ], ids=repr)
    def test_gk_auth_302_01_claim(self, env, keys, path, claims, status):
        r = self.get(env, keys, path, **claims)
        if status == 200:
            assert_status(r, 200)
        else:
            self.assert_insufficient(r)

    # ---- RequireAny / RequireAll with other providers --------------------
    def test_gk_auth_303_01_any_ip_grants_without_token(self, env):
        r = env.get("/any/ip-grant")
        assert_status(r, 200)

    def test_gk_auth_303_02_any_ip_grants_non_admin(self, env, keys):
        assert_status(self.get(env, keys, "/any/ip-grant", roles=["user"]),
                      200)

    def test_gk_auth_303_03_any_ip_deny(self, env, keys):
        r = env.get("/any/ip-deny")
        assert_status(r, 401)
        assert_challenge(r, error=None)
        assert_status(self.get(env, keys, "/any/ip-deny", roles=["admin"]),
                      200)
        self.assert_insufficient(self.get(env, keys, "/any/ip-deny",
                                          roles=["user"]))

    def test_gk_auth_303_04_all_ip_grant(self, env, keys):
        assert_status(env.get("/all/ip-grant"), 401)
        assert_status(self.get(env, keys, "/all/ip-grant", roles=["admin"]),
                      200)
        self.assert_insufficient(self.get(env, keys, "/all/ip-grant",
                                          roles=["user"]))

    @pytest.mark.parametrize("roles", [None, ["admin"], ["user"]])
    def test_gk_auth_303_05_all_ip_deny(self, env, keys, roles):
        """Require ip denies: 403, never insufficient_scope."""
        r = env.get("/all/ip-deny") if roles is None else \
            self.get(env, keys, "/all/ip-deny", roles=roles)
        assert_status(r, 403)
        assert "insufficient_scope" not in r.headers.get(
            "WWW-Authenticate", "")

    @pytest.mark.parametrize("roles", [None, ["admin"]])
    def test_gk_auth_303_06_all_not_ip(self, env, keys, roles):
        r = env.get("/all/not-ip") if roles is None else \
            self.get(env, keys, "/all/not-ip", roles=roles)
        assert_status(r, 403)
        assert "insufficient_scope" not in r.headers.get(
            "WWW-Authenticate", "")

    @pytest.mark.parametrize("path,claims,status", [
        ("/any/gk", {"roles": ["admin"]}, 200),
        ("/any/gk", {"permissions": ["docs:read"]}, 200),
        ("/any/gk", {"scope": "docs:read"}, 200),
        ("/any/gk", {"roles": ["user"]}, 403),
        ("/lines", {"roles": ["admin"]}, 200),
        ("/lines", {"permissions": ["docs:read"]}, 200),
        ("/lines", {"roles": ["user"]}, 403),
        ("/all/gk", {"roles": ["editor"], "department": "engineering"}, 200),
        ("/all/gk", {"roles": ["editor"]}, 403),
        ("/all/gk", {"department": "engineering"}, 403),
        ("/all/valid", {"roles": ["admin"]}, 200),
        ("/all/valid", {"roles": ["user"]}, 403),
    ], ids=repr)
    def test_gk_auth_303_07_gk_combinations(self, env, keys, path, claims,
                                            status):
        r = self.get(env, keys, path, **claims)
        if status == 200:
            assert_status(r, 200)
        else:
            self.assert_insufficient(r)

    @pytest.mark.parametrize("roles", [None, ["admin"]])
    def test_gk_auth_303_08_all_denied(self, env, keys, roles):
        r = env.get("/denied") if roles is None else \
            self.get(env, keys, "/denied", roles=roles)
        assert_status(r, 403)
        assert "insufficient_scope" not in r.headers.get(
            "WWW-Authenticate", "")

    def test_gk_auth_303_09_any_denied_or_role(self, env, keys):
        assert_status(self.get(env, keys, "/any/denied", roles=["admin"]),
                      200)
        assert_status(self.get(env, keys, "/any/denied", roles=["user"]),
                      403)

    # ---- how the denial is told ------------------------------------------
    def test_gk_auth_304_01_terse(self, env, keys):
        r = self.get(env, keys, "/terse", roles=["user"])
        body = self.assert_insufficient(r)
        assert body.get("detail")
        assert "admin" not in body["detail"]
        desc = assert_challenge(r, error="insufficient_scope").get(
            "error_description", "")
        assert "superadmin" not in desc

    def test_gk_auth_304_02_error_document_403(self, env, keys):
        r = self.get(env, keys, "/errdoc", roles=["user"])
        assert_status(r, 403)
        assert r.text.strip() == "custom forbidden"
        assert "problem+json" not in r.headers.get("Content-Type", "")

    def test_gk_auth_304_03_error_document_401(self, env):
        r = env.get("/errdoc")
        assert_status(r, 401)
        assert r.text.strip() == "custom unauthorized"
        assert "problem+json" not in r.headers.get("Content-Type", "")
        assert_challenge(r, error=None)

    def test_gk_auth_304_04_error_document_bad_token(self, env):
        r = env.get("/errdoc", token="a.b.c")
        assert_status(r, 401)
        assert r.text.strip() == "custom unauthorized"
        assert_challenge(r, error="invalid_token")

    @pytest.mark.parametrize("roles,status", [(None, 401), (["x"], 403)])
    def test_gk_auth_304_06_error_document_local_url(self, env, keys, roles,
                                                     status):
        """ErrorDocument to a local URL (an internal redirect; the catch-all
        serves ok.txt there): its body wins, status and challenge stay."""
        r = env.get("/errdoc-url") if roles is None else \
            self.get(env, keys, "/errdoc-url", roles=roles)
        assert_status(r, status)
        assert r.text == "ok\n"
        assert "problem+json" not in r.headers.get("Content-Type", "")
        assert_challenge(r, error=None if roles is None
                         else "insufficient_scope")

    @pytest.mark.parametrize("sub,roles,status,insufficient", [
        ("bob", ["admin"], 200, False),
        ("alice", ["admin"], 403, False),     # Require user denied
        ("bob", ["user"], 403, True),         # gk-role denied
    ])
    def test_gk_auth_303_10_all_with_require_user(self, env, keys, sub,
                                                  roles, status,
                                                  insufficient):
        r = self.get(env, keys, "/all/user", sub=sub, roles=roles)
        assert_status(r, status)
        if status != 200:
            assert ("insufficient_scope" in r.headers.get(
                "WWW-Authenticate", "")) == insufficient

    def test_gk_auth_304_05_head(self, env, keys):
        r = env.request("/role/admin", "HEAD",
                        token=self.tok(keys, roles=["user"]))
        assert_status(r, 403)
        assert_challenge(r, error="insufficient_scope")
        assert r.content == b""

    # ---- GKAuthAllowPreflight -------------------------------------------
    @pytest.mark.parametrize("path,status", [
        ("/pre/on", 200), ("/pre/perm", 200), ("/pre/ip-grant", 200),
        ("/pre/off", 401), ("/pre/valid-user", 401), ("/pre/ip-deny", 403),
    ])
    def test_gk_auth_305_01_preflight(self, env, path, status):
        r = env.request(path, "OPTIONS", headers=PREFLIGHT)
        assert_status(r, status)

    @pytest.mark.parametrize("headers", [
        {},
        {"Origin": "https://app.example"},
        {"Access-Control-Request-Method": "DELETE"},
    ], ids=["plain", "origin-only", "acrm-only"])
    def test_gk_auth_305_02_not_a_preflight(self, env, headers):
        r = env.request("/pre/on", "OPTIONS", headers=headers)
        assert_status(r, 401)
        assert_challenge(r, error=None)

    @pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
    def test_gk_auth_305_03_only_options(self, env, method):
        r = env.request("/pre/on", method, headers=PREFLIGHT)
        assert_status(r, 401)

    def test_gk_auth_305_04_preflight_with_token(self, env, keys):
        """A token on a preflight changes nothing for the better or worse
        (an admin token passes either way)."""
        r = env.request("/pre/on", "OPTIONS", headers=PREFLIGHT,
                        token=self.tok(keys, roles=["admin"]))
        assert_status(r, 200)

    def test_gk_auth_305_05_identity_unchanged(self, env, keys):
        """Sanity: the normal path of /pre/on still works."""
        j = echo(self.get(env, keys, "/pre/on/echo", roles=["admin"]))
        assert j["env"]["REMOTE_USER"] == "alice"
