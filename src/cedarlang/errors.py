"""The exception hierarchy: every error cedarlang raises is a :class:`CedarError`.

Parse, schema and validation problems carry :class:`~cedarlang.source.Diagnostic`
objects (message, source span, help) that render like compiler errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .source import Diagnostic
    from .validator.diagnostics import ValidationDiagnostic


class CedarError(Exception):
    """Root of every error raised by cedarlang."""


class DiagnosticError(CedarError):
    """An error made of one or more diagnostics with source positions."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        super().__init__(self._summary())

    def _summary(self) -> str:
        return "; ".join(d.headline() for d in self.diagnostics)

    @property
    def message(self) -> str:
        return self.diagnostics[0].message if self.diagnostics else ""

    @property
    def line(self) -> int | None:
        """1-based line of the first diagnostic, if it has a position."""
        return self.diagnostics[0].line if self.diagnostics else None

    @property
    def column(self) -> int | None:
        """1-based column of the first diagnostic, if it has a position."""
        return self.diagnostics[0].column if self.diagnostics else None

    def render(self, *, color: bool = False) -> str:
        """All diagnostics drawn with their source line and a caret."""
        return "\n".join(d.render(color=color) for d in self.diagnostics)


class ParseError(DiagnosticError):
    """Policy, template or expression text that is not valid Cedar."""


class SchemaError(DiagnosticError):
    """A schema that cannot be parsed or does not make sense."""


class EntitiesError(CedarError):
    """Entity data (JSON) that is malformed or does not conform to a schema."""


class JsonValueError(EntitiesError):
    """A JSON value that is not a valid Cedar value (or not of the expected type).

    Defined here, raised by :mod:`cedarlang.cedar_json` (which re-exports it).
    """


class ExtensionValueError(JsonValueError):
    """An ``__extn`` escape whose constructor rejects its argument (``decimal("1.2.3")``).

    Rust builds extension values only after parsing the whole JSON value, so an invalid
    ``__entity`` escape anywhere in that value is reported instead (see
    :func:`cedarlang.cedar_json.check_escapes`).
    """


class PolicyJsonError(CedarError):
    """JSON (EST) policy data that is malformed or does not describe a valid policy.

    Raised by :mod:`cedarlang.est` (which re-exports it).
    """


class FormatError(DiagnosticError):
    """Valid policies the formatter does not format: a policy longer than
    :data:`~cedarlang._limits.MAX_FORMAT_TOKENS` tokens, or (a bug in the formatter)
    output that would not mean the same policies, which is never returned.

    Raised by :mod:`cedarlang.formatter` (which re-exports it).
    """


class UnescapeError(CedarError, ValueError):
    """A string literal's body has an invalid escape (or a bare carriage return).

    ``kind`` is the name of Rust's ``EscapeError`` variant and ``text`` the part of
    the body it covers (``start``/``end`` in the body); ``str()`` is Rust's message.
    Raised by :mod:`cedarlang.lexical` (which re-exports it).
    A ``ValueError`` too, for callers of the decoding functions. Callers turn it into a
    :class:`~cedarlang.errors.ParseError` or :class:`~cedarlang.errors.SchemaError`.
    """

    def __init__(self, kind: str, body: str, start: int, end: int) -> None:
        self.kind = kind
        self.text = body[start:end]
        self.start = start
        self.end = end
        super().__init__(f"the input `{self.text}` is not a valid escape")


class RequestError(CedarError):
    """A request whose parts are malformed or do not conform to a schema."""


class PolicySetError(CedarError):
    """A policy-set operation that cannot be done (duplicate id, bad link, ...)."""


class EvaluationError(CedarError):
    """A Cedar run-time error raised while evaluating an expression.

    ``kind`` names the Cedar error kind (``"TypeError"``, ``"EntityDoesNotExist"``,
    ``"IntegerOverflow"``, ...).
    """

    def __init__(self, kind: str, message: str, help: str | None = None) -> None:
        self.kind = kind
        self.message = message
        self.help = help
        super().__init__(message)


class ExtensionError(EvaluationError):
    """An extension function failed (bad ``decimal``/``ip``/``datetime`` literal, overflow...).

    Rust's ``FailedExtensionFunctionExecution`` (cedar-policy-core/src/evaluator/err.rs):
    ``message`` is its display, "error while evaluating `<extension_name>` extension
    function: <detail>"; ``extension_name`` is ``decimal``, ``ipaddr``, ``datetime``,
    ``duration``, ``offset``, ``durationSince`` or ``toDate``, and ``detail`` the
    extension's own message.
    """

    def __init__(self, detail: str, help: str | None = None, *, extension_name: str) -> None:
        self.extension_name = extension_name
        self.detail = detail
        super().__init__(
            "FailedExtensionFunctionExecution",
            f"error while evaluating `{extension_name}` extension function: {detail}",
            help,
        )


class TpeError(CedarError):
    """Typed partial evaluation (RFC 95, :mod:`cedarlang.tpe`) was given invalid input.

    ``kind`` names the Rust error it corresponds to (``cedar-policy-core/src/tpe/err.rs``),
    e.g. ``"NoMatchingReqEnv"``, ``"UnknownActionComponent"``, ``"InconsistentPrincipalEid"``.
    """

    def __init__(self, kind: str, message: str, help: str | None = None) -> None:
        self.kind = kind
        self._message = message
        self.help = help
        super().__init__(message if help is None else f"{message} (help: {help})")

    @property
    def message(self) -> str:
        return self._message


class TpeRequestError(TpeError, RequestError):
    """A partial request that does not conform to the schema (Rust's
    ``RequestValidationError`` / ``NoMatchingReqEnvError`` in TPE)."""


class TpeEntitiesError(TpeError, EntitiesError):
    """Partial entities (or entities an entity loader returned) that do not conform to the
    schema or are malformed (Rust's ``tpe::err::EntitiesError``)."""


class TpePolicyValidationError(TpeError, DiagnosticError):
    """A policy that does not typecheck against the schema for the partial request's
    environment (Rust's ``PolicyValidationError``); ``diagnostics`` are the validator's
    (with their spans: ``render()`` draws them like compiler errors)."""

    diagnostics: tuple[ValidationDiagnostic, ...]

    def __init__(self, diagnostics: Sequence[ValidationDiagnostic]) -> None:
        DiagnosticError.__init__(self, diagnostics)
        self.diagnostics = tuple(diagnostics)
        self.kind = "Validation"
        self._message = "policy failed to validate against the schema: " + self._summary()
        self.help = None

    @property
    def message(self) -> str:
        return self._message


class ReauthorizationError(TpeError):
    """A concrete request or entity store given to ``TpeResponse.reauthorize`` that does not
    conform to the schema or contradicts the partial request / partial entities (Rust's
    ``ReauthorizationError``)."""
