"""mod_gk_auth: publishing the keys tokens are signed with (issue 13).

GKTokenKey ALG SOURCE [kid=ID] [publish-only], GKTokenJWKSMaxAge and
`SetHandler gk-jwks`: the JWK Set (RFC 7517/7518) of the scope's keys,
with exactly the public members, kid = the RFC 7638 thumbprint (computed
here independently) or the one given; HMAC keys never published. The
document is accepted by PyJWT (PyJWKSet, PyJWKClient against the URL)
and by mod_gk_auth's own GKAuthKeySet (a gateway verifying with the
published file). publish-only keys (public PEM, certificate, private
key); GET/HEAD/405; Cache-Control; a nested scope's list replaces the
parent's; one key file that both GKAuthKey and GKTokenKey read; refusals
through `apache2 -t` and a start, and in .htaccess.
The token endpoint (gk-token) is not built yet: no token is issued here.
"""

import datetime
import hashlib
import json
import subprocess

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from gkhttpd import GkConf
from gkhttpd import tokens as T
from gkhttpd.check import assert_challenge, assert_status
from gkhttpd.keys import b64u

JWKS_TYPE = "application/jwk-set+json"
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}
# the members a published JWK has, beside the key's own
COMMON = {"kty", "kid", "use", "alg"}
OWN = {"RSA": {"n", "e"}, "EC": {"crv", "x", "y"}, "OKP": {"crv", "x"}}
# RFC 7638 section 3.2: the required members, in lexicographic order
REQUIRED = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"),
            "OKP": ("crv", "kty", "x")}

# (key, alg, kid given or None) of /jwks/all, in configuration order;
# SOURCE: a bare PEM path, or file:PATH for "file"
PUBLISHED = [
    ("rsa2048", "RS256", None, "bare"),
    ("rsa2048-c", "PS384", "ps-2025", "bare"),
    ("p256", "ES256", None, "bare"),
    ("p384", "ES384", None, "file"),
    ("p521", "ES512", None, "bare"),
    ("ed25519", "EdDSA", None, "bare"),
    ("ed25519-c", "EdDSA", "ed-2025", "file"),
]
IDS = ["%s-%s" % (a, k) for k, a, _, _ in PUBLISHED]


def thumbprint(jwk):
    """RFC 7638: base64url(SHA-256(the required members as JSON, sorted,
    no whitespace))."""
    req = {m: jwk[m] for m in REQUIRED[jwk["kty"]]}
    canon = json.dumps(req, separators=(",", ":"), sort_keys=True)
    return b64u(hashlib.sha256(canon.encode()).digest())


def expected_jwk(keys, name, alg, kid=None):
    """The public JWK a GKTokenKey line must publish, from cryptography's
    numbers (never from the server's document)."""
    k = keys[name].jwk()
    k.update(use="sig", alg=alg)
    k["kid"] = kid if kid is not None else thumbprint(k)
    return k


def token_key_line(keys, name, alg, kid=None, source="bare", extra=""):
    path = keys[name].priv_path
    src = "file:%s" % path if source == "file" else str(path)
    line = "GKTokenKey %s %s" % (alg, src)
    if kid:
        line += " kid=%s" % kid
    return (line + " " + extra).rstrip()


def make_certificate(keys, name, path):
    """A self-signed certificate of keys[name] (PEM) at path."""
    k = keys[name]
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                            "gk-retired-issuer")])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(subject)
            .issuer_name(subject).public_key(k.public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(k.private, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    path.chmod(0o644)
    return path


def fetch_jwks(env, path):
    r = env.get(path)
    assert_status(r, 200)
    assert r.headers["Content-Type"] == JWKS_TYPE, r.headers
    return r.json()


def assert_public_only(doc):
    assert set(doc) == {"keys"}, doc
    assert isinstance(doc["keys"], list), doc
    for k in doc["keys"]:
        assert not PRIVATE_MEMBERS & set(k), k
        assert set(k) == COMMON | OWN[k["kty"]], k
        assert k["use"] == "sig", k


def publishing_conf(env, keys):
    """The publishing side: a GkConf with every /jwks/* location."""
    d = env.data_dir / "jwks"
    d.mkdir(parents=True, exist_ok=True)
    cert = make_certificate(keys, "rsa2048-b", d / "retired-cert.pem")
    conf = GkConf(env)
    conf.add_location("/jwks/all", "\n".join(
        ["SetHandler gk-jwks"]
        + [token_key_line(keys, n, a, kid, src)
           for n, a, kid, src in PUBLISHED]
        # HMAC keys in the same scope: never published
        + ["GKTokenKey HS256 file:%s kid=hmac-1" % keys["hs256"].secret_path,
           "GKTokenKey HS512 file:%s" % keys["hs512"].secret_path]))
    conf.add_location("/jwks/hs", """
        SetHandler gk-jwks
        GKTokenKey HS256 file:%s
        GKTokenKey HS384 file:%s kid=h384
    """ % (keys["hs256"].secret_path, keys["hs384"].secret_path))
    conf.add_location("/jwks/none", """
        SetHandler gk-jwks
    """)
    conf.add_location("/jwks/pub", """
        SetHandler gk-jwks
        GKTokenKey ES256 %s publish-only
        GKTokenKey RS256 %s publish-only
        GKTokenKey EdDSA %s kid=retired-ed publish-only
    """ % (keys["p256-b"].pub_path, cert, keys["ed25519-b"].priv_path))
    for loc, age in (("/jwks/age60", 60), ("/jwks/age0", 0),
                     ("/jwks/agemax", 31536000)):
        conf.add_location(loc, """
            SetHandler gk-jwks
            GKTokenJWKSMaxAge %d
            %s
        """ % (age, token_key_line(keys, "p256", "ES256")))
    # nested: /nest/inner's list replaces /nest's; the max-age is inherited
    conf.add_location("/nest", """
        SetHandler gk-jwks
        GKTokenJWKSMaxAge 120
        %s
        %s
    """ % (token_key_line(keys, "rsa2048-d", "RS256"),
           token_key_line(keys, "p256-c", "ES256")))
    conf.add_location("/nest/inner", token_key_line(keys, "ed25519-d",
                                                    "EdDSA"))
    # one key file: GKAuthKey verifies with the private PEM's public half,
    # GKTokenKey publishes (and will sign with) the same file
    one = keys["p256-d"].priv_path
    conf.add_location("/one", """
        GKAuthKey ES256 %s kid=one-2025
        GKTokenKey ES256 %s kid=one-2025
    """ % (one, one))
    conf.add_location("/one/api", """
        AuthType gk-bearer
        Require gk-role admin
    """)
    conf.add_location("/one/jwks", """
        SetHandler gk-jwks
    """)
    # .htaccess may not hold either directive
    ht = env.data_dir / "jwks-ht"
    env.write_file(ht / "key" / ".htaccess", "SetHandler gk-jwks\n"
                   "GKTokenKey ES256 %s\n" % keys["p256"].priv_path)
    env.write_file(ht / "age" / ".htaccess", "SetHandler gk-jwks\n"
                   "GKTokenJWKSMaxAge 10\n")
    for sub in ("key", "age"):
        env.write_file(ht / sub / "ok.txt", "ok\n")
    conf.add('Alias /jwks-ht/ "%s/"' % ht)
    conf.add_directory(ht, """
        AllowOverride All
        Require all granted
    """)
    return conf


def add_verifiers(conf, all_file, pub_file):
    conf.add_location("/verify", """
        AuthType gk-bearer
        GKAuthKeySet %s
        Require gk-role admin
    """ % all_file)
    conf.add_location("/verify-pub", """
        AuthType gk-bearer
        GKAuthKeySet %s
        Require gk-role admin
    """ % pub_file)


class TestJWKS:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        # first the publisher alone; its documents become the key sets of
        # the verifying locations of the second start
        conf = publishing_conf(env, keys)
        conf.install()
        env.apache_restart()
        d = env.data_dir / "jwks"
        files = {}
        for name in ("all", "pub"):
            files[name] = keys.write_jwks(d / ("published-%s.json" % name),
                                          env.get("/jwks/%s" % name).text)
        conf = publishing_conf(env, keys)
        add_verifiers(conf, files["all"], files["pub"])
        conf.install()
        env.make_readable()
        env.apache_restart()
        env.error_log.allow(tags=["AH01630", "AH01631"])
        self.__class__.files = files

    # ---- the document --------------------------------------------------
    def test_gk_auth_310_01_document(self, env, keys):
        """Exactly the public JWKs, in configuration order; no HMAC key."""
        doc = fetch_jwks(env, "/jwks/all")
        assert_public_only(doc)
        assert doc["keys"] == [expected_jwk(keys, n, a, kid)
                               for n, a, kid, _ in PUBLISHED]

    @pytest.mark.parametrize("i", range(len(PUBLISHED)), ids=IDS)
    def test_gk_auth_310_02_kid(self, env, keys, i):
        """kid: the given one, else the RFC 7638 thumbprint."""
        name, alg, kid, _ = PUBLISHED[i]
        jwk = fetch_jwks(env, "/jwks/all")["keys"][i]
        tp = thumbprint(keys[name].jwk())
        assert len(tp) == 43
        assert jwk["kid"] == (kid or tp)
        assert thumbprint(jwk) == tp        # the members are the key's

    def test_gk_auth_310_03_ec_coordinates(self, env, keys):
        """EC x and y are the curve's full field length (RFC 7518 6.2.1.2),
        also when the leading bytes are zero."""
        sizes = {"P-256": 32, "P-384": 48, "P-521": 66}
        doc = fetch_jwks(env, "/jwks/all")
        ecs = [k for k in doc["keys"] if k["kty"] == "EC"]
        assert sorted(k["crv"] for k in ecs) == sorted(sizes)
        for k in ecs:
            for m in ("x", "y"):
                assert len(T.b64u_decode(k[m])) == sizes[k["crv"]], k
        okp = [k for k in doc["keys"] if k["kty"] == "OKP"]
        assert okp and all(k["crv"] == "Ed25519"
                           and len(T.b64u_decode(k["x"])) == 32 for k in okp)

    def test_gk_auth_310_04_hmac_only(self, env):
        r = env.get("/jwks/hs")
        assert_status(r, 200)
        assert r.headers["Content-Type"] == JWKS_TYPE
        assert r.text == '{"keys":[]}'

    def test_gk_auth_310_05_no_key_in_scope(self, env):
        assert fetch_jwks(env, "/jwks/none") == {"keys": []}

    def test_gk_auth_310_06_publish_only(self, env, keys):
        """From a public PEM, a certificate and a private key."""
        doc = fetch_jwks(env, "/jwks/pub")
        assert_public_only(doc)
        assert doc["keys"] == [
            expected_jwk(keys, "p256-b", "ES256"),
            expected_jwk(keys, "rsa2048-b", "RS256"),
            expected_jwk(keys, "ed25519-b", "EdDSA", "retired-ed")]

    # ---- HTTP ------------------------------------------------------------
    def test_gk_auth_311_01_get_headers(self, env):
        r = env.get("/jwks/all")
        assert_status(r, 200)
        assert r.headers["Content-Type"] == JWKS_TYPE
        assert r.headers["Cache-Control"] == "max-age=300"
        assert int(r.headers["Content-Length"]) == len(r.content)

    def test_gk_auth_311_02_head(self, env):
        g = env.get("/jwks/all")
        h = env.request("/jwks/all", "HEAD")
        assert_status(h, 200)
        assert h.content == b""
        for name in ("Content-Type", "Cache-Control", "Content-Length"):
            assert h.headers.get(name) == g.headers.get(name), name

    def test_gk_auth_311_03_head_raw(self, env):
        """No body bytes at all on the wire after a HEAD's headers."""
        r = env.raw("HEAD /jwks/all HTTP/1.1\nHost: 127.0.0.1\n"
                    "Connection: close\n\n")
        assert r.status_code == 200
        assert r.headers["Content-Type"] == JWKS_TYPE
        assert r.content == b""

    @pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH",
                                        "OPTIONS"])
    def test_gk_auth_311_04_method_not_allowed(self, env, method):
        r = env.request("/jwks/all", method, data=b"x=1")
        assert_status(r, 405)
        allow = [m.strip() for m in r.headers["Allow"].split(",")]
        assert "GET" in allow and "HEAD" in allow, allow
        assert method not in allow, allow
        assert '"keys"' not in r.text

    @pytest.mark.parametrize("loc,age", [
        ("/jwks/all", 300), ("/jwks/hs", 300), ("/jwks/age60", 60),
        ("/jwks/age0", 0), ("/jwks/agemax", 31536000)])
    def test_gk_auth_311_05_cache_control(self, env, loc, age):
        r = env.get(loc)
        assert_status(r, 200)
        assert r.headers["Cache-Control"] == "max-age=%d" % age

    # ---- scopes ------------------------------------------------------------
    def test_gk_auth_312_01_nested_replaces(self, env, keys):
        outer = fetch_jwks(env, "/nest")
        assert outer["keys"] == [expected_jwk(keys, "rsa2048-d", "RS256"),
                                 expected_jwk(keys, "p256-c", "ES256")]
        # a path under /nest without its own GKTokenKey inherits the list
        assert fetch_jwks(env, "/nest/deeper")["keys"] == outer["keys"]
        r = env.get("/nest/inner")
        assert r.json()["keys"] == [expected_jwk(keys, "ed25519-d", "EdDSA")]
        # GKTokenJWKSMaxAge is inherited
        assert r.headers["Cache-Control"] == "max-age=120"

    # ---- PyJWT -------------------------------------------------------------
    @pytest.mark.parametrize("i", range(len(PUBLISHED)), ids=IDS)
    def test_gk_auth_313_01_pyjwt_keyset(self, env, keys, i):
        name, alg, kid, _ = PUBLISHED[i]
        doc = fetch_jwks(env, "/jwks/all")
        kid = kid or thumbprint(keys[name].jwk())
        jwks = jwt.PyJWKSet.from_dict(doc)
        jwk = [k for k in jwks.keys if k.key_id == kid]
        assert len(jwk) == 1
        tok = T.mint(keys[name], alg, kid=kid, roles=["admin"])
        claims = jwt.decode(tok, jwk[0].key, algorithms=[alg])
        assert claims["sub"] == "alice"
        other = T.mint(keys["rsa2048-b" if alg[0] in "RP" else
                            {"ES256": "p256-b", "ES384": "p384-b",
                             "ES512": "p521-b", "EdDSA": "ed25519-b"}[alg]],
                       alg, kid=kid)
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(other, jwk[0].key, algorithms=[alg])

    def test_gk_auth_313_02_pyjwk_client(self, env, keys):
        """PyJWKClient fetches the URL and finds each key by the token's
        kid."""
        client = jwt.PyJWKClient(env.url("/jwks/all"), cache_keys=False)
        for name, alg, kid, _ in PUBLISHED:
            tok = T.mint(keys[name], alg,
                         kid=kid or thumbprint(keys[name].jwk()))
            sk = client.get_signing_key_from_jwt(tok)
            assert jwt.decode(tok, sk.key, algorithms=[alg])["sub"] == \
                "alice"

    # ---- GKAuthKeySet with the published document ----------------------
    def test_gk_auth_314_01_same_document(self, env):
        """The file the verifiers read is what the server publishes."""
        assert json.loads(self.files["all"].read_text()) == \
            fetch_jwks(env, "/jwks/all")

    @pytest.mark.parametrize("i", range(len(PUBLISHED)), ids=IDS)
    def test_gk_auth_314_02_keyset_verifies(self, env, keys, i):
        name, alg, kid, _ = PUBLISHED[i]
        kid = kid or thumbprint(keys[name].jwk())
        ok = T.mint(keys[name], alg, kid=kid, roles=["admin"])
        assert_status(env.get("/verify/echo", token=ok), 200)
        # the kid is optional: kid-less tokens are tried against the keys
        # of their algorithm
        assert_status(env.get("/verify", token=T.mint(
            keys[name], alg, roles=["admin"])), 200)
        r = env.get("/verify", token=T.mint(keys[name], alg, kid=kid,
                                            roles=["user"]))
        assert_status(r, 401)
        assert_challenge(r, error="insufficient_scope")

    @pytest.mark.parametrize("key,alg,kid", [
        ("rsa2048-b", "RS256", "pub:rsa2048"),     # a published kid
        ("rsa2048-b", "RS256", "own"),             # its own thumbprint
        ("p256-b", "ES256", "own"),
        ("ed25519-b", "EdDSA", "ed-2025"),
        ("ed25519-b", "EdDSA", None),
        ("hs256", "HS256", "hmac-1"),              # configured, unpublished
        ("hs512", "HS512", None),
    ])
    def test_gk_auth_314_03_unpublished_key(self, env, keys, key, alg, kid):
        if kid == "own":
            kid = thumbprint(keys[key].jwk())
        elif kid == "pub:rsa2048":
            kid = thumbprint(keys["rsa2048"].jwk())
        r = env.get("/verify", token=T.mint(keys[key], alg, kid=kid,
                                            roles=["admin"]))
        assert_status(r, 401)
        assert_challenge(r, error="invalid_token")

    @pytest.mark.parametrize("key,alg,kid,status", [
        ("p256-b", "ES256", "own", 200),            # from a public PEM
        ("rsa2048-b", "RS256", "own", 200),         # from a certificate
        ("ed25519-b", "EdDSA", "retired-ed", 200),  # from a private key
        ("p256", "ES256", "own", 401),
    ])
    def test_gk_auth_314_04_publish_only_verifies(self, env, keys, key, alg,
                                                  kid, status):
        """A retired key (publish-only) keeps verifying its tokens."""
        if kid == "own":
            kid = thumbprint(keys[key].jwk())
        r = env.get("/verify-pub", token=T.mint(keys[key], alg, kid=kid,
                                                roles=["admin"]))
        assert_status(r, status)

    # ---- one key file --------------------------------------------------------
    def test_gk_auth_315_01_one_key_file(self, env, keys):
        """GKAuthKey with the private PEM verifies; GKTokenKey with the
        same file publishes its public half under the same kid."""
        k = keys["p256-d"]
        assert_status(env.get("/one/api", token=T.mint(
            k, "ES256", kid="one-2025", roles=["admin"])), 200)
        assert_status(env.get("/one/api", token=T.mint(
            k, "ES256", roles=["admin"])), 200)
        r = env.get("/one/api", token=T.mint(keys["p256"], "ES256",
                                             kid="one-2025",
                                             roles=["admin"]))
        assert_status(r, 401)
        assert fetch_jwks(env, "/one/jwks") == {
            "keys": [expected_jwk(keys, "p256-d", "ES256", "one-2025")]}

    def test_gk_auth_315_02_private_file_readable(self, env, keys):
        """The published JWK verifies what the file's private key signs
        (PyJWT), so the file the server reads is the issuing key."""
        doc = fetch_jwks(env, "/one/jwks")
        key = jwt.PyJWK(doc["keys"][0]).key
        tok = T.mint(keys["p256-d"], "ES256", kid="one-2025")
        assert jwt.decode(tok, key, algorithms=["ES256"])["sub"] == "alice"

    # ---- .htaccess -----------------------------------------------------------
    @pytest.mark.parametrize("d,directive", [("key", "GKTokenKey"),
                                             ("age", "GKTokenJWKSMaxAge")])
    def test_gk_auth_316_01_refused_in_htaccess(self, env, d, directive):
        r = env.get("/jwks-ht/%s/ok.txt" % d)
        assert_status(r, 500)
        rx = r"/jwks-ht/%s/\.htaccess: " % d
        lines = env.error_log.find(regex=rx, level="alert")
        assert lines, "no alert for %s/.htaccess" % d
        assert directive in lines[-1].text, lines[-1].text
        assert "not allowed here" in lines[-1].text, lines[-1].text
        env.error_log.ignore(regex=rx)


# ---- refusals ------------------------------------------------------------------

def _openssl(*args):
    subprocess.run(("openssl",) + args, check=True, capture_output=True,
                   timeout=30)


@pytest.fixture(scope="module")
def bad_files(env, keys):
    """Key files that must be refused, made once."""
    d = env.data_dir / "jwks-bad"
    d.mkdir(parents=True, exist_ok=True)
    f = {}
    f["enc"] = d / "enc-pkcs8.pem"
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-aes256", "-pass", "pass:x",
             "-out", str(f["enc"]))
    f["enc-trad"] = d / "enc-trad.pem"
    _openssl("pkey", "-in", str(f["enc"]), "-passin", "pass:x", "-aes256",
             "-passout", "pass:x", "-traditional", "-out",
             str(f["enc-trad"]))
    f["short"] = d / "short.secret"
    f["short"].write_bytes(b"0123456789abcdef")          # 16 bytes
    f["cert"] = make_certificate(keys, "rsa2048", d / "cert.pem")
    for p in f.values():
        p.chmod(0o644)
    env.make_readable()
    return f


def _refusals():
    """(id, lines (format of keys, files), what the output must name)."""
    return [
        ("public-key", ["GKTokenKey ES256 {p256_pub}"],
         ["GKTokenKey", "public key"]),
        ("certificate", ["GKTokenKey RS256 {cert}"],
         ["GKTokenKey", "certificate"]),
        ("encrypted", ["GKTokenKey ES256 {enc}"],
         ["GKTokenKey", "encrypted"]),
        ("encrypted-traditional", ["GKTokenKey ES256 {enc_trad}"],
         ["GKTokenKey", "encrypted"]),
        ("encrypted-publish-only", ["GKTokenKey ES256 {enc} publish-only"],
         ["GKTokenKey", "unencrypted"]),
        ("rsa1024", ["GKTokenKey RS256 {rsa1024}"], ["GKTokenKey", "2048"]),
        ("rsa1024-publish-only",
         ["GKTokenKey RS256 {rsa1024_pub} publish-only"],
         ["GKTokenKey", "2048"]),
        ("hs256-16-bytes", ["GKTokenKey HS256 file:{short}"],
         ["GKTokenKey", "16 bytes"]),
        ("hs256-publish-only",
         ["GKTokenKey HS256 file:{hs256} publish-only"],
         ["GKTokenKey", "never published"]),
        ("hs256-bare-path", ["GKTokenKey HS256 {hs256}"],
         ["GKTokenKey", "file:PATH"]),
        ("wrong-curve", ["GKTokenKey ES256 {p384}"], ["GKTokenKey", "P-256"]),
        ("ed448", ["GKTokenKey EdDSA {ed448}"], ["GKTokenKey", "Ed25519"]),
        ("ec-key-for-rs", ["GKTokenKey RS256 {p256}"],
         ["GKTokenKey", "RSA"]),
        ("unknown-alg", ["GKTokenKey RS999 {rsa2048}"],
         ["GKTokenKey", "RS999"]),
        ("none", ["GKTokenKey none {rsa2048}"], ["GKTokenKey", "'none'"]),
        ("no-source", ["GKTokenKey RS256"], ["GKTokenKey"]),
        ("missing-file", ["GKTokenKey RS256 {missing}"], ["GKTokenKey"]),
        ("env-unset", ["GKTokenKey HS256 env:GK_JWKS_TEST_UNSET"],
         ["GKTokenKey", "GK_JWKS_TEST_UNSET"]),
        ("kid-twice", ["GKTokenKey RS256 {rsa2048} kid=a kid=b"],
         ["GKTokenKey", "'kid=b'"]),
        ("empty-kid", ["GKTokenKey RS256 {rsa2048} kid="],
         ["GKTokenKey", "'kid='"]),
        ("publish-only-twice",
         ["GKTokenKey RS256 {rsa2048} publish-only publish-only"],
         ["GKTokenKey", "'publish-only'"]),
        ("unknown-option", ["GKTokenKey RS256 {rsa2048} sign-only"],
         ["GKTokenKey", "sign-only"]),
        ("same-kid", ["GKTokenKey RS256 {rsa2048} kid=k1",
                      "GKTokenKey ES256 {p256} kid=k1"],
         ["GKTokenKey", "kid 'k1'"]),
        ("same-key-twice", ["GKTokenKey RS256 {rsa2048}",
                            "GKTokenKey RS256 {rsa2048}"],
         ["GKTokenKey", "{rsa2048_tp}"]),
        ("same-kid-hmac", ["GKTokenKey HS256 file:{hs256} kid=h",
                           "GKTokenKey HS512 file:{hs512} kid=h"],
         ["GKTokenKey", "kid 'h'"]),
        ("max-age-negative", ["GKTokenJWKSMaxAge -1"],
         ["GKTokenJWKSMaxAge", "31536000"]),
        ("max-age-too-big", ["GKTokenJWKSMaxAge 31536001"],
         ["GKTokenJWKSMaxAge", "31536000"]),
        ("max-age-not-a-number", ["GKTokenJWKSMaxAge 5m"],
         ["GKTokenJWKSMaxAge"]),
    ]


REFUSALS = _refusals()


class TestJWKSRefused:

    @pytest.mark.parametrize("lines,needles", [r[1:] for r in REFUSALS],
                             ids=[r[0] for r in REFUSALS])
    def test_gk_auth_317_01_refused(self, env, keys, bad_files, lines,
                                    needles):
        v = {"p256_pub": keys["p256"].pub_path,
             "p256": keys["p256"].priv_path,
             "p384": keys["p384"].priv_path,
             "ed448": keys["ed448"].priv_path,
             "rsa2048": keys["rsa2048"].priv_path,
             "rsa2048_tp": thumbprint(keys["rsa2048"].jwk()),
             "rsa1024": keys["rsa1024"].priv_path,
             "rsa1024_pub": keys["rsa1024"].pub_path,
             "hs256": keys["hs256"].secret_path,
             "hs512": keys["hs512"].secret_path,
             "cert": bad_files["cert"], "enc": bad_files["enc"],
             "enc_trad": bad_files["enc-trad"], "short": bad_files["short"],
             "missing": env.data_dir / "jwks-bad" / "missing.pem"}
        conf = GkConf(env)
        conf.add_location("/jwks", "\n".join(
            ["SetHandler gk-jwks"] + [l.format(**v) for l in lines]))
        conf.install()
        env.apache_fail().assert_refused(*[n.format(**v) for n in needles])

    def test_gk_auth_317_02_accepted_bounds(self, env, keys):
        """The largest max-age starts; both directives work in the server
        scope (inherited by the location), publish-only before kid=."""
        conf = GkConf(env)
        conf.add("GKTokenJWKSMaxAge 31536000")
        conf.add("GKTokenKey ES256 %s publish-only kid=p"
                 % keys["p256"].pub_path)
        conf.add_location("/jwks", """
            SetHandler gk-jwks
        """)
        conf.install()
        env.apache_restart()
        r = env.get("/jwks")
        assert_status(r, 200)
        assert r.headers["Cache-Control"] == "max-age=31536000"
        assert r.json()["keys"] == [expected_jwk(keys, "p256", "ES256", "p")]
