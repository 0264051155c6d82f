"""The entity hierarchy is transitively closed, however deep, on both evaluation paths.

https://docs.cedarpolicy.com/policies/syntax-operators.html (``in``): "The `in`
operator is transitive. If `A` is in `B`, and `B` is in `C`, then `A` is also in
`C`. This approach allows you to model the concept of a multi-tier hierarchy, for
example nesting folders in other folders." -- e.g. ``principal in Group::"all"
//true by transitivity``.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

import cedarlang
from cedarlang import Entities, Entity, EntityUid

from ._both_paths import PATHS, authorize

# alice in Team::"t" in Dept::"d" in Org::"o" in Company::"c" (and a side branch)
CHAIN = [("User", "alice"), ("Team", "t"), ("Dept", "d"), ("Org", "o"), ("Company", "c")]


def chain_json(order: list[int] | None = None) -> list[dict[str, Any]]:
    ents = [
        {
            "uid": {"type": t, "id": i},
            "attrs": {},
            "parents": [{"type": CHAIN[n + 1][0], "id": CHAIN[n + 1][1]}] if n + 1 < len(CHAIN) else [],
        }
        for n, (t, i) in enumerate(CHAIN)
    ]
    ents.append({"uid": {"type": "Team", "id": "side"}, "attrs": {}, "parents": []})
    return [ents[k] for k in order] if order else ents


@PATHS
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_in_reaches_every_ancestor(interpret: bool, depth: int) -> None:
    t, i = CHAIN[depth]
    # entity order must not matter: children listed before and after their parents
    for order in (None, [5, 4, 3, 2, 1, 0], [2, 0, 4, 1, 3, 5]):
        scope = f'permit(principal in {t}::"{i}", action, resource);'
        assert authorize(scope, chain_json(order), interpret).allowed, (depth, order)
        cond = f'permit(principal, action, resource) when {{ principal in [Team::"side", {t}::"{i}"] }};'
        assert authorize(cond, chain_json(order), interpret).allowed, (depth, order)


@PATHS
def test_in_is_false_outside_the_chain(interpret: bool) -> None:
    rsp = authorize('permit(principal in Team::"side", action, resource);', chain_json(), interpret)
    assert not rsp.allowed


def uid(t: str, i: str) -> EntityUid:
    return EntityUid(t, i)


def test_loaded_ancestors_are_the_whole_chain() -> None:
    store = Entities.from_json(chain_json([5, 4, 3, 2, 1, 0]))
    assert store[uid("User", "alice")].ancestors == {uid(t, i) for t, i in CHAIN[1:]}
    assert store[uid("Team", "t")].ancestors == {uid(t, i) for t, i in CHAIN[2:]}
    assert store.is_ancestor_of(uid("Company", "c"), uid("User", "alice"))


def test_incremental_updates_close_the_chain() -> None:
    store = Entities([Entity(uid(t, i)) for t, i in CHAIN])
    for (ct, ci), (pt, pi) in itertools.pairwise(CHAIN):
        store.add_parent(uid(ct, ci), uid(pt, pi))
    assert store[uid("User", "alice")].ancestors == {uid(t, i) for t, i in CHAIN[1:]}
    # re-parenting the top of the chain reaches the bottom
    store.upsert([Entity(uid("Company", "c"), parents=[uid("Holding", "h")])])
    assert store.is_ancestor_of(uid("Holding", "h"), uid("User", "alice"))


@PATHS
def test_action_groups_are_closed_too(interpret: bool) -> None:
    actions = [
        {"uid": {"type": "Action", "id": "view"}, "attrs": {}, "parents": [{"type": "Action", "id": "read"}]},
        {"uid": {"type": "Action", "id": "read"}, "attrs": {}, "parents": [{"type": "Action", "id": "any"}]},
        {"uid": {"type": "Action", "id": "any"}, "attrs": {}, "parents": [{"type": "Action", "id": "all"}]},
    ]
    rsp = authorize('permit(principal, action in Action::"all", resource);', actions, interpret)
    assert rsp.decision is cedarlang.Decision.ALLOW
