"""The symbolic encoding of Cedar expressions for one request environment.

Each expression becomes a :class:`Sym` (its value as SMT terms, typed by the schema) and
an error term that is true exactly when evaluating it errors, following Rust's
``cedar-policy-symcc`` (``symcc/compiler.rs``: every compiled term is an ``Option``
whose ``none`` is an error; here the pair (value, error) plays that role):

* ``Long`` is a 64-bit bit-vector; ``+``, ``-``, ``*`` and negation error on signed
  overflow (``bvsaddo``/``bvssubo``/``bvsmulo``), like ``ops.py``'s checked arithmetic;
* ``String`` is an SMT string, ``like`` a regular expression;
* an entity of type ``T`` is its id (an SMT string); its attributes and tags are
  uninterpreted functions of the id, an optional attribute also has a presence
  function, and reading an absent one errors;
* the hierarchy is, per pair of entity types the schema's ``memberOf`` allows, a
  function from an entity to the set of its ancestors of the other type (symcc's
  ``ancs``; ``T in A`` is false for other pairs); acyclicity and transitive closure are
  asserted over the entity terms the policies mention (:meth:`Encoder.hierarchy_axioms`),
  which is all that decides ``in`` for them;
* sets of primitives and entities are SMT sets; records are Python maps of fields
  (presence, value);
* ``decimal``, ``datetime`` and ``duration`` are 64-bit bit-vectors (their ``i64``
  representation), with the overflow errors of ``offset``/``durationSince``/``toDate``;
  ``ipaddr`` is a 137-bit vector (:mod:`.ipaddr`);
* ``&&``, ``||`` and ``if`` short-circuit errors exactly as the evaluator does.

Anything else (sets of records or of sets, extension constructors of non-literals,
template slots, ...) raises :class:`Unsupported`: the query reports the policy as not
analysed instead of answering.

Assumptions (the analysis is about "well-formed" inputs, as Rust's symcc's is): the
request and entities conform to the schema, the hierarchy is acyclic (the entity loader
rejects cycles) and every entity a policy reads exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ..ast import (
    And,
    Binary,
    BinaryOp,
    ExtCall,
    GetAttr,
    HasAttr,
    If,
    Is,
    Like,
    Lit,
    Or,
    RecordLit,
    SetLit,
    Slot,
    Unary,
    UnaryOp,
    Var,
)
from ..ast import Expr as AstExpr
from ..errors import ExtensionError
from ..extensions import construct
from ..extensions.ipaddr import IPAddr
from ..lexical import is_action_type
from ..validator.schema_info import RequestEnv, SchemaInfo
from ..validator.types import (
    BOOL,
    LONG,
    STRING,
    AttrType,
    BoolType,
    EntityType,
    ExtType,
    LongType,
    RecordType,
    SetType,
    StringType,
    Type,
)
from ..values import EntityUid
from .ipaddr import WIDTH as IP_WIDTH
from .ipaddr import IpEncoding
from .solver import Backend

__all__ = ["Encoder", "Sym", "Unsupported"]

Term = Any  # a cvc5.Term (cvc5 ships no type hints)

#: Extension types encoded as 64-bit integers (``ops.py``/``extensions``: a decimal is
#: its value times 10^4, a duration milliseconds, a datetime milliseconds since the epoch).
EXT_NUMERIC = {"decimal": "value", "duration": "ms", "datetime": "epoch"}
_DAY_MS = 86_400_000
_DECIMAL_COMPARE = {
    "lessThan": "BITVECTOR_SLT",
    "lessThanOrEqual": "BITVECTOR_SLE",
    "greaterThan": "BITVECTOR_SGT",
    "greaterThanOrEqual": "BITVECTOR_SGE",
}
_IP_TESTS = ("isIpv4", "isIpv6", "isLoopback", "isMulticast")
_DURATION_UNITS = {
    "toMilliseconds": 1,
    "toSeconds": 1000,
    "toMinutes": 60_000,
    "toHours": 3_600_000,
    "toDays": _DAY_MS,
}


class Unsupported(Exception):
    """An expression the encoding does not cover (yet); never a wrong answer."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


@dataclass
class Sym:
    """A symbolic value of static type ``ty``: a term, or for records a map of fields
    to (presence, value)."""

    ty: Type
    term: Term = None
    fields: dict[str, tuple[Term, Sym]] | None = None
    const_uid: EntityUid | None = None  # a statically known entity (literals, action)


@dataclass
class GroundEntity:
    type: str
    term: Term


@dataclass
class Encoder:
    """Encodes the policies of one request environment; remembers what the
    counterexample needs (entity terms, attribute and tag functions)."""

    backend: Backend
    info: SchemaInfo
    env: RequestEnv
    principal: Sym = field(init=False)
    resource: Sym = field(init=False)
    action: Sym = field(init=False)
    context: Sym = field(init=False)
    ground: list[GroundEntity] = field(default_factory=list)
    attr_fns: dict[tuple[str, tuple[str, ...]], tuple[Term, Type]] = field(default_factory=dict)
    presence_fns: dict[tuple[str, tuple[str, ...]], Term] = field(default_factory=dict)
    tag_fns: dict[str, tuple[Term, Term, Type]] = field(default_factory=dict)
    tag_reads: list[tuple[str, Term, Term]] = field(default_factory=list)
    anc_fns: dict[tuple[str, str], Term] = field(default_factory=dict)
    domain: list[Term] = field(default_factory=list)

    def __post_init__(self) -> None:
        tm = self.backend.tm
        self.K = self.backend.Kind
        self.tm = tm
        self.TRUE = tm.mkTrue()
        self.FALSE = tm.mkFalse()
        self.ip = IpEncoding(tm, self.K)
        env = self.env
        self.principal = self.entity_var(env.principal, "principal")
        self.resource = self.entity_var(env.resource, "resource")
        self.action = Sym(EntityType.named(env.action.type), tm.mkString(env.action.id), const_uid=env.action)
        self.context = self.fresh(env.context, "context")

    # -- term helpers (folding constants keeps unreachable branches out) -------------------

    def is_true(self, t: Term) -> bool:
        return bool(t.isBooleanValue() and t.getBooleanValue())

    def is_false(self, t: Term) -> bool:
        return bool(t.isBooleanValue() and not t.getBooleanValue())

    def and_(self, *ts: Term) -> Term:
        parts = []
        for t in ts:
            if self.is_false(t):
                return self.FALSE
            if not self.is_true(t):
                parts.append(t)
        if not parts:
            return self.TRUE
        return parts[0] if len(parts) == 1 else self.tm.mkTerm(self.K.AND, *parts)

    def or_(self, *ts: Term) -> Term:
        parts = []
        for t in ts:
            if self.is_true(t):
                return self.TRUE
            if not self.is_false(t):
                parts.append(t)
        if not parts:
            return self.FALSE
        return parts[0] if len(parts) == 1 else self.tm.mkTerm(self.K.OR, *parts)

    def not_(self, t: Term) -> Term:
        if t.isBooleanValue():
            return self.tm.mkBoolean(not t.getBooleanValue())
        return self.tm.mkTerm(self.K.NOT, t)

    def ite(self, c: Term, a: Term, b: Term) -> Term:
        if self.is_true(c):
            return a
        if self.is_false(c):
            return b
        if a == b:
            return a
        return self.tm.mkTerm(self.K.ITE, c, a, b)

    def eq(self, a: Term, b: Term) -> Term:
        if a == b:
            return self.TRUE
        if a.isStringValue() and b.isStringValue():
            return self.FALSE
        return self.tm.mkTerm(self.K.EQUAL, a, b)

    # -- sorts and fresh values --------------------------------------------------------------

    def sort(self, ty: Type) -> Any:
        tm = self.tm
        if isinstance(ty, BoolType):
            return tm.getBooleanSort()
        if isinstance(ty, LongType) or (isinstance(ty, ExtType) and ty.name in EXT_NUMERIC):
            return tm.mkBitVectorSort(64)
        if isinstance(ty, StringType):
            return tm.getStringSort()
        if isinstance(ty, EntityType):
            self.entity_name(ty)
            return tm.getStringSort()
        if isinstance(ty, ExtType) and ty.name == "ipaddr":
            return tm.mkBitVectorSort(IP_WIDTH)
        if (
            isinstance(ty, SetType)
            and ty.element is not None
            and not isinstance(ty.element, (SetType, RecordType))
            # the elements of a set of addresses would need a quantified well-formedness
            and ty.element != ExtType("ipaddr")
        ):
            return tm.mkSetSort(self.sort(ty.element))
        raise Unsupported(f"values of type {ty}")

    def entity_name(self, ty: Type) -> str:
        if not isinstance(ty, EntityType) or ty.single is None:
            raise Unsupported(f"values of type {ty}")
        return ty.single

    def entity_var(self, type_name: str, name: str) -> Sym:
        term = self.tm.mkConst(self.tm.getStringSort(), name)
        sym = Sym(EntityType.named(type_name), term)
        self.note_entity(sym)
        return sym

    def note_entity(self, sym: Sym) -> None:
        """Remember an entity-valued term (it is an entity the counterexample must hold)."""
        name = self.entity_name(sym.ty)
        if is_action_type(name) and sym.const_uid is None:
            raise Unsupported("symbolic action entities")
        if any(g.term == sym.term and g.type == name for g in self.ground):
            return
        self.ground.append(GroundEntity(name, sym.term))
        info = self.info.entity_types.get(name)
        if info is not None and info.enum is not None:
            self.domain.append(self.or_(*(self.eq(sym.term, self.tm.mkString(e)) for e in info.enum)))

    def fresh(self, ty: Type, name: str) -> Sym:
        """A value of type ``ty`` made of fresh constants (the context)."""
        if isinstance(ty, RecordType):
            fields: dict[str, tuple[Term, Sym]] = {}
            for key, attr in ty.attrs.items():
                present = (
                    self.TRUE
                    if attr.required
                    else self.tm.mkConst(self.tm.getBooleanSort(), f"{name}.{key}?")
                )
                fields[key] = self.covered_field(
                    partial(self.fresh_field, present, attr, f"{name}.{key}"), attr
                )
            return Sym(ty, fields=fields)
        return self.value_sym(ty, self.tm.mkConst(self.sort(ty), name))

    def fresh_field(self, present: Term, attr: AttrType, name: str) -> tuple[Term, Sym]:
        return present, self.fresh(attr.type, name)

    def covered_field(self, make: Callable[[], tuple[Term, Sym]], attr: AttrType) -> tuple[Term, Sym]:
        """A record field; one of a type the encoding does not cover becomes a value
        that raises :class:`Unsupported` only where a policy uses it."""
        try:
            return make()
        except Unsupported:
            return self.TRUE if attr.required else self.FALSE, Sym(attr.type)

    def value_sym(self, ty: Type, term: Term) -> Sym:
        """A value read from the context, an attribute or a tag."""
        sym = Sym(ty, term)
        if isinstance(ty, EntityType):
            self.note_entity(sym)
        elif isinstance(ty, ExtType) and ty.name == "ipaddr":
            self.domain.append(self.ip.well_formed(term))
        return sym

    def attr_value(
        self, type_name: str, path: tuple[str, ...], attr: AttrType, uid: Term
    ) -> tuple[Term, Sym]:
        """The presence and value of attribute ``path`` of the entity ``uid``."""
        key = (type_name, path)
        label = f"{type_name}.{'.'.join(path)}"
        if isinstance(attr.type, RecordType):
            fields: dict[str, tuple[Term, Sym]] = {
                k: self.covered_field(partial(self.attr_value, type_name, (*path, k), a, uid), a)
                for k, a in attr.type.attrs.items()
            }
            present = self.TRUE
            if not attr.required:
                present = self.apply(self.presence_fn(key, label), uid)
            return present, Sym(attr.type, fields=fields)
        fns = self.attr_fns.get(key)
        if fns is None:
            str_sort = self.tm.getStringSort()
            value_fn = self.tm.mkConst(self.tm.mkFunctionSort([str_sort], self.sort(attr.type)), label)
            fns = (value_fn, attr.type)
            self.attr_fns[key] = fns
        present = self.TRUE if attr.required else self.apply(self.presence_fn(key, label), uid)
        return present, self.value_sym(attr.type, self.apply(fns[0], uid))

    def presence_fn(self, key: tuple[str, tuple[str, ...]], label: str) -> Term:
        fn = self.presence_fns.get(key)
        if fn is None:
            str_sort = self.tm.getStringSort()
            fn = self.tm.mkConst(self.tm.mkFunctionSort([str_sort], self.tm.getBooleanSort()), label + "?")
            self.presence_fns[key] = fn
        return fn

    def apply(self, fn: Term, *args: Term) -> Term:
        return self.tm.mkTerm(self.K.APPLY_UF, fn, *args)

    # -- the hierarchy --------------------------------------------------------------------------

    def may_be_in(self, child: str, ancestor: str) -> bool:
        info = self.info.entity_types.get(ancestor)
        return info is not None and child in info.descendants

    def anc(self, child: str, ancestor: str) -> Term:
        """The function from an entity of type ``child`` to the ids of its ancestors of type
        ``ancestor`` (symcc's ``ancs``: a set, so that ``in`` a set needs no quantifier)."""
        fn = self.anc_fns.get((child, ancestor))
        if fn is None:
            s = self.tm.getStringSort()
            fn = self.tm.mkConst(self.tm.mkFunctionSort([s], self.tm.mkSetSort(s)), f"{child} in {ancestor}")
            self.anc_fns[(child, ancestor)] = fn
        return fn

    def ancestors(self, a: Term, child: str, ancestor: str) -> Term:
        return self.apply(self.anc(child, ancestor), a)

    def entity_in(self, a: Sym, b: Sym) -> Term:
        ta, tb = self.entity_name(a.ty), self.entity_name(b.ty)
        if is_action_type(ta) != is_action_type(tb):
            return self.FALSE  # the schema puts no entity in an action, nor an action in one
        if is_action_type(ta):
            if a.const_uid is None or b.const_uid is None:
                raise Unsupported("`in` between symbolic action entities")
            if a.const_uid == b.const_uid:
                return self.TRUE
            ainfo = self.info.actions.get(b.const_uid)
            return self.tm.mkBoolean(ainfo is not None and a.const_uid in ainfo.descendants)
        same = self.eq(a.term, b.term) if ta == tb else self.FALSE
        if not self.may_be_in(ta, tb):
            return same
        return self.or_(same, self.tm.mkTerm(self.K.SET_MEMBER, b.term, self.ancestors(a.term, ta, tb)))

    def hierarchy_axioms(self) -> Iterator[Term]:
        """The ancestor sets are transitively closed over the entities the policies mention:
        if ``b`` is an ancestor of ``a``, ``b``'s ancestors are ``a``'s.  (Nothing else reads
        the ancestors of other entities, so a counterexample can give them no parents.)"""
        g = [e for e in self.ground if not is_action_type(e.type)]
        types = list(self.info.entity_types)
        for a in g:
            if self.may_be_in(a.type, a.type):
                # no entity is its own ancestor (the entity loader rejects cycles; with the
                # closure below, this rules out every cycle among these entities)
                own = self.tm.mkTerm(self.K.SET_MEMBER, a.term, self.ancestors(a.term, a.type, a.type))
                yield self.not_(own)
            for b in g:
                if not self.may_be_in(a.type, b.type):
                    continue
                b_in_a = self.tm.mkTerm(self.K.SET_MEMBER, b.term, self.ancestors(a.term, a.type, b.type))
                for c in types:
                    if self.may_be_in(b.type, c) and self.may_be_in(a.type, c):
                        of_b = self.ancestors(b.term, b.type, c)
                        closed = self.tm.mkTerm(self.K.SET_SUBSET, of_b, self.ancestors(a.term, a.type, c))
                        yield self.tm.mkTerm(self.K.IMPLIES, b_in_a, closed)
        yield from self.domain

    # -- expressions -------------------------------------------------------------------------------

    def condition(self, parts: tuple[AstExpr, ...]) -> tuple[Term, Term]:
        """A policy's condition (scope and clauses, evaluated left to right like ``&&``):
        (applies, errors)."""
        value, error = self.TRUE, self.FALSE
        for part in parts:
            if self.is_false(value) and self.is_false(error):
                break
            v, e = self.bool_expr(part)
            live = self.and_(value, self.not_(error))
            error = self.or_(error, self.and_(live, e))
            value = self.and_(value, v)
        return self.and_(value, self.not_(error)), error

    def bool_expr(self, e: AstExpr) -> tuple[Term, Term]:
        sym, err = self.expr(e)
        if not isinstance(sym.ty, BoolType):
            raise Unsupported(f"a condition of type {sym.ty}")
        return sym.term, err

    def expr(self, e: AstExpr) -> tuple[Sym, Term]:
        sym, err = self._expr(e)
        self.check_covered(sym)
        return sym, err

    def check_covered(self, sym: Sym) -> None:
        if sym.term is None and sym.fields is None:
            raise Unsupported(f"values of type {sym.ty}")

    def _expr(self, e: AstExpr) -> tuple[Sym, Term]:
        tm = self.tm
        if isinstance(e, Lit):
            v = e.value
            if isinstance(v, bool):
                return Sym(BOOL, tm.mkBoolean(v)), self.FALSE
            if isinstance(v, int):
                return Sym(LONG, tm.mkBitVector(64, v % 2**64)), self.FALSE
            if isinstance(v, EntityUid):
                sym = Sym(EntityType.named(v.type), tm.mkString(v.id), const_uid=v)
                if not is_action_type(v.type):
                    if v.type not in self.info.entity_types:
                        raise Unsupported(f"entity type {v.type} not in the schema")
                    self.note_entity(sym)
                return sym, self.FALSE
            return Sym(STRING, tm.mkString(v)), self.FALSE
        if isinstance(e, Var):
            return getattr(self, e.name), self.FALSE
        if isinstance(e, Slot):
            raise Unsupported("template slots")
        if isinstance(e, And | Or):
            lv, le = self.bool_expr(e.left)
            is_and = isinstance(e, And)
            decided = self.not_(lv) if is_and else lv  # the left side alone decides
            if self.is_true(decided) or self.is_true(le):
                return Sym(BOOL, lv), le
            rv, re_ = self.bool_expr(e.right)
            err = self.or_(le, self.and_(self.not_(le), self.not_(decided), re_))
            return Sym(BOOL, self.and_(lv, rv) if is_and else self.or_(lv, rv)), err
        if isinstance(e, If):
            cv, ce = self.bool_expr(e.cond)
            if self.is_true(ce):
                return Sym(BOOL, self.FALSE), ce
            if self.is_true(cv):
                t, te = self.expr(e.then)
                return t, self.or_(ce, te)
            if self.is_false(cv):
                f, fe = self.expr(e.else_)
                return f, self.or_(ce, fe)
            t, te = self.expr(e.then)
            f, fe = self.expr(e.else_)
            return self.merge(cv, t, f), self.or_(ce, self.and_(self.not_(ce), self.ite(cv, te, fe)))
        if isinstance(e, Unary):
            a, ae = self.expr(e.arg)
            if e.op is UnaryOp.NOT:
                self.expect(a, BoolType)
                return Sym(a.ty, self.not_(a.term)), ae
            if e.op is UnaryOp.NEG:
                self.expect(a, LongType)
                overflow = self.eq(a.term, tm.mkBitVector(64, 2**63))
                return Sym(a.ty, tm.mkTerm(self.K.BITVECTOR_NEG, a.term)), self.or_(ae, overflow)
            self.expect(a, SetType)
            empty = tm.mkEmptySet(a.term.getSort())
            return Sym(BOOL, self.eq(a.term, empty)), ae
        if isinstance(e, Binary):
            return self.binary(e)
        if isinstance(e, GetAttr | HasAttr):
            return self.attr(e)
        if isinstance(e, Like):
            a, ae = self.expr(e.expr)
            self.expect(a, StringType)
            pieces = [
                tm.mkTerm(self.K.REGEXP_ALL)
                if p is None
                else tm.mkTerm(self.K.STRING_TO_REGEXP, tm.mkString(p))
                for p in e.pattern
            ]
            if not pieces:
                regex = tm.mkTerm(self.K.STRING_TO_REGEXP, tm.mkString(""))
            elif len(pieces) == 1:
                regex = pieces[0]
            else:
                regex = tm.mkTerm(self.K.REGEXP_CONCAT, *pieces)
            return Sym(BOOL, tm.mkTerm(self.K.STRING_IN_REGEXP, a.term, regex)), ae
        if isinstance(e, Is):
            a, ae = self.expr(e.expr)
            return Sym(BOOL, tm.mkBoolean(self.entity_name(a.ty) == e.entity_type)), ae
        if isinstance(e, SetLit):
            if not e.items:
                raise Unsupported("the empty set literal")
            items = [self.expr(item) for item in e.items]
            ty = items[0][0].ty
            if any(s.ty != ty for s, _ in items):
                raise Unsupported("a set literal of mixed types")
            self.sort(SetType(ty))  # sets of records and of sets are not encoded
            elems = [s.term for s, _ in items]
            term = tm.mkTerm(self.K.SET_SINGLETON, elems[0])
            if len(elems) > 1:
                term = tm.mkTerm(self.K.SET_INSERT, *elems[1:], term)
            return Sym(SetType(ty), term), self.or_(*(err for _, err in items))
        if isinstance(e, RecordLit):
            fields: dict[str, tuple[Term, Sym]] = {}
            errs = []
            for key, item in e.fields:
                s, err = self.expr(item)
                fields[key] = (self.TRUE, s)
                errs.append(err)
            ty = RecordType({k: AttrType(s.ty) for k, (_, s) in fields.items()})
            return Sym(ty, fields=fields), self.or_(*errs)
        if isinstance(e, ExtCall):
            return self.ext_call(e)
        raise Unsupported(type(e).__name__)

    def expect(self, s: Sym, kind: type) -> None:
        if not isinstance(s.ty, kind):
            raise Unsupported(f"an operand of type {s.ty}")

    def merge(self, c: Term, a: Sym, b: Sym) -> Sym:
        if a.ty != b.ty:
            raise Unsupported("`if` branches of different types")
        if a.fields is not None and b.fields is not None:
            return Sym(
                a.ty,
                fields={
                    k: (self.ite(c, pa, b.fields[k][0]), self.merge(c, va, b.fields[k][1]))
                    for k, (pa, va) in a.fields.items()
                },
            )
        sym = Sym(a.ty, self.ite(c, a.term, b.term))
        if isinstance(a.ty, EntityType):
            self.note_entity(sym)
        return sym

    def equal(self, a: Sym, b: Sym) -> Term:
        """Cedar's ``==`` (values of different types are not equal)."""
        if isinstance(a.ty, RecordType) or isinstance(b.ty, RecordType):
            if a.fields is None or b.fields is None:
                return self.FALSE
            parts = []
            for key in set(a.fields) | set(b.fields):
                pa, va = a.fields.get(key, (self.FALSE, None))
                pb, vb = b.fields.get(key, (self.FALSE, None))
                if va is None or vb is None:
                    parts.append(self.not_(pa if va is not None else pb))
                    continue
                self.check_covered(va)
                self.check_covered(vb)
                both = self.and_(pa, pb)
                parts.append(self.and_(self.eq(pa, pb), self.or_(self.not_(both), self.equal(va, vb))))
            return self.and_(*parts)
        if a.ty != b.ty:
            if isinstance(a.ty, SetType) and isinstance(b.ty, SetType):
                raise Unsupported("comparing sets of different element types")
            return self.FALSE
        return self.eq(a.term, b.term)

    def binary(self, e: Binary) -> tuple[Sym, Term]:
        tm, K, op = self.tm, self.K, e.op
        a, ae = self.expr(e.left)
        b, be = self.expr(e.right)
        err = self.or_(ae, be)
        boolean = BOOL
        if op is BinaryOp.EQ:
            return Sym(boolean, self.equal(a, b)), err
        if op is BinaryOp.NE:
            return Sym(boolean, self.not_(self.equal(a, b))), err
        if op in (BinaryOp.LT, BinaryOp.LE, BinaryOp.GT, BinaryOp.GE):
            if not (isinstance(a.ty, LongType) or self.is_ext(a, "datetime", "duration")) or a.ty != b.ty:
                raise Unsupported(f"`{op}` on {a.ty} and {b.ty}")
            kind = {
                BinaryOp.LT: K.BITVECTOR_SLT,
                BinaryOp.LE: K.BITVECTOR_SLE,
                BinaryOp.GT: K.BITVECTOR_SGT,
                BinaryOp.GE: K.BITVECTOR_SGE,
            }[op]
            return Sym(boolean, tm.mkTerm(kind, a.term, b.term)), err
        if op in (BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL):
            self.expect(a, LongType)
            self.expect(b, LongType)
            kind, overflow = {
                BinaryOp.ADD: (K.BITVECTOR_ADD, K.BITVECTOR_SADDO),
                BinaryOp.SUB: (K.BITVECTOR_SUB, K.BITVECTOR_SSUBO),
                BinaryOp.MUL: (K.BITVECTOR_MULT, K.BITVECTOR_SMULO),
            }[op]
            value = tm.mkTerm(kind, a.term, b.term)
            return Sym(a.ty, value), self.or_(err, tm.mkTerm(overflow, a.term, b.term))
        if op is BinaryOp.IN:
            if isinstance(b.ty, SetType):
                return Sym(boolean, self.in_set(a, b, e.right)), err
            return Sym(boolean, self.entity_in(a, b)), err
        if op is BinaryOp.CONTAINS:
            self.expect(a, SetType)
            assert isinstance(a.ty, SetType)
            if a.ty.element != b.ty:
                if isinstance(b.ty, RecordType | SetType):
                    raise Unsupported("`contains` of a record or set")
                return Sym(boolean, self.FALSE), err
            return Sym(boolean, tm.mkTerm(K.SET_MEMBER, b.term, a.term)), err
        if op in (BinaryOp.CONTAINS_ALL, BinaryOp.CONTAINS_ANY):
            self.expect(a, SetType)
            self.expect(b, SetType)
            if a.ty != b.ty:
                raise Unsupported("`containsAll`/`containsAny` of sets of different types")
            if op is BinaryOp.CONTAINS_ALL:
                return Sym(boolean, tm.mkTerm(K.SET_SUBSET, b.term, a.term)), err
            inter = tm.mkTerm(K.SET_INTER, a.term, b.term)
            return Sym(boolean, self.not_(self.eq(inter, tm.mkEmptySet(a.term.getSort())))), err
        if op in (BinaryOp.HAS_TAG, BinaryOp.GET_TAG):
            self.expect(b, StringType)
            name = self.entity_name(a.ty)
            info = self.info.entity_types.get(name)
            if is_action_type(name) or info is None or info.tags is None:
                # no entity of this type has tags
                return (Sym(boolean, self.FALSE), err) if op is BinaryOp.HAS_TAG else self.always_error(err)
            has_fn, get_fn, tag_ty = self.tags(name)
            has = self.apply(has_fn, a.term, b.term)
            self.tag_reads.append((name, a.term, b.term))
            if op is BinaryOp.HAS_TAG:
                return Sym(boolean, has), err
            return self.value_sym(tag_ty, self.apply(get_fn, a.term, b.term)), self.or_(err, self.not_(has))
        raise Unsupported(f"the operator {op}")

    def is_ext(self, s: Sym, *names: str) -> bool:
        return isinstance(s.ty, ExtType) and s.ty.name in names

    def ext_call(self, e: ExtCall) -> tuple[Sym, Term]:
        """``decimal``, ``datetime`` and ``duration``: constructors of literals, comparisons
        and the datetime arithmetic (with its overflow errors)."""
        tm, K, name = self.tm, self.K, e.name
        if name in ("decimal", "datetime", "duration", "ip"):
            arg = e.args[0] if len(e.args) == 1 else None
            if not (isinstance(arg, Lit) and isinstance(arg.value, str)):
                raise Unsupported(f"`{name}` of a non-literal")
            ty = ExtType("ipaddr" if name == "ip" else name)
            try:
                value = construct(ty.name, arg.value)
            except ExtensionError:
                return Sym(ty, tm.mkBitVector(IP_WIDTH if name == "ip" else 64, 0)), self.TRUE
            if isinstance(value, IPAddr):
                return Sym(ty, self.ip.constant(value)), self.FALSE
            return Sym(ty, tm.mkBitVector(64, getattr(value, EXT_NUMERIC[name]) % 2**64)), self.FALSE
        syms = [self.expr(arg) for arg in e.args]
        args = [s for s, _ in syms]
        err = self.or_(*(er for _, er in syms))
        boolean = BOOL
        if name in _IP_TESTS and len(args) == 1 and self.is_ext(args[0], "ipaddr"):
            x = args[0].term
            test = {
                "isIpv4": self.ip.is_v4,
                "isIpv6": lambda t: self.not_(self.ip.is_v4(t)),
                "isLoopback": self.ip.is_loopback,
                "isMulticast": self.ip.is_multicast,
            }[name]
            return Sym(boolean, test(x)), err
        if name == "isInRange" and len(args) == 2 and all(self.is_ext(a, "ipaddr") for a in args):
            return Sym(boolean, self.ip.is_in_range(args[0].term, args[1].term)), err
        if name in _DECIMAL_COMPARE and len(args) == 2 and all(self.is_ext(a, "decimal") for a in args):
            kind = getattr(K, _DECIMAL_COMPARE[name])
            return Sym(boolean, tm.mkTerm(kind, args[0].term, args[1].term)), err
        if (
            name == "offset"
            and len(args) == 2
            and self.is_ext(args[0], "datetime")
            and self.is_ext(args[1], "duration")
        ):
            x, y = args[0].term, args[1].term
            return Sym(args[0].ty, tm.mkTerm(K.BITVECTOR_ADD, x, y)), self.or_(
                err, tm.mkTerm(K.BITVECTOR_SADDO, x, y)
            )
        if name == "durationSince" and len(args) == 2 and all(self.is_ext(a, "datetime") for a in args):
            x, y = args[0].term, args[1].term
            overflow = tm.mkTerm(K.BITVECTOR_SSUBO, x, y)
            return Sym(ExtType("duration"), tm.mkTerm(K.BITVECTOR_SUB, x, y)), self.or_(err, overflow)
        if name in ("toDate", "toTime") and len(args) == 1 and self.is_ext(args[0], "datetime"):
            x = args[0].term
            day = tm.mkBitVector(64, _DAY_MS)
            rem = tm.mkTerm(K.BITVECTOR_SMOD, x, day)  # the sign of the divisor: floor modulo
            if name == "toTime":
                return Sym(ExtType("duration"), rem), err
            overflow = tm.mkTerm(K.BITVECTOR_SSUBO, x, rem)
            return Sym(args[0].ty, tm.mkTerm(K.BITVECTOR_SUB, x, rem)), self.or_(err, overflow)
        if name in _DURATION_UNITS and len(args) == 1 and self.is_ext(args[0], "duration"):
            x = args[0].term
            unit = _DURATION_UNITS[name]
            # the evaluator divides step by step (ms -> s -> min -> h -> d), truncating each
            # time; truncating divisions compose, so one division by the product is the same
            value = x if unit == 1 else tm.mkTerm(K.BITVECTOR_SDIV, x, tm.mkBitVector(64, unit))
            return Sym(LONG, value), err
        raise Unsupported(f"the extension function {name}")

    def always_error(self, err: Term) -> tuple[Sym, Term]:
        del err
        return Sym(BOOL, self.FALSE), self.TRUE

    def in_set(self, a: Sym, b: Sym, rhs: AstExpr) -> Term:
        """``a in [b1, b2, ...]``: ``a in bi`` for some element."""
        if isinstance(rhs, SetLit):
            return self.or_(*(self.entity_in(a, self.expr(item)[0]) for item in rhs.items))
        assert isinstance(b.ty, SetType) and b.ty.element is not None
        ta, tb = self.entity_name(a.ty), self.entity_name(b.ty.element)
        if is_action_type(ta) or is_action_type(tb):
            if is_action_type(ta) != is_action_type(tb):
                return self.FALSE
            raise Unsupported("`in` a symbolic set of actions")
        member = self.tm.mkTerm(self.K.SET_MEMBER, a.term, b.term) if ta == tb else self.FALSE
        if not self.may_be_in(ta, tb):
            return member
        common = self.tm.mkTerm(self.K.SET_INTER, self.ancestors(a.term, ta, tb), b.term)
        return self.or_(member, self.not_(self.eq(common, self.tm.mkEmptySet(b.term.getSort()))))

    def tags(self, name: str) -> tuple[Term, Term, Type]:
        fns = self.tag_fns.get(name)
        if fns is None:
            info = self.info.entity_types.get(name)
            if info is None or info.tags is None:
                raise Unsupported(f"tags of {name}, which declares none")
            s = self.tm.getStringSort()
            has_fn = self.tm.mkConst(
                self.tm.mkFunctionSort([s, s], self.tm.getBooleanSort()), f"{name} hasTag"
            )
            get_fn = self.tm.mkConst(self.tm.mkFunctionSort([s, s], self.sort(info.tags)), f"{name} getTag")
            fns = (has_fn, get_fn, info.tags)
            self.tag_fns[name] = fns
        return fns

    def attr(self, e: GetAttr | HasAttr) -> tuple[Sym, Term]:
        target, err = self.expr(e.expr)
        boolean = BOOL
        if target.fields is not None:
            entry = target.fields.get(e.attr)
            if entry is not None:
                self.check_covered(entry[1])
            if isinstance(e, HasAttr):
                return Sym(boolean, self.FALSE if entry is None else entry[0]), err
            if entry is None:
                return self.always_error(err)
            return entry[1], self.or_(err, self.not_(entry[0]))
        name = self.entity_name(target.ty)
        attrs = {} if is_action_type(name) else self.info.entity_attrs(name)
        declared = attrs.get(e.attr)
        if declared is None:
            if isinstance(e, HasAttr):
                return Sym(boolean, self.FALSE), err
            return self.always_error(err)
        present, value = self.attr_value(name, (e.attr,), declared, target.term)
        if isinstance(e, HasAttr):
            return Sym(boolean, present), err
        return value, self.or_(err, self.not_(present))
