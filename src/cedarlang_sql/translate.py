"""Translation of policy conditions, with the queried variable unknown, into SQL.

Cedar and SQL disagree on errors: a Cedar condition is *true*, *false* or an *error*
(the policy is then skipped), and only *true* satisfies a policy; SQL has ``NULL``
and ``NULL OR TRUE`` is ``TRUE`` where Cedar's ``error || true`` is an error. So each
condition ``e`` becomes two SQL predicates, ``T(e)`` (rows where ``e`` is true) and
``F(e)`` (rows where it is false), composed by Cedar's evaluation order::

    T(a && b) = T(a) AND T(b)          F(a && b) = F(a) OR (T(a) AND F(b))
    T(a || b) = T(a) OR (F(a) AND T(b)) F(a || b) = F(a) AND F(b)
    T(!a)     = F(a)                   F(!a)     = T(a)
    T(if c then a else b) = (T(c) AND T(a)) OR (F(c) AND T(b))   (F likewise)

An error is neither: a column that is ``NULL`` (the attribute is absent, the referenced
entity does not exist) makes both predicates ``NULL``, never ``TRUE``, and the final
filter keeps a row only where a permit's ``T`` ``IS TRUE``. Subexpressions that do not
mention the unknown are evaluated in Python first (they are values: bound parameters).

What does not translate (``Json`` attributes, extension functions, tags, set operations,
...) is over-approximated: ``T`` and ``F`` both become ``TRUE`` and the result is marked
inexact, so the SQL returns a superset that the caller checks row by row in Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from cedarlang import Entities, Schema, ast
from cedarlang.ast import BinaryOp, Expr, UnaryOp
from cedarlang.query import ConditionReader, entity_targets, store_index
from cedarlang.values import CedarSet, EntityUid, Value

from .errors import SqlValueError
from .mapping import Json, Mapping, RecordSet, Ref, RefSet

Pred = ColumnElement[bool] | bool
"""A SQL predicate, or a constant (kept as Python booleans so that they fold away)."""


def conj(a: Pred, b: Pred) -> Pred:
    if a is False or b is False:
        return False
    if a is True:
        return b
    if b is True:
        return a
    return sa.and_(a, b)


def disj(a: Pred, b: Pred) -> Pred:
    if a is True or b is True:
        return True
    if a is False:
        return b
    if b is False:
        return a
    return sa.or_(a, b)


def sql(p: Pred) -> ColumnElement[bool]:
    """A predicate as a SQL expression."""
    if p is True:
        return sa.true()
    if p is False:
        return sa.false()
    return p


@dataclass(frozen=True)
class Cond:
    """A boolean Cedar condition in SQL: where it is true, where false, and whether exact."""

    t: Pred
    f: Pred
    exact: bool = True


TRUE = Cond(True, False)
FALSE = Cond(False, True)
ERROR = Cond(False, False)
UNKNOWN = Cond(True, True, exact=False)
"""Not translated: true and false both over-approximated by every row."""


@dataclass(frozen=True)
class SqlValue:
    """A Cedar value computed by SQL: its kind, the SQL expression, and (for entities) the type.

    ``NULL`` from ``expr`` stands for an error (absent attribute, missing entity).
    """

    kind: str  # "bool", "long", "string" or "entity"
    expr: ColumnElement[Any]
    entity_type: str | None = None
    nullable: bool = True
    """False for the row's own key (the unknown entity always exists)."""
    members: RefSet | None = None
    """For kind "entityset" (the row's own association-table attribute): where its elements are."""

    def present(self) -> Pred:
        """Where the value exists (not an error)."""
        return self.expr.is_not(None) if self.nullable else True


_SCALAR_KINDS = frozenset({"bool", "long", "string", "entity"})

ABSENT = SqlValue("absent", sa.null())
"""The value of an attribute the schema does not declare: reading it is an error."""


def _kind_of_column(column: sa.Column[Any]) -> str | None:
    column_type = column.type
    if isinstance(column_type, sa.Boolean):
        return "bool"
    if isinstance(column_type, sa.Integer):
        return "long"
    if isinstance(column_type, sa.String):
        return "string"
    return None


def _kind_of_value(value: Value) -> str | None:
    t = type(value)
    return {bool: "bool", int: "long", str: "string", EntityUid: "entity"}.get(t)


def like_pattern(pattern: Sequence[str | None], dialect: str) -> tuple[str, str | None]:
    """A Cedar ``like`` pattern as (SQL pattern, escape character); SQLite uses ``GLOB``
    (case-sensitive, as Cedar is), the others ``LIKE ... ESCAPE``."""
    out: list[str] = []
    if dialect == "sqlite":
        for piece in pattern:
            if piece is None:
                out.append("*")
            else:
                out.append("".join(f"[{c}]" if c in "*?[" else c for c in piece))
        return "".join(out), None
    for piece in pattern:
        if piece is None:
            out.append("%")
        else:
            out.append("".join("\\" + c if c in "%_\\" else c for c in piece))
    return "".join(out), "\\"


class Translator(ConditionReader):
    """Translates the conditions of policies for one unknown entity (a table row)."""

    def __init__(
        self,
        reader: ConditionReader,
        mapping: Mapping,
        entity_type: str,
        row: sa.FromClause,
        entities: Entities,
        dialect: str,
        schema: Schema | None = None,
    ) -> None:
        super().__init__(reader.unknown, reader.interpreter)
        self.schema = schema
        self._ctes = 0  # recursive CTEs in one query need distinct names
        self.mapping = mapping
        self.entity_type = entity_type
        self.row = row
        self.index = store_index(entities)  # the known side's entities (ancestors of a known uid)
        self.dialect = dialect

    # -- values --------------------------------------------------------------------

    def param(self, value: Value) -> Any:
        """Check a value bound as a SQL parameter."""
        if self.dialect == "postgresql" and isinstance(value, str) and "\x00" in value:
            raise SqlValueError(
                "a string with a NUL character cannot be compared in PostgreSQL (text cannot hold it)"
            )
        return value

    def root(self) -> SqlValue:
        table = self.mapping.table(self.entity_type)
        return SqlValue("entity", self.row.c[table.key], self.entity_type, nullable=False)

    def undeclared(self, entity_type: str, attr: str) -> bool:
        """Whether the schema says entities of ``entity_type`` never have ``attr``."""
        if self.schema is None:
            return False
        decl = self.schema.entity_type(entity_type)
        return decl is not None and attr not in decl.shape.attributes

    def value(self, e: Expr) -> SqlValue | None:
        """The SQL for a value-valued expression over the unknown (``None``: not translated;
        ``ABSENT``: an attribute the schema does not declare, an error wherever evaluated)."""
        path = self.path(e)
        if path is None:
            return None
        current = self.root()
        for depth, attr in enumerate(path):
            if current.kind != "entity" or current.entity_type is None:
                return None  # an attribute of a non-entity: a type error, left to Python
            table = self.mapping.table(current.entity_type)
            if self.undeclared(current.entity_type, attr):
                return ABSENT
            mapped = self.mapping.attribute(current.entity_type, attr)
            if isinstance(mapped, (Json, RecordSet)):
                return None
            if isinstance(mapped, RefSet):
                if depth != 0 or len(path) != 1:
                    return None  # deeper sets are left to Python
                return SqlValue("entityset", current.expr, mapped.entity_type, nullable=False, members=mapped)
            if depth == 0:
                column: ColumnElement[Any] = self.row.c[mapped.column]
                source = table.column(mapped.column)
            else:
                core = table.core
                source = table.column(mapped.column)
                column = (
                    sa.select(core.c[mapped.column])
                    .where(core.c[table.key] == current.expr)
                    .scalar_subquery()
                )
            if isinstance(mapped, Ref):
                current = SqlValue("entity", column, mapped.entity_type)
            else:
                kind = _kind_of_column(source)
                if kind is None:
                    return None
                current = SqlValue(kind, column)
        return current

    # -- conditions ----------------------------------------------------------------

    def conjunction(self, parts: Iterable[Expr]) -> Cond:
        result = TRUE
        for part in parts:
            result = self._and(result, self.cond(part))
        return result

    @staticmethod
    def _and(a: Cond, b: Cond) -> Cond:
        return Cond(conj(a.t, b.t), disj(a.f, conj(a.t, b.f)), a.exact and b.exact)

    @staticmethod
    def _or(a: Cond, b: Cond) -> Cond:
        return Cond(disj(a.t, conj(a.f, b.t)), conj(a.f, b.f), a.exact and b.exact)

    def cond(self, e: Expr) -> Cond:
        if not self.mentions(e):
            ok, value = self.known(e)
            if not ok or type(value) is not bool:
                return ERROR
            return TRUE if value else FALSE
        match e:
            case ast.And():
                result = TRUE
                for operand in ast.chain_operands(e):
                    result = self._and(result, self.cond(operand))
                return result
            case ast.Or():
                result = FALSE
                for operand in ast.chain_operands(e):
                    result = self._or(result, self.cond(operand))
                return result
            case ast.Unary() if e.op is UnaryOp.NOT:
                inner = self.cond(e.arg)
                return Cond(inner.f, inner.t, inner.exact)
            case ast.Unary() if e.op is UnaryOp.IS_EMPTY:
                value = self.value(e.arg)
                if value is None or value.kind != "entityset" or value.members is None:
                    return UNKNOWN
                owner, _ = value.members.columns()
                some = sa.exists().where(owner == value.expr)
                return Cond(sa.not_(some), some)
            case ast.If():
                c, a, b = self.cond(e.cond), self.cond(e.then), self.cond(e.else_)
                return Cond(
                    disj(conj(c.t, a.t), conj(c.f, b.t)),
                    disj(conj(c.t, a.f), conj(c.f, b.f)),
                    c.exact and a.exact and b.exact,
                )
            case ast.Binary():
                return self._binary(e)
            case ast.GetAttr():
                value = self.value(e)
                if value is None:
                    return UNKNOWN
                if value is ABSENT:
                    return ERROR
                return self._is_bool(value)
            case ast.Is():
                value = self.value(e.expr)
                if value is None:
                    return UNKNOWN
                if value is ABSENT:
                    return ERROR
                if value.kind != "entity":
                    return Cond(False, False)  # `is` on a non-entity: a type error
                return self._nonnull(value, e.entity_type == value.entity_type)
            case ast.HasAttr():
                return self._has(e)
            case ast.Like():
                value = self.value(e.expr)
                if value is None:
                    return UNKNOWN
                if value is ABSENT or value.kind != "string":
                    return ERROR
                pattern, escape = like_pattern(e.pattern, self.dialect)
                pattern = self.param(pattern)
                if escape is None:
                    matched = value.expr.op("GLOB")(pattern)
                    unmatched = sa.not_(value.expr.op("GLOB")(pattern))
                else:
                    matched = value.expr.like(pattern, escape=escape)
                    unmatched = value.expr.not_like(pattern, escape=escape)
                return Cond(matched, unmatched)
            case _:
                return UNKNOWN

    def _nonnull(self, value: SqlValue, outcome: bool) -> Cond:
        """A constant outcome wherever the value exists (``NULL``: an error)."""
        present = value.present()
        return Cond(present if outcome else False, False if outcome else present)

    def _is_bool(self, value: SqlValue) -> Cond:
        if value.kind != "bool":
            return ERROR  # a non-boolean condition is a type error
        return Cond(value.expr.is_(sa.true()), value.expr.is_(sa.false()))

    def _has(self, e: ast.HasAttr) -> Cond:
        target = self.value(e.expr)
        if target is ABSENT:
            return ERROR
        if target is None or target.kind != "entity" or target.entity_type is None:
            return UNKNOWN
        table = self.mapping.table(target.entity_type)
        if self.undeclared(target.entity_type, e.attr):
            return Cond(False, target.present())  # never has it (a NULL reference: an error)
        mapped = self.mapping.attribute(target.entity_type, e.attr)
        if isinstance(mapped, (RefSet, RecordSet)):
            if target.nullable:
                return UNKNOWN
            return TRUE  # a required set (association or child table): every row has it
        if isinstance(mapped, Json):
            return UNKNOWN
        core = table.core
        column = core.c[mapped.column]
        row_has = sa.exists().where(core.c[table.key] == target.expr).where(column.is_not(None))
        row_lacks = sa.exists().where(core.c[table.key] == target.expr).where(column.is_(None))
        if target.expr is self.row.c[table.key]:  # the unknown itself: its own row
            own = self.row.c[mapped.column]
            return Cond(own.is_not(None), own.is_(None))
        # a missing entity `has` nothing (false, not an error); a NULL reference is an error
        missing = sa.not_(sa.exists().where(core.c[table.key] == target.expr))
        return Cond(row_has, disj(row_lacks, conj(target.present(), missing)))

    def _binary(self, e: ast.Binary) -> Cond:
        op = e.op
        if op in (BinaryOp.EQ, BinaryOp.NE):
            result = self._equal(e.left, e.right)
            return result if op is BinaryOp.EQ else Cond(result.f, result.t, result.exact)
        if op in (BinaryOp.LT, BinaryOp.LE, BinaryOp.GT, BinaryOp.GE):
            return self._compare(op, e.left, e.right)
        if op is BinaryOp.IN:
            return self._in(e.left, e.right)
        if op in (BinaryOp.CONTAINS, BinaryOp.CONTAINS_ANY, BinaryOp.CONTAINS_ALL):
            return self._contains(op, e.left, e.right)
        return UNKNOWN

    def _has_member(self, members: SqlValue, ids: list[Any]) -> ColumnElement[bool]:
        """Whether the row's association-table set holds one of ``ids``."""
        assert members.members is not None
        owner, member = members.members.columns()
        if not ids:
            return sa.false()
        return sa.exists().where(owner == members.expr, member.in_(ids))

    def _contains(self, op: BinaryOp, left: Expr, right: Expr) -> Cond:
        """``x.set.contains(v)``, ``containsAny``, ``containsAll`` on an association table."""
        a, b = self._operand(left), self._operand(right)
        if a is None or b is None:
            return UNKNOWN
        if a[0] == "error" or b[0] == "error":
            return ERROR
        if a[0] != "sql" or b[0] != "value":
            return UNKNOWN
        members: SqlValue = a[1]
        if members.kind != "entityset" or members.members is None:
            return ERROR if members.kind in _SCALAR_KINDS else UNKNOWN  # contains on a non-set: a type error
        value = b[1]
        if op is BinaryOp.CONTAINS:
            wanted = [value] if type(value) is EntityUid and value.type == members.entity_type else []
            inside = self._has_member(members, [self.param(u.id) for u in wanted])
            return Cond(inside, sa.not_(inside))
        if type(value) is not CedarSet:
            return ERROR  # containsAny / containsAll need a set
        elements = list(value)
        ids = [self.param(u.id) for u in elements if type(u) is EntityUid and u.type == members.entity_type]
        if op is BinaryOp.CONTAINS_ANY:
            inside = self._has_member(members, ids)
            return Cond(inside, sa.not_(inside))
        if len(ids) != len(elements):
            return FALSE  # an element that cannot be a member: not all contained
        every: Pred = True
        for one in ids:
            every = conj(every, self._has_member(members, [one]))
        return Cond(every, sa.not_(sql(every)) if every is not True else False)

    def _operand(self, e: Expr) -> tuple[str, Any] | None:
        """("sql", SqlValue) or ("value", known value) or ("error", None); None: not translated."""
        if not self.mentions(e):
            ok, value = self.known(e)
            return ("value", value) if ok else ("error", None)
        found = self.value(e)
        if found is ABSENT:
            return ("error", None)
        return None if found is None else ("sql", found)

    def _equal(self, left: Expr, right: Expr) -> Cond:
        a, b = self._operand(left), self._operand(right)
        if a is None or b is None:
            return UNKNOWN
        if a[0] == "error" or b[0] == "error":
            return ERROR
        if a[0] == "value":
            a, b = b, a
        sql_value: SqlValue = a[1]
        if sql_value.kind == "entityset" or (b[0] == "sql" and b[1].kind == "entityset"):
            return UNKNOWN  # set equality is left to Python
        if b[0] == "value":
            value = b[1]
            kind = _kind_of_value(value)
            if (
                kind is None
                or kind != sql_value.kind
                or (kind == "entity" and value.type != sql_value.entity_type)
            ):
                return self._nonnull(sql_value, False)  # values of different types are never equal
            bound = self.param(value.id if kind == "entity" else value)
            return Cond(sql_value.expr == bound, sql_value.expr != bound)
        other: SqlValue = b[1]
        if other.kind != sql_value.kind or other.entity_type != sql_value.entity_type:
            both = conj(sql_value.present(), other.present())
            return Cond(False, both)
        return Cond(sql_value.expr == other.expr, sql_value.expr != other.expr)

    def _compare(self, op: BinaryOp, left: Expr, right: Expr) -> Cond:
        a, b = self._operand(left), self._operand(right)
        if a is None or b is None:
            return UNKNOWN
        if a[0] == "error" or b[0] == "error":
            return ERROR
        sides = []
        for side in (a, b):
            if side[0] == "value":
                if type(side[1]) is not int:
                    return UNKNOWN if _kind_of_value(side[1]) is None else ERROR
                sides.append(sa.literal(side[1], sa.BigInteger()))
            else:
                if side[1].kind != "long":
                    return ERROR
                sides.append(side[1].expr)
        x, y = sides
        if op is BinaryOp.LT:
            return Cond(x < y, x >= y)
        if op is BinaryOp.LE:
            return Cond(x <= y, x > y)
        if op is BinaryOp.GT:
            return Cond(x > y, x <= y)
        return Cond(x >= y, x < y)

    def _in(self, left: Expr, right: Expr) -> Cond:
        a, b = self._operand(left), self._operand(right)
        if a is None or b is None:
            return UNKNOWN
        if a[0] == "error" or b[0] == "error":
            return ERROR
        if a[0] == "sql" and b[0] == "value":
            child: SqlValue = a[1]
            if child.kind != "entity" or child.entity_type is None:
                return ERROR
            targets = entity_targets(b[1])
            if targets is None:
                return ERROR
            inside = self._within(child, targets)
            return Cond(inside, conj(child.present(), sa.not_(inside)))
        if a[0] == "value" and b[0] == "sql":
            container: SqlValue = b[1]
            if type(a[1]) is not EntityUid:
                return ERROR
            in_set = container.kind == "entityset" and container.members is not None
            if not (in_set or container.kind == "entity") or container.entity_type is None:
                return UNKNOWN
            # `a in c` holds where c is a or one of its ancestors (of c's entity type)
            ancestry = sorted(self.index.ancestry(a[1]))
            ids = [self.param(u.id) for u in ancestry if u.type == container.entity_type]
            if in_set:
                inside = self._has_member(container, ids)
                return Cond(inside, sa.not_(inside))
            if not ids:
                return self._nonnull(container, False)
            inside = container.expr.in_(ids)
            return Cond(inside, conj(container.present(), sa.not_(inside)))
        return UNKNOWN

    def _within(self, child: SqlValue, targets: list[EntityUid]) -> ColumnElement[bool]:
        """``child in targets``: equal to one, or a descendant (membership table)."""
        assert child.entity_type is not None
        same_type = [self.param(t.id) for t in targets if t.type == child.entity_type]
        found: Pred = child.expr.in_(same_type) if same_type else False
        fixed = self.mapping.table(child.entity_type).parents
        if fixed is not None:  # every row has these parents (and their ancestors)
            above = set(fixed).union(*(self.index.ancestry(p) for p in fixed))
            if not above.isdisjoint(targets):
                found = disj(found, child.expr.is_not(None))
            return sql(found)
        membership = self.mapping.membership
        if membership is not None and targets:
            child_type, child_id, parent_type, parent_id = membership.columns()
            by_type: dict[str, list[str]] = {}
            for t in targets:
                by_type.setdefault(t.type, []).append(self.param(t.id))
            parent_match: Pred = False
            for type_name, ids in by_type.items():
                parent_match = disj(parent_match, sa.and_(parent_type == type_name, parent_id.in_(ids)))
            if membership.closure:
                below = (
                    sa.select(child_id)
                    .where(child_type == child.entity_type, child_id.is_not(None))
                    .where(sql(parent_match))
                )
            else:
                seed = sa.select(child_type.label("t"), child_id.label("i")).where(sql(parent_match))
                self._ctes += 1
                walk = seed.cte(f"cedar_descendants_{self._ctes}", recursive=True)
                step = sa.select(child_type, child_id).join(
                    walk, sa.and_(parent_type == walk.c.t, parent_id == walk.c.i)
                )
                walk = walk.union(step)
                below = sa.select(walk.c.i).where(walk.c.t == child.entity_type, walk.c.i.is_not(None))
            found = disj(found, child.expr.in_(below))
        return sql(found)
