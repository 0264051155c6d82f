"""The scope index through every scope shape and every policy-set change, against cedarpy.

A linked policy means its template with the slots replaced by the linked uids
(Cedar's definition of linking), so the Rust side gets the equivalent static
text; its ``policyN`` ids are mapped back to cedarlang's ids by position.
"""

from __future__ import annotations

import json
import random
from typing import Any

import cedarpy
import pytest

import cedarlang

USERS = ['User::"u0"', 'User::"u1"', 'User::"u2"']
GROUPS = ['Group::"g0"', 'Group::"g1"']
DOCS = ['Doc::"d0"', 'Doc::"d1"']
FOLDERS = ['Folder::"f0"', 'Folder::"f1"']
ACTIONS = ['Action::"view"', 'Action::"edit"', 'Action::"read"', 'Action::"all"']

ENTITIES: list[dict[str, Any]] = [
    {"uid": {"type": "User", "id": "u0"}, "attrs": {}, "parents": [{"type": "Group", "id": "g0"}]},
    {
        "uid": {"type": "User", "id": "u1"},
        "attrs": {},
        "parents": [{"type": "Group", "id": "g0"}, {"type": "Group", "id": "g1"}],
    },
    {"uid": {"type": "Group", "id": "g0"}, "attrs": {}, "parents": [{"type": "Group", "id": "g1"}]},
    {"uid": {"type": "Group", "id": "g1"}, "attrs": {}, "parents": []},
    {"uid": {"type": "Doc", "id": "d0"}, "attrs": {}, "parents": [{"type": "Folder", "id": "f0"}]},
    {"uid": {"type": "Doc", "id": "d1"}, "attrs": {}, "parents": []},
    {"uid": {"type": "Folder", "id": "f0"}, "attrs": {}, "parents": [{"type": "Folder", "id": "f1"}]},
    {"uid": {"type": "Folder", "id": "f1"}, "attrs": {}, "parents": []},
    {"uid": {"type": "Action", "id": "view"}, "attrs": {}, "parents": [{"type": "Action", "id": "read"}]},
    {"uid": {"type": "Action", "id": "read"}, "attrs": {}, "parents": [{"type": "Action", "id": "all"}]},
    {"uid": {"type": "Action", "id": "edit"}, "attrs": {}, "parents": [{"type": "Action", "id": "all"}]},
    {"uid": {"type": "Action", "id": "all"}, "attrs": {}, "parents": []},
]
# u2 and every entity not listed above are missing from the store: `in` is then false
PRINCIPALS = [*USERS, GROUPS[0], 'User::"ghost"']
RESOURCES = [*DOCS, FOLDERS[0], 'Doc::"ghost"']
REQUESTS: list[dict[str, Any]] = [
    {"principal": p, "action": a, "resource": r, "context": {}}
    for p in PRINCIPALS
    for a in ACTIONS[:3]
    for r in RESOURCES
]


def scope_var(rnd: random.Random, var: str, uids: list[str], types: list[str]) -> str:
    choice = rnd.randrange(6)
    if choice == 0:
        return var
    if choice == 1:
        return f"{var} == {rnd.choice(uids)}"
    if choice == 2:
        return f"{var} in {rnd.choice(uids)}"
    if choice == 3:
        return f"{var} is {rnd.choice(types)}"
    if choice == 4:
        return f"{var} is {rnd.choice(types)} in {rnd.choice(uids)}"
    return f"{var} in ?{var}" if rnd.random() < 0.5 else f"{var} == ?{var}"


def action_scope(rnd: random.Random) -> str:
    choice = rnd.randrange(4)
    if choice == 0:
        return "action"
    if choice == 1:
        return f"action == {rnd.choice(ACTIONS)}"
    if choice == 2:
        return f"action in {rnd.choice(ACTIONS)}"
    return f"action in [{', '.join(rnd.sample(ACTIONS, rnd.randint(1, 2)))}]"


def policy_text(rnd: random.Random) -> str:
    effect = "forbid" if rnd.random() < 0.25 else "permit"
    principal = scope_var(rnd, "principal", USERS + GROUPS, ["User", "Group"])
    resource = scope_var(rnd, "resource", DOCS + FOLDERS, ["Doc", "Folder"])
    return f"{effect}({principal}, {action_scope(rnd)}, {resource});"


def rust_answers(state: list[tuple[str, str]]) -> list[tuple[str, frozenset[str]]]:
    """Cedarpy's decision and reasons per request, for the static texts in ``state``."""
    text = "\n".join(t for _, t in state)
    answers = cedarpy.is_authorized_batch(REQUESTS, text, json.dumps(ENTITIES))
    ids = [pid for pid, _ in state]
    out = []
    for answer in answers:
        assert not answer.diagnostics.errors
        reasons = frozenset(ids[int(r.removeprefix("policy"))] for r in answer.diagnostics.reasons)
        out.append(("allow" if answer.decision == cedarpy.Decision.Allow else "deny", reasons))
    return out


def our_answers(pset: cedarlang.PolicySet, store: cedarlang.Entities) -> list[tuple[str, frozenset[str]]]:
    authorizer = cedarlang.Authorizer()
    out = []
    for request in REQUESTS:
        response = authorizer.is_authorized(
            cedarlang.Request(request["principal"], request["action"], request["resource"]), pset, store
        )
        assert not response.errors
        out.append((response.decision.value, frozenset(response.reasons)))
    return out


def check(pset: cedarlang.PolicySet, store: cedarlang.Entities, state: list[tuple[str, str]]) -> None:
    assert len(pset.index()) == len(state) == len(pset.policies())
    assert our_answers(pset, store) == rust_answers(state)


@pytest.mark.parametrize("seed", range(4))
def test_index_through_adds_removes_links_and_unlinks(seed: int) -> None:
    rnd = random.Random(seed)
    store = cedarlang.Entities.from_json(json.dumps(ENTITIES))
    pset = cedarlang.PolicySet()
    pset.index()  # built now, so every change below updates it incrementally
    state: list[tuple[str, str]] = []  # (id, equivalent static text), in insertion order
    check(pset, store, state)
    for step in range(14):
        templates = pset.templates()
        linked = [pid for pid, _ in state if pset.policy(pid).template_id is not None]  # type: ignore[union-attr]
        static = [pid for pid, _ in state if pset.policy(pid).template_id is None]  # type: ignore[union-attr]
        action = rnd.randrange(5)
        if action <= 1:
            text = policy_text(rnd)
            if "?" in text:
                pset.add_template(text, f"t{step}")
            else:
                pset.add(text, f"p{step}")
                state.append((f"p{step}", text))
        elif action == 2 and templates:
            template = rnd.choice(templates)
            values = {
                "?principal": rnd.choice(USERS + GROUPS),
                "?resource": rnd.choice(DOCS + FOLDERS),
            }
            values = {k: v for k, v in values.items() if k in template.slots}
            pset.link(template.id, f"l{step}", values)
            text = str(template)
            for slot, value in values.items():
                text = text.replace(slot, value)
            state.append((f"l{step}", text))
        elif action == 3 and linked:
            pid = rnd.choice(linked)
            pset.unlink(pid)
            state = [(i, t) for i, t in state if i != pid]
        elif action == 4 and static:
            pid = rnd.choice(static)
            pset.remove(pid)
            state = [(i, t) for i, t in state if i != pid]
        check(pset, store, state)


def test_policies_in_one_bucket_are_removed_one_by_one() -> None:
    """Several policies under one key: removing one keeps the others, then the last goes."""
    store = cedarlang.Entities.from_json(json.dumps(ENTITIES))
    pset = cedarlang.PolicySet()
    pset.index()
    texts = {
        "a": 'permit(principal == User::"u0", action, resource);',
        "b": 'permit(principal == User::"u0", action == Action::"view", resource);',
        "c": "permit(principal, action, resource);",
        "d": "permit(principal, action, resource is Doc);",
    }
    for pid, text in texts.items():
        pset.add(text, pid)
    state = list(texts.items())
    check(pset, store, state)
    for pid in ["a", "c", "b", "d"]:
        pset.remove(pid)
        state = [(i, t) for i, t in state if i != pid]
        check(pset, store, state)
