"""mod_gk_auth: the token endpoint, `SetHandler gk-token` (issue 13).

RFC 6749 section 4.3 (the password grant, for first-party clients) with
httpd's authn providers: tokens of every algorithm family (HS256 from a
file: secret, RS256, PS256, ES256, EdDSA) verified by PyJWT and by
mod_gk_auth itself on another location (Require gk-role, gk-permission);
the roles (GKTokenRolesFile) and permissions (GKAuthRolePermissions) they
carry, the roles file re-read when it changes; scope down-scoping; every
error answer, byte for byte; no user enumeration (identical answers, a
dummy bcrypt verification per unknown user, seen as GK10053 at debug);
providers file, dbm, an AuthnProviderAlias and their order; the cookie;
GKTokenMaxBody; GKTokenLifetime with units; no password in any log; the
audit events; h2c; refusals through `apache2 -t` and a start.
"""

import base64
import json
import os
import re
import shutil
import subprocess
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest

from gkhttpd import GkConf
from gkhttpd.check import assert_challenge, assert_status

FORM = "application/x-www-form-urlencoded"
ISS = "https://issuer.test/"
AUD = "api://gatekeeper-test"

# passwords: distinctive strings, so that a log can be searched for them;
# bob's holds the form's special characters (decoded before the check)
PW = {"alice": "pw-Alice-7Qx2vZ",
      "bob": "b0b&pw=+ %x;Kq9",
      "carol": "pw-Carol-Lm4T",
      "quinn": "pw-Quinn-Rr5w",
      # in the second (alias) file only
      "dora": "pw-Dora-alias-Hh3",
      # in both files: the alias's password decides (listed first)
      "erin": "pw-Erin-first-Ww8",
      "dbmuser": "pw-Dbm-Nn6p"}
ERIN_SECOND = "pw-Erin-second-Yy1"
WRONG = "pw-Wrong-Guess-Jj0"
ODD = 'o"d\\d \u00e9'           # a user name JSON must escape

ROLES = ("# roles of the token tests\n"
         "admin: alice\n"
         "reader: alice bob\n"
         "\n"
         'q"x: quinn\n'
         "ops: dora erin dbmuser\n")

# alg -> (key name, kid) of the token locations
FAMILIES = [("HS256", "hs256", "hs-1"), ("RS256", "rsa2048", "rs-1"),
            ("PS256", "rsa2048-b", "ps-1"), ("ES256", "p256", "es-1"),
            ("EdDSA", "ed25519", "ed-1")]
FAM_IDS = [f[0] for f in FAMILIES]


# ---- helpers -------------------------------------------------------------

def err_body(error, description):
    return ('{"error":"%s","error_description":"%s"}'
            % (error, description)).encode()


E_METHOD = err_body("invalid_request", "the token endpoint takes POST")
E_MEDIA = err_body("invalid_request",
                   "the body must be application/x-www-form-urlencoded")
E_REPEATED = err_body("invalid_request", "a parameter is repeated")
E_FORM = err_body("invalid_request", "the body is not a valid form")
E_REQUIRED = err_body("invalid_request", "username and password are required")
E_GRANT_TYPE = err_body("unsupported_grant_type",
                        "only the password grant is supported")
E_GRANT = err_body("invalid_grant", "the user name or password is wrong")
E_SCOPE = err_body("invalid_scope", "none of the requested scope is held")
E_TOO_LARGE = err_body("invalid_request", "the request body is too large")
E_NOT_CONFIGURED = err_body("server_error",
                            "the token endpoint is not configured")
E_CHECK = err_body("server_error", "the credentials could not be checked")


def encode(fields):
    """fields: dict or list of pairs -> urlencoded bytes; bytes as they
    are."""
    if isinstance(fields, (bytes, str)):
        return fields.encode() if isinstance(fields, str) else fields
    return urllib.parse.urlencode(fields).encode()


def post(env, path, fields, ctype=FORM, headers=None):
    h = dict(headers or {})
    if ctype is not None:
        h["Content-Type"] = ctype
    return env.request(path, "POST", headers=h, data=encode(fields))


def login(user, password=None, **extra):
    d = {"grant_type": "password", "username": user,
         "password": PW.get(user) if password is None else password}
    d.update(extra)
    return d


def assert_error(r, status, body):
    assert r.status_code == status, (r.status_code, r.content)
    assert r.content == body, r.content
    assert r.headers["Content-Type"] == "application/json", r.headers
    assert r.headers.get("Cache-Control") == "no-store", r.headers
    assert r.headers.get("Pragma") == "no-cache", r.headers
    assert "Set-Cookie" not in r.headers, r.headers


def issued(r):
    """The 200 answer's JSON, checked; returns it."""
    assert r.status_code == 200, (r.status_code, r.content)
    assert r.headers["Content-Type"] == "application/json", r.headers
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Pragma"] == "no-cache"
    body = json.loads(r.content)
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], int)
    assert set(body) <= {"access_token", "token_type", "expires_in",
                         "scope"}, body
    return body


def b64u_json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def header_of(tok):
    return b64u_json(tok.split(".")[0])


def claims_of(tok):
    return b64u_json(tok.split(".")[1])


def verify_key(keys, name):
    k = keys[name]
    return k.secret if k.secret is not None else k.public


def htpasswd(path, users):
    """A bcrypt (-B, cost 5) password file of users {name: password}."""
    if path.exists():
        path.unlink()
    for i, (u, p) in enumerate(users.items()):
        subprocess.run(["htpasswd", "-b", "-B", "-C", "5"]
                       + ([] if i else ["-c"]) + [str(path), u, p],
                       check=True, capture_output=True, timeout=30)
    path.chmod(0o644)
    return path


def write_roles(path, text, bump=0.0):
    """Write the roles file; with bump, make sure the mtime changes."""
    before = os.stat(path).st_mtime if os.path.exists(path) else 0
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.chmod(0o644)
    os.replace(tmp, path)
    if bump:
        t = max(time.time(), before + bump)
        os.utime(path, (t, t))
    return path


def insufficient(r):
    """Refused for a missing role or permission: 403, or 401 with an
    insufficient_scope challenge (the module's default)."""
    if r.status_code == 401:
        assert_challenge(r, error="insufficient_scope")
    else:
        assert r.status_code == 403, (r.status_code, r.text[:300])


def gk10053_count(env, pos):
    return len(env.error_log.find(tag="GK10053",
                                  lines=env.error_log.lines_since(pos)))


def token_location(keyline, extra=""):
    return """
        SetHandler gk-token
        AuthUserFile {users}
        GKTokenRolesFile {roles}
        GKTokenIssuer %s
        GKTokenAudience %s
        %s
        %s
    """ % (ISS, AUD, keyline, extra)


def key_source(keys, name):
    k = keys[name]
    return "file:%s" % k.secret_path if k.secret is not None \
        else str(k.priv_path)


# ---- the main endpoint ---------------------------------------------------

class TestTokenEndpoint:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        d = env.data_dir / "token"
        d.mkdir(parents=True, exist_ok=True)
        files = {
            "users": htpasswd(d / "users.htpasswd",
                              dict({u: PW[u] for u in ("alice", "bob", "carol",
                                                       "quinn", "erin")},
                                   **{ODD: PW["carol"]})),
            "roles": write_roles(d / "roles.txt", ROLES),
            "reload": write_roles(d / "roles-reload.txt",
                                  "reader: alice\n"),
            "missing": d / "no-such-users-file",
        }
        self.__class__.files = files
        conf = GkConf(env, extra_modules=["authn_file"])
        conf.add("GKAuthRolePermissions admin users:read users:write")
        conf.add("GKAuthRolePermissions reader docs:read")
        conf.add('GKAuthRolePermissions q"x users:read')
        conf.add("GKAuthRolePermissions ops reports:*")
        for alg, name, kid in FAMILIES:
            conf.add_location("/token/%s" % alg.lower(), token_location(
                "GKTokenKey %s %s kid=%s" % (alg, key_source(keys, name),
                                            kid)))
        es = "GKTokenKey ES256 %s kid=es-1" % keys["p256"].priv_path
        # the first key that is not publish-only signs
        conf.add_location("/token/second", token_location(
            "GKTokenKey RS256 %s kid=old publish-only\n%s\n"
            "GKTokenKey EdDSA %s kid=later" % (
                keys["rsa2048"].priv_path, es, keys["ed25519"].priv_path)))
        conf.add_location("/token/cookie", token_location(
            es, "GKTokenCookie gk_at\nGKTokenLifetime 1h"))
        conf.add_location("/token/small", token_location(
            es, "GKTokenMaxBody 64"))
        for loc, life in (("/token/life-s", "120"), ("/token/life-m", "15m"),
                          ("/token/life-d", "1d")):
            conf.add_location(loc, token_location(
                es, "GKTokenLifetime %s" % life))
        conf.add_location("/token/nokey", token_location(
            "GKTokenKey ES256 %s kid=p publish-only" % keys["p256"].pub_path))
        conf.add_location("/token/bare", """
            SetHandler gk-token
            AuthUserFile {users}
        """)
        conf.add_location("/token/dotted", token_location(
            es, "GKAuthRolesClaim realm_access.roles"))
        conf.add_location("/token/names", """
            SetHandler gk-token
            AuthUserFile {users}
            GKTokenRolesFile {roles}
            GKAuthRolesClaim grp
            GKAuthPermissionsClaim perm
            %s
        """ % es)
        conf.add_location("/token/reload", """
            SetHandler gk-token
            AuthUserFile {users}
            GKTokenRolesFile {reload}
            %s
        """ % es)
        conf.add_location("/token/broken", """
            SetHandler gk-token
            AuthUserFile {missing}
            %s
        """ % es)
        # the verifiers: the same keys under the same kids
        conf.add_location("/api", "\n".join(
            ["AuthType gk-bearer",
             "GKAuthIssuer %s" % ISS,
             "GKAuthAudience %s" % AUD,
             "GKAuthTokenType at+jwt",
             "GKAuthTokenCookie gk_at",
             "Require valid-user"]
            + ["GKAuthKey %s %s kid=%s" % (
                alg, ("file:%s" % keys[n].secret_path)
                if keys[n].secret is not None else keys[n].pub_path, kid)
               for alg, n, kid in FAMILIES]))
        conf.add_location("/api/admin", "Require gk-role admin")
        conf.add_location("/api/perm", "Require gk-permission users:read")
        text = conf.text.format(**{k: v for k, v in files.items()})
        conf._lines = text.rstrip("\n").split("\n")
        conf.install()
        env.apache_restart()
        env.error_log.allow(tags=["AH01630", "AH01631"])

    # ---- issuing and verifying, per family ------------------------------
    @pytest.mark.parametrize("alg,name,kid", FAMILIES, ids=FAM_IDS)
    def test_gk_auth_320_01_issue_pyjwt(self, env, keys, alg, name, kid):
        r = post(env, "/token/%s" % alg.lower(), login("alice"))
        body = issued(r)
        assert body["expires_in"] == 900
        assert "scope" not in body
        tok = body["access_token"]
        assert header_of(tok) == {"typ": "at+jwt", "alg": alg,
                                  "kid": kid}, header_of(tok)
        c = jwt.decode(tok, verify_key(keys, name), algorithms=[alg],
                       audience=AUD, issuer=ISS)
        assert c["sub"] == "alice"
        assert c["exp"] == c["iat"] + 900
        assert c["nbf"] == c["iat"]
        assert abs(c["iat"] - time.time()) < 30
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", c["jti"]), c["jti"]
        assert c["roles"] == ["admin", "reader"]
        assert sorted(c["permissions"]) == ["docs:read", "users:read",
                                            "users:write"]
        assert list(c) == ["iss", "sub", "aud", "iat", "nbf", "exp", "jti",
                           "roles", "permissions"], list(c)
        # the signature really covers the token: another key refuses it
        other = {"hs256": "hs256-b", "rsa2048": "rsa2048-c",
                 "rsa2048-b": "rsa2048-c", "p256": "p256-b",
                 "ed25519": "ed25519-b"}[name]
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(tok, verify_key(keys, other), algorithms=[alg],
                       audience=AUD, issuer=ISS)

    @pytest.mark.parametrize("alg,name,kid", FAMILIES, ids=FAM_IDS)
    def test_gk_auth_320_02_verified_by_gk_auth(self, env, alg, name, kid):
        loc = "/token/%s" % alg.lower()
        alice = issued(post(env, loc, login("alice")))["access_token"]
        bob = issued(post(env, loc, login("bob")))["access_token"]
        assert claims_of(bob)["roles"] == ["reader"]
        assert claims_of(bob)["permissions"] == ["docs:read"]
        assert_status(env.get("/api/admin", token=alice), 200)
        assert_status(env.get("/api/perm", token=alice), 200)
        insufficient(env.get("/api/admin", token=bob))
        insufficient(env.get("/api/perm", token=bob))
        assert_status(env.get("/api/any", token=bob), 200)
        # a tampered token is refused
        h, p, s = alice.split(".")
        forged = claims_of(bob)
        forged["roles"] = ["admin"]
        p2 = base64.urlsafe_b64encode(json.dumps(forged).encode()) \
            .rstrip(b"=").decode()
        r = env.get("/api/admin", token="%s.%s.%s" % (h, p2, s))
        assert_status(r, 401)

    def test_gk_auth_320_03_unique_jti(self, env, request):
        """Every token has its own jti, also from different server
        processes (concurrent requests spread over them): each child
        discards the random bytes its parent drew (the dummy hash's salt)
        on prefork too."""

        def one(_):
            return claims_of(issued(post(env, "/token/hs256", login(
                "alice")))["access_token"])["jti"]
        with ThreadPoolExecutor(max_workers=8) as ex:
            jtis = list(ex.map(one, range(24)))
        assert len(set(jtis)) == len(jtis), sorted(jtis)

    def test_gk_auth_320_04_first_signing_key(self, env, keys):
        """publish-only keys never sign: the first other key does."""
        tok = issued(post(env, "/token/second", login("alice")))[
            "access_token"]
        assert header_of(tok)["kid"] == "es-1"
        assert header_of(tok)["alg"] == "ES256"
        jwt.decode(tok, keys["p256"].public, algorithms=["ES256"],
                   audience=AUD)

    def test_gk_auth_320_05_claim_names(self, env, keys):
        """GKAuthRolesClaim/GKAuthPermissionsClaim name the claims; no
        iss or aud without GKTokenIssuer/GKTokenAudience."""
        c = claims_of(issued(post(env, "/token/names", login("alice")))[
            "access_token"])
        assert list(c) == ["sub", "iat", "nbf", "exp", "jti", "grp", "perm"]
        assert c["grp"] == ["admin", "reader"]
        assert sorted(c["perm"]) == ["docs:read", "users:read",
                                     "users:write"]

    def test_gk_auth_320_06_no_roles(self, env, keys):
        """A user without roles: empty lists. A scope without GKTokenKey:
        no token at all."""
        c = claims_of(issued(post(env, "/token/es256", login("carol")))[
            "access_token"])
        assert c["roles"] == [] and c["permissions"] == []
        r = post(env, "/token/bare", login("alice"))
        # /token/bare has no GKTokenKey: no token at all
        assert_error(r, 500, E_NOT_CONFIGURED)
        env.error_log.ignore(tags=["GK10054"])

    def test_gk_auth_320_07_grant_type_optional(self, env):
        """grant_type may be left out (FastAPI's form); "password" is
        accepted; charset=UTF-8 and the media type's case are fine."""
        d = login("alice")
        del d["grant_type"]
        issued(post(env, "/token/es256", d))
        for ct in ("application/x-www-form-urlencoded; charset=UTF-8",
                   "Application/X-WWW-Form-Urlencoded",
                   "application/x-www-form-urlencoded;charset=utf-8"):
            issued(post(env, "/token/es256", login("alice"), ctype=ct))

    def test_gk_auth_320_08_form_decoding(self, env):
        """bob's password holds & = + % ;: it only matches when the form is
        decoded right; a raw '+' is a space."""
        issued(post(env, "/token/es256", login("bob")))
        raw = ("grant_type=password&username=bob&password="
               + urllib.parse.quote(PW["bob"], safe="").replace("%20", "+"))
        issued(post(env, "/token/es256", raw))
        raw = ("username=bob&password="
               + urllib.parse.quote(PW["bob"], safe=""))   # %20 for space
        issued(post(env, "/token/es256", raw))

    def test_gk_auth_320_09_chunked_body(self, env):
        body = encode(login("alice"))
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        r = env.raw(b"POST /token/es256 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Connection: close\r\nContent-Type: " + FORM.encode()
                    + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
        assert r.status_code == 200, r.raw[:500]
        assert json.loads(r.content)["token_type"] == "Bearer"

    def test_gk_auth_320_10_subject_escaped(self, env, keys):
        """A user name with '"', '\\', a space and non-ASCII is the sub,
        escaped in the JSON (PyJWT reads it back)."""
        tok = issued(post(env, "/token/es256", login(ODD, PW["carol"])))[
            "access_token"]
        c = jwt.decode(tok, keys["p256"].public, algorithms=["ES256"],
                       audience=AUD)
        assert c["sub"] == ODD

    # ---- lifetime and cookie ---------------------------------------------
    @pytest.mark.parametrize("loc,secs", [("/token/life-s", 120),
                                          ("/token/life-m", 900),
                                          ("/token/life-d", 86400),
                                          ("/token/cookie", 3600)])
    def test_gk_auth_321_01_lifetime(self, env, loc, secs):
        body = issued(post(env, loc, login("alice")))
        assert body["expires_in"] == secs
        c = claims_of(body["access_token"])
        assert c["exp"] - c["iat"] == secs

    def test_gk_auth_321_02_cookie(self, env):
        r = post(env, "/token/cookie", login("alice"))
        tok = issued(r)["access_token"]
        values = r.raw.headers.getlist("Set-Cookie")
        assert values == ["gk_at=%s; HttpOnly; Secure; SameSite=Strict; "
                          "Path=/; Max-Age=3600" % tok], values
        # the cookie is what GKAuthTokenCookie reads
        assert_status(env.get("/api/admin", cookies={"gk_at": tok}), 200)
        # no cookie on a refusal, nor without GKTokenCookie
        assert_error(post(env, "/token/cookie", login("alice", WRONG)), 400,
                     E_GRANT)
        r = post(env, "/token/es256", login("alice"))
        issued(r)
        assert "Set-Cookie" not in r.headers

    # ---- roles file re-read ------------------------------------------------
    def test_gk_auth_322_01_roles_reread(self, env):
        f = self.files["reload"]
        c = claims_of(issued(post(env, "/token/reload", login("alice")))[
            "access_token"])
        assert c["roles"] == ["reader"]
        assert c["permissions"] == ["docs:read"]
        write_roles(f, "admin: alice bob\nreader: bob\n", bump=2)
        time.sleep(1.2)
        pos = env.error_log.mark()
        # every server process sees the change (several requests)
        for _ in range(6):
            c = claims_of(issued(post(env, "/token/reload", login("alice")))
                          ["access_token"])
            assert c["roles"] == ["admin"], c
            assert c["permissions"] == ["users:read", "users:write"]
        c = claims_of(issued(post(env, "/token/reload", login("bob")))[
            "access_token"])
        assert c["roles"] == ["admin", "reader"]
        assert env.error_log.find(tag="GK10051",
                                  lines=env.error_log.lines_since(pos))
        # a broken rewrite keeps the roles read before (an error line)
        write_roles(f, "this line has no colon\n", bump=2)
        time.sleep(1.2)
        pos = env.error_log.mark()
        c = claims_of(issued(post(env, "/token/reload", login("alice")))[
            "access_token"])
        assert c["roles"] == ["admin"]
        assert env.error_log.wait_for("GK10050", timeout=5, since=pos)
        env.error_log.ignore(tags=["GK10050"])
        write_roles(f, "reader: alice\n", bump=2)

    # ---- scope ---------------------------------------------------------------
    def test_gk_auth_323_01_scope_held(self, env, keys):
        """The whole requested scope held: no echo; the token carries
        scope, no roles, no permissions."""
        body = issued(post(env, "/token/es256",
                           login("alice", scope="users:read docs:read")))
        assert "scope" not in body
        c = jwt.decode(body["access_token"], keys["p256"].public,
                       algorithms=["ES256"], audience=AUD)
        assert c["scope"] == "users:read docs:read"
        assert "roles" not in c and "permissions" not in c
        assert list(c) == ["iss", "sub", "aud", "iat", "nbf", "exp", "jti",
                           "scope"]
        # the verifier grants the scope, not the roles
        assert_status(env.get("/api/perm", token=body["access_token"]), 200)
        insufficient(env.get("/api/admin", token=body["access_token"]))

    def test_gk_auth_323_02_scope_partly_held(self, env):
        body = issued(post(env, "/token/es256", login(
            "bob", scope="users:read docs:read admin")))
        assert body["scope"] == "docs:read"
        assert claims_of(body["access_token"])["scope"] == "docs:read"

    def test_gk_auth_323_03_scope_role(self, env):
        """A role is not a scope value: the verifier reads scope values as
        permissions, so a role named like a permission would grant it."""
        r = post(env, "/token/es256", login("alice", scope="admin"))
        assert_error(r, 400, E_SCOPE)
        body = issued(post(env, "/token/es256", login(
            "alice", scope="admin users:read")))
        assert body["scope"] == "users:read"

    def test_gk_auth_323_04_scope_none_held(self, env):
        r = post(env, "/token/es256", login("bob", scope="users:write admin"))
        assert_error(r, 400, E_SCOPE)

    def test_gk_auth_323_05_scope_quoted_role(self, env):
        """A role named with '"' (visible ASCII: allowed) is no scope
        value; quotes and backslashes in a requested scope never reach
        the answer, which stays valid JSON."""
        r = post(env, "/token/es256", login("quinn", scope='q"x other'))
        assert_error(r, 400, E_SCOPE)
        r = post(env, "/token/es256", login(
            "alice", scope='users:read q"x a\\b'))
        assert r.status_code == 200, r.content
        body = json.loads(r.content)
        assert body["scope"] == "users:read"

    def test_gk_auth_323_06_scope_wildcard_held(self, env):
        """A held wildcard grants itself when it is asked for."""
        body = issued(post(env, "/token/es256", login(
            "erin", scope="reports:* users:read")))
        assert body["scope"] == "reports:*"

    def test_gk_auth_323_07_scope_covered_by_wildcard(self, env):
        """erin's role grants reports:*, which covers reports:read (the
        module's own permission semantics): asking for the narrower
        reports:read down-scopes to it."""
        r = post(env, "/token/es256", login("erin", scope="reports:read"))
        body = issued(r)
        assert "scope" not in body
        assert claims_of(body["access_token"])["scope"] == "reports:read"

    # ---- errors ------------------------------------------------------------
    @pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH",
                                        "OPTIONS"])
    def test_gk_auth_324_01_method(self, env, method):
        r = env.request("/token/es256", method,
                        headers={"Content-Type": FORM},
                        data=encode(login("alice")))
        assert_error(r, 405, E_METHOD)
        assert r.headers["Allow"] == "POST"

    def test_gk_auth_324_02_head(self, env):
        r = env.request("/token/es256", "HEAD")
        assert r.status_code == 405
        assert r.headers["Allow"] == "POST"
        assert r.content == b""

    @pytest.mark.parametrize("ctype", [
        None, "text/plain", "multipart/form-data; boundary=x",
        "application/json", "application/x-www-form-urlencoded-evil",
        "application/x-www-form-urlencodedx",
        "application/x-www-form-urlencoded; charset=latin-1",
        "application/x-www-form-urlencoded; charset=utf-8; charset=utf-8",
        "application/x-www-form-urlencoded, text/plain",
        "x application/x-www-form-urlencoded"])
    def test_gk_auth_324_03_media_type(self, env, ctype):
        r = post(env, "/token/es256", login("alice"), ctype=ctype)
        assert_error(r, 400, E_MEDIA)

    @pytest.mark.parametrize("body", [
        "username=alice&username=alice&password=x",
        "username=alice&password=a&password=b",
        "grant_type=password&grant_type=password&username=a&password=b",
        "username=alice&password=x&scope=a&scope=b",
        "username=alice&password=x&extra=1&extra=2",
    ])
    def test_gk_auth_324_04_repeated(self, env, body):
        r = post(env, "/token/es256", body.replace("password=x",
                                                   "password=" + PW["alice"]))
        assert_error(r, 400, E_REPEATED)

    @pytest.mark.parametrize("body", [
        "username=alice&password=%zz",
        "username=alice&password=%4",
        "username=al%00ice&password=x",
        "username=alice&password=%ff%fe",
        "&".join("f%d=1" % i for i in range(17)),
    ], ids=["bad-hex", "short-hex", "nul", "bad-utf8", "17-fields"])
    def test_gk_auth_324_05_bad_form(self, env, body):
        assert_error(post(env, "/token/es256", body), 400, E_FORM)

    @pytest.mark.parametrize("grant", ["client_credentials",
                                       "refresh_token", "", "Password"])
    def test_gk_auth_324_06_grant_type(self, env, grant):
        r = post(env, "/token/es256", login("alice", grant_type=grant))
        assert_error(r, 400, E_GRANT_TYPE)

    @pytest.mark.parametrize("body", [
        "", "username=alice", "password=x", "username=&password=x",
        "grant_type=password"])
    def test_gk_auth_324_07_required(self, env, body):
        assert_error(post(env, "/token/es256", body), 400, E_REQUIRED)

    def test_gk_auth_324_08_invalid_grant(self, env):
        for d in (login("alice", WRONG), login("nobody", WRONG),
                  login("alice", ""), login("alice", PW["bob"]),
                  login("Alice")):
            assert_error(post(env, "/token/es256", d), 400, E_GRANT)

    def test_gk_auth_324_09_too_large(self, env):
        # 64 bytes: refused beyond, fine up to it
        small = "username=bob&password=" + "x" * 42
        assert len(small) == 64
        assert_error(post(env, "/token/small", small), 400, E_GRANT)
        assert_error(post(env, "/token/small", small + "y"), 413,
                     E_TOO_LARGE)
        # the default: 8192
        pad = "&pad=" + "p" * (8192 - len(encode(login("alice"))) - 5)
        ok = encode(login("alice")) + pad.encode()
        assert len(ok) == 8192
        issued(post(env, "/token/es256", ok))
        assert_error(post(env, "/token/es256", ok + b"p"), 413, E_TOO_LARGE)
        # chunked, no Content-Length
        body = b"x" * 100
        r = env.raw(b"POST /token/small HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Connection: close\r\nContent-Type: " + FORM.encode()
                    + b"\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n" + body
                    + b"\r\n0\r\n\r\n")
        assert r.status_code == 413, r.raw[:300]
        assert r.content == E_TOO_LARGE

    def test_gk_auth_324_10_no_signing_key(self, env):
        r = post(env, "/token/nokey", login("alice"))
        assert_error(r, 500, E_NOT_CONFIGURED)
        assert env.error_log.find(tag="GK10054", level="error")
        env.error_log.ignore(tags=["GK10054"])

    def test_gk_auth_324_11_dotted_claim(self, env):
        r = post(env, "/token/dotted", login("alice"))
        assert_error(r, 500, E_NOT_CONFIGURED)
        assert env.error_log.find(tag="GK10055", level="error")
        env.error_log.ignore(tags=["GK10055"])
        # with a scope, no roles claim is written: issued
        issued(post(env, "/token/dotted", login("alice",
                                                scope="users:read")))

    def test_gk_auth_324_12_provider_error(self, env):
        """AUTH_GENERAL_ERROR (authn_file cannot open its file): 500."""
        r = post(env, "/token/broken", login("alice"))
        assert_error(r, 500, E_CHECK)
        env.error_log.ignore(tags=["AH01620"])

    # ---- no user enumeration ------------------------------------------------
    def test_gk_auth_325_01_identical_answers(self, env):
        def strip(r):
            return sorted((k, v) for k, v in r.headers.items()
                          if k.lower() not in ("date", "keep-alive"))
        a = post(env, "/token/es256", login("nobody-at-all", WRONG))
        b = post(env, "/token/es256", login("alice", WRONG))
        c = post(env, "/token/es256", login("alice-x", PW["alice"]))
        for r in (a, b, c):
            assert_error(r, 400, E_GRANT)
        assert a.content == b.content == c.content
        assert strip(a) == strip(b) == strip(c)

    def test_gk_auth_325_03_malformed_user_name(self, env):
        """A user name no provider is asked about (a control character)
        gets the same answer, after the same work (the dummy check)."""
        pos = env.error_log.mark()
        a = post(env, "/token/es256", login("gh\x01ost", WRONG))
        b = post(env, "/token/es256", login("alice", WRONG))
        assert_error(a, 400, E_GRANT)
        assert a.content == b.content
        assert gk10053_count(env, pos) == 1

    def test_gk_auth_325_02_dummy_verification(self, env):
        """Exactly one GK10053 (debug) per unknown-user attempt; none for
        a wrong password of a known user, nor for a success."""
        pos = env.error_log.mark()
        for i in range(3):
            assert_error(post(env, "/token/es256",
                              login("ghost-%d" % i, WRONG)), 400, E_GRANT)
        assert gk10053_count(env, pos) == 3
        lines = env.error_log.find(tag="GK10053",
                                   lines=env.error_log.lines_since(pos))
        assert all(l.level == "debug" for l in lines)
        pos = env.error_log.mark()
        for _ in range(3):
            assert_error(post(env, "/token/es256", login("alice", WRONG)),
                         400, E_GRANT)
        issued(post(env, "/token/es256", login("alice")))
        assert gk10053_count(env, pos) == 0


# ---- providers -----------------------------------------------------------

class TestTokenProviders:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        d = env.data_dir / "token-prov"
        d.mkdir(parents=True, exist_ok=True)
        first = htpasswd(d / "first.htpasswd", {"alice": PW["alice"],
                                                "erin": ERIN_SECOND})
        alias = htpasswd(d / "alias.htpasswd", {"dora": PW["dora"],
                                                "erin": PW["erin"]})
        roles = write_roles(d / "roles.txt", ROLES)
        self.__class__.has_dbm = bool(shutil.which("htdbm"))
        if self.has_dbm:
            dbm = d / "users.dbm"
            for f in d.glob("users.dbm*"):
                f.unlink()
            subprocess.run(["htdbm", "-b", "-B", "-C", "5", "-c", str(dbm),
                            "dbmuser", PW["dbmuser"]], check=True,
                           capture_output=True, timeout=30)
        conf = GkConf(env, extra_modules=["authn_file"]
                      + (["authn_dbm"] if self.has_dbm else []))
        es = "GKTokenKey ES256 %s kid=es-1" % keys["p256"].priv_path
        conf.add("<AuthnProviderAlias file alt>")
        conf.add("    AuthUserFile %s" % alias)
        conf.add("</AuthnProviderAlias>")
        conf.add_location("/token/alias", """
            SetHandler gk-token
            GKTokenAuthProvider alt file
            AuthUserFile %s
            GKTokenRolesFile %s
            %s
        """ % (first, roles, es))
        conf.add_location("/token/file-first", """
            SetHandler gk-token
            GKTokenAuthProvider file alt
            AuthUserFile %s
            %s
        """ % (first, es))
        conf.add_location("/token/default", """
            SetHandler gk-token
            AuthUserFile %s
            %s
        """ % (first, es))
        if self.has_dbm:
            conf.add_location("/token/dbm", """
                SetHandler gk-token
                GKTokenAuthProvider dbm
                AuthDBMUserFile %s
                AuthDBMType default
                GKTokenRolesFile %s
                %s
            """ % (d / "users.dbm", roles, es))
            conf.add_location("/token/dbm-file", """
                SetHandler gk-token
                GKTokenAuthProvider dbm file
                AuthDBMUserFile %s
                AuthDBMType default
                AuthUserFile %s
                %s
            """ % (d / "users.dbm", first, es))
        conf.install()
        env.make_readable()
        env.apache_restart()

    def test_gk_auth_326_01_alias_and_file(self, env):
        """alt (an AuthnProviderAlias) first, then file: a user of either
        is found."""
        c = claims_of(issued(post(env, "/token/alias", login("dora")))[
            "access_token"])
        assert c["sub"] == "dora" and c["roles"] == ["ops"]
        c = claims_of(issued(post(env, "/token/alias", login("alice")))[
            "access_token"])
        assert c["sub"] == "alice" and c["roles"] == ["admin", "reader"]
        assert_error(post(env, "/token/alias", login("dora", WRONG)), 400,
                     E_GRANT)

    def test_gk_auth_326_02_order(self, env):
        """erin is in both files: the first provider decides (a wrong
        password there is final, as in mod_auth_basic)."""
        issued(post(env, "/token/alias", login("erin")))
        assert_error(post(env, "/token/alias", login("erin", ERIN_SECOND)),
                     400, E_GRANT)
        issued(post(env, "/token/file-first", login("erin", ERIN_SECOND)))
        assert_error(post(env, "/token/file-first", login("erin")), 400,
                     E_GRANT)

    def test_gk_auth_326_03_default_is_file(self, env):
        issued(post(env, "/token/default", login("alice")))
        # the alias's users are not the location's
        pos = env.error_log.mark()
        assert_error(post(env, "/token/default", login("dora")), 400,
                     E_GRANT)
        assert gk10053_count(env, pos) == 1

    def test_gk_auth_326_04_dummy_only_when_all_unknown(self, env):
        """One dummy verification when no provider knows the user; none
        when the second provider knows it."""
        pos = env.error_log.mark()
        assert_error(post(env, "/token/alias", login("ghost", WRONG)), 400,
                     E_GRANT)
        assert gk10053_count(env, pos) == 1
        pos = env.error_log.mark()
        assert_error(post(env, "/token/alias", login("alice", WRONG)), 400,
                     E_GRANT)
        issued(post(env, "/token/alias", login("alice")))
        assert gk10053_count(env, pos) == 0

    def test_gk_auth_326_05_dbm(self, env):
        if not self.has_dbm:
            pytest.skip("htdbm not installed")
        c = claims_of(issued(post(env, "/token/dbm", login("dbmuser")))[
            "access_token"])
        assert c["sub"] == "dbmuser" and c["roles"] == ["ops"]
        assert_error(post(env, "/token/dbm", login("dbmuser", WRONG)), 400,
                     E_GRANT)
        pos = env.error_log.mark()
        assert_error(post(env, "/token/dbm", login("alice")), 400, E_GRANT)
        assert gk10053_count(env, pos) == 1
        # dbm, then file
        issued(post(env, "/token/dbm-file", login("alice")))
        issued(post(env, "/token/dbm-file", login("dbmuser")))


# ---- logs and audit --------------------------------------------------------

def _need_log(env):
    if not env.has_gk_module("log"):
        pytest.skip("mod_gk_log not built")


class TestTokenLogs:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        _need_log(env)
        d = env.data_dir / "token-logs"
        d.mkdir(parents=True, exist_ok=True)
        users = htpasswd(d / "users.htpasswd",
                         {u: PW[u] for u in ("alice", "bob")})
        roles = write_roles(d / "roles.txt", ROLES)
        conf = GkConf(env, gk_modules=("auth", "log"),
                      extra_modules=["authn_file"])
        conf.add("LogLevel info gk_auth:debug gk_log:debug authn_file:debug "
                 "authn_core:debug core:debug")
        conf.add('LogFormat "%h %l %u %t \\"%r\\" %>s %b %{Content-Type}i" '
                 'tokacc')
        conf.add('CustomLog "%s/token_access.log" tokacc' % env.logs_dir)
        conf.add('GKAuditLog "%s/token_audit.json"' % env.logs_dir)
        conf.add("GKAuthRolePermissions admin users:read")
        conf.add_location("/token", """
            SetHandler gk-token
            AuthUserFile %s
            GKTokenRolesFile %s
            GKTokenKey HS256 file:%s kid=h
        """ % (users, roles, keys["hs256"].secret_path))
        conf.install()
        env.make_readable()
        env.apache_restart()

    def audit(self, env, want, timeout=10.0):
        path = env.logs_dir / "token_audit.json"
        end = time.monotonic() + timeout
        while True:
            objs = []
            if path.exists():
                objs = [json.loads(l) for l in
                        path.read_bytes().split(b"\n")[:-1]]
            if len(objs) >= want or time.monotonic() > end:
                return objs
            time.sleep(0.05)

    def test_gk_auth_327_01_audit_and_no_password(self, env):
        before = len(self.audit(env, 0, timeout=0))
        issued(post(env, "/token", login("alice")))
        assert_error(post(env, "/token", login("alice", WRONG)), 400,
                     E_GRANT)
        assert_error(post(env, "/token", login("nobody", PW["bob"])), 400,
                     E_GRANT)
        assert_error(post(env, "/token", login("bob", scope="users:read")),
                     400, E_SCOPE)
        issued(post(env, "/token", login("bob")))
        objs = self.audit(env, before + 5)[before:]
        got = [(o["event"]["action"], o["event"]["outcome"],
                o["event"]["reason"], o.get("labels", {}).get("user"))
               for o in objs]
        assert got == [
            ("token-issued", "success", "ok", "alice"),
            ("login-refused", "failure", "login_failed", "alice"),
            ("login-refused", "failure", "login_failed", "nobody"),
            ("token-refused-scope", "failure", "insufficient_scope", "bob"),
            ("token-issued", "success", "ok", "bob"),
        ], got
        for o in objs:
            assert o["event"]["category"] == ["authentication"]
            assert o["gk"]["correlation_id"], o
            assert o["url"]["path"] == "/token"
        time.sleep(0.3)
        texts = {
            "access": (env.logs_dir / "token_access.log").read_bytes(),
            "error": open(env.error_log.path, "rb").read(),
            "audit": (env.logs_dir / "token_audit.json").read_bytes(),
        }
        assert b"POST /token HTTP/1.1" in texts["access"]
        assert any(l.tag == "GK10053" for l in env.error_log.recent())
        for name, text in texts.items():
            for pw in (PW["alice"], PW["bob"], WRONG):
                for form in (pw, urllib.parse.quote_plus(pw),
                             urllib.parse.quote(pw, safe="")):
                    assert form.encode() not in text, (name, form)


# ---- one key file, no kid= anywhere -------------------------------------

class TestTokenOneKeyNoKid:
    """GKTokenKey and GKAuthKey read the same private PEM, neither with
    kid=: both name the key by its RFC 7638 thumbprint, so the host
    verifies the tokens it issues."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        d = env.data_dir / "token-nokid"
        d.mkdir(parents=True, exist_ok=True)
        users = htpasswd(d / "users.htpasswd", {"alice": PW["alice"]})
        roles = write_roles(d / "roles.txt", ROLES)
        pem = keys["p256"].priv_path
        conf = GkConf(env, gk_modules=("auth",),
                      extra_modules=["authn_file"])
        conf.add_location("/token", """
            SetHandler gk-token
            AuthUserFile %s
            GKTokenRolesFile %s
            GKTokenKey ES256 %s
        """ % (users, roles, pem))
        conf.add_location("/api/", """
            AuthType gk-bearer
            GKAuthKey ES256 %s
            Require gk-role admin
        """ % pem)
        conf.install()
        env.make_readable()
        env.apache_restart()

    def test_gk_auth_329_30_verified_without_kid(self, env, keys):
        body = issued(post(env, "/token", login("alice")))
        tok = body["access_token"]
        kid = jwt.get_unverified_header(tok)["kid"]
        assert re.match(r"^[A-Za-z0-9_-]{43}$", kid), kid
        r = env.request("/api/x", headers={"Authorization": "Bearer " + tok})
        assert r.status_code == 200, r.text
        # another key's thumbprint is not this key's
        other = jwt.encode({"sub": "alice", "roles": ["admin"],
                            "exp": int(time.time()) + 60},
                           keys["p256"].private, algorithm="ES256",
                           headers={"kid": "not-this-key"})
        r = env.request("/api/x", headers={"Authorization": "Bearer " + other})
        assert r.status_code == 401


# ---- brute force: mod_gk_ratelimit on the token location ------------------

class TestTokenBruteForce:
    """The seed's 5/minute per client on the login, with mod_gk_ratelimit:
    the sixth POST in a minute is refused 429 before any password is
    checked (no bcrypt work, no audit event of a login)."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        if not env.has_gk_module("ratelimit"):
            pytest.skip("mod_gk_ratelimit not built")
        d = env.data_dir / "token-rl"
        d.mkdir(parents=True, exist_ok=True)
        users = htpasswd(d / "users.htpasswd", {"alice": PW["alice"]})
        conf = GkConf(env, gk_modules=("auth", "ratelimit"),
                      extra_modules=["authn_file"])
        conf.add("LogLevel gk_auth:debug")
        conf.add_location("/token", """
            SetHandler gk-token
            AuthUserFile %s
            GKTokenKey EdDSA %s kid=ed
            GKRateLimit login 5/minute methods=POST
        """ % (users, keys["ed25519"].priv_path))
        conf.install()
        env.make_readable()
        env.apache_restart()

    def test_gk_auth_329_20_login_limited(self, env):
        # six attempts inside one minute window (wait out its last seconds)
        while time.time() % 60 > 50:
            time.sleep(0.5)
        pos = env.error_log.mark()
        got = [post(env, "/token", login("ghost-%d" % i, WRONG))
               for i in range(6)]
        assert [r.status_code for r in got] == [400] * 5 + [429]
        assert got[5].headers["RateLimit-Policy"] == '"login";q=5;w=60'
        assert 1 <= int(got[5].headers["Retry-After"]) <= 60
        # the refused attempt never reached the password check
        assert gk10053_count(env, pos) == 5
        # GET is not counted (405 from the endpoint, not 429)
        assert env.request("/token").status_code == 405


# ---- h2c ---------------------------------------------------------------------

class TestTokenH2c:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        if env.default_mpm == "prefork":
            pytest.skip("mod_http2 does not run on prefork")
        if not shutil.which("curl") or not (env.mod_dir / "mod_http2.so") \
                .exists():
            pytest.skip("curl or mod_http2 missing")
        d = env.data_dir / "token-h2"
        d.mkdir(parents=True, exist_ok=True)
        users = htpasswd(d / "users.htpasswd", {"alice": PW["alice"]})
        roles = write_roles(d / "roles.txt", ROLES)
        conf = GkConf(env, extra_modules=["authn_file", "http2"])
        conf.add("Protocols h2c http/1.1")
        conf.add_location("/token", """
            SetHandler gk-token
            AuthUserFile %s
            GKTokenRolesFile %s
            GKTokenCookie gk_at
            GKTokenKey EdDSA %s kid=ed
        """ % (users, roles, keys["ed25519"].priv_path))
        conf.install()
        env.make_readable()
        env.apache_restart()

    def curl(self, env, data, method="POST", ctype=FORM):
        cmd = ["curl", "-s", "--http2-prior-knowledge", "-D", "-", "-o",
               "/dev/stderr", "--max-time", "20", "-X", method]
        if ctype:
            cmd += ["-H", "Content-Type: %s" % ctype]
        if data is not None:
            cmd += ["--data-binary", data]
        cmd.append(env.url("/token"))
        p = subprocess.run(cmd, capture_output=True, timeout=30)
        assert p.returncode == 0, p
        head = p.stdout.decode("latin-1")
        blocks = [b for b in head.split("\r\n\r\n") if b.strip()]
        lines = blocks[-1].split("\r\n")
        assert lines[0].startswith("HTTP/2 "), lines[0]
        hdrs = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            hdrs.setdefault(k.strip().lower(), []).append(v.strip())
        return int(lines[0].split()[1]), hdrs, p.stderr

    def test_gk_auth_328_01_h2c(self, env, keys):
        status, h, body = self.curl(env, encode(login("alice")).decode())
        assert status == 200, body
        assert h["content-type"] == ["application/json"]
        assert h["cache-control"] == ["no-store"]
        tok = json.loads(body)["access_token"]
        c = jwt.decode(tok, keys["ed25519"].public, algorithms=["EdDSA"])
        assert c["sub"] == "alice" and c["roles"] == ["admin", "reader"]
        assert h["set-cookie"] == [
            "gk_at=%s; HttpOnly; Secure; SameSite=Strict; Path=/; "
            "Max-Age=900" % tok]

    def test_gk_auth_328_02_h2c_errors(self, env):
        s1, _, b1 = self.curl(env, encode(login("alice", WRONG)).decode())
        s2, _, b2 = self.curl(env, encode(login("ghost", WRONG)).decode())
        assert (s1, b1) == (s2, b2) == (400, E_GRANT)
        s, h, b = self.curl(env, None, method="GET", ctype=None)
        assert (s, b) == (405, E_METHOD)
        assert h["allow"] == ["POST"]
        s, _, b = self.curl(env, "username=a&username=b&password=c")
        assert (s, b) == (400, E_REPEATED)
        s, _, b = self.curl(env, "x=" + "y" * 9000)
        assert (s, b) == (413, E_TOO_LARGE)


# ---- refusals ----------------------------------------------------------------

REFUSED = [
    ("lifetime-0", ["GKTokenLifetime 0"], "GKTokenLifetime"),
    ("lifetime-32d", ["GKTokenLifetime 32d"], "GKTokenLifetime"),
    ("lifetime-2678401", ["GKTokenLifetime 2678401"], "GKTokenLifetime"),
    ("lifetime-abc", ["GKTokenLifetime abc"], "GKTokenLifetime"),
    ("lifetime-negative", ["GKTokenLifetime -5"], "GKTokenLifetime"),
    ("max-body-10", ["GKTokenMaxBody 10"], "GKTokenMaxBody"),
    ("max-body-63", ["GKTokenMaxBody 63"], "GKTokenMaxBody"),
    ("max-body-1048577", ["GKTokenMaxBody 1048577"], "GKTokenMaxBody"),
    ("cost-3", ["GKTokenDummyHashCost 3"], "GKTokenDummyHashCost"),
    ("cost-18", ["GKTokenDummyHashCost 18"], "GKTokenDummyHashCost"),
    ("cookie-bad-name", ['GKTokenCookie "bad name"'], "GKTokenCookie"),
    ("cookie-semicolon", ["GKTokenCookie a;b"], "GKTokenCookie"),
    ("roles-missing", ["GKTokenRolesFile {missing}"], "GKTokenRolesFile"),
    ("roles-malformed", ["GKTokenRolesFile {malformed}"],
     "GKTokenRolesFile"),
    ("key-public", ["GKTokenKey ES256 {p256_pub}"], "GKTokenKey"),
    ("provider-unknown", ["GKTokenAuthProvider file nosuchprovider"],
     "GKTokenAuthProvider"),
    ("provider-dbm-not-loaded", ["GKTokenAuthProvider dbm"],
     "GKTokenAuthProvider"),
    ("provider-none", ["GKTokenAuthProvider"], "GKTokenAuthProvider"),
    ("alias-after", ["GKTokenAuthProvider later",
                     "</Location>",
                     "<AuthnProviderAlias file later>",
                     "    AuthUserFile {missing}",
                     "</AuthnProviderAlias>",
                     "<Location /other>"], "GKTokenAuthProvider"),
]


class TestTokenRefused:

    @pytest.mark.parametrize("lines,needle", [r[1:] for r in REFUSED],
                             ids=[r[0] for r in REFUSED])
    def test_gk_auth_329_01_refused(self, env, keys, lines, needle):
        d = env.data_dir / "token-bad"
        d.mkdir(parents=True, exist_ok=True)
        malformed = write_roles(d / "malformed.txt",
                                "admin: alice\nreader alice bob\n")
        v = {"missing": d / "missing-roles.txt", "malformed": malformed,
             "p256_pub": keys["p256"].pub_path}
        conf = GkConf(env, extra_modules=["authn_file"])
        conf.add_location("/token", "\n".join(
            ["SetHandler gk-token",
             "GKTokenKey ES256 %s" % keys["p256"].priv_path]
            + [l.format(**v) for l in lines]))
        conf.install()
        res = env.apache_fail()
        res.assert_refused(needle)
        if needle == "GKTokenAuthProvider" and len(lines[0].split()) > 1:
            assert lines[0].split()[-1] in res.output, res
        if "malformed" in lines[0]:
            assert "line 2" in res.output, res

    def test_gk_auth_329_02_accepted_bounds(self, env, keys):
        """The limits themselves start; the server scope is inherited."""
        d = env.data_dir / "token-bounds"
        d.mkdir(parents=True, exist_ok=True)
        users = htpasswd(d / "users.htpasswd", {"alice": PW["alice"]})
        conf = GkConf(env, extra_modules=["authn_file"])
        # a lifetime over the default GKAuthMaxTokenLifetime (1d) needs
        # a longer one (GK10060)
        conf.add("GKAuthMaxTokenLifetime 31d")
        conf.add("GKTokenLifetime 31d")
        conf.add("GKTokenMaxBody 1048576")
        conf.add("GKTokenDummyHashCost 4")
        conf.add("GKTokenKey ES256 %s" % keys["p256"].priv_path)
        conf.add_location("/token", """
            SetHandler gk-token
            AuthUserFile %s
        """ % users)
        conf.add_location("/token/min", """
            GKTokenLifetime 1
            GKTokenMaxBody 64
        """)
        conf.install()
        env.make_readable()
        env.apache_restart()
        assert issued(post(env, "/token", login("alice")))["expires_in"] == \
            31 * 86400
        assert issued(post(env, "/token/min", login("alice")))[
            "expires_in"] == 1
        pos = env.error_log.mark()
        assert_error(post(env, "/token", login("ghost", WRONG)), 400,
                     E_GRANT)
        assert gk10053_count(env, pos) == 1
