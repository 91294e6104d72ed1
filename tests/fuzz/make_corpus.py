#!/usr/bin/python3
"""Write the seed corpora of the fuzz targets: tests/fuzz/corpus/<name>/.

    /usr/bin/python3 tests/fuzz/make_corpus.py

Standard library only, deterministic. Each seed is a file "g-NNN-label";
files this script wrote before ("g-*") are replaced, other files (inputs
libFuzzer found, "crash-*" reproducers kept as regressions) are left alone.

jwt seeds: raw tokens (HS256 ones signed with the fuzz target's
FUZZ_SECRET, so they verify) and "#sign\\n" HEADER NUL PAYLOAD inputs that
fuzz_jwt.c signs itself. jwks seeds: JWKS documents. b64url seeds: text.
corrid seeds: correlation IDs and UUIDs. traceparent seeds: header values.
journal seeds: revocation journals (lines with their CRC-32C).
"""

import base64
import hashlib
import hmac
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

# must match tests/fuzz/fuzz_jwt.c
FUZZ_SECRET = b"gatekeeper-fuzz-hs256-secret-0123456789"
FUZZ_SECRET_KID = b"gatekeeper-fuzz-hs256-kid-k1-secret-0123"
FUZZ_SECRET_512 = (b"gatekeeper-fuzz-hs512-secret-0123456789-0123456789-"
                   b"0123456789-012")
TS = 1700000000


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs(header, payload, secret=FUZZ_SECRET, digest=hashlib.sha256):
    """A compact JWS of header/payload text (str or bytes), HMAC-signed."""
    inp = b64(header) + "." + b64(payload)
    mac = hmac.new(secret, inp.encode(), digest).digest()
    return inp + "." + b64(mac)


def signed_input(inp, secret=FUZZ_SECRET):
    """Sign an already-encoded signing input as it is."""
    mac = hmac.new(secret, inp.encode(), hashlib.sha256).digest()
    return inp + "." + b64(mac)


def sign_form(header, payload):
    """A "#sign" input: fuzz_jwt signs header and payload itself."""
    if isinstance(header, str):
        header = header.encode()
    if isinstance(payload, str):
        payload = payload.encode()
    return b"#sign\n" + header + b"\0" + payload


H = '{"alg":"HS256"}'
P = ('{"sub":"alice","exp":1700003600,"iss":"https://issuer.example",'
     '"aud":["api","x"],"roles":["admin","user"],"scope":"read write",'
     '"permissions":["admin:*","docs:read"],'
     '"realm_access":{"roles":["realm-admin"]},'
     '"https://example.com/roles":"a b"}')


def deep(n, open_="[", close="]", inner="1"):
    return open_ * n + inner + close * n


def deep_obj(n):
    return '{"a":' * n + "1" + "}" * n


def jwt_seeds():
    s = []
    good = hs(H, P)
    d1, d2 = good.index("."), good.rindex(".")
    h, p, sig = good[:d1], good[d1 + 1:d2], good[d2 + 1:]
    add = lambda label, data: s.append((label, data))

    # valid tokens
    add("valid-hs256", good)
    add("valid-hs256-kid", hs('{"alg":"HS256","kid":"k1"}', P,
                              FUZZ_SECRET_KID))
    add("valid-hs512", hs('{"alg":"HS512","typ":"JWT"}', P, FUZZ_SECRET_512,
                          hashlib.sha512))
    add("valid-at-jwt", hs('{"alg":"HS256","typ":"at+jwt"}', P))
    add("valid-empty-claims", hs(H, "{}"))
    # refused algorithms
    for alg in ["none", "None", "NONE", "", "hs256", "HS256 ", "ES256K",
                "RS256", "PS256", "ES256", "ES512", "EdDSA"]:
        add("alg-" + (alg.strip() or "empty").replace(" ", "_"),
            hs('{"alg":%s}' % json.dumps(alg), P))
    add("alg-none-unsecured", b64('{"alg":"none"}') + "." + p + ".")
    add("alg-missing", hs('{"typ":"JWT"}', P))
    add("alg-number", hs('{"alg":256}', P))
    add("alg-array", hs('{"alg":["HS256"]}', P))
    add("alg-nul-escape", hs('{"alg":"HS256\\u0000"}', P))
    add("crit", hs('{"alg":"HS256","crit":["exp"]}', P))
    add("crit-empty", hs('{"alg":"HS256","crit":[]}', P))
    # duplicates
    add("dup-header-alg", hs('{"alg":"HS256","alg":"none"}', P))
    add("dup-header-escaped", hs('{"alg":"HS256","\\u0061lg":"HS256"}', P))
    add("dup-payload-sub", hs(H, '{"sub":"alice","sub":"admin"}'))
    add("dup-payload-nested", hs(H, '{"r":{"a":1,"a":2}}'))
    # payload shapes
    for label, pl in [("array", "[1,2]"), ("string", '"x"'), ("null", "null"),
                      ("number", "1e400"), ("trunc", '{"sub":"a"'),
                      ("trailing", '{"sub":"a"}x'), ("bom", "\ufeff{}"),
                      ("nul-escape", '{"sub":"a\\u0000b"}'),
                      ("invalid-utf8", b'{"sub":"\xff\xfe"}'),
                      ("surrogate", '{"sub":"\\ud800"}'),
                      ("raw-nul", b'{"sub":"a\x00b"}')]:
        add("payload-" + label, hs(H, pl))
    # claim values
    for label, pl in [
            ("exp-string", '{"exp":"1700003600"}'),
            ("exp-real", '{"exp":1700003600.5,"nbf":1699999999.9}'),
            ("exp-1e400", '{"exp":1e400}'),
            ("exp-neg-1e300", '{"exp":-1e300}'),
            ("exp-1e300", '{"exp":1e300}'),
            ("exp-int64-max", '{"exp":9223372036854775807}'),
            ("exp-int64-max-59", '{"exp":9223372036854775748}'),
            ("exp-int64-min", '{"exp":-9223372036854775808}'),
            ("exp-too-big", '{"exp":9223372036854775808}'),
            ("exp-tiny", '{"exp":1e-400}'),
            ("exp-neg-zero", '{"exp":-0.0}'),
            ("nbf-int64-max", '{"exp":1800000000,"nbf":9223372036854775807}'),
            ("iat-int64-max", '{"exp":1800000000,"iat":9223372036854775807}'),
            ("nbf-int64-min", '{"nbf":-9223372036854775808}'),
            ("iss-number", '{"iss":1}'),
            ("aud-mixed", '{"aud":["api",1]}'),
            ("aud-empty", '{"aud":[]}'),
            ("aud-object", '{"aud":{"api":1}}'),
            ("roles-mixed", '{"roles":["a",1,null,{},[],"","b c"]}'),
            ("roles-spaces", '{"roles":"  a  b   c  "}'),
            ("perms-wild", '{"permissions":["*","a:*:c","::","*:*:*","a::b",'
                           '"admin:*x","\\u0001"]}'),
            ("sub-ctl", '{"sub":"a\\r\\nSet-Cookie: x\\"\\\\"}'),
            ("sub-long", '{"sub":"' + "x" * 5000 + '"}'),
            ("dotted-literal", '{"https://example.com/roles":["x"],'
                               '"https://example":{"com/roles":["y"]}}'),
            ("realm-deep", '{"realm_access":{"roles":{"roles":["x"]}},'
                           '"a":{"b":{"c":["d"]}}}'),
    ]:
        add("claims-" + label, hs(H, pl))
    # typ
    for typ in ["JWT", "jwt", "at+jwt", "application/at+jwt", "JOSE", "",
                "application/jwt"]:
        add("typ-" + (typ.replace("/", "_").replace("+", "_") or "empty"),
            hs('{"alg":"HS256","typ":%s}' % json.dumps(typ), P))
    add("typ-number", hs('{"alg":"HS256","typ":1}', P))
    add("kid-number", hs('{"alg":"HS256","kid":1}', P))
    add("kid-unknown", hs('{"alg":"HS256","kid":"nope"}', P))
    add("kid-long", hs('{"alg":"HS256","kid":"%s"}' % ("k" * 3000), P))
    # shape
    add("two-segments", h + "." + p)
    add("four-segments", good + "." + sig)
    add("five-segments", ".".join([h, p, sig, sig, sig]))
    add("empty", "")
    add("dots", "..")
    add("dots3", "...")
    add("empty-header", "." + p + "." + sig)
    add("empty-payload", h + ".." + sig)
    add("empty-sig", h + "." + p + ".")
    add("padded-header", h + "=." + p + "." + sig)
    add("std-alphabet", h + "." + p + "." + sig.replace("-", "+").replace(
        "_", "/") + "+/")
    add("space", " " + good)
    add("newline", good + "\n")
    add("bearer", "Bearer " + good)
    add("nul-in-token", good[:10] + "\0" + good[11:])
    add("trailing-bits", h + "." + p + "." + "Zh")
    add("len-mod4-1", "e." + p + "." + sig)
    add("payload-padded-signed", signed_input(h + "." + p + "="))
    add("payload-space-signed", signed_input(h + "." + p + " "))
    # huge
    add("huge-sig-1368", h + "." + p + "." + "A" * 1368)
    add("huge-sig-6000", h + "." + p + "." + "A" * 6000)
    big = hs(H, '{"sub":"alice","p":"' + "x" * 6000 + '"}')
    add("big-valid", big)
    add("over-max", "A" * 8190 + ".A.A")
    add("huge-garbage", "." * 9000)
    add("deep-header", hs('{"alg":"HS256","x":' + deep(3000) + "}", P))
    add("deep-payload", hs(H, '{"x":' + deep(2040) + "}"))
    add("deep-payload-obj", hs(H, deep_obj(1500)))
    add("wide-payload", hs(H, "{" + ",".join('"k%d":%d' % (i, i)
                                             for i in range(600)) + "}"))
    add("ec-der-sig", b64('{"alg":"ES256"}') + "." + p + "." +
        b64(bytes([0x30, 0x44, 0x02, 0x20]) + b"\x01" * 32 +
            bytes([0x02, 0x20]) + b"\x01" * 32))
    add("ec-short-sig", b64('{"alg":"ES256","kid":"ec"}') + "." + p + "." +
        b64(b"\x01" * 63))
    add("es512-sig", b64('{"alg":"ES512"}') + "." + p + "." +
        b64(b"\xff" * 132))
    add("rsa-sig-extra", b64('{"alg":"RS256","kid":"rsa"}') + "." + p + "." +
        b64(b"\x01" * 257))
    add("ps-sig-short", b64('{"alg":"PS256"}') + "." + p + "." +
        b64(b"\x01" * 255))
    add("eddsa-sig", b64('{"alg":"EdDSA","kid":"ed"}') + "." + p + "." +
        b64(b"\x00" * 64))
    add("hmac-truncated", h + "." + p + "." + sig[:22])

    # "#sign" forms: the target signs them, so the JSON is reached
    for label, hdr, pl in [
            ("basic", H, P),
            ("no-nul", None, P),
            ("typ-at", '{"alg":"HS256","typ":"at+jwt"}', P),
            ("kid", '{"alg":"HS256","kid":"rsa"}', P),
            ("crit", '{"alg":"HS256","crit":["b64"],"b64":false}', P),
            ("dup", '{"alg":"HS256"}', '{"a":1,"a":1}'),
            ("exp-max", H, '{"exp":9223372036854775807,"nbf":-1e308}'),
            ("exp-real-edge", H, '{"exp":9.2233720368547758e18}'),
            ("exp-nan-ish", H, '{"exp":1e309}'),
            ("nums", H, '{"exp":-0,"nbf":0e0,"iat":1E+2,"x":-1.5e-300}'),
            ("unicode", H, '{"sub":"\\u00e9\\ud83d\\udd11\\u2028",'
                           '"roles":"\\u0020a\\u0009b"}'),
            ("escaped-nul", H, '{"sub":"\\u0000"}'),
            ("deep", H, '{"roles":' + deep(2100) + "}"),
            ("aud", H, '{"aud":["web","api"],"iss":"https://issuer.example",'
                       '"exp":1700000100}'),
            ("claims-types", H, '{"roles":{"a":1},"scope":[1],'
                                '"permissions":"a:* b::c *"}'),
    ]:
        if hdr is None:
            add("sign-" + label, b"#sign\n" + pl.encode())
        else:
            add("sign-" + label, sign_form(hdr, pl))
    return s


# Public EC points: the generators of P-256, P-384 and P-521 (valid keys).
P256_G = (
    "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")
P384_G = (
    "aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a38"
    "5502f25dbf55296c3a545e3872760ab7",
    "3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c0"
    "0a60b1ce1d7e819d7a431d7c90ea0e5f")
P521_G = (
    "00c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d"
    "3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66",
    "011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e"
    "662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650")
ED25519_B = "58" + "66" * 31  # the Ed25519 base point, encoded


def hexb64(h):
    return b64(bytes.fromhex(h))


def rsa_n(bits=2048, low=1):
    # any odd number with the top bit set is a modulus OpenSSL accepts
    return b64(((1 << (bits - 1)) + low).to_bytes(bits // 8, "big"))


def jwks(*keys, extra=""):
    return '{"keys":[' + ",".join(keys) + "]" + extra + "}"


def jwk(**m):
    return json.dumps(m, separators=(",", ":"))


def jwks_seeds():
    s = []
    add = lambda label, data: s.append((label, data))
    rsa = dict(kty="RSA", alg="RS256", n=rsa_n(), e="AQAB")
    ec256 = dict(kty="EC", alg="ES256", crv="P-256", x=hexb64(P256_G[0]),
                 y=hexb64(P256_G[1]))
    ec384 = dict(kty="EC", alg="ES384", crv="P-384", x=hexb64(P384_G[0]),
                 y=hexb64(P384_G[1]))
    ec521 = dict(kty="EC", alg="ES512", crv="P-521", x=hexb64(P521_G[0]),
                 y=hexb64(P521_G[1]))
    okp = dict(kty="OKP", alg="EdDSA", crv="Ed25519", x=hexb64(ED25519_B))
    oct_ = dict(kty="oct", alg="HS256", k=b64(b"k" * 32))

    def v(d, **ch):
        e = dict(d)
        for k, val in ch.items():
            if val is None:
                e.pop(k, None)
            else:
                e[k] = val
        return jwk(**e)

    add("all-types", jwks(jwk(**rsa), jwk(**ec256), jwk(**ec384),
                          jwk(**ec521), jwk(**okp), jwk(**oct_)))
    add("rsa", jwks(jwk(**rsa)))
    add("rsa-kid-use-ops", jwks(v(rsa, kid="r1", use="sig",
                                  key_ops=["verify"])))
    add("ec256", jwks(jwk(**ec256)))
    add("okp", jwks(jwk(**okp)))
    add("oct", jwks(jwk(**oct_)))
    add("no-alg", jwks(v(rsa, alg=None), v(ec256, alg=None)))
    add("alg-none", jwks(v(rsa, alg="none")))
    add("alg-number", jwks(v(rsa, alg=1)))
    add("use-enc", jwks(v(rsa, use="enc")))
    add("key-ops-sign", jwks(v(ec256, key_ops=["sign"])))
    add("key-ops-string", jwks(v(ec256, key_ops="verify")))
    add("kty-mismatch", jwks(v(rsa, kty="EC"), v(ec256, alg="RS256")))
    add("kty-missing", jwks(v(rsa, kty=None)))
    add("rsa-1024", jwks(v(rsa, n=rsa_n(1024))))
    add("rsa-16384", jwks(v(rsa, n=rsa_n(16384))))
    add("rsa-e-1", jwks(v(rsa, e="AQ")))
    add("rsa-e-even", jwks(v(rsa, e="AQAA")))
    add("rsa-e-huge", jwks(v(rsa, e=b64(b"\xff" * 300))))
    add("rsa-e-zero", jwks(v(rsa, e="AA")))
    add("rsa-n-padded", jwks(v(rsa, n=rsa["n"] + "==")))
    add("rsa-n-std", jwks(v(rsa, n="+" + rsa["n"][1:])))
    add("rsa-n-leading-zeros", jwks(v(rsa, n=b64(b"\0" * 64 + (
        (1 << 2047) + 1).to_bytes(256, "big")))))
    add("rsa-n-empty", jwks(v(rsa, n="")))
    add("rsa-n-number", jwks(v(rsa, n=12345)))
    add("rsa-n-even", jwks(v(rsa, n=rsa_n(2048, 2))))
    add("ec-off-curve", jwks(v(ec256, y=hexb64(P256_G[1][:-1] + "4"))))
    add("ec-zero", jwks(v(ec256, x=b64(b"\0" * 32), y=b64(b"\0" * 32))))
    add("ec-ff", jwks(v(ec256, x=b64(b"\xff" * 32), y=b64(b"\xff" * 32))))
    add("ec-short-x", jwks(v(ec256, x=b64(b"\1" * 31))))
    add("ec-crv-mismatch", jwks(v(ec384, crv="P-256"), v(ec256, alg="ES384")))
    add("ec-crv-unknown", jwks(v(ec256, crv="secp256k1")))
    add("ec-crv-number", jwks(v(ec256, crv=256)))
    add("okp-x25519", jwks(v(okp, crv="X25519")))
    add("okp-ed448", jwks(v(okp, crv="Ed448", x=b64(b"\1" * 57))))
    add("okp-zero", jwks(v(okp, x=b64(b"\0" * 32))))
    add("okp-ff", jwks(v(okp, x=b64(b"\xff" * 32))))
    add("oct-short", jwks(v(oct_, k=b64(b"k" * 31))))
    add("oct-empty", jwks(v(oct_, k="")))
    add("oct-hs512-short", jwks(v(oct_, alg="HS512")))
    add("kid-number", jwks(v(rsa, kid=7)))
    add("kid-nul", '{"keys":[{"kty":"oct","alg":"HS256","kid":"a\\u0000",'
                   '"k":"%s"}]}' % oct_["k"])
    add("dup-keys", '{"keys":[],"keys":[%s]}' % jwk(**oct_))
    add("dup-member", '{"keys":[{"kty":"oct","kty":"oct","alg":"HS256",'
                      '"k":"%s"}]}' % oct_["k"])
    add("empty-keys", '{"keys":[]}')
    add("keys-object", '{"keys":{}}')
    add("no-keys", "{}")
    add("top-array", "[%s]" % jwk(**oct_))
    add("not-json", "{")
    add("empty", "")
    add("bom", "\ufeff" + jwks(jwk(**oct_)))
    add("invalid-utf8", b'{"keys":[{"kty":"\xff"}]}')
    add("nul-byte", b'{"keys":[' + jwk(**oct_).encode() + b"]}\0")
    add("numbers", '{"keys":[{"kty":"oct","alg":"HS256","k":"%s",'
                   '"x":1e400}]}' % oct_["k"])
    add("big-int", '{"keys":[],"n":123456789012345678901234567890}')
    add("deep", '{"keys":[' + deep(3000) + "]}")
    add("deep-obj", '{"keys":[' + deep_obj(1000) + "]}")
    add("many-keys", jwks(*([jwk(**oct_)] * 300)))
    add("many-mixed", jwks(*([jwk(**ec256), jwk(**okp)] * 20)))
    add("not-object-key", jwks("1", '"x"', "null"))
    add("surrogates", '{"keys":[{"kty":"\\ud800\\udc00"}]}')
    return s


def b64url_seeds():
    s = []
    add = lambda label, data: s.append((label, data))
    for label, data in [
            ("empty", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"), ("pad1", "Zm8="), ("pad2", "Zg=="),
            ("plus-slash", "+/+/"), ("url", "-_-_"), ("mod1", "Zm9vY"),
            ("trailing-bits-2", "Zh"), ("trailing-bits-3", "Zm9"),
            ("space", "Zm 9v"), ("newline", "Zm9v\n"), ("tab", "\tZm9v"),
            ("nul", b"Zm\0v"), ("high", b"Zm\xff\x80"), ("all-A", "A" * 1000),
            ("all-underscore", "_" * 1023), ("long-mod1", "A" * 4097),
            ("dots", "a.b.c"), ("header", b64('{"alg":"HS256"}')),
            ("binary", bytes(range(256))), ("utf8", "\u00e9\u20ac")]:
        add(label, data)
    return s


def text_seeds():
    """Names, atoms, header-name pairs and JSON documents."""
    s = []
    for label, data in [
            ("ascii", b"alice"), ("atom", b"users:read"),
            ("space", b"a b"), ("crlf", b"bob\r\nX-Injected: 1"),
            ("lf", b"bob\nX"), ("del", b"a\x7f"),
            ("c1-nel", "a\u0085b".encode()), ("nbsp", "x\u00a0y".encode()),
            ("line-sep", "a\u2028b".encode()),
            ("emoji", "\U0001f600".encode()), ("cjk", "\u5f20\u4f1f".encode()),
            ("overlong", b"\xc0\xaf"), ("surrogate", b"\xed\xa0\x80"),
            ("above-max", b"\xf4\x90\x80\x80"), ("cut", b"a\xe2\x80"),
            ("lone-cont", b"\x80"), ("ff", b"\xff\xfe"), ("nul", b"a\x00b"),
            ("headers", b"X-User-Emailx_user_email"),
            ("headers-odd", b"X_A-b"),
            ("json-flat", b'{"sub":"alice","n":1}'),
            ("json-pretty", b'{\n  "sub": "alice",\r\n  "a": [1, 2]\n}'),
            ("json-escapes", b'{"a":"\\u0085\\n\\u2028\\ud83d\\ude00"}'),
            ("json-raw-utf8", '{"name":"J\u00fcrgen \u0085"}'.encode()),
            ("json-del", b'{"d":"a\x7fb"}'),
            ("json-string", b'"x"'), ("json-number", b"1.5e300"),
            ("json-deep", b"[[[[[[[[[[{}]]]]]]]]]]"),
            ("json-dup", b'{"a":1,"a":2}')]:
        s.append((label, data))
    return s


def corrid_seeds():
    """Correlation IDs and UUIDs (fuzz_corrid.c)."""
    s = []
    add = lambda label, data: s.append((label, data))
    for label, data in [
            ("one", "a"), ("punct", "._:-"), ("req", "req-42"),
            ("mixed", "svc.api:v2_call-7"), ("max", "x" * 128),
            ("over-max", "x" * 129), ("empty", ""), ("comma", "a,b"),
            ("space", "a b"), ("tab", "a\tb"), ("quote", '"a"'),
            ("crlf", "a\r\nX-Injected: 1"), ("lf", "a\nb"),
            ("nul", b"ab\0c"), ("del", b"a\x7f"), ("utf8", "caf\u00e9"),
            ("high", b"a\x80\xff"), ("fullwidth", "\uff21"),
            ("semicolon", "a;b"), ("slash", "a/b"), ("equals", "a=b"),
            ("traceparent",
             "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            ("uuid7", "017f22e2-79b0-7cc3-98c4-dc0c0c07398f"),
            ("uuid4", "919108f7-52d1-4320-9bac-f847db4148a8"),
            ("uuid-upper", "017F22E2-79B0-7CC3-98C4-DC0C0C07398F"),
            ("uuid-nil", "00000000-0000-0000-0000-000000000000"),
            ("uuid-max", "ffffffff-ffff-ffff-ffff-ffffffffffff"),
            ("uuid-short", "017f22e2-79b0-7cc3-98c4-dc0c0c07398"),
            ("uuid-long", "017f22e2-79b0-7cc3-98c4-dc0c0c07398f0"),
            ("uuid-no-hyphens", "017f22e279b07cc398c4dc0c0c07398f"),
            ("uuid-moved-hyphen", "017f22e-279b0-7cc3-98c4-dc0c0c07398f"),
            ("uuid-bad-hex", "017f22e2-79b0-7cc3-98c4-dc0c0c07398g"),
            ("uuid-braces", "{017f22e2-79b0-7cc3-98c4-dc0c0c0739}"),
            ("uuid-urn", "urn:uuid:017f22e2-79b0-7cc3-98c4-dc0c0c07398f"),
            ("uuid-nul", b"017f22e2-79b0-7cc3-98c4-dc0c0c07398\0")]:
        add(label, data)
    return s


TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def traceparent_seeds():
    """traceparent values (fuzz_traceparent.c): the specification's
    examples, each rule broken once, future versions."""
    s = []
    add = lambda label, data: s.append((label, data))
    tid, pid = TP[3:35], TP[36:52]
    for label, data in [
            ("example", TP),
            ("not-sampled", TP[:-2] + "00"),
            ("spec-2", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            ("flags-ff", TP[:-2] + "ff"),
            ("flags-09", TP[:-2] + "09"),
            ("upper-trace", TP[:3] + tid.upper() + TP[35:]),
            ("upper-parent", TP[:36] + pid.upper() + TP[52:]),
            ("upper-flags", TP[:-2] + "0A"),
            ("upper-version", "0A" + TP[2:]),
            ("zero-trace", TP[:3] + "0" * 32 + TP[35:]),
            ("zero-parent", TP[:36] + "0" * 16 + TP[52:]),
            ("one-bit", "00-" + "0" * 31 + "1-8" + "0" * 15 + "-00"),
            ("version-ff", "ff" + TP[2:]),
            ("version-ff-extra", "ff" + TP[2:] + "-x"),
            ("version-fe", "fe" + TP[2:]),
            ("version-01", "01" + TP[2:]),
            ("future", "cc" + TP[2:]),
            ("future-fields", "cc" + TP[2:] + "-what-the-future-will-be-like"),
            ("future-dash", "cc" + TP[2:] + "-"),
            ("future-no-dash", "cc" + TP[2:] + "x"),
            ("future-short", "cc" + TP[2:-1]),
            ("v00-extra", TP + "-what"),
            ("v00-dash", TP + "-"),
            ("short", TP[:-1]),
            ("long", TP + "1"),
            ("empty", ""),
            ("version-only", "00-"),
            ("sep-underscore-1", TP[:2] + "_" + TP[3:]),
            ("sep-underscore-2", TP[:35] + "_" + TP[36:]),
            ("sep-underscore-3", TP[:52] + "_" + TP[53:]),
            ("trace-33", TP[:3] + tid + "6" + TP[35:]),
            ("parent-15", TP[:36] + pid[:-1] + TP[52:]),
            ("leading-space", " " + TP),
            ("trailing-space", TP + " "),
            ("trailing-tab", TP + "\t"),
            ("folded", TP + ", " + TP),
            ("folded-comma", TP + "," + TP),
            ("nul", TP[:20] + "\0" + TP[21:]),
            ("nul-after", TP + "\0"),
            ("utf8", TP[:33] + "\u00e9" + TP[35:]),
            ("binary", bytes(range(64))),
            ("hex-g", TP[:34] + "g" + TP[35:])]:
        add(label, data)
    return s


def hdr_seeds():
    """Vary lists and header names and values (fuzz_hdr.c): the input's
    two halves are merged as a backend's Vary and ours."""
    s = []
    for label, data in [
            ("token", "X-Frame-Options"), ("value", "1; mode=block"),
            ("csp", "default-src 'none'; frame-ancestors 'none'"),
            ("vary-pair", "Accept-EncodingOrigin, Cook"),
            ("vary-list", "accept-encoding, origin,Origin"),
            ("vary-star", "A, *B"), ("vary-empty", " , ,, "),
            ("vary-crlf", "A\r\nX-Injected: 1, B"), ("tab", "a\tb"),
            ("lead-space", " DENY"), ("trail-tab", "DENY\t"),
            ("del", b"a\x7fb"), ("utf8", "caf\u00e9"), ("nul", b"a\x00b"),
            ("long", "X-A, " * 200), ("commas", "," * 64),
            ("dup-case", "a, A, a, B, b"),
            ("hsts", "max-age=63072000 includeSubDomains preload"),
            ("hsts-short-preload", "max-age=600 preload includeSubDomains"),
            ("hsts-bad", "max-age=1e9 includeSubdomain"),
            ("hsts-twice", "max-age=1 MAX-AGE=2"),
            ("fwd", "for=a;proto=httpshttps"),
            ("fwd-quoted", 'for="[::1],x";proto="https", https'),
            ("fwd-escape", 'proto="a\\"b", x'), ("xfp", "http, https"),
            ("target", "/a//b/%7E?x=%20&y=/?z#f"),
            ("target-abs", "http://evil.example:8080/abs?q=1"),
            ("target-abs-query", "https://h?q"), ("target-star", "*"),
            ("target-ctl", "/a\r\nLocation: x")]:
        s.append((label, data))
    return s


def jsonout_seeds():
    """Writer programs (fuzz_jsonout.c): two bytes of capacity, then op
    bytes (0/1 string with a length byte, 2 number, 3 null, 4 object,
    5 array, 6 close, 7 reserve; 0x80 drops the key)."""
    def prog(cap, *ops):
        out = bytes([cap & 0xff, cap >> 8])
        for o in ops:
            out += o if isinstance(o, bytes) else bytes([o])
        return out

    def st(data, op=0):
        return bytes([op, len(data)]) + data
    return [
        ("empty-obj", prog(64)),
        ("strings", prog(512, st(b"plain"), st(b'q"b\\s'), st(b"\x00\n\r\t"))),
        ("utf8", prog(512, st("caf\u00e9 \u20ac \U0001F600".encode()))),
        ("bad-utf8", prog(512, st(b"\xff\xfe\xc0\xaf\xed\xa0\x80\xf4\x90"))),
        ("capped", prog(512, st(b"abcdefghij" * 5, 1), st(b"\xe2\x82\xac" * 20, 1))),
        ("nested", prog(512, 4, 4, 5, st(b"x", 0x80), 2, 3, 6, 6, 6)),
        ("tiny-cap", prog(0, st(b"y" * 200), 4, 5, 2)),
        ("deep", prog(300, *([4] * 12 + [2] + [6] * 12))),
        ("reserve", prog(100, 7 | (10 << 3), st(b"z" * 150), 2)),
        ("unbalanced", prog(200, 6, 6, 4, 5, 5)),
        ("raw-utf8", "\u00e9t\u00e9 \u2028 \ud7ff".encode("utf-8", "surrogatepass")),
        ("raw-json", b'{"a":"b\\"}\x00\x01'),
    ]


def redact_seeds():
    """Queries and URLs (fuzz_redact.c; listed names: token,
    access_token, a)."""
    return [
        ("query", "a=1&token=abc&b=2"),
        ("encoded", "access%5Ftoken=x;TOKEN=y&tok%65n=z"),
        ("empty", ""), ("only-seps", "&&;;=&"),
        ("no-value", "token&token=&a"),
        ("url", "https://u:p@h.test:8080/p?token=1#access_token=2"),
        ("url-at", "http://a@b@c/d@e?x=1"),
        ("scheme-rel", "//u:p@h/x?a=1"),
        ("relative", "/cb?token=t&a=b#a=c"),
        ("bad-pct", "%=1&%zz=2&token%=3&%%"),
        ("long", "token=" + "x" * 3000),
        ("many", "&".join("a=%d" % i for i in range(300))),
        ("binary", b"token=\xff\x00a=\x01?#@"),
    ]


def csp_seeds():
    """Content-Security-Policy values (fuzz_csp.c): the profiles', OWASP's,
    and broken ones."""
    s = []
    for label, data in [
            ("api", "default-src 'none'; frame-ancestors 'none'"),
            ("html", "default-src 'self'; object-src 'none'; base-uri 'self';"
                     " form-action 'self'; frame-ancestors 'none'"),
            ("owasp", "default-src 'self'; form-action 'self'; base-uri "
                      "'self'; object-src 'none'; frame-ancestors 'none'; "
                      "upgrade-insecure-requests"),
            ("script", "script-src 'self' 'unsafe-inline'; style-src *"),
            ("script-none", "script-src 'none'"), ("dup", "script-src a; "
                                                   "SCRIPT-SRC b"),
            ("empty-dirs", ";;; ; default-src ;"), ("ws", "\t default-src\t"
                                                    " 'self' \t;"),
            ("no-default", "img-src data:"), ("nul", b"script-src\x00 a"),
            ("utf8", "script-src caf\u00e9"), ("long", "a; " * 300)]:
        s.append((label, data))
    return s


def cors_seeds():
    """CORS inputs (fuzz_cors.c): one line is an Origin value, an allowed
    origin as configured and an Access-Control-Request-Headers value at
    once; two lines are an allowed origin and a request's Origin."""
    s = []
    for label, data in [
            # origins as browsers send them
            ("https", "https://app.example.com"),
            ("http-port", "http://localhost:3000"),
            ("ipv4", "http://127.0.0.1:8080"),
            ("ipv6-loop", "http://[::1]:8080"),
            ("ipv6", "https://[2001:db8::1:0:0:1]"),
            ("ipv6-mapped", "https://[::ffff:102:304]"),
            ("ext", "chrome-extension://abcdefghijklmnop"),
            ("hyphens", "https://-a-.xn--caf-dma.b-:65535"),
            ("long-host", "https://" + ".".join(["a" * 63] * 3) + "."
             + "b" * 61),
            # what a browser never sends
            ("null", "null"), ("empty", ""), ("star", "*"),
            ("upper", "HTTPS://App.Example.COM:443/"),
            ("slash", "https://app.example.com/"),
            ("dot", "https://app.example.com."),
            ("default-port", "https://app.example.com:443"),
            ("port0", "https://a.com:0"), ("port-big", "https://a.com:65536"),
            ("port-zeros", "https://a.com:08443"),
            ("joined", "https://a.example.com, https://evil.net"),
            ("userinfo", "https://user:pw@app.example.com"),
            ("pct", "https://app%2eexample.com"),
            ("path-query", "https://a.com/p?q#f"),
            ("numeric", "https://127.1"), ("hex-ip", "https://0x7f.0.0.1"),
            ("ends-number", "https://a.b.123"),
            ("ipv6-zone", "https://[fe80::1%25eth0]"),
            ("ipv6-dotted", "https://[::ffff:1.2.3.4]"),
            ("ipv6-upper", "http://[::FFFF:1.2.3.4]:80"),
            ("idn", "https://caf\u00e9.example"),
            ("ctl", b"https://a.com\x00\r\n"),
            # allowed origins as configured
            ("wild", "https://*.example.com"),
            ("wild-port", "http://*.example.com:8443"),
            ("wild-upper", "HTTPS://*.Example.COM:443/"),
            ("wild-bad", "https://a*.example.com"),
            ("wild-mid", "https://x.*.example.com"),
            ("wild-ip", "https://*.1.2.3.4"),
            ("wild-noscheme", "*.example.com"),
            # an allowed origin, then a request's Origin
            ("m-depth1", "https://*.example.com\nhttps://a.example.com"),
            ("m-depth3", "https://*.example.com\nhttps://a.b.c.example.com"),
            ("m-apex", "https://*.example.com\nhttps://example.com"),
            ("m-suffix", "https://*.example.com\nhttps://notexample.com"),
            ("m-evil", "https://*.example.com\n"
                       "https://a.example.com.evil.net"),
            ("m-port", "https://*.example.com\nhttps://a.example.com:8443"),
            ("m-scheme", "https://*.example.com\nhttp://a.example.com"),
            ("m-exact", "https://app.example.com\nhttps://app.example.com"),
            ("m-loop", "http://localhost:3000\nhttp://localhost:3001"),
            ("m-ipv6", "http://[::1]:8080\nhttp://[::1]:8080"),
            # Access-Control-Request-Headers values
            ("h-one", "content-type"),
            ("h-list", "Content-Type, X-Api-Key,\tauthorization"),
            ("h-dups", "x-api-key,X-API-KEY, x-api-key ,accept"),
            ("h-empty", " , ,\t,, "),
            ("h-bad", "content type, x(y)"),
            ("h-crlf", "x-a\r\nx-b"),
            ("h-many", ",".join("x-h%d" % i for i in range(70))),
            ("h-long", "x-" + "a" * 8300)]:
        s.append((label, data))
    return s


USER_CREATE = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object", "required": ["username", "email", "password"],
    "properties": {
        "username": {"type": "string", "minLength": 3, "maxLength": 50,
                     "pattern": "^[a-zA-Z0-9]+$"},
        "email": {"type": "string", "format": "email"},
        "password": {"$ref": "#/definitions/password"}},
    "definitions": {"password": {
        "type": "string", "minLength": 12,
        "allOf": [{"pattern": "[A-Z]"}, {"pattern": "[0-9]"}]}}}


def schema_compile_seeds():
    """Schema documents (fuzz_schema_compile.c): good ones using every
    keyword, and the refusals (other drafts, bad values, references that
    do not resolve, cycles, refused regex constructs)."""
    j = json.dumps
    s = [
        ("user-create", j(USER_CREATE)),
        ("true", "true"), ("false", "false"), ("empty", "{}"),
        ("types", j({"type": ["string", "null", "integer"]})),
        ("numbers", j({"multipleOf": 0.01, "maximum": 1e308,
                       "exclusiveMinimum": -5, "minimum": -9007199254740993,
                       "exclusiveMaximum": 2.5})),
        ("strings", j({"minLength": 2.0, "maxLength": 1e30,
                       "pattern": "^\\p{L}+\\d?$", "format": "date-time"})),
        ("arrays", j({"items": [{"type": "integer"}, True],
                      "additionalItems": {"enum": [1, "a", None, [1], {}]},
                      "contains": {"const": {"a": [1.0]}}, "maxItems": 3,
                      "minItems": 1, "uniqueItems": True})),
        ("objects", j({"properties": {"a/b": {}, "~c": False, "": True},
                       "patternProperties": {"^x-": {"type": "string"}},
                       "additionalProperties": False,
                       "propertyNames": {"maxLength": 3},
                       "required": ["a/b", ""], "minProperties": 1,
                       "maxProperties": 5,
                       "dependencies": {"a": ["b"], "b": {"required": ["c"]}}})),
        ("applicators", j({"allOf": [{}, True], "anyOf": [False, {}],
                           "oneOf": [{"type": "string"}, {"minLength": 1}],
                           "not": {"type": "null"}, "if": {"minimum": 0},
                           "then": {"maximum": 9}, "else": False})),
        ("tree", j({"$id": "http://example.com/tree",
                    "definitions": {"node": {"$id": "#node", "properties": {
                        "children": {"items": {"$ref": "#node"}}}}},
                    "$ref": "#/definitions/node"})),
        ("ref-escapes", j({"definitions": {"a/b": {"c~d": {"type": "string"}},
                                           "p%q": True},
                           "properties": {"x": {"$ref": "#/definitions/a~1b/c~0d"},
                                          "y": {"$ref": "#/definitions/p%25q"}}})),
        ("ref-meta", j({"$ref": "http://json-schema.org/draft-07/schema#"})),
        ("id-base", j({"$id": "http://example.com/root.json",
                       "items": {"$id": "sub/", "items": {"$ref": "x.json"}},
                       "definitions": {"x": {"$id": "sub/x.json"}}})),
        ("ref-siblings", j({"$ref": "#/definitions/a", "$id": "http://x/",
                            "definitions": {"a": {"type": "integer"}}})),
        ("draft04", j({"$schema": "http://json-schema.org/draft-04/schema#"})),
        ("bad-minlength", j({"minLength": -1})),
        ("bad-type", j({"type": "strng"})),
        ("bad-required", j({"required": ["a", "a"]})),
        ("bad-multipleof", j({"multipleOf": 0})),
        ("ref-missing", j({"$ref": "#/definitions/nope"})),
        ("ref-remote", j({"$ref": "http://example.com/other.json#/a"})),
        ("ref-anchor", j({"$ref": "#nope"})),
        ("ref-bad-pct", j({"$ref": "#/%zz"})),
        ("ref-cycle", j({"$ref": "#"})),
        ("ref-cycle-2", j({"definitions": {"a": {"allOf": [{"$ref": "#/definitions/b"}]},
                                           "b": {"not": {"$ref": "#/definitions/a"}}},
                           "$ref": "#/definitions/a"})),
        ("dup-id", j({"definitions": {"a": {"$id": "#x"}, "b": {"$id": "#x"}}})),
        ("re-posix", j({"pattern": "[[:alpha:]]"})),
        ("re-inline", j({"pattern": "(?i)a"})),
        ("re-possessive", j({"patternProperties": {"a++": {}}})),
        ("re-unclosed", j({"pattern": "(a"})),
        ("deep", deep(500, '{"not":', "}", "{}")),
        ("deep-props", '{"properties":{"a":' * 300 + "{}" + "}}" * 300),
        ("not-schema", "[1,2,3]"),
    ]
    return s


def schema_validate_seeds():
    """Request bodies (fuzz_schema_validate.c validates each against the
    UserCreate schema, a recursive tree and an every-keyword schema)."""
    j = json.dumps
    return [
        ("user-ok", j({"username": "alice42", "email": "alice@example.com",
                       "password": "Correct1Horse"})),
        ("user-bad", j({"username": "a!", "email": "nobody",
                        "password": "hunter"})),
        ("user-order", j({"password": "x", "username": "a"})),
        ("user-extra", j({"username": "bob", "email": "b@example.org",
                          "password": "x9Yyyyyyyyyy", "extra": [1, {"a": None}]})),
        ("user-nl", '{"username":"alice\\n","email":"a@b.c","password":"Abcdefghij12"}'),
        ("user-nul", '{"username":"al\\u0000ce","email":"a@b.c","password":"Abcdefghij12"}'),
        ("user-long", j({"username": "a" * 5000, "email": "x" * 300 + "@e.com",
                         "password": "A1" + "\u00e9" * 3000})),
        ("scalars", "[null,true,false,0,-0.0,1.0,1e308,-1e-308,\"\"]"),
        ("tree", j({"value": 1, "children": [{"value": 2, "children": []},
                                             {"value": "x", "k": [[None]]}]})),
        ("deep-arrays", deep(2000)),
        ("deep-objects", deep_obj(1000)),
        ("every", j({"id": 3, "tags": ["x", "y", "x"], "t": [[1], True, 3],
                     "n": None, "o": 3, "m": 19.99, "e": "a@b", "h": "-bad-",
                     "ip": "::1", "d": "2024-02-30T00:00:00Z", "u": "x",
                     "x-a": 1, "a9": {"p": 1, "q": 2, "r": 3}, "a": 1,
                     "c": 1, "kind": "admin", "~/": "", "toolongpropertyname": 1})),
        ("dups", j([i % 7 for i in range(300)] + [{"a": [1]}, {"a": [1.0]}])),
        ("backtrack", j({"x-a": "a" * 3000 + "!", "k": "ab " * 2000 + "~"})),
        ("unicode", j({"username": "\u00e9\u4e2d\U0001f600", "p": "\ud7ff"})),
        ("big-int", '{"id": 9223372036854775807, "m": -9223372036854775808}'),
        ("many-keys", j({"k%d" % i: i for i in range(500)})),
    ]


def ecmare_seeds():
    """PATTERN NUL SUBJECT (fuzz_ecmare.c)."""
    pats = [
        ("seed-user", "^[a-zA-Z0-9]+$", "alice42"),
        ("seed-user-nl", "^[a-zA-Z0-9]+$", "alice\n"),
        ("seed-pw", "^(?=.*[A-Z])(?=.*\\d).{12,}$", "CorrectHorse1"),
        ("upper", "[A-Z]", "passwordA1"),
        ("digit-uni", "\\d", "\u0663\u09ea"),
        ("word-uni", "\\wcole", "\u00e9cole"),
        ("prop-letter", "^\\p{Letter}cole", "\u00e9cole"),
        ("prop-script", "^\\p{Script=Greek}+$", "\u03b1\u03b2"),
        ("prop-neg", "[\\P{L}\\p{Nd}]", "a1"),
        ("space", "^\\s+$", "\t\n\u00a0\u1680\u2000\u2028\u3000\ufeff"),
        ("nonspace-class", "^[^\\S]$", "\u00a0"),
        ("nonspace-in-class", "^[a\\S-]+$", "ab-\u2029"),
        ("dot", "^.$", "\u2028"),
        ("dot-emoji", "^.$", "\U0001f600"),
        ("any", "^[^]*$", "a\nb\u2028"),
        ("empty-class", "[]", "abc"),
        ("escapes", "^\\x41\\u0042\\u{43}\\uD83D\\uDE00\\v\\0\\cJ$",
         "ABC\U0001f600\x0b\x00\n"),
        ("backref", "^(a)\\1(?<n>b)\\k<n>$", "aabb"),
        ("fwd-backref", "^\\1(a)$", "a"),
        ("lookbehind", "(?<=a)b(?<!c)", "ab"),
        ("quant", "^a{2,3}?b*?c+?d??$", "aacd"),
        ("ranges", "^[a-c-e\\-\\[\\]]+$", "ab-[]e"),
        ("catastrophic", "(a+)+$", "a" * 40 + "b"),
        ("wide", "[ab]{0,300}[ab]{0,300}$", "a" * 500 + "x"),
        ("groups-deep", "(" * 40 + "a" + ")" * 40, "a"),
        ("posix", "[[:alpha:]]", "a"),
        ("anchor-Z", "^\\S(|(.|\\n)*\\S)\\Z", "ab"),
        ("inline-flag", "(?i)abc", "ABC"),
        ("possessive", "a++b", "aab"),
        ("atomic", "(?>a+)b", "ab"),
        ("recursion", "(a(?R)?b)", "aabb"),
        ("conditional", "(a)?(?(1)b|c)", "ab"),
        ("verb", "(*UCP)\\d", "1"),
        ("comment", "(?#x)a", "a"),
        ("lone-brace", "a{,5}", "a{,5}"),
        ("octal", "(a)\\10", "a\x08"),
        ("surrogate", "\\uD800", "x"),
        ("bad-utf8-subj", "a", b"a\xff"),
        ("bad-utf8-pat", b"a\xc3", "a"),
    ]
    s = []
    for label, pat, subj in pats:
        if isinstance(pat, str):
            pat = pat.encode()
        if isinstance(subj, str):
            subj = subj.encode()
        s.append((label, pat + b"\0" + subj))
    s.append(("no-nul", "^a.c$"))
    return s


def format_seeds():
    """Strings for every format at once (fuzz_format.c)."""
    vals = [
        "joe.bloggs@example.com", "\"john doe\"@example.com",
        "joe@[127.0.0.1]", "joe@[IPv6:2001:db8::1]", "user@localhost",
        "te..st@example.com", "a" * 64 + "@example.com",
        "www.example.com", "xn--4gbwdl.xn--wgbh1c", "-a-host-", "a" * 63,
        ".".join(["b" * 63] * 4)[:253], "example.",
        "192.168.0.1", "087.10.0.1", "256.1.1.1", "0x7f000001",
        "::1", "::", "1:2:3:4:5:6:7:8", "::ffff:192.168.0.1",
        "1::d6::42", "fe80::a%eth1", "12345::", "1:2:3:4:5:6:7::",
        "1963-06-19", "2020-02-29", "2021-02-29", "2013-350",
        "1963-06-19T08:30:06.283185Z", "1998-12-31T23:59:60Z",
        "1998-12-31T15:59:60.123-08:00", "1998-12-31T22:59:60Z",
        "1990-12-31T15:59:59-24:00", "1963-06-19t08:30:06z",
        "http://foo.bar/?baz=qux#quux",
        "http://-.~_!$&'()*+,;=:%40:80%2f::::::@example.com",
        "ldap://[2001:db8::7]/c=GB?objectClass?one", "mailto:a@b",
        "urn:oasis:names:specification:docbook:dtd:xml:4.1.2",
        "http://[v1.fe80::a+en1]/", "http://example.com/%zz",
        "//foo.bar/", "http:// shouldfail.com", "\\\\WINDOWS\\share",
        "j\u00f6rg@example.com", "a\x00b@example.com", "",
    ]
    return [("v%02d" % i, v) for i, v in enumerate(vals)]


# ---- journal (tests/fuzz/fuzz_journal.c; grammar in common/gk_journal.h) --

def crc32c(data):
    crc = 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 & -(crc & 1))
    return crc ^ 0xffffffff


def jbody(kind, key, group, expires, value, tag="v1"):
    """The line before " CRC": GROUP "-" for none."""
    return "%s %s %s %s %s %s" % (tag, kind, key, group, expires, value)


def jsum(body):
    """A body with its CRC-32C, and LF."""
    return "%s %08x\n" % (body, crc32c(body.encode("latin-1")))


def jline(kind, key, group, expires, value):
    return jsum(jbody(kind, key, group, expires, value))


def journal_seeds():
    kt = "gk:rv:t:0123456789abcdef0123456789abcdef"
    kt2 = "gk:rv:t:fedcba9876543210fedcba9876543210"
    kr = "gk:rv:r:fedcba9876543210fedcba9876543210"
    ks = "gk:rv:s:0123456789abcdef0123456789abcdef"
    ks2 = "gk:rv:s:fedcba9876543210fedcba9876543210"
    # a token in its subject's group, a raw token without one, a subject's
    # cutoff in its own group
    tok = jline("t", kt, ks, TS + 3600, 1)
    raw = jline("r", kr, "-", TS + 60, TS)
    sub = jline("s", ks, ks, TS + 86400, TS)
    s = []
    s.append(("one-token", tok))
    s.append(("one-raw", raw))
    s.append(("one-subject", sub))
    s.append(("mixed", tok + raw + sub))
    s.append(("expired", jline("t", kt, "-", 1, 1)
              + jline("t", kt2, ks, TS, 5) + tok))
    s.append(("max-values", jline("t", kt, ks, 2 ** 63 - 1, 2 ** 64 - 1)))
    s.append(("value-zero", jline("s", ks2, ks2, TS + 5, 0)))
    s.append(("torn-last", tok + raw + sub[:37]))
    s.append(("torn-then-line", tok[:len("v1 t ") + 40 + 7] + raw))
    s.append(("bad-crc", jbody("t", kt, ks, TS + 3600, 1) + " deadbeef\n"
              + raw))
    s.append(("flipped-key", tok.replace("0123456789abcdef0123", "0123456X89"
                                         "abcdef0123", 1) + sub))
    s.append(("upper-hex", jline("t", kt.upper().replace("GK:RV:T:",
                                                          "gk:rv:t:"),
                                 "-", TS + 5, 1)))
    s.append(("upper-crc", tok[:-9] + tok[-9:-1].upper() + "\n"))
    s.append(("v2", "v2 t %s - 1 2 3\n" % kt + tok))
    s.append(("v10", "v10 whatever the future holds\n" + raw))
    s.append(("v1-alone", "v1\nv1 \nv\n" + sub))
    s.append(("empty", ""))
    s.append(("blank-lines", "\n\n\n" + tok + "\n"))
    s.append(("crlf", tok[:-1] + "\r\n" + raw[:-1] + "\r\n"))
    s.append(("long-300", "v1 " + "a" * 300 + "\n" + tok))
    s.append(("long-5000", "x" * 5000 + "\nv1 " + "y" * 5000 + "\n" + tok))
    s.append(("leading-zero", jline("t", kt, ks, "0%d" % TS, 1)
              + jline("t", kt, ks, TS + 9, "01")))
    s.append(("exp-2p63", jline("t", kt, ks, 2 ** 63, 1)))
    s.append(("val-2p64", jline("t", kt, ks, TS + 9, 2 ** 64)))
    s.append(("kind-mismatch", jline("s", kt, ks, TS + 9, 1)
              + jline("t", kr, "-", TS + 9, 1)))
    s.append(("sentinel", jline("t", "gk:rv:sentinel", "-", TS + 9, 1)))
    s.append(("tabs", jsum(jbody("t", kt, ks, TS + 9, 1).replace(" ", "\t"))))
    s.append(("trailing-space", jsum(jbody("t", kt, ks, TS + 9, 1) + " ")))
    s.append(("nul-inside", tok.replace("gk:", "\0k:", 1) + raw))
    s.append(("duplicates", tok * 3 + jline("t", kt, ks2, TS + 7200, 9)
              + tok))
    # 255 bytes and LF: the longest line read (corrupt); 256: too long
    s.append(("line-255", "z" * 255 + "\n" + tok))
    s.append(("line-256", "z" * 256 + "\n" + tok))
    many = []
    for i in range(100):
        kind = "trs"[i % 3]
        key = "gk:rv:%s:%032x" % (kind, i * 7919)
        group = ["-", ks, "gk:rv:s:%032x" % (i * 104729)][i % 3]
        many.append(jline(kind, key, group, TS - 50 + 3 * i, i))
    s.append(("many", "".join(many)))
    s.append(("garbage", bytes(range(256)) * 3))
    s.append(("v1-repeated", "v1 v1 t v1 t gk:rv:t: " + tok))
    s.append(("fragments", "v1 t gk:rv" + "v1 r gk:rv:r:fedcba9876543210f"
              + sub))
    s.append(("negative", jline("t", kt, ks, -5, 1)
              + jline("t", kt, ks, TS + 9, -1)))
    s.append(("expires-zero", jline("r", kr.replace("fedcba9876543210",
                                                    "0123456789abcdef"),
                                    "-", 0, 1) + raw))
    s.append(("no-final-lf", tok + raw[:-1]))
    # the GROUP field
    s.append(("group-none-every-kind", jline("t", kt, "-", TS + 9, 1)
              + jline("r", kr, "-", TS + 9, 2)
              + jline("s", ks, "-", TS + 9, 3)))
    s.append(("group-token-key", jline("t", kt, kt2, TS + 9, 1) + tok))
    s.append(("group-raw-key", jline("t", kt, kr, TS + 9, 1) + tok))
    s.append(("group-upper", jline("t", kt, ks.upper().replace(
        "GK:RV:S:", "gk:rv:s:"), TS + 9, 1) + tok))
    s.append(("group-short", jline("t", kt, ks[:-1], TS + 9, 1) + tok))
    s.append(("group-long", jline("t", kt, ks + "0", TS + 9, 1) + tok))
    s.append(("group-dashes", jline("t", kt, "--", TS + 9, 1) + tok))
    s.append(("group-missing", jsum("v1 t %s %d 1" % (kt, TS + 9)) + tok))
    s.append(("group-sentinel", jline("t", kt, "gk:rv:sentinel", TS + 9, 1)
              + tok))
    s.append(("group-two-spaces", jsum(jbody("t", kt, ks, TS + 9, 1)
                                      .replace(ks + " ", ks + "  ")) + tok))
    s.append(("group-changes", jline("t", kt, ks, TS + 100, 1)
              + jline("t", kt, ks2, TS + 50, 2)
              + jline("t", kt, "-", TS + 10, 3)))
    s.append(("group-torn", tok[:len("v1 t ") + 41 + 20] + raw))
    return s

def write(name, seeds):
    d = os.path.join(CORPUS, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.startswith("g-"):
            os.unlink(os.path.join(d, f))
    labels = set()
    for i, (label, data) in enumerate(seeds):
        assert label not in labels, label
        labels.add(label)
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(d, "g-%03d-%s" % (i, label)), "wb") as f:
            f.write(data)
    print("%s: %d seeds in %s" % (name, len(seeds), d))


def main():
    write("jwt", jwt_seeds())
    write("jwks", jwks_seeds())
    write("b64url", b64url_seeds())
    write("text", text_seeds())
    write("corrid", corrid_seeds())
    write("traceparent", traceparent_seeds())
    write("hdr", hdr_seeds())
    write("csp", csp_seeds())
    write("jsonout", jsonout_seeds())
    write("redact", redact_seeds())
    write("cors", cors_seeds())
    write("schema_compile", schema_compile_seeds())
    write("schema_validate", schema_validate_seeds())
    write("ecmare", ecmare_seeds())
    write("format", format_seeds())
    write("journal", journal_seeds())
    return 0


if __name__ == "__main__":
    sys.exit(main())
