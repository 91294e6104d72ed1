"""gkhttpd: a small pytest harness that runs Apache httpd with the
Gatekeeper modules on 127.0.0.1, in the style of httpd's own pyhttpd.

    env   = GkEnv(...)            paths, ports, start/stop/restart
    conf  = GkConf(env)           writes the per-class config snippet
    env.error_log                 the error log checker (by AH/GK tag)
    keys  = KeyStore(dir)         per-session key material (PEM, JWKS)
    tokens                        minting (PyJWT) and hand-forged tokens
"""

from .env import GkEnv, StartFailure
from .conf import GkConf
from .log import ErrorLog
from .keys import KeyStore

__all__ = ["GkEnv", "GkConf", "ErrorLog", "KeyStore", "StartFailure"]
