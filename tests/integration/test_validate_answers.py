"""mod_gk_validate: the 422 answer and the seed's UserCreate example.

The problem+json body of an invalid request: an `errors` array in
document order, each member exactly {instanceLocation, keywordLocation,
keyword, message}, at most GKValidateMaxErrors of them, never the
offending value; the seed's UserCreate schema (docs/examples/) refuses a
weak password with readable messages and lets a good body through; a
pattern that hits PCRE2's match limit fails closed with an error-level
line naming the schema location.
"""

import pytest

from gk_validate_helpers import (DRAFT7, errors_of, marker, post, problem,
                                 record_conf, records, user_create_schema,
                                 write_schema)

# Several independent failures, in this document order.
MANY = {
    "$schema": DRAFT7,
    "type": "object",
    "properties": {
        "a": {"type": "string", "maxLength": 3},
        "b": {"type": "integer", "maximum": 10},
        "c": {"type": "array", "items": {"type": "string",
                                         "pattern": "^[a-z]+$"}},
        "d": {"$ref": "#/definitions/code"},
        "e": {"enum": ["x", "y"]},
        "f": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "g": {"type": "string", "format": "email"},
    },
    "required": ["a", "z"],
    "additionalProperties": {"type": "boolean"},
    "definitions": {"code": {"type": "string", "minLength": 4}},
}
# Each value below is unique, so that an echo would be found.
SECRET = "S3cr3t-Value-%s"

GOOD_USER = {"username": "alice42", "email": "alice@example.com",
             "password": "Correct-Horse-Battery-9"}

REDOS = {
    "$schema": DRAFT7,
    "type": "object",
    "properties": {"s": {"type": "string", "pattern": "^(a+)+$"}},
}


def dumps(o):
    import json
    return json.dumps(o).encode()


class TestAnswers:

    @pytest.fixture(autouse=True, scope="class")
    def _class_scope(self, env):
        conf = record_conf(env, self.__class__, "validate")
        many = write_schema(env, "many.json", MANY)
        user = user_create_schema(env)
        redos = write_schema(env, "redos.json", REDOS)
        conf.add_location("/many/", 'GKValidateSchema "%s"' % many)
        conf.add_location("/many2/", """
            GKValidateSchema "%s"
            GKValidateMaxErrors 2
        """ % many)
        conf.add_location("/many1/", """
            GKValidateSchema "%s"
            GKValidateMaxErrors 1
        """ % many)
        conf.add_location("/annotate/", """
            GKValidateSchema "%s"
            GKValidateFormats annotate
        """ % many)
        conf.add_location("/users/", 'GKValidateSchema "%s"' % user)
        conf.add_location("/redos/", 'GKValidateSchema "%s"' % redos)
        conf.install()
        env.apache_restart()

    def many_body(self):
        s = [SECRET % i for i in range(8)]
        body = {"a": s[0], "b": 11, "c": ["ok", s[1], "fine", s[2]],
                "d": "Zq9", "e": s[3], "f": 5, "g": s[4], "extra": s[5]}
        return dumps(body), s

    # -- shape, order, no echo ----------------------------------------------
    def test_gk_validate_110_01_errors_shape_and_order(self, env):
        body, secrets = self.many_body()
        m = marker()
        r = post(env, "/many/record", body, mark=m)
        errs = errors_of(r, secrets=secrets + ["Zq9"])
        assert records(self.rec, m) == []
        got = [(e["instanceLocation"], e["keyword"]) for e in errs]
        # the 10 collected by default (GKValidateMaxErrors 10): all of them
        want = [("/a", "maxLength"), ("/b", "maximum"),
                ("/c/1", "pattern"), ("/c/3", "pattern"),
                ("/d", "minLength"), ("/e", "enum"), ("/f", "anyOf"),
                ("/g", "format"), ("/extra", "type"), ("", "required")]
        assert sorted(got) == sorted(want), got
        # document order: the instance's members as they come; the
        # object's own keywords (required) before or after its members,
        # but the members in order
        members = [g for g in got if g[0]]
        assert members == [w for w in want if w[0]], got
        by = {(e["instanceLocation"], e["keyword"]): e for e in errs}
        assert by[("/a", "maxLength")]["keywordLocation"] == \
            "/properties/a/maxLength"
        assert by[("/c/1", "pattern")]["keywordLocation"] == \
            "/properties/c/items/pattern"
        # through $ref: the path taken, $ref included
        kl = by[("/d", "minLength")]["keywordLocation"]
        assert kl.startswith("/properties/d/$ref") and \
            kl.endswith("/minLength"), kl
        assert by[("/f", "anyOf")]["keywordLocation"] == \
            "/properties/f/anyOf"
        assert by[("/extra", "type")]["keywordLocation"] == \
            "/additionalProperties/type"
        req = by[("", "required")]
        assert req["keywordLocation"] == "/required"
        assert "z" in req["message"], req
        assert "3" in by[("/a", "maxLength")]["message"]

    def test_gk_validate_110_02_max_errors(self, env):
        body, secrets = self.many_body()
        full = errors_of(post(env, "/many/record", body), secrets)
        two = errors_of(post(env, "/many2/record", body), secrets)
        one = errors_of(post(env, "/many1/record", body), secrets)
        assert len(full) == 10 and len(two) == 2 and len(one) == 1
        assert two == full[:2] and one == full[:1]

    def test_gk_validate_110_03_formats(self, env):
        ok = {"a": "abc", "z": True, "g": "not-an-email"}
        r = post(env, "/many/record", dumps(ok))
        errs = errors_of(r, secrets=("not-an-email",))
        assert [(e["instanceLocation"], e["keyword"]) for e in errs] == \
            [("/g", "format")], errs
        # annotate: a format is no assertion
        m = marker()
        r = post(env, "/annotate/record", dumps(ok), mark=m)
        assert r.status_code == 200, r
        ok["g"] = "bob@example.org"
        assert post(env, "/many/record", dumps(ok)).status_code == 200

    def test_gk_validate_110_04_problem_fields(self, env):
        body, secrets = self.many_body()
        b = problem(post(env, "/many/record", body), 422)
        assert b.get("title"), b
        assert b.get("detail"), b
        assert isinstance(b["errors"], list)
        for s in secrets:
            assert s not in str(b)

    # -- the seed's UserCreate ----------------------------------------------
    def test_gk_validate_111_01_weak_password(self, env):
        weak = dict(GOOD_USER, password="Short1")
        m = marker()
        r = post(env, "/users/record", dumps(weak), mark=m)
        errs = errors_of(r, secrets=("Short1",))
        assert records(self.rec, m) == []
        pw = [e for e in errs if e["instanceLocation"] == "/password"]
        assert pw, errs
        assert any(e["keyword"] == "minLength" and e["message"] ==
                   "must be at least 12 characters" for e in pw), pw
        # long enough, but no upper-case letter and no digit
        for pwd in ("alllowercaseletters", "ALLUPPERCASEBUTNODIGIT",
                    "nouppercase12345"):
            r = post(env, "/users/record",
                     dumps(dict(GOOD_USER, password=pwd)))
            errs = errors_of(r, secrets=(pwd,))
            assert [e["instanceLocation"] for e in errs] == \
                ["/password"] * len(errs), errs

    def test_gk_validate_111_02_other_fields(self, env):
        for field, value, kw in (("username", "ab", "minLength"),
                                 ("username", "a" * 51, "maxLength"),
                                 ("username", "alice_42", None),
                                 ("username", "ali ce", None),
                                 ("email", "not-an-email", "format"),
                                 ("email", "a@b@c.example", "format")):
            r = post(env, "/users/record",
                     dumps(dict(GOOD_USER, **{field: value})))
            errs = errors_of(r)
            assert {e["instanceLocation"] for e in errs} == {"/" + field}, \
                (field, value, errs)
            if kw:
                assert kw in [e["keyword"] for e in errs], errs
        missing = dict(GOOD_USER)
        del missing["email"]
        errs = errors_of(post(env, "/users/record", dumps(missing)))
        assert [e["keyword"] for e in errs] == ["required"], errs
        assert "email" in errs[0]["message"]

    def test_gk_validate_111_03_good_body(self, env):
        for body in (dumps(GOOD_USER),
                     dumps(dict(GOOD_USER, username="B0b",
                                password="x" * 40 + "A1")),
                     dumps(dict(GOOD_USER, email="first.last+tag@sub."
                                "example.co.uk"))):
            m = marker()
            r = post(env, "/users/record", body, mark=m)
            assert r.status_code == 200, r
            (rec,) = records(self.rec, m)
            assert rec["body"] == body

    # -- the match limit fails closed ----------------------------------------
    def test_gk_validate_112_01_match_limit(self, env):
        env.error_log.ignore(regex=r"/properties/s/pattern")
        assert post(env, "/redos/record", dumps({"s": "a" * 20})
                    ).status_code == 200
        m = marker()
        evil = "a" * 40 + "!"
        r = post(env, "/redos/record", dumps({"s": evil}), mark=m)
        errs = errors_of(r, secrets=(evil,))
        assert records(self.rec, m) == []
        assert [(e["instanceLocation"], e["keyword"]) for e in errs] == \
            [("/s", "pattern")], errs
        assert "limit" in errs[0]["message"].lower(), errs
        line = env.error_log.wait_for(r"properties/s/pattern", timeout=5)
        assert line is not None
        assert line.level == "error", line.text
        assert evil not in line.text
