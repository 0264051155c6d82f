"""The errors of ``cedar serve``: all are :class:`cedarlang.CedarError`.

A :class:`BadRequest` becomes an HTTP 4xx answer with an AuthZEN-style error body
(``{"error": {"status": 400, "message": "..."}}``); a :class:`StoreError` is a policy
store that cannot be used (it is reported, and the last good store stays in service).
"""

from __future__ import annotations

from collections.abc import Iterable

from cedarlang import CedarError


class ServeError(CedarError):
    """Root of the errors of the AuthZEN server."""


class BadRequest(ServeError):
    """A request the PDP cannot answer as sent (malformed JSON, a missing field...)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def body(self) -> dict[str, object]:
        return {"error": {"status": self.status, "message": self.message}}


class StoreError(ServeError):
    """A policy store (policies, schema, entities, mapping) that cannot be loaded.

    ``str(err)`` is a one-line summary; ``details`` holds rendered diagnostics (source
    line and caret), one string per problem.
    """

    def __init__(self, summary: str, details: Iterable[str] = ()) -> None:
        super().__init__(summary)
        self.summary = summary
        self.details = list(details)

    def render(self) -> str:
        return "\n".join([self.summary, *self.details])


class StoreUnavailable(StoreError):
    """The store's backend cannot be reached or written (a database outage): not the
    caller's mistake (HTTP 503)."""
