"""mod_gk_auth: its problem+json bodies, through the shared error filter of
common/ap (gk_ap_problem.c).

Alone, the body is the same as it always was, byte for byte. With
mod_gk_log loaded, it also carries the request's correlation ID
("correlation_id") and, when the ID is a UUID, "instance":
"urn:uuid:<id>". Either way, only the errors mod_gk_auth decided get
such a body: another module's 403 keeps httpd's own.
"""

import pytest

from gkhttpd import GkConf
from gkhttpd import tokens as T
from gkhttpd.check import assert_problem, assert_status

CID = "X-Correlation-ID"
MEMBERS = ["type", "title", "status", "detail"]


def configure(env, keys, modules):
    conf = GkConf(env, gk_modules=modules)
    conf.add("GKAuthKey RS256 %s" % keys["rsa2048"].pub_path)
    conf.add_location("/p/", """
        AuthType gk-bearer
        AuthzSendForbiddenOnFailure On
        Require gk-role admin
    """)
    conf.add_location("/denied/", "Require all denied")
    conf.install()
    env.apache_restart()


def is_html(r):
    return r.headers.get("Content-Type", "").startswith("text/html")


class TestProblemAlone:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        configure(env, keys, ("auth",))

    def test_gk_auth_630_01_body_unchanged(self, env):
        r = env.get("/p/x")
        assert_problem(r, 401)
        assert r.text == ('{"type":"about:blank","title":"Unauthorized",'
                          '"status":401,"detail":"Authentication required"}'
                          '\n')
        assert CID not in r.headers

    def test_gk_auth_630_02_forbidden(self, env, keys):
        env.error_log.ignore(tags=["AH01631"])
        r = env.get("/p/x", token=T.mint(keys["rsa2048"], "RS256",
                                         roles=["user"]))
        body = assert_problem(r, 403, detail="Requires one of: admin")
        assert list(body) == MEMBERS, body

    def test_gk_auth_630_03_other_errors_untouched(self, env):
        env.error_log.ignore(tags=["AH01630"])
        r = assert_status(env.get("/denied/x"), 403)
        assert is_html(r), r.headers
        r = assert_status(env.request("/p/x", "HEAD"), 401)
        assert r.headers["Content-Type"] == "application/problem+json"
        assert not r.content


class TestProblemCorrelation:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env, keys):
        if not env.has_gk_module("log"):
            pytest.skip("%s not built" % env.gk_module_path("log"))
        configure(env, keys, ("auth", "log"))

    def test_gk_auth_631_01_generated_uuid(self, env):
        r = env.get("/p/x")
        body = assert_problem(r, 401, detail="Authentication required")
        cid = r.headers[CID]
        assert list(body) == MEMBERS + ["instance", "correlation_id"], body
        assert body["correlation_id"] == cid
        assert body["instance"] == "urn:uuid:" + cid

    def test_gk_auth_631_02_incoming_uuid(self, env):
        cid = "0190c8e4-8c3a-7b5e-9f41-2d7c5a1e3b6f"
        r = env.get("/p/x", headers={CID: cid})
        assert r.headers[CID] == cid
        body = assert_problem(r, 401)
        assert body["correlation_id"] == cid
        assert body["instance"] == "urn:uuid:" + cid

    def test_gk_auth_631_03_incoming_other_id(self, env):
        cid = "req-42.a_b:c"
        r = env.get("/p/x", headers={CID: cid})
        assert r.headers[CID] == cid
        body = assert_problem(r, 401)
        assert body["correlation_id"] == cid
        assert "instance" not in body, body

    def test_gk_auth_631_04_forbidden_and_bad_request(self, env, keys):
        env.error_log.ignore(tags=["AH01631"])
        r = env.get("/p/x", token=T.mint(keys["rsa2048"], "RS256",
                                         roles=["user"]))
        body = assert_problem(r, 403, detail="Requires one of: admin")
        assert body["correlation_id"] == r.headers[CID]
        r = env.get("/p/x", headers={"Authorization": "Bearer a b"})
        body = assert_problem(r, 400, detail="malformed Bearer credentials")
        assert body["correlation_id"] == r.headers[CID]

    def test_gk_auth_631_05_other_errors_untouched(self, env):
        env.error_log.ignore(tags=["AH01630"])
        r = assert_status(env.get("/denied/x"), 403)
        assert is_html(r), r.headers
        assert CID in r.headers
