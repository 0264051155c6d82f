"""Entity store: JSON loading, transitive ancestors, incremental updates."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cedarlang
from cedarlang import Entities, Entity, EntityUid


def uid(n: int) -> EntityUid:
    return EntityUid("Node", str(n))


def closure(parents: dict[int, set[int]]) -> dict[int, set[int]]:
    """Reference transitive closure, by repeated expansion."""
    result = {n: set(ps) for n, ps in parents.items()}
    changed = True
    while changed:
        changed = False
        for n in result:
            extra = set().union(*(result.get(p, set()) for p in result[n])) - result[n]
            if extra:
                result[n] |= extra
                changed = True
    return result


def dag(draw: st.DrawFn, size: int) -> dict[int, set[int]]:
    return {n: set(draw(st.sets(st.integers(0, n - 1), max_size=3))) if n else set() for n in range(size)}


@st.composite
def dags(draw: st.DrawFn) -> dict[int, set[int]]:
    return dag(draw, draw(st.integers(1, 25)))


def store_of(parents: dict[int, set[int]]) -> Entities:
    return Entities(Entity(uid(n), parents=[uid(p) for p in ps]) for n, ps in parents.items())


def assert_matches(store: Entities, parents: dict[int, set[int]]) -> None:
    expected = closure(parents)
    for n in parents:
        assert store[uid(n)].ancestors == frozenset(uid(a) for a in expected[n]), n


@settings(max_examples=150, deadline=None)
@given(dags())
def test_ancestors_are_the_transitive_closure(parents: dict[int, set[int]]) -> None:
    assert_matches(store_of(parents), parents)


@settings(max_examples=150, deadline=None)
@given(dags(), st.randoms(use_true_random=False))
def test_incremental_updates_keep_ancestors_exact(parents: dict[int, set[int]], rnd: random.Random) -> None:
    store = store_of(parents)
    nodes = sorted(parents)
    for _ in range(10):
        child, parent = rnd.choice(nodes), rnd.choice(nodes)
        if rnd.random() < 0.5 and parent < child:  # keep it acyclic: edges point to smaller ids
            store.add_parent(uid(child), uid(parent))
            parents[child].add(parent)
        elif parents[child]:
            gone = rnd.choice(sorted(parents[child]))
            store.remove_parent(uid(child), uid(gone))
            parents[child].discard(gone)
        assert_matches(store, parents)


def test_remove_keeps_dangling_parent() -> None:
    store = store_of({0: set(), 1: {0}, 2: {1}})
    store.remove([uid(1)])
    assert uid(1) not in store
    assert store[uid(2)].ancestors == frozenset({uid(1)})


def test_cycles_are_rejected() -> None:
    with pytest.raises(cedarlang.EntitiesError, match="cycle"):
        store_of({0: {1}, 1: {0}})
    store = store_of({0: set(), 1: {0}})
    with pytest.raises(cedarlang.EntitiesError, match="cycle"):
        store.add_parent(uid(0), uid(1))


def test_in_follows_updates_through_the_authorizer() -> None:
    policies = cedarlang.PolicySet.from_str('permit(principal in Node::"0", action, resource);')
    store = store_of({0: set(), 1: set(), 2: {1}})
    request = cedarlang.Request('Node::"2"', 'Action::"a"', 'R::"r"')
    authorizer = cedarlang.Authorizer()
    assert not authorizer.is_authorized(request, policies, store).allowed
    store.add_parent(uid(1), uid(0))
    assert authorizer.is_authorized(request, policies, store).allowed
    store.remove_parent(uid(1), uid(0))
    assert not authorizer.is_authorized(request, policies, store).allowed


@pytest.mark.parametrize(
    "bad",
    [
        "not json",
        "{}",
        '[{"uid": {"type": "A"}}]',
        '[{"uid": {"type": "A", "id": "a"}, "attrs": {"x": null}, "parents": []}]',
        '[{"uid": {"type": "A", "id": "a"}, "parents": []}]',
        '[{"uid": {"type": "A", "id": "a"}, "attrs": {"x": 1, "x": 2}, "parents": []}]',
        '[{"uid": {"type": "A", "id": "a"}, "attrs": {"x": -0}, "parents": []}]',
        '[{"uid": {"type": "if", "id": "a"}, "attrs": {}, "parents": []}]',
        '[{"uid": {"type": "Action", "id": "a"}, "attrs": {}, "parents": [{"type": "User", "id": "b"}]}]',
        '[{"uid": {"type": "A", "id": "a"}, "attrs": {"x": 99999999999999999999}, "parents": []}]',
        '[{"uid": {"type": "A", "id": "a"}, "attrs": {"x": {"__extn": {"fn": "nope", "arg": "1"}}}, "parents": []}]',
        '[{"uid": {"type": "A", "id": "a"}, "attrs": {"x": {"__extn": {"fn": "ip", "arg": "1.2.3"}}}, "parents": []}]',
        '[{"uid": {"type": "A", "id": "a"}, "attrs": {}, "parents": [{"type": "B"}]}]',
        '[{"uid": {"type": "A", "id": "a"}, "attrs": {"x": 1}, "parents": []},'
        ' {"uid": {"type": "A", "id": "a"}, "attrs": {"x": 2}, "parents": []}]',
    ],
)
def test_bad_entity_json_raises_entities_error(bad: str) -> None:
    with pytest.raises(cedarlang.EntitiesError):
        Entities.from_json(bad)
