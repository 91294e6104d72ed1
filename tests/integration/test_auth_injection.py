"""mod_gk_auth: claim values never become header lines, never split a list.

A raw backend behind mod_proxy_http records the bytes it receives.  The
recipes administrators use (RequestHeader from GK_ROLES, GK_PERMISSIONS,
GK_CLAIMS and REMOTE_USER) and GKAuthClaimHeader (claims and the @user,
@roles, @permissions pseudo-claims) must never let a signed claim add a
header line: roles and permissions are visible ASCII or dropped, a user
name is UTF-8 without controls or the token is refused, other claims are
checked where they leave, and GK_CLAIMS is one line of printable ASCII.
Client-sent copies of the headers the module sets are removed in every
spelling a backend folds together.
"""

import json

import pytest

from gkhttpd import GkConf
from gkhttpd import tokens as T
from gkhttpd.check import assert_challenge, assert_status
from gkhttpd.rawbackend import RawBackend

# (id, character, is it allowed in a user name?)
BAD = [
    ("crlf", "\r\n", False),
    ("cr", "\r", False),
    ("lf", "\n", False),
    ("tab", "\t", False),
    ("del", "\x7f", False),
    ("nel-c1", "\x85", False),
    ("csi-c1", "\x9b", False),
    ("line-sep", "\u2028", False),
    ("nbsp", "\xa0", True),
    ("e-acute", "\xe9", True),
    ("cjk", "\u5f20", True),
]
BAD_IDS = [b[0] for b in BAD]

RECIPE = """
    RequestHeader set X-Roles "expr=%{reqenv:GK_ROLES}"
    RequestHeader set X-Perms "expr=%{reqenv:GK_PERMISSIONS}"
    RequestHeader set X-Remote-User "expr=%{REMOTE_USER}"
    RequestHeader set X-Claims "expr=%{reqenv:GK_CLAIMS}"
"""


def lines_of(head):
    """Header lines of a recorded request head: every line must be a
    proper `name: value` line, with no CR or LF left inside."""
    out = []
    for line in head.split(b"\r\n")[1:]:
        assert b"\n" not in line and b"\r" not in line, line
        name, sep, value = line.partition(b":")
        assert sep and name and name.strip() == name, line
        out.append((name.decode("latin-1").lower(), value.strip()))
    return out


def assert_no_injection(head):
    names = [n for n, _ in lines_of(head)]
    assert not [n for n in names if "inj" in n], head


def header(head, name):
    vals = [v for n, v in lines_of(head) if n == name.lower()]
    assert len(vals) <= 1, (name, vals)
    return vals[0] if vals else None


class TestClaimInjection:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        self.__class__.backend = RawBackend().start()
        b = "http://127.0.0.1:%d/" % self.backend.port
        conf = GkConf(env)
        conf.add("GKAuthKey RS256 %s" % keys["rsa2048"].pub_path)
        conf.add_location("/raw/", """
            ProxyPass %s
            AuthType gk-bearer
            Require valid-user
            GKAuthClaimHeader email X-User-Email
            GKAuthClaimHeader @user X-GK-User
            GKAuthClaimHeader @roles X-GK-Roles
            GKAuthClaimHeader @permissions X-GK-Permissions
        """ % b + RECIPE)
        conf.add_location("/raw-admin/", """
            ProxyPass %s
            AuthType gk-bearer
            AuthzSendForbiddenOnFailure On
            Require gk-role admin
        """ % b + RECIPE)
        conf.add_location("/raw-perm/", """
            ProxyPass %s
            AuthType gk-bearer
            AuthzSendForbiddenOnFailure On
            Require gk-permission users:read
        """ % b + RECIPE)
        conf.add_location("/raw-open/", """
            ProxyPass %s
            GKAuthClaimHeader email X-User-Email
            GKAuthClaimHeader @roles X-GK-Roles
            Require all granted
        """ % b)
        conf.install()
        env.apache_restart()
        yield
        self.backend.stop()

    def tok(self, keys, **kw):
        return T.mint(keys["rsa2048"], "RS256", **kw)

    def send(self, env, path, token, headers=None):
        self.backend.clear()
        r = env.get(path, token=token, headers=headers)
        return r, (self.backend.last() if r.status_code == 200 else None)

    # ---- the user claim: refused when it could break a line -------------
    @pytest.mark.parametrize("name,ch,allowed", BAD, ids=BAD_IDS)
    def test_gk_auth_610_01_user(self, env, keys, name, ch, allowed):
        sub = "bob" + ch + "X-Injected: 1"
        r, head = self.send(env, "/raw/", self.tok(keys, sub=sub,
                                                   roles=["editor"]))
        if not allowed:
            assert_status(r, 401)
            assert_challenge(r, error="invalid_token")
            assert "token user claim is invalid" in \
                r.headers["WWW-Authenticate"]
            assert self.backend.last() is None
            return
        assert_status(r, 200)
        assert_no_injection(head)
        assert header(head, "X-Remote-User").decode() == sub
        assert header(head, "X-GK-User").decode() == sub

    def test_gk_auth_610_02_user_log_has_no_value(self, env, keys):
        r, _ = self.send(env, "/raw/", self.tok(keys, sub="evil\r\nX-Inj: 1"))
        assert_status(r, 401)
        line = env.error_log.wait_for(r"GK10009", timeout=5)
        assert line is not None
        assert "evil" not in line.text and "X-Inj" not in line.text

    # ---- roles: an invalid one is dropped, the others still count -------
    @pytest.mark.parametrize("name,ch,allowed", BAD + [
        ("space", " ", False)], ids=BAD_IDS + ["space"])
    def test_gk_auth_611_01_role(self, env, keys, name, ch, allowed):
        bad = "user" + ch + "X-Injected-Role: 1"
        r, head = self.send(env, "/raw/", self.tok(
            keys, roles=["editor", bad, "viewer"]))
        assert_status(r, 200)
        assert_no_injection(head)
        assert header(head, "X-Roles") == b"editor viewer"
        assert header(head, "X-GK-Roles") == b"editor viewer"

    def test_gk_auth_611_02_role_with_space_grants_nothing(self, env, keys):
        """["x admin"] must not read as holding admin, anywhere."""
        env.error_log.ignore(tags=["AH01631"])
        r, _ = self.send(env, "/raw-admin/", self.tok(keys,
                                                      roles=["x admin"]))
        assert_status(r, 403)
        r, head = self.send(env, "/raw/", self.tok(
            keys, roles=["x admin", "editor"]))
        assert_status(r, 200)
        assert header(head, "X-Roles") == b"editor"

    @pytest.mark.parametrize("role", ["admin\u00a0", "adm\u0085in",
                                      "admin\t", "\u0430dmin"])
    def test_gk_auth_611_03_lookalike_roles_grant_nothing(self, env, keys,
                                                         role):
        env.error_log.ignore(tags=["AH01631"])
        r, _ = self.send(env, "/raw-admin/", self.tok(keys, roles=[role]))
        assert_status(r, 403)

    def test_gk_auth_611_04_valid_role_still_grants(self, env, keys):
        r, head = self.send(env, "/raw-admin/", self.tok(
            keys, roles=["admin\r\nX-Injected: 1", "admin"]))
        assert_status(r, 200)
        assert_no_injection(head)
        assert header(head, "X-Roles") == b"admin"

    def test_gk_auth_611_05_log_names_claim_not_value(self, env, keys):
        r, _ = self.send(env, "/raw/", self.tok(
            keys, roles=["sneaky\nX-Inj: 1", "editor"]))
        assert_status(r, 200)
        line = env.error_log.wait_for(r"GK10021", timeout=5)
        assert line is not None and "claim roles" in line.text
        assert "sneaky" not in line.text

    # ---- permissions: the same rule, and the permission syntax -------------
    @pytest.mark.parametrize("name,ch,allowed", BAD + [
        ("space", " ", False)], ids=BAD_IDS + ["space"])
    def test_gk_auth_612_01_permission(self, env, keys, name, ch, allowed):
        bad = "users:read" + ch + "X-Injected-Perm: 1"
        r, head = self.send(env, "/raw/", self.tok(
            keys, permissions=["docs:read", bad]))
        assert_status(r, 200)
        assert_no_injection(head)
        assert header(head, "X-Perms") == b"docs:read"
        assert header(head, "X-GK-Permissions") == b"docs:read"

    @pytest.mark.parametrize("perm", ["users::read", "users:re*d", ":x", "x:",
                                      "users:read\u00a0"])
    def test_gk_auth_612_02_bad_syntax_dropped(self, env, keys, perm):
        env.error_log.ignore(tags=["AH01631"])
        r, head = self.send(env, "/raw/", self.tok(
            keys, permissions=[perm, "docs:read"]))
        assert_status(r, 200)
        assert header(head, "X-Perms") == b"docs:read"
        r, _ = self.send(env, "/raw-perm/", self.tok(keys,
                                                     permissions=[perm]))
        assert_status(r, 403)

    def test_gk_auth_612_03_scope_checked_too(self, env, keys):
        r, head = self.send(env, "/raw/", self.tok(
            keys, scope="openid users:read\u00a0x profile"))
        assert_status(r, 200)
        assert header(head, "X-Perms") == b"openid profile"

    def test_gk_auth_612_04_wildcard_still_grants(self, env, keys):
        r, head = self.send(env, "/raw-perm/", self.tok(
            keys, permissions=["users:*", "x\ny"]))
        assert_status(r, 200)
        assert header(head, "X-Perms") == b"users:*"

    # ---- other claims: checked where they leave ----------------------------
    @pytest.mark.parametrize("name,ch,allowed", BAD, ids=BAD_IDS)
    def test_gk_auth_613_01_claim_header(self, env, keys, name, ch, allowed):
        email = "a@b" + ch + "X-Injected: 1"
        r, head = self.send(env, "/raw/", self.tok(keys, email=email),
                            headers={"X-User-Email": "forged"})
        assert_status(r, 200)
        assert_no_injection(head)
        got = header(head, "X-User-Email")
        if allowed:
            assert got.decode() == email
        else:
            assert got is None

    def test_gk_auth_613_02_claims_one_ascii_line(self, env, keys):
        payload = T.claims(sub="alice", roles=["editor"],
                           address={"formatted": "1 Main St\r\nSpringfield"},
                           name="J\u00fcrgen \x85\x7f \u2028",
                           note="X-Injected: 1")
        r, head = self.send(env, "/raw/", T.mint(keys["rsa2048"], "RS256",
                                                 payload=payload))
        assert_status(r, 200)
        assert_no_injection(head)
        claims = header(head, "X-Claims")
        assert all(0x20 <= c <= 0x7e for c in claims), claims
        assert json.loads(claims) == payload

    def test_gk_auth_613_03_pretty_payload_compacted(self, env, keys):
        """JSON text with line breaks between values, as signed, becomes
        one compact line."""
        text = '{\r\n  "sub": "alice",\n  "exp": %d,\n  "roles": ["a"]\n}' \
            % (T.now() + 300)
        tok = T.forge({"alg": "RS256", "typ": "JWT"}, text,
                      key=keys["rsa2048"])
        r, head = self.send(env, "/raw/", tok)
        assert_status(r, 200)
        assert_no_injection(head)
        claims = header(head, "X-Claims")
        assert b" " not in claims and b"\n" not in claims
        assert json.loads(claims) == json.loads(text)

    def test_gk_auth_613_04_nul_refused_whole(self, env, keys):
        """\\u0000 anywhere in the payload: jansson refuses the payload, so
        the token is refused as a whole (documented)."""
        text = '{"sub":"alice","exp":%d,"x":"a\\u0000b"}' % (T.now() + 300)
        tok = T.forge({"alg": "RS256", "typ": "JWT"}, text,
                      key=keys["rsa2048"])
        r, _ = self.send(env, "/raw/", tok)
        assert_status(r, 401)
        assert_challenge(r, error="invalid_token")

    # ---- spoofed spellings of the headers the module sets -----------------
    SPELLINGS = ["X_User_Email", "x_user_email", "X-USER_EMAIL",
                 "x_user-email", "X-User-Email"]

    def test_gk_auth_614_01_spellings_removed(self, env, keys):
        lines = ["Authorization: Bearer " + self.tok(keys,
                                                     email="a@example.org")]
        lines += ["%s: forged-%d" % (n, i)
                  for i, n in enumerate(self.SPELLINGS)]
        lines += ["X_GK_Roles: admin", "x-gk_user: root", "X-Other_Thing: k"]
        self.backend.clear()
        r = env.raw_get("/raw/", lines)
        assert_status(r, 200)
        hl = lines_of(self.backend.last())
        got = [(n, v) for n, v in hl
               if n.replace("_", "-") in ("x-user-email", "x-gk-roles",
                                          "x-gk-user")]
        assert sorted(got) == [("x-gk-user", b"alice"),
                               ("x-user-email", b"a@example.org")], hl
        assert ("x-other_thing", b"k") in hl

    def test_gk_auth_614_02_lone_copy_removed_without_claim(self, env, keys):
        self.backend.clear()
        r = env.raw_get("/raw/", ["Authorization: Bearer " + self.tok(keys),
                                  "X_User_Email: forged"])
        assert_status(r, 200)
        names = [n for n, _ in lines_of(self.backend.last())]
        assert "x_user_email" not in names and "x-user-email" not in names

    def test_gk_auth_614_03_removed_when_unauthenticated(self, env):
        self.backend.clear()
        r = env.raw_get("/raw-open/", ["X_User_Email: forged",
                                       "x-user_email: forged2",
                                       "X_GK_Roles: admin"])
        assert_status(r, 200)
        names = [n.replace("_", "-") for n, _ in
                 lines_of(self.backend.last())]
        assert "x-user-email" not in names
        assert "x-gk-roles" not in names

    def test_gk_auth_614_04_pseudo_claims(self, env, keys):
        r, head = self.send(env, "/raw/", self.tok(
            keys, sub="carol", roles=["editor", "viewer"],
            permissions=["docs:read"], scope="openid"),
            headers={"X-GK-User": "root", "X-GK-Roles": "admin"})
        assert_status(r, 200)
        assert header(head, "X-GK-User") == b"carol"
        assert header(head, "X-GK-Roles") == b"editor viewer"
        assert header(head, "X-GK-Permissions") == b"docs:read openid"

    def test_gk_auth_614_05_pseudo_claims_empty(self, env, keys):
        """No roles: no header at all (as for an absent claim), and the
        client's copy is gone."""
        r, head = self.send(env, "/raw/", self.tok(keys),
                            headers={"X-GK-Roles": "admin"})
        assert_status(r, 200)
        assert header(head, "X-GK-Roles") is None
        assert header(head, "X-GK-Permissions") is None
        assert header(head, "X-GK-User") == b"alice"


class TestStartupNames:
    """Role names in Require gk-role and GKAuthRolePermissions follow the
    same rule at startup; the pseudo-claims are checked by name."""

    @pytest.mark.parametrize("snippet,needle", [
        ('<Location /a>\nAuthType gk-bearer\nRequire gk-role "x admin"\n'
         '</Location>', "Require gk-role"),
        ('<Location /a>\nAuthType gk-bearer\nRequire gk-role "adm\xe9"\n'
         '</Location>', "Require gk-role"),
        ('GKAuthRolePermissions "x admin" docs:read', "GKAuthRolePermissions"),
        ('GKAuthRolePermissions r\xa0 docs:read', "GKAuthRolePermissions"),
        ('GKAuthRolePermissions editor "docs:re\xe9d"',
         "GKAuthRolePermissions"),
        ('<Location /a>\nAuthType gk-bearer\nRequire gk-permission '
         '"a:b\xa0"\n</Location>', "Require gk-permission"),
        ('GKAuthClaimHeader @groups X-Groups', "GKAuthClaimHeader"),
        ('GKAuthClaimHeader @ X-Groups', "GKAuthClaimHeader"),
    ], ids=["require-space", "require-nonascii", "roleperm-space",
            "roleperm-nbsp", "roleperm-perm", "require-perm",
            "pseudo-unknown", "pseudo-empty"])
    def test_gk_auth_615_01_refused(self, env, keys, snippet, needle):
        conf = GkConf(env)
        conf.add("GKAuthKey RS256 %s" % keys["rsa2048"].pub_path)
        conf.add(snippet)
        conf.install()
        res = env.apache_fail()
        assert res.refused_by_configtest and res.refused_at_start, res
        assert needle in res.output, res
