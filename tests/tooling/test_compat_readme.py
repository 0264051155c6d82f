"""cedarpy 4.12.2's own README examples (and its PST examples) through both ``cedarpy`` and
``cedarlang.compat.cedarpy``: each example runs on each module and the results must be
equal. The code of each example is the README's, with its placeholders filled in.

Also: every name cedarpy exports exists in the compat module (and in its ``pst``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

import cedarlang.compat.cedarpy as compat
import cedarlang.compat.cedarpy.pst as compat_pst

cedarpy = pytest.importorskip("cedarpy")
cedarpy_pst = pytest.importorskip("cedarpy.pst")

Example = Callable[[ModuleType], Any]
EXAMPLES: dict[str, Example] = {}


def example(f: Example) -> Example:
    EXAMPLES[f.__name__] = f
    return f


def plain(value: Any) -> Any:
    """A module-independent view of a result: PST nodes as (class name, fields), enums by
    value, handles by their rendering."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__name__,
            *((f.name, plain(getattr(value, f.name))) for f in dataclasses.fields(value)),
        )
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted(repr(plain(v)) for v in value)
    if hasattr(value, "value") and type(value).__name__ == "Decision":
        return value.value
    return value


POLICIES = """
permit(principal == User::"alice", action == Action::"view", resource);
@id("bob-edit") permit(principal == User::"bob", action == Action::"edit", resource) when { resource.public };
"""
ENTITIES: list[dict[str, Any]] = [
    {"uid": {"__entity": {"type": "User", "id": "alice"}}, "attrs": {}, "parents": []},
    {"uid": {"type": "Photo", "id": "1234-abcd"}, "attrs": {"public": True}, "parents": []},
]
SCHEMA = """
entity User;
entity Photo { public: Bool };
action view, edit appliesTo { principal: User, resource: Photo };
"""


@example
def authorizing_access(m: ModuleType) -> Any:
    request = {
        "principal": 'User::"bob"',
        "action": 'Action::"view"',
        "resource": 'Photo::"1234-abcd"',
        "context": {},
    }
    authz_result = m.is_authorized(request, POLICIES, ENTITIES)
    alice = m.is_authorized({**request, "principal": 'User::"alice"'}, POLICIES, ENTITIES)
    assert alice.allowed and alice["allowed"] and m.Decision.Allow == alice.decision
    return [authz_result.decision, authz_result.diagnostics.reasons, alice.diagnostics.reasons]


@example
def batch_with_correlation_id(m: ModuleType) -> Any:
    batch_id = "b1"
    requests = []
    for action_name in ("view", "edit", "delete"):
        requests.append(
            {
                "principal": 'User::"bob"',
                "action": f'Action::"{action_name}"',
                "resource": 'Photo::"1234-abcd"',
                "context": {},
                "correlation_id": f"authz_req::{batch_id}-{action_name}",
            }
        )
    authz_results = m.is_authorized_batch(requests=requests, policies=POLICIES, entities=ENTITIES)
    for request, result in zip(requests, authz_results, strict=True):
        assert request.get("correlation_id") == result.correlation_id
    return [
        (r.correlation_id, r.decision, r.diagnostics.reasons, r.diagnostics.id_annotations_by_reason)
        for r in authz_results
    ]


@example
def reusing_parsed_policies(m: ModuleType) -> Any:
    policy_set = m.PolicySet.from_str(POLICIES)
    request = {"principal": 'User::"bob"', "action": 'Action::"edit"', "resource": 'Photo::"1234-abcd"'}
    authz_result = m.is_authorized(request, policy_set, ENTITIES)
    base = m.PolicySet.from_str(POLICIES)
    for_request = base.with_added_str('permit(principal, action == Action::"delete", resource);')
    added = m.is_authorized({**request, "action": 'Action::"delete"'}, for_request, ENTITIES)
    return [
        authz_result.decision,
        authz_result.diagnostics.reasons,
        authz_result.metrics.get("policies_pre_parsed"),
        len(policy_set),
        len(for_request),
        added.diagnostics.reasons,
        len(m.PolicySet.from_json_str(m.policies_to_json_str(POLICIES))),
    ]


@example
def reusing_parsed_entities(m: ModuleType) -> Any:
    base = m.Entities.from_json_str(json.dumps(ENTITIES[:1]))
    request = {"principal": 'User::"bob"', "action": 'Action::"edit"', "resource": 'Photo::"1234-abcd"'}
    for_request = base.with_added_json_str(json.dumps(ENTITIES[1:]))
    result = m.is_authorized(request, POLICIES, for_request)
    with pytest.raises(ValueError):
        base.with_added_json_str(json.dumps([{**ENTITIES[0], "attrs": {"x": 1}}]))
    return [len(base), len(for_request), result.decision, result.metrics.get("entities_pre_parsed")]


@example
def reusing_parsed_schema(m: ModuleType) -> Any:
    schema = m.Schema.from_str(SCHEMA)
    request = {"principal": 'User::"bob"', "action": 'Action::"edit"', "resource": 'Photo::"1234-abcd"'}
    authz_result = m.is_authorized(request, POLICIES, ENTITIES, schema=schema)
    return [authz_result.decision, authz_result.metrics.get("schema_pre_parsed")]


@example
def threads_and_asyncio(m: ModuleType) -> Any:
    async def policies_are_valid(policies: str, schema: Any) -> bool:
        result = await asyncio.to_thread(m.validate_policies, policies, schema, release_gil=True)
        return bool(result.validation_passed)

    schema = m.Schema.from_str(SCHEMA)
    return [
        asyncio.run(policies_are_valid(POLICIES, schema)),
        asyncio.run(
            policies_are_valid("permit(principal, action, resource) when { resource.nope };", schema)
        ),
    ]


BASE_TEMPLATES = """
    @id("photo-access")
    permit (
      principal == ?principal,
      action == Action::"view",
      resource == ?resource
    )
    when { principal.subscriptionActive };

    @id("photo-edit")
    permit (
      principal == ?principal,
      action == Action::"edit",
      resource == ?resource
    )
    when
    { principal.subscriptionActive && (!principal.freePlan || principal.inTrial) };
"""


@example
def linking_policy_templates(m: ModuleType) -> Any:
    base = m.PolicySet.from_str(BASE_TEMPLATES)
    linked = base.with_linked(
        template_id="photo-access",
        new_id="alice-vacation",
        values={"?principal": 'User::"alice"', "?resource": 'Photo::"vacation.jpg"'},
    )
    entities = [
        {"uid": {"type": "User", "id": "alice"}, "attrs": {"subscriptionActive": True}, "parents": []}
    ]
    request = {"principal": 'User::"alice"', "action": 'Action::"view"', "resource": 'Photo::"vacation.jpg"'}
    result = m.is_authorized(request, linked, entities)
    assert result.decision == m.Decision.Allow
    return [result.diagnostics.reasons, result.diagnostics.id_annotations_by_reason, len(base), len(linked)]


@example
def linking_in_batch_templates_and_revoking(m: ModuleType) -> Any:
    base = m.PolicySet.from_str(BASE_TEMPLATES)
    linked = base.with_linked_batch(
        [
            {
                "template_id": "photo-access",
                "new_id": "alice-vacation",
                "values": {"?principal": 'User::"alice"', "?resource": 'Photo::"vacation.jpg"'},
            },
            {
                "template_id": "photo-access",
                "new_id": "bob-skyline",
                "values": {"?principal": 'User::"bob"', "?resource": 'Photo::"skyline.jpg"'},
            },
            {
                "template_id": "photo-edit",
                "new_id": "alice-edit-vacation",
                "values": {
                    "?principal": {"type": "User", "id": "alice"},
                    "?resource": {"type": "Photo", "id": "vacation.jpg"},
                },
            },
        ]
    )
    revoked = linked.without_linked("bob-skyline")

    def ordered(templates: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # (the README: "Order within `templates` and `links` is not guaranteed")
        return sorted(
            ({**t, "links": sorted(t["links"], key=lambda link: link["id"])} for t in templates),
            key=lambda t: t["id"],
        )

    with pytest.raises(ValueError):
        base.with_linked("nope", "x", {"?principal": 'User::"a"', "?resource": 'Photo::"b"'})
    with pytest.raises(KeyError):
        base.with_linked_batch([{"template_id": "photo-access", "new_id": "x"}])
    return [ordered(linked.templates()), ordered(revoked.templates()), len(linked), len(revoked)]


@example
def partially_authorizing(m: ModuleType) -> Any:
    policies = "permit(principal, action, resource) when { resource.public == true };"
    request = {
        "principal": 'User::"alice"',
        "action": 'Action::"view"',
        "resource": 'Photo::"photo1"',
        "context": {},
    }
    result = m.is_authorized_partial(request, policies, [])
    assert result.decision == m.Decision.NoDecision
    loaded = [
        {"uid": {"__entity": {"type": "Photo", "id": "photo1"}}, "attrs": {"public": True}, "parents": []}
    ]
    final_result = m.is_authorized(request, policies, loaded)
    return [
        result.decision,
        result.diagnostics.unknown_entities,
        result.diagnostics.nontrivial_residuals,
        final_result.decision,
    ]


@example
def validating_policies(m: ModuleType) -> Any:
    schema = m.Schema.from_str(SCHEMA)
    result = m.validate_policies(POLICIES, schema)
    bad = m.validate_policies('permit(principal, action == Action::"fly", resource);', schema)
    return [result.validation_passed, bool(result), bad.validation_passed, [e.policy_id for e in bad.errors]]


@example
def formatting_policies(m: ModuleType) -> Any:
    policies = """
    permit(
        principal,
        action == Action::"edit",
        resource
    )
    when {
        resource.owner == principal
    };
"""
    return m.format_policies(policies)


# -- the PST examples (README "Inspecting policies as a typed tree", the pst module docs) ---


@example
def inspecting_policies_as_a_typed_tree(m: ModuleType) -> Any:
    pst = m.pst
    policies = """
    permit(principal, action == Action::"view", resource)
    when { resource.owner == principal };
"""
    result = m.policies_to_pst(policies)
    clause = result.static_policies["policy0"].clauses[0]
    match clause.expr:
        case pst.BinaryOp(op="eq", left=pst.GetAttr(attr="owner"), right=pst.Var(name="principal")):
            matched = True
        case _:
            matched = False
    assert m.PolicySet.from_str(policies).to_pst() == result
    return [matched, result]


PST_POLICIES = """
@id("owner") permit(principal is User in Group::"admins", action in [Action::"view", Action::"edit"], resource)
when { resource.owner == principal && principal has profile.email && context.ip.isInRange(ip("10.0.0.0/8")) }
unless { resource.tags.containsAny(["secret", "private"]) || resource.name like "tmp*" };
permit(principal == ?principal, action, resource in ?resource) when { decimal("1.5").lessThan(context.score) };
forbid(principal, action, resource is Photo) when { if context.n > -3 then {a: 1, b: [true]} has a else false };
"""


@example
def pst_entity_uids(m: ModuleType) -> Any:
    tree = m.policies_to_pst(PST_POLICIES)
    with pytest.raises(TypeError):
        m.pst.entity_uids(m.PolicySet.from_str(PST_POLICIES))
    return [
        sorted(str(uid) for uid in m.pst.entity_uids(tree)),
        sorted(str(uid) for uid in m.pst.entity_uids(tree.static_policies)),
        sorted(str(uid) for uid in m.pst.entity_uids(tree.templates["policy1"].principal)),
    ]


@example
def pst_rewrite_and_rebuild(m: ModuleType) -> Any:
    pst = m.pst
    tree = m.policies_to_pst(PST_POLICIES)
    owner = tree.static_policies["policy0"]
    # rewrite: only viewing, and the effect flipped; then hand the nodes back
    rewritten = dataclasses.replace(
        owner,
        effect="forbid",
        action=pst.ActionEq(pst.EntityUid(pst.EntityType("Action"), "view")),
    )
    link = pst.TemplateLink("policy1", "l1", {"principal": pst.EntityUid(pst.EntityType("User"), "alice")})
    with pytest.raises(ValueError):  # the link misses ?resource
        m.PolicySet.from_pst(dataclasses.replace(tree, template_links=(link,)))
    link = dataclasses.replace(
        link, values={**link.values, "resource": pst.EntityUid(pst.EntityType("Photo", ("App",)), "p")}
    )
    new_tree = dataclasses.replace(
        tree, static_policies={**tree.static_policies, "policy0": rewritten}, template_links=(link,)
    )
    rebuilt = m.PolicySet.from_pst(new_tree)
    request = {
        "principal": 'User::"alice"',
        "action": 'Action::"view"',
        "resource": 'App::Photo::"p"',
        "context": {
            "score": {"__extn": {"fn": "decimal", "arg": "2.0"}},
            "n": 0,
            "ip": {"__extn": {"fn": "ip", "arg": "10.1.1.1"}},
        },
    }
    return [
        rebuilt.to_pst() == new_tree,
        len(rebuilt),
        m.is_authorized(request, rebuilt, []).diagnostics.reasons,
        plain(rebuilt.to_pst().static_policies["policy0"]),
    ]


@example
def pst_nesting_limit(m: ModuleType) -> Any:
    pst = m.pst
    outcomes = []
    for depth in (99, 100):
        text = "permit(principal, action, resource) when { " + "[" * depth + "]" * depth + " == 1 };"
        try:
            m.policies_to_pst(text)
            outcomes.append("ok")
        except ValueError:
            outcomes.append("too deep")
    node: Any = pst.BoolLit(True)
    for _ in range(100):
        node = pst.UnaryOp("not", node)
    template = pst.Template(
        "p", "permit", pst.ScopeAny(), pst.ScopeAny(), pst.ScopeAny(), (pst.When(node),), {}
    )
    try:
        m.PolicySet.from_pst(pst.PolicySet({}, {"p": template}, ()))
        outcomes.append("ok")
    except ValueError:
        outcomes.append("too deep")
    return outcomes


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_gives_equal_results(name: str) -> None:
    ours = plain(EXAMPLES[name](compat))
    theirs = plain(EXAMPLES[name](cedarpy))
    assert ours == theirs


def _public(namespace: object) -> set[str]:
    return {name for name in dir(namespace) if not name.startswith("__")}


def test_every_cedarpy_name_exists_in_compat() -> None:
    # `_internal` is cedarpy's Rust extension module (its private engine), not API
    assert _public(cedarpy) - {"_internal"} <= _public(compat)
    assert _public(cedarpy_pst) <= _public(compat_pst)
    assert compat.pst is compat_pst
    for name in dir(cedarpy):
        value = getattr(cedarpy, name)
        if isinstance(value, type) and value.__module__.startswith("cedarpy"):
            missing = _public(value) - _public(getattr(compat, name))
            assert not missing, f"{name} lacks {missing}"
    assert set(cedarpy_pst.__all__) == set(compat_pst.__all__)


def test_compat_pst_nodes_are_cedarlang_pst_nodes() -> None:
    from cedarlang import pst

    assert compat_pst.BinaryOp is pst.BinaryOp and compat_pst.entity_uids is pst.entity_uids
