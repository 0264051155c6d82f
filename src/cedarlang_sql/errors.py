"""The SQL filters' errors (part of cedarlang's hierarchy, rooted at ``CedarError``)."""

from __future__ import annotations

from cedarlang import CedarError


class MappingError(CedarError):
    """The mapping from entity types to tables is incomplete or disagrees with the schema."""


class SqlValueError(CedarError):
    """A value cannot be sent to this database (e.g. a NUL character for PostgreSQL text)."""


class InexactFilterError(CedarError):
    """The policies do not translate to SQL exactly, so a bare SQL condition would be wrong."""
