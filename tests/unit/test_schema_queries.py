"""Schema queries (Rust's ``Schema`` / ``SchemaFragment`` API, cedar-policy 4.12).

Ported from cedar-policy/cedar (commit ba579ee7):

* ``cedar-policy/src/api.rs``, ``mod test_access``: principals, resources, principals/resources
  for an action, ancestors, action groups, actions, actions for a principal and resource type,
  entity types;
* ``cedar-policy/src/test/test.rs``, ``mod schema_annotations``: annotation accessors, on a
  fragment with Rust's ``(namespace, name)`` arguments (``Schema`` takes qualified names);
* ``cedar-policy-core/src/validator/json_schema.rs``,
  ``test_to_internal_name_fragment_with_resolved_types``: JSON with resolved types.

cedarpy 4.12.2 exposes none of these (its ``Schema`` only parses and prints), so Rust's tests
are the reference.
"""

from __future__ import annotations

import json

import pytest

from cedarlang import EntityUid, Schema
from cedarlang.errors import SchemaError
from cedarlang.schema import Fragment, RequestEnv, schema_str_to_json_with_resolved_types
from cedarlang.schema.cedar_syntax import parse_cedar_schema
from cedarlang.validator.schema_info import SchemaInfo

ACCESS_SCHEMA = """
type Task = { "id": Long, "name": String, "state": String };
type T = String;
type Tasks = Set<Task>;
entity List in [Application] = {
  "editors": Team, "name": String, "owner": User, "readers": Team, "tasks": Tasks,
};
entity Application;
entity User in [Team, Application] = { "joblevel": Long, "location": String };
entity CoolList;
entity Team in [Team, Application];
action Read, Write, Create;
action DeleteList, EditShare, UpdateList, CreateTask, UpdateTask, DeleteTask in Write appliesTo {
    principal: [User],
    resource : [List]
};
action GetList in Read appliesTo { principal : [User], resource : [List, CoolList] };
action GetLists in Read appliesTo { principal : [User], resource : [Application] };
action CreateList in Create appliesTo { principal : [User], resource : [Application] };
"""


def _a(name: str, ns: str | None = None) -> EntityUid:
    return EntityUid("Action" if ns is None else f"{ns}::Action", name)


@pytest.fixture(scope="module")
def access() -> Schema:
    return Schema.from_str(ACCESS_SCHEMA)


def test_principals_and_resources(access: Schema) -> None:
    assert access.principals() == {"User"}
    assert access.resources() == {"List", "Application", "CoolList"}


def test_principals_and_resources_for_action(access: Schema) -> None:
    assert access.principals_for_action(_a("DeleteList")) == ("User",)
    assert access.principals_for_action(_a("DeleteUser")) is None
    assert access.resources_for_action(_a("DeleteList")) == ("List",)
    assert access.resources_for_action(_a("CreateList")) == ("Application",)
    assert set(access.resources_for_action(_a("GetList")) or ()) == {"List", "CoolList"}
    assert access.resources_for_action(_a("DeleteUser")) is None


def test_ancestors(access: Schema) -> None:
    assert access.ancestors("User") == frozenset({"Team", "Application"})
    assert access.ancestors("List") == frozenset({"Application"})
    assert access.ancestors("Foo") is None
    assert access.ancestors("CoolList") == frozenset()


def test_action_groups_actions_entity_types(access: Schema) -> None:
    assert access.action_groups() == {_a("Read"), _a("Write"), _a("Create")}
    assert set(access.actions) == {
        _a(n)
        for n in [
            "Read",
            "Write",
            "Create",
            "DeleteList",
            "EditShare",
            "UpdateList",
            "CreateTask",
            "UpdateTask",
            "DeleteTask",
            "GetList",
            "GetLists",
            "CreateList",
        ]
    }
    assert set(access.entity_types) == {"List", "Application", "User", "CoolList", "Team"}


def test_actions_for_principal_and_resource(access: Schema) -> None:
    assert set(access.actions_for_principal_and_resource("User", "Application")) == {
        _a("GetLists"),
        _a("CreateList"),
    }
    assert access.actions_for_principal_and_resource("Team", "Application") == []
    assert access.actions_for_principal_and_resource("User", "CoolList") == [_a("GetList")]


def test_request_envs(access: Schema) -> None:
    envs = access.request_envs()
    assert RequestEnv("User", _a("GetList"), "CoolList") in envs
    assert len(envs) == 6 + 2 + 1 + 1  # six List actions, GetList x2, GetLists, CreateList
    assert len(set(envs)) == len(envs)
    for env in envs:
        assert env.action in access.actions_for_principal_and_resource(env.principal, env.resource)
    # the validator typechecks in exactly these environments
    info = SchemaInfo.build(access)
    assert [(e.principal, e.action, e.resource) for e in info.envs] == [
        (e.principal, e.action, e.resource) for e in envs
    ]


ANNOTATED = """
@a("a")
@b
entity A1,A2 {};
@c("c")
@d
type T = Long;
@e("e")
@f
action a1, a2 appliesTo { principal: [A1], resource: [A2] };

@m("m")
@n
namespace N {
  @a("a")
  @b
  entity A1,A2 {};
  @c("c")
  @d
  type T = Long;
  @e("e")
  @f
  action a1, a2 appliesTo { principal: [N::A1], resource: [A2] };
}
"""


@pytest.fixture(scope="module")
def annotated() -> Fragment:
    # a fragment, as in Rust (`N::A1` next to `A1` is fine in a fragment, not in a schema)
    return parse_cedar_schema(ANNOTATED)


def test_namespace_annotations(annotated: Fragment) -> None:
    assert annotated.namespace_annotations("N") == {"m": "m", "n": ""}
    assert annotated.namespace_annotations("NM") is None
    assert annotated.namespace_annotation("N", "m") == "m"
    assert annotated.namespace_annotation("N", "n") == ""
    assert annotated.namespace_annotation("N", "x") is None
    assert annotated.namespace_annotation("NM", "n") is None


def test_entity_type_annotations(annotated: Fragment) -> None:
    for ns in (None, "N"):
        for name in ("A1", "A2"):
            assert annotated.entity_type_annotations(ns, name) == {"a": "a", "b": ""}
        assert annotated.entity_type_annotation(ns, "A1", "b") == ""
        assert annotated.entity_type_annotation(ns, "A2", "a") == "a"
        assert annotated.entity_type_annotation(ns, "A3", "a") is None
        assert annotated.entity_type_annotation(ns, "A2", "x") is None
    assert annotated.entity_type_annotation("NM", "A1", "b") is None


def test_common_type_annotations(annotated: Fragment) -> None:
    for ns in (None, "N"):
        assert annotated.common_type_annotations(ns, "T") == {"c": "c", "d": ""}
        assert annotated.common_type_annotation(ns, "T", "c") == "c"
        assert annotated.common_type_annotation(ns, "T", "d") == ""
        assert annotated.common_type_annotation(ns, "T1", "c") is None
        assert annotated.common_type_annotation(ns, "T", "x") is None
    assert annotated.common_type_annotation("NM", "T", "c") is None


def test_action_annotations(annotated: Fragment) -> None:
    for ns in (None, "N"):
        for name in ("a1", "a2"):
            assert annotated.action_annotations(ns, name) == {"e": "e", "f": ""}
        assert annotated.action_annotation(ns, "a1", "e") == "e"
        assert annotated.action_annotation(ns, "a2", "f") == ""
        assert annotated.action_annotation(ns, "a3", "e") is None
        assert annotated.action_annotation(ns, "a2", "x") is None
    assert annotated.action_annotation("NM", "a1", "e") is None


def test_schema_annotation_accessors_take_qualified_names() -> None:
    schema = Schema.from_str(
        """
        @a("a") @b entity B1, B2;
        @c("c") @d type T = Long;
        @e("e") @f action a2 appliesTo { principal: B1, resource: B2 };
        @m("m") @n namespace N {
            @a("a") entity A2;
            @c("c") type U = Long;
            @e("e") @f action a1 appliesTo { principal: A2, resource: A2 };
        }
        """
    )
    assert schema.entity_type_annotations("B1") == {"a": "a", "b": ""}
    assert schema.entity_type_annotation("N::A2", "a") == "a"
    assert schema.entity_type_annotations("N::B1") is None
    assert schema.common_type_annotation("N::U", "c") == "c"
    assert schema.common_type_annotations("T") == {"c": "c", "d": ""}
    assert schema.action_annotations(_a("a1", "N")) == {"e": "e", "f": ""}
    assert schema.action_annotation(_a("a2"), "f") == ""
    assert schema.action_annotations(EntityUid("N::User", "a1")) is None
    assert schema.namespace_annotations("N") == {"m": "m", "n": ""}
    assert schema.namespace_annotations("") is None


# -- from_schema_fragments ---------------------------------------------------------------


def test_from_schema_fragments_resolves_across_fragments() -> None:
    whole = Schema.from_str(ACCESS_SCHEMA)
    parts = [
        'type Task = { "id": Long, "name": String, "state": String }; type T = String; type Tasks = Set<Task>;',
        ACCESS_SCHEMA.split("type Tasks = Set<Task>;")[1].split("action")[0],
        "action" + ACCESS_SCHEMA.split("entity Team in [Team, Application];")[1].split("action", 1)[1],
    ]
    merged = Schema.from_schema_fragments(parts)
    assert merged == whole
    assert merged.request_envs() == whole.request_envs()


def test_from_schema_fragments_mixes_formats_and_namespaces() -> None:
    schema = Schema.from_schema_fragments(
        [
            "namespace App { entity User in [Team]; }",
            {"App": {"entityTypes": {"Team": {}}, "actions": {"view": {}}}},
            'namespace App { action edit in [Action::"view"] appliesTo { principal: User, resource: Team }; }',
        ]
    )
    assert set(schema.entity_types) == {"App::User", "App::Team"}
    assert schema.actions_for_principal_and_resource("App::User", "App::Team") == [_a("edit", "App")]
    assert schema.action_groups() == {_a("view", "App")}


@pytest.mark.parametrize(
    ("fragments", "message"),
    [
        (["entity User;", "entity User;"], "duplicate entity type `User`"),
        (
            ["namespace N { type T = Long; }", "namespace N { type T = String; }"],
            "duplicate common type `N::T`",
        ),
        (["action view;", "action view;"], 'duplicate action `Action::"view"`'),
        (
            ["namespace N { action view; }", 'namespace N { action "view"; }'],
            'duplicate action `N::Action::"view"`',
        ),
    ],
)
def test_from_schema_fragments_duplicates(fragments: list[str], message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        Schema.from_schema_fragments(fragments)


def test_from_schema_fragments_needs_every_type_declared() -> None:
    with pytest.raises(SchemaError, match="Team"):
        Schema.from_schema_fragments(["entity User in [Team];", "entity Other;"])
    # the same name in different namespaces is no clash
    assert (
        len(
            Schema.from_schema_fragments(
                ["namespace M { entity User; }", "namespace N { entity User; }"]
            ).entity_types
        )
        == 2
    )


# -- JSON with resolved types ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("entity User {a : String };", {"type": "String"}),
        ("entity User {a : decimal };", {"type": "decimal"}),
        ("entity User {a : User };", {"type": "Entity", "name": "User"}),
        ("action A; entity User {a : Action };", {"type": "Entity", "name": "Action"}),
        ("type T = Long; entity User {a : T };", {"type": "T"}),
        (
            "namespace NS { entity User; } entity User {a : NS::User };",
            {"type": "Entity", "name": "NS::User"},
        ),
        (
            "namespace NS { action A; } entity User {a : NS::Action };",
            {"type": "Entity", "name": "NS::Action"},
        ),
        ("namespace NS { type T = Long; } entity User {a : NS::T };", {"type": "NS::T"}),
    ],
)
def test_json_with_resolved_types_rust_snapshots(src: str, expected: dict[str, str]) -> None:
    """json_schema.rs ``test_to_internal_name_fragment_with_resolved_types``."""
    resolved, warnings = schema_str_to_json_with_resolved_types(src)
    assert resolved[""]["entityTypes"]["User"]["shape"]["attributes"]["a"] == expected
    assert warnings == []


def test_json_with_resolved_types_errors_and_warnings() -> None:
    """api.rs ``test_schema_str_to_json_with_resolved_types``; sample.rs warnings test."""
    with pytest.raises(SchemaError, match="MyName"):
        schema_str_to_json_with_resolved_types('entity User = { "name": MyName };')
    out, warnings = schema_str_to_json_with_resolved_types(
        'type MyName = String; entity User = { "name": MyName };'
    )
    assert out[""]["entityTypes"]["User"]["shape"]["attributes"]["name"] == {"type": "MyName"}
    assert warnings == []
    _, warnings = schema_str_to_json_with_resolved_types("entity String;")
    assert [w.message for w in warnings] == [
        "The name `String` shadows a builtin Cedar name. You'll have to refer to the builtin as `__cedar::String`."
    ]


def test_json_with_resolved_types_qualifies_every_reference() -> None:
    schema = Schema.from_str(
        """
        namespace App {
            type Name = String;
            entity Team;
            entity User in [Team] { name: Name, friends: Set<User>, ip: ipaddr, flag: Bool } tags Team;
            action read;
            action write in [read] appliesTo { principal: User, resource: Team, context: { who: User } };
        }
        entity String;
        entity Doc { title: String, owner: App::User };
        """
    )
    out = schema.to_json_with_resolved_types()
    text = json.dumps(out)
    assert "EntityOrCommon" not in text
    user = out["App"]["entityTypes"]["User"]
    assert user["memberOfTypes"] == ["App::Team"]
    assert user["shape"]["attributes"] == {
        "name": {"type": "App::Name"},
        "friends": {"type": "Set", "element": {"type": "Entity", "name": "App::User"}},
        "ip": {"type": "ipaddr"},
        "flag": {"type": "Bool"},
    }
    assert user["tags"] == {"type": "Entity", "name": "App::Team"}
    write = out["App"]["actions"]["write"]
    assert write["appliesTo"]["principalTypes"] == ["App::User"]
    assert write["appliesTo"]["resourceTypes"] == ["App::Team"]
    assert write["appliesTo"]["context"]["attributes"]["who"] == {"type": "Entity", "name": "App::User"}
    assert write["memberOf"] == [{"id": "read", "type": "App::Action"}]
    # an entity type named `String` shadows the builtin in the empty namespace
    assert out[""]["entityTypes"]["Doc"]["shape"]["attributes"]["title"] == {
        "type": "Entity",
        "name": "String",
    }
    # the resolved JSON is a schema in its own right, equal to the original
    assert Schema.from_json(out) == schema
