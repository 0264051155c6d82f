"""A scope index: which policies can possibly match a request.

Each side of a policy's scope (principal, action, resource) either leaves its
variable unconstrained or names the keys a request's value must reach: the uid
of ``== E`` (reached by that uid), the type of ``is T`` (by an entity of that
type), the target of ``in E`` and ``is T in E`` (by that uid or a descendant),
each uid of ``action in [...]``.

A policy is filed under one *lead* key: of a side naming entities if it has one
(principal, then resource, then action), else of a side naming a type. A request
looks up the keys its principal, action and resource reach (the uid, its type,
each ancestor) and takes the policies filed there, plus those constraining no
side. A bucket holding more than ``BIG`` policies (many policies led by one group,
one type or one action) gets an index of its own over the *other* sides, built
when a request first reaches it, and the request looks its other sides up there:
the cost follows the policies that can match on every side, whatever the mix of
scope forms. Scope matching is still checked by the compiled policy, so the index
only has to be complete (a policy that could match is never left out), never exact.

Small sets skip the lookups: their candidates depend only on the principal's and
the resource's types and the action, and are cached by those.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from .ast import EntityList, ScopeConstraint, ScopeOp
from .values import EntityUid

if TYPE_CHECKING:
    from .compiler import PolicyFunction
    from .ops import EntityStore
    from .policy import Policy

Entry = tuple[str, bool, "PolicyFunction"]
"""What the index hands the authorizer: policy id, whether it is a permit, its function."""

PRINCIPAL, ACTION, RESOURCE = 0, 1, 2
"""The sides of a scope, as indexes into a request's ``(principal, action, resource)``."""
LEAD_ORDER = (PRINCIPAL, RESOURCE, ACTION)
"""The order in which sides are tried as a policy's lead (the action is rarely selective)."""

EQ, TYPE, IN = "eq", "type", "in"

Key = tuple[str, object]
SideKeys = tuple[list[Key] | None, list[Key] | None, list[Key] | None]
"""A policy's keys by side (``None``: that side is unconstrained)."""

SMALL = 16
"""Sets of at most this many policies are filtered by types only (see ``_by_types``)."""
BIG = 16
"""A bucket of more than this many policies gets an index over the other sides."""
_NO_LIMIT = 1 << 62
"""A bucket size never reached (the last side's buckets have no index below them)."""
CACHE_SIZE = 4096
"""Entries kept in the small-set cache before it is emptied."""


def side_keys(constraint: ScopeConstraint, policy: Policy) -> list[Key] | None:
    """The keys one side of ``policy``'s scope names (``None``: unconstrained).

    A request's value on that side can only satisfy the constraint if it reaches
    one of the keys: ``(EQ, uid)`` by being ``uid``, ``(TYPE, name)`` by having that
    type, ``(IN, uid)`` by being ``uid`` or having it as an ancestor."""
    op = constraint.op
    if op is ScopeOp.ALL:
        return None
    if op is ScopeOp.IS:
        return [(TYPE, constraint.entity_type)]
    target = constraint.entity
    if isinstance(target, str):  # a slot
        target = policy.slot_values.get(target)
        if target is None:
            return None
    if isinstance(target, EntityList):
        return [(IN, uid) for uid in dict.fromkeys(target)] or None
    if op is ScopeOp.EQ:
        return [(EQ, target)]
    return [(IN, target)]  # `in E`, and `is T in E` (the type is left to the policy)


def scope_keys(policy: Policy) -> SideKeys:
    """``policy``'s keys on each side (principal, action, resource)."""
    tree = policy.ast
    return (
        side_keys(tree.principal, policy),
        side_keys(tree.action, policy),
        side_keys(tree.resource, policy),
    )


_LEAD_KINDS = {EQ: 0, IN: 1, TYPE: 2}
"""The kinds of key a policy is filed under, the most selective first: ``== E`` is reached
by one uid, ``in E`` by ``E`` and every descendant (a request reaches the buckets of all
its ancestors), ``is T`` by every entity of the type."""


def _lead(keys: SideKeys, sides: tuple[int, ...]) -> tuple[int, Key] | None:
    """The side and key a policy is filed under among ``sides``: a single key of the most
    selective kind, the first such side in ``sides`` (several keys, as in ``action in
    [A, B]``, would file it twice); ``None``: no side narrows it."""
    best = None
    best_kind = len(_LEAD_KINDS)
    for side in sides:
        found = keys[side]
        if found is not None and len(found) == 1:
            kind = _LEAD_KINDS[found[0][0]]
            if kind < best_kind:
                if kind == _LEAD_KINDS[EQ]:  # none is more selective
                    return side, found[0]
                best, best_kind = (side, found[0]), kind
    return best


class SmallCandidates(list[Entry]):
    """The candidates of a small set for one (principal type, action, resource type), kept
    by the index; ``decide`` is for the authorizer to keep what it builds from them."""

    __slots__ = ("decide",)

    def __init__(self, entries: Iterable[Entry]) -> None:
        super().__init__(entries)
        self.decide: object = None


class _Bucket(dict[str, Entry]):
    """The policies filed under one key, by id; ``sub`` indexes them over the other sides
    once the bucket is big and a request has reached it."""

    __slots__ = ("sub",)

    def __init__(self) -> None:
        super().__init__()
        self.sub: _Node | None = None


class _Table:
    """The buckets of one side, by key kind."""

    __slots__ = ("eq", "types", "within")

    def __init__(self) -> None:
        self.eq: dict[object, _Bucket] = {}
        self.types: dict[object, _Bucket] = {}
        self.within: dict[object, _Bucket] = {}

    def table(self, kind: str) -> dict[object, _Bucket]:
        return self.eq if kind == EQ else self.types if kind == TYPE else self.within

    def collect(
        self, uid: EntityUid, entities: EntityStore, found: list[Entry], big: int
    ) -> list[_Bucket] | None:
        """Add the policies filed under every key that ``uid`` reaches (its uid, its type,
        each ancestor), except those of buckets of more than ``big`` policies: those
        buckets are returned (``None``: there are none)."""
        large: list[_Bucket] | None = None
        if self.eq:
            bucket = self.eq.get(uid)
            if bucket:
                if len(bucket) > big:
                    large = [bucket] if large is None else [*large, bucket]
                else:
                    found.extend(bucket.values())
        if self.types:
            bucket = self.types.get(uid[0])
            if bucket:
                if len(bucket) > big:
                    large = [bucket] if large is None else [*large, bucket]
                else:
                    found.extend(bucket.values())
        within = self.within
        if not within:
            return large
        bucket = within.get(uid)
        if bucket:
            if len(bucket) > big:
                large = [bucket] if large is None else [*large, bucket]
            else:
                found.extend(bucket.values())
        entity = entities.get(uid)
        if entity is None:
            return large
        ancestors = entity.ancestors
        if len(within) < len(ancestors):
            for target, bucket in within.items():  # few `in` targets: test each one
                if target in ancestors:
                    if len(bucket) > big:
                        large = [bucket] if large is None else [*large, bucket]
                    else:
                        found.extend(bucket.values())
        else:
            get = within.get
            for ancestor in ancestors:
                bucket = get(ancestor)
                if bucket:
                    if len(bucket) > big:
                        large = [bucket] if large is None else [*large, bucket]
                    else:
                        found.extend(bucket.values())
        return large

    def everything(self) -> Iterable[_Bucket]:
        for table in (self.eq, self.types, self.within):
            yield from table.values()


class _Node:
    """Policies filed by a lead key among ``sides``; big buckets index the other sides."""

    __slots__ = ("open", "sides", "tables")

    def __init__(self, sides: tuple[int, ...]) -> None:
        self.sides = sides
        self.tables = {side: _Table() for side in sides}
        self.open: dict[str, Entry] = {}
        """The policies no side among ``sides`` narrows."""

    def add(self, keys: SideKeys, entry: Entry) -> None:
        lead = _lead(keys, self.sides)
        if lead is None:
            self.open[entry[0]] = entry
            return
        side, (kind, value) = lead
        table = self.tables[side].table(kind)
        bucket = table.get(value)
        if bucket is None:
            bucket = table[value] = _Bucket()
        bucket[entry[0]] = entry
        if bucket.sub is not None:
            bucket.sub.add(keys, entry)

    def remove(self, keys: SideKeys, policy_id: str) -> None:
        lead = _lead(keys, self.sides)
        if lead is None:
            self.open.pop(policy_id, None)
            return
        side, (kind, value) = lead
        table = self.tables[side].table(kind)
        bucket = table.get(value)
        if bucket is None or bucket.pop(policy_id, None) is None:
            return
        if not bucket:
            del table[value]
        elif bucket.sub is not None:
            bucket.sub.remove(keys, policy_id)

    def collect(
        self,
        request: tuple[EntityUid | None, EntityUid | None, EntityUid | None],
        entities: EntityStore,
        filed: dict[str, SideKeys],
        found: list[Entry],
    ) -> None:
        """Add the policies that might match ``request`` (``None``: an unknown side)."""
        if self.open:
            found.extend(self.open.values())
        big = BIG if len(self.sides) > 1 else _NO_LIMIT
        for side in self.sides:
            uid = request[side]
            table = self.tables[side]
            if uid is None:  # unknown: any key may be reached
                for bucket in table.everything():
                    found.extend(bucket.values())
                continue
            large = table.collect(uid, entities, found, big)
            if large:
                self.descend(side, large, request, entities, filed, found)

    def descend(
        self,
        side: int,
        buckets: list[_Bucket],
        request: tuple[EntityUid | None, EntityUid | None, EntityUid | None],
        entities: EntityStore,
        filed: dict[str, SideKeys],
        found: list[Entry],
    ) -> None:
        """Collect from big buckets reached on ``side`` through their index of the other
        sides (built on first use)."""
        for bucket in buckets:
            sub = bucket.sub
            if sub is None:
                sub = _Node(tuple(s for s in self.sides if s != side))
                for policy_id, entry in bucket.items():
                    sub.add(filed[policy_id], entry)
                bucket.sub = sub
            sub.collect(request, entities, filed, found)


class PolicyIndex:
    """Policies filed by scope keys; updated incrementally as policies come and go."""

    def __init__(self, policies: Iterable[Policy] = ()) -> None:
        self._root = _Node(LEAD_ORDER)
        self._filed: dict[str, SideKeys] = {}
        """The keys of each policy filed, by id."""
        self._entries: dict[str, Entry] = {}
        self._by_types_cache: dict[tuple[str, EntityUid, str], tuple[object, SmallCandidates]] = {}
        """Small sets: candidates by (principal type, action, resource type), with the
        action's ancestor set they were made from."""
        self.small_cache: dict[tuple[str, EntityUid, str], tuple[object, SmallCandidates]] | None = (
            self._by_types_cache
        )
        """``_by_types_cache`` while the set is small, else ``None``: the authorizer looks a
        request up there first (``candidates`` without the call)."""
        for policy in policies:
            self.add(policy)

    def add(self, policy: Policy) -> None:
        """File ``policy`` (in place of any policy filed with the same id)."""
        if policy.id in self._filed:
            self.remove(policy)
        keys = scope_keys(policy)
        entry = (policy.id, policy.is_permit, policy.function)
        self._filed[policy.id] = keys
        self._entries[policy.id] = entry
        self._root.add(keys, entry)
        self._reset_cache()

    def remove(self, policy: Policy) -> None:
        """Unfile the policy with ``policy``'s id (if there is one)."""
        keys = self._filed.pop(policy.id, None)
        if keys is None:
            return
        del self._entries[policy.id]
        self._root.remove(keys, policy.id)
        self._reset_cache()

    def _reset_cache(self) -> None:
        self._by_types_cache = {}
        self.small_cache = self._by_types_cache if len(self._filed) <= SMALL else None

    def candidates(
        self,
        principal: EntityUid | None,
        action: EntityUid | None,
        resource: EntityUid | None,
        entities: EntityStore,
    ) -> Sequence[Entry]:
        """Every policy whose scope might match the request (in no particular order,
        each once; do not modify the result).

        ``None`` stands for an unknown principal, action or resource (a permission
        query): that side then narrows nothing."""
        if (
            len(self._filed) <= SMALL
            and principal is not None
            and action is not None
            and resource is not None
        ):
            entity = entities.get(action)
            ancestors = entity.ancestors if entity is not None else None
            key = (principal[0], action, resource[0])
            cached = self._by_types_cache.get(key)
            if cached is not None and cached[0] is ancestors:
                return cached[1]
            small = self._by_types(principal[0], action, ancestors, resource[0])
            if len(self._by_types_cache) >= CACHE_SIZE:
                self._by_types_cache.clear()
            self._by_types_cache[key] = (ancestors, small)
            return small
        root = self._root
        if principal is None or action is None or resource is None:
            found: list[Entry] = []
            root.collect((principal, action, resource), entities, self._filed, found)
            return found
        # the root's collect, unrolled (the common case: every side known)
        found = list(root.open.values()) if root.open else []
        tables = root.tables
        big = BIG
        large_p = tables[PRINCIPAL].collect(principal, entities, found, big)
        large_r = tables[RESOURCE].collect(resource, entities, found, big)
        large_a = tables[ACTION].collect(action, entities, found, big)
        if large_p or large_r or large_a:
            request = (principal, action, resource)
            for side, large in ((PRINCIPAL, large_p), (RESOURCE, large_r), (ACTION, large_a)):
                if large:
                    root.descend(side, large, request, entities, self._filed, found)
        return found

    def _by_types(
        self,
        principal_type: str,
        action: EntityUid,
        ancestors: frozenset[EntityUid] | None,
        resource_type: str,
    ) -> SmallCandidates:
        """The policies whose scope a request can match knowing only the principal's and the
        resource's types, the action and its ancestors: ``== E`` needs E's type, ``is T``
        the type T; ``in E`` (and ``is T in E``, whose type is left to the policy) may hold
        for an entity of any type, so it filters nothing on the principal and resource."""
        ancestors = ancestors or frozenset()
        return SmallCandidates(
            entry
            for policy_id, entry in self._entries.items()
            if _types_allow(self._filed[policy_id], principal_type, action, ancestors, resource_type)
        )

    def __len__(self) -> int:
        return len(self._filed)


def _types_allow(
    keys: SideKeys,
    principal_type: str,
    action: EntityUid,
    ancestors: frozenset[EntityUid],
    resource_type: str,
) -> bool:
    """Whether a policy with ``keys`` can match a request of these types and action."""
    for side, found in enumerate(keys):
        if found is None:
            continue
        if side == ACTION:
            uid_type = action[0]
            allowed = any(
                value == action
                if kind == EQ
                else value == uid_type
                if kind == TYPE
                else value == action or value in ancestors
                for kind, value in found
            )
        else:
            uid_type = principal_type if side == PRINCIPAL else resource_type
            allowed = any(
                value[0] == uid_type if kind == EQ else value == uid_type if kind == TYPE else True  # type: ignore[index]
                for kind, value in found
            )
        if not allowed:
            return False
    return True
