"""Partial evaluation: authorization with unknowns (Rust Cedar's ``partial-eval`` feature).

A :class:`PartialRequest` may leave the principal, action, resource or context unknown
(``None``); entity attributes may be unknown (``{"__extn": {"fn": "unknown", "arg": "name"}}``
in entity JSON); and in a *partial* entity store (``partial_entities=True``, what cedarpy
uses) an entity that is not in the store is unknown too. :func:`partially_authorize`
evaluates every policy as far as it can (a port of ``Evaluator::partial_interpret`` in
``cedar-policy-core/src/evaluator.rs`` and ``Authorizer::is_authorized_core`` in
``authorizer.rs``) and returns a :class:`PartialResponse` (``authorizer/partial_response.rs``):
the decision if one is already certain, and a residual policy for every policy.

Residuals are ordinary :mod:`cedarlang.ast` expressions, built as Rust builds its core AST
(``!=``, ``>`` and ``>=`` are written ``!(a == b)``, ``!(a <= b)`` and ``!(a < b)``). An
unknown is ``ast.ExtCall("unknown", (ast.Lit(name),))`` (an entity-typed unknown is a
:class:`TypedUnknown`, the same call with the type on the side); :func:`unknown_name`
reads the name. The request's unknowns are named ``principal``, ``action``, ``resource``
and ``context``; an unknown entity is named by its uid (``User::"alice"``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TypeAlias, assert_never, cast

from . import ast, est, ops
from ._limits import DEEP_FRAMES, recursion_headroom
from .ast import BinaryOp, Expr, UnaryOp
from .cedar_json import JsonValueError, UnknownInValue, is_unknown_json, value_from_json
from .errors import CedarError, EvaluationError, RequestError
from .evaluator import BINARY_OPS, MEMBER_TYPES, METHOD_OPS, UNARY_OPS, Member, is_member, receiver_of
from .extensions import FUNCTIONS, Datetime
from .policy import Policy, PolicySet
from .values import CedarSet, EntityUid, Record, Value, to_json

if TYPE_CHECKING:
    from .authorizer import AuthorizationError, Decision, UidLike
    from .entities import Entities, Entity
    from .schema import Schema
    from .schema.types import SchemaType

__all__ = [
    "PartialRequest",
    "PartialResponse",
    "ResidualPolicy",
    "TypedUnknown",
    "partial_evaluate",
    "partially_authorize",
    "unknown",
    "unknown_name",
    "unknown_type",
    "value_to_expr",
]

UNKNOWN: Final = "unknown"
"""The name of the extension call that stands for an unknown."""

PartialValue: TypeAlias = Any
"""A :data:`~cedarlang.values.Value` or a residual :data:`~cedarlang.ast.Expr` (values are
never :class:`ast.Node` instances, so ``isinstance(x, ast.Node)`` tells them apart)."""


# ---------------------------------------------------------------------------
# Unknowns


class TypedUnknown(ast.ExtCall):
    """An unknown known to be an entity of ``entity_type`` (Rust's ``Unknown::new_with_type``):
    ``unknown("name")`` with the type kept beside it (the JSON and text forms omit it)."""

    __slots__ = ("entity_type",)
    _labels = ("name", "entity_type")  # type: ignore[assignment]

    def __init__(self, name: str, entity_type: str, span: Any = None) -> None:
        super().__init__(UNKNOWN, (ast.Lit(name),), span)
        self.entity_type = entity_type

    def __repr__(self) -> str:
        return f"TypedUnknown({unknown_name(self)!r}, {self.entity_type!r})"


def unknown(name: str, entity_type: str | None = None) -> ast.ExtCall:
    """The residual expression for the unknown ``name`` (entity-typed if ``entity_type``)."""
    if entity_type is not None:
        return TypedUnknown(name, entity_type)
    return ast.ExtCall(UNKNOWN, (ast.Lit(name),))


def unknown_name(expr: Expr) -> str | None:
    """The name of the unknown ``expr`` is, or ``None`` if it is not an unknown."""
    if isinstance(expr, ast.ExtCall) and expr.name == UNKNOWN and len(expr.args) == 1:
        arg = expr.args[0]
        if type(arg) is ast.Lit and type(arg.value) is str:
            return arg.value
    return None


def unknown_type(expr: Expr) -> str | None:
    """The entity type of a typed unknown (``None`` for anything else)."""
    return expr.entity_type if type(expr) is TypedUnknown else None


def _copy_unknown(expr: ast.ExtCall) -> ast.ExtCall:
    name = unknown_name(expr)
    assert name is not None
    return unknown(name, unknown_type(expr))


# ---------------------------------------------------------------------------
# Values as expressions (Rust's `impl From<Value> for Expr`)


def _ext_expr(value: Value) -> Expr:
    if type(value) is Datetime:
        if value.source is not None:
            return ast.ExtCall("datetime", (ast.Lit(value.source),))
        epoch = ast.ExtCall("datetime", (ast.Lit("1970-01-01"),))
        return ast.ExtCall("offset", (epoch, ast.ExtCall("duration", (ast.Lit(f"{value.epoch}ms"),))))
    return ast.ExtCall(value.constructor, (ast.Lit(value.source),))


def value_to_expr(value: Value) -> Expr:
    """A value as an expression, as Rust converts it: sets in Rust's value order, records
    by key, extension values as the call that built them."""
    t = type(value)
    if t is bool or t is int or t is str or t is EntityUid:
        return ast.Lit(value)
    if t is CedarSet:
        items = sorted(value, key=ops.rust_order_key)
        return ast.SetLit(tuple(value_to_expr(v) for v in items))
    if t is Record:
        return ast.RecordLit(tuple((k, value_to_expr(value[k])) for k in sorted(value)))
    return _ext_expr(value)


def _as_expr(pv: PartialValue) -> Expr:
    return cast(Expr, pv) if isinstance(pv, ast.Node) else value_to_expr(pv)


def _is_residual(pv: PartialValue) -> bool:
    return isinstance(pv, ast.Node)


# ---------------------------------------------------------------------------
# Rebuilding expressions: fresh trees in Rust's core form


def _bool_lit(e: Expr) -> bool | None:
    return e.value if type(e) is ast.Lit and type(e.value) is bool else None


def and_(left: Expr, right: Expr) -> Expr:
    """Rust's ``Expr::and``: ``&&`` of two boolean literals is folded into one."""
    a, b = _bool_lit(left), _bool_lit(right)
    if a is not None and b is not None:
        return ast.Lit(a and b)
    return ast.And(left, right)


def or_(left: Expr, right: Expr) -> Expr:
    """Rust's ``Expr::or``: ``||`` of two boolean literals is folded into one."""
    a, b = _bool_lit(left), _bool_lit(right)
    if a is not None and b is not None:
        return ast.Lit(a or b)
    return ast.Or(left, right)


def _with_children(node: Expr, kids: list[Expr]) -> Expr:
    match node:
        case ast.Lit():
            return ast.Lit(node.value)
        case ast.Var():
            return ast.Var(node.name)
        case ast.Slot():
            return ast.Slot(node.name)
        case ast.If():
            return ast.If(kids[0], kids[1], kids[2])
        case ast.And():
            return and_(kids[0], kids[1])
        case ast.Or():
            return or_(kids[0], kids[1])
        case ast.Unary():
            return ast.Unary(node.op, kids[0])
        case ast.Binary():
            core = _CORE_FORM.get(node.op)
            if core is not None:
                return ast.Unary(UnaryOp.NOT, ast.Binary(core, kids[0], kids[1]))
            return ast.Binary(node.op, kids[0], kids[1])
        case ast.GetAttr():
            return ast.GetAttr(kids[0], node.attr)
        case ast.HasAttr():
            return ast.HasAttr(kids[0], node.attr)
        case ast.Like():
            return ast.Like(kids[0], node.pattern)
        case ast.Is():
            return ast.Is(kids[0], node.entity_type)
        case ast.SetLit():
            return ast.SetLit(tuple(kids))
        case ast.RecordLit():
            return ast.RecordLit(tuple(sorted(zip((k for k, _ in node.fields), kids, strict=True))))
        case ast.ExtCall():
            if type(node) is TypedUnknown:
                return _copy_unknown(node)
            return ast.ExtCall(node.name, tuple(kids))
        case _:
            assert_never(node)


_CORE_FORM: Final = {BinaryOp.NE: BinaryOp.EQ, BinaryOp.GT: BinaryOp.LE, BinaryOp.GE: BinaryOp.LT}
"""``a != b``, ``a > b``, ``a >= b`` are ``!(a == b)``, ``!(a <= b)``, ``!(a < b)`` in Rust's AST."""


def core_expr(expr: Expr) -> Expr:
    """A fresh copy of ``expr`` (no node shared) in Rust's core form (iterative, any depth)."""
    done: list[Expr] = []
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    while stack:
        node, expanded = stack.pop()
        children = node.children()
        if expanded or not children:
            count = len(children)
            kids = done[len(done) - count :] if count else []
            if count:
                del done[len(done) - count :]
            done.append(_with_children(node, kids))
        else:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(children))
    return done[0]


# ---------------------------------------------------------------------------
# Unknown attributes in entity data


class ResidualAttrs(Record):
    """An entity's attributes when some are unknown (residual expressions). Reading such an
    attribute outside partial evaluation is an error, as in Rust, where the policy's
    residual makes its evaluation fail."""

    __slots__ = ()

    def __getitem__(self, key: str) -> Value:
        value = dict.__getitem__(self, key)
        if isinstance(value, ast.Node):
            residual = cast(Expr, value)
            raise EvaluationError(
                "NonValue", f"the expression contains unknown(s): `{est.expr_text(core_expr(residual))}`"
            )
        return value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record) or len(self) != len(other):
            return False
        return all(k in other and _same(v, dict.__getitem__(other, k)) for k, v in dict.items(self))

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = Record.__hash__

    def to_json(self) -> dict[str, Any]:
        """The attributes in entity JSON, unknowns as ``{"__extn": {"fn": "unknown", ...}}``."""
        return {k: residual_to_json(v) for k, v in dict.items(self)}


def _same(a: PartialValue, b: PartialValue) -> bool:
    if isinstance(a, ast.Node) or isinstance(b, ast.Node):
        return bool(a == b)
    return bool(type(a) is type(b) and a == b)


def residual_to_json(value: PartialValue) -> Any:
    """A value or a residual made of values and unknowns (an entity attribute) in Cedar JSON."""
    if not isinstance(value, ast.Node):
        return to_json(value)
    name = unknown_name(cast(Expr, value))
    if name is not None:
        return {"__extn": {"fn": UNKNOWN, "arg": name}}
    if isinstance(value, ast.SetLit):
        return [residual_to_json(_literal(item)) for item in value.items]
    if isinstance(value, ast.RecordLit):
        return {k: residual_to_json(_literal(item)) for k, item in value.fields}
    raise CedarError(f"not a value: {est.expr_text(cast(Expr, value))}")


def _literal(expr: Expr) -> PartialValue:
    """An expression of literals back to a value (residuals stay residuals)."""
    if type(expr) is ast.Lit:
        return expr.value
    if isinstance(expr, ast.ExtCall) and unknown_name(expr) is None:
        return ops.call_extension(expr.name, [_literal(arg) for arg in expr.args])
    if isinstance(expr, (ast.SetLit, ast.RecordLit)) and not any(
        unknown_name(node) is not None for node in ast.walk(expr)
    ):
        if isinstance(expr, ast.SetLit):
            return CedarSet(_literal(item) for item in expr.items)
        return Record((k, _literal(v)) for k, v in expr.fields)
    return expr


def residual_from_json(data: Any, expected: SchemaType | None = None, where: str = "value") -> PartialValue:
    """Decode a JSON value that may contain ``{"__extn": {"fn": "unknown", "arg": name}}``:
    a value, or the residual expression Rust's restricted evaluator makes of it."""
    from .schema.types import RecordType, SetType

    try:
        return value_from_json(data, expected, where)
    except UnknownInValue:
        pass
    if is_unknown_json(data):
        name = data["__extn"].get("arg")
        if type(name) is not str:
            raise JsonValueError(f"in {where}: `unknown` needs a string argument (the unknown's name)")
        return unknown(name)
    if type(data) is list:
        element = expected.element if isinstance(expected, SetType) else None
        items = [residual_from_json(v, element, where) for v in data]
        return ast.SetLit(tuple(_as_expr(item) for item in items))
    if type(data) is not dict or "__extn" in data or "__entity" in data:
        raise JsonValueError(f"in {where}: an unknown may not be an extension function's argument")
    shape = expected.attributes if isinstance(expected, RecordType) else {}
    fields = {
        k: residual_from_json(v, shape[k].type if k in shape else None, f"{where}.{k}")
        for k, v in data.items()
    }
    return ast.RecordLit(tuple((k, _as_expr(fields[k])) for k in sorted(fields)))


def residual_attrs(
    data: Mapping[str, Any], shape: Mapping[str, SchemaType | None] | None = None
) -> ResidualAttrs:
    """An entity's attributes from JSON where some are unknown."""
    shape = shape or {}
    return ResidualAttrs(
        (k, residual_from_json(v, shape.get(k), f"attribute `{k}`")) for k, v in data.items()
    )


# ---------------------------------------------------------------------------
# Requests


class PartialRequest:
    """A request whose principal, action, resource and context may be unknown (``None``).

    Uids are accepted in every form :class:`~cedarlang.Request` accepts. ``principal_type``
    and ``resource_type`` make an unknown principal or resource an entity of that type
    (Rust's ``unknown_principal_with_type``). With a ``schema``, what is known is validated
    as Rust's ``RequestBuilder::schema(..).build()`` does (a :class:`RequestError` if not).
    """

    __slots__ = ("action", "context", "principal", "principal_type", "resource", "resource_type")

    def __init__(
        self,
        principal: UidLike | None = None,
        action: UidLike | None = None,
        resource: UidLike | None = None,
        context: Mapping[str, Any] | Record | str | bytes | None = None,
        schema: Schema | None = None,
        *,
        principal_type: str | None = None,
        resource_type: str | None = None,
    ) -> None:
        from .authorizer import to_uid

        self.principal = None if principal is None else to_uid(principal, "principal")
        self.action = None if action is None else to_uid(action, "action")
        self.resource = None if resource is None else to_uid(resource, "resource")
        for role, known, typ in (
            ("principal", self.principal, principal_type),
            ("resource", self.resource, resource_type),
        ):
            if typ is not None and known is not None:
                raise RequestError(f"the {role} is known, so it cannot also be given a type")
        self.principal_type = principal_type
        self.resource_type = resource_type
        self.context: Record | Expr | None = None
        if context is not None:
            self.context = _partial_context(context, schema, self.action)
        if schema is not None:
            _validate(schema, self)

    def __repr__(self) -> str:
        def show(v: object) -> str:
            return "?" if v is None else str(v)

        ctx = self.context
        context = "?" if ctx is None else repr(dict(ctx)) if isinstance(ctx, Record) else est.expr_text(ctx)
        return (
            f"PartialRequest(principal={show(self.principal)}, action={show(self.action)}, "
            f"resource={show(self.resource)}, context={context})"
        )

    def variable(self, name: str) -> PartialValue:
        """The value of ``principal``/``action``/``resource``/``context``, or its unknown."""
        if name == "context":
            ctx = self.context
            if ctx is None:
                return unknown("context")
            return ctx if isinstance(ctx, Record) else core_expr(ctx)
        value = getattr(self, name)
        if value is not None:
            return value
        return unknown(name, getattr(self, f"{name}_type", None))


def _partial_context(context: Any, schema: Schema | None, action: EntityUid | None) -> Record | Expr:
    """The context as :class:`~cedarlang.Request` reads it, or, if it holds unknowns
    (``{"__extn": {"fn": "unknown", ...}}``), the residual record Rust makes of it."""
    from .authorizer import build_context
    from .cedar_json import load_json_text

    try:
        return build_context(
            context, schema if action is not None else None, action or EntityUid("Action", "")
        )
    except RequestError as original:
        data = context
        if isinstance(context, (str, bytes)):
            try:
                data = load_json_text(context, "context", unique_keys=False)
            except JsonValueError:
                raise original from None
        if isinstance(data, Mapping):
            expected = schema.context_type(action) if schema is not None and action is not None else None
            try:
                residual = residual_from_json(dict(data), expected, "context")
            except JsonValueError as err:
                raise RequestError(str(err)) from None
            if isinstance(residual, ast.Node):
                return cast(Expr, residual)
        raise original from None


def _validate(schema: Schema, request: PartialRequest) -> None:
    """Rust's ``ValidatorSchema::validate_request`` for a request with unknowns."""
    from .conformance import enum_problem, validate_context

    for role, uid in (("principal", request.principal), ("resource", request.resource)):
        if uid is None:
            continue
        if schema.entity_type(uid.type) is None:
            raise RequestError(f"{role} type `{uid.type}` is not declared in the schema")
        problem = enum_problem(uid, schema)
        if problem:
            raise RequestError(f"{role}: {problem}")
    action = request.action
    if action is None:
        return
    decl = schema.action(action)
    if decl is None:
        raise RequestError(f"request's action `{action}` is not declared in the schema")
    for role, uid, allowed in (
        ("principal", request.principal, decl.principal_types),
        ("resource", request.resource, decl.resource_types),
    ):
        if uid is not None and uid.type not in allowed:
            raise RequestError(
                f"{role} type `{uid.type}` is not valid for `{action}`"
                + (f": it applies to {', '.join(f'`{t}`' for t in allowed)}" if allowed else "")
            )
    context = request.context
    if isinstance(context, Record):
        validate_context(schema, action, context)
    elif context is not None:
        # Rust's `typecheck_partial_value`: a residual does not typecheck (TODO(#437) there)
        raise RequestError(
            f"context `{est.expr_text(context)}` is not valid for `{action}`: "
            "a context with unknowns does not typecheck against the schema"
        )


# ---------------------------------------------------------------------------
# The partial evaluator (Rust's `Evaluator::partial_interpret`)

_MISSING: Final = object()


def _projectable(expr: Expr) -> bool:
    """Rust's ``Expr::is_projectable``: only literals, unknowns, sets, variables and records."""
    return all(
        isinstance(e, (ast.Lit, ast.SetLit, ast.Var, ast.RecordLit)) or unknown_name(e) is not None
        for e in ast.walk(expr)
    )


class _Evaluator:
    def __init__(
        self,
        request: PartialRequest,
        entities: ops.EntityStore,
        partial_entities: bool,
        slots: Mapping[str, EntityUid],
        bindings: Mapping[str, Value] | None = None,
    ) -> None:
        self.vars: dict[str, PartialValue] = {
            name: request.variable(name) for name in ("principal", "action", "resource", "context")
        }
        self.entities = entities
        self.partial_entities = partial_entities
        self.slots = slots
        self.bindings = bindings or {}

    # -- helpers ------------------------------------------------------------------

    def deref(self, uid: EntityUid) -> Entity | Expr | None:
        """Rust's ``Entities::entity``: the entity, ``None``, or (partial store) its unknown."""
        entity = self.entities.get(uid)
        if entity is None and self.partial_entities:
            return TypedUnknown(str(uid), uid.type)
        return entity  # type: ignore[return-value]

    def unknown_value(self, expr: ast.ExtCall) -> PartialValue:
        """Rust's ``unknown_to_partialvalue``: a bound unknown's value, else the unknown."""
        name = unknown_name(expr)
        assert name is not None
        if name not in self.bindings:
            return _copy_unknown(expr)
        value = self.bindings[name]
        entity_type = unknown_type(expr)
        if entity_type is not None and (type(value) is not EntityUid or value.type != entity_type):
            raise ops.type_error(f"(entity of type `{entity_type}`)", value)
        return value

    def residual_or_original(self, expr: Expr) -> Expr:
        """Best effort: ``expr`` evaluated as far as possible, or as it was if it errors."""
        try:
            return _as_expr(self.eval(expr))
        except EvaluationError:
            return core_expr(expr)

    # -- expressions --------------------------------------------------------------

    def eval(self, expr: Expr) -> PartialValue:
        match expr:
            case ast.Lit():
                return expr.value
            case ast.Var():
                value = self.vars[expr.name]
                return _copy_unknown(value) if isinstance(value, ast.ExtCall) else value
            case ast.Slot():
                try:
                    return self.slots[expr.name]
                except KeyError:
                    raise EvaluationError(
                        "UnlinkedSlot", f"template slot `{expr.name}` was not linked"
                    ) from None
            case ast.If():
                return self.eval_if(expr)
            case ast.And() | ast.Or():
                return self.eval_chain(expr)
            case ast.Binary():
                if expr.op in METHOD_OPS:
                    return self.member_chain(expr)
                return self.binary_chain(expr)
            case ast.Unary() | ast.GetAttr() | ast.HasAttr() | ast.Like() | ast.Is():
                return self.member_chain(expr)
            case ast.ExtCall():
                if unknown_name(expr) is not None:
                    return self.unknown_value(expr)
                function = FUNCTIONS.get(expr.name)
                if function is not None and function.is_method and expr.args:
                    return self.member_chain(expr)
                return self.call(expr.name, [self.eval(arg) for arg in expr.args])
            case ast.SetLit():
                items = [self.eval(item) for item in expr.items]
                if any(_is_residual(item) for item in items):
                    return ast.SetLit(tuple(_as_expr(item) for item in items))
                return CedarSet(items)
            case ast.RecordLit():
                # in key order, as Rust's record literals (a `BTreeMap`) are evaluated
                fields = [(key, self.eval(value)) for key, value in sorted(expr.fields, key=_key)]
                if any(_is_residual(v) for _, v in fields):
                    return ast.RecordLit(tuple(sorted((k, _as_expr(v)) for k, v in fields)))
                return Record(fields)
            case _:
                assert_never(expr)

    def eval_if(self, e: ast.If) -> PartialValue:
        guard = self.eval(e.cond)
        if not _is_residual(guard):
            return self.eval(e.then if ops.expect_bool(guard) else e.else_)
        return ast.If(guard, self.residual_or_original(e.then), self.residual_or_original(e.else_))

    def eval_chain(self, e: ast.And | ast.Or) -> PartialValue:
        """``a && b && c`` (or ``||``), left to right in a loop; Rust's rules at each step."""
        is_and = type(e) is ast.And
        operands = ast.chain_operands(e)
        state = self.eval(operands[0])
        for right in operands[1:]:
            if _is_residual(state):
                right_expr = self.residual_or_original(right)
                state = ast.And(state, right_expr) if is_and else ast.Or(state, right_expr)
            elif ops.expect_bool(state) is is_and:  # true && r, false || r
                value = self.eval(right)
                if _is_residual(value):
                    state = ast.And(ast.Lit(True), value) if is_and else ast.Or(ast.Lit(False), value)
                else:
                    state = ops.expect_bool(value)
            else:  # false && r, true || r: short circuit
                state = not is_and
        return state

    def binary_chain(self, e: ast.Binary) -> PartialValue:
        """A left-nested chain of binary operators (``a + b - c ...``) in a loop."""
        spine: list[ast.Binary] = []
        node: Expr = e
        while type(node) is ast.Binary and node.op not in METHOD_OPS:
            spine.append(node)
            node = node.left
        value = self.eval(node)
        for step in reversed(spine):
            value = self.binary(step.op, value, self.eval(step.right))
        return value

    def member_chain(self, e: Member) -> PartialValue:
        spine: list[Member] = [e]
        node = receiver_of(e)
        while isinstance(node, MEMBER_TYPES) and is_member(node):
            spine.append(node)
            node = receiver_of(node)
        value = self.eval(node)
        for step in reversed(spine):
            value = self.member_step(step, value)
        return value

    def member_step(self, e: Member, receiver: PartialValue) -> PartialValue:
        match e:
            case ast.GetAttr():
                return self.get_attr(receiver, e.attr)
            case ast.HasAttr():
                return self.has_attr(receiver, e.attr)
            case ast.Like():
                if _is_residual(receiver):
                    return ast.Like(receiver, e.pattern)
                return ops.like(receiver, e.pattern)
            case ast.Is():
                if _is_residual(receiver):
                    typed = unknown_type(receiver)
                    if typed is not None:
                        return typed == e.entity_type
                    return ast.Is(receiver, e.entity_type)
                return ops.is_type(receiver, e.entity_type)
            case ast.Unary():
                if _is_residual(receiver):
                    return ast.Unary(e.op, receiver)
                return UNARY_OPS[e.op](receiver)
            case ast.Binary():
                return self.binary(e.op, receiver, self.eval(e.right))
            case ast.ExtCall():
                return self.call(e.name, [receiver, *(self.eval(arg) for arg in e.args[1:])])
            case _:
                assert_never(e)

    def call(self, name: str, args: list[PartialValue]) -> PartialValue:
        if any(_is_residual(arg) for arg in args):
            return ast.ExtCall(name, tuple(_as_expr(arg) for arg in args))
        return ops.call_extension(name, args)

    def get_attr(self, receiver: PartialValue, attr: str) -> PartialValue:
        if _is_residual(receiver):
            if type(receiver) is ast.RecordLit:
                fields = dict(receiver.fields)
                if _projectable(receiver):
                    if attr not in fields:
                        ops.get_attr(self.entities, Record(), attr)  # raises Rust's error
                    return self.eval(fields[attr])
                if attr in fields:
                    return ast.GetAttr(receiver, attr)
                ops.get_attr(self.entities, Record(), attr)
            return ast.GetAttr(receiver, attr)
        if type(receiver) is EntityUid:
            entity = self.deref(receiver)
            if isinstance(entity, ast.Node):
                return ast.GetAttr(entity, attr)
            if entity is not None:
                value = dict.get(entity.attrs, attr, _MISSING)
                if value is not _MISSING:
                    if isinstance(value, ast.Node):
                        residual = cast(Expr, value)
                        if isinstance(residual, ast.ExtCall) and unknown_name(residual) is not None:
                            return self.unknown_value(residual)
                        return residual
                    return value
        return ops.get_attr(self.entities, receiver, attr)

    def has_attr(self, receiver: PartialValue, attr: str) -> PartialValue:
        if _is_residual(receiver):
            if type(receiver) is ast.RecordLit and _projectable(receiver):
                return any(key == attr for key, _ in receiver.fields)
            return ast.HasAttr(receiver, attr)
        if type(receiver) is EntityUid:
            entity = self.deref(receiver)
            if isinstance(entity, ast.Node):
                return ast.HasAttr(entity, attr)
        return ops.has_attr(self.entities, receiver, attr)

    def binary(self, op: BinaryOp, left: PartialValue, right: PartialValue) -> PartialValue:
        core = _CORE_FORM.get(op)
        if core is not None:
            result = self.binary(core, left, right)
            return ast.Unary(UnaryOp.NOT, result) if _is_residual(result) else not result
        left_residual, right_residual = _is_residual(left), _is_residual(right)
        if left_residual or right_residual:
            if op is BinaryOp.EQ and _different_entity_types(left, right):
                return False
            return ast.Binary(op, _as_expr(left), _as_expr(right))
        if op is BinaryOp.IN:
            if type(left) is EntityUid:
                entity = self.deref(left)
                if isinstance(entity, ast.Node):
                    return ast.Binary(BinaryOp.IN, entity, value_to_expr(right))
            return ops.in_(self.entities, left, right)
        if op is BinaryOp.GET_TAG or op is BinaryOp.HAS_TAG:
            uid = ops.expect_entity(left)
            tag = ops.expect_string(right)
            entity = self.deref(uid)
            if isinstance(entity, ast.Node):
                return ast.Binary(op, entity, ast.Lit(tag))
            if op is BinaryOp.GET_TAG:
                if entity is not None:
                    value = dict.get(entity.tags, tag, _MISSING)
                    if isinstance(value, ast.Node):  # an unknown tag, as it is (Rust's `get_tag`)
                        return value
                return ops.get_tag(self.entities, uid, tag)
            return ops.has_tag(self.entities, uid, tag)
        return BINARY_OPS[op](left, right)


def _key(field: tuple[str, Expr]) -> str:
    return field[0]


def _different_entity_types(left: PartialValue, right: PartialValue) -> bool:
    """Rust's ``short_circuit_*``: ``==`` between an entity-typed unknown and an entity (or
    another typed unknown) of a different type is false."""
    types = []
    for side in (left, right):
        if _is_residual(side):
            typed = unknown_type(side)
            if typed is None:
                return False
            types.append(typed)
        elif type(side) is EntityUid:
            types.append(side.type)
        else:
            return False
    return types[0] != types[1]


# ---------------------------------------------------------------------------
# One policy


_CONDITIONS: dict[int, tuple[ast.PolicyAst, Expr]] = {}
"""``policy_condition`` by policy AST (template links share their template's AST):
kept with the AST itself, so an id is never reused while its entry lives."""
_CONDITIONS_MAX: Final = 4096


def policy_condition(policy: Policy) -> Expr:
    """Rust's ``Policy::condition()``: ``principal && (action && (resource && conditions))``,
    an unconstrained scope being ``true`` and the conditions a right fold of ``&&``
    (``unless`` bodies negated). Template slots stay slots (filled in by evaluation).
    Built once per policy AST (the expression is immutable, so it is shared)."""
    policy_ast = policy.ast
    cached = _CONDITIONS.get(id(policy_ast))
    if cached is not None and cached[0] is policy_ast:
        return cached[1]
    condition = _build_condition(policy_ast)
    if len(_CONDITIONS) >= _CONDITIONS_MAX:
        _CONDITIONS.clear()
    _CONDITIONS[id(policy_ast)] = (policy_ast, condition)
    return condition


def _build_condition(policy_ast: ast.PolicyAst) -> Expr:
    action = policy_ast.action
    if action.op is ast.ScopeOp.IN and isinstance(action.entity, EntityUid):
        # Rust's `ActionConstraint::In` holds a list: `action in A` is `action in [A]`
        action = ast.ScopeConstraint(ast.ScopeOp.IN, ast.EntityList((action.entity,)), span=action.span)
    scope = [
        ast.scope_expr(var, constraint, {}) or ast.Lit(True)
        for var, constraint in (
            ("principal", policy_ast.principal),
            ("action", action),
            ("resource", policy_ast.resource),
        )
    ]
    conditions = [
        c.body if c.is_when else ast.Unary(UnaryOp.NOT, c.body, c.span) for c in policy_ast.conditions
    ]
    body: Expr = conditions[-1] if conditions else ast.Lit(True)
    for cond in reversed(conditions[:-1]):
        body = and_(cond, body)
    return and_(scope[0], and_(scope[1], and_(scope[2], body)))


def _evaluate(policy: Policy, evaluator: _Evaluator) -> bool | Expr:
    condition = policy_condition(policy)
    with recursion_headroom(DEEP_FRAMES):
        try:
            result = evaluator.eval(condition)
        except RecursionError:
            raise EvaluationError("RecursionLimit", "recursion limit reached") from None
        if _is_residual(result):
            return core_expr(result)
    return ops.expect_bool(result)


def partial_evaluate(
    policy: Policy, request: PartialRequest, entities: Entities, *, partial_entities: bool = True
) -> bool | Expr:
    """Evaluate one policy's condition as far as the request and entities allow: ``True`` or
    ``False`` if it is certain, else the residual expression. Raises
    :class:`~cedarlang.errors.EvaluationError` if the policy errors whatever the unknowns are."""
    evaluator = _Evaluator(request, entities, partial_entities, policy.slot_values)
    return _evaluate(policy, evaluator)


# ---------------------------------------------------------------------------
# Residual policies and the response


class ResidualPolicy(Policy):
    """What is left of a policy: its effect and annotations, an unconstrained scope and one
    ``when`` clause, the residual (``true`` for a satisfied policy, ``false`` for one that is
    not satisfied or errored). ``str()`` is Rust's ``Display``; :meth:`to_json` its EST."""

    __slots__ = ("residual",)

    def __init__(self, original: Policy, residual: Expr) -> None:
        policy_ast = ast.PolicyAst(
            effect=original.ast.effect,
            principal=ast.ScopeConstraint(),
            action=ast.ScopeConstraint(),
            resource=ast.ScopeConstraint(),
            conditions=(ast.Condition(True, residual),),
            # (Rust's AST keeps `@key` as the value "", which its JSON writes as "")
            annotations=original.ast.annotations,
        )
        super().__init__(policy_ast, original.id)
        self.residual = residual

    def __str__(self) -> str:
        return est.policy_to_cedar(self.ast)

    def __repr__(self) -> str:
        return f"ResidualPolicy({self.id!r}, {str(self)!r})"

    def to_json(self) -> dict[str, Any]:
        """The residual policy in Cedar's JSON policy format (what cedarpy returns)."""
        return est.policy_to_json(self.ast)


@dataclass
class PartialResponse:
    """The outcome of :func:`partially_authorize` (Rust's ``PartialResponse``).

    Policy ids by outcome: ``satisfied`` (certainly true), ``false_policies`` (certainly
    false, including those that errored), ``errored`` (the errors), and the residuals of
    those still undecided in ``nontrivial_residuals``. ``residuals`` maps every policy id
    to its :class:`ResidualPolicy`.
    """

    satisfied_permits: list[str]
    satisfied_forbids: list[str]
    false_permits: list[str]
    false_forbids: list[str]
    residual_permits: dict[str, Expr]
    residual_forbids: dict[str, Expr]
    errored: list[AuthorizationError]
    policies: dict[str, Policy] = field(repr=False)
    request: PartialRequest = field(repr=False)
    entities: Entities = field(repr=False)
    partial_entities: bool = True

    @property
    def decision(self) -> Decision | None:
        """Allow or Deny if the unknowns cannot change it, else ``None``."""
        from .authorizer import Decision

        if self.satisfied_forbids:
            return Decision.DENY
        if not self.satisfied_permits and not self.residual_permits:
            return Decision.DENY
        if self.residual_forbids:
            return None
        if not self.satisfied_permits:
            return None
        return Decision.ALLOW

    @property
    def satisfied(self) -> list[str]:
        return self.satisfied_permits + self.satisfied_forbids

    @property
    def false_policies(self) -> list[str]:
        return self.false_permits + self.false_forbids

    @property
    def nontrivial_residuals(self) -> list[str]:
        return [*self.residual_permits, *self.residual_forbids]

    @property
    def may_be_determining(self) -> list[str]:
        if not self.satisfied_forbids:
            return [*self.satisfied_permits, *self.residual_permits, *self.residual_forbids]
        return [*self.satisfied_forbids, *self.residual_forbids]

    @property
    def must_be_determining(self) -> list[str]:
        if not self.satisfied_forbids and not self.residual_forbids:
            return list(self.satisfied_permits)
        return list(self.satisfied_forbids)

    def _residual_exprs(self) -> Iterator[tuple[str, Expr]]:
        for ids, value in ((self.satisfied_permits, True), (self.false_permits, False)):
            yield from ((pid, ast.Lit(value)) for pid in ids)
        yield from self.residual_permits.items()
        for ids, value in ((self.satisfied_forbids, True), (self.false_forbids, False)):
            yield from ((pid, ast.Lit(value)) for pid in ids)
        yield from self.residual_forbids.items()

    @property
    def residuals(self) -> dict[str, ResidualPolicy]:
        """Every policy's residual (Rust's ``all_residuals``)."""
        return {pid: ResidualPolicy(self.policies[pid], expr) for pid, expr in self._residual_exprs()}

    @property
    def unknown_entities(self) -> set[EntityUid]:
        """The entities whose unknowns appear in the residuals (typed unknowns named by a uid)."""
        from .parser import parse_entity_uid

        found: set[EntityUid] = set()
        for expr in [*self.residual_permits.values(), *self.residual_forbids.values()]:
            for node in ast.walk(expr):
                name = unknown_name(node)
                if name is not None and unknown_type(node) is not None:
                    with contextlib.suppress(CedarError):
                        found.add(parse_entity_uid(name))
        return found

    def reauthorize(self, bindings: Mapping[str, Any], entities: Entities | None = None) -> PartialResponse:
        """Bind unknowns by name (values, uids, or Cedar JSON values) and evaluate the
        residuals again (Rust's ``PartialResponse::reauthorize``)."""
        values = {name: _binding_value(name, value) for name, value in bindings.items()}
        request = _concretize(self.request, values)
        store = self.entities if entities is None else entities
        residual_policies = self.residuals
        evaluator = _Evaluator(request, store, self.partial_entities, {}, values)
        return _authorize(residual_policies.values(), evaluator, request, store, self.partial_entities)


def _binding_value(name: str, value: Any) -> Value:
    from .authorizer import to_uid

    if name in ("principal", "action", "resource") and isinstance(value, (str, Mapping)):
        return to_uid(value, name)
    if type(value) in (bool, int, EntityUid, CedarSet, Record) or hasattr(value, "cedar_type"):
        return value
    if type(value) is str:
        return value
    try:
        return value_from_json(value, None, f"binding `{name}`")
    except JsonValueError as err:
        raise RequestError(str(err)) from None


def _concretize(request: PartialRequest, values: Mapping[str, Value]) -> PartialRequest:
    """Rust's ``concretize_request``: unknown request variables bound by name."""
    new = PartialRequest.__new__(PartialRequest)
    for role in ("principal", "action", "resource"):
        known = getattr(request, role)
        typ = getattr(request, f"{role}_type", None)
        setattr(new, role, known)
        if role != "action":
            setattr(new, f"{role}_type", typ)
        if role not in values:
            continue
        value = values[role]
        if type(value) is not EntityUid:
            raise RequestError(f"cannot bind `{role}`: expected an entity, got {value!r}")
        if known is not None:
            raise RequestError(f"cannot bind `{role}`: the request already has `{known}`")
        if typ is not None and value.type != typ:
            raise RequestError(f"cannot bind `{role}`: expected an entity of type `{typ}`, got `{value}`")
        setattr(new, role, value)
        if role != "action":
            setattr(new, f"{role}_type", None)
    new.context = request.context
    if isinstance(request.context, ast.Node):  # Rust's `Context::substitute`
        new.context = _Evaluator(request, {}, False, {}, values).eval(request.context)
    if "context" in values:
        value = values["context"]
        if type(value) is not Record:
            raise RequestError(f"cannot bind `context`: expected a record, got {value!r}")
        if request.context is not None:
            raise RequestError("cannot bind `context`: the request already has a context")
        new.context = value
    return new


def _authorize(
    policies: Iterable[Policy],
    evaluator: _Evaluator,
    request: PartialRequest,
    entities: Entities,
    partial_entities: bool,
) -> PartialResponse:
    from .authorizer import AuthorizationError

    response = PartialResponse([], [], [], [], {}, {}, [], {}, request, entities, partial_entities)
    for policy in policies:
        response.policies[policy.id] = policy
        evaluator.slots = policy.slot_values
        try:
            result = _evaluate(policy, evaluator)
        except EvaluationError as err:
            response.errored.append(AuthorizationError(policy.id, err.message, err.kind))
            result = False
        if result is True:
            (response.satisfied_permits if policy.is_permit else response.satisfied_forbids).append(policy.id)
        elif result is False:
            (response.false_permits if policy.is_permit else response.false_forbids).append(policy.id)
        else:
            assert isinstance(result, ast.Node)
            target = response.residual_permits if policy.is_permit else response.residual_forbids
            target[policy.id] = result
    return response


def partially_authorize(
    request: PartialRequest,
    policies: PolicySet | Iterable[Policy],
    entities: Entities,
    *,
    partial_entities: bool = True,
) -> PartialResponse:
    """Authorize a request with unknowns (Rust's ``Authorizer::is_authorized_partial``).

    With ``partial_entities`` (the default, as cedarpy), an entity missing from ``entities``
    is unknown (Rust's ``Entities::partial()``); otherwise it does not exist.
    """
    evaluator = _Evaluator(request, entities, partial_entities, {})
    return _authorize(policies, evaluator, request, entities, partial_entities)
