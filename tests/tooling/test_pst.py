"""The policy syntax tree (``cedarlang.pst``): against cedarpy 4.12.2's ``policies_to_pst``
(Rust's ``cedar_policy::pst``) on every conformance policy file, round trips, building
policies from nodes, and the errors of malformed trees."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from cedarlang import Authorizer, Entities, PolicySet, PolicySetError, Request, pst
from cedarlang.errors import CedarError

from .conftest import chunks, needs_conformance, policy_files

cedarpy = pytest.importorskip("cedarpy")

FILES = policy_files()


def plain(value: Any) -> Any:
    """Nodes of either module as (class name, fields) tuples; maps compared as sorted items."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__name__,
            *((f.name, plain(getattr(value, f.name))) for f in dataclasses.fields(value)),
        )
    if isinstance(value, dict):
        return ("map", *sorted((k, plain(v)) for k, v in value.items()))
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value


@needs_conformance
@pytest.mark.parametrize("batch", chunks(FILES, 1000), ids=lambda b: b[0].name)
def test_same_tree_as_cedarpy(batch: list[Path]) -> None:
    compared = 0
    for path in batch:
        text = path.read_text(encoding="utf-8")
        try:
            theirs = plain(cedarpy.policies_to_pst(text))
        except ValueError:
            with pytest.raises(CedarError):
                PolicySet.from_str(text).to_pst()
            continue
        assert plain(PolicySet.from_str(text).to_pst()) == theirs, path
        compared += 1
    assert compared > len(batch) * 0.9


@needs_conformance
@pytest.mark.parametrize("batch", chunks(FILES, 2000), ids=lambda b: b[0].name)
def test_round_trip(batch: list[Path]) -> None:
    for path in batch:
        try:
            tree = pst.policies_to_pst(path.read_text(encoding="utf-8"))
        except CedarError:
            continue
        assert PolicySet.from_pst(tree).to_pst() == tree, path


def uid(type_name: str, eid: str) -> pst.EntityUid:
    *namespace, basename = type_name.split("::")
    return pst.EntityUid(pst.EntityType(basename, tuple(namespace)), eid)


def static(expr: pst.Expr, pid: str = "p", **scope: Any) -> pst.PolicySet:
    template = pst.Template(
        pid,
        scope.get("effect", "permit"),
        scope.get("principal", pst.ScopeAny()),
        scope.get("action", pst.ScopeAny()),
        scope.get("resource", pst.ScopeAny()),
        (pst.When(expr),),
        pst.FrozenMap(scope.get("annotations", {})),
    )
    return pst.PolicySet(pst.FrozenMap(), pst.FrozenMap({pid: template}), ())


def test_build_a_policy_from_nodes_and_authorize() -> None:
    owner = pst.BinaryOp("eq", pst.GetAttr(pst.Var("resource"), "owner"), pst.Var("principal"))
    public = pst.HasAttr(pst.Var("resource"), ("meta", "public"))
    tree = static(
        pst.BinaryOp("or", owner, public),
        action=pst.ActionIn((uid("Action", "view"),)),
        principal=pst.ScopeIs(pst.EntityType("User", ("App",))),
        annotations={"id": "view-own"},
    )
    pset = PolicySet.from_pst(tree)
    policy = pset.policy("p")
    assert policy is not None and policy.annotation("id") == "view-own"
    # rendered from the tree (Rust's Display of a policy built without source text)
    assert str(policy) == (
        '@id("view-own")\npermit(principal is App::User, action in [Action::"view"], resource) when '
        "{ ((resource.owner) == principal) || ((resource has meta) && ((resource.meta) has public)) };"
    )
    reparsed = PolicySet.from_str(str(policy)).to_pst().static_policies["policy0"]
    assert reparsed.clauses == pset.to_pst().static_policies["p"].clauses
    entities = Entities.from_json(
        [
            {
                "uid": {"type": "Doc", "id": "d"},
                "attrs": {"owner": {"__entity": {"type": "App::User", "id": "a"}}},
                "parents": [],
            }
        ]
    )
    allowed = Authorizer().is_authorized(
        Request('App::User::"a"', 'Action::"view"', 'Doc::"d"'), pset, entities
    )
    denied = Authorizer().is_authorized(
        Request('App::User::"b"', 'Action::"view"', 'Doc::"d"'), pset, entities
    )
    assert allowed.allowed and allowed.reasons == {"p"} and not denied.allowed
    # the desugared `has` comes back as Rust builds it
    assert pset.to_pst().static_policies["p"].clauses[0].expr.right == pst.BinaryOp(  # type: ignore[union-attr]
        "and",
        pst.HasAttr(pst.Var("resource"), ("meta",)),
        pst.HasAttr(pst.GetAttr(pst.Var("resource"), "meta"), ("public",)),
    )


def test_templates_and_links_round_trip() -> None:
    pset = PolicySet.from_str(
        "permit(principal in ?principal, action, resource is Photo in ?resource);"
        'forbid(principal, action == Action::"x", resource);'
    )
    pset.link("policy0", "l", {"?principal": 'Group::"g"', "?resource": 'Album::"a"'})
    tree = pset.to_pst()
    assert set(tree.templates) == {"policy0"} and set(tree.static_policies) == {"policy1"}
    assert tree.templates["policy0"].principal == pst.ScopeIn(pst.Slot("principal"))
    assert tree.templates["policy0"].resource == pst.ScopeIsIn(pst.EntityType("Photo"), pst.Slot("resource"))
    assert tree.template_links == (
        pst.TemplateLink("policy0", "l", {"principal": uid("Group", "g"), "resource": uid("Album", "a")}),
    )
    back = PolicySet.from_pst(tree)
    linked = back.policy("l")
    assert linked is not None and linked.template_id == "policy0"
    assert back.to_pst() == tree
    assert hash(tree) == hash(back.to_pst())  # frozen nodes hash


def test_entity_uids_and_node_strings() -> None:
    tree = pst.policies_to_pst(
        'permit(principal == A::B::"x\\"y", action, resource) when { resource in C::"c" };'
    )
    found = pst.entity_uids(tree)
    assert found == {uid("A::B", 'x"y'), uid("C", "c")}
    assert sorted(str(u) for u in found) == ['A::B::"x\\"y"', 'C::"c"']
    with pytest.raises(TypeError):
        pst.entity_uids(PolicySet())  # type: ignore[arg-type]


def test_frozen_map_is_immutable() -> None:
    frozen = pst.FrozenMap({"a": 1})
    with pytest.raises(TypeError):
        frozen["b"] = 2
    with pytest.raises(TypeError):
        frozen.update(b=2)
    assert frozen == {"a": 1} and hash(frozen) == hash(pst.FrozenMap({"a": 1}))
    with pytest.raises(ValueError):
        pst.HasAttr(pst.Var("context"), ())


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        (static(pst.Slot("principal")), "slot"),
        (static(pst.UnaryOp("frobnicate", pst.BoolLit(True))), "unary operator"),  # type: ignore[arg-type]
        (static(pst.BinaryOp("pow", pst.LongLit(1), pst.LongLit(2))), "binary operator"),  # type: ignore[arg-type]
        (static(pst.BoolLit(True), effect="allow"), "permit or forbid"),
        (static(pst.Like(pst.StringLit("a"), (pst.Char("ab"),))), "pattern element"),
        (static(pst.BoolLit(True), principal=pst.ScopeEq(pst.Slot("principal"))), "slot"),
        (static(pst.BoolLit(True), action=pst.ScopeEq(uid("Action", "a"))), "action constraint"),
        (
            static(pst.GetAttr(pst.Var("context"), "a"), pid="p").__class__(
                {}, {"q": static(pst.BoolLit(True)).static_policies["p"]}, ()
            ),
            "has the id",
        ),
        (static(pst.Is(pst.Var("principal"), pst.EntityType("if"), None)), "if"),
        (static("not a node"), "expression node"),  # type: ignore[arg-type]
    ],
)
def test_malformed_trees_are_policy_set_errors(tree: pst.PolicySet, message: str) -> None:
    with pytest.raises(PolicySetError, match=message):
        PolicySet.from_pst(tree)


def test_only_a_pst_policy_set_is_accepted() -> None:
    with pytest.raises(TypeError):
        PolicySet.from_pst(PolicySet())  # type: ignore[arg-type]


def test_nesting_limit_both_ways() -> None:
    def nested(depth: int) -> pst.Expr:
        node: pst.Expr = pst.BoolLit(True)
        for _ in range(depth - 1):
            node = pst.UnaryOp("not", node)
        return node

    PolicySet.from_pst(static(nested(pst.MAX_DEPTH)))
    with pytest.raises(PolicySetError, match="nesting"):
        PolicySet.from_pst(static(nested(pst.MAX_DEPTH + 1)))
    deep = "permit(principal, action, resource) when { " + " && ".join(["true"] * 150) + " };"
    with pytest.raises(PolicySetError, match="nesting"):
        pst.policies_to_pst(deep)
