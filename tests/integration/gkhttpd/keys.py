"""Per-session key material, made on first use and written to gen/keys/.

A key is named "<kind>" or "<kind>-<suffix>" (e.g. "rsa2048", "rsa2048-b"):
  hs256 hs384 hs512     random ASCII secrets of 32/48/64 bytes
  hsbin                 32 random bytes, may hold NUL (never ends in CR/LF)
  rsa1024 rsa2048 rsa3072
  p256 p384 p521 secp256k1
  ed25519 ed448
Files: <name>.key.pem (PKCS#8), <name>.pub.pem (SPKI), <name>.secret.
"""

import base64
import json
import os
import secrets
import string
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

HMAC_SIZES = {"hs256": 32, "hs384": 48, "hs512": 64}
CURVES = {"p256": (ec.SECP256R1, "P-256", 32),
          "p384": (ec.SECP384R1, "P-384", 48),
          "p521": (ec.SECP521R1, "P-521", 66),
          "secp256k1": (ec.SECP256K1, "secp256k1", 32)}


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64u(n, size=None):
    size = size or max(1, (n.bit_length() + 7) // 8)
    return b64u(n.to_bytes(size, "big"))


class Key:
    def __init__(self, store, name, kind, private=None, secret=None):
        self.store = store
        self.name = name
        self.kind = kind
        self.private = private
        self.secret = secret
        self.public = private.public_key() if private is not None else None

    # ---- files ---------------------------------------------------------
    @property
    def pub_path(self):
        return self.store.dir / ("%s.pub.pem" % self.name)

    @property
    def priv_path(self):
        return self.store.dir / ("%s.key.pem" % self.name)

    @property
    def secret_path(self):
        return self.store.dir / ("%s.secret" % self.name)

    @property
    def pub_pem(self):
        return self.public.public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo)

    @property
    def priv_pem(self):
        return self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())

    def write(self):
        d = self.store.dir
        d.mkdir(parents=True, exist_ok=True)
        if self.secret is not None:
            self.secret_path.write_bytes(self.secret)
            self.secret_path.chmod(0o644)
        else:
            self.pub_path.write_bytes(self.pub_pem)
            self.priv_path.write_bytes(self.priv_pem)
            self.pub_path.chmod(0o644)
            self.priv_path.chmod(0o644)

    # ---- signing -------------------------------------------------------
    @property
    def signing_key(self):
        """What PyJWT's encode() takes."""
        return self.secret if self.secret is not None else self.private

    # ---- JWK -----------------------------------------------------------
    def jwk(self, alg=None, kid=None, use=None, private=False, **extra):
        k = {}
        if self.secret is not None:
            k = {"kty": "oct", "k": b64u(self.secret)}
        elif isinstance(self.public, rsa.RSAPublicKey):
            n = self.public.public_numbers()
            k = {"kty": "RSA", "n": _int_b64u(n.n), "e": _int_b64u(n.e)}
            if private:
                pn = self.private.private_numbers()
                k.update(d=_int_b64u(pn.d), p=_int_b64u(pn.p),
                         q=_int_b64u(pn.q), dp=_int_b64u(pn.dmp1),
                         dq=_int_b64u(pn.dmq1), qi=_int_b64u(pn.iqmp))
        elif isinstance(self.public, ec.EllipticCurvePublicKey):
            crv, size = CURVES[self.kind][1], CURVES[self.kind][2]
            n = self.public.public_numbers()
            k = {"kty": "EC", "crv": crv, "x": _int_b64u(n.x, size),
                 "y": _int_b64u(n.y, size)}
            if private:
                k["d"] = _int_b64u(self.private.private_numbers()
                                   .private_value, size)
        elif isinstance(self.public, (ed25519.Ed25519PublicKey,
                                      ed448.Ed448PublicKey)):
            raw = self.public.public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw)
            crv = "Ed25519" if self.kind == "ed25519" else "Ed448"
            k = {"kty": "OKP", "crv": crv, "x": b64u(raw)}
        if alg:
            k["alg"] = alg
        if kid:
            k["kid"] = kid
        if use:
            k["use"] = use
        k.update(extra)
        return k


def secret_key(data):
    """An ad-hoc HMAC key of the given bytes (not written anywhere)."""
    return Key(None, "adhoc", "adhoc", secret=data)


class KeyStore:
    def __init__(self, directory):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._keys = {}

    def __getitem__(self, name):
        if name not in self._keys:
            self._keys[name] = self._make(name)
            self._keys[name].write()
        return self._keys[name]

    def _make(self, name):
        kind = name.split("-", 1)[0]
        if kind in HMAC_SIZES:
            alphabet = string.ascii_letters + string.digits
            s = "".join(secrets.choice(alphabet)
                        for _ in range(HMAC_SIZES[kind]))
            return Key(self, name, kind, secret=s.encode())
        if kind == "hsbin":
            s = bytearray(os.urandom(32))
            s[5] = 0
            if s[-1] in (10, 13):
                s[-1] = 65
            return Key(self, name, kind, secret=bytes(s))
        if kind.startswith("rsa"):
            bits = int(kind[3:])
            return Key(self, name, kind, private=rsa.generate_private_key(
                public_exponent=65537, key_size=bits))
        if kind in CURVES:
            return Key(self, name, kind,
                       private=ec.generate_private_key(CURVES[kind][0]()))
        if kind == "ed25519":
            return Key(self, name, kind,
                       private=ed25519.Ed25519PrivateKey.generate())
        if kind == "ed448":
            return Key(self, name, kind,
                       private=ed448.Ed448PrivateKey.generate())
        raise ValueError("unknown key kind %r" % name)

    def write_jwks(self, path, jwks):
        """jwks: a list of JWK dicts, or a full document (dict/str)."""
        if isinstance(jwks, list):
            jwks = {"keys": jwks}
        text = jwks if isinstance(jwks, str) else json.dumps(jwks, indent=1)
        p = Path(path)
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_text(text)
        tmp.chmod(0o644)
        os.replace(tmp, p)          # atomic, like a real key rotation
        return p
