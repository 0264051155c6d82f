"""The TPE soundness property, over the schema-shaped generator of the differential tests.

For each generated case (schema, conforming entities and requests, policies aimed at the
requests; :mod:`tests.differential.schemacases` with every case given its schema and no
deliberately broken data), the policies that validate in the request's environment are
kept, then several *partial views* of the request and entities are made by hiding random
parts: the principal id, the resource id, the context, whole entities, and per entity its
attributes, ancestors or tags. For each view:

* if :func:`cedarlang.tpe.tpe` reaches a decision, it is the decision of
  ``Authorizer().is_authorized`` on the concrete inputs (which are a concretisation of the
  view);
* ``reauthorize`` on the concrete inputs gives the concrete decision and determining
  policies, and the same erroring policies;
* the residual policies, printed as Rust prints them and parsed back, decide alike (for
  the first view of each request).

And ``is_authorized_batched`` over an in-memory loader decides each request like
``is_authorized``, asking only for entities that something it already knows mentions.

Used by ``test_soundness.py`` (CI) and ``python -m tests.tpe.run_long``.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings

import cedarlang
from cedarlang import Authorizer, Entities, PolicySet, Request, Schema, ast
from cedarlang.errors import TpePolicyValidationError
from cedarlang.lexical import is_action_type
from cedarlang.policy import Policy
from cedarlang.tpe import (
    InMemoryEntityLoader,
    PartialEntities,
    PartialEntity,
    PartialEntityUid,
    PartialRequest,
    TpeResponse,
    is_authorized_batched,
    tpe,
)
from cedarlang.values import CedarSet, EntityUid, Record
from tests.differential.schemacases import SchemaProfile, schema_cases
from tests.differential.strategies import Case

PROFILE = SchemaProfile(
    name="tpe",
    schema_share=1.0,  # TPE needs the schema
    nonconforming=0.0,  # and data that conforms to it
    illtyped=0.0,  # mostly well-typed policies: ill-typed ones are dropped anyway
    raw=0.0,
    malformed=0.0,
    missing_attr=0.1,
)
VIEWS_PER_REQUEST = 3


@dataclass
class Stats:
    cases: int = 0
    views: int = 0
    decided: Counter[str] = field(default_factory=Counter)
    policies_kept: int = 0
    policies_dropped: int = 0
    failures: list[str] = field(default_factory=list)
    batched: int = 0

    def merge(self, other: Stats) -> None:
        self.cases += other.cases
        self.views += other.views
        self.decided.update(other.decided)
        self.policies_kept += other.policies_kept
        self.policies_dropped += other.policies_dropped
        self.failures += other.failures
        self.batched += other.batched

    def line(self) -> str:
        d = self.decided
        return (
            f"{self.cases} cases, {self.views} partial views: decided allow {d['allow']}, deny {d['deny']}, "
            f"undecided {d['none']}; policies kept {self.policies_kept}, dropped (not valid) "
            f"{self.policies_dropped}; {self.batched} batched authorizations; {len(self.failures)} failures"
        )


def _valid_policies(policies: list[Policy], request: Request, schema: Schema) -> tuple[list[Policy], int]:
    full = PartialRequest(request.principal, request.action, request.resource, request.context, schema)
    kept: list[Policy] = []
    for p in policies:
        try:
            tpe([p], full, PartialEntities.from_entities([], schema), schema)
        except TpePolicyValidationError:
            continue
        kept.append(p)
    return kept, len(policies) - len(kept)


def partial_view(
    rng: random.Random, request: Request, entities: Entities, schema: Schema
) -> tuple[PartialRequest, PartialEntities]:
    """A random partial request and partial entities that the concrete ones concretise."""
    principal = PartialEntityUid(request.principal.type, None if rng.random() < 0.5 else request.principal.id)
    resource = PartialEntityUid(request.resource.type, None if rng.random() < 0.5 else request.resource.id)
    context = None if rng.random() < 0.4 else request.context
    preq = PartialRequest(principal, request.action, resource, context, schema)
    hide = rng.choice((0.0, 0.2, 0.5))
    chosen: dict[EntityUid, PartialEntity] = {}
    for e in entities:
        if is_action_type(e.uid.type) or rng.random() < hide / 2:
            continue  # actions come from the schema; some entities are unknown as a whole
        chosen[e.uid] = PartialEntity(
            e.uid,
            None if rng.random() < hide else e.attrs,
            None if rng.random() < hide else e.ancestors,
            None if rng.random() < hide else e.tags,
        )
    # an entity with known ancestors may not have an ancestor whose ancestors are unknown
    changed = True
    while changed:
        changed = False
        for uid, pe in list(chosen.items()):
            if pe.ancestors is None:
                continue
            if any(a in chosen and chosen[a].ancestors is None for a in pe.ancestors):
                chosen[uid] = PartialEntity(uid, pe.attrs, None, pe.tags)
                changed = True
    return preq, PartialEntities.from_entities(chosen.values(), schema)


def _errors(response: cedarlang.Response) -> frozenset[str]:
    return frozenset(e.policy_id for e in response.errors)


def check_case(case: Case, rng: random.Random, stats: Stats) -> None:
    try:
        schema = Schema.from_json(case.schema_json() or "{}")
        entities = Entities.from_json(case.entities_json(), schema=schema)
        policies = PolicySet.from_str(case.policy_text()).policies()
    except cedarlang.CedarError:
        return
    stats.cases += 1
    authorizer = Authorizer()
    for r in case.wire_requests():
        try:
            request = Request(r["principal"], r["action"], r["resource"], r.get("context"), schema)
        except cedarlang.CedarError:
            continue
        kept, dropped = _valid_policies(policies, request, schema)
        stats.policies_kept += len(kept)
        stats.policies_dropped += dropped
        expected = authorizer.is_authorized(request, kept, entities)
        _check_batched(request, kept, schema, entities, expected, case, stats)
        for view in range(VIEWS_PER_REQUEST):
            preq, pents = partial_view(rng, request, entities, schema)
            response = tpe(kept, preq, pents, schema)
            stats.views += 1
            stats.decided[response.decision.value if response.decision else "none"] += 1
            where = f"{case!r}\n  view: {preq!r}"
            if response.decision is not None and response.decision != expected.decision:
                stats.failures.append(
                    f"TPE decided {response.decision}, concrete {expected.decision}: {where}"
                )
            again = response.reauthorize(request, entities)
            if (again.decision, again.reasons, _errors(again)) != (
                expected.decision,
                expected.reasons,
                _errors(expected),
            ):
                stats.failures.append(f"reauthorize gave {again}, concrete {expected}: {where}")
            if view == 0:
                _check_printed(response, request, entities, expected, where, stats)


def _check_printed(
    response: TpeResponse,
    request: Request,
    entities: Entities,
    expected: cedarlang.Response,
    where: str,
    stats: Stats,
) -> None:
    """The residuals as printed parse back to policies that decide like the originals
    (residuals holding an ``error()`` node do not parse: that call is not Cedar)."""
    texts = {p.id: str(p) for p in response.policies()}
    if any("error()" in t for t in texts.values()):
        return
    reparsed = PolicySet()
    for policy_id, text in texts.items():
        reparsed.add(text, policy_id)
    again = Authorizer().is_authorized(request, reparsed, entities)
    if (again.decision, again.reasons) != (expected.decision, expected.reasons):
        stats.failures.append(
            f"printed residuals {list(texts.values())} decide {again}, concrete {expected}: {where}"
        )


def _uids_in(value: Any, out: set[EntityUid]) -> None:
    if isinstance(value, EntityUid):
        out.add(value)
    elif isinstance(value, (CedarSet, list, tuple)):
        for v in value:
            _uids_in(v, out)
    elif isinstance(value, Record):
        for v in value.values():
            _uids_in(v, out)


def policy_uids(policies: list[Policy]) -> set[EntityUid]:
    """Every entity uid a policy names (scope and conditions, slots filled)."""
    out: set[EntityUid] = set()
    for p in policies:
        for part in p.condition_parts:
            for node in ast.walk(part):
                if isinstance(node, ast.Lit):
                    _uids_in(node.value, out)
    return out


def _check_batched(
    request: Request,
    policies: list[Policy],
    schema: Schema,
    entities: Entities,
    expected: cedarlang.Response,
    case: Case,
    stats: Stats,
) -> None:
    """``is_authorized_batched`` decides like ``is_authorized``, and only ever asks for uids
    the policies, the request or the attributes and tags of entities it loaded mention."""
    loader = InMemoryEntityLoader(entities)
    decision = is_authorized_batched(request, policies, schema, loader, 50)
    stats.batched += 1
    if decision != expected.decision:
        stats.failures.append(f"batched decided {decision}, concrete {expected.decision}: {case!r}")
    allowed = policy_uids(policies) | {request.principal, request.action, request.resource}
    _uids_in(request.context, allowed)
    for call in loader.calls:
        if not call <= allowed:
            stats.failures.append(f"batched loaded unreferenced {sorted(call - allowed)}: {case!r}")
        for uid in call:
            e = entities.get(uid)
            if e is not None:
                _uids_in(e.attrs, allowed)
                _uids_in(e.tags, allowed)


def run(examples: int, seed_value: int) -> Stats:
    """Check ``examples`` generated cases, deterministically for a seed."""
    stats = Stats()
    rng = random.Random(seed_value)

    @seed(seed_value)
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(schema_cases(PROFILE))
    def body(case: Case) -> None:
        check_case(case, rng, stats)

    body()
    return stats


def summary(stats: Stats, limit: int = 5) -> str:
    out: list[Any] = [stats.line()]
    out += stats.failures[:limit]
    return "\n".join(str(x) for x in out)
