"""Least upper bounds and subtyping in strict and permissive mode: Rust's own unit tests.

``data/rust_type_lub.json`` holds every ``assert_least_upper_bound`` call of the tests in
cedar-policy/cedar ``cedar-policy-core/src/validator/types.rs`` (4.12.0; extracted
mechanically, with the Rust test function's name). Rust's helper is mirrored: the LUB (or the
``LubHelp`` of its absence) must be the expected one; both types must be subtypes of an
existing LUB; a strict LUB must also be the permissive one, and a permissive failure must
also fail in strict mode. The seven ``assert_entity_lub`` calls (an entity LUB's attributes,
read from a schema) are below.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from cedarlang import Schema
from cedarlang.validator.schema_info import RequestEnv, SchemaInfo
from cedarlang.validator.typecheck import EnvChecker, PolicyCheck
from cedarlang.validator.types import (
    ANY_ENTITY,
    ANY_SET,
    BOOL,
    FALSE,
    LONG,
    STRING,
    TRUE,
    AttrType,
    EntityType,
    ExtType,
    LubError,
    RecordType,
    SetType,
    Type,
    is_subtype,
    least_upper_bound,
)
from cedarlang.values import EntityUid

DATA = json.loads((Path(__file__).parent / "data" / "rust_type_lub.json").read_text())
CASES: list[dict[str, Any]] = DATA["cases"]
_NAMED: dict[str, Type] = {
    "Bool": BOOL,
    "True": TRUE,
    "False": FALSE,
    "Long": LONG,
    "String": STRING,
    "any_set": ANY_SET,
    "any_entity": ANY_ENTITY,
}


def decode(data: Any) -> Type:
    if isinstance(data, str):
        return _NAMED[data]
    if "set" in data:
        return SetType(decode(data["set"]))
    if "ext" in data:
        return ExtType(data["ext"])
    if "entity" in data:
        return EntityType(frozenset(data["entity"]))
    return RecordType({k: AttrType(decode(t), required) for k, t, required in data["record"]}, data["open"])


def _hint(name: str) -> str:
    """Rust's ``LubHelp::RecordWidth`` -> our ``LubHelp.RECORD_WIDTH``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


def _lub(lhs: Type, rhs: Type, strict: bool) -> tuple[str, object]:
    try:
        return ("ok", least_upper_bound(lhs, rhs, strict))
    except LubError as err:
        return ("err", err.hint.name)


def _expected(result: list[Any]) -> tuple[str, object]:
    kind, value = result
    return (kind, decode(value) if kind == "ok" else _hint(value))


def test_every_case_is_ported() -> None:
    assert len(CASES) == 79
    assert len({c["test"] for c in CASES}) == 10


@pytest.mark.parametrize("case", CASES, ids=[f"{c['test']}-{i}" for i, c in enumerate(CASES)])
def test_rust_least_upper_bound(case: dict[str, Any]) -> None:
    lhs, rhs = decode(case["lhs"]), decode(case["rhs"])
    expected = _expected(case["lub"])
    strict = case["mode"] == "strict"
    assert _lub(lhs, rhs, strict) == expected
    if expected[0] == "ok":
        lub = expected[1]
        assert isinstance(lub, Type)
        assert is_subtype(lhs, lub, strict) and is_subtype(rhs, lub, strict)
        if strict:  # the strict LUB is also the permissive one
            assert _lub(lhs, rhs, False) == expected
    elif not strict:  # no permissive LUB: no strict one either
        assert _lub(lhs, rhs, True) == expected


# -- entity LUBs and their attributes (types.rs `assert_entity_lub`, seven calls) ------------

SIMPLE_SCHEMA: dict[str, Any] = {"": {"entityTypes": {"foo": {}, "bar": {}}, "actions": {}}}
ATTR_SCHEMA = {
    "": {
        "entityTypes": {
            "foo": {},
            "bar": {},
            "baz": {
                "shape": {
                    "type": "Record",
                    "attributes": {
                        "a": {"type": "Long"},
                        "b": {"type": "String"},
                        "c": {"type": "Entity", "name": "foo"},
                    },
                }
            },
            "buz": {
                "shape": {
                    "type": "Record",
                    "attributes": {
                        "a": {"type": "Long"},
                        "b": {"type": "Long"},
                        "c": {"type": "Entity", "name": "bar"},
                    },
                }
            },
        },
        "actions": {},
    }
}
REC_SCHEMA = {
    "": {
        "entityTypes": {
            "biz": {"shape": {"type": "Record", "attributes": {"c": {"type": "Entity", "name": "biz"}}}},
            "fiz": {"shape": {"type": "Record", "attributes": {"c": {"type": "Entity", "name": "fiz"}}}},
        },
        "actions": {},
    }
}


def _entity(*names: str) -> EntityType:
    return EntityType(frozenset(names))


#: (Rust test, schema, mode, lhs, rhs, LUB names, LUB attributes (all required))
ENTITY_LUB_CASES: list[tuple[str, dict[str, Any], str, str, str, set[str], dict[str, Type]]] = [
    ("test_entity_lub", SIMPLE_SCHEMA, "permissive", "foo", "bar", {"foo", "bar"}, {}),
    ("test_entity_lub", SIMPLE_SCHEMA, "strict", "foo", "foo", {"foo"}, {}),
    (
        "test_entity_lub_with_attributes",
        ATTR_SCHEMA,
        "strict",
        "baz",
        "baz",
        {"baz"},
        {"a": LONG, "b": STRING, "c": _entity("foo")},
    ),
    ("test_entity_lub_with_attributes", ATTR_SCHEMA, "permissive", "baz", "foo", {"baz", "foo"}, {}),
    (
        "test_entity_lub_with_attributes",
        ATTR_SCHEMA,
        "permissive",
        "baz",
        "buz",
        {"baz", "buz"},
        {"a": LONG, "c": _entity("foo", "bar")},
    ),
    ("test_with_recursive_types", REC_SCHEMA, "strict", "biz", "biz", {"biz"}, {"c": _entity("biz")}),
    (
        "test_with_recursive_types",
        REC_SCHEMA,
        "permissive",
        "biz",
        "fiz",
        {"biz", "fiz"},
        {"c": _entity("biz", "fiz")},
    ),
]


@pytest.mark.parametrize(
    "case", ENTITY_LUB_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(ENTITY_LUB_CASES)]
)
def test_rust_entity_lub(case: tuple[str, dict[str, Any], str, str, str, set[str], dict[str, Type]]) -> None:
    _, schema, mode, lhs_name, rhs_name, names, attrs = case
    modes = [True, False] if mode == "strict" else [False]  # a strict LUB is also the permissive one
    lhs, rhs = _entity(lhs_name), _entity(rhs_name)
    info = SchemaInfo.build(Schema.from_json(schema))
    for strict in modes:
        lub = least_upper_bound(lhs, rhs, strict)
        assert lub == EntityType(frozenset(names))
        assert is_subtype(lhs, lub, strict) and is_subtype(rhs, lub, strict)
        checker = EnvChecker(
            PolicyCheck(info, "p", None, None, strict),
            RequestEnv("foo", EntityUid("Action", "a"), "foo", RecordType({})),
        )
        assert isinstance(lub, EntityType)
        assert checker.lub_attrs(lub) == {k: AttrType(t, True) for k, t in attrs.items()}
