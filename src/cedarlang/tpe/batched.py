"""Authorization with entities loaded on demand (Rust's
``cedar-policy-core/src/batched_evaluator.rs`` and ``EntityLoader`` / ``TestEntityLoader``
in ``cedar-policy/src/api/tpe.rs``).

:func:`is_authorized_batched` partially evaluates the policies with no entities at all,
asks the loader for exactly the entities the residuals mention, evaluates the residuals
again with them, and repeats until every residual is decided or ``max_iters`` loader calls
have been made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from ..authorizer import Decision, Request
from ..entities import Entities, Entity
from ..policy import Policy, PolicySet
from ..schema import Schema
from ..values import EntityUid
from .entities import PartialEntities, PartialEntity
from .evaluator import Evaluator, policy_residuals
from .request import PartialEntityUid, PartialRequest
from .residual import Partial, literal_uids
from .response import ResidualPolicy, TpeResponse

__all__ = ["EntityLoader", "InMemoryEntityLoader", "is_authorized_batched"]


class EntityLoader(Protocol):
    """Loads entities by uid. ``load`` must return an entry for every requested uid
    (``None`` for an entity that does not exist), each entity with *all* its ancestors (as
    :class:`~cedarlang.Entity` objects from an :class:`~cedarlang.Entities` store have);
    returning more entities than requested is allowed."""

    def load(self, uids: set[EntityUid]) -> Mapping[EntityUid, Entity | None]: ...


class InMemoryEntityLoader:
    """An :class:`EntityLoader` over an :class:`~cedarlang.Entities` store (Rust's
    ``TestEntityLoader``); ``calls`` records the uids of each ``load`` call."""

    def __init__(self, entities: Entities) -> None:
        self.entities = entities
        self.calls: list[set[EntityUid]] = []

    def load(self, uids: set[EntityUid]) -> dict[EntityUid, Entity | None]:
        self.calls.append(set(uids))
        return {uid: self.entities.get(uid) for uid in uids}


def is_authorized_batched(
    request: Request,
    policies: PolicySet | Iterable[Policy],
    schema: Schema,
    loader: EntityLoader,
    max_iters: int,
) -> Decision | None:
    """Decide ``request`` loading entities through ``loader`` as needed; ``None`` when
    ``max_iters`` loader calls were not enough to decide (Rust raises
    ``InsufficientIterationsError`` there). The request must conform to ``schema`` and the
    policies must validate against it (else :class:`~cedarlang.errors.TpeError`)."""
    partial = PartialRequest(
        PartialEntityUid(request.principal.type, request.principal.id),
        request.action,
        PartialEntityUid(request.resource.type, request.resource.id),
        request.context,
        schema,
    )
    entities = PartialEntities()
    evaluator = Evaluator(partial, entities)
    residuals = [
        ResidualPolicy(p, evaluator.interpret(r)) for p, r in policy_residuals(policies, partial, schema)
    ]
    for _ in range(max_iters):
        wanted: set[EntityUid] = set()
        for rp in residuals:
            wanted |= literal_uids(rp.residual)
        to_load = {uid for uid in wanted if uid not in entities}
        loaded = loader.load(to_load)
        found = [
            PartialEntity.from_entity(e) for uid, e in loaded.items() if e is not None and uid not in entities
        ]
        entities.add_validated(found, schema)
        for uid, e in loaded.items():
            if e is None and uid not in entities:
                # a missing entity behaves like an entity with nothing (as in concrete evaluation)
                entities.add_trusted(PartialEntity(uid, {}, (), {}))
        residuals = [ResidualPolicy(rp.policy, evaluator.interpret(rp.residual)) for rp in residuals]
        if not any(isinstance(rp.residual, Partial) for rp in residuals):
            break
    return TpeResponse(residuals, partial, entities, schema).decision
