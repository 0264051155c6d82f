"""A scope index: which policies can possibly match a request.

Each side of a policy's scope (principal, action, resource) either leaves its
variable unconstrained or names the keys a request's value must reach: the uid
of ``== E``, the type of ``is T``, the target of ``in E`` and ``is T in E``
(reached by the uid itself or any ancestor), each uid of ``action in [...]``.
A policy is filed under every key of every constrained side, grouped by its
*pattern*: which of the three sides it constrains.

A request looks up, on each side, the keys its value can reach (its uid, its
type, each ancestor). A policy of pattern ``{p, r}`` can only match if it was
found on the principal side *and* on the resource side, so for each pattern it
is enough to read the side where the request found the fewest such policies:
the cost follows the policies that can match on every side, whatever the mix
of scope forms. Policies constraining no side are always candidates. Scope
matching is still checked by the compiled policy, so the index only has to be
complete (a policy that could match is never left out), never exact.

Small sets skip the index: evaluating a handful of policies whose compiled scope
test fails at once costs less than looking their keys up.
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

Bucket = dict[str, Entry]
"""Entries by policy id."""
Group = dict[int, Bucket]
"""The buckets under one key, by the pattern of their policies."""
Tally = list[object]
"""The buckets of one pattern a request reached on one side (see :func:`_tally`)."""

ENTITY_BITS = {"p": 1, "a": 4, "r": 16}
TYPE_BITS = {"p": 2, "a": 8, "r": 32}
PRINCIPAL, ACTION, RESOURCE = 1 | 2, 4 | 8, 16 | 32
"""A policy's pattern tells, for each side of its scope, whether it is unconstrained, names
entities (``==``, ``in``, ``is T in``, ``in [...]``: the side's entity bit) or only a type
(``is T``: its type bit). A side's mask holds both of its bits."""

SMALL = 16
"""Sets of at most this many policies are filtered by types only (see ``_by_types``)."""
CACHE_SIZE = 4096
"""Entries kept in each per-index cache before it is emptied."""

EQ, TYPE, IN = "eq", "type", "in"


def side_keys(constraint: ScopeConstraint, policy: Policy) -> list[tuple[str, object]] | None:
    """The keys one side of ``policy``'s scope is filed under (``None``: unconstrained).

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


def scope_keys(policy: Policy) -> tuple[int, list[tuple[int, str, object]]]:
    """The pattern of ``policy`` and its keys as ``(side mask, kind, value)``."""
    tree = policy.ast
    pattern = 0
    keys: list[tuple[int, str, object]] = []
    for side, constraint in (("p", tree.principal), ("a", tree.action), ("r", tree.resource)):
        found = side_keys(constraint, policy)
        if found is not None:
            pattern |= TYPE_BITS[side] if found[0][0] == TYPE else ENTITY_BITS[side]
            mask = ENTITY_BITS[side] | TYPE_BITS[side]
            keys.extend((mask, kind, value) for kind, value in found)
    return pattern, keys


def _extend(found: list[Entry], tally: Tally) -> None:
    """Add the entries of the buckets in ``tally``, each policy once."""
    if len(tally) == 3:
        found.extend(tally[2].values())  # type: ignore[attr-defined]
    elif tally[1]:
        for bucket in tally[2:]:
            found.extend(bucket.values())  # type: ignore[attr-defined]
    else:  # `action in [A, B]` is filed under A and under B: a request may reach both
        merged: Bucket = {}
        for bucket in tally[2:]:
            merged.update(bucket)  # type: ignore[call-overload]
        found.extend(merged.values())


def _types_allow(
    keys: list[tuple[int, str, object]],
    principal_type: str,
    action: EntityUid,
    ancestors: frozenset[EntityUid],
    resource_type: str,
) -> bool:
    """Whether a policy filed under ``keys`` can match a request of these types and action."""
    reached = {PRINCIPAL: False, ACTION: False, RESOURCE: False}
    constrained = set()
    for side, kind, value in keys:
        constrained.add(side)
        if side == ACTION:
            uid_type = action[0]
            hit = (
                value == action
                if kind == EQ
                else value == uid_type
                if kind == TYPE
                else value == action or value in ancestors
            )
        else:
            uid_type = principal_type if side == PRINCIPAL else resource_type
            hit = (
                value[0] == uid_type  # type: ignore[index]
                if kind == EQ
                else value == uid_type
                if kind == TYPE
                else True
            )
        reached[side] = reached[side] or hit
    return all(reached[side] for side in constrained)


class _SideTable:
    """The groups of one side of the scope, by key kind."""

    __slots__ = ("eq", "types", "within")

    def __init__(self) -> None:
        self.eq: dict[object, Group] = {}
        self.types: dict[object, Group] = {}
        self.within: dict[object, Group] = {}

    def table(self, kind: str) -> dict[object, Group]:
        return self.eq if kind == EQ else self.types if kind == TYPE else self.within

    def tally(self, uid: EntityUid, entities: EntityStore, disjoint: bool) -> dict[int, Tally]:
        """The buckets filed under every key that ``uid`` reaches (its uid, its type, each
        ancestor), by pattern: ``{pattern: [entry count, disjoint, bucket, ...]}``.
        ``disjoint``: no policy is filed under two keys of this side."""
        groups: list[Group] = []
        if self.eq:
            group = self.eq.get(uid)
            if group:
                groups.append(group)
        if self.types:
            group = self.types.get(uid[0])
            if group:
                groups.append(group)
        within = self.within
        if within:
            group = within.get(uid)
            if group:
                groups.append(group)
            entity = entities.get(uid)
            if entity is not None:
                ancestors = entity.ancestors
                if len(within) < len(ancestors):
                    for target, group in within.items():  # few `in` targets: test each one
                        if target in ancestors:
                            groups.append(group)
                else:
                    get = within.get
                    for ancestor in ancestors:
                        group = get(ancestor)
                        if group:
                            groups.append(group)
        tally: dict[int, Tally] = {}
        for group in groups:
            for pattern, bucket in group.items():
                found = tally.get(pattern)
                if found is None:
                    tally[pattern] = [len(bucket), disjoint, bucket]
                else:
                    found[0] += len(bucket)  # type: ignore[operator]
                    found.append(bucket)
        return tally


class PolicyIndex:
    """Policies filed by scope keys; updated incrementally as policies come and go."""

    def __init__(self, policies: Iterable[Policy] = ()) -> None:
        self._sides = {PRINCIPAL: _SideTable(), ACTION: _SideTable(), RESOURCE: _SideTable()}
        self._patterns: dict[int, Bucket] = {}
        """Every entry, by pattern (pattern 0: constrains no side)."""
        self._filed: dict[str, tuple[int, list[tuple[int, str, object]]]] = {}
        """The pattern and keys of each policy filed, by id."""
        self._by_types_cache: dict[tuple[str, EntityUid, str], tuple[object, list[Entry]]] = {}
        """Small sets: candidates by (principal type, action, resource type), with the
        action's ancestor set they were made from."""
        self._action_cache: dict[EntityUid, tuple[frozenset[EntityUid] | None, dict[int, Tally]]] = {}
        """Action tallies by action uid, with the ancestor set they were made from."""
        for policy in policies:
            self.add(policy)

    def add(self, policy: Policy) -> None:
        """File ``policy`` (in place of any policy filed with the same id)."""
        if policy.id in self._filed:
            self.remove(policy)
        pattern, keys = scope_keys(policy)
        self._filed[policy.id] = (pattern, keys)
        entry = (policy.id, policy.is_permit, policy.function)
        self._patterns.setdefault(pattern, {})[policy.id] = entry
        for bit, kind, value in keys:
            table = self._sides[bit].table(kind)
            group = table.get(value)
            if group is None:
                group = table[value] = {}
            group.setdefault(pattern, {})[policy.id] = entry
        self._by_types_cache = {}
        self._action_cache = {}

    def remove(self, policy: Policy) -> None:
        """Unfile the policy with ``policy``'s id (if there is one)."""
        filed = self._filed.pop(policy.id, None)
        if filed is None:
            return
        pattern, keys = filed
        everything = self._patterns[pattern]
        del everything[policy.id]
        if not everything:
            del self._patterns[pattern]
        for bit, kind, value in keys:
            table = self._sides[bit].table(kind)
            group = table[value]
            bucket = group[pattern]
            bucket.pop(policy.id, None)  # `action in [A, A]` names one key twice
            if not bucket:
                del group[pattern]
                if not group:
                    del table[value]
        self._by_types_cache = {}
        self._action_cache = {}

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
        sides = self._sides
        found: list[Entry] = []
        unconstrained = self._patterns.get(0)
        if unconstrained:
            found.extend(unconstrained.values())
        if principal is None or action is None or resource is None:
            self._collect_open(principal, action, resource, entities, found)
            return found
        p_tally = sides[PRINCIPAL].tally(principal, entities, True)
        r_tally = sides[RESOURCE].tally(resource, entities, True)
        a_tally = self._action_tally(action, entities)
        # each pattern once: from the first side (principal, resource, action) it constrains
        for pattern, best in p_tally.items():
            if pattern & RESOURCE:
                other = r_tally.get(pattern)
                if other is None:
                    continue
                if other[0] < best[0]:  # type: ignore[operator]
                    best = other
            if pattern & ACTION:
                other = a_tally.get(pattern)
                if other is None:
                    continue
                if other[0] < best[0]:  # type: ignore[operator]
                    best = other
            _extend(found, best)
        for pattern, best in r_tally.items():
            if pattern & PRINCIPAL:
                continue
            if pattern & ACTION:
                other = a_tally.get(pattern)
                if other is None:
                    continue
                if other[0] < best[0]:  # type: ignore[operator]
                    best = other
            _extend(found, best)
        for pattern, best in a_tally.items():
            if not pattern & (PRINCIPAL | RESOURCE):
                _extend(found, best)
        return found

    def _by_types(
        self,
        principal_type: str,
        action: EntityUid,
        ancestors: frozenset[EntityUid] | None,
        resource_type: str,
    ) -> list[Entry]:
        """The policies whose scope a request can match knowing only the principal's and the
        resource's types, the action and its ancestors: ``== E`` needs E's type, ``is T``
        the type T; ``in E`` (and ``is T in E``, whose type is left to the policy) may hold
        for an entity of any type, so it filters nothing on the principal and resource."""
        found: list[Entry] = []
        ancestors = ancestors or frozenset()
        for pattern, everything in self._patterns.items():
            for policy_id, entry in everything.items():
                if pattern and not _types_allow(
                    self._filed[policy_id][1], principal_type, action, ancestors, resource_type
                ):
                    continue
                found.append(entry)
        return found

    def _action_tally(self, action: EntityUid, entities: EntityStore) -> dict[int, Tally]:
        """The action side's tally, cached: a request's action is one of few, and its
        tally depends only on the action and its ancestor set (a frozenset: the same
        object means the same ancestors; the cache holds it, so it is not reused)."""
        entity = entities.get(action)
        ancestors = entity.ancestors if entity is not None else None
        cached = self._action_cache.get(action)
        if cached is not None and cached[0] is ancestors:
            return cached[1]
        tally = self._sides[ACTION].tally(action, entities, False)
        if len(self._action_cache) >= 1024:
            self._action_cache.clear()
        self._action_cache[action] = (ancestors, tally)
        return tally

    def _collect_open(
        self,
        principal: EntityUid | None,
        action: EntityUid | None,
        resource: EntityUid | None,
        entities: EntityStore,
        found: list[Entry],
    ) -> None:
        """``candidates`` with some sides unknown (they narrow nothing): every pattern in turn."""
        known: list[tuple[int, dict[int, Tally]]] = []
        for side, uid in ((PRINCIPAL, principal), (RESOURCE, resource), (ACTION, action)):
            if uid is not None:
                known.append((side, self._sides[side].tally(uid, entities, side != ACTION)))
        for pattern, everything in self._patterns.items():
            if not pattern:
                continue
            best: Tally | None = None
            for side, tally in known:
                if pattern & side:
                    here = tally.get(pattern)
                    if here is None:
                        break
                    if best is None or here[0] < best[0]:  # type: ignore[operator]
                        best = here
            else:
                if best is None:
                    found.extend(everything.values())
                else:
                    _extend(found, best)

    def __len__(self) -> int:
        return len(self._filed)
