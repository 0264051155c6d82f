"""Authorized queries: the rows of a mapped table that a request allows, as SQL.

``authorized_filter(...)`` translates the policies that can apply (scope index) with
the queried entity unknown: the filter is ``(T(permit1) OR ...) AND NOT (T(forbid1)
IS TRUE OR ...)``. ``T`` is built with AND and OR only, where ``NULL`` (an error)
already acts as "not true"; under the ``NOT`` the ``IS TRUE`` guard makes an erroring
forbid count as not satisfied, as Cedar skips it. So ``NULL`` can neither hide nor
leak a row, and the permits' predicates stay plain enough for indexes. When every
policy translated exactly the filter is the answer; otherwise it is a superset
(untranslated permits become ``TRUE``, untranslated forbids are left out) and
:class:`AuthorizedQuery` checks each row it returns with the authorizer, on entities
loaded from the tables, so the answer is always exact.

:class:`AuthorizedQuery` pages by key (``after``, ``limit``): each page holds up to
``limit`` allowed rows in key order and says where the next one starts; nothing is
ever dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from cedarlang import Authorizer, Entities, Entity, PolicySet, Schema
from cedarlang.authorizer import UidLike, to_uid
from cedarlang.policy import Policy
from cedarlang.query import ConditionReader, policies_for, prepare_query, reader_interpreter
from cedarlang.values import EntityUid, Record

from .errors import InexactFilterError, MappingError
from .loader import SqlEntityLoader
from .mapping import Mapping, table_of
from .translate import Cond, Translator, conj, disj, sql


@dataclass(frozen=True)
class Filter:
    """The SQL condition over ``row`` (an alias of the queried type's table)."""

    entity_type: str
    row: sa.FromClause
    key: ColumnElement[Any]
    where: ColumnElement[bool]
    exact: bool
    """When false, the rows are a superset: check each (``AuthorizedQuery`` does)."""

    policies: tuple[str, ...]
    """The ids of the policies translated (those the scope index says can apply)."""


def authorized_filter(
    mapping: Mapping,
    policies: PolicySet | Iterable[Policy],
    entities: Entities,
    *,
    unknown: str,
    entity_type: str,
    known: MappingABC[str, EntityUid],
    context: Record,
    dialect: str,
    schema: Schema | None = None,
) -> Filter:
    """The filter for rows of ``entity_type`` standing for the ``unknown`` variable."""
    table = mapping.table(entity_type)
    row = table.core.alias("cedar_row")
    interpreter = reader_interpreter(unknown, entity_type, known, context, entities)
    translator = Translator(
        ConditionReader(unknown, interpreter), mapping, entity_type, row, entities, dialect, schema
    )
    permitted: Any = False
    forbidden: Any = False
    exact = True
    ids = []
    for policy in policies_for(policies, known, entities):
        translator.forget()
        interpreter.slots = policy.slot_values
        try:
            cond: Cond = translator.conjunction(policy.condition_parts)
        except RecursionError:
            cond = Cond(True, True, exact=False)
        ids.append(policy.id)
        exact = exact and cond.exact
        if policy.is_permit:
            # no guard needed: T is built from AND / OR only, where NULL acts as "not true"
            # (an OR is TRUE iff some operand is), and WHERE keeps only TRUE rows; the plain
            # predicates stay usable by indexes
            permitted = disj(permitted, cond.t)
        elif cond.exact:
            forbidden = disj(forbidden, _is_true(cond.t))  # under NOT: NULL must count as false
    where = conj(permitted, sa.not_(sql(forbidden)) if forbidden is not False else True)
    return Filter(entity_type, row, row.c[table.key], sql(where), exact, tuple(ids))


def _is_true(p: Any) -> Any:
    """``p IS TRUE``: ``NULL`` (an error somewhere) is not true."""
    if p is True or p is False:
        return p
    return p.is_(sa.true())


@dataclass(frozen=True)
class Page:
    """Allowed entity ids in key order, and the key to pass as ``after`` for the next page."""

    ids: list[str]
    next_after: str | None
    """``None`` when there is no further allowed row."""


class AuthorizedQuery:
    """The resources (or principals) a request allows, from the database, exact.

    ``AuthorizedQuery.resources(mapping, principal, action, "List", policies, entities)``:
    ``entities`` holds what the known side needs in memory (the principal and its
    ancestors, for a resource query); the queried side lives in the tables.
    """

    def __init__(
        self,
        mapping: Mapping,
        policies: PolicySet | Iterable[Policy],
        entities: Entities,
        *,
        unknown: str,
        entity_type: str,
        known: MappingABC[str, EntityUid],
        context: Record,
        dialect: str,
        schema: Schema | None = None,
        max_depth: int = 4,
    ) -> None:
        self.mapping = mapping
        self.policies = policies if isinstance(policies, PolicySet) else list(policies)
        self.entities = entities
        self.unknown = unknown
        self.known = dict(known)
        self.context = context
        self.max_depth = max_depth
        self.filter = authorized_filter(
            mapping,
            self.policies,
            entities,
            unknown=unknown,
            entity_type=entity_type,
            known=known,
            context=context,
            dialect=dialect,
            schema=schema,
        )

    @classmethod
    def resources(
        cls,
        mapping: Mapping,
        principal: UidLike,
        action: UidLike,
        resource_type: str,
        policies: PolicySet | Iterable[Policy],
        entities: Entities,
        *,
        dialect: str,
        context: Any = None,
        schema: Schema | None = None,
    ) -> AuthorizedQuery:
        """The resources of ``resource_type`` that ``principal`` may ``action``."""
        known = {"principal": to_uid(principal, "principal"), "action": to_uid(action, "action")}
        c = prepare_query("resource", resource_type, known, context, schema)
        return cls(
            mapping, policies, entities, unknown="resource", entity_type=resource_type, known=known,
            context=c, dialect=dialect, schema=schema,
        )  # fmt: skip

    @classmethod
    def principals(
        cls,
        mapping: Mapping,
        action: UidLike,
        resource: UidLike,
        principal_type: str,
        policies: PolicySet | Iterable[Policy],
        entities: Entities,
        *,
        dialect: str,
        context: Any = None,
        schema: Schema | None = None,
    ) -> AuthorizedQuery:
        """The principals of ``principal_type`` that may ``action`` on ``resource``."""
        known = {"action": to_uid(action, "action"), "resource": to_uid(resource, "resource")}
        c = prepare_query("principal", principal_type, known, context, schema)
        return cls(
            mapping, policies, entities, unknown="principal", entity_type=principal_type, known=known,
            context=c, dialect=dialect, schema=schema,
        )  # fmt: skip

    def where(self, table: Any) -> ColumnElement[bool]:
        """The filter as a condition on ``table`` (the mapped Core table or ORM model), for
        ``select(Model).where(...)``: ``key IN (SELECT key ... WHERE filter)``.

        Only an exact filter can be used this way; otherwise raise :class:`InexactFilterError`
        (use :meth:`page` / :meth:`all`, which check the extra rows in Python).
        """
        if not self.filter.exact:
            raise InexactFilterError(
                "these policies do not translate to SQL exactly (see the README's fragment table): "
                "use AuthorizedQuery.page() or .all(), which check the extra rows in Python"
            )
        mapped = self.mapping.table(self.filter.entity_type)
        core = table_of(table)
        if core is not mapped.core:
            raise MappingError(f"`{core.name}` is not the table mapped for `{self.filter.entity_type}`")
        return core.c[mapped.key].in_(self.select())

    def select(self) -> sa.Select[Any]:
        """``SELECT key FROM table WHERE filter ORDER BY key`` (a superset if not exact)."""
        f = self.filter
        return sa.select(f.key).select_from(f.row).where(f.where).order_by(f.key)

    def _allowed(self, connection: sa.Connection, ids: list[str]) -> list[str]:
        """Check rows in Python (the filter is a superset): load, then authorize each."""
        if not ids:
            return []
        loader = SqlEntityLoader(self.mapping, connection)
        uids = [EntityUid(self.filter.entity_type, i) for i in ids]
        loaded = loader.closure(uids, self.max_depth)
        store = Entities([*_copies(self.entities, loaded), *loaded.values()])
        az = Authorizer()
        out = []
        for uid in uids:
            variables = {**self.known, self.unknown: uid}
            response = az.decide_uids(
                variables["principal"],
                variables["action"],
                variables["resource"],
                self.context,
                self.policies,
                store,
            )
            if response.allowed:
                out.append(uid.id)
        return out

    def page(self, connection: sa.Connection, *, after: str | None = None, limit: int = 50) -> Page:
        """Up to ``limit`` allowed ids after ``after``, in key order."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        found: list[str] = []
        cursor = after
        batch = limit + 1 if self.filter.exact else max(2 * limit + 1, 100)
        while len(found) <= limit:
            query = self.select()
            if cursor is not None:
                query = query.where(self.filter.key > cursor)
            rows = [str(r[0]) for r in connection.execute(query.limit(batch))]
            if not rows:
                break
            found.extend(rows if self.filter.exact else self._allowed(connection, rows))
            cursor = rows[-1]
            if len(rows) < batch:
                break
        if len(found) > limit:
            return Page(found[:limit], found[limit - 1])
        return Page(found, None)

    def all(self, connection: sa.Connection) -> list[str]:
        """Every allowed id, in key order."""
        out: list[str] = []
        after: str | None = None
        while True:
            page = self.page(connection, after=after, limit=500)
            out.extend(page.ids)
            if page.next_after is None:
                return out
            after = page.next_after

    def count(self, connection: sa.Connection) -> int:
        """How many rows are allowed (one ``COUNT`` when the filter is exact)."""
        if self.filter.exact:
            f = self.filter
            return int(
                connection.execute(sa.select(sa.func.count()).select_from(f.row).where(f.where)).scalar_one()
            )
        return len(self.all(connection))


def _copies(entities: Entities, loaded: MappingABC[EntityUid, Entity]) -> list[Entity]:
    """The in-memory entities the loaded ones do not replace."""
    return [Entity(e.uid, e.attrs, e.parents, e.tags) for e in entities if e.uid not in loaded]


class SqlAuthorizer:
    """The mapping, the policies and the schema of one application, for ORM code::

    authz = SqlAuthorizer(mapping, policies, schema)
    select(ListRow).where(authz.authorized(user, 'Action::"GetList"', ListRow, known, "postgresql"))
    """

    def __init__(self, mapping: Mapping, policies: PolicySet, schema: Schema | None = None) -> None:
        self.mapping = mapping
        self.policies = policies
        self.schema = schema
        if schema is not None:
            mapping.check(schema)

    def _entity_type(self, model: Any) -> str:
        core = table_of(model)
        for entity_type, table in self.mapping.tables.items():
            if table.core is core:
                return entity_type
        raise MappingError(f"`{core.name}` is not mapped to an entity type")

    def resources(
        self,
        principal: UidLike,
        action: UidLike,
        model: Any,
        entities: Entities,
        dialect: str,
        context: Any = None,
    ) -> AuthorizedQuery:
        """The query for the rows of ``model`` that ``principal`` may ``action``."""
        return AuthorizedQuery.resources(
            self.mapping, principal, action, self._entity_type(model), self.policies, entities,
            dialect=dialect, context=context, schema=self.schema,
        )  # fmt: skip

    def authorized(
        self,
        principal: UidLike,
        action: UidLike,
        model: Any,
        entities: Entities,
        dialect: str,
        context: Any = None,
    ) -> ColumnElement[bool]:
        """``select(Model).where(...)``: the rows of ``model`` the request allows (exact
        filters only; otherwise :class:`InexactFilterError`, use :meth:`resources`)."""
        return self.resources(principal, action, model, entities, dialect, context).where(model)
