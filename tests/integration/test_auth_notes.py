"""mod_gk_auth: the gk-auth-outcome and gk-auth-reason request notes.

Every request mod_gk_auth decides carries its outcome and the reason code
of the suite's shared vocabulary (common/gk_reason.h, docs/INTEROP.md), for
logs and other modules; a stock mod_log_config LogFormat reads them with
%{gk-auth-outcome}n and %{gk-auth-reason}n.
"""

import time

import pytest

from gkhttpd import GkConf
from gkhttpd import tokens as T
from gkhttpd.check import assert_status

PREFLIGHT = {"Origin": "https://app.example",
             "Access-Control-Request-Method": "PUT"}


class TestNotes:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        self.__class__.log = env.logs_dir / "notes.log"
        conf = GkConf(env)
        conf.add("GKAuthKey RS256 %s" % keys["rsa2048"].pub_path)
        conf.add('LogFormat "%U %>s [%{gk-auth-outcome}n] '
                 '[%{gk-auth-reason}n]" gknotes')
        conf.add('CustomLog "%s" gknotes' % self.log)
        conf.add("GKAuthIssuer https://issuer.example")
        conf.add_location("/n/", """
            AuthType gk-bearer
            AuthzSendForbiddenOnFailure On
            GKAuthAllowPreflight On
            Require gk-role admin
        """)
        conf.install()
        env.apache_restart()

    def tok(self, keys, **kw):
        kw.setdefault("iss", "https://issuer.example")
        return T.mint(keys["rsa2048"], "RS256", **kw)

    def logged(self, env, path):
        """The log line of the last request to path."""
        end = time.monotonic() + 5
        while time.monotonic() < end:
            if self.log.exists():
                lines = [l for l in self.log.read_text().splitlines()
                         if l.split(" ")[0] == path]
                if lines:
                    return lines[-1]
            time.sleep(0.02)
        raise AssertionError("no log line for %s" % path)

    @pytest.mark.parametrize("case,status,outcome,reason", [
        ("valid", 200, "success", "ok"),
        ("no-token", 401, "failure", "no_token"),
        ("expired", 401, "failure", "expired"),
        ("issuer", 401, "failure", "wrong_issuer"),
        ("signature", 401, "failure", "bad_signature"),
        ("bad-user", 401, "failure", "invalid_user"),
        ("no-user", 401, "failure", "no_user"),
        ("role", 403, "failure", "insufficient_scope"),
        ("malformed", 400, "failure", "bad_credentials"),
        ("preflight", 200, "success", "preflight"),
    ])
    def test_gk_auth_620_01_notes(self, env, keys, case, status, outcome,
                                  reason):
        env.error_log.ignore(tags=["AH01630", "AH01631"])
        path = "/n/%s" % case
        headers = None
        method = "GET"
        tok = {
            "valid": lambda: self.tok(keys, roles=["admin"]),
            "no-token": lambda: None,
            "expired": lambda: self.tok(keys, roles=["admin"], ttl=-3600),
            "issuer": lambda: self.tok(keys, iss="https://evil.example"),
            "signature": lambda: self.tok(keys)[:-4] + "AAAA",
            "bad-user": lambda: self.tok(keys, sub="a\nb"),
            "no-user": lambda: self.tok(keys, sub=None),
            "role": lambda: self.tok(keys, roles=["user"]),
            "malformed": lambda: "not a token!",
            "preflight": lambda: None,
        }[case]()
        if case == "preflight":
            method, headers = "OPTIONS", PREFLIGHT
        r = env.request(path, method, token=tok, headers=headers)
        assert_status(r, status)
        assert self.logged(env, path).endswith(
            "%d [%s] [%s]" % (status, outcome, reason))

    def test_gk_auth_620_02_undecided(self, env):
        """A location mod_gk_auth has nothing to do with: no notes."""
        r = env.get("/elsewhere")
        assert_status(r, 200)
        assert self.logged(env, "/elsewhere").endswith("200 [-] [-]")
