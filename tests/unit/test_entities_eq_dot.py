"""``Entities`` equality (Rust's ``Entities::deep_eq``), ``ancestors`` and ``to_dot``
(Rust's ``Entities::to_dot_str``, which ``cedar visualize`` prints)."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from cedarlang import Entities, Entity, EntityUid, Schema

DATA: list[dict[str, Any]] = [
    {
        "uid": {"type": "User", "id": "alice"},
        "attrs": {"age": 3, "tags": ["a"]},
        "parents": [{"type": "Group", "id": "staff"}],
    },
    {"uid": {"type": "Group", "id": "staff"}, "attrs": {}, "parents": [{"type": "Group", "id": "all"}]},
    {"uid": {"type": "Group", "id": "all"}, "attrs": {}, "parents": []},
    {"uid": {"type": "Doc", "id": "d"}, "attrs": {}, "parents": [], "tags": {"k": "v"}},
]


def uid(t: str, i: str) -> EntityUid:
    return EntityUid(t, i)


def test_identical_content_compares_equal() -> None:
    a, b = Entities.from_json(DATA), Entities.from_json(list(reversed(DATA)))
    assert a == b and (a != b) is False
    assert Entities() == Entities()
    assert a != Entities() and a != DATA


def test_any_difference_compares_unequal() -> None:
    base = Entities.from_json(DATA)
    changes: list[Callable[[list[dict[str, Any]]], object]] = [
        lambda d: d[0]["attrs"].update(age=4),
        lambda d: d[3]["tags"].update(k="w"),
        lambda d: d[1].update(parents=[]),  # alice's ancestors change too
        lambda d: d.pop(),
        lambda d: d.append({"uid": {"type": "X", "id": "x"}, "attrs": {}, "parents": []}),
    ]
    for change in changes:
        data = [
            {**e, "attrs": dict(e["attrs"]), **({"tags": dict(e["tags"])} if "tags" in e else {})}
            for e in DATA
        ]
        change(data)
        assert Entities.from_json(data) != base


def test_equality_compares_ancestors_not_direct_parents() -> None:
    # alice in staff in all, versus alice in staff and all directly: same closure
    direct = [
        dict(DATA[0], parents=[{"type": "Group", "id": "staff"}, {"type": "Group", "id": "all"}]),
        *DATA[1:],
    ]
    assert Entities.from_json(direct) == Entities.from_json(DATA)


def test_updates_are_seen_and_stores_stay_hashable_by_identity() -> None:
    a, b = Entities.from_json(DATA), Entities.from_json(DATA)
    a.upsert([Entity(uid("Doc", "e"))])
    assert a != b
    b.upsert([Entity(uid("Doc", "e"))])
    assert a == b
    cache: weakref.WeakKeyDictionary[Entities, str] = weakref.WeakKeyDictionary()
    cache[a], cache[b] = "a", "b"  # equal stores stay distinct keys
    assert (cache[a], cache[b], len({a, b})) == ("a", "b", 2)


def test_schema_actions_take_part() -> None:
    schema = Schema.from_str("entity User; action view appliesTo { principal: User, resource: User };")
    assert Entities.from_json([], schema=schema) != Entities.from_json([])
    assert Entities.from_json([], schema=schema) == Entities.from_json([], schema=schema)


def test_ancestors() -> None:
    entities = Entities.from_json(DATA)
    assert entities.ancestors(uid("User", "alice")) == frozenset({uid("Group", "staff"), uid("Group", "all")})
    assert entities.ancestors(uid("Group", "all")) == frozenset()
    assert entities.ancestors(uid("User", "nobody")) is None


def test_to_dot_follows_rust_to_dot_str() -> None:
    entities = Entities.from_json(
        [
            {
                "uid": {"type": "User", "id": "alice"},
                "attrs": {},
                "parents": [{"type": "Group", "id": "staff"}],
            },
            {
                "uid": {"type": "Group", "id": "staff"},
                "attrs": {},
                "parents": [{"type": "Group", "id": "all"}],
            },
            {"uid": {"type": "Group", "id": "all"}, "attrs": {}, "parents": []},
            {
                "uid": {"type": "NS::File", "id": 'a "q"\n'},
                "attrs": {},
                "parents": [{"type": "Group", "id": "all"}],
            },
        ]
    )
    # Rust: to_dot_id(v) = "\"" + v.to_string().escape_debug() + "\""; the label is the
    # entity id's escape_debug, escaped again; edges only to direct parents
    assert entities.to_dot() == (
        "strict digraph {\n"
        '\tordering="out"\n'
        "\tnode[shape=box]\n"
        '\tsubgraph "cluster_User" {\n'
        '\t\tlabel="User"\n'
        '\t\t"User::\\"alice\\"" [label="alice"]\n'
        "\t}\n"
        '\tsubgraph "cluster_Group" {\n'
        '\t\tlabel="Group"\n'
        '\t\t"Group::\\"staff\\"" [label="staff"]\n'
        '\t\t"Group::\\"all\\"" [label="all"]\n'
        "\t}\n"
        '\tsubgraph "cluster_NS::File" {\n'
        '\t\tlabel="NS::File"\n'
        '\t\t"NS::File::\\"a \\\\\\"q\\\\\\"\\\\n\\"" [label="a \\\\\\"q\\\\\\"\\\\n"]\n'
        "\t}\n"
        '\t"User::\\"alice\\"" -> "Group::\\"staff\\""\n'
        '\t"Group::\\"staff\\"" -> "Group::\\"all\\""\n'
        '\t"NS::File::\\"a \\\\\\"q\\\\\\"\\\\n\\"" -> "Group::\\"all\\""\n'
        "}\n"
    )
    assert Entities().to_dot() == 'strict digraph {\n\tordering="out"\n\tnode[shape=box]\n}\n'
