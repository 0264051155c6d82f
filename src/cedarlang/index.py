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


class _RoleTable:
    """The buckets of one scope role (principal, action or resource), by key kind."""

    __slots__ = ("eq", "types", "within")

    def __init__(self) -> None:
        self.eq: dict[object, dict[str, Entry]] = {}
        self.types: dict[object, dict[str, Entry]] = {}
        self.within: dict[object, dict[str, Entry]] = {}

    def table(self, kind: str) -> dict[object, dict[str, Entry]]:
        return self.eq if kind == "eq" else self.types if kind == "type" else self.within

    def collect_all(self, found: list[Entry]) -> None:
        """Add every entry (the role's value is unknown: any key may match)."""
        for table in (self.eq, self.types, self.within):
            for bucket in table.values():
                found.extend(bucket.values())

    def collect(self, uid: EntityUid | None, entities: EntityStore, found: list[Entry]) -> None:
        """Add the entries filed under every key that ``uid`` can match (``None``: unknown)."""
        if uid is None:
            self.collect_all(found)
            return
        if self.eq:
            bucket = self.eq.get(uid)
            if bucket:
                found.extend(bucket.values())
        if self.types:
            bucket = self.types.get(uid[0])
            if bucket:
                found.extend(bucket.values())
        within = self.within
        if not within:
            return
        bucket = within.get(uid)
        if bucket:
            found.extend(bucket.values())
        entity = entities.get(uid)
        if entity is None:
            return
        ancestors = entity.ancestors
        if len(within) < len(ancestors):
            for target, bucket in within.items():  # few `in` targets: test each one
                if target in ancestors:
                    found.extend(bucket.values())
        else:
            get = within.get
            for ancestor in ancestors:
                bucket = get(ancestor)
                if bucket:
                    found.extend(bucket.values())


class PolicyIndex:
    """Policies bucketed by scope key; updated incrementally as policies come and go."""

    def __init__(self, policies: Iterable[Policy] = ()) -> None:
        self._unindexed: dict[str, Entry] = {}
        self._principal = _RoleTable()
        self._action = _RoleTable()
        self._resource = _RoleTable()
        self._roles = {"p": self._principal, "a": self._action, "r": self._resource}
        self._size = 0
        for policy in policies:
            self.add(policy)

    def _bucket_table(self, key: Key) -> tuple[dict[object, dict[str, Entry]], object]:
        role, kind, value = key
        return self._roles[role].table(kind), value

    def add(self, policy: Policy) -> None:
        key = policy_key(policy)
        entry = (policy.id, policy.is_permit, policy.function)
        if key is None:
            bucket = self._unindexed
        else:
            table, value = self._bucket_table(key)
            bucket = table.get(value)  # type: ignore[assignment]
            if bucket is None:
                bucket = table[value] = {}
        if policy.id not in bucket:
            self._size += 1
        bucket[policy.id] = entry

    def remove(self, policy: Policy) -> None:
        key = policy_key(policy)
        if key is None:
            if self._unindexed.pop(policy.id, None) is not None:
                self._size -= 1
            return
        table, value = self._bucket_table(key)
        bucket = table.get(value)
        if bucket is not None and bucket.pop(policy.id, None) is not None:
            self._size -= 1
            if not bucket:
                del table[value]

    def candidates(
        self,
        principal: EntityUid | None,
        action: EntityUid | None,
        resource: EntityUid | None,
        entities: EntityStore,
    ) -> list[Entry]:
        """Every policy whose scope might match the request (in no particular order).

        ``None`` stands for an unknown principal, action or resource (a permission
        query): every policy filed under that role might match."""
        found = list(self._unindexed.values())
        self._principal.collect(principal, entities, found)
        self._resource.collect(resource, entities, found)
        self._action.collect(action, entities, found)
        return found

    def __len__(self) -> int:
        return self._size
