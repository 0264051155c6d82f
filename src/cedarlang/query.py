"""Permission queries: *which* resources, principals or actions a request allows.

``query_resources(principal, action, resource_type, ...)`` answers "which lists may
alice read?"; ``query_principals`` answers "who may read this list?" and
``query_actions`` "what may alice do to this list?". Each returns exactly the
candidates for which :meth:`Authorizer.is_authorized` allows, sorted by (type, id).

How: the queried variable is the one unknown of the request. Each policy that the
scope index says could apply is reduced to a *candidate set*, a superset of the
entities for which its condition can be ``true`` (the residual of the policy for
that unknown), read from the shape of its condition:

================================================  =====================================
shape (``x`` is the unknown, ``v`` a known value)  candidates
================================================  =====================================
anything not mentioning ``x``                      all (if it evaluates to ``true``),
                                                   none (``false``, an error, a non-bool)
``a && b`` / ``a || b``                            intersection / union
``if c then a else b``                             ``(c ∩ a) ∪ b``
``x == v``, ``x in v`` (entity or set)             ``v``; ``v`` and its descendants
``x is T``, ``x is T in v``                        by type; descendants of ``v``
``x.p == v`` (``p`` an attribute path)             attribute index lookup
``x.p in v``                                       lookup of ``v`` and its descendants
``v in x.p``                                       lookup of ``v`` and its ancestors
                                                   (entity or set-of-entity attributes)
``x.p.contains(v)``, ``containsAny``/``All``       set-membership index lookup
``x.p``, ``!x.p`` (a boolean attribute)            lookup of ``true`` / ``false``
``x has a``                                        entities having the attribute
anything else (``!``, ``like``, arithmetic, ...)   all (checked)
================================================  =====================================

Attribute paths go through records and through entity-valued attributes
(``resource.org.owner == principal``): each step is an index from attribute value
to holder, built once per entity store version. The permits' candidate sets are
united; when a satisfied permit constrains nothing and no forbid can apply, every
entity of the type is the answer. Otherwise each candidate is authorized (exactly
as ``is_authorized``), so forbids, errors and every shape not enumerated stay exact:
an enumerated shape only makes the candidate set smaller, never the answer wrong.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from . import ast
from ._limits import gc_paused
from .ast import BinaryOp, Expr, UnaryOp
from .authorizer import Authorizer, UidLike, build_context, to_uid
from .conformance import validate_context, validate_request_scope
from .entities import Entities
from .errors import EvaluationError, RequestError
from .evaluator import Interpreter
from .lexical import is_action_type, is_entity_type_name
from .policy import Policy, PolicySet
from .values import CedarSet, EntityUid, Record, Value, set_key

if TYPE_CHECKING:
    from .schema import Schema

__all__ = ["query_actions", "query_principals", "query_resources"]


class _All:
    """The candidate set "every entity of the queried type" (nothing narrows it)."""

    def __repr__(self) -> str:
        return "ALL"


ALL: Final = _All()
Candidates = frozenset[EntityUid] | _All
_NONE: Final[frozenset[EntityUid]] = frozenset()


def _meet(a: Candidates, b: Candidates) -> Candidates:
    if isinstance(a, _All):
        return b
    if isinstance(b, _All):
        return a
    return a & b


def _join(a: Candidates, b: Candidates) -> Candidates:
    if isinstance(a, _All) or isinstance(b, _All):
        return ALL
    return a | b


# ---------------------------------------------------------------------------
# Indexes over one entity store (rebuilt when the store's version changes)


class StoreIndex:
    """Entities by type, descendants of each entity, and attribute-value indexes.

    Everything is built lazily and cached for the store version it was built from.
    """

    def __init__(self, entities: Entities) -> None:
        self.entities = entities
        self.version = entities.version
        self._by_type: dict[str, frozenset[EntityUid]] | None = None
        self._descendants: dict[EntityUid, list[EntityUid]] | None = None
        self._values: dict[tuple[str, ...], dict[Value, set[EntityUid]]] = {}
        self._members: dict[tuple[str, ...], dict[Value, set[EntityUid]]] = {}
        self._holders: dict[tuple[str, ...], frozenset[EntityUid]] = {}

    def of_type(self, entity_type: str) -> frozenset[EntityUid]:
        by_type = self._by_type
        if by_type is None:
            groups: dict[str, set[EntityUid]] = {}
            for entity in self.entities:
                groups.setdefault(entity.uid[0], set()).add(entity.uid)
            by_type = self._by_type = {t: frozenset(uids) for t, uids in groups.items()}
        return by_type.get(entity_type, _NONE)

    def within(self, targets: Iterable[EntityUid]) -> set[EntityUid]:
        """The targets and all their descendants (``x in t`` holds for exactly these ``x``)."""
        descendants = self._descendants
        if descendants is None:
            descendants = self._descendants = {}
            with gc_paused():
                for entity in self.entities:
                    for ancestor in entity.ancestors:
                        descendants.setdefault(ancestor, []).append(entity.uid)
        found: set[EntityUid] = set()
        for target in targets:
            found.add(target)
            found.update(descendants.get(target, ()))
        return found

    def ancestry(self, uid: EntityUid) -> set[EntityUid]:
        """``uid`` and its ancestors (``uid in y`` holds for exactly these ``y``)."""
        entity = self.entities.get(uid)
        found = {uid}
        if entity is not None:
            found.update(entity.ancestors)
        return found

    def _build(self, path: tuple[str, ...]) -> None:
        with gc_paused():  # many small sets: no point scanning the whole heap meanwhile
            self._build_path(path)

    def _build_path(self, path: tuple[str, ...]) -> None:
        if len(path) == 1:
            self._build_top_level()
            if path in self._holders:
                return
        values: dict[Value, set[EntityUid]] = {}
        members: dict[Value, set[EntityUid]] = {}
        holders: set[EntityUid] = set()
        for entity in self.entities:
            value: Value = entity.attrs
            for attr in path:
                if type(value) is not Record:
                    break
                value = value.get(attr, _MISSING)
                if value is _MISSING:
                    break
            else:
                _file(entity.uid, value, values, members)
                holders.add(entity.uid)
        self._values[path] = values
        self._members[path] = members
        self._holders[path] = frozenset(holders)

    def _build_top_level(self) -> None:
        """Every top-level attribute's tables in one pass over the store."""
        values: dict[str, dict[Value, set[EntityUid]]] = {}
        members: dict[str, dict[Value, set[EntityUid]]] = {}
        holders: dict[str, set[EntityUid]] = {}
        for entity in self.entities:
            uid = entity.uid
            for attr, value in entity.attrs.items():
                if attr not in holders:
                    values[attr], members[attr], holders[attr] = {}, {}, set()
                _file(uid, value, values[attr], members[attr])
                holders[attr].add(uid)
        for attr, found in holders.items():
            path = (attr,)
            self._values[path], self._members[path] = values[attr], members[attr]
            self._holders[path] = frozenset(found)

    def holders(self, path: tuple[str, ...]) -> frozenset[EntityUid]:
        """Entities whose attributes have the record path ``path``."""
        if path not in self._holders:
            self._build(path)
        return self._holders[path]

    def with_value(self, path: tuple[str, ...], keys: Iterable[Value], member: bool) -> set[EntityUid]:
        """Entities whose attribute at ``path`` equals (or, with ``member``, is a set
        containing) one of ``keys`` (set keys, see :func:`values.set_key`)."""
        if path not in self._values:
            self._build(path)
        table = self._members[path] if member else self._values[path]
        found: set[EntityUid] = set()
        for key in keys:
            found.update(table.get(key, ()))
        return found


_MISSING: Final = object()


def _file(
    uid: EntityUid, value: Value, values: dict[Value, set[EntityUid]], members: dict[Value, set[EntityUid]]
) -> None:
    """Index ``uid`` under its attribute value (and each element, for a set)."""
    key = set_key(value)
    found = values.get(key)
    if found is None:
        values[key] = {uid}
    else:
        found.add(uid)
    if type(value) is CedarSet:
        for element in value.keys:
            members.setdefault(element, set()).add(uid)


_INDEXES: weakref.WeakKeyDictionary[Entities, StoreIndex] = weakref.WeakKeyDictionary()


def store_index(entities: Entities) -> StoreIndex:
    """The (cached) index of ``entities`` for its current version."""
    index = _INDEXES.get(entities)
    if index is None or index.version != entities.version:
        index = _INDEXES[entities] = StoreIndex(entities)
    return index


# ---------------------------------------------------------------------------
# Candidate sets from a condition's shape


_SMALL: Final = 256
"""The bound of the first, cheap reading of a conjunction (see ``_Analysis.conjunction``)."""


class _TooMany(Exception):
    """A candidate set outgrew the analysis's bound."""


class _Target:
    """What the value at the end of an attribute path must be: one of ``keys``
    (``member``: a set containing one of them; ``entity_in``: an entity in one of them)."""

    __slots__ = ("keys", "member")

    def __init__(self, keys: set[Value], member: bool) -> None:
        self.keys = keys
        self.member = member


class ConditionReader:
    """Reads policy conditions with one request variable unknown (the queried one).

    Subexpressions that do not mention the unknown are evaluated now (the known
    principal, action, context and entity store); the rest is what a reader (the
    candidate analysis here, the SQL translation in ``cedarlang_sql``) interprets.
    """

    def __init__(self, unknown: str, interpreter: Interpreter) -> None:
        self.unknown = unknown
        self.interpreter = interpreter
        self._mentions: dict[int, bool] = {}

    def forget(self) -> None:
        """Drop the per-policy cache (it is keyed by node identity)."""
        self._mentions.clear()

    def mentions(self, e: Expr) -> bool:
        """Whether ``e`` reads the unknown variable."""
        cached = self._mentions.get(id(e))
        if cached is not None:
            return cached
        found = False
        stack: list[Expr] = [e]
        while stack:
            node = stack.pop()
            if type(node) is ast.Var and node.name == self.unknown:
                found = True
                break
            stack.extend(node.children())
        self._mentions[id(e)] = found
        return found

    def known(self, e: Expr) -> tuple[bool, Value]:
        """Evaluate an expression that does not mention the unknown: (ok, value)."""
        try:
            return True, self.interpreter.evaluate(e)
        except EvaluationError:
            return False, None

    def path(self, e: Expr) -> tuple[str, ...] | None:
        """``x.a.b`` → ``("a", "b")``; ``x`` → ``()``; ``None`` for anything else."""
        attrs: list[str] = []
        while type(e) is ast.GetAttr:
            attrs.append(e.attr)
            e = e.expr
        if type(e) is ast.Var and e.name == self.unknown:
            return tuple(reversed(attrs))
        return None


def reader_interpreter(
    unknown: str, entity_type: str, known: Mapping[str, EntityUid], context: Record, entities: Entities
) -> Interpreter:
    """An interpreter for the known parts (the unknown bound to a placeholder never read)."""
    variables = {**known, unknown: EntityUid(entity_type, "")}
    return Interpreter(variables["principal"], variables["action"], variables["resource"], context, entities)


class _Analysis(ConditionReader):
    """Reduces the conditions of policies to candidate sets for one unknown variable."""

    def __init__(self, unknown: str, interpreter: Interpreter, index: StoreIndex) -> None:
        super().__init__(unknown, interpreter)
        self.index = index

    # -- the shapes ---------------------------------------------------------------

    def candidates(self, e: Expr) -> Candidates:
        """A superset of the unknown's values for which ``e`` evaluates to ``true``."""
        if not self.mentions(e):
            ok, value = self.known(e)
            return ALL if ok and value is True else _NONE
        match e:
            case ast.And():
                return self.conjunction(ast.chain_operands(e))
            case ast.Or():
                result: Candidates = _NONE
                for operand in ast.chain_operands(e):
                    result = _join(result, self.candidates(operand))
                    if isinstance(result, _All):
                        break
                return result
            case ast.If():
                return _join(
                    _meet(self.candidates(e.cond), self.candidates(e.then)), self.candidates(e.else_)
                )
            case ast.Binary():
                return self._binary(e)
            case ast.Is():
                if type(e.expr) is ast.Var:
                    return ALL if e.entity_type == self.entity_type else _NONE
                return ALL
            case ast.GetAttr():  # `x.p` used as a condition: true exactly where x.p == true
                path = self.path(e)
                if path is None:
                    return ALL
                return self.through(path, _Target({set_key(True)}, member=False))
            case ast.Unary() if e.op is UnaryOp.NOT:  # `!x.p`: where x.p == false
                path = self.path(e.arg)
                if path is None or not path:
                    return ALL
                return self.through(path, _Target({set_key(False)}, member=False))
            case ast.HasAttr():
                path = self.path(e.expr)
                if path is None:
                    return ALL
                return self.through((*path, e.attr), None)
            case _:
                return ALL

    entity_type: str = ""
    bound: int | None = None
    """While set, a candidate set larger than this aborts (``_TooMany``) the operand."""

    def conjunction(self, operands: Iterable[Expr]) -> Candidates:
        """Candidates of ``a && b && ...``: any operand's set is a superset of the answer.

        First each operand is read with a small bound: if some operands have small sets,
        their intersection is the answer (large sets of the others are never built;
        the candidates are checked anyway). Otherwise every set is built and intersected.
        """
        operands = list(operands)
        if self.bound is None and len(operands) > 1:
            self.bound = _SMALL
            best: Candidates = ALL
            try:
                for operand in operands:
                    try:
                        best = _meet(best, self.candidates(operand))
                    except _TooMany:
                        continue
                    if not isinstance(best, _All) and not best:
                        break
            finally:
                self.bound = None
            if not isinstance(best, _All):
                return best
        result: Candidates = ALL
        for operand in operands:
            result = _meet(result, self.candidates(operand))
            if not isinstance(result, _All) and not result:
                break
        return result

    def _check_size(self, found: set[EntityUid] | frozenset[EntityUid]) -> None:
        if self.bound is not None and len(found) > self.bound:
            raise _TooMany

    def _binary(self, e: ast.Binary) -> Candidates:
        op = e.op
        left_path = self.path(e.left)
        if op is BinaryOp.EQ:
            if left_path is not None and not self.mentions(e.right):
                return self._equal(left_path, e.right)
            right_path = self.path(e.right)
            if right_path is not None and not self.mentions(e.left):
                return self._equal(right_path, e.left)
            return ALL
        if op is BinaryOp.IN:
            if left_path is not None and not self.mentions(e.right):
                ok, value = self.known(e.right)
                if not ok:
                    return _NONE
                targets = entity_targets(value)
                if targets is None:
                    return _NONE  # `in` on a non-entity right side is a type error
                within = self.index.within(targets)
                self._check_size(within)
                return self.through(left_path, _Target(within, member=False))
            right_path = self.path(e.right)
            if right_path is not None and not self.mentions(e.left):
                ok, value = self.known(e.left)
                if not ok or type(value) is not EntityUid:
                    return _NONE
                ancestry: set[Value] = set(self.index.ancestry(value))
                if not right_path:
                    return frozenset(ancestry)
                found = self.through(right_path, _Target(ancestry, member=False))
                return _join(found, self.through(right_path, _Target(ancestry, member=True)))
            return ALL
        if op in (BinaryOp.CONTAINS, BinaryOp.CONTAINS_ANY, BinaryOp.CONTAINS_ALL):
            if left_path is None or not left_path or self.mentions(e.right):
                return ALL
            ok, value = self.known(e.right)
            if not ok:
                return _NONE
            if op is BinaryOp.CONTAINS:
                return self.through(left_path, _Target({set_key(value)}, member=True))
            if type(value) is not CedarSet:
                return _NONE
            if op is BinaryOp.CONTAINS_ANY:
                return self.through(left_path, _Target(set(value.keys), member=True))
            result: Candidates = ALL
            for key in value.keys:
                result = _meet(result, self.through(left_path, _Target({key}, member=True)))
            return result
        return ALL

    def _equal(self, path: tuple[str, ...], other: Expr) -> Candidates:
        ok, value = self.known(other)
        if not ok:
            return _NONE
        return self.through(path, _Target({set_key(value)}, member=False))

    def through(self, path: tuple[str, ...], target: _Target | None) -> Candidates:
        """The entities ``x`` whose ``x.path`` meets ``target`` (``None``: merely exists).

        A path's prefix may lead into nested records of ``x`` or to another entity
        whose attributes continue the path; every split is looked up.
        """
        if not path:
            if target is None or target.member:
                return _NONE if target is not None else ALL
            return frozenset(uid for uid in target.keys if type(uid) is EntityUid)
        index = self.index
        found: set[EntityUid] = set()
        if target is None:
            found.update(index.holders(path))
        else:
            found.update(index.with_value(path, target.keys, target.member))
        self._check_size(found)
        for split in range(1, len(path)):
            rest = self.through(path[split:], target)
            if isinstance(rest, _All):
                found.update(index.holders(path[:split]))
            elif rest:
                found.update(index.with_value(path[:split], rest, member=False))
            self._check_size(found)
        return frozenset(found)


def entity_targets(value: Value) -> list[EntityUid] | None:
    if type(value) is EntityUid:
        return [value]
    if type(value) is CedarSet:
        items = list(value)
        if all(type(item) is EntityUid for item in items):
            return sorted(items)
    return None


# ---------------------------------------------------------------------------
# The queries


def policies_for(
    policies: PolicySet | Iterable[Policy], known: Mapping[str, EntityUid], entities: Entities
) -> list[Policy]:
    """The policies whose scope might match (the scope index, with the unknown role open)."""
    if not isinstance(policies, PolicySet):
        return list(policies)
    entries = policies.index().candidates(
        known.get("principal"), known.get("action"), known.get("resource"), entities
    )
    found = (policies.policy(policy_id) for policy_id, _, _ in entries)
    return [policy for policy in found if policy is not None]


def _enumerate(
    unknown: str,
    entity_type: str,
    known: Mapping[str, EntityUid],
    context: Record,
    policies: list[Policy],
    entities: Entities,
) -> tuple[Candidates, bool]:
    """The union of the permits' candidate sets, and whether it is already exact
    (a permit holds for every candidate and no forbid can hold for any)."""
    index = store_index(entities)
    interpreter = reader_interpreter(unknown, entity_type, known, context, entities)
    analysis = _Analysis(unknown, interpreter, index)
    analysis.entity_type = entity_type
    permitted: Candidates = _NONE
    certain = False
    forbids_possible = False
    for policy in policies:
        interpreter.slots = policy.slot_values
        parts = policy.condition_parts
        analysis.forget()
        try:
            result = analysis.conjunction(parts)
        except RecursionError:
            result = ALL  # too deep to read: every candidate is checked
        if not isinstance(result, _All) and not result:
            continue
        if not policy.is_permit:
            forbids_possible = True
            continue
        if isinstance(result, _All) and not any(analysis.mentions(part) for part in parts):
            certain = True  # holds whatever the unknown is (its known parts evaluated true)
        permitted = _join(permitted, result)
    return permitted, certain and not forbids_possible


def _answer(
    unknown: str,
    entity_type: str,
    known: Mapping[str, EntityUid],
    context: Record,
    policies: PolicySet | Iterable[Policy],
    entities: Entities,
    authorizer: Authorizer,
) -> list[EntityUid]:
    policy_list = policies_for(policies, known, entities)
    permitted, exact = _enumerate(unknown, entity_type, known, context, policy_list, entities)
    of_type = store_index(entities).of_type(entity_type)
    if isinstance(permitted, _All):
        candidates: Iterable[EntityUid] = of_type
    else:
        candidates = [uid for uid in permitted if uid in of_type]
    if exact:
        return sorted(candidates)
    decide = authorizer.decide_uids
    allowed = []
    for uid in sorted(candidates):
        variables = {**known, unknown: uid}
        if decide(
            variables["principal"], variables["action"], variables["resource"], context, policies, entities
        ):
            allowed.append(uid)
    return allowed


def prepare_query(
    unknown: str,
    entity_type: str,
    known: Mapping[str, EntityUid],
    context: Mapping[str, Any] | Record | str | bytes | None,
    schema: Schema | None,
) -> Record:
    """Check a query as ``Request`` checks a request (the queried type, the known parts and
    the context against the schema, if any) and return the context as a record."""
    if not isinstance(entity_type, str) or not is_entity_type_name(entity_type):
        raise RequestError(f"invalid {unknown} type `{entity_type}`")
    action = known["action"]
    if schema is not None:
        validate_request_scope(
            schema, known.get("principal", entity_type), action, known.get("resource", entity_type)
        )
    record = build_context(context, schema, action)
    if schema is not None:
        validate_context(schema, action, record)
    return record


def query_resources(
    principal: UidLike,
    action: UidLike,
    resource_type: str,
    policies: PolicySet | Iterable[Policy],
    entities: Entities,
    *,
    context: Mapping[str, Any] | Record | str | bytes | None = None,
    schema: Schema | None = None,
    authorizer: Authorizer | None = None,
) -> list[EntityUid]:
    """The entities of ``resource_type`` in ``entities`` that ``principal`` may ``action``."""
    known = {"principal": to_uid(principal, "principal"), "action": to_uid(action, "action")}
    c = prepare_query("resource", resource_type, known, context, schema)
    return _answer("resource", resource_type, known, c, policies, entities, authorizer or _AUTHORIZER)


def query_principals(
    action: UidLike,
    resource: UidLike,
    principal_type: str,
    policies: PolicySet | Iterable[Policy],
    entities: Entities,
    *,
    context: Mapping[str, Any] | Record | str | bytes | None = None,
    schema: Schema | None = None,
    authorizer: Authorizer | None = None,
) -> list[EntityUid]:
    """The entities of ``principal_type`` in ``entities`` that may ``action`` on ``resource``."""
    known = {"action": to_uid(action, "action"), "resource": to_uid(resource, "resource")}
    c = prepare_query("principal", principal_type, known, context, schema)
    return _answer("principal", principal_type, known, c, policies, entities, authorizer or _AUTHORIZER)


def query_actions(
    principal: UidLike,
    resource: UidLike,
    policies: PolicySet | Iterable[Policy],
    entities: Entities,
    *,
    context: Mapping[str, Any] | Record | str | bytes | None = None,
    schema: Schema | None = None,
    authorizer: Authorizer | None = None,
) -> list[EntityUid]:
    """The actions ``principal`` may take on ``resource``.

    Candidates: the actions the schema declares for the principal's and resource's
    types, or without a schema the action entities in ``entities`` and the actions the
    policies name. Candidates no permit's action scope can match are never authorized.
    """
    p, r = to_uid(principal, "principal"), to_uid(resource, "resource")
    policy_list = list(policies)
    actions = _schema_actions(schema, p, r) if schema is not None else _named_actions(policy_list, entities)
    decide = (authorizer or _AUTHORIZER).decide_uids
    index = store_index(entities)
    allowed: list[EntityUid] = []
    for action in sorted(actions):
        try:
            c = build_context(context, schema, action)
            if schema is not None:
                validate_context(schema, action, c)
        except RequestError:
            continue  # the context does not fit this action: no valid request exists
        if not _scope_may_permit(policy_list, action, index):
            continue
        if decide(p, action, r, c, policies, entities).allowed:
            allowed.append(action)
    return allowed


_AUTHORIZER: Final = Authorizer()


def _scope_may_permit(policies: list[Policy], action: EntityUid, index: StoreIndex) -> bool:
    """Whether some permit's action scope can match ``action`` (the scope index on actions)."""
    ancestry = index.ancestry(action)
    for policy in policies:
        if not policy.is_permit:
            continue
        constraint = policy.ast.action
        op = constraint.op
        if op is ast.ScopeOp.ALL:
            return True
        if op is ast.ScopeOp.IS or op is ast.ScopeOp.IS_IN:
            if constraint.entity_type != action[0]:
                continue
            if op is ast.ScopeOp.IS:
                return True
        target = constraint.entity
        targets = list(target) if isinstance(target, ast.EntityList) else [target]
        if op is ast.ScopeOp.EQ:
            if action in targets:
                return True
        elif any(t in ancestry for t in targets):
            return True
    return False


def _named_actions(policies: list[Policy], entities: Entities) -> set[EntityUid]:
    actions = {entity.uid for entity in entities if is_action_type(entity.uid[0])}
    for policy in policies:
        target = policy.ast.action.entity
        if isinstance(target, ast.EntityList):
            actions.update(target)
        elif isinstance(target, EntityUid):
            actions.add(target)
    return actions


def _schema_actions(schema: Schema, principal: EntityUid, resource: EntityUid) -> set[EntityUid]:
    """The declared actions that apply to the principal's and resource's types."""
    found: set[EntityUid] = set()
    for action, _ in schema.action_entities():
        try:
            validate_request_scope(schema, principal, action, resource)
        except RequestError:
            continue
        found.add(action)
    return found
