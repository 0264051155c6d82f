"""The scope index that intersects the sides of the scope is complete: every policy that
could match (is satisfied, or raises an error) is among the candidates, once, for known
requests and for permission queries (unknown sides), on small sets (filtered by types)
and large ones (intersected by pattern), and through policy-set changes. Decisions equal
evaluating every policy, the interpreter and, on a sample, cedarpy."""

from __future__ import annotations

import json
import random
from typing import Any

import cedarpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cedarlang import Authorizer, Entities, PolicySet, Request, index
from cedarlang.errors import EvaluationError
from cedarlang.index import SMALL
from cedarlang.values import EntityUid

TYPES = ("User", "Group", "Doc", "Folder")
ACTION_NAMES = ("view", "edit", "read", "write", "all")
IDS = 5


def uid_text(rnd: random.Random, types: tuple[str, ...] = TYPES) -> str:
    return f'{rnd.choice(types)}::"{rnd.randrange(IDS)}"'


def side(rnd: random.Random, var: str) -> str:
    choice = rnd.randrange(7)
    if choice == 0:
        return var
    if choice == 1:
        return f"{var} == {uid_text(rnd)}"
    if choice == 2:
        return f"{var} in {uid_text(rnd)}"
    if choice == 3:
        return f"{var} is {rnd.choice(TYPES)}"
    if choice == 4:
        return f"{var} is {rnd.choice(TYPES)} in {uid_text(rnd)}"
    if choice == 5:
        return f"{var} == ?{var}"
    return f"{var} in ?{var}"


def action_side(rnd: random.Random) -> str:
    choice = rnd.randrange(5)
    names = [f'Action::"{n}"' for n in ACTION_NAMES]
    if choice == 0:
        return "action"
    if choice == 1:
        return f"action == {rnd.choice(names)}"
    if choice == 2:
        return f"action in {rnd.choice(names)}"
    if choice == 3:  # a list may name one action twice, or an action and its group
        return f"action in [{', '.join(rnd.choice(names) for _ in range(rnd.randint(1, 3)))}]"
    return "action in []"


CONDITIONS = ("", " when { context.ok }", " unless { principal == resource }", " when { resource.flag }")


def policy_text(rnd: random.Random) -> str:
    effect = rnd.choice(["permit", "permit", "forbid"])
    return f"{effect}({side(rnd, 'principal')}, {action_side(rnd)}, {side(rnd, 'resource')}){rnd.choice(CONDITIONS)};"


def policy_set(rnd: random.Random, count: int) -> PolicySet:
    pset = PolicySet()
    for i in range(count):
        text = policy_text(rnd)
        if "?" in text:
            template = pset.add_template(text, f"t{i}")
            for j in range(rnd.randint(0, 3)):
                pset.link(template.id, f"t{i}-{j}", {slot: uid_text(rnd) for slot in template.slots})
        else:
            pset.add(text, f"p{i}")
    return pset


def entities_json(rnd: random.Random) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for type_name in TYPES:
        for i in range(IDS):
            if rnd.random() < 0.15:
                continue  # some uids stay unknown to the store
            parents = [
                {"type": rnd.choice(TYPES), "id": str(rnd.randrange(IDS))} for _ in range(rnd.randint(0, 3))
            ]
            parents = [p for p in parents if (p["type"], p["id"]) < (type_name, str(i))]  # acyclic
            attrs = {"flag": rnd.random() < 0.5} if rnd.random() < 0.8 else {}
            items.append({"uid": {"type": type_name, "id": str(i)}, "attrs": attrs, "parents": parents})
    groups = {"view": ["read"], "read": ["all"], "edit": ["write"], "write": ["all"], "all": []}
    for name, names in groups.items():
        if rnd.random() < 0.9:
            items.append(
                {
                    "uid": {"type": "Action", "id": name},
                    "attrs": {},
                    "parents": [{"type": "Action", "id": p} for p in names],
                }
            )
    return items


def requests(rnd: random.Random, count: int) -> list[Request]:
    return [
        Request(
            uid_text(rnd),
            f'Action::"{rnd.choice(ACTION_NAMES)}"',
            uid_text(rnd),
            {"ok": rnd.random() < 0.5},
        )
        for _ in range(count)
    ]


def could_match(pset: PolicySet, request: Request, es: Entities) -> set[str]:
    """The policies satisfied or raising an error: each must be a candidate."""
    found = set()
    for policy in pset.policies():
        try:
            if policy.function(request.principal, request.action, request.resource, request.context, es):
                found.add(policy.id)
        except EvaluationError:
            found.add(policy.id)
    return found


def assert_complete(pset: PolicySet, es: Entities, reqs: list[Request]) -> None:
    index = pset.index()
    for req in reqs:
        must = could_match(pset, req, es)
        ids = [entry[0] for entry in index.candidates(req.principal, req.action, req.resource, es)]
        assert len(ids) == len(set(ids)), ("duplicate candidates", req)
        assert must <= set(ids), (sorted(must - set(ids)), req)
        for unknown in range(3):  # a permission query: one side (or more) unknown
            parts: list[EntityUid | None] = [req.principal, req.action, req.resource]
            parts[unknown] = None
            open_ids = [entry[0] for entry in index.candidates(parts[0], parts[1], parts[2], es)]
            assert len(open_ids) == len(set(open_ids)), ("duplicate candidates", req, unknown)
            assert must <= set(open_ids), (sorted(must - set(open_ids)), req, unknown)
            parts[(unknown + 1) % 3] = None
            two_open = {entry[0] for entry in index.candidates(parts[0], parts[1], parts[2], es)}
            assert must <= two_open, (sorted(must - two_open), req, unknown)
        everything = {entry[0] for entry in index.candidates(None, None, None, es)}
        assert everything == {policy.id for policy in pset.policies()}


def answer(response: Any) -> tuple[object, frozenset[str], frozenset[str]]:
    return response.decision, response.reasons, frozenset(e.policy_id for e in response.errors)


def assert_same_answers(pset: PolicySet, es: Entities, reqs: list[Request]) -> None:
    authorizer, interpreter = Authorizer(), Authorizer(interpret=True)
    for req in reqs:
        indexed = answer(authorizer.is_authorized(req, pset, es))
        assert indexed == answer(authorizer.is_authorized(req, pset.policies(), es)), req
        assert indexed == answer(interpreter.is_authorized(req, pset.policies(), es)), req


@pytest.mark.parametrize("big", [index.BIG, 0])
def test_candidates_complete_on_small_and_large_mixed_sets(big: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``BIG = 0`` every bucket a request reaches is looked up in its own index
    over the other sides (and theirs over the last side)."""
    monkeypatch.setattr(index, "BIG", big)
    rnd = random.Random(16)
    sizes = [rnd.randint(1, SMALL) for _ in range(15)] + [rnd.randint(SMALL + 1, 120) for _ in range(25)]
    for count in sizes:
        es = Entities.from_json(entities_json(rnd))
        pset = policy_set(rnd, count)
        reqs = requests(rnd, 40)
        assert_complete(pset, es, reqs)
        assert_same_answers(pset, es, reqs)


@pytest.mark.parametrize("big", [index.BIG, 0])
def test_large_set_stays_complete_through_changes(big: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The indexes of big buckets, once built, follow every change."""
    monkeypatch.setattr(index, "BIG", big)
    rnd = random.Random(17)
    for _ in range(6):
        es = Entities.from_json(entities_json(rnd))
        pset = policy_set(rnd, 60)
        reqs = requests(rnd, 25)
        assert_complete(pset, es, reqs)  # builds the index; the changes below update it
        for counter in range(40):
            static = [p for p in pset.policies() if p.template_id is None]
            linked = [p for p in pset.policies() if p.template_id is not None]
            step = rnd.randrange(4)
            if step == 0:
                text = policy_text(rnd)
                if "?" in text:
                    template = pset.add_template(text, f"new-t{counter}")
                    pset.link(template.id, f"new-l{counter}", {s: uid_text(rnd) for s in template.slots})
                else:
                    pset.add(text, f"new-p{counter}")
            elif step == 1 and static:
                pset.remove(rnd.choice(static).id)
            elif step == 2 and linked:
                pset.unlink(rnd.choice(linked).id)
            elif step == 3 and pset.templates():
                template = rnd.choice(pset.templates())
                pset.link(template.id, f"more-l{counter}", {s: uid_text(rnd) for s in template.slots})
            if counter % 8 == 7:
                assert_complete(pset, es, reqs)
        assert_complete(pset, es, reqs)
        assert_same_answers(pset, es, reqs)


def test_cached_small_set_candidates_follow_the_action_hierarchy() -> None:
    """The small-set cache is keyed by the action and its ancestor set: a store where the
    action has other ancestors gets its own candidates."""
    pset = PolicySet.from_str('permit(principal, action in Action::"read", resource);')
    req = Request('User::"a"', 'Action::"view"', 'Doc::"d"')
    flat = Entities.from_json([{"uid": {"type": "Action", "id": "view"}, "attrs": {}, "parents": []}])
    nested = Entities.from_json(
        [
            {
                "uid": {"type": "Action", "id": "view"},
                "attrs": {},
                "parents": [{"type": "Action", "id": "read"}],
            },
            {"uid": {"type": "Action", "id": "read"}, "attrs": {}, "parents": []},
        ]
    )
    authorizer = Authorizer()
    assert not authorizer.is_authorized(req, pset, flat).allowed
    assert authorizer.is_authorized(req, pset, nested).allowed
    assert not authorizer.is_authorized(req, pset, flat).allowed


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 90))
def test_candidates_complete_property(seed: int, count: int) -> None:
    rnd = random.Random(seed)
    es = Entities.from_json(entities_json(rnd))
    pset = policy_set(rnd, count)
    assert_complete(pset, es, requests(rnd, 15))


def test_decisions_agree_with_cedarpy_on_a_sample() -> None:
    rnd = random.Random(18)
    authorizer = Authorizer()
    for count in (10, 40, 100):
        items = entities_json(rnd)
        es = Entities.from_json(items)
        texts = [
            policy_text(rnd).replace("?principal", 'User::"1"').replace("?resource", 'Doc::"2"')
            for _ in range(count)
        ]
        pset = PolicySet.from_str("\n".join(texts))
        rust_policies = cedarpy.PolicySet.from_str("\n".join(texts))
        rust_entities = cedarpy.Entities.from_json_str(json.dumps(items))
        for req in requests(rnd, 60):
            ours = authorizer.is_authorized(req, pset, es)
            rust = cedarpy.is_authorized(
                {
                    "principal": req.principal.to_json(),
                    "action": req.action.to_json(),
                    "resource": req.resource.to_json(),
                    "context": {"ok": req.context["ok"]},
                },
                rust_policies,
                rust_entities,
            )
            assert ours.allowed == (rust.decision == cedarpy.Decision.Allow), req
            reasons = {f"policy{i}" for i in range(count)}
            assert set(rust.diagnostics.reasons) <= reasons
            assert ours.reasons == frozenset(rust.diagnostics.reasons), req


def test_a_policy_is_filed_under_its_most_selective_key() -> None:
    """``== E`` is reached by one uid, ``in E`` by every descendant of E: a share
    `principal in Team::"t", resource == List::"l"` is filed under its list, so a request
    by a member of the team on another list does not reach it; without an ``==`` side, the
    ``in`` side leads (and `is T` only when nothing else narrows)."""
    links = "\n".join(
        f'@id("share{n}") permit(principal in Team::"t{n % 5}", action, resource == List::"l{n}");'
        for n in range(SMALL + 1)  # a large set (filed, not filtered by types), small buckets
    )
    policies = PolicySet.from_str(
        links
        + '\n@id("team") permit(principal in Team::"t0", action, resource in Folder::"f");'
        + '\n@id("lists") permit(principal, action, resource is List) when { principal in resource.readers };',
        ids_from_annotation=True,
    )
    teams = [{"type": "Team", "id": f"t{n}"} for n in range(5)]
    es = Entities.from_json([{"uid": {"type": "User", "id": "u"}, "attrs": {}, "parents": teams}])
    found = policies.index().candidates(
        EntityUid("User", "u"), EntityUid("Action", "view"), EntityUid("List", "l3"), es
    )
    assert sorted(entry[0] for entry in found) == ["lists", "share3", "team"]
