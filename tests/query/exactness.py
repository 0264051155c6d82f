"""The query exactness property: each ``query_*`` answer equals brute force.

Brute force is the definition: ``Authorizer().is_authorized`` on every candidate
(the entities of the queried type in the store; for actions, the schema's actions
for the principal's and resource's types, or without a schema the action entities
and the actions the policies' scopes name), keeping those it allows. Cases come
from the differential generators (schema-shaped ones, about a third of which pass
the schema, and the free-form profiles with templates, ``is``/``in`` scopes,
forbids and run-time errors), so queries meet every shape the engine evaluates.

Used by ``test_exactness.py`` (a fixed-seed sample in CI) and ``run_long``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings

import cedarlang
from cedarlang import ast
from cedarlang.authorizer import Request
from cedarlang.lexical import is_action_type
from cedarlang.values import EntityUid
from tests.differential.schemacases import SCHEMA, schema_cases
from tests.differential.strategies import HIERARCHY, MIXED, Case, Profile, cases

PROFILES: dict[str, Profile] = {"schema": SCHEMA, "mixed": MIXED, "hierarchy": HIERARCHY}
SHARES: dict[str, float] = {"schema": 0.6, "mixed": 0.25, "hierarchy": 0.15}


@dataclass
class Outcome:
    stats: Counter[str] = field(default_factory=Counter)
    mismatches: list[str] = field(default_factory=list)


def _inputs(case: Case) -> tuple[cedarlang.PolicySet, cedarlang.Entities, cedarlang.Schema | None] | None:
    try:
        ps = cedarlang.PolicySet.from_str(case.policy_text())
        for link in case.link_dicts():
            ps.link(link["template_id"], link["new_id"], link["values"])
        schema_text = case.schema_json()
        schema = None if schema_text is None else cedarlang.Schema.from_json(schema_text)
        entities = cedarlang.Entities.from_json(case.entities_json(), schema=schema)
    except cedarlang.CedarError:
        return None
    return ps, entities, schema


def _brute(
    candidates: list[EntityUid],
    request: Callable[[EntityUid], Request],
    ps: cedarlang.PolicySet,
    entities: cedarlang.Entities,
    stats: Counter[str],
) -> list[EntityUid] | str:
    authorizer = cedarlang.Authorizer()
    allowed = []
    for uid in sorted(candidates):
        try:
            req = request(uid)
        except cedarlang.CedarError as err:
            return f"rejected: {type(err).__name__}"
        response = authorizer.is_authorized(req, ps, entities)
        stats["candidates"] += 1
        if response.errors:
            stats["candidates with errors"] += 1
        if response.allowed:
            allowed.append(uid)
        elif response.reasons:
            stats["candidates denied by a forbid"] += 1
    return allowed


def _ours(fn: Callable[[], list[EntityUid]]) -> list[EntityUid] | str:
    try:
        return fn()
    except cedarlang.CedarError as err:
        return f"rejected: {type(err).__name__}"


def _named_actions(ps: cedarlang.PolicySet, entities: cedarlang.Entities) -> set[EntityUid]:
    found = {e.uid for e in entities if is_action_type(e.uid.type)}
    for policy in ps.policies():
        target = policy.ast.action.entity
        if isinstance(target, ast.EntityList):
            found.update(target)
        elif isinstance(target, EntityUid):
            found.add(target)
    return found


def check_case(case: Case, outcome: Outcome) -> None:
    stats = outcome.stats
    stats["cases"] += 1
    inputs = _inputs(case)
    if inputs is None:
        stats["cases rejected"] += 1
        return
    ps, entities, schema = inputs
    stats["cases with a schema" if schema is not None else "cases without a schema"] += 1
    if any(p.is_template_linked for p in ps.policies()):
        stats["cases with template links"] += 1
    for r in case.requests:
        try:
            p = cedarlang.authorizer.to_uid(r["principal"])
            a = cedarlang.authorizer.to_uid(r["action"])
            res = cedarlang.authorizer.to_uid(r["resource"])
        except cedarlang.CedarError:
            continue
        context: Any = r.get("context") or {}
        if not isinstance(context, dict):
            continue
        _check_request(outcome, case, str(r), p, a, res, context, ps, entities, schema)


def _check_request(
    outcome: Outcome,
    case: Case,
    label: str,
    p: EntityUid,
    a: EntityUid,
    res: EntityUid,
    context: dict[str, Any],
    ps: cedarlang.PolicySet,
    entities: cedarlang.Entities,
    schema: cedarlang.Schema | None,
) -> None:
    stats = outcome.stats
    of_type = {t: [e.uid for e in entities if e.uid.type == t] for t in (p.type, res.type)}
    queries: list[
        tuple[str, Callable[[], list[EntityUid]], list[EntityUid], Callable[[EntityUid], Request]]
    ] = [
        (
            "resources",
            lambda: cedarlang.Authorizer().query_resources(
                p, a, res.type, ps, entities, context=context, schema=schema
            ),
            of_type[res.type],
            lambda uid: Request(p, a, uid, context, schema=schema),
        ),
        (
            "principals",
            lambda: cedarlang.Authorizer().query_principals(
                a, res, p.type, ps, entities, context=context, schema=schema
            ),
            of_type[p.type],
            lambda uid: Request(uid, a, res, context, schema=schema),
        ),
    ]
    for name, ours, candidates, request in queries:
        got = _ours(ours)
        want = _brute(candidates, request, ps, entities, stats)
        if not candidates and isinstance(got, str):
            continue  # no candidate to build a request from: a rejection cannot be compared
        _compare(outcome, case, f"query_{name} for {label}", got, want)
    # actions: brute force over the candidate actions; invalid requests are not candidates
    if schema is not None:
        action_candidates = {uid for uid, _ in schema.action_entities()}
    else:
        action_candidates = _named_actions(ps, entities)
    want_actions: list[EntityUid] = []
    for action in sorted(action_candidates):
        try:
            req = Request(p, action, res, context, schema=schema)
        except cedarlang.CedarError:
            continue
        if cedarlang.Authorizer().is_authorized(req, ps, entities).allowed:
            want_actions.append(action)
    got_actions = _ours(
        lambda: cedarlang.Authorizer().query_actions(p, res, ps, entities, context=context, schema=schema)
    )
    _compare(outcome, case, f"query_actions for {label}", got_actions, want_actions)


def _compare(outcome: Outcome, case: Case, what: str, got: object, want: object) -> None:
    stats = outcome.stats
    stats["queries"] += 1
    if isinstance(want, list) and want:
        stats["nonempty answers"] += 1
    if isinstance(want, str):
        stats["rejected queries"] += 1
    if got != want:
        stats["mismatches"] += 1
        if len(outcome.mismatches) < 5:
            outcome.mismatches.append(f"{what}\n  ours:  {got}\n  brute: {want}\n  case: {case!r}")


def run(profile: str, examples: int, seed_value: int, outcome: Outcome) -> Outcome:
    chosen = PROFILES[profile]

    @seed(seed_value)
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(schema_cases(SCHEMA) if chosen is SCHEMA else cases(chosen))
    def body(case: Case) -> None:
        check_case(case, outcome)

    body()
    return outcome


# The mix each profile's run must keep, so that the property cannot pass by testing nothing.
MIX: dict[str, dict[str, tuple[str, str, float]]] = {
    "schema": {
        "nonempty answers": ("nonempty answers", "queries", 0.15),
        "candidates denied by a forbid": ("candidates denied by a forbid", "candidates", 0.03),
        "candidates with errors": ("candidates with errors", "candidates", 0.03),
        "cases with a schema": ("cases with a schema", "cases", 0.1),
    },
    "mixed": {
        "nonempty answers": ("nonempty answers", "queries", 0.05),
        "candidates with errors": ("candidates with errors", "candidates", 0.03),
        "cases with template links": ("cases with template links", "cases", 0.05),
    },
    "hierarchy": {
        "nonempty answers": ("nonempty answers", "queries", 0.05),
    },
}


def mix_problems(profile: str, stats: Counter[str]) -> list[str]:
    out = []
    for name, (num, den, share) in MIX[profile].items():
        if stats[num] < share * stats[den]:
            out.append(f"{name}: {stats[num]} of {stats[den]}, want >= {share:.0%}")
    return out


def summary(stats: Counter[str]) -> str:
    keys = (
        "cases",
        "cases rejected",
        "cases with a schema",
        "cases without a schema",
        "cases with template links",
        "queries",
        "nonempty answers",
        "rejected queries",
        "candidates",
        "candidates denied by a forbid",
        "candidates with errors",
        "mismatches",
    )
    return ", ".join(f"{k}: {stats[k]}" for k in keys)
