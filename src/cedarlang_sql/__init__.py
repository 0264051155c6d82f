"""cedarlang_sql: Cedar authorization as SQL filters (SQLAlchemy).

"Which lists may aaron read?" as one SQL query: the policies, with the list unknown,
become a ``WHERE`` clause over the lists table (see :mod:`.translate` for how Cedar's
errors and SQL's ``NULL`` are kept apart, and the README for what translates).

    from cedarlang_sql import AuthorizedQuery, EntityTable, Mapping, Column, Ref, Membership
    query = AuthorizedQuery.resources(mapping, 'User::"aaron"', 'Action::"GetList"', "List",
                                      policies, entities, dialect=engine.dialect.name)
    with engine.connect() as conn:
        page = query.page(conn, limit=20)       # page.ids, page.next_after
"""

from __future__ import annotations

from .errors import InexactFilterError, MappingError, SqlValueError
from .filter import AuthorizedQuery, Filter, Page, SqlAuthorizer, authorized_filter
from .loader import SqlEntityLoader
from .mapping import Column, EntityTable, Json, Mapping, Membership, RecordSet, Ref, RefSet

__all__ = [
    "AuthorizedQuery",
    "Column",
    "EntityTable",
    "Filter",
    "InexactFilterError",
    "Json",
    "Mapping",
    "MappingError",
    "Membership",
    "Page",
    "RecordSet",
    "Ref",
    "RefSet",
    "SqlAuthorizer",
    "SqlEntityLoader",
    "SqlValueError",
    "authorized_filter",
]
