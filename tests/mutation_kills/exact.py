"""Compare cedarlang with cedarpy (the Rust engine) exactly, error messages included.

The differential harness in ``tests/differential`` compares decisions, reasons and
which policies erred; the mutation-killing tests also need the error *messages*
(and kinds) to be right, so this helper compares the full ``str`` of each error
against Rust's diagnostics, for every way cedarlang can decide a request: the
compiled authorizer over a :class:`PolicySet` (through the scope index), over a
plain list of policies (no index), and the reference interpreter.
"""

from __future__ import annotations

import json
from typing import Any

import cedarpy

import cedarlang

Answer = tuple[str, frozenset[str], tuple[str, ...]]

DEFAULT_ENTITIES: list[dict[str, Any]] = [
    {
        "uid": {"type": "User", "id": "alice"},
        "attrs": {"n": 7, "s": "text", "rec": {"a": 1}, "set": [1, 2]},
        "parents": [{"type": "Group", "id": "staff"}],
        "tags": {"t": 1, "u": "two"},
    },
    {"uid": {"type": "Group", "id": "staff"}, "attrs": {}, "parents": [{"type": "Group", "id": "all"}]},
    {"uid": {"type": "Group", "id": "all"}, "attrs": {}, "parents": []},
    {"uid": {"type": "Group", "id": "other"}, "attrs": {}, "parents": []},
    {
        "uid": {"type": "Photo", "id": "p1"},
        "attrs": {"owner": {"__entity": {"type": "User", "id": "alice"}}},
        "parents": [{"type": "Album", "id": "trip"}],
    },
    {"uid": {"type": "Album", "id": "trip"}, "attrs": {}, "parents": []},
    {"uid": {"type": "Action", "id": "view"}, "attrs": {}, "parents": [{"type": "Action", "id": "read"}]},
    {"uid": {"type": "Action", "id": "read"}, "attrs": {}, "parents": []},
]

DEFAULT_REQUEST: dict[str, Any] = {
    "principal": 'User::"alice"',
    "action": 'Action::"view"',
    "resource": 'Photo::"p1"',
    "context": {"flag": True, "num": 3},
}


def rust_answer(policies: str, entities: list[dict[str, Any]], request: dict[str, Any]) -> Answer:
    answer = cedarpy.is_authorized(request, policies, json.dumps(entities))
    assert answer.decision != cedarpy.Decision.NoDecision, answer.diagnostics.errors
    decision = "allow" if answer.decision == cedarpy.Decision.Allow else "deny"
    return decision, frozenset(answer.diagnostics.reasons), tuple(sorted(answer.diagnostics.errors))


def our_answers(policies: str, entities: list[dict[str, Any]], request: dict[str, Any]) -> dict[str, Answer]:
    policy_set = cedarlang.PolicySet.from_str(policies)
    store = cedarlang.Entities.from_json(json.dumps(entities))
    req = cedarlang.Request(request["principal"], request["action"], request["resource"], request["context"])
    answers: dict[str, Answer] = {}
    for name, authorizer, given in (
        ("compiled+index", cedarlang.Authorizer(), policy_set),
        ("compiled list", cedarlang.Authorizer(), list(policy_set)),
        ("interpreter", cedarlang.Authorizer(interpret=True), policy_set),
    ):
        response = authorizer.is_authorized(req, given, store)
        answers[name] = (
            response.decision.value,
            frozenset(response.reasons),
            tuple(sorted(str(e) for e in response.errors)),
        )
    return answers


def _policy_ids(answer: Answer) -> Answer:
    """The answer with each error message cut down to its erring policy's id."""
    return answer[0], answer[1], tuple(m.split(":", 1)[0] for m in answer[2])


def assert_same_as_rust(
    policies: str,
    entities: list[dict[str, Any]] | None = None,
    request: dict[str, Any] | None = None,
    *,
    messages: bool = True,
) -> Answer:
    """Every cedarlang path gives Rust's answer (with ``messages``: to the letter); returns it."""
    entities = DEFAULT_ENTITIES if entities is None else entities
    request = DEFAULT_REQUEST if request is None else request
    want = rust_answer(policies, entities, request)
    if not messages:
        want = _policy_ids(want)
    for name, got in our_answers(policies, entities, request).items():
        if not messages:
            got = _policy_ids(got)
        assert got == want, f"{name}:\n  rust:   {want}\n  python: {got}\n  policies: {policies}"
    return want


def when(expr: str) -> str:
    """A one-policy set: ``permit(principal, action, resource) when { expr };``."""
    return f"permit(principal, action, resource) when {{ {expr} }};"
