"""mod_gk_auth: hostile tokens, forged by hand.

Each one must be answered 401 invalid_token (or, for what is not even a
token68, 400 invalid_request), must never leak into the answer, and the
server must go on serving good tokens.
"""

import datetime
import json
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gkhttpd import GkConf
from gkhttpd import tokens as T
from gkhttpd.check import assert_challenge, assert_problem, assert_status
from gkhttpd.keys import b64u


TOKEN68 = re.compile(r"[A-Za-z0-9._~+/-]+=*")


def rs_header(**kw):
    h = {"alg": "RS256", "typ": "JWT"}
    h.update(kw)
    return h


def self_signed_cert_der(key):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker")])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public).serial_number(1)
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key.private, hashes.SHA256()))
    from cryptography.hazmat.primitives.serialization import Encoding
    return cert.public_bytes(Encoding.DER)


def flip_trailing_bits(seg):
    """Same decoded bytes for a lenient decoder, non-canonical text: set
    the unused low bits of the last base64url character."""
    alphabet = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                "0123456789-_")
    unused = {2: 4, 3: 2}[len(seg) % 4]
    v = alphabet.index(seg[-1])
    assert v & ((1 << unused) - 1) == 0
    return seg[:-1] + alphabet[v | 1]


def attacks(keys, env):
    """(id, token, where) with where the location; all must be refused."""
    rsa = keys["rsa2048"]
    evil = keys["rsa2048-evil"]
    p256 = keys["p256"]
    hs = keys["hs256"]
    good = T.mint(rsa, "RS256")
    gh, gp, gs = good.split(".")
    payload = T.claims(sub="admin")
    pem = rsa.pub_pem
    out = []

    def add(name, tok, where="/x"):
        out.append((name, tok, where))

    # ---- alg none and friends
    for a in ("none", "None", "NONE", "nOnE"):
        add("alg-%s" % a, T.forge({"alg": a, "typ": "JWT"}, payload))
        add("alg-%s-sig" % a, T.forge({"alg": a}, payload, signature=gs))
    add("alg-missing", T.forge({"typ": "JWT"}, payload, rsa, alg="RS256"))
    add("alg-null", T.forge({"alg": None}, payload, rsa, alg="RS256"))
    add("alg-number", T.forge({"alg": 256}, payload, rsa, alg="RS256"))
    add("alg-lower", T.forge({"alg": "rs256"}, payload, rsa, alg="RS256"))
    add("alg-space", T.forge({"alg": "RS256 "}, payload, rsa, alg="RS256"))
    add("alg-array", T.forge({"alg": ["RS256"]}, payload, rsa, alg="RS256"))

    # ---- algorithm confusion: the RSA public key as an HMAC secret
    for a in ("HS256", "HS384", "HS512"):
        add("confusion-%s-pem" % a,
            T.forge({"alg": a, "typ": "JWT"}, payload, pem, alg=a))
    add("confusion-pem-stripped",
        T.forge({"alg": "HS256"}, payload, pem.strip(), alg="HS256"))
    add("confusion-pem-kid",
        T.forge({"alg": "HS256", "kid": "r1"}, payload, pem, alg="HS256"),
        "/kid")
    add("confusion-ec-pem",
        T.forge({"alg": "HS256"}, payload, p256.pub_pem, alg="HS256"),
        "/kid")
    add("rs-header-ps-signature",
        T.forge(rs_header(), payload, rsa, alg="PS256"))
    add("hs-kid-of-rsa-key",
        T.forge({"alg": "HS256", "kid": "r1"}, payload, hs, alg="HS256"),
        "/kid")
    add("rs-kid-of-hmac-key",
        T.forge({"alg": "RS256", "kid": "h1"}, payload, rsa), "/kid")

    # ---- duplicate JSON members
    add("dup-alg-header",
        T.forge('{"alg":"none","alg":"RS256","typ":"JWT"}', payload, rsa,
                alg="RS256"))
    add("dup-alg-header-2",
        T.forge('{"alg":"RS256","alg":"RS256"}', payload, rsa, alg="RS256"))
    add("dup-sub-payload",
        T.forge(rs_header(), '{"sub":"alice","sub":"admin","exp":%d}'
                % (T.now() + 300), rsa))
    add("dup-exp-payload",
        T.forge(rs_header(), '{"sub":"a","exp":1,"exp":%d}'
                % (T.now() + 300), rsa))

    # ---- base64url encoding
    add("padding-sig", good + "==")
    add("padding-header", T.forge_raw(gh + "=", gp, rsa, "RS256"))
    hdr = b64u(json.dumps(rs_header(), separators=(",", ":")))
    std_pay = b64u(json.dumps(payload) + "~~>>???").replace("-", "+") \
        .replace("_", "/")
    if "+" in std_pay or "/" in std_pay:
        add("std-alphabet-payload", T.forge_raw(hdr, std_pay, rsa, "RS256"))
    add("tilde-in-payload", T.forge_raw(hdr, gp[:-1] + "~", rsa, "RS256"))
    add("len-mod-4-is-1", T.forge_raw(hdr, gp + "A", rsa, "RS256"))
    add("trailing-bits-sig", "%s.%s.%s" % (gh, gp, flip_trailing_bits(gs)))
    tp = gp if len(gp) % 4 else T.b64u(T.b64u_decode(gp) + b" ")
    if len(tp) % 4:
        add("trailing-bits-payload",
            T.forge_raw(gh, flip_trailing_bits(tp), rsa, "RS256"))

    # ---- structure
    add("one-segment", gh)
    add("two-segments", gh + "." + gp)
    add("two-segments-dot", gh + "." + gp + ".")
    add("four-segments", good + "." + gs)
    add("five-segments-jwe", "%s.%s.%s.%s.%s" % (gh, gp, gs, gp, gs))
    add("empty-segments", "..")
    add("empty-header", "." + gp + "." + gs)
    add("empty-payload", T.forge_raw(gh, "", rsa, "RS256"))
    add("sig-stripped", gh + "." + gp + ".")
    add("header-array", T.forge([rs_header()], payload, rsa, alg="RS256"))
    add("header-string", T.forge('"RS256"', payload, rsa, alg="RS256"))
    add("header-not-json", T.forge(b"{alg:RS256}", payload, rsa,
                                   alg="RS256"))
    add("payload-array", T.forge(rs_header(), [payload], rsa))
    add("payload-string", T.forge(rs_header(), '"admin"', rsa))
    add("payload-number", T.forge(rs_header(), 42, rsa))
    add("payload-null", T.forge(rs_header(), "null", rsa))
    add("payload-not-json", T.forge(rs_header(), b"sub=admin", rsa))
    add("payload-trailing-garbage",
        T.forge(rs_header(), json.dumps(payload) + "}", rsa))
    add("payload-two-objects",
        T.forge(rs_header(), json.dumps(payload) + json.dumps(payload), rsa))
    add("payload-bad-utf8",
        T.forge(rs_header(), b'{"sub":"\xff\xfe","exp":%d}'
                % (T.now() + 300), rsa))
    add("payload-nul-escape",
        T.forge(rs_header(), '{"sub":"alice\\u0000admin","exp":%d}'
                % (T.now() + 300), rsa))

    # ---- crit
    add("crit-exp", T.forge(rs_header(crit=["exp"], exp=1), payload, rsa))
    add("crit-unknown", T.forge(rs_header(crit=["x-gk"], **{"x-gk": 1}),
                                payload, rsa))
    add("crit-b64", T.forge(rs_header(crit=["b64"], b64=False), payload,
                            rsa))
    add("crit-empty", T.forge(rs_header(crit=[]), payload, rsa))
    add("crit-string", T.forge(rs_header(crit="exp"), payload, rsa))

    # ---- header-borne keys: signed with the attacker's key
    add("jwk-header", T.forge(rs_header(jwk=evil.jwk(alg="RS256")), payload,
                              evil))
    add("jwk-header-kid", T.forge(rs_header(jwk=evil.jwk(kid="r1"),
                                            kid="r1"), payload, evil),
        "/kid")
    add("jku-header", T.forge(rs_header(
        jku="http://127.0.0.1:%d/jwks.json" % env.port), payload, evil))
    add("x5u-header", T.forge(rs_header(
        x5u="http://127.0.0.1:%d/cert.pem" % env.port), payload, evil))
    add("x5c-header", T.forge(rs_header(x5c=[
        __import__("base64").b64encode(self_signed_cert_der(evil)).decode()
    ]), payload, evil))

    # ---- kid tricks
    for i, kid in enumerate(["../../../../../../dev/null", "/dev/null",
                             "../../etc/passwd", "r1' OR '1'='1",
                             "r1\u0000", "R1", "r1 ", "*", ""]):
        add("kid-%d" % i, T.forge({"alg": "HS256", "kid": kid}, payload,
                                  b"", alg="HS256"), "/kid")
        if kid:
            add("kid-rs-%d" % i, T.forge(rs_header(kid=kid), payload, rsa),
                "/kid")
    add("kid-number", T.forge(rs_header(kid=1), payload, rsa), "/kid")
    add("kid-array", T.forge(rs_header(kid=["r1"]), payload, rsa), "/kid")
    add("kid-unknown", T.forge(rs_header(kid="nope"), payload, rsa), "/kid")
    add("kid-quote", T.forge(rs_header(kid='r1", error="x'), payload, rsa),
        "/kid")
    add("kid-right-wrong-key", T.forge(rs_header(kid="r1"), payload, evil),
        "/kid")
    add("kid-es-with-rsa", T.forge({"alg": "ES256", "kid": "e1"}, payload,
                                   p256), "/kid-es-no")

    # ---- signatures
    add("es256-der", T.forge({"alg": "ES256"}, payload, signature=p256
                             .private.sign(b"x", ec.ECDSA(hashes.SHA256()))),
        "/es")
    si = T.forge({"alg": "ES256"}, payload).rsplit(".", 1)[0]
    der = p256.private.sign(si.encode(), ec.ECDSA(hashes.SHA256()))
    add("es256-der-valid", si + "." + b64u(der), "/es")
    add("es256-zero", si + "." + b64u(bytes(64)), "/es")
    add("es256-r-zero", si + "." + b64u(bytes(63) + b"\x01"), "/es")
    add("es256-short", si + "." + b64u(bytes(63)), "/es")
    add("es256-long", T.forge({"alg": "ES256"}, payload, p256).rstrip()
        + "AAAA", "/es")
    n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
    add("es256-r-is-n", si + "." + b64u(n.to_bytes(32, "big")
                                        + n.to_bytes(32, "big")), "/es")
    esi = T.forge({"alg": "EdDSA"}, payload).rsplit(".", 1)[0]
    add("eddsa-zero", esi + "." + b64u(bytes(64)), "/ed")
    add("rs256-zero", gh + "." + T.b64u(json.dumps(payload).encode())
        + "." + b64u(bytes(256)))
    add("rs256-short-sig", "%s.%s.%s" % (gh, gp, b64u(
        T.b64u_decode(gs)[:128])))
    hgood = T.mint(hs, "HS256")
    hh, hp, hsig = hgood.split(".")
    add("hs256-truncated", "%s.%s.%s" % (hh, hp, b64u(
        T.b64u_decode(hsig)[:16])), "/h")
    add("hs256-extended", "%s.%s.%s" % (hh, hp, b64u(
        T.b64u_decode(hsig) + b"\x00")), "/h")
    add("hs256-empty-sig", "%s.%s." % (hh, hp), "/h")
    add("hs256-empty-key", T.forge({"alg": "HS256"}, payload, b"",
                                   alg="HS256"), "/h")
    return out


class TestAttacks:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        conf = GkConf(env)
        conf.add_location("/x", """
            AuthType gk-bearer
            GKAuthKey RS256 %s
            Require valid-user
        """ % keys["rsa2048"].pub_path)
        conf.add_location("/kid", """
            AuthType gk-bearer
            GKAuthKey RS256 %s kid=r1
            GKAuthKey ES256 %s kid=e1
            GKAuthKey HS256 file:%s kid=h1
            Require valid-user
        """ % (keys["rsa2048"].pub_path, keys["p256"].pub_path,
               keys["hs256"].secret_path))
        conf.add_location("/kid-es-no", """
            AuthType gk-bearer
            GKAuthKey RS256 %s kid=e1
            Require valid-user
        """ % keys["rsa2048"].pub_path)
        conf.add_location("/es", """
            AuthType gk-bearer
            GKAuthKey ES256 %s
            Require valid-user
        """ % keys["p256"].pub_path)
        conf.add_location("/ed", """
            AuthType gk-bearer
            GKAuthKey EdDSA %s
            Require valid-user
        """ % keys["ed25519"].pub_path)
        conf.add_location("/h", """
            AuthType gk-bearer
            GKAuthKey HS256 file:%s
            Require valid-user
        """ % keys["hs256"].secret_path)
        conf.install()
        env.apache_restart()

    def test_gk_auth_200_01_sane(self, env, keys):
        """The good tokens the attacks are derived from do work."""
        assert_status(env.get("/x", token=T.mint(keys["rsa2048"], "RS256")),
                      200)
        for kid, key, alg in (("r1", "rsa2048", "RS256"),
                              ("e1", "p256", "ES256"),
                              ("h1", "hs256", "HS256")):
            assert_status(env.get("/kid", token=T.mint(keys[key], alg,
                                                       kid=kid)), 200)
        assert_status(env.get("/es", token=T.mint(keys["p256"], "ES256")),
                      200)
        assert_status(env.get("/ed", token=T.mint(keys["ed25519"],
                                                  "EdDSA")), 200)
        assert_status(env.get("/h", token=T.mint(keys["hs256"], "HS256")),
                      200)

    def test_gk_auth_200_02_attacks(self, env, keys):
        """All attacks in one test (one list of failures is easier to read
        than ninety), each expecting 401 invalid_token."""
        failures = []
        for name, tok, where in attacks(keys, env):
            r = env.get(where, token=tok)
            why = None
            if r.status_code == 400 and not TOKEN68.fullmatch(tok):
                try:        # not even a token68: a bad request
                    assert_challenge(r, error="invalid_request")
                except AssertionError as e:
                    why = str(e).split("\n")[0]
            elif r.status_code != 401:
                why = "status %d" % r.status_code
            else:
                try:
                    assert_challenge(r, error="invalid_token")
                    assert_problem(r, 401)
                    assert tok not in r.text, "token echoed in the body"
                except AssertionError as e:
                    why = str(e).split("\n")[0]
            if why:
                failures.append("%-28s %-10s %s" % (name, where, why))
        assert not failures, "refused wrongly or not at all:\n" + \
            "\n".join(failures)

    @pytest.mark.parametrize("size", [8193, 12000, 20000])
    def test_gk_auth_200_03_huge(self, env, keys, size):
        tok = T.mint(keys["rsa2048"], "RS256", pad="x" * size)
        r = env.get("/x", token=tok)
        assert_status(r, 401)
        assert_challenge(r, error="invalid_token")

    def test_gk_auth_200_04_header_over_httpd_limit(self, env):
        """Beyond LimitRequestFieldSize httpd itself answers 400."""
        r = env.get("/x", token="a" * 40000)
        assert r.status_code == 400
        env.error_log.ignore(tags=["AH00561"])

    def test_gk_auth_200_05_many_dots(self, env):
        r = env.get("/x", token="." * 4000)
        assert_status(r, 401)
        assert_challenge(r, error="invalid_token")

    @pytest.mark.parametrize("depth", [100, 2000, 2800])
    def test_gk_auth_200_06_deep_nesting(self, env, keys, depth):
        """Deeply nested JSON in a validly signed token: whatever the
        answer (a parser depth limit may refuse it), no crash."""
        tok = T.forge(rs_header(), '{"sub":"a","exp":%d,"x":%s1%s}' % (
            T.now() + 300, "[" * depth, "]" * depth), keys["rsa2048"])
        assert len(tok) <= 8192
        r = env.get("/x", token=tok)
        assert r.status_code in (200, 401), r.status_code
        assert_status(env.get("/x", token=T.mint(keys["rsa2048"], "RS256")),
                      200)

    def test_gk_auth_200_07_still_serving(self, env, keys):
        for _ in range(10):
            assert_status(env.get("/x", token=T.mint(keys["rsa2048"],
                                                     "RS256")), 200)
