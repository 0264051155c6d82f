"""``is_authorized_batched``: entities loaded on demand through an ``EntityLoader``
(Rust's ``batched_evaluator.rs``). The generated cases of :mod:`tests.tpe.soundness` also
compare it with ``is_authorized``; these tests pin down what is loaded and when."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from cedarlang import Authorizer, Decision, Entities, Entity, PolicySet, Request, Schema
from cedarlang.errors import TpeEntitiesError, TpePolicyValidationError, TpeRequestError
from cedarlang.tpe import EntityLoader, InMemoryEntityLoader, is_authorized_batched
from cedarlang.values import EntityUid

SCHEMA = Schema.from_str(
    """
    entity Team in [Team];
    entity User in [Team] = { manager: User };
    entity Doc = { owner: User };
    action all;
    action read in [all] appliesTo { principal: [User], resource: [Doc] };
    """
)

ENTITIES = Entities.from_json(
    [
        {"uid": {"type": "Team", "id": "root"}, "attrs": {}, "parents": []},
        {"uid": {"type": "Team", "id": "eng"}, "attrs": {}, "parents": [{"type": "Team", "id": "root"}]},
        {
            "uid": {"type": "User", "id": "alice"},
            "attrs": {"manager": {"__entity": {"type": "User", "id": "carol"}}},
            "parents": [{"type": "Team", "id": "eng"}],
        },
        {
            "uid": {"type": "User", "id": "bob"},
            "attrs": {"manager": {"__entity": {"type": "User", "id": "alice"}}},
            "parents": [],
        },
        {
            "uid": {"type": "User", "id": "carol"},
            "attrs": {"manager": {"__entity": {"type": "User", "id": "carol"}}},
            "parents": [],
        },
        {
            "uid": {"type": "Doc", "id": "d"},
            "attrs": {"owner": {"__entity": {"type": "User", "id": "bob"}}},
            "parents": [],
        },
    ],
    schema=SCHEMA,
)

ALICE, BOB, DOC = EntityUid("User", "alice"), EntityUid("User", "bob"), EntityUid("Doc", "d")
READ = EntityUid("Action", "read")


def request(principal: str = 'User::"alice"') -> Request:
    return Request(principal, 'Action::"read"', 'Doc::"d"', {}, SCHEMA)


class CountingLoader:
    """An EntityLoader that counts its calls (and is not an InMemoryEntityLoader)."""

    def __init__(self, entities: Entities) -> None:
        self.entities = entities
        self.calls: list[set[EntityUid]] = []

    def load(self, uids: set[EntityUid]) -> Mapping[EntityUid, Entity | None]:
        self.calls.append(set(uids))
        return {uid: self.entities.get(uid) for uid in uids}


def test_counting_loader_is_an_entity_loader() -> None:
    loader: EntityLoader = CountingLoader(ENTITIES)  # the protocol, checked by mypy
    assert loader.load(set()) == {}


def test_loads_only_what_the_residuals_name_one_step_at_a_time() -> None:
    # doc.owner is bob, bob's manager is alice: needs Doc::"d", then User::"bob"
    policies = PolicySet.from_str(
        "permit (principal, action, resource) when { resource.owner.manager == principal };"
    )
    loader = CountingLoader(ENTITIES)
    assert is_authorized_batched(request(), policies, SCHEMA, loader, 10) is Decision.ALLOW
    assert loader.calls == [{DOC, ALICE}, {BOB}]
    assert Authorizer().is_authorized(request(), policies, ENTITIES).decision is Decision.ALLOW


def test_max_iters_bounds_the_loader_calls() -> None:
    policies = PolicySet.from_str(
        "permit (principal, action, resource) when { resource.owner.manager == principal };"
    )
    loader = CountingLoader(ENTITIES)
    assert is_authorized_batched(request(), policies, SCHEMA, loader, 1) is None  # not enough to decide
    assert len(loader.calls) == 1
    loader = CountingLoader(ENTITIES)
    assert is_authorized_batched(request(), policies, SCHEMA, loader, 0) is None
    assert loader.calls == []


def test_decided_without_entities_makes_no_useful_load() -> None:
    policies = PolicySet.from_str('permit (principal == User::"alice", action, resource);')
    loader = CountingLoader(ENTITIES)
    assert is_authorized_batched(request(), policies, SCHEMA, loader, 5) is Decision.ALLOW
    assert loader.calls == [set()]  # as Rust: one call, for nothing, then every residual is decided


def test_hierarchy_and_action_groups() -> None:
    policies = PolicySet.from_str(
        'permit (principal in Team::"root", action in Action::"all", resource);\n'
        'forbid (principal, action, resource) when { principal in Team::"blocked" };'
    )
    loader = CountingLoader(ENTITIES)
    assert is_authorized_batched(request(), policies, SCHEMA, loader, 5) is Decision.ALLOW
    loaded = set().union(*loader.calls)
    # every uid the residuals name (Rust's `all_literal_uids`), also the group `all`
    named = {ALICE, READ, EntityUid("Action", "all"), EntityUid("Team", "root"), EntityUid("Team", "blocked")}
    assert loaded == named
    assert EntityUid("Team", "eng") not in loaded  # ancestors come with the entity, not loaded
    assert is_authorized_batched(request('User::"bob"'), policies, SCHEMA, CountingLoader(ENTITIES), 5) is (
        Decision.DENY
    )


def test_missing_entities_behave_as_in_concrete_evaluation() -> None:
    policies = PolicySet.from_str(
        "permit (principal, action, resource) when { resource.owner == principal };"
    )
    empty = Entities.from_json([], schema=SCHEMA)
    assert is_authorized_batched(request(), policies, SCHEMA, InMemoryEntityLoader(empty), 5) is Decision.DENY
    assert Authorizer().is_authorized(request(), policies, empty).decision is Decision.DENY


def test_in_memory_loader_records_calls() -> None:
    policies = PolicySet.from_str(
        "permit (principal, action, resource) when { resource.owner == principal };"
    )
    loader = InMemoryEntityLoader(ENTITIES)
    assert is_authorized_batched(request('User::"bob"'), policies, SCHEMA, loader, 5) is Decision.ALLOW
    assert loader.calls == [{DOC, BOB}]


def test_invalid_inputs() -> None:
    good = PolicySet.from_str("permit (principal, action, resource);")
    with pytest.raises(TpeRequestError):
        is_authorized_batched(
            Request('Doc::"x"', 'Action::"read"', 'Doc::"d"'), good, SCHEMA, CountingLoader(ENTITIES), 3
        )
    bad = PolicySet.from_str("permit (principal, action, resource) when { resource.nope };")
    with pytest.raises(TpePolicyValidationError):
        is_authorized_batched(request(), bad, SCHEMA, CountingLoader(ENTITIES), 3)

    class BadLoader:
        def load(self, uids: set[EntityUid]) -> Mapping[EntityUid, Entity | None]:
            return {uid: Entity(uid, {"unexpected": 1}) for uid in uids}

    needs = PolicySet.from_str("permit (principal, action, resource) when { resource.owner == principal };")
    with pytest.raises(TpeEntitiesError):
        is_authorized_batched(request(), needs, SCHEMA, BadLoader(), 3)
