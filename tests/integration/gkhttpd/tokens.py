"""Tokens: valid ones are minted by PyJWT; malformed and hostile ones,
which PyJWT refuses to make, are forged here by hand (base64url + hmac or
cryptography), with full control over every byte.
"""

import base64
import hashlib
import hmac
import json
import time

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import \
    decode_dss_signature

from .keys import b64u


def b64u_decode(text):
    """Lenient base64url decoding (for tests that take tokens apart)."""
    if isinstance(text, str):
        text = text.encode()
    return base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))

ALGS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
        "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]

# the key kind each algorithm is tested with
ALG_KEY = {"HS256": "hs256", "HS384": "hs384", "HS512": "hs512",
           "RS256": "rsa2048", "RS384": "rsa2048", "RS512": "rsa2048",
           "PS256": "rsa2048", "PS384": "rsa2048", "PS512": "rsa2048",
           "ES256": "p256", "ES384": "p384", "ES512": "p521",
           "EdDSA": "ed25519"}

_HASH = {"256": (hashes.SHA256, hashlib.sha256),
         "384": (hashes.SHA384, hashlib.sha384),
         "512": (hashes.SHA512, hashlib.sha512)}
_EC_SIZE = {"ES256": 32, "ES384": 48, "ES512": 66}


def now():
    return int(time.time())


def claims(sub="alice", ttl=300, **kw):
    """A default payload: sub, iat now, exp now+ttl; kw adds or replaces
    (a value of None removes the claim)."""
    t = now()
    c = {"sub": sub, "iat": t, "exp": t + ttl}
    c.update(kw)
    return {k: v for k, v in c.items() if v is not None}


def mint(key, alg, payload=None, kid=None, typ="JWT", headers=None, **kw):
    """A valid token by PyJWT. key: a keys.Key; typ=None omits typ."""
    payload = claims(**kw) if payload is None else payload
    h = dict(headers or {})
    if kid is not None:
        h["kid"] = kid
    h["typ"] = typ
    return jwt.encode(payload, key.signing_key, algorithm=alg, headers=h)


# ---- hand forging -------------------------------------------------------
def _part(x):
    if isinstance(x, (dict, list, int, float)) or x is None:
        return b64u(json.dumps(x, separators=(",", ":")))
    if isinstance(x, bytes):
        return b64u(x)
    return b64u(x.encode())     # str: JSON text as given


def sign(alg, key, data):
    """Raw JWS signature of data (bytes) with alg; key is a keys.Key, or
    bytes for an HMAC secret (any bytes, e.g. a public PEM)."""
    if isinstance(data, str):
        data = data.encode()
    if alg.startswith("HS"):
        secret = key if isinstance(key, (bytes, bytearray)) else key.secret
        return hmac.new(secret, data, _HASH[alg[2:]][1]).digest()
    priv = key.private
    if alg.startswith("RS"):
        return priv.sign(data, padding.PKCS1v15(), _HASH[alg[2:]][0]())
    if alg.startswith("PS"):
        h = _HASH[alg[2:]][0]
        return priv.sign(data, padding.PSS(mgf=padding.MGF1(h()),
                                           salt_length=h.digest_size), h())
    if alg.startswith("ES"):
        der = priv.sign(data, ec.ECDSA(_HASH[alg[2:]][0]()))
        r, s = decode_dss_signature(der)
        n = _EC_SIZE[alg]
        return r.to_bytes(n, "big") + s.to_bytes(n, "big")
    if alg == "EdDSA":
        return priv.sign(data)
    raise ValueError(alg)


def forge(header, payload, key=None, alg=None, signature=None):
    """Build header.payload.signature by hand.

    header/payload: dict/list/number (compact JSON), str (JSON text as
    given) or bytes (raw bytes).  The signature is `signature` if given
    (bytes are base64url-encoded, a str is used verbatim), else computed
    with key and alg (alg defaults to the header's alg), else empty."""
    signing_input = _part(header) + "." + _part(payload)
    if signature is not None:
        sig = signature if isinstance(signature, str) else b64u(signature)
    elif key is not None:
        a = alg or header["alg"]
        sig = b64u(sign(a, key, signing_input))
    else:
        sig = ""
    return signing_input + "." + sig


def forge_raw(header_b64, payload_b64, key, alg):
    """Sign arbitrary (possibly invalid) base64url text segments."""
    si = header_b64 + "." + payload_b64
    return si + "." + b64u(sign(alg, key, si))


def segments(token):
    return token.split(".")
