"""Entity slicing by level: the entities a request needs when the policies are valid at level N.

If a policy set passes ``Validator(schema).validate(policies, level=N)``, its policies only
dereference (read attributes or tags of, or test ``in`` against) entities fewer than ``N``
attribute/tag hops from the request. So authorizing a request against
``slice_entities(store, request, N)`` decides exactly as against the whole ``store``; and an
application that keeps its entities in a database can load only those
(:func:`entities_for_request` takes any ``load(uid)`` function).

The slice holds, hop by hop:

* hop 0: the principal, the action, the resource, and every entity named in the context
  (inside records and sets, at any depth: a record attribute is not a hop);
* hop ``k + 1``: every entity named in an attribute or tag value of a hop-``k`` entity;

for hops ``0 .. N - 1``: entities at hop ``N`` are only compared, never read, so they are not
needed. Each entity in the slice keeps its attributes and tags, and its *whole* ancestor set
becomes its parent set (as in Rust's entity-manifest slicing), so ``in`` answers the same
without loading the ancestors themselves. Entity literals in policies are never dereferenced
at any level (level validation rejects it, except for the request's action), so they add
nothing. Uids the store does not hold are skipped (they are missing in both stores alike).

>>> from cedarlang import Entities, Entity, EntityUid, Request
>>> alice, bob, carol = (EntityUid("User", n) for n in ("alice", "bob", "carol"))
>>> store = Entities([
...     Entity(alice, {"manager": bob}), Entity(bob, {"manager": carol}), Entity(carol, {})])
>>> request = Request(alice, EntityUid("Action", "view"), alice)
>>> sorted(e.uid.id for e in slice_entities(store, request, 1))
['alice']
>>> sorted(e.uid.id for e in slice_entities(store, request, 2))
['alice', 'bob']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..entities import Entities, Entity
from ..values import CedarSet, EntityUid, Record

__all__ = ["entities_for_request", "request_uids", "slice_entities", "uids_in_value"]


def uids_in_value(value: Any) -> Iterator[EntityUid]:
    """Every entity uid inside a value (through records and sets, at any depth)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, EntityUid):
            yield v
        elif isinstance(v, Record):
            stack.extend(v.values())
        elif isinstance(v, CedarSet):
            stack.extend(v)


def request_uids(request: Any) -> list[EntityUid]:
    """The hop-0 uids of a request: principal, action, resource and the context's entities."""
    out = [request.principal, request.action, request.resource]
    out.extend(uids_in_value(request.context))
    return out


def entities_for_request(
    request: Any, level: int, load: Callable[[EntityUid], Entity | None]
) -> list[Entity]:
    """The entities within ``level`` hops of ``request`` (see the module docstring), loaded
    with ``load(uid)`` (``None`` for an unknown uid), each with its whole ancestor set as its
    parents. ``load`` is called once per needed uid, hop by hop, so it may query a database;
    the entities it returns must carry their whole ancestor set (``Entity.ancestors``, as an
    :class:`~cedarlang.Entities` store has it, or all ancestors listed as parents).
    ``level`` is the one the policies were validated at (0: no entity data is needed).
    """
    if isinstance(level, bool) or not isinstance(level, int) or level < 0:
        raise ValueError(f"the level must be a non-negative integer, not {level!r}")
    out: list[Entity] = []
    seen: set[EntityUid] = set()
    frontier = request_uids(request)
    for _ in range(level):
        next_frontier: list[EntityUid] = []
        for uid in frontier:
            if uid in seen:
                continue
            seen.add(uid)
            entity = load(uid)
            if entity is None:
                continue
            out.append(_with_ancestors_as_parents(entity))
            next_frontier.extend(uids_in_value(entity.attrs))
            next_frontier.extend(uids_in_value(entity.tags))
        frontier = next_frontier
    return out


def slice_entities(entities: Entities, request: Any, level: int) -> Entities:
    """The sub-store of ``entities`` a request needs for policies valid at ``level``."""
    return Entities(entities_for_request(request, level, entities.get))


def _with_ancestors_as_parents(entity: Entity) -> Entity:
    if entity.ancestors == entity.parents:
        return entity
    return Entity(entity.uid, entity.attrs, entity.ancestors, entity.tags)
