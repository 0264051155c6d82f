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

from .ast import EntityList, ScopeConstraint, ScopeOp
from .values import EntityUid

if TYPE_CHECKING:
    from .compiler import PolicyFunction
    from .ops import EntityStore
    from .policy import Policy

Key = tuple[str, str, object]
Entry = tuple[str, bool, "PolicyFunction"]
"""What the index hands the authorizer: policy id, whether it is a permit, its function."""


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
    if isinstance(target, EntityList):
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
        self._buckets: dict[Key, dict[str, Entry]] = {}
        self._unindexed: dict[str, Entry] = {}
        # how many buckets exist per (role, kind): lookups skip kinds no policy uses
        self._kinds: dict[tuple[str, str], int] = {}
        self._plan: tuple[tuple[str, bool, bool, bool], ...] = ()
        for policy in policies:
            self.add(policy)

    def add(self, policy: Policy) -> None:
        key = policy_key(policy)
        if key is None:
            bucket = self._unindexed
        else:
            bucket = self._buckets.get(key)  # type: ignore[assignment]
            if bucket is None:
                bucket = self._buckets[key] = {}
                self._count_kind(key, 1)
        bucket[policy.id] = (policy.id, policy.is_permit, policy.function)

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
                self._count_kind(key, -1)

    def _count_kind(self, key: Key, delta: int) -> None:
        kind = (key[0], key[1])
        self._kinds[kind] = self._kinds.get(kind, 0) + delta
        self._plan = tuple(
            (
                role,
                self._kinds.get((role, "eq"), 0) > 0,
                self._kinds.get((role, "type"), 0) > 0,
                self._kinds.get((role, "in"), 0) > 0,
            )
            for role in ("p", "r", "a")
        )

    def candidates(
        self, principal: EntityUid, action: EntityUid, resource: EntityUid, entities: EntityStore
    ) -> list[Entry]:
        """Every policy whose scope might match the request (in no particular order)."""
        found = list(self._unindexed.values())
        buckets = self._buckets
        if not buckets:
            return found
        get = buckets.get
        for role, eq, is_type, within in self._plan:
            uid = principal if role == "p" else resource if role == "r" else action
            if eq:
                bucket = get((role, "eq", uid))
                if bucket:
                    found.extend(bucket.values())
            if is_type:
                bucket = get((role, "type", uid.type))
                if bucket:
                    found.extend(bucket.values())
            if within:
                bucket = get((role, "in", uid))
                if bucket:
                    found.extend(bucket.values())
                entity = entities.get(uid)
                if entity is not None:
                    for ancestor in entity.ancestors:
                        bucket = get((role, "in", ancestor))
                        if bucket:
                            found.extend(bucket.values())
        return found

    def __len__(self) -> int:
        return len(self._unindexed) + sum(len(b) for b in self._buckets.values())
