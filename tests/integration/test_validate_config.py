"""mod_gk_validate: configurations refused by `apache2 -t` and by a start,
each naming the directive, the schema file, the JSON pointer where it
applies and the reason (a schema that is not draft-07, another draft, a
$ref that does not resolve, a pattern with a PCRE-only construct, a file
that is not JSON, bad numbers and keywords); a schema line in .htaccess
(refused per request: .htaccess is read then); and the accepted
configurations around them: a $ref from one loaded file into another, one
file in many scopes, and a graceful restart that reads the schemas again.
"""

import json

import pytest

from gkhttpd import GkConf
from gkhttpd.conf import assert_refused_conf
from gkhttpd.check import assert_problem

JSON = {"Content-Type": "application/json"}

# A CGI that reads the whole body before it answers (the base echo CGI
# does not read it, which mod_cgid reports as a reset connection).
DRAIN_CGI = r'''#!/usr/bin/python3 -IS
import os, sys
n = os.environ.get("CONTENT_LENGTH")
data = sys.stdin.buffer.read(int(n)) if n else sys.stdin.buffer.read()
out = b"%d\n" % len(data)
sys.stdout.buffer.write(b"Content-Type: text/plain\r\n\r\n" + out)
'''


@pytest.fixture(autouse=True, scope="module")
def _need_module(env):
    if not env.has_gk_module("validate"):
        pytest.skip("mod_gk_validate not built")


def schema_file(env, name, doc):
    """Write a schema (a dict, or text as it is) under gen/data/validate/."""
    p = env.data_dir / "validate" / name
    env.write_file(p, doc if isinstance(doc, str) else json.dumps(doc))
    return p


def refused(env, lines, *needles, location=None):
    return assert_refused_conf(env, ("validate",), lines, *needles,
                               location=location)


BAD_SCHEMAS = [
    # (id, document, JSON pointer or None, words of the reason)
    ("type-misspelt", {"type": "strin"}, "/type", "draft-07"),
    ("minLength-negative", {"properties": {"a": {"minLength": -1}}},
     "/properties/a/minLength", "draft-07"),
    ("required-not-array", {"required": "name"}, "/required", "draft-07"),
    ("other-draft", {"$schema":
                     "https://json-schema.org/draft/2020-12/schema"},
     "/$schema", "draft-07"),
    ("draft-04", {"$schema": "http://json-schema.org/draft-04/schema#"},
     "/$schema", "draft-07"),
    ("ref-elsewhere", {"$ref": "https://example.com/user.json"}, "/$ref",
     "example.com"),
    ("ref-other-file", {"properties": {"a": {"$ref": "missing.json"}}},
     "/properties/a/$ref", "missing.json"),
    ("ref-no-such-pointer", {"$ref": "#/definitions/nope"}, "/$ref",
     "nope"),
    ("pcre-A", {"pattern": "\\Aabc"}, "/pattern", "\\A"),
    ("pcre-posix-class", {"pattern": "[[:alpha:]]+"}, "/pattern", None),
    ("pcre-inline-flag", {"patternProperties": {"(?i)^x": {}}},
     "/patternProperties", None),
    ("pcre-possessive", {"properties": {"p": {"pattern": "a++"}}},
     "/properties/p/pattern", None),
    ("pcre-atomic", {"pattern": "(?>ab)"}, "/pattern", None),
    ("pcre-recursion", {"pattern": "a(?R)?b"}, "/pattern", None),
]


class TestRefusals:

    @pytest.mark.parametrize("case,doc,pointer,reason", BAD_SCHEMAS,
                             ids=[c[0] for c in BAD_SCHEMAS])
    def test_gk_validate_010_01_bad_schema(self, env, case, doc, pointer,
                                           reason):
        p = schema_file(env, "bad-%s.json" % case, doc)
        res = refused(env, 'GKValidateSchema "%s"' % p, "GKValidateSchema",
                      str(p), location="/api/")
        # the line of the configuration that named the file
        assert "test.conf:2" in res.output, res
        if pointer:
            assert '"%s' % pointer in res.output, res
        if reason:
            assert reason in res.output, res

    def test_gk_validate_010_02_bad_schema_in_server_scope(self, env):
        p = schema_file(env, "bad-server.json", {"type": 7})
        refused(env, 'GKValidateSchema "%s"' % p, "GKValidateSchema",
                str(p), '"/type')

    @pytest.mark.parametrize("text,needle", [
        ('{"type": "object",', "not JSON"),
        ('{"type": "object", "type": "string"}', "not JSON"),
        ('', "not JSON"),
    ], ids=["truncated", "duplicate-key", "empty"])
    def test_gk_validate_010_03_not_json(self, env, text, needle):
        p = schema_file(env, "notjson.json", text)
        refused(env, 'GKValidateSchema "%s"' % p, "GKValidateSchema",
                str(p), needle, location="/api/")

    def test_gk_validate_010_04_missing_file(self, env):
        p = env.data_dir / "validate" / "no-such-schema.json"
        refused(env, 'GKValidateSchema "%s"' % p, "GKValidateSchema",
                str(p), location="/api/")

    def test_gk_validate_010_05_one_bad_file_of_two(self, env):
        good = schema_file(env, "good.json", {"type": "object"})
        bad = schema_file(env, "bad-second.json", {"minimum": "3"})
        conf_lines = ('<Location /a/>\n  GKValidateSchema "%s"\n</Location>\n'
                      '<Location /b/>\n  GKValidateSchema "%s"\n</Location>'
                      % (good, bad))
        res = refused(env, conf_lines, "GKValidateSchema", str(bad),
                      '"/minimum', "test.conf:5")
        assert str(good) + " " not in res.output.replace(str(bad), ""), res

    @pytest.mark.parametrize("line,needle", [
        ("GKValidateMaxBody 0", "'0'"),
        ("GKValidateMaxBody -1", "'-1'"),
        ("GKValidateMaxBody 1m", "'1m'"),
        ("GKValidateMaxBody 1073741825", "1073741825"),
        ("GKValidateMaxDepth 2049", "2048"),
        ("GKValidateMaxDepth 0", "'0'"),
        ("GKValidateMaxErrors 0", "'0'"),
        ("GKValidateMaxErrors 1001", "1000"),
        ("GKValidateFormats strict", "strict"),
        ("GKValidateMethods POST FROB", "FROB"),
        ("GKValidateSchema", "GKValidateSchema"),
    ], ids=["body-0", "body-neg", "body-suffix", "body-over", "depth-2049",
            "depth-0", "errors-0", "errors-1001", "formats", "method",
            "schema-no-arg"])
    def test_gk_validate_011_01_bad_values(self, env, line, needle):
        refused(env, line, line.split()[0], needle, location="/api/")


class TestHtaccess:
    """.htaccess is read per request: a GKValidateSchema line there is
    refused then (500, httpd's "not allowed here"), never obeyed."""

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        d = env.htdocs / "ht"
        p = schema_file(env, "ht.json", {"type": "object"})
        env.write_file(d / ".htaccess", 'GKValidateSchema "%s"\n' % p)
        env.write_file(d / "ok.txt", "ok\n")
        conf = GkConf(env, gk_modules=("validate",))
        conf.add('Alias "/ht/" "%s/"' % d)
        conf.add_directory(str(d), """
            AllowOverride All
            Require all granted
        """)
        conf.install()
        env.apache_restart()

    def test_gk_validate_012_01_schema_in_htaccess(self, env):
        env.error_log.ignore(regex=r"GKValidateSchema not allowed here")
        r = env.request("/ht/ok.txt", "POST", headers=JSON, data=b"{}")
        assert r.status_code == 500
        assert any("GKValidateSchema" in l.text and "not allowed here"
                   in l.text for l in env.error_log.lines_since(0)), \
            "no refusal in the error log"


class TestAccepted:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        common = schema_file(env, "common.json", {
            "definitions": {"name": {"type": "string", "minLength": 3}}})
        user = schema_file(env, "user.json", {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object", "required": ["name"],
            "properties": {"name": {"$ref": "common.json#/definitions/name"}}})
        self.__class__.user = user
        # a document whose $id is not its file: found by its file, and its
        # references resolve against the $id
        ided = schema_file(env, "ided.json", {
            "$id": "https://schemas.example.com/order.json",
            "type": "object", "required": ["qty"],
            "properties": {"qty": {"$ref": "#/definitions/qty"}},
            "definitions": {"qty": {"type": "integer", "minimum": 1}}})
        env.write_file(env.cgi_dir / "drain.py", DRAIN_CGI, mode=0o755)
        conf = GkConf(env, gk_modules=("validate",))
        conf.add('ScriptAliasMatch "^/(?:.*/)?drain$" "%s/drain.py"'
                 % env.cgi_dir)
        # common.json is loaded (here, switched off again at once) so that
        # user.json's $ref to it resolves; user.json in three scopes
        conf.add_location("/common/", 'GKValidateSchema "%s"\n'
                          'GKValidateSchema none' % common)
        for loc in ("/a/", "/b/", "/c/"):
            conf.add_location(loc, 'GKValidateSchema "%s"' % user)
        conf.add_location("/ided/", 'GKValidateSchema "%s"' % ided)
        conf.install()
        env.apache_restart()

    def test_gk_validate_013_01_ref_across_files(self, env):
        r = env.request("/a/drain", "POST", headers=JSON,
                        data=b'{"name": "al"}')
        body = assert_problem(r, 422)
        e = body["errors"][0]
        assert e["keyword"] == "minLength"
        assert e["instanceLocation"] == "/name"
        r = env.request("/c/drain", "POST", headers=JSON,
                        data=b'{"name": "alice"}')
        assert r.status_code == 200

    def test_gk_validate_013_04_schema_with_its_own_id(self, env):
        r = env.request("/ided/drain", "POST", headers=JSON,
                        data=b'{"qty": 0}')
        body = assert_problem(r, 422)
        assert body["errors"][0]["keyword"] == "minimum"
        assert body["errors"][0]["instanceLocation"] == "/qty"
        r = env.request("/ided/drain", "POST", headers=JSON,
                        data=b'{"qty": 2}')
        assert r.status_code == 200

    def test_gk_validate_013_02_configtest_ok(self, env):
        rc, out = env.apache_test_config()
        assert rc == 0, out
        assert "Syntax OK" in out

    def test_gk_validate_013_03_graceful_reads_again(self, env):
        doc = json.loads(self.user.read_text())
        doc["properties"]["age"] = {"type": "integer"}
        self.user.write_text(json.dumps(doc))
        try:
            env.apache_graceful()
            r = env.request("/b/drain", "POST", headers=JSON,
                            data=b'{"name": "alice", "age": "x"}')
            body = assert_problem(r, 422)
            assert body["errors"][0]["instanceLocation"] == "/age"
        finally:
            del doc["properties"]["age"]
            self.user.write_text(json.dumps(doc))
            env.apache_graceful()
        r = env.request("/b/drain", "POST", headers=JSON,
                        data=b'{"name": "alice", "age": "x"}')
        assert r.status_code == 200
