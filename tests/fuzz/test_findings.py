"""Regression tests for what fuzzing found (each fixed in src).

Timing limits here are generous hang detectors, not performance assertions.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest

import cedarlang
from cedarlang import (
    Authorizer,
    CedarError,
    Entities,
    ParseError,
    Policy,
    PolicySet,
    Request,
    Schema,
    SchemaError,
    Template,
    Validator,
)
from cedarlang.validator.diagnostics import _levenshtein, fuzzy_search

from .harness import cpu_time_limit

# ---------------------------------------------------------------- common type alias chains

N_ALIASES = 20_000


def _chain_cedar(n: int, *, reverse: bool = False) -> str:
    decls = ["type T0 = String;"] + [f"type T{i} = T{i - 1};" for i in range(1, n)]
    if reverse:
        decls.reverse()
    return "\n".join(decls) + f"\nentity E {{ a: T{n - 1} }};\n"


def _chain_json(n: int, *, reverse: bool = False) -> dict[str, Any]:
    commons = {"T0": {"type": "String"}} | {f"T{i}": {"type": f"T{i - 1}"} for i in range(1, n)}
    if reverse:
        commons = dict(reversed(commons.items()))
    shape = {"type": "Record", "attributes": {"a": {"type": f"T{n - 1}"}}}
    return {"": {"commonTypes": commons, "entityTypes": {"E": {"shape": shape}}, "actions": {}}}


@pytest.mark.parametrize("reverse", [False, True], ids=["declared-in-order", "declared-reversed"])
@pytest.mark.parametrize("syntax", ["cedar", "json"])
def test_long_alias_chain_resolves(syntax: str, reverse: bool) -> None:
    """A chain of 20,000 aliases resolves (it took 35 s before resolution was made linear)."""
    with cpu_time_limit(30):
        if syntax == "cedar":
            schema = Schema.from_str(_chain_cedar(N_ALIASES, reverse=reverse))
        else:
            schema = Schema.from_json(json.dumps(_chain_json(N_ALIASES, reverse=reverse)))
    assert schema.entity_types["E"].shape.attributes["a"].type == cedarlang.schema.STRING


def test_alias_cycle_is_reported_at_its_first_declaration() -> None:
    text = _chain_cedar(N_ALIASES).replace("type T0 = String;", f"type T0 = T{N_ALIASES - 1};")
    with (
        cpu_time_limit(30),
        pytest.raises(SchemaError, match="cycle in common type references containing `T0`"),
    ):
        Schema.from_str(text)


@pytest.mark.parametrize(
    ("text", "culprit"),
    [
        ("type A = {a: B}; type B = Set<A>; type C = A; type D = D;", "A"),
        ("type C = A; type D = D; type A = {a: B}; type B = Set<A>;", "D"),
        ("type C = D; type D = D;", "D"),
        ("namespace N { type X = Y; type Y = X; } type Z = N::X;", "N::X"),
    ],
)
def test_alias_cycles(text: str, culprit: str) -> None:
    with pytest.raises(SchemaError, match=f"cycle in common type references containing `{culprit}`"):
        Schema.from_str(text)


def test_alias_dag_with_shared_targets() -> None:
    schema = Schema.from_str(
        "type L = Long; type P = {x: L, y: L}; type Q = Set<P>; type R = {p: P, q: Q};"
        "entity E { r: R, l: L };"
    )
    attrs = schema.entity_types["E"].shape.attributes
    assert attrs["l"].type == cedarlang.schema.LONG
    assert isinstance(attrs["r"].type, cedarlang.schema.RecordType)


# ---------------------------------------------------------------- str and bytes everywhere

POLICY = "permit(principal, action, resource) when { context.n > 1 };"
SCHEMA = "entity User; action view appliesTo { principal: User, resource: User, context: { n: Long } };"

TEXT_APIS: list[tuple[str, Callable[[Any], object], str, type[CedarError]]] = [
    ("PolicySet.from_str", PolicySet.from_str, POLICY, ParseError),
    ("Policy.from_str", Policy.from_str, POLICY, ParseError),
    (
        "Template.from_str",
        Template.from_str,
        "permit(principal == ?principal, action, resource);",
        ParseError,
    ),
    ("parse_expression", cedarlang.parse_expression, "1 + 2", ParseError),
    ("parse_entity_uid", cedarlang.parse_entity_uid, 'User::"alice"', ParseError),
    ("Schema.from_str", Schema.from_str, SCHEMA, SchemaError),
    ("Schema.from_str_or_json", Schema.from_str_or_json, SCHEMA, SchemaError),
    ("Schema.from_json", Schema.from_json, Schema.from_str(SCHEMA).to_json_str(), SchemaError),
    (
        "Entities.from_json",
        Entities.from_json,
        '[{"uid": {"type": "User", "id": "a"}, "attrs": {}, "parents": []}]',
        cedarlang.EntitiesError,
    ),
]


@pytest.mark.parametrize(("name", "api", "text", "error"), TEXT_APIS, ids=[t[0] for t in TEXT_APIS])
def test_text_apis_accept_utf8_bytes(name: str, api: Callable[[Any], object], text: str, error: type) -> None:
    assert api(text.encode()) == api(text) or name.endswith(("from_str", "from_json", "from_str_or_json"))
    assert type(api(text.encode())) is type(api(text))


@pytest.mark.parametrize(("name", "api", "text", "error"), TEXT_APIS, ids=[t[0] for t in TEXT_APIS])
@pytest.mark.parametrize("bad", [b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"ok\xe2\x82"])
def test_text_apis_reject_invalid_utf8_cleanly(
    name: str, api: Callable[[Any], object], text: str, error: type, bad: bytes
) -> None:
    with pytest.raises(error) as info:
        api(text.encode()[:5] + bad)
    assert "utf-8" in str(info.value).lower()


TEXT_ONLY_APIS = TEXT_APIS[:6]  # the others also take parsed JSON values


@pytest.mark.parametrize(("name", "api", "text", "error"), TEXT_ONLY_APIS, ids=[t[0] for t in TEXT_ONLY_APIS])
def test_text_apis_reject_non_text(name: str, api: Callable[[Any], object], text: str, error: type) -> None:
    with pytest.raises(error, match="must be text"):
        api(12)


def test_invalid_utf8_diagnostic_names_the_byte() -> None:
    with pytest.raises(ParseError) as info:
        PolicySet.from_str(b"permit(principal, action, resource) when { \xff };")
    assert str(info.value) == ("policy text is not valid UTF-8: invalid start byte (byte ff at offset 43)")
    assert info.value.diagnostics[0].help == "encode the text as UTF-8"


# ---------------------------------------------------------------- extension literals


def _evaluate(expr: str) -> list[str]:
    policies = PolicySet.from_str(f"permit(principal, action, resource) when {{ {expr} }};")
    request = Request('User::"a"', 'Action::"view"', 'User::"a"')
    response = Authorizer().is_authorized(request, policies, Entities.from_json([]))
    return [str(e) for e in response.errors]


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ('decimal("' + "1" * 5000 + '.0") == decimal("1.0")', "overflow when converting to decimal"),
        ('decimal("-' + "0" * 5000 + '1.0") == decimal("1.0")', None),
        ('duration("' + "1" * 5000 + 'd") == duration("1d")', "Duration overflows"),
        ('duration("' + "0" * 5000 + '1d") == duration("1d")', None),
    ],
)
def test_extension_literals_with_thousands_of_digits(expr: str, message: str | None) -> None:
    """Python's int() refuses strings of more than 4300 digits: this used to leak ValueError."""
    errors = _evaluate(expr)
    if message is None:
        assert errors == []
    else:
        assert len(errors) == 1 and message in errors[0]


def test_ip_with_lone_surrogate_from_json() -> None:
    """A lone surrogate (only a Python str can hold one) in an `ip` argument is just invalid."""
    data = [
        {
            "uid": {"type": "User", "id": "a"},
            "attrs": {"ip": {"__extn": {"fn": "ip", "arg": "1.2\udcff"}}},
            "parents": [],
        }
    ]
    with pytest.raises(CedarError):
        Entities.from_json(data)


# ---------------------------------------------------------------- "did you mean" on long names


def _levenshtein_table(a: str, b: str) -> int:
    """The textbook dynamic-programming distance, to check the bit-vector one against."""
    prev = list(range(len(a) + 1))
    for j, cb in enumerate(b, 1):
        cur = [j] + [0] * len(a)
        for i, ca in enumerate(a, 1):
            cur[i] = prev[i - 1] if ca == cb else 1 + min(cur[i - 1], prev[i], prev[i - 1])
        prev = cur
    return prev[len(a)]


def test_levenshtein_matches_the_table() -> None:
    rng = random.Random(7)
    for _ in range(20_000):
        a = "".join(rng.choice("abc") for _ in range(rng.randint(0, 10)))
        b = "".join(rng.choice("abcd") for _ in range(rng.randint(0, 10)))
        assert _levenshtein(a, b) == _levenshtein_table(a, b), (a, b)
    for _ in range(50):
        a = "".join(rng.choice("ab") for _ in range(rng.randint(60, 130)))
        b = "".join(rng.choice("abc€") for _ in range(rng.randint(60, 140)))
        assert _levenshtein(a, b) == _levenshtein_table(a, b), (a, b)


def test_fuzzy_search_picks_the_first_closest() -> None:
    assert fuzzy_search("Usr", ["Group", "User", "Users", "Usr2"]) == "User"
    assert fuzzy_search("abc", ["xyz", "abd", "abe"]) == "abd"
    assert fuzzy_search("", ["a"]) is None


def test_unknown_type_with_a_very_long_name_validates_quickly() -> None:
    """Two 10,000-character type names used to make "did you mean" take about a minute."""
    declared, used = "U" + "x" * 10_000, "U" + "y" * 10_000
    schema = Schema.from_str(
        f"entity {declared}; action view appliesTo {{ principal: {declared}, resource: {declared} }};"
    )
    policies = PolicySet.from_str(f"permit(principal is {used}, action, resource);")
    with cpu_time_limit(30):
        result = Validator(schema).validate(policies)
    assert not result.passed
