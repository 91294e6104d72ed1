"""mod_gk_validate: where and for which methods bodies are validated.

Methods: POST, PUT and PATCH by default (GET and DELETE pass whatever
they carry), GKValidateMethods replaces the list.  Scopes: the server, a
virtual host (its own port), <Location>, <Directory>; a nested scope's
GKValidateSchema replaces the parent's, `none` switches validation off
below it, and a <Location> wins over a <Directory> (merged after it).
"""

import pytest

from gkhttpd.env import free_port
from gk_validate_helpers import (DRAFT7, errors_of, install_record_cgi,
                                 marker, post, problem, record_conf, records,
                                 write_schema)

# Two schemas that want different things: A a name, B an id.
A = {"$schema": DRAFT7, "type": "object", "required": ["name"]}
B = {"$schema": DRAFT7, "type": "object", "required": ["id"],
     "properties": {"id": {"type": "integer"}}}
HAS_NAME = b'{"name": "x"}'
HAS_ID = b'{"id": 1}'
NOT_JSON = b"this is not JSON"


class TestMethods:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        conf = record_conf(env, self.__class__, "validate")
        conf.add('GKValidateSchema "%s"' % write_schema(env, "a.json", A))
        conf.add_location("/put/", "GKValidateMethods PUT")
        conf.add_location("/del/", "GKValidateMethods DELETE POST")
        conf.install()
        env.apache_restart()

    def reached(self, env, path, method, body, status=200):
        m = marker()
        r = post(env, path, body, method=method, mark=m)
        assert r.status_code == status, (method, path, r)
        got = records(self.rec, m)
        if status == 200:
            assert got and got[0]["body"] == body and \
                got[0]["method"] == method
        else:
            assert got == []
        return r

    def test_gk_validate_120_01_default_methods(self, env):
        for method in ("POST", "PUT", "PATCH"):
            self.reached(env, "/x/record", method, HAS_NAME)
            errors_of(self.reached(env, "/x/record", method, HAS_ID, 422))
            problem(self.reached(env, "/x/record", method, NOT_JSON, 400),
                    400)
        for method in ("GET", "DELETE"):
            self.reached(env, "/x/record", method, NOT_JSON)
            self.reached(env, "/x/record", method, HAS_ID)

    def test_gk_validate_120_02_methods_replaced(self, env):
        errors_of(self.reached(env, "/put/record", "PUT", HAS_ID, 422))
        for method in ("POST", "PATCH", "GET"):
            self.reached(env, "/put/record", method, NOT_JSON)
        errors_of(self.reached(env, "/del/record", "DELETE", HAS_ID, 422))
        errors_of(self.reached(env, "/del/record", "POST", HAS_ID, 422))
        self.reached(env, "/del/record", "PUT", NOT_JSON)

    def test_gk_validate_120_03_get_without_body(self, env):
        r = env.get("/x/record", headers={"X-Mark": marker()})
        assert r.status_code == 200


class TestScopes:
    """Server: none.  Virtual host on its own port: A.  /loc/: A, /loc/b/:
    B, /loc/b/off/: none.  <Directory cgi2/>: B (its CGI mapped at
    /dir/rec2), and /dirloc/ maps to the same directory with a <Location>
    saying A: the Location wins."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        conf = record_conf(env, self.__class__, "validate")
        cgi2 = env.server_root / "cgi2"
        script2, self.__class__.rec2 = install_record_cgi(
            env, name="record2.py", directory=cgi2)
        a = write_schema(env, "a.json", A)
        b = write_schema(env, "b.json", B)
        self.__class__.vport = free_port()
        conf.add('ScriptAliasMatch "^/(?:dir|dirloc)/rec2$" "%s"'
                 % script2)
        conf.add_location("/loc/", 'GKValidateSchema "%s"' % a)
        conf.add_location("/loc/b/", 'GKValidateSchema "%s"' % b)
        conf.add_location("/loc/b/off/", "GKValidateSchema none")
        conf.add_directory(str(cgi2), """
            AllowOverride None
            Options +ExecCGI
            Require all granted
            GKValidateSchema "%s"
        """ % b)
        conf.add_location("/dirloc/", 'GKValidateSchema "%s"' % a)
        conf.add("Listen 127.0.0.1:%d" % self.vport)
        conf.add("<VirtualHost 127.0.0.1:%d>" % self.vport)
        conf.add("    ServerName vhost-validated")
        conf.add('    GKValidateSchema "%s"' % a)
        conf.add('    <Location /vh-off/>')
        conf.add("        GKValidateSchema none")
        conf.add("    </Location>")
        conf.add("</VirtualHost>")
        conf.install()
        env.apache_restart()

    def status(self, env, path, body, port=None, rec=None):
        m = marker()
        r = post(env, path, body, mark=m, port=port)
        got = records(rec or self.rec, m)
        if r.status_code == 200:
            assert got and got[0]["body"] == body, r
        else:
            assert got == [], r
        return r.status_code

    def test_gk_validate_121_01_server_none(self, env):
        assert self.status(env, "/x/record", NOT_JSON) == 200

    def test_gk_validate_121_02_vhost(self, env):
        p = self.vport
        assert self.status(env, "/x/record", HAS_NAME, port=p) == 200
        assert self.status(env, "/x/record", HAS_ID, port=p) == 422
        assert self.status(env, "/x/record", NOT_JSON, port=p) == 400
        assert self.status(env, "/vh-off/record", NOT_JSON, port=p) == 200
        # the main server is not validated
        assert self.status(env, "/x/record", HAS_ID) == 200

    def test_gk_validate_121_03_location_nested_replaces(self, env):
        assert self.status(env, "/loc/record", HAS_NAME) == 200
        assert self.status(env, "/loc/record", HAS_ID) == 422
        # B replaces A below /loc/b/: not both
        assert self.status(env, "/loc/b/record", HAS_ID) == 200
        assert self.status(env, "/loc/b/record", HAS_NAME) == 422
        assert self.status(env, "/loc/b/record", b'{"id": "1"}') == 422
        assert self.status(env, "/loc/b/off/record", NOT_JSON) == 200
        assert self.status(env, "/loc/bb/record", HAS_ID) == 422

    def test_gk_validate_121_04_directory(self, env):
        r2 = self.rec2
        assert self.status(env, "/dir/rec2", HAS_ID, rec=r2) == 200
        assert self.status(env, "/dir/rec2", HAS_NAME, rec=r2) == 422
        assert self.status(env, "/dir/rec2", NOT_JSON, rec=r2) == 400
        # the same file through /dirloc/: the <Location> (A) wins
        assert self.status(env, "/dirloc/rec2", HAS_NAME, rec=r2) == 200
        assert self.status(env, "/dirloc/rec2", HAS_ID, rec=r2) == 422
