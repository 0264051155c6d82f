"""The SQL filters for Django's ORM (extra ``cedarlang[django]``).

Describe the Django models in the mapping with :func:`table_for_model` (their table
and columns, read from the model's fields), build an :class:`AuthorizedQuery` with
``dialect=connection.vendor``, then::

    Doc.objects.filter(authorized_q(query, Doc))        # exact filters: a Q object
    authorized_queryset(query, Doc)                     # any filter: a QuerySet, exact

The Q object is ``pk__in=RawSQL(<the translated SELECT>, params)``: the same SQL the
SQLAlchemy side runs, compiled for Django's database with every value a parameter.
When the policies do not translate exactly, :func:`authorized_q` refuses
(:class:`InexactFilterError`) and :func:`authorized_queryset` checks the extra rows in
Python first (through Django's own database connection).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from django.db import connections
from django.db.models import Model, Q, QuerySet
from django.db.models.expressions import RawSQL
from sqlalchemy.dialects import postgresql, sqlite

from .errors import InexactFilterError, MappingError
from .filter import AuthorizedQuery

_TYPES: dict[str, type[sa.types.TypeEngine[Any]]] = {
    "BooleanField": sa.Boolean,
    "NullBooleanField": sa.Boolean,
    "IntegerField": sa.BigInteger,
    "BigIntegerField": sa.BigInteger,
    "SmallIntegerField": sa.BigInteger,
    "PositiveIntegerField": sa.BigInteger,
    "PositiveBigIntegerField": sa.BigInteger,
    "PositiveSmallIntegerField": sa.BigInteger,
    "AutoField": sa.BigInteger,
    "BigAutoField": sa.BigInteger,
    "CharField": sa.Text,
    "TextField": sa.Text,
    "SlugField": sa.Text,
    "EmailField": sa.Text,
    "ForeignKey": sa.Text,
    "JSONField": sa.Text,
}


def table_for_model(model: type[Model], metadata: sa.MetaData | None = None) -> sa.Table:
    """A SQLAlchemy ``Table`` describing ``model``'s table (for the :class:`Mapping`)."""
    meta: Any = model._meta
    columns = []
    for field in meta.concrete_fields:
        kind = _TYPES.get(field.get_internal_type(), sa.Text)
        columns.append(sa.Column(field.column, kind(), primary_key=bool(field.primary_key)))
    return sa.Table(meta.db_table, metadata or sa.MetaData(), *columns)


def _dialect(vendor: str) -> sa.Dialect:
    if vendor == "sqlite":
        return sqlite.dialect(paramstyle="format")
    if vendor == "postgresql":
        return postgresql.dialect(paramstyle="format")  # type: ignore[no-untyped-call]
    raise MappingError(f"Django database vendor `{vendor}` is not supported (sqlite, postgresql)")


def _raw(query: AuthorizedQuery, vendor: str) -> RawSQL:
    compiled = query.select().compile(dialect=_dialect(vendor), compile_kwargs={"render_postcompile": True})
    positions = compiled.positiontup or []
    params = [compiled.params[name] for name in positions]
    return RawSQL(str(compiled), params)  # "format" paramstyle: `%s` markers, literal `%` doubled


def authorized_q(query: AuthorizedQuery, model: type[Model], using: str = "default") -> Q:
    """``Q(pk__in=...)`` selecting exactly the allowed rows (exact filters only)."""
    if not query.filter.exact:
        raise InexactFilterError(
            "these policies do not translate to SQL exactly (see the README's fragment table): "
            "use authorized_queryset(), which checks the extra rows in Python"
        )
    _check_model(query, model)
    return Q(pk__in=_raw(query, connections[using].vendor))


def authorized_queryset(
    query: AuthorizedQuery, model: type[Model], using: str = "default", queryset: QuerySet[Any] | None = None
) -> QuerySet[Any]:
    """The allowed rows of ``model`` (``queryset`` narrows further), exact in every case."""
    base = queryset if queryset is not None else model._default_manager.using(using).all()
    if query.filter.exact:
        return base.filter(authorized_q(query, model, using))
    _check_model(query, model)
    with sqlalchemy_connection(using) as conn:
        ids = query.all(conn)
    return base.filter(pk__in=ids)


def _check_model(query: AuthorizedQuery, model: type[Model]) -> None:
    mapped = query.mapping.table(query.filter.entity_type)
    meta: Any = model._meta
    if mapped.core.name != meta.db_table:
        raise MappingError(f"`{meta.db_table}` is not the table mapped for `{query.filter.entity_type}`")


class _Borrowed:
    """Django's DB-API connection lent to SQLAlchemy for reads: closing it, committing
    and rolling back stay Django's business (SQLAlchemy's calls do nothing)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def close(self) -> None:
        pass

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@contextmanager
def sqlalchemy_connection(using: str = "default") -> Iterator[sa.Connection]:
    """A SQLAlchemy connection over Django's own database connection (same transaction)."""
    django_connection = connections[using]
    django_connection.ensure_connection()
    raw = django_connection.connection
    url = {"sqlite": "sqlite://", "postgresql": "postgresql+psycopg://"}.get(django_connection.vendor)
    if url is None:
        raise MappingError(f"Django database vendor `{django_connection.vendor}` is not supported")
    engine = sa.create_engine(url, creator=lambda: _Borrowed(raw), poolclass=sa.pool.StaticPool)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()
