"""``@id`` as the policy id, ``new_id``, annotation accessors and ``PolicySet.merge``.

The merge cases are ported from Rust's ``cedar-policy/src/test/test.rs`` (``merge_*``,
cedar-policy 4.12), whose renaming is ``merge_policyset`` in
``cedar-policy-core/src/ast/policy_set.rs`` (cedar-policy/cedar#610).
"""

from __future__ import annotations

from typing import Any

import pytest

from cedarlang import Authorizer, Entities, Policy, PolicySet, PolicySetError, Request, Template


def shape(pset: PolicySet) -> tuple[dict[str, Any], dict[str, Any]]:
    """What Rust's ``PolicySet == PolicySet`` compares: each id's template or policy."""
    policies = {p.id: (p.ast, p.template_id, dict(p.slot_values)) for p in pset.policies()}
    templates = {t.id: t.ast for t in pset.templates()}
    return policies, templates


def policy(pid: str, text: str) -> Policy:
    return Policy.from_str(text, pid)


def template(tid: str, text: str) -> Template:
    return Template.from_str(text, tid)


def pset_of(*items: Policy | Template) -> PolicySet:
    pset = PolicySet()
    for item in items:
        if isinstance(item, Template):
            pset.add_template(item)
        else:
            pset.add(item)
    return pset


PERMIT = "permit(principal,action,resource);"
FORBID = "forbid(principal,action,resource);"
T_PRINCIPAL = "permit(principal == ?principal,action,resource);"
T_RESOURCE = "forbid(principal,action,resource == ?resource);"
BOB = {"?principal": 'User::"bob"'}
ALICE_R = {"?resource": 'User::"alice"'}


# -- @id -------------------------------------------------------------------------


TEXT = """
@id("owner-rule") permit(principal, action, resource) when { resource.owner == principal };
@id("reader-template") permit(principal == ?principal, action == Action::"read", resource);
forbid(principal, action, resource) when { principal.banned };
"""


def test_ids_from_annotation_rename_policies_and_templates() -> None:
    pset = PolicySet.from_str(TEXT, ids_from_annotation=True)
    assert [p.id for p in pset.policies()] == ["owner-rule", "policy2"]
    assert [t.id for t in pset.templates()] == ["reader-template"]
    plain = PolicySet.from_str(TEXT)
    assert [p.id for p in plain.policies()] == ["policy0", "policy2"]
    assert [t.id for t in plain.templates()] == ["policy1"]


def test_ids_from_annotation_reasons_name_the_annotation() -> None:
    pset = PolicySet.from_str(TEXT, ids_from_annotation=True)
    pset.link("reader-template", "alice-reads", {"?principal": 'User::"alice"'})
    entities = Entities.from_json(
        [
            {"uid": {"type": "User", "id": "alice"}, "attrs": {"banned": False}, "parents": []},
            {
                "uid": {"type": "Doc", "id": "d"},
                "attrs": {"owner": {"__entity": {"type": "User", "id": "alice"}}},
                "parents": [],
            },
        ]
    )
    response = Authorizer().is_authorized(
        Request('User::"alice"', 'Action::"read"', 'Doc::"d"'), pset, entities
    )
    assert response.allowed
    assert set(response.reasons) == {"owner-rule", "alice-reads"}


@pytest.mark.parametrize(
    "text",
    [
        '@id("x") permit(principal, action, resource); @id("x") forbid(principal, action, resource);',
        '@id("policy1") permit(principal, action, resource); forbid(principal, action, resource);',
        '@id("x") permit(principal == ?principal, action, resource); @id("x") forbid(principal, action, resource);',
    ],
)
def test_ids_from_annotation_clash_is_an_error(text: str) -> None:
    PolicySet.from_str(text)  # positional ids never clash
    with pytest.raises(PolicySetError, match="duplicate policy id"):
        PolicySet.from_str(text, ids_from_annotation=True)


def test_empty_id_annotation_is_an_id() -> None:
    pset = PolicySet.from_str("@id permit(principal, action, resource);", ids_from_annotation=True)
    assert [p.id for p in pset.policies()] == [""]


def test_new_id_keeps_everything_else() -> None:
    p = policy("a", '@x("1") permit(principal, action, resource) when { true };')
    q = p.new_id("b")
    assert (q.id, p.id) == ("b", "a")
    assert q.ast == p.ast and q.annotation("x") == "1"
    t = template("t", T_PRINCIPAL)
    pset = pset_of(t)
    linked = pset.link("t", "l", BOB)
    moved = linked.new_id("m")
    assert (moved.id, moved.template_id, dict(moved.slot_values)) == ("m", "t", dict(linked.slot_values))
    assert t.new_id("u").id == "u" and t.new_id("u").slots == t.slots


def test_annotation_accessors() -> None:
    pset = PolicySet.from_str(
        '@id("p") @tag("a") permit(principal, action, resource);'
        '@id("t") @tag("b") @flag permit(principal == ?principal, action, resource);'
    )
    pset.link("policy1", "l", BOB)
    assert pset.annotation("policy0", "tag") == "a"
    assert pset.annotation("l", "tag") == "b"  # a link has its template's annotations
    assert pset.annotation("policy0", "missing") is None
    assert pset.annotation("nope", "tag") is None
    assert pset.annotation("policy1", "tag") is None  # a template is not a policy
    assert pset.template_annotation("policy1", "flag") == ""
    assert pset.template_annotation("policy1", "tag") == "b"
    assert pset.template_annotation("policy0", "tag") is None


# -- merge (Rust's merge_* tests) --------------------------------------------------


def test_merge_empty_into_empty() -> None:
    ps0 = PolicySet()
    assert ps0.merge(PolicySet(), False) == {}
    assert len(ps0) == 0 and not ps0.templates()


def test_merge_policy_into_empty() -> None:
    p = policy("policy0", PERMIT)
    ps0, ps1 = PolicySet(), pset_of(p)
    assert ps0.merge(ps1, False) == {}
    assert shape(ps0) == shape(ps1)


def test_merge_empty_into_policy() -> None:
    ps0 = pset_of(policy("policy0", PERMIT))
    before = shape(ps0)
    assert ps0.merge(PolicySet(), False) == {}
    assert shape(ps0) == before


def test_merge_policies_disjoint() -> None:
    p0, p1 = policy("0", PERMIT), policy("1", FORBID)
    ps0, ps1 = pset_of(p0), pset_of(p1)
    assert ps0.merge(ps1, False) == {}
    assert shape(ps0) == shape(pset_of(p0, p1))


def test_merge_policies_collision_error() -> None:
    ps0 = pset_of(policy("0", PERMIT))
    before = shape(ps0)
    with pytest.raises(PolicySetError, match="duplicate policy id `0`"):
        ps0.merge(pset_of(policy("0", FORBID)), False)
    assert shape(ps0) == before  # all or nothing


def test_merge_policies_collision_rename() -> None:
    p0, p1 = policy("0", PERMIT), policy("0", FORBID)
    ps0, ps1 = pset_of(p0), pset_of(p1)
    assert ps0.merge(ps1, True) == {"0": "policy0"}
    assert shape(ps0) == shape(pset_of(p0, p1.new_id("policy0")))
    assert [p.id for p in ps1.policies()] == ["0"]  # the other set is unchanged


def test_merge_policies_collision_eq_policies() -> None:
    p0 = policy("0", PERMIT)
    ps0 = pset_of(p0)
    assert ps0.merge(pset_of(p0), True) == {}
    assert shape(ps0) == shape(pset_of(p0))


def test_merge_policies_templates_no_collision() -> None:
    p0, p1 = template("0", T_PRINCIPAL), template("2", T_RESOURCE)
    ps0, ps1 = pset_of(p0), pset_of(p1)
    ps1.link("2", "1", ALICE_R)
    assert ps0.merge(ps1, True) == {}
    expected = pset_of(p0, p1)
    expected.link("2", "1", ALICE_R)
    assert shape(ps0) == shape(expected)


def test_merge_policies_templates_collision() -> None:
    p0, p1 = template("0", T_PRINCIPAL), template("0", T_RESOURCE)
    ps0, ps1 = pset_of(p0), pset_of(p1)
    ps1.link("0", "1", ALICE_R)
    assert ps0.merge(ps1, True) == {"0": "policy0"}
    merged = ps0.policy("1")
    assert merged is not None and merged.template_id == "policy0"
    expected = pset_of(p0, p1.new_id("policy0"))
    expected.link("policy0", "1", ALICE_R)
    assert shape(ps0) == shape(expected)


def test_merge_policies_policy_template_collision() -> None:
    p0, p1 = policy("0", PERMIT), template("0", T_PRINCIPAL)
    ps0, ps1 = pset_of(p0), pset_of(p1)
    assert ps0.merge(ps1, True) == {"0": "policy0"}
    assert shape(ps0) == shape(pset_of(p0, p1.new_id("policy0")))


def test_merge_static_policy_onto_template_collision() -> None:
    ps0, ps1 = pset_of(template("0", T_PRINCIPAL)), pset_of(policy("0", PERMIT))
    assert ps0.merge(ps1, True) == {"0": "policy0"}
    assert [p.id for p in ps0.policies()] == ["policy0"]


def test_merge_policies_link_collision() -> None:
    p0, p1 = template("0", T_PRINCIPAL), template("1", T_RESOURCE)
    ps0, ps1 = pset_of(p0), pset_of(p1)
    ps0.link("0", "2", BOB)
    ps1.link("1", "2", ALICE_R)
    assert ps0.merge(ps1, True) == {"2": "policy0"}
    expected = pset_of(p0, p1)
    expected.link("0", "2", BOB)
    expected.link("1", "policy0", ALICE_R)
    assert shape(ps0) == shape(expected)


def test_merge_policies_template_and_link_collision() -> None:
    p0, p1 = template("0", T_PRINCIPAL), template("0", "forbid(principal == ?principal,action,resource);")
    ps0, ps1 = pset_of(p0), pset_of(p1)
    ps0.link("0", "2", BOB)
    ps1.link("0", "2", BOB)
    assert ps0.merge(ps1, True) == {"0": "policy0", "2": "policy1"}
    merged = ps0.policy("policy1")
    assert merged is not None and merged.template_id == "policy0"
    expected = pset_of(p0, p1.new_id("policy0"))
    expected.link("0", "2", BOB)
    expected.link("policy0", "policy1", BOB)
    assert shape(ps0) == shape(expected)


def test_merge_policies_eq_templates_different_links() -> None:
    p0 = template("0", T_PRINCIPAL)
    ps0, ps1 = pset_of(p0), pset_of(p0)
    ps0.link("0", "1", BOB)
    ps1.link("0", "2", {"?principal": 'User::"alice"'})
    assert ps0.merge(ps1, True) == {}
    expected = pset_of(p0)
    expected.link("0", "1", BOB)
    expected.link("0", "2", {"?principal": 'User::"alice"'})
    assert shape(ps0) == shape(expected)


def test_merge_policies_eq_templates_link_collision() -> None:
    p0 = template("0", T_PRINCIPAL)
    ps0, ps1 = pset_of(p0), pset_of(p0)
    ps0.link("0", "1", BOB)
    ps1.link("0", "1", {"?principal": 'User::"alice"'})
    assert ps0.merge(ps1, True) == {"1": "policy0"}
    expected = pset_of(p0)
    expected.link("0", "1", BOB)
    expected.link("0", "policy0", {"?principal": 'User::"alice"'})
    assert shape(ps0) == shape(expected)


def test_merge_policies_template_collides_with_link() -> None:
    p0, p1 = template("0", T_PRINCIPAL), template("1", T_PRINCIPAL)
    ps0, ps1 = pset_of(p0), pset_of(p1)
    ps0.link("0", "1", BOB)
    assert ps0.merge(ps1, True) == {"1": "policy0"}
    expected = pset_of(p0, p1.new_id("policy0"))
    expected.link("0", "1", BOB)
    assert shape(ps0) == shape(expected)


def test_merge_policies_link_collides_with_template() -> None:
    p0, p1 = template("0", T_PRINCIPAL), template("1", T_PRINCIPAL)
    ps0, ps1 = pset_of(p0), pset_of(p1)
    ps1.link("1", "0", BOB)
    assert ps0.merge(ps1, True) == {"0": "policy0"}
    expected = pset_of(p0, p1)
    expected.link("1", "policy0", BOB)
    assert shape(ps0) == shape(expected)


def test_merge_fresh_ids_skip_ids_taken_in_either_set() -> None:
    ps0 = pset_of(policy("x", PERMIT), policy("policy0", PERMIT))
    ps1 = pset_of(policy("x", FORBID), policy("policy1", FORBID))
    assert ps0.merge(ps1, True) == {"x": "policy2"}
    assert sorted(p.id for p in ps0.policies()) == ["policy0", "policy1", "policy2", "x"]


def test_merged_set_authorizes_with_every_policy() -> None:
    ps0 = PolicySet.from_str('permit(principal == User::"a", action, resource);')
    ps1 = PolicySet.from_str("forbid(principal, action, resource) when { context.block };")
    ps0.index()  # built before the merge: it must follow the merge
    assert ps0.merge(ps1, True) == {"policy0": "policy1"}
    authorizer, entities = Authorizer(), Entities()
    allowed = authorizer.is_authorized(
        Request('User::"a"', 'Action::"v"', 'R::"r"', {"block": False}), ps0, entities
    )
    denied = authorizer.is_authorized(
        Request('User::"a"', 'Action::"v"', 'R::"r"', {"block": True}), ps0, entities
    )
    assert allowed.allowed and allowed.reasons == {"policy0"}
    assert not denied.allowed and denied.reasons == {"policy1"}
