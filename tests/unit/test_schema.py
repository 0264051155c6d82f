"""Tests of the schema package: both formats, resolution, printing, errors.

The Rust engine (``cedarpy``, test-only) is the oracle: its ``Schema.__str__`` prints a
schema in Cedar syntax exactly as ``cedar-policy``'s formatter does, and its parse errors
tell which schemas Rust rejects.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from cedarlang.errors import SchemaError
from cedarlang.lexical import escape_debug, quote, unescape
from cedarlang.schema import (
    BOOL,
    EMPTY_RECORD,
    LONG,
    STRING,
    EntityRefType,
    ExtensionType,
    RecordType,
    Schema,
    SetType,
)
from cedarlang.values import EntityUid

from .._shared import conformance_dir

cedarpy = pytest.importorskip("cedarpy")

CONFORMANCE = conformance_dir()
CORPUS_FILES = sorted((CONFORMANCE / "corpus" / "corpus-tests").glob("*.cedarschema")) + sorted(
    (CONFORMANCE / "sample-data").glob("*/*.cedarschema")
)
N_CHUNKS = 8


def _chunk(i: int) -> list[Path]:
    return CORPUS_FILES[i::N_CHUNKS]


# --------------------------------------------------------------------------- oracle helpers


def rust(src: str | dict[str, Any]) -> tuple[bool, str]:
    """(accepted, Cedar-syntax rendering or error message) from the Rust engine."""
    try:
        if isinstance(src, str):
            s = cedarpy.Schema.from_str(src)
        else:
            s = cedarpy.Schema.from_json_str(json.dumps(src))
        return True, str(s)
    except ValueError as e:
        return False, str(e)


def mine(src: str | dict[str, Any]) -> tuple[bool, str]:
    try:
        s = Schema.from_str(src) if isinstance(src, str) else Schema.from_json(src)
    except SchemaError as e:
        return False, e.diagnostics[0].message
    try:
        return True, s.to_cedarschema()
    except SchemaError as e:
        return True, f"<unrenderable Schema: {e.diagnostics[0].message}>"


def normalize_error(m: str) -> str:
    """Drop what differs for reasons outside the schema semantics: serde positions, the
    ``error parsing schema`` prefix, and orders that come from Rust's randomized hash maps."""
    m = re.sub(r" at line \d+ column \d+$", "", m)
    m = m.replace("error parsing schema: ", "")
    mm = re.match(r"(failed to resolve types?: )(.*)$", m)
    if mm:
        m = mm.group(1) + ", ".join(sorted(mm.group(2).split(", ")))
    m = re.sub(
        r"^(Context for action|Shape for entity type) .* (is declared with a type other than)",
        r"\1 X \2",
        m,
    )
    for prefix in (
        "cycle in common type references",
        "cycle in action hierarchy",
    ):
        if m.startswith(prefix):
            m = prefix
    if "illegally shadows" in m:
        m = "illegally shadows"
    return m


def assert_same_as_rust(src: str | dict[str, Any]) -> None:
    r, m = rust(src), mine(src)
    assert r[0] == m[0], f"rust accepts={r[0]} ({r[1]!r}) but mine accepts={m[0]} ({m[1]!r})"
    if r[0]:
        assert m[1] == r[1]
    else:
        assert normalize_error(m[1]) == normalize_error(r[1])


# --------------------------------------------------------------------------- corpus


@pytest.mark.parametrize("chunk", range(N_CHUNKS))
def test_corpus_parses_and_round_trips(chunk: int) -> None:
    files = _chunk(chunk)
    assert files
    for path in files:
        text = path.read_text()
        schema = Schema.from_str(text, str(path))
        as_json = schema.to_json()
        from_json = Schema.from_json(as_json)
        assert from_json == schema, path
        assert from_json.to_json() == as_json, path
        reparsed = Schema.from_str(from_json.to_cedarschema())
        assert reparsed == schema, path
        # the JSON text form round-trips too
        assert Schema.from_json(json.dumps(as_json)) == schema, path


def test_corpus_count() -> None:
    assert len(CORPUS_FILES) == 7812


@pytest.mark.parametrize("chunk", range(N_CHUNKS))
def test_corpus_printing_matches_rust(chunk: int) -> None:
    """``to_cedarschema`` is byte-identical to Rust's formatter (on every corpus schema)."""
    for path in _chunk(chunk):
        text = path.read_text()
        assert Schema.from_str(text).to_cedarschema() == str(cedarpy.Schema.from_str(text)), path


@pytest.mark.parametrize("chunk", range(N_CHUNKS))
def test_corpus_json_accepted_by_rust(chunk: int) -> None:
    """Our JSON output is a schema Rust accepts, and validates policies exactly like the
    original Cedar-syntax schema (every corpus schema, with its test's own policies)."""
    for path in _chunk(chunk):
        if path.suffix != ".cedarschema" or not path.with_suffix(".cedar").exists():
            continue
        text = path.read_text()
        as_json = json.dumps(Schema.from_str(text).to_json())
        trivial = cedarpy.validate_policies("permit(principal, action, resource);", as_json)
        assert trivial.validation_passed and not trivial.errors, (path, trivial.errors)
        assert str(cedarpy.Schema.from_json_str(as_json)) == str(cedarpy.Schema.from_str(text))
        policy = path.with_suffix(".cedar").read_text()
        expected = cedarpy.validate_policies(policy, text)
        got = cedarpy.validate_policies(policy, as_json)
        assert expected.validation_passed == got.validation_passed, path
        assert sorted(e.error for e in expected.errors) == sorted(e.error for e in got.errors)


# --------------------------------------------------------------------------- resolved model

SCHEMA = """
@doc("the app")
namespace App {
  type Ctx = { ip: ipaddr, "when"?: datetime };
  @doc("a user")
  entity User in [Group] = {
    name: String,
    @doc("optional") age?: Long,
    friends: Set<User>,
    addr: { street: String, zip?: Long },
  } tags String;
  entity Group in [Group];
  entity Doc = { owner: User, ctx: Ctx, flag: Bool, d: decimal, dur: duration };
  entity Color enum ["red", "green"];
  action read, write in [all] appliesTo { principal: [User, Group], resource: Doc, context: Ctx };
  action all;
  action "group actions" in all;
}
entity Top in [App::Group];
action ping appliesTo { principal: App::User, resource: Top };
"""


@pytest.fixture(scope="module")
def app() -> Schema:
    return Schema.from_str(SCHEMA)


def test_entity_types(app: Schema) -> None:
    assert set(app.entity_types) == {"App::User", "App::Group", "App::Doc", "App::Color", "Top"}
    user = app.entity_types["App::User"]
    assert user.name == "App::User"
    assert user.member_of_types == frozenset({"App::Group"})
    assert user.tags == STRING
    assert dict(user.annotations) == {"doc": "a user"}
    attrs = user.shape.attributes
    assert attrs["name"].type == STRING and attrs["name"].required
    assert attrs["age"].type == LONG and not attrs["age"].required
    assert dict(attrs["age"].annotations) == {"doc": "optional"}
    assert attrs["friends"].type == SetType(EntityRefType("App::User"))
    addr = attrs["addr"].type
    assert isinstance(addr, RecordType)
    assert not addr.attributes["zip"].required
    doc = app.entity_types["App::Doc"].shape.attributes
    assert doc["owner"].type == EntityRefType("App::User")
    assert doc["flag"].type == BOOL
    assert doc["d"].type == ExtensionType("decimal")
    assert doc["dur"].type == ExtensionType("duration")
    ctx = doc["ctx"].type  # the common type is inlined
    assert isinstance(ctx, RecordType)
    assert ctx.attributes["ip"].type == ExtensionType("ipaddr")
    assert not ctx.attributes["when"].required
    assert app.entity_types["App::Color"].enum == ("red", "green")
    assert app.entity_types["App::Color"].shape == EMPTY_RECORD
    assert app.entity_types["Top"].member_of_types == frozenset({"App::Group"})
    assert app.entity_type("Nope") is None
    assert app.entity_type("Top") is app.entity_types["Top"]
    hash(user.shape)  # records with annotated attributes are hashable


def test_actions(app: Schema) -> None:
    read = EntityUid("App::Action", "read")
    all_ = EntityUid("App::Action", "all")
    group = EntityUid("App::Action", "group actions")
    ping = EntityUid("Action", "ping")
    assert set(app.actions) == {read, EntityUid("App::Action", "write"), all_, group, ping}
    decl = app.action(read)
    assert decl is not None and decl.uid == read
    assert decl.member_of == (all_,)
    assert decl.principal_types == ("App::User", "App::Group")
    assert decl.resource_types == ("App::Doc",)
    assert decl.has_applies_to
    assert app.context_type(read) == app.entity_types["App::Doc"].shape.attributes["ctx"].type
    assert app.principals_for_action(read) == ("App::User", "App::Group")
    assert app.resources_for_action(ping) == ("Top",)
    assert app.principals_for_action(EntityUid("Action", "nope")) is None
    assert app.context_type(EntityUid("Action", "nope")) is None
    all_decl = app.actions[all_]
    assert not all_decl.has_applies_to and all_decl.principal_types == ()
    assert all_decl.context == EMPTY_RECORD
    assert app.actions[group].member_of == (all_,)
    entities = dict(app.action_entities())
    assert entities[read] == frozenset({all_})
    assert entities[all_] == frozenset()
    assert app.action_groups() == frozenset({all_})
    assert app.action_descendants(all_) == frozenset({read, EntityUid("App::Action", "write"), group})
    assert app.principals() == frozenset({"App::User", "App::Group"})
    assert app.resources() == frozenset({"App::Doc", "Top"})


def test_transitive_action_ancestors() -> None:
    s = Schema.from_str("action a in b; action b in [c, d]; action c in d; action d;")
    anc = dict(s.action_entities())
    a, b, c, d = (EntityUid("Action", x) for x in "abcd")
    assert anc[a] == {b, c, d}
    assert anc[b] == {c, d}
    assert anc[d] == frozenset()
    assert s.actions[b].member_of == (c, d)


def test_entity_hierarchy_queries() -> None:
    s = Schema.from_str("entity A in B; entity B in C; entity C; entity D in [D];")
    assert s.entity_type_descendants("C") == {"A", "B"}
    assert s.entity_type_ancestors("A") == {"B", "C"}
    assert s.entity_type_descendants("D") == {"D"}  # entity type cycles are allowed


def test_name_resolution_rules() -> None:
    s = Schema.from_str(
        """
        entity Long;                         // shadows the builtin in the empty namespace
        type Str = String;
        entity E = { a: Long, b: __cedar::Long, c: Str };
        namespace N {
          entity Both;                       // an entity and ...
          type Both = Bool;                  // ... a common type: the common type wins
          entity X = { a: Both, b: E, c: N::Both, d: Long, e: Str, f: Set<N::X> };
        }
        """
    )
    e = s.entity_types["E"].shape.attributes
    assert e["a"].type == EntityRefType("Long")
    assert e["b"].type == LONG
    assert e["c"].type == STRING
    x = s.entity_types["N::X"].shape.attributes
    assert x["a"].type == BOOL
    assert x["b"].type == EntityRefType("E")  # falls back to the empty namespace
    assert x["c"].type == BOOL
    assert x["d"].type == EntityRefType("Long")
    assert x["e"].type == STRING
    assert x["f"].type == SetType(EntityRefType("N::X"))
    assert sorted(w.message for w in s.warnings) == [
        "The common type name Both shadows an entity name",
        "The name `Long` shadows a builtin Cedar name. You'll have to refer to the builtin as "
        "`__cedar::Long`.",
    ]


def test_action_entity_types_as_attribute_types() -> None:
    # Rust resolves `Action` as an entity type name once the namespace declares an action
    s = Schema.from_str("entity A = { a: Action, b: Set<N::Action> }; action x; namespace N { action y; }")
    attrs = s.entity_types["A"].shape.attributes
    assert attrs["a"].type == EntityRefType("Action")
    assert attrs["b"].type == SetType(EntityRefType("N::Action"))


def test_duplicate_attributes_last_wins() -> None:
    s = Schema.from_str('entity A = { a: Long, "a": String };')
    assert s.entity_types["A"].shape.attributes["a"].type == STRING


def test_one_sided_applies_to_from_json() -> None:
    s = Schema.from_json(
        {
            "": {
                "entityTypes": {"A": {}},
                "actions": {
                    "a": {"appliesTo": {"principalTypes": ["A"], "resourceTypes": []}},
                    "b": {},
                    "c": {"appliesTo": None, "memberOf": None, "attributes": None},
                },
            }
        }
    )
    a = s.actions[EntityUid("Action", "a")]
    assert not a.has_applies_to and a.principal_types == ("A",)
    assert not s.actions[EntityUid("Action", "b")].has_applies_to
    assert s.to_cedarschema() == 'entity A;\n\naction "a";\n\naction "b";\n\naction "c";\n'


# --------------------------------------------------------------------------- JSON format


def test_json_output_format() -> None:
    s = Schema.from_str(
        """
        @doc("ns") namespace NS {
          type T = { a: Long, "b c"?: Set<User> };
          @a entity User in [G] = { x: T, y: ipaddr } tags String;
          entity G;
          entity E enum ["a", "b"];
          action "view", edit in ["g"] appliesTo { principal: User, resource: [G, E], context: T };
          action g;
        }
        entity Top;
        """
    )
    eoc = "EntityOrCommon"
    assert s.to_json() == {
        "": {"entityTypes": {"Top": {}}, "actions": {}},
        "NS": {
            "commonTypes": {
                "T": {
                    "type": "Record",
                    "attributes": {
                        "a": {"type": eoc, "name": "Long"},
                        "b c": {
                            "type": "Set",
                            "element": {"type": eoc, "name": "User"},
                            "required": False,
                        },
                    },
                }
            },
            "entityTypes": {
                "E": {"enum": ["a", "b"]},
                "G": {},
                "User": {
                    "memberOfTypes": ["G"],
                    "shape": {
                        "type": "Record",
                        "attributes": {
                            "x": {"type": eoc, "name": "T"},
                            "y": {"type": eoc, "name": "ipaddr"},
                        },
                    },
                    "tags": {"type": eoc, "name": "String"},
                    "annotations": {"a": ""},
                },
            },
            "actions": {
                "edit": {
                    "appliesTo": {
                        "resourceTypes": ["G", "E"],
                        "principalTypes": ["User"],
                        "context": {"type": "T"},
                    },
                    "memberOf": [{"id": "g"}],
                },
                "g": {"appliesTo": {"resourceTypes": [], "principalTypes": []}},
                "view": {
                    "appliesTo": {
                        "resourceTypes": ["G", "E"],
                        "principalTypes": ["User"],
                        "context": {"type": "T"},
                    },
                    "memberOf": [{"id": "g"}],
                },
            },
            "annotations": {"doc": "ns"},
        },
    }
    assert json.loads(s.to_json_str()) == s.to_json()


def test_json_input_forms() -> None:
    s = Schema.from_json(
        json.dumps(
            {
                "NS": {
                    "commonTypes": {"T": {"type": "Set", "element": {"type": "Boolean"}}},
                    "entityTypes": {
                        "A": {
                            "shape": {
                                "type": "Record",
                                "attributes": {
                                    "x": {"type": "Long"},
                                    "y": {"type": "Extension", "name": "decimal"},
                                    "z": {"type": "Entity", "name": "A"},
                                    "w": {"type": "EntityOrCommon", "name": "A", "required": False},
                                    "q": {"type": "T", "annotations": {"doc": None}},
                                    "b": {"type": "Bool"},
                                    "i": {"type": "ipaddr"},
                                },
                            }
                        }
                    },
                    "actions": {
                        "x": {"memberOf": [{"id": "y"}]},
                        "y": {
                            "memberOf": [{"id": "z", "type": "NS::Action"}],
                            "appliesTo": {"principalTypes": ["A"], "resourceTypes": ["A"]},
                        },
                        "z": {},
                    },
                },
                "": {"entityTypes": {"B": {}}, "actions": {}},
            }
        )
    )
    a = s.entity_types["NS::A"].shape.attributes
    assert a["x"].type == LONG
    assert a["y"].type == ExtensionType("decimal")
    assert a["z"].type == EntityRefType("NS::A")
    assert not a["w"].required
    assert a["q"].type == SetType(BOOL)
    assert dict(a["q"].annotations) == {"doc": ""}
    assert a["b"].type == BOOL
    assert a["i"].type == ExtensionType("ipaddr")
    assert s.actions[EntityUid("NS::Action", "x")].member_of == (EntityUid("NS::Action", "y"),)
    assert s.to_cedarschema() == str(cedarpy.Schema.from_json_str(json.dumps(s.to_json())))


JSON_ERRORS: list[tuple[str, str]] = [
    ('{"": {"entityTypes": {}}}', "missing field `actions`"),
    ('{"entityTypes": {}, "actions": {}}', "missing field `entityTypes`"),
    ('{"": {"entityTypes": {}, "actions": {}, "foo": 1}}', "unknown field `foo`, expected one of"),
    ('{"": {"entityTypes": {"A": {}, "A": {}}, "actions": {}}}', "found duplicate key `A`"),
    ('{"": {"entityTypes": {"A": {"foo": 1}}, "actions": {}}}', "unknown field `foo`"),
    ('{"": {"entityTypes": {"A": {"enum": []}}, "actions": {}}}', "NonEmpty needs at least one"),
    (
        '{"": {"entityTypes": {"A": {"enum": ["a"], "tags": {"type": "Long"}}}, "actions": {}}}',
        "unexpected field: tags",
    ),
    ('{"": {"entityTypes": {"if": {}}, "actions": {}}}', "invalid id `if`"),
    ('{"": {"entityTypes": {"A": {"shape": {"type": "Set"}}}, "actions": {}}}', "missing field `element`"),
    (
        '{"": {"entityTypes": {"A": {"shape": {"type": "Long"}}}, "actions": {}}}',
        "Shape for entity type A is declared with a type other than `Record`",
    ),
    (
        '{"": {"entityTypes": {"A": {"shape": {"type": "Record", "attributes": {}, '
        '"additionalAttributes": true}}}, "actions": {}}}',
        "unsupported feature used in schema",
    ),
    ('{"": {"entityTypes": {}, "actions": {"a": {"attributes": {}}}}}', "unsupported feature used in schema"),
    (
        '{"": {"entityTypes": {}, "actions": {"a": {"appliesTo": {"principalTypes": []}}}}}',
        "missing field `resourceTypes`",
    ),
    (
        '{"": {"entityTypes": {}, "actions": {}, "commonTypes": {"Record": {"type": "Long"}}}}',
        "this is reserved and cannot be the basename of a common-type declaration: Record",
    ),
    (
        '{"": {"entityTypes": {}, "actions": {}, "annotations": {"a": "b"}}}',
        "annotations are not allowed on the empty namespace",
    ),
    ('{"__cedar": {"entityTypes": {}, "actions": {}}}', "invalid namespace `__cedar`"),
    (
        '{"": {"entityTypes": {"A": {"shape": {"type": "Record", "attributes": {"x": '
        '{"type": "Extension", "name": "ipadr"}}}}}, "actions": {}}}',
        "unknown extension type `ipadr`",
    ),
    (
        '{"": {"entityTypes": {"A": {"memberOfTypes": ["B C"]}}, "actions": {}}}',
        "invalid name `B C`: unexpected token `C`",
    ),
    (
        '{"": {"entityTypes": {}, "actions": {"a": {"memberOf": [{"id": "b"}]}}}}',
        'undeclared action: Action::"b"',
    ),
    ("entity A;", "Expecting value"),
]


@pytest.mark.parametrize(("src", "message"), JSON_ERRORS)
def test_json_errors(src: str, message: str) -> None:
    with pytest.raises(SchemaError) as info:
        Schema.from_json(src)
    assert message in info.value.message
    with pytest.raises(ValueError):
        cedarpy.Schema.from_json_str(src)


def test_json_error_positions() -> None:
    src = '{"": {\n  "entityTypes": {\n    "A": {"memberOfTypes": ["B", "C D"]}\n  },\n  "actions": {}\n}}'
    with pytest.raises(SchemaError) as info:
        Schema.from_json(src)
    assert (info.value.line, info.value.column) == (3, 34)
    src = (
        '{"": {"entityTypes": {"A": {"shape": {"type": "Record", "attributes": '
        '{"x": {"type": "Long", "foo": 1}}}}}, "actions": {}}}'
    )
    with pytest.raises(SchemaError) as info:
        Schema.from_json(src)
    assert (info.value.line, info.value.column) == (1, 94)
    assert "unknown field `foo`" in info.value.render()


def test_missing_namespace_hint() -> None:
    with pytest.raises(SchemaError) as info:
        Schema.from_json({"entityTypes": {}, "actions": {}})
    assert "must specify a namespace" in (info.value.diagnostics[0].help or "")


def test_from_str_or_json() -> None:
    a = Schema.from_str_or_json("entity A;")
    b = Schema.from_str_or_json('{"": {"entityTypes": {"A": {}}, "actions": {}}}')
    c = Schema.from_str_or_json({"": {"entityTypes": {"A": {}}, "actions": {}}})
    assert a == b == c


# --------------------------------------------------------------------------- errors with positions

CEDAR_ERRORS: list[tuple[str, int | None, int | None, str]] = [
    ("entity A {x: Long} extra;", 1, 20, "unexpected token `extra`"),
    ("entity A", 1, 9, "unexpected end of input"),
    ("entity A = {x: Long}; #", 1, 23, "invalid token"),
    ("entity A = {\n  if: Long\n};", 2, 3, "`if` is a reserved identifier"),
    ("entity in;", 1, 8, "`in` is a reserved identifier"),
    ('action "a\\q";', 1, 8, "Invalid escape codes"),
    ('@doc("a")\n@doc("b")\nentity A;', 1, 1, "duplicate annotations: `doc`"),
    ("entity A = {\n  x: Long,\n  @a @a y: Long\n};", 3, 3, "duplicate annotations: `a`"),
    ("entity A;\nentity A;", 2, 8, "`A` is declared twice"),
    ('action "view";\naction view;', 2, 8, "`view` is declared twice"),
    ("type T = Long;\ntype T = String;", 2, 6, "`T` is declared twice"),
    ("namespace N {}\nnamespace N {}", 2, 11, "duplicate namespace id: `N`"),
    ("namespace __cedar { entity A; }", 1, 11, "use of the reserved `__cedar` namespace"),
    ("entity __cedar;", 1, 8, "use of the reserved `__cedar` namespace"),
    ("type Set = Long;", 1, 6, "this uses a reserved schema keyword: `Set`"),
    (
        "entity A;\naction a appliesTo { principal: [], resource: A };",
        2,
        22,
        "for action `a`, `principal` is `[]`, which is invalid",
    ),
    ("entity A;\naction view appliesTo { principal: A };", 2, 8, "missing `resource` declaration for `view`"),
    (
        "entity A;\naction a appliesTo { principal: A, resource: A, context: {}, context: {} };",
        2,
        62,
        "duplicate context declaration in action `a`",
    ),
    ("entity User;\nentity Doc = { owner: Usr };", 2, 23, "failed to resolve type: Usr"),
    (
        "entity A;\naction a appliesTo { principal: A, resource: A, context: Ctx };",
        2,
        58,
        "failed to resolve type: Ctx",
    ),
    ("action a in [b];", 1, 14, 'undeclared action: Action::"b"'),
    ("action a in b;\naction b in a;", 1, 8, "cycle in action hierarchy"),
    ("type A = B;\ntype B = {x: A};", 1, 6, "cycle in common type references"),
    (
        "entity User;\nnamespace N { entity User; }",
        2,
        22,
        "definition of `N::User` illegally shadows the existing definition of `User`",
    ),
    ("action view;\nnamespace N { action view; }", 2, 22, "illegally shadows"),
    (
        "type T = Long;\nentity A;\naction a appliesTo { principal: A, resource: A, context: T };",
        3,
        8,
        'Context for action Action::"a" is declared with a type other than `Record`',
    ),
    ("entity A = { ip: __cedar::ipadr };", 1, 18, "failed to resolve type: __cedar::ipadr"),
    ("namespace N { entity Action; }", 1, 22, "entity type `Action` declared in `entityTypes`"),
    ("entity A;\naction a appliesTo {};", 2, 21, "unexpected token `}`"),
    ('entity E in [A] enum ["a"];', 1, 17, "unexpected token `enum`"),
    ('action "abc;', 1, 8, "invalid token"),
    ("entity A = {x: 1};", 1, 16, "unexpected token `1`"),
    ("namespace A { namespace B {} }", 1, 15, "unexpected token `namespace`"),
    ("entity A in [Action];\naction x;", 1, 14, "undeclared entity type: Action"),
    ("entity A = { a: Set<Long };", 1, 26, "unexpected token `}`"),
]


@pytest.mark.parametrize(("src", "line", "column", "message"), CEDAR_ERRORS)
def test_cedar_syntax_errors(src: str, line: int, column: int, message: str) -> None:
    with pytest.raises(SchemaError) as info:
        Schema.from_str(src)
    err = info.value
    assert message in err.message
    assert (err.line, err.column) == (line, column)
    assert err.render()  # renders with a caret under the offending token
    ok, rust_message = rust(src)
    assert not ok
    assert normalize_error(err.message) == normalize_error(rust_message)


def test_did_you_mean() -> None:
    with pytest.raises(SchemaError) as info:
        Schema.from_str("entity User;\nentity Doc in [Usr];")
    assert "did you mean `User`?" in (info.value.diagnostics[0].help or "")


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(SchemaError):
        Schema.from_str("entity A = {a: " + "Set<" * 3000 + "Long" + ">" * 3000 + "};")


def test_name_collision_cannot_be_printed() -> None:
    s = Schema.from_str("namespace N { type A = Long; entity A; }")
    with pytest.raises(SchemaError, match="name collisions"):
        s.to_cedarschema()
    assert Schema.from_json(s.to_json()) == s


# --------------------------------------------------------------------------- printing

PRINT_CASES = [
    SCHEMA,
    'entity A = {"in": Long, "if": String, "a b": Bool, "é": Long, _x: Long, Set: Long, '
    '"x\'y\\"z": Long, "\\u{749}a\\u{749}": Long, principal: Long, "__cedar": Long};',
    "namespace N { entity A tags {x: Long, y: {z: Set<String>}}; "
    "entity B = {a: {b: {c: Long}}, d: Set<{e: Long}>, f: {}}; type T = {}; "
    "action a appliesTo {principal: A, resource: A, context: T}; "
    "action b appliesTo {principal: A, resource: A, context: {x: {y: Long}}}; }",
    '@a @b("x\\ny") entity A; @c action "it\'s"; @d("") type T = Long; @e namespace M {}',
    'entity E enum ["a", "a", "\\0", "\\u{1F600}"];',
    "",
    "// only a comment",
]


@pytest.mark.parametrize("src", PRINT_CASES)
def test_printing_matches_rust(src: str) -> None:
    assert_same_as_rust(src)


def test_escape_helpers() -> None:
    assert escape_debug("a\"b'c\\\n\t\r\0") == "a\\\"b\\'c\\\\\\n\\t\\r\\0"
    assert escape_debug("\u0300a\u0300") == "\\u{300}a\u0300"
    assert escape_debug("\x7f\u200b") == "\\u{7f}\\u{200b}"
    for text in ["", "plain", "é\u0300", "\x00\x01\u2028", "a'\"\\"]:
        assert unescape(quote(text)[1:-1]) == text
    assert unescape(r"\u{1_F6_00}\x41") == "\U0001f600A"


# --------------------------------------------------------------------------- differential fuzzing


def _random_cedar_schema(r: random.Random) -> str:
    """A random, mostly valid Cedar-syntax schema."""

    def string() -> str:
        return quote(r.choice(["a", "", "x y", "in", "é", "a'b", "\u0300x", "\t", "\\"]))

    def ann() -> str:
        keys = r.sample(["doc", "a", "in", "if"], r.choice([0, 0, 1, 2]))
        return "".join(f"@{k}({string()}) " if r.random() < 0.6 else f"@{k} " for k in keys)

    nss = r.sample([None, "N", "M::K"], r.choice([1, 2, 3]))
    ents = {ns: r.sample(["U", "G", "Doc", "Long", "ipaddr"], r.choice([1, 2])) for ns in nss}
    commons = {
        ns: r.sample(["T", "C", "decimal", "Bool" if r.random() < 0.1 else "D"], r.choice([0, 1, 2]))
        for ns in nss
    }
    if None in nss and r.random() < 0.8:
        top = set(ents[None]) | set(commons[None])
        for ns in nss:
            if ns is not None:
                ents[ns] = [e for e in ents[ns] if e not in top] or ["Z"]
                commons[ns] = [c for c in commons[ns] if c not in top]

    def entity_ref(ns: str | None) -> str:
        target = r.choice(nss)
        name = r.choice(ents[target])
        return name if target is None or (target == ns and r.random() < 0.7) else f"{target}::{name}"

    def ty(ns: str | None, depth: int) -> str:
        c = r.random()
        if c < 0.3:
            return r.choice(["Long", "String", "Bool", "ipaddr", "datetime", "__cedar::Long"])
        if c < 0.55 or depth > 2:
            return entity_ref(ns)
        if c < 0.7 and commons[ns]:
            return r.choice(commons[ns])
        if c < 0.85:
            return f"Set<{ty(ns, depth + 1)}>"
        return record(ns, depth + 1)

    attr_names = ["a", "b", "in_", '"x y"', '"in"', "principal", "Set"]

    def record(ns: str | None, depth: int = 0) -> str:
        attrs = [
            f"{ann()}{r.choice(attr_names)}{r.choice(['', '?'])}: {ty(ns, depth)}"
            for _ in range(r.choice([0, 1, 2, 3]))
        ]
        return "{" + ", ".join(attrs) + (r.choice(["", ","]) if attrs else "") + "}"

    out = []
    for ns in nss:
        decls = []
        for i, c in enumerate(commons[ns]):
            body = record(ns, 1)
            for later in commons[ns][i:]:
                body = body.replace(f": {later}", ": String").replace(f"<{later}>", "<String>")
            decls.append(f"{ann()}type {c} = {body};")
        for e in ents[ns]:
            if r.random() < 0.15:
                decls.append(f"{ann()}entity {e} enum [{string()}];")
                continue
            d = f"{ann()}entity {e}"
            if r.random() < 0.4:
                d += " in [" + ", ".join(entity_ref(ns) for _ in range(r.choice([1, 2]))) + "]"
            if r.random() < 0.6:
                d += r.choice([" = ", " "]) + record(ns)
            if r.random() < 0.2:
                d += " tags " + ty(ns, 1)
            decls.append(d + ";")
        acts = r.sample(["view", "edit", '"del ete"', "g"], r.choice([1, 2, 3]))
        for j, a in enumerate(acts):
            d = f"{ann()}action {a}"
            if j > 0 and r.random() < 0.4:
                d += f" in [{acts[0]}]"
            if r.random() < 0.8:
                ctx = record(ns) if r.random() < 0.7 or not commons[ns] else r.choice(commons[ns])
                d += (
                    " appliesTo {principal: ["
                    + ", ".join(entity_ref(ns) for _ in range(2))
                    + "], resource: "
                    + entity_ref(ns)
                    + f", context: {ctx}}}"
                )
            decls.append(d + ";")
        r.shuffle(decls)
        body = " ".join(decls)
        out.append(body if ns is None else f"{ann()}namespace {ns} {{ {body} }}")
    return "\n".join(out)


def test_differential_random_cedar_schemas() -> None:
    r = random.Random(20261126)
    accepted = 0
    for _ in range(250):
        src = _random_cedar_schema(r)
        assert_same_as_rust(src)
        ok, _ = rust(src)
        if ok:
            accepted += 1
            s = Schema.from_str(src)
            as_json = s.to_json()
            assert Schema.from_json(json.dumps(as_json)) == s
            assert str(cedarpy.Schema.from_json_str(json.dumps(as_json))) == s.to_cedarschema()
    assert accepted > 50


_MUTATIONS = [
    *'{}[]<>;:,=?@()"\\/ \n\tA_z09',
    "::",
    "Set",
    "in",
    "entity",
    "action",
    "type",
    "namespace",
    "appliesTo",
    "tags",
    "enum",
    "\u00e9",
    "\u3000",
    "//",
    "principal",
    "context",
    "if",
    "__cedar",
    "\r",
]


def test_differential_mutated_corpus_schemas() -> None:
    """Random edits of corpus schemas: same accept/reject decision and same first error."""
    r = random.Random(7)
    for _ in range(300):
        text = r.choice(CORPUS_FILES[:7809]).read_text()[:2000]
        for _ in range(r.choice([1, 2, 3])):
            pos = r.randrange(len(text) + 1)
            op = r.random()
            if op < 0.4:
                text = text[:pos] + r.choice(_MUTATIONS) + text[pos:]
            elif op < 0.8:
                text = text[:pos] + text[pos + r.choice([1, 2, 5]) :]
            else:
                text = text[:pos] + r.choice(_MUTATIONS) + text[pos + 1 :]
        assert_same_as_rust(text)


def _random_json_schema(r: random.Random) -> dict[str, Any]:
    nss = r.sample(["", "N", "M::K"], r.choice([1, 2]))
    ents = {ns: r.sample(["U", "G", "Long"], r.choice([1, 2])) for ns in nss}
    commons = {ns: r.sample(["T", "C", "decimal"], r.choice([0, 1])) for ns in nss}

    def entity_ref(ns: str) -> str:
        target = r.choice(nss)
        name = r.choice(ents[target])
        return name if not target or (target == ns and r.random() < 0.6) else f"{target}::{name}"

    def ty(ns: str, depth: int = 0) -> dict[str, Any]:
        c = r.random()
        if c < 0.15:
            return {"type": r.choice(["Long", "String", "Boolean"])}
        if c < 0.3:
            return {"type": "Entity", "name": entity_ref(ns)}
        if c < 0.45:
            return {
                "type": "EntityOrCommon",
                "name": r.choice([entity_ref(ns), "Long", "Bool", "__cedar::Long", *commons[ns]]),
            }
        if c < 0.55:
            return {"type": "Extension", "name": r.choice(["ipaddr", "decimal", "datetime"])}
        if c < 0.65 and commons[ns]:
            return {"type": r.choice([*commons[ns], "Bool", "ipaddr"])}
        if depth < 2 and c < 0.8:
            return {"type": "Set", "element": ty(ns, depth + 1)}
        if depth < 2:
            return record(ns, depth + 1)
        return {"type": "String"}

    def record(ns: str, depth: int = 0) -> dict[str, Any]:
        attrs = {}
        for k in r.sample(["a", "b", "in", "x y"], r.choice([0, 1, 2])):
            attrs[k] = ty(ns, depth)
            if r.random() < 0.3:
                attrs[k]["required"] = r.random() < 0.5
            if r.random() < 0.2:
                attrs[k]["annotations"] = {"doc": r.choice(["x", None])}
        return {"type": "Record", "attributes": attrs}

    frag: dict[str, Any] = {}
    for ns in nss:
        d: dict[str, Any] = {}
        if commons[ns]:
            d["commonTypes"] = {c: record(ns, 1) for c in commons[ns]}
        d["entityTypes"] = {}
        for e in ents[ns]:
            et: dict[str, Any] = {}
            if r.random() < 0.15:
                et["enum"] = ["a"]
            else:
                if r.random() < 0.4:
                    et["memberOfTypes"] = [entity_ref(ns)]
                if r.random() < 0.6:
                    et["shape"] = record(ns)
                if r.random() < 0.2:
                    et["tags"] = ty(ns)
            d["entityTypes"][e] = et
        d["actions"] = {}
        names = r.sample(["view", "edit", "x y"], r.choice([1, 2]))
        for i, a in enumerate(names):
            act: dict[str, Any] = {}
            if r.random() < 0.8:
                act["appliesTo"] = {
                    "principalTypes": [entity_ref(ns) for _ in range(r.choice([0, 1, 2]))],
                    "resourceTypes": [entity_ref(ns) for _ in range(r.choice([1, 2]))],
                }
                if r.random() < 0.5:
                    act["appliesTo"]["context"] = record(ns)
            if i > 0 and r.random() < 0.4:
                act["memberOf"] = [{"id": names[0]}]
            d["actions"][a] = act
        frag[ns] = d
    return frag


def test_differential_random_json_schemas() -> None:
    r = random.Random(99)
    for _ in range(250):
        frag = _random_json_schema(r)
        assert_same_as_rust(frag)
        ok, _ = rust(frag)
        if ok:
            s = Schema.from_json(frag)
            assert Schema.from_json(json.dumps(s.to_json())) == s
