"""What the servers need before they start: Debian packages, the httpd
user, keys, tokens and module snapshots.  (Not a setuptools script.)"""

import hashlib
import json
import os
import secrets
import shutil
import string
import subprocess
import time

from .settings import (ALGS, AUDIENCE, DEB_PKGS, IS_ROOT, ISSUER, KEYS,
                       NTOKENS, OUT, ROOT, TOKENS, die, log)


def ensure_packages():
    missing = []
    for p in DEB_PKGS:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p],
                           capture_output=True, text=True)
        if "ok installed" not in r.stdout:
            missing.append(p)
    if not missing:
        return
    if not IS_ROOT:
        die("missing packages (run as root to install): " + " ".join(missing))
    log("installing: " + " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq",
                    "--no-install-recommends"] + missing, check=True, env=env,
                   stdout=subprocess.DEVNULL)


def www_ids():
    import pwd
    try:
        pw = pwd.getpwnam("www-data")
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        return None


def chown_tree(path):
    """Let the httpd user (www-data) read our files and write its logs."""
    ids = www_ids()
    if not IS_ROOT or not ids:
        return
    os.chown(path, ids[0], ids[1])


def b64u(b):
    import base64
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def int_bytes(n, length=None):
    length = length or (n.bit_length() + 7) // 8
    return n.to_bytes(length, "big")


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    os.chmod(path, mode)


def make_keys():
    """HS256 secret (48 printable bytes), RSA 2048 and EC P-256 key pairs with
    public PEM, self-signed certificate and JWK.  Kept between runs."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID
    import datetime

    os.makedirs(KEYS, exist_ok=True)
    os.chmod(OUT, 0o755)
    os.chmod(KEYS, 0o755)
    sec = os.path.join(KEYS, "hs256.secret")
    if not os.path.exists(sec):
        alphabet = string.ascii_letters + string.digits
        write(sec, "".join(secrets.choice(alphabet) for _ in range(48)))
    for alg in ("rs256", "es256"):
        kp = os.path.join(KEYS, alg + ".key")
        if os.path.exists(kp) and os.path.exists(os.path.join(KEYS, alg + ".jwk")):
            continue
        if alg == "rs256":
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            sig_hash = hashes.SHA256()
            pn = key.public_key().public_numbers()
            jwk = {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid("RS256"),
                   "n": b64u(int_bytes(pn.n)), "e": b64u(int_bytes(pn.e))}
        else:
            key = ec.generate_private_key(ec.SECP256R1())
            sig_hash = hashes.SHA256()
            pn = key.public_key().public_numbers()
            jwk = {"kty": "EC", "alg": "ES256", "use": "sig", "kid": kid("ES256"),
                   "crv": "P-256",
                   "x": b64u(int_bytes(pn.x, 32)), "y": b64u(int_bytes(pn.y, 32))}
        write(kp, key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()), 0o600)
        write(os.path.join(KEYS, alg + ".pub"), key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo))
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                             "bench " + alg)])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=3650))
                .sign(key, sig_hash))
        write(os.path.join(KEYS, alg + ".crt"),
              cert.public_bytes(serialization.Encoding.PEM))
        write(os.path.join(KEYS, alg + ".jwk"), json.dumps(jwk))
    # The private keys stay root-only; the httpd user reads the rest.


def signing_key(alg):
    from cryptography.hazmat.primitives import serialization
    if alg == "HS256":
        with open(os.path.join(KEYS, "hs256.secret"), "rb") as f:
            return f.read()
    with open(os.path.join(KEYS, alg.lower() + ".key"), "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


def kid(alg):
    return "bench-" + alg.lower()


# Bump when the token contents change, so that old token files are re-minted.
TOKEN_FORMAT = "2 kid"


def mint(alg, key, jti, roles=("admin",)):
    import jwt
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "bench-user",
              "roles": list(roles), "iat": now - 10,
              "exp": now + 5 * 365 * 86400, "jti": jti}
    # With a kid, mod_auth_openidc does not re-fetch its JWKS per request.
    tok = jwt.encode(claims, key, algorithm=alg,
                     headers={"typ": "JWT", "kid": kid(alg)})
    return tok if isinstance(tok, str) else tok.decode()


def make_tokens():
    """Per algorithm: one repeated token (.ok), one without the role
    (.norole) and NTOKENS distinct tokens (.fresh, one per line)."""
    os.makedirs(TOKENS, exist_ok=True)
    os.chmod(TOKENS, 0o755)
    fmt = os.path.join(TOKENS, "FORMAT")
    if not os.path.exists(fmt) or open(fmt).read() != TOKEN_FORMAT:
        for f in os.listdir(TOKENS):
            os.unlink(os.path.join(TOKENS, f))
        write(fmt, TOKEN_FORMAT)
    for alg in ALGS:
        base = os.path.join(TOKENS, alg)
        stamp = os.path.getmtime(os.path.join(
            KEYS, "hs256.secret" if alg == "HS256" else alg.lower() + ".key"))
        key = signing_key(alg)
        if not os.path.exists(base + ".ok") or os.path.getmtime(base + ".ok") < stamp:
            write(base + ".ok", mint(alg, key, "bench-repeat"))
            write(base + ".norole", mint(alg, key, "bench-norole", ("user",)))
        have = 0
        if os.path.exists(base + ".fresh") and os.path.getmtime(base + ".fresh") >= stamp:
            with open(base + ".fresh") as f:
                have = sum(1 for line in f if line.strip())
        if have < NTOKENS:
            t0 = time.time()
            log(f"minting {NTOKENS} {alg} tokens ...")
            run_id = secrets.token_hex(4)
            with open(base + ".fresh.tmp", "w") as f:
                for i in range(NTOKENS):
                    f.write(mint(alg, key, f"bench-{run_id}-{i}") + "\n")
            os.replace(base + ".fresh.tmp", base + ".fresh")
            os.chmod(base + ".fresh", 0o644)
            log(f"  {time.time() - t0:.1f} s")


def token(alg, kind="ok"):
    with open(os.path.join(TOKENS, f"{alg}.{kind}")) as f:
        return f.read().strip()


def fresh_tokens(alg, n):
    out = []
    with open(os.path.join(TOKENS, alg + ".fresh")) as f:
        for line in f:
            if line.strip():
                out.append(line.strip())
                if len(out) >= n:
                    break
    return out


def snapshot(so, snap):
    """Copy a module to the file the servers load (atomically), and describe
    it: '<name> built <time> (sha256 <16 hex>…, checkout <commit>)'."""
    tmp = snap + ".tmp"
    shutil.copyfile(so, tmp)
    os.chmod(tmp, 0o755)
    os.replace(tmp, snap)
    with open(snap, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    head = subprocess.run(["git", "-C", ROOT, "log", "-1", "--format=%h"],
                          capture_output=True, text=True).stdout.strip()
    built = time.strftime('%Y-%m-%d %H:%M',
                          time.localtime(os.path.getmtime(so)))
    return (f"{os.path.basename(snap)} built {built}"
            f" (sha256 {digest}…, checkout {head or '?'})")
