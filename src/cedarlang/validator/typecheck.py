"""The typechecker (a port of Rust's ``validator/typecheck.rs``), strict or permissive.

A policy is typechecked once per request environment. Each check of an expression returns
an *answer* ``(ok, type, capability)``:

* ``ok`` is false when typechecking failed (an error was reported, possibly by another pass);
* ``type`` is the (recovery) type, or ``None`` when none could be computed;
* ``capability`` is the set of attributes / tags known to exist when the expression is true
  (always empty for failed answers, as in Rust).

Like Rust, sub-expressions are still checked after a failure (so that every error is
reported), except where the singleton types ``True`` / ``False`` short-circuit ``&&``,
``||`` and ``if``.

Permissive mode (Rust's ``ValidationMode::Permissive``) differs from strict mode exactly where
Rust tests ``mode.is_strict()``: least upper bounds and subtyping use the permissive rules
(different entity types join into a union, records join on their common attributes), the
operands of ``==``, ``contains``, ``containsAll`` and ``containsAny`` need no common type,
empty set literals are allowed (``Set<Never>``), and extension constructors may be called with
non-literal arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final, assert_never

from .. import ast
from ..ast import BinaryOp, Expr, UnaryOp
from ..errors import ExtensionError
from ..extensions import FUNCTIONS, ORDERED_TYPE_NAMES
from ..schema.resolve import uid_str
from ..source import Source, Span
from ..values import EntityUid
from .diagnostics import ValidationDiagnostic, fuzzy_search, make
from .schema_info import RequestEnv, SchemaInfo, is_action_type
from .types import (
    ANY_ENTITY,
    ANY_RECORD,
    ANY_SET,
    BOOL,
    FALSE,
    LONG,
    NEVER,
    STRING,
    TRUE,
    AnyEntityType,
    AttrType,
    EntityType,
    ExtType,
    LongType,
    LubError,
    RecordType,
    SetType,
    StringType,
    Type,
    attributes_lub,
    is_subtype,
    least_upper_bound,
    reduce_lub,
    singleton_bool,
)

Capability = tuple[str, int, object]
Caps = frozenset[Capability]
Answer = tuple[bool, Type | None, Caps]

EMPTY: Final[Caps] = frozenset()

# -- extension function signatures (every fact from the extension registry) -------------

_BASE_TYPES: Final[dict[str, Type]] = {"Bool": BOOL, "Long": LONG, "String": STRING}


def _type_named(name: str) -> Type:
    """The validator type of a Cedar type name from the registry (``"Long"``, ``"decimal"``...)."""
    return _BASE_TYPES.get(name) or ExtType(name)


#: Extension types that support ``<``/``<=`` (Rust: types with operator overloading).
_OVERLOADED: Final = ORDERED_TYPE_NAMES
_COMPARISON_TYPES: Final[list[Type]] = [*(ExtType(name) for name in ORDERED_TYPE_NAMES), LONG]

#: Constructor name -> (message, help) for a literal argument the constructor rejects.
_CONSTRUCTOR_MESSAGES: Final = {
    name: fn.literal_error for name, fn in FUNCTIONS.items() if fn.literal_error is not None
}


class _Signature:
    __slots__ = ("arg_types", "is_constructor", "name", "return_type")

    def __init__(self, name: str, arg_types: tuple[Type, ...], return_type: Type, is_constructor: bool):
        self.name = name
        self.arg_types = arg_types
        self.return_type = return_type
        self.is_constructor = is_constructor


def _signatures() -> dict[str, _Signature]:
    out: dict[str, _Signature] = {}
    for name, fn in FUNCTIONS.items():
        args = tuple(_type_named(t) for t in fn.arg_type_names)
        ret = _type_named(fn.return_type)
        out[name] = _Signature(name, args, ret, fn.is_constructor)
    return out


SIGNATURES: Final = _signatures()


def _quote_lit(value: str) -> str:
    from ..schema._names import escape_debug

    return f'"{escape_debug(value)}"'


# -- structural expression keys (Rust's ExprShapeOnly) ---------------------------------


class ExprKeys:
    """Interns expressions by shape (ignoring spans) so capabilities compare cheaply.

    ``a != b``, ``a > b`` and ``a >= b`` get the keys of Rust's desugarings
    ``!(a == b)``, ``!(a <= b)`` and ``!(a < b)``.
    """

    def __init__(self) -> None:
        self._table: dict[tuple[object, ...], int] = {}
        self._by_id: dict[int, tuple[Expr, int]] = {}

    def _intern(self, shape: tuple[object, ...]) -> int:
        key = self._table.get(shape)
        if key is None:
            key = len(self._table)
            self._table[shape] = key
        return key

    def key(self, e: Expr) -> int:
        hit = self._by_id.get(id(e))
        if hit is not None and hit[0] is e:
            return hit[1]
        k = self._intern(self._shape(e))
        self._by_id[id(e)] = (e, k)
        return k

    def _shape(self, e: Expr) -> tuple[object, ...]:
        k = self.key
        match e:
            case ast.Lit():
                v = e.value
                return ("lit", type(v).__name__, v)
            case ast.Var():
                return ("var", e.name)
            case ast.Slot():
                return ("slot", e.name)
            case ast.If():
                return ("if", k(e.cond), k(e.then), k(e.else_))
            case ast.And():
                return ("and", k(e.left), k(e.right))
            case ast.Or():
                return ("or", k(e.left), k(e.right))
            case ast.Unary():
                return ("unary", str(e.op), k(e.arg))
            case ast.Binary():
                op = e.op
                left, right = k(e.left), k(e.right)
                if op is BinaryOp.NE:
                    return ("unary", "!", self._intern(("binary", "==", left, right)))
                if op is BinaryOp.GT:
                    return ("unary", "!", self._intern(("binary", "<=", left, right)))
                if op is BinaryOp.GE:
                    return ("unary", "!", self._intern(("binary", "<", left, right)))
                return ("binary", str(op), left, right)
            case ast.GetAttr():
                return ("get", k(e.expr), e.attr)
            case ast.HasAttr():
                return ("has", k(e.expr), e.attr)
            case ast.Like():
                return ("like", k(e.expr), e.pattern)
            case ast.Is():
                return ("is", k(e.expr), e.entity_type)
            case ast.SetLit():
                return ("set", *[k(i) for i in e.items])
            case ast.RecordLit():
                return ("record", tuple(sorted((name, k(v)) for name, v in e.fields)))
            case ast.ExtCall():
                return ("call", e.name, *[k(a) for a in e.args])
            case _:
                assert_never(e)


# -- the per-environment typechecker ---------------------------------------------------


class PolicyCheck:
    """Shared state for typechecking one policy (or template) in all its environments."""

    def __init__(
        self,
        info: SchemaInfo,
        policy_id: str,
        source: Source | None,
        fallback_span: Span | None,
        strict: bool = True,
    ):
        self.info = info
        #: Strict mode (else permissive).
        self.strict = strict
        self.policy_id = policy_id
        self.source = source
        self.fallback_span = fallback_span
        self.keys = ExprKeys()
        self.errors: dict[ValidationDiagnostic, None] = {}

    def error(self, kind: str, message: str, span: Span | None, help: str | None = None) -> None:
        d = make(kind, self.policy_id, message, span or self.fallback_span, self.source, help)
        self.errors.setdefault(d, None)


def _expected_str(expected: list[Type]) -> str:
    if len(expected) == 1:
        return str(expected[0])
    return ", or ".join(str(t) for t in expected)


_HELP_TRY_LIKE: Final = "try using `like` to examine the contents of a string"
_HELP_TRY_CONTAINS: Final = (
    "try using `contains`, `containsAny`, or `containsAll` to examine the contents of a set"
)
_HELP_TRY_SINGLE_CONTAINS: Final = "try using `contains` to test if a single element is in a set"
_HELP_TRY_HAS: Final = "try using `has` to test for an attribute"
_HELP_TRY_IS: Final = "try using `is` to test for an entity type"
_HELP_TRY_IN: Final = "try using `in` for entity hierarchy membership"
_HELP_TRY_EQ_EMPTY: Final = 'try using `== ""` to test if a string is empty'
_HELP_TYPE_TEST: Final = "Cedar only supports run time type tests for entities"
_HELP_CONCAT: Final = "Cedar does not support string concatenation"
_HELP_SET_OPS: Final = "Cedar does not support computing the union, intersection, or difference of sets"

_LUB_CONTEXT: Final = {
    "set": "elements of a set",
    "conditional": "both branches of a conditional",
    "equality": "both operands to a `==` expression",
    "contains": "elements of the first operand and the second operand to a `contains` expression",
    "containsAnyAll": "elements of both set operands to a `containsAll` or `containsAny` expression",
    "getTag": "tag types for a `.getTag()` operation",
}

HelpFn = Callable[[Type], str | None]


def _no_help(_: Type) -> str | None:
    return None


def _help_has_target(t: Type) -> str | None:
    if isinstance(t, SetType):
        return _HELP_TRY_CONTAINS
    if isinstance(t, StringType):
        return _HELP_TRY_LIKE
    return None


def _help_set_receiver(t: Type) -> str | None:
    if isinstance(t, (EntityType, AnyEntityType)):
        return _HELP_TRY_IN
    if isinstance(t, RecordType):
        return _HELP_TRY_HAS
    if isinstance(t, StringType):
        return _HELP_TRY_LIKE
    return None


class EnvChecker:
    """Typechecks expressions in a single request environment."""

    def __init__(self, pc: PolicyCheck, env: RequestEnv) -> None:
        self.pc = pc
        self.info = pc.info
        self.strict = pc.strict
        self.env = env
        self.key = pc.keys.key
        #: Types computed for expression nodes (for attribute-access messages).
        self.types: dict[int, Type | None] = {}

    # -- helpers ------------------------------------------------------------------------

    def error(self, kind: str, message: str, span: Span | None, help: str | None = None) -> None:
        self.pc.error(kind, message, span, help)

    def attr_cap(self, e: Expr, attr: str) -> Capability:
        return ("attr", self.key(e), attr)

    def tag_cap(self, e: Expr, tag: Expr) -> Capability:
        return ("tag", self.key(e), self.key(tag))

    def expect(self, prior: Caps, e: Expr, expected: list[Type], help_fn: HelpFn = _no_help) -> Answer:
        """Rust's ``expect_one_of_types`` (subtyping checked permissively)."""
        ok, ty, cap = self.check(prior, e)
        if ty is None:
            return (False, None, EMPTY)
        for exp in expected:
            if is_subtype(ty, exp, False):
                return (ok, ty, cap if ok else EMPTY)
        self.error(
            "UnexpectedType",
            f"unexpected type: expected {_expected_str(expected)} but saw {ty}",
            e.span,
            help_fn(ty),
        )
        return (False, None, EMPTY)

    def lub_or_error(self, e: Expr, types: list[Type | None], context: str) -> Type | None:
        if any(t is None for t in types):
            return None
        known = [t for t in types if t is not None]
        try:
            return reduce_lub(known, self.strict)
        except LubError as err:
            self.incompatible(e.span, known, err, context)
            return None

    def incompatible(self, span: Span | None, types: Iterable[Type], err: LubError, context: str) -> None:
        distinct = sorted(set(types), key=lambda t: t.sort_key())
        names = [str(t) for t in distinct]
        if len(names) == 1:
            joined = names[0]
        elif len(names) == 2:
            joined = f"{names[0]} and {names[1]}"
        else:
            joined = ", ".join(names[:-1]) + f", and {names[-1]}"
        self.error(
            "IncompatibleTypes",
            f"the types {joined} are not compatible",
            span,
            f"for policy `{self.pc.policy_id}`, {_LUB_CONTEXT[context]} must have compatible types. "
            f"{err.hint.value}",
        )

    # -- attribute helpers (Rust's Type::lookup_attribute_type etc.) ---------------------

    def lub_attrs(self, t: EntityType) -> dict[str, AttrType]:
        names = sorted(t.lub)
        attrs = self.info.entity_attrs(names[0])
        for name in names[1:]:
            attrs = attributes_lub(attrs, self.info.entity_attrs(name), False)
        return attrs

    def lookup_attr(self, t: Type, attr: str) -> AttrType | None:
        if isinstance(t, RecordType):
            return t.attrs.get(attr)
        if isinstance(t, EntityType):
            return self.lub_attrs(t).get(attr)
        return None

    def all_attrs(self, t: Type) -> list[str]:
        if isinstance(t, RecordType):
            return list(t.attrs)
        if isinstance(t, EntityType):
            return list(self.lub_attrs(t))
        return []

    def has_open_attrs(self, t: Type) -> bool:
        if isinstance(t, RecordType):
            return t.open
        if isinstance(t, AnyEntityType):
            return True
        if isinstance(t, EntityType):
            return any(self.info.entity_open(n) for n in t.lub)
        return False

    def may_have_attr(self, t: Type, attr: str) -> bool:
        if t is NEVER:
            return True
        if isinstance(t, (RecordType, EntityType, AnyEntityType)) and self.has_open_attrs(t):
            return True
        if isinstance(t, EntityType):
            return any(attr in self.info.entity_attrs(n) for n in t.lub)
        if isinstance(t, RecordType):
            return attr in t.attrs
        return False

    def tag_types(self, t: Type) -> list[Type]:
        if isinstance(t, EntityType):
            out: list[Type] = []
            for n in sorted(t.lub):
                info = self.info.entity_types.get(n)
                if info is not None and info.tags is not None and info.tags not in out:
                    out.append(info.tags)
            return out
        out = []
        for tag in self.info.all_tag_types:
            if tag not in out:
                out.append(tag)
        return out

    def attribute_access(self, target: Expr, target_ty: Type | None, attr: str) -> tuple[str, str]:
        """Rust's ``AttributeAccess``: (description for messages, suggested `has` guard)."""
        attrs = [attr]
        e: Expr = target
        ty = target_ty
        kind = "other"
        lub: EntityType | None = None
        while True:
            if isinstance(ty, EntityType):
                kind, lub = "entity", ty
                break
            if isinstance(e, ast.Var) and e.name == "context":
                kind = "context"
                break
            if isinstance(e, ast.GetAttr):
                attrs.append(e.attr)
                e = e.expr
                ty = self.types.get(id(e))
                continue
            break
        path = ".".join(reversed(attrs))
        if kind == "entity" and lub is not None:
            single = lub.single
            where = (
                f" `{single}`" if single is not None else "s " + ", ".join(f"`{n}`" for n in sorted(lub.lub))
            )
            desc = f"`{path}` on entity type{where}"
        elif kind == "context":
            desc = f"`{path}` in context for {uid_str(self.env.action)}"
        else:
            desc = f"`{path}`"
        base = "context" if kind == "context" else "e"
        guard = ".".join([base, *reversed(attrs[1:])]) + f" has {attrs[0]}"
        return desc, guard

    # -- the main dispatch --------------------------------------------------------------

    def check(self, prior: Caps, e: Expr) -> Answer:
        ans = self._check(prior, e)
        self.types[id(e)] = ans[1]
        return ans

    def _check(self, prior: Caps, e: Expr) -> Answer:
        match e:
            case ast.Lit():
                return self.check_lit(e)
            case ast.Var():
                return self.check_var(e)
            case ast.And():
                return self.check_and(prior, e)
            case ast.Or():
                return self.check_or(prior, e)
            case ast.If():
                return self.check_if(prior, e)
            case ast.Binary():
                return self.check_binary(prior, e)
            case ast.Unary():
                return self.check_unary(prior, e)
            case ast.GetAttr():
                return self.check_get_attr(prior, e)
            case ast.HasAttr():
                return self.check_has_attr(prior, e)
            case ast.ExtCall():
                return self.check_ext(prior, e)
            case ast.SetLit():
                return self.check_set(prior, e)
            case ast.RecordLit():
                return self.check_record(prior, e)
            case ast.Like():
                ok, _ty, _ = self.expect(
                    prior,
                    e.expr,
                    [STRING],
                    lambda t: _HELP_TRY_IS if isinstance(t, (EntityType, AnyEntityType)) else None,
                )
                return (ok, BOOL, EMPTY)
            case ast.Is():
                return self.check_is(prior, e)
            case ast.Slot():
                slot = self.env.principal_slot if e.name == "?principal" else self.env.resource_slot
                return (True, EntityType.named(slot) if slot is not None else ANY_ENTITY, EMPTY)
            case _:
                assert_never(e)

    # -- leaves ---------------------------------------------------------------------------

    def check_lit(self, e: ast.Lit) -> Answer:
        v = e.value
        if v is True or v is False:
            return (True, singleton_bool(v), EMPTY)
        if isinstance(v, int):
            return (True, LONG, EMPTY)
        if isinstance(v, str):
            return (True, STRING, EMPTY)
        if isinstance(v, EntityUid):
            ty = self.euid_type(v)
            return (ty is not None, ty, EMPTY)
        raise TypeError(f"unexpected literal {v!r}")

    def euid_type(self, uid: EntityUid) -> Type | None:
        if is_action_type(uid.type):
            return EntityType.named(uid.type) if uid in self.info.actions else None
        return EntityType.named(uid.type) if uid.type in self.info.entity_types else None

    def check_var(self, e: ast.Var) -> Answer:
        env = self.env
        name = e.name
        if name == "principal":
            return (True, EntityType.named(env.principal), EMPTY)
        if name == "resource":
            return (True, EntityType.named(env.resource), EMPTY)
        if name == "context":
            return (True, env.context, EMPTY)
        return (True, EntityType.named(env.action.type), EMPTY)

    # -- boolean connectives --------------------------------------------------------------

    def check_and(self, prior: Caps, e: ast.And) -> Answer:
        ok_l, tl, cap_l = self.expect(prior, e.left, [BOOL])
        if tl is FALSE or tl == FALSE:
            return (ok_l, tl, EMPTY)
        ok_r, tr, cap_r = self.expect(prior | cap_l if cap_l else prior, e.right, [BOOL])
        ok = ok_l and ok_r
        if tl is not None and tr is not None:
            if tr == FALSE:
                res: Answer = (True, FALSE, EMPTY)
            elif tr == TRUE:
                res = (True, tl, cap_l | cap_r)
            elif tl == TRUE:
                res = (True, tr, cap_r)
            else:
                res = (True, BOOL, cap_l | cap_r)
        else:
            res = (False, BOOL, EMPTY)
        return res if ok else (False, res[1], EMPTY)

    def check_or(self, prior: Caps, e: ast.Or) -> Answer:
        ok_l, tl, cap_l = self.expect(prior, e.left, [BOOL])
        if tl == TRUE:
            return (ok_l, tl, cap_l if ok_l else EMPTY)
        ok_r, tr, cap_r = self.expect(prior, e.right, [BOOL])
        ok = ok_l and ok_r
        if tl is not None and tr is not None:
            if tr == TRUE:
                res: Answer = (True, TRUE, cap_r)
            elif tr == FALSE:
                res = (True, tl, cap_l)
            elif tl == FALSE:
                res = (True, tr, cap_r)
            else:
                res = (True, BOOL, cap_r & cap_l)
        else:
            res = (False, BOOL, EMPTY)
        return res if ok else (False, res[1], EMPTY)

    def check_if(self, prior: Caps, e: ast.If) -> Answer:
        ok_t, tt, cap_t = self.expect(prior, e.cond, [BOOL])
        if tt == TRUE:
            ok_a, ta, cap_a = self.check(prior | cap_t, e.then)
            ok = ok_t and ok_a
            return (True, ta, cap_a | cap_t) if ok else (False, ta, EMPTY)
        if tt == FALSE:
            ok_b, tb, cap_b = self.check(prior, e.else_)
            ok = ok_t and ok_b
            return (True, tb, cap_b) if ok else (False, tb, EMPTY)
        ok_a, ta, cap_a = self.check(prior | cap_t, e.then)
        if ok_a:
            cap_a = cap_a | cap_t
        ok_b, tb, cap_b = self.check(prior, e.else_)
        lub = self.lub_or_error(e, [ta, tb], "conditional")
        if lub is None:
            return (False, None, EMPTY)
        if ok_t and ok_a and ok_b:
            return (True, lub, cap_b & cap_a)
        return (False, lub, EMPTY)

    # -- unary ----------------------------------------------------------------------------

    def check_unary(self, prior: Caps, e: ast.Unary) -> Answer:
        op = e.op
        if op is UnaryOp.NOT:
            ok, t, _ = self.expect(prior, e.arg, [BOOL])
            if t is None:
                return (False, BOOL, EMPTY)
            return (ok, self.negate(t), EMPTY)
        if op is UnaryOp.NEG:
            ok, _, _ = self.expect(prior, e.arg, [LONG])
            return (ok, LONG, EMPTY)
        ok, _, _ = self.expect(
            prior, e.arg, [ANY_SET], lambda t: _HELP_TRY_EQ_EMPTY if isinstance(t, StringType) else None
        )
        return (ok, BOOL, EMPTY)

    @staticmethod
    def negate(t: Type) -> Type:
        if t == TRUE:
            return FALSE
        if t == FALSE:
            return TRUE
        return BOOL

    # -- binary ---------------------------------------------------------------------------

    def check_binary(self, prior: Caps, e: ast.Binary) -> Answer:
        op = e.op
        if op is BinaryOp.EQ:
            return self.check_eq(prior, e)
        if op is BinaryOp.NE:
            ok, t, _ = self.check_eq(prior, e)
            return (ok, self.negate(t) if t is not None else BOOL, EMPTY)
        if op in (BinaryOp.LT, BinaryOp.LE, BinaryOp.GT, BinaryOp.GE):
            ok, _, _ = self.check_comparison(prior, e)
            return (ok, BOOL, EMPTY)
        if op in (BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL):

            def help_fn(t: Type) -> str | None:
                if op is BinaryOp.ADD and isinstance(t, StringType):
                    return _HELP_CONCAT
                if isinstance(t, SetType):
                    return _HELP_SET_OPS
                return None

            ok1, _, _ = self.expect(prior, e.left, [LONG], help_fn)
            ok2, _, _ = self.expect(prior, e.right, [LONG], help_fn)
            return (ok1 and ok2, LONG, EMPTY)
        if op is BinaryOp.IN:
            return self.check_in(prior, e)
        if op is BinaryOp.CONTAINS:
            ok1, t1, _ = self.expect(prior, e.left, [ANY_SET], _help_set_receiver)
            ok2, t2, _ = self.check(prior, e.right)
            elem = t1.element if isinstance(t1, SetType) else None
            ok3 = self.strict_equality(e, BOOL, elem, t2, "contains")
            return (ok1 and ok2 and ok3, BOOL, EMPTY)
        if op in (BinaryOp.CONTAINS_ALL, BinaryOp.CONTAINS_ANY):
            ok1, t1, _ = self.expect(prior, e.left, [ANY_SET], _help_set_receiver)
            ok2, t2, _ = self.expect(prior, e.right, [ANY_SET], lambda _t: _HELP_TRY_SINGLE_CONTAINS)
            ok3 = self.strict_equality(e, BOOL, t1, t2, "containsAnyAll")
            return (ok1 and ok2 and ok3, BOOL, EMPTY)
        if op is BinaryOp.HAS_TAG:
            return self.check_has_tag(prior, e)
        if op is BinaryOp.GET_TAG:
            return self.check_get_tag(prior, e)
        raise TypeError(f"unknown operator {op}")

    def strict_equality(
        self, e: Expr, result: Type, lhs: Type | None, rhs: Type | None, context: str
    ) -> bool:
        """Rust's ``enforce_strict_equality``: the operand types must have a LUB (strict mode)."""
        if not self.strict or result in (TRUE, FALSE):
            return True
        if lhs is not None and rhs is not None:
            try:
                least_upper_bound(lhs, rhs, self.strict)
            except LubError as err:
                self.incompatible(e.span, (lhs, rhs), err, context)
                return False
        return True

    def check_eq(self, prior: Caps, e: ast.Binary) -> Answer:
        ok1, t1, _ = self.check(prior, e.left)
        ok2, t2, _ = self.check(prior, e.right)
        result = self.type_of_equality(e.left, t1, e.right, t2)
        ok3 = self.strict_equality(e, result, t1, t2, "equality")
        return (ok1 and ok2 and ok3, result, EMPTY)

    def literal_value(self, e: Expr) -> tuple[bool, object]:
        """Rust's ``replace_action_var_with_euid`` followed by "is it a literal?"."""
        if isinstance(e, ast.Lit):
            return True, e.value
        if isinstance(e, ast.Var) and e.name == "action":
            return True, self.env.action
        return False, None

    def type_of_equality(self, left: Expr, t1: Type | None, right: Expr, t2: Type | None) -> Type:
        if isinstance(t1, EntityType) and isinstance(t2, EntityType) and t1.lub.isdisjoint(t2.lub):
            return FALSE
        is_lit1, v1 = self.literal_value(left)
        is_lit2, v2 = self.literal_value(right)
        if is_lit1 and is_lit2:
            return singleton_bool(type(v1) is type(v2) and v1 == v2)
        return BOOL

    def check_comparison(self, prior: Caps, e: ast.Binary) -> Answer:
        # `a > b` is `!(a <= b)` and `a >= b` is `!(a < b)`: operands keep their order.
        ok1, t1, _ = self.check(prior, e.left)
        ok2, t2, _ = self.check(prior, e.right)
        ok = ok1 and ok2
        if t1 is None or t2 is None:
            return (False, BOOL, EMPTY)

        def valid(t: Type) -> bool:
            return isinstance(t, LongType) or (isinstance(t, ExtType) and t.name in _OVERLOADED)

        def err(span: Span | None, expected: list[Type], actual: Type) -> Answer:
            self.error(
                "UnexpectedType",
                f"unexpected type: expected {_expected_str(expected)} but saw {actual}",
                span,
            )
            return (False, BOOL, EMPTY)

        if t1 is NEVER and t2 is NEVER:
            return (False, BOOL, EMPTY)
        if t1 is NEVER:
            return (ok, BOOL, EMPTY) if valid(t2) else err(e.right.span, _COMPARISON_TYPES, t2)
        if t2 is NEVER:
            return (ok, BOOL, EMPTY) if valid(t1) else err(e.left.span, _COMPARISON_TYPES, t1)
        if t1 == t2 and valid(t1):
            return (ok, BOOL, EMPTY)
        if isinstance(t1, LongType):
            return err(e.right.span, [LONG], t2)
        if isinstance(t2, LongType):
            return err(e.left.span, [LONG], t1)
        if valid(t1):
            return err(e.right.span, [t1], t2)
        if valid(t2):
            return err(e.left.span, [t2], t1)
        err(e.left.span, _COMPARISON_TYPES, t1)
        return err(e.right.span, _COMPARISON_TYPES, t2)

    # -- `in` -----------------------------------------------------------------------------

    def euid_of(self, e: Expr) -> EntityUid | None:
        if isinstance(e, ast.Lit) and isinstance(e.value, EntityUid):
            return e.value
        if isinstance(e, ast.Var) and e.name == "action":
            return self.env.action
        return None

    def euids_of(self, e: Expr) -> list[EntityUid] | None:
        uid = self.euid_of(e)
        if uid is not None:
            return [uid]
        if isinstance(e, ast.SetLit):
            out = []
            for item in e.items:
                u = self.euid_of(item)
                if u is None:
                    return None
                out.append(u)
            return out
        return None

    def check_in(self, prior: Caps, e: ast.Binary) -> Answer:
        ok1, t1, _ = self.expect(prior, e.left, [ANY_ENTITY], lambda _t: _HELP_TRY_CONTAINS)
        ok2, t2, _ = self.expect(prior, e.right, [SetType(ANY_ENTITY), ANY_ENTITY], _help_has_target)
        if not ok1 or not ok2:
            return (False, BOOL, EMPTY)
        lhs_uid = self.euid_of(e.left)
        rhs_uids = self.euids_of(e.right)
        if lhs_uid is not None and rhs_uids is not None and is_action_type(lhs_uid.type):
            rhs_actions = [u for u in rhs_uids if is_action_type(u.type)]
            if not rhs_actions:
                return (True, FALSE, EMPTY)
            descendants = self.info.actions_in_set(rhs_actions)
            if descendants is None:
                return (False, BOOL, EMPTY)
            return (True, singleton_bool(lhs_uid in descendants), EMPTY)
        lhs_etys = t1.lub if isinstance(t1, EntityType) else None
        rhs_etys: frozenset[str] | None = None
        if isinstance(t2, EntityType):
            rhs_etys = t2.lub
        elif isinstance(t2, SetType) and isinstance(t2.element, EntityType):
            rhs_etys = t2.element.lub
        if lhs_etys is not None and rhs_etys is not None and not self.any_descendant(lhs_etys, rhs_etys):
            return (True, FALSE, EMPTY)
        return (True, BOOL, EMPTY)

    def any_descendant(self, lhs: frozenset[str], rhs: frozenset[str]) -> bool:
        info = self.info
        for r in rhs:
            within = info.entity_types_in(r)
            for lt in lhs:
                if lt in within or info.check_action_in_entity_type(lt, r):
                    return True
        return False

    # -- attributes -----------------------------------------------------------------------

    def check_get_attr(self, prior: Caps, e: ast.GetAttr) -> Answer:
        ok, t, _ = self.expect(prior, e.expr, [ANY_ENTITY, ANY_RECORD])
        if t is None:
            return (False, None, EMPTY)
        attr = e.attr
        at = self.lookup_attr(t, attr)
        if at is not None:
            if at.required or self.attr_cap(e.expr, attr) in prior:
                return (ok, at.type, EMPTY)
            desc, guard = self.attribute_access(e.expr, t, attr)
            self.error(
                "UnsafeOptionalAttributeAccess",
                f"unable to guarantee safety of access to optional attribute {desc}",
                e.span,
                f"try testing for the attribute's presence with `{guard} && ..`",
            )
            return (False, at.type, EMPTY)
        suggestion = fuzzy_search(attr, self.all_attrs(t))
        may_exist = self.may_have_attr(t, attr)
        desc, _ = self.attribute_access(e.expr, t, attr)
        if suggestion is not None and not may_exist:
            help: str | None = f"did you mean `{suggestion}`?"
        elif suggestion is None and may_exist:
            help = "there may be additional attributes that the validator is not able to reason about"
        elif suggestion is not None:
            help = (
                f"did you mean `{suggestion}`? (there may also be additional attributes that the "
                "validator is not able to reason about)"
            )
        else:
            help = None
        self.error("UnsafeAttributeAccess", f"attribute {desc} not found", e.span, help)
        return (False, None, EMPTY)

    def check_has_attr(self, prior: Caps, e: ast.HasAttr) -> Answer:
        ok, t, _ = self.expect(prior, e.expr, [ANY_ENTITY, ANY_RECORD], _help_has_target)
        if t is None:
            return (False, BOOL, EMPTY)
        attr = e.attr
        at = self.lookup_attr(t, attr)
        if at is not None:
            cap = self.attr_cap(e.expr, attr)
            known = cap in prior
            if at.required:
                ty = TRUE if (isinstance(t, RecordType) or known) else BOOL
            else:
                ty = TRUE if known else BOOL
            return (ok, ty, frozenset((cap,)) if ok else EMPTY)
        return (ok, BOOL if self.may_have_attr(t, attr) else FALSE, EMPTY)

    def check_is(self, prior: Caps, e: ast.Is) -> Answer:
        ok, t, _ = self.expect(prior, e.expr, [ANY_ENTITY], lambda _t: _HELP_TYPE_TEST)
        if isinstance(t, EntityType):
            if e.entity_type not in t.lub:
                return (ok, FALSE, EMPTY)
            if t.single == e.entity_type:
                return (ok, TRUE, EMPTY)
            return (ok, BOOL, EMPTY)
        if isinstance(t, AnyEntityType):
            return (ok, BOOL, EMPTY)
        return (False, BOOL, EMPTY)

    # -- tags -----------------------------------------------------------------------------

    def check_has_tag(self, prior: Caps, e: ast.Binary) -> Answer:
        ok1, t1, _ = self.expect(prior, e.left, [ANY_ENTITY])
        ok2, _, _ = self.expect(prior, e.right, [STRING])
        ok = ok1 and ok2
        if t1 is None:
            return (False, None, EMPTY)
        cap = self.tag_cap(e.left, e.right)
        if not self.tag_types(t1):
            ty: Type = FALSE
        elif cap in prior:
            ty = TRUE
        else:
            ty = BOOL
        return (ok, ty, frozenset((cap,)) if ok else EMPTY)

    def check_get_tag(self, prior: Caps, e: ast.Binary) -> Answer:
        ok1, t1, _ = self.expect(prior, e.left, [ANY_ENTITY])
        ok2, _, _ = self.expect(prior, e.right, [STRING])
        ok = ok1 and ok2
        if t1 is None:
            return (False, None, EMPTY)
        if self.tag_cap(e.left, e.right) in prior:
            tags = self.tag_types(t1)
            if not tags:
                single = t1.single if isinstance(t1, EntityType) else None
                what = f"type `{single}`" if single is not None else "this type"
                self.error(
                    "NoTagsAllowed",
                    f"`.getTag()` is not allowed on entities of {what} because no `tags` were declared "
                    "on the entity type in the schema",
                    e.span,
                )
                return (False, None, EMPTY)
            try:
                lub = reduce_lub(tags, self.strict)
            except LubError as err:
                self.incompatible(e.span, tags, err, "getTag")
                return (False, None, EMPTY)
            return (ok, lub, EMPTY)
        on = ""
        if isinstance(t1, EntityType) and t1.single is not None:
            on = f" on entity type `{t1.single}`"
        tag_text = _expr_text(self.pc.source, e.right)
        self.error(
            "UnsafeTagAccess",
            f"unable to guarantee safety of access to tag `{tag_text}`{on}",
            e.span,
            f"try testing for the tag's presence with `.hasTag({tag_text}) && ..`",
        )
        return (False, None, EMPTY)

    # -- collections ----------------------------------------------------------------------

    def check_set(self, prior: Caps, e: ast.SetLit) -> Answer:
        answers = [self.check(prior, item) for item in e.items]
        all_ok = all(a[0] for a in answers)
        lub = self.lub_or_error(e, [a[1] for a in answers], "set")
        if not e.items and self.strict:
            self.error("EmptySetForbidden", "empty set literals are forbidden in policies", e.span)
            return (False, None, EMPTY)
        if lub is None:
            return (False, None, EMPTY)
        return (all_ok, SetType(lub), EMPTY)

    def check_record(self, prior: Caps, e: ast.RecordLit) -> Answer:
        answers = [(name, self.check(prior, value)) for name, value in e.fields]
        all_ok = all(a[0] for _, a in answers)
        if any(a[1] is None for _, a in answers):
            return (False, None, EMPTY)
        attrs = {name: AttrType(a[1], True) for name, a in answers if a[1] is not None}
        return (all_ok, RecordType(attrs, False), EMPTY)

    # -- extension functions --------------------------------------------------------------

    def check_ext(self, prior: Caps, e: ast.ExtCall) -> Answer:
        sig = SIGNATURES.get(e.name)
        args = e.args
        if sig is None:
            self.error("UndefinedFunction", f"undefined extension function: {e.name}", e.span)
            for a in args:
                self.check(prior, a)
            return (False, None, EMPTY)
        failed = False
        if len(args) != len(sig.arg_types):
            self.error(
                "WrongNumberArguments",
                "wrong number of arguments in extension function application. "
                f"Expected {len(sig.arg_types)}, got {len(args)}",
                e.span,
            )
            failed = True
        if sig.is_constructor:
            if len(args) == 1 and isinstance(args[0], ast.Lit) and isinstance(args[0].value, str):
                value = args[0].value
                try:
                    FUNCTIONS[e.name].impl(value)
                except ExtensionError as err:
                    message, default_help = _CONSTRUCTOR_MESSAGES[e.name]
                    self.error(
                        "FunctionArgumentValidation",
                        f"error during extension function argument validation: {message}: "
                        f"`{_quote_lit(value)}`",
                        e.span,
                        err.help or default_help,
                    )
                    failed = True
            if self.strict and not all(isinstance(a, ast.Lit) for a in args):
                self.error(
                    "NonLitExtConstructor",
                    "extension constructors may not be called with non-literal expressions",
                    e.span,
                    "consider applying extension constructors inside attribute values when constructing "
                    "entity or context data",
                )
                failed = True
        if failed:
            for a in args:
                self.check(prior, a)
            return (False, sig.return_type, EMPTY)
        ok = True
        for a, t in zip(args, sig.arg_types, strict=True):
            ok_a, _, _ = self.expect(prior, a, [t])
            ok = ok and ok_a
        return (ok, sig.return_type, EMPTY)


def _expr_text(source: Source | None, e: Expr) -> str:
    if isinstance(e, ast.Lit) and isinstance(e.value, str):
        return _quote_lit(e.value)
    if source is not None and e.span is not None:
        return source.text[e.span.start : e.span.end]
    from ..est import expr_text  # a policy read from JSON has no source text

    return expr_text(e)
