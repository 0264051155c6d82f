"""A scope index: which policies can possibly match a request.

Each policy is filed under one key taken from its scope: the principal
constraint if it has one, else the resource's, else the action's. A request
looks up the keys its principal, action and resource can match (the uid, each
ancestor, the entity type) and evaluates only the policies filed there, plus
the policies with an unconstrained scope. Scope matching is still checked by
the compiled policy, so the index only has to be complete, never exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .ast import ScopeConstraint, ScopeOp
from .values import EntityUid

if TYPE_CHECKING:
    from .ops import EntityStore
    from .policy import Policy

Key = tuple[str, str, object]


def _key(role: str, constraint: ScopeConstraint, policy: Policy) -> Key | None:
    op = constraint.op
    if op is ScopeOp.ALL:
        return None
    if op is ScopeOp.IS:
        return (role, "type", constraint.entity_type)
    target = constraint.entity
    if isinstance(target, str):  # a slot
        target = policy.slot_values.get(target)
        if target is None:
            return None
    if isinstance(target, tuple):
        return None  # `action in [...]`: several keys; leave it unindexed on this role
    if op is ScopeOp.EQ:
        return (role, "eq", target)
    return (role, "in", target)


def policy_key(policy: Policy) -> Key | None:
    """The key a policy is filed under (``None``: it must be checked for every request)."""
    tree = policy.ast
    for role, constraint in (("p", tree.principal), ("r", tree.resource), ("a", tree.action)):
        key = _key(role, constraint, policy)
        if key is not None:
            return key
    return None


class PolicyIndex:
    """Policies bucketed by scope key; updated incrementally as policies come and go."""

    def __init__(self, policies: Iterable[Policy] = ()) -> None:
        self._buckets: dict[Key, dict[str, Policy]] = {}
        self._unindexed: dict[str, Policy] = {}
        for policy in policies:
            self.add(policy)

    def add(self, policy: Policy) -> None:
        key = policy_key(policy)
        bucket = self._unindexed if key is None else self._buckets.setdefault(key, {})
        bucket[policy.id] = policy

    def remove(self, policy: Policy) -> None:
        key = policy_key(policy)
        if key is None:
            self._unindexed.pop(policy.id, None)
            return
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.pop(policy.id, None)
            if not bucket:
                del self._buckets[key]

    def candidates(
        self, principal: EntityUid, action: EntityUid, resource: EntityUid, entities: EntityStore
    ) -> list[Policy]:
        """Every policy whose scope might match the request (in no particular order)."""
        found = list(self._unindexed.values())
        buckets = self._buckets
        if not buckets:
            return found
        for role, uid in (("p", principal), ("r", resource), ("a", action)):
            bucket = buckets.get((role, "eq", uid))
            if bucket:
                found.extend(bucket.values())
            bucket = buckets.get((role, "type", uid.type))
            if bucket:
                found.extend(bucket.values())
            bucket = buckets.get((role, "in", uid))
            if bucket:
                found.extend(bucket.values())
            entity = entities.get(uid)
            if entity is not None:
                for ancestor in entity.ancestors:
                    bucket = buckets.get((role, "in", ancestor))
                    if bucket:
                        found.extend(bucket.values())
        return found

    def __len__(self) -> int:
        return len(self._unindexed) + sum(len(b) for b in self._buckets.values())
