"""Partial evaluation vs cedarpy: generated cases with unknowns, compared exactly.

The cases are the differential suite's (:mod:`tests.differential.strategies` and
:mod:`tests.differential.schemacases`) with an *unknowns layer* on top
(:func:`add_unknowns`): some of each request's principal, action, resource and context
become unknown (``None`` or absent), some entity attribute, tag and context values (or set
elements, record fields) become ``{"__extn": {"fn": "unknown", "arg": "u1"}}``, and some entities
are dropped (in cedarpy's partial entity store a missing entity is unknown).

:func:`compare` runs ``cedarpy.is_authorized_partial`` and
``cedarlang.compat.cedarpy.is_authorized_partial`` on one request and lists every
difference: the decision, the residual policy ids, each residual's JSON (exactly),
the diagnostics lists as sets (Rust's are hash-ordered), error messages included.

:func:`soundness` checks cedarlang alone: every unknown of a response bound at random,
``reauthorize`` must decide as ``Authorizer().is_authorized`` on the bound request and
bound entities.
"""

from __future__ import annotations

import copy
import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import cedarpy
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from cedarlang import Authorizer, CedarError, Entities, Request
from cedarlang.compat import cedarpy as ours
from cedarlang.partial import PartialRequest, partially_authorize
from cedarlang.policy import PolicySet as CorePolicySet

from ..differential.schemacases import SCHEMA, schema_cases
from ..differential.strategies import MIXED, Case, cases, uid_text

UNKNOWN_NAMES = ("u1", "u2", "u3")
ROLES = ("principal", "action", "resource")
DIAGNOSTIC_LISTS = (
    "reason",
    "may_be_determining",
    "must_be_determining",
    "nontrivial_residuals",
    "unknown_entities",
)


# --------------------------------------------------------------------------------------
# The unknowns layer


def _uid_string(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("type"), str) and isinstance(value.get("id"), str):
        return uid_text(value["type"], value["id"])
    return None


def _unknown_json(rng: random.Random) -> dict[str, Any]:
    return {"__extn": {"fn": "unknown", "arg": rng.choice(UNKNOWN_NAMES)}}


def _sites(value: Any, holder: Any, key: Any) -> Iterator[tuple[Any, Any]]:
    """Places an unknown may go: the value itself, a set's elements, a record's fields."""
    yield holder, key
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from _sites(item, value, i)
    elif isinstance(value, dict) and not any(k.startswith("__") for k in value):
        for k, item in value.items():
            yield from _sites(item, value, k)


def add_unknowns(
    entities: list[Any], request: dict[str, Any], rng: random.Random
) -> tuple[list[Any], dict[str, Any]]:
    """A copy of the entities and request with unknowns (see the module docstring)."""
    entities = copy.deepcopy(entities)
    wire: dict[str, Any] = {}
    for role in ROLES:
        uid = _uid_string(request.get(role))
        if uid is not None and rng.random() >= 0.35:
            wire[role] = uid
        elif rng.random() < 0.5:
            wire[role] = None
    if "context" in request and rng.random() >= 0.3:
        context = copy.deepcopy(request["context"])
        if isinstance(context, dict) and context and rng.random() < 0.15:
            holder, key = rng.choice([site for k, v in context.items() for site in _sites(v, context, k)])
            holder[key] = _unknown_json(rng)
        wire["context"] = context
    elif rng.random() < 0.5:
        wire["context"] = None
    if rng.random() < 0.6:
        sites: list[tuple[Any, Any]] = []
        for ent in entities:
            for part in ("attrs", "tags"):
                values = ent.get(part) if isinstance(ent, dict) else None
                if isinstance(values, dict):
                    for k, v in values.items():
                        sites.extend(_sites(v, values, k))
        for holder, key in rng.sample(sites, min(len(sites), rng.randint(1, 3))):
            holder[key] = _unknown_json(rng)
    if entities and rng.random() < 0.2:
        del entities[rng.randrange(len(entities))]
    return entities, wire


# --------------------------------------------------------------------------------------
# Comparing with cedarpy


@dataclass
class PartialCase:
    case: Case
    entities: list[Any]
    request: dict[str, Any]

    def entities_json(self) -> str:
        return json.dumps(self.entities, ensure_ascii=False)

    def schema_text(self) -> str | None:
        return self.case.schema_json()

    def __repr__(self) -> str:
        return (
            f"PartialCase(policies={self.case.policy_text()!r}, links={json.dumps(self.case.link_dicts())}, "
            f"entities={self.entities_json()}, schema={self.schema_text()}, request={self.request!r})"
        )


def policies_for(case: Case) -> tuple[Any, Any] | None:
    """Both engines' policy sets, or ``None`` when cedarpy rejects the policies or links."""
    try:
        rust = cedarpy.PolicySet.from_str(case.policy_text())
        if case.links:
            rust = rust.with_linked_batch(case.link_dicts())
    except (ValueError, KeyError):
        return None
    mine = ours.PolicySet.from_str(case.policy_text())
    if case.links:
        mine = mine.with_linked_batch(case.link_dicts())
    return rust, mine


def compare(pc: PartialCase, stats: Counter[str]) -> list[str]:
    """Every difference between cedarpy's and cedarlang's answers (empty if none)."""
    found = policies_for(pc.case)
    if found is None:
        stats["policies rejected"] += 1
        return []
    rust_policies, our_policies = found
    a = cedarpy.is_authorized_partial(
        pc.request, rust_policies, pc.entities_json(), pc.schema_text()
    )._authz_resp
    b = ours.is_authorized_partial(pc.request, our_policies, pc.entities_json(), pc.schema_text())._authz_resp
    stats["cases"] += 1
    diffs = []
    if a["decision"] != b["decision"]:
        diffs.append(f"decision: rust {a['decision']}, ours {b['decision']}")
    da, db = a["diagnostics"], b["diagnostics"]
    if a["decision"] == "NoDecision":  # the input was rejected
        stats["inputs rejected"] += 1
        if b["decision"] != "NoDecision":
            diffs.append(f"rust rejected the input ({da.get('errors')}), ours did not")
        return diffs
    if b["decision"] == "NoDecision":
        return [*diffs, f"ours rejected the input ({db.get('errors')}), rust did not"]
    stats[f"decision {a['decision']}"] += 1
    if da.get("nontrivial_residuals"):
        stats["with nontrivial residuals"] += 1
    if da.get("errors"):
        stats["with errors"] += 1
    if da.get("unknown_entities"):
        stats["with unknown entities"] += 1
    for key in DIAGNOSTIC_LISTS:
        if sorted(da.get(key, [])) != sorted(db.get(key, [])):
            diffs.append(f"{key}: rust {sorted(da.get(key, []))}, ours {sorted(db.get(key, []))}")
    if da.get("id_annotations_by_reason") != db.get("id_annotations_by_reason"):
        diffs.append(
            f"id_annotations_by_reason: rust {da.get('id_annotations_by_reason')}, ours {db.get('id_annotations_by_reason')}"
        )
    if sorted(da.get("errors", [])) != sorted(db.get("errors", [])):
        diffs.append(f"errors: rust {sorted(da.get('errors', []))}, ours {sorted(db.get('errors', []))}")
    ra, rb = a["residuals"], b["residuals"]
    if set(ra) != set(rb):
        diffs.append(f"residual ids: rust {sorted(ra)}, ours {sorted(rb)}")
    for pid in sorted(set(ra) & set(rb)):
        if ra[pid] != rb[pid]:
            diffs.append(f"residual {pid}:\n  rust {json.dumps(ra[pid])}\n  ours {json.dumps(rb[pid])}")
    return diffs


# --------------------------------------------------------------------------------------
# Soundness: reauthorize with every unknown bound == full authorization


BINDING_VALUES: tuple[Any, ...] = (
    0,
    1,
    7,
    -1,
    "a",
    "",
    True,
    False,
    [],
    [1, 2],
    {"n": 1},
    {"__entity": {"type": "User", "id": "alice"}},
)


def _replace_unknowns(data: Any, values: dict[str, Any]) -> Any:
    if isinstance(data, list):
        return [_replace_unknowns(v, values) for v in data]
    if isinstance(data, dict):
        call = data.get("__extn")
        if isinstance(call, dict) and call.get("fn") == "unknown":
            return values[call["arg"]]
        return {k: _replace_unknowns(v, values) for k, v in data.items()}
    return data


def soundness(pc: PartialCase, rng: random.Random, stats: Counter[str]) -> list[str]:
    """cedarlang only: bind every unknown at random; ``reauthorize`` must decide as the full
    authorizer does on the bound request and entities."""
    try:
        pset = CorePolicySet.from_str(pc.case.policy_text())
        for link in pc.case.link_dicts():
            pset.link(link["template_id"], link["new_id"], link["values"])
        store = Entities.from_json(pc.entities_json())
        request = PartialRequest(*(pc.request.get(k) for k in (*ROLES, "context")))
    except (CedarError, TypeError):
        return []
    response = partially_authorize(request, pset, store, partial_entities=False)
    stats["cases"] += 1
    stats["decided before binding" if response.decision is not None else "with nontrivial residuals"] += 1
    uids = [u for r in pc.case.requests for u in map(_uid_string, (r.get(role) for role in ROLES)) if u]
    bindings: dict[str, Any] = {}
    for role in ROLES:
        if getattr(request, role) is None:
            bindings[role] = rng.choice(uids) if uids else 'User::"alice"'
    if request.context is None:
        contexts = [r["context"] for r in pc.case.requests if isinstance(r.get("context"), dict)]
        bindings["context"] = rng.choice(contexts) if contexts else {}
    attr_values = {name: rng.choice(BINDING_VALUES) for name in UNKNOWN_NAMES}
    try:
        uid_parts: list[Any] = [bindings.get(role, pc.request.get(role)) for role in ROLES]
        principal, action, resource = uid_parts
        context = _replace_unknowns(bindings.get("context", pc.request.get("context")), attr_values)
        full_request = Request(principal, action, resource, context)
        full_store = Entities.from_json(json.dumps(_replace_unknowns(pc.entities, attr_values)))
        again = response.reauthorize({**bindings, **attr_values}, full_store)
    except CedarError:
        stats["bindings rejected"] += 1
        return []
    expected = Authorizer().is_authorized(full_request, pset, full_store)
    stats["checked"] += 1
    if again.decision != expected.decision:
        return [
            f"reauthorize: {again.decision}, full authorization: {expected.decision} (bindings {bindings}, {attr_values})"
        ]
    if again.nontrivial_residuals:
        return [f"residuals left after binding every unknown: {again.nontrivial_residuals}"]
    return []


# --------------------------------------------------------------------------------------
# Driving hypothesis


@dataclass
class RunResult:
    stats: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[PartialCase, list[str]]] = field(default_factory=list)


def run(examples: int, seed_value: int, check: str = "compare", result: RunResult | None = None) -> RunResult:
    """``examples`` generated cases (deterministic for a seed), each request checked with
    :func:`compare` (``check="compare"``) or :func:`soundness`."""
    result = result if result is not None else RunResult()
    if examples <= 0:
        return result

    @seed(seed_value)
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(st.one_of(schema_cases(SCHEMA), cases(MIXED)), st.integers(0, 2**32))
    def body(case: Case, layer_seed: int) -> None:
        rng = random.Random(layer_seed)
        request = rng.choice(case.requests)
        entities, wire = add_unknowns(case.entities, request, rng)
        pc = PartialCase(case, entities, wire)
        diffs = compare(pc, result.stats) if check == "compare" else soundness(pc, rng, result.stats)
        if diffs:
            result.stats["mismatches"] += 1
            if len(result.failures) < 20:
                result.failures.append((pc, diffs))

    body()
    return result


def describe(result: RunResult) -> str:
    out = []
    for pc, diffs in result.failures:
        out.append(repr(pc) + "\n  " + "\n  ".join(diffs))
    return "\n\n".join(out)
