"""Validation errors and warnings, rendered like compiler diagnostics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..source import Diagnostic, Source, Span

__all__ = ["ERROR_KINDS", "WARNING_KINDS", "ValidationDiagnostic", "ValidationResult", "fuzzy_search"]

#: Rust's ``ValidationError`` variants.
ERROR_KINDS = frozenset(
    {
        "UnrecognizedEntityType",
        "UnrecognizedActionId",
        "InvalidActionApplication",
        "UnexpectedType",
        "IncompatibleTypes",
        "UnsafeAttributeAccess",
        "UnsafeOptionalAttributeAccess",
        "UnsafeTagAccess",
        "NoTagsAllowed",
        "UndefinedFunction",
        "WrongNumberArguments",
        "FunctionArgumentValidation",
        "EmptySetForbidden",
        "NonLitExtConstructor",
        "InternalInvariantViolation",
        "InvalidEnumEntity",
        "EntityDerefLevelViolation",
    }
)

#: Rust's ``ValidationWarning`` variants.
WARNING_KINDS = frozenset(
    {
        "MixedScriptString",
        "BidiCharsInString",
        "BidiCharsInIdentifier",
        "MixedScriptIdentifier",
        "ConfusableIdentifier",
        "ImpossiblePolicy",
    }
)


@dataclass(frozen=True)
class ValidationDiagnostic(Diagnostic):
    """One validation error or warning.

    ``kind`` is the name of Rust's ``ValidationError`` / ``ValidationWarning`` variant
    (``"UnsafeOptionalAttributeAccess"``, ``"ImpossiblePolicy"``, ...); ``message`` is Rust's
    message without the ``for policy `id`, `` prefix (see :attr:`full_message`).
    """

    policy_id: str = ""
    kind: str = ""

    @property
    def full_message(self) -> str:
        """The message as Rust (and ``cedarpy``) prints it, including the policy id."""
        if self.kind == "InvalidEnumEntity":
            return f"for policy `{self.policy_id}`: {self.message}"
        if self.kind in ("InternalInvariantViolation", "IncompatibleTypes") or not self.policy_id:
            return self.message
        return f"for policy `{self.policy_id}`, {self.message}"

    def __str__(self) -> str:
        return self.full_message

    def label(self) -> str:
        return f"{self.severity}[{self.kind}]"

    def context(self) -> str | None:
        return f"policy `{self.policy_id}`" if self.policy_id else None


def make(
    kind: str,
    policy_id: str,
    message: str,
    span: Span | None,
    source: Source | None,
    help: str | None = None,
    severity: str = "error",
) -> ValidationDiagnostic:
    return ValidationDiagnostic(
        message=message,
        span=span,
        source=source if span is not None else None,
        help=help,
        severity=severity,
        policy_id=policy_id,
        kind=kind,
    )


@dataclass(frozen=True)
class ValidationResult:
    """The outcome of :meth:`Validator.validate`: errors and warnings (both lists)."""

    errors: list[ValidationDiagnostic] = field(default_factory=list)
    warnings: list[ValidationDiagnostic] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """No errors (warnings do not fail validation)."""
        return not self.errors

    @property
    def passed_without_warnings(self) -> bool:
        return not self.errors and not self.warnings

    def policy_ids_with_errors(self) -> set[str]:
        return {e.policy_id for e in self.errors}

    def errors_for(self, policy_id: str) -> list[ValidationDiagnostic]:
        return [e for e in self.errors if e.policy_id == policy_id]

    def render(self, *, color: bool = False) -> str:
        return "\n\n".join(d.render(color=color) for d in (*self.errors, *self.warnings))

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return (
            f"<ValidationResult passed={self.passed} errors={len(self.errors)} warnings={len(self.warnings)}>"
        )


def _levenshtein(a: str, b: str) -> int:
    prev = list(range(len(a) + 1))
    for j, cb in enumerate(b, 1):
        cur = [j] + [0] * len(a)
        for i, ca in enumerate(a, 1):
            if ca == cb:
                cur[i] = prev[i - 1]
            else:
                cur[i] = 1 + min(cur[i - 1], prev[i], prev[i - 1])
        prev = cur
    return prev[len(a)]


def fuzzy_search(key: str, words: Sequence[str]) -> str | None:
    """Rust's ``fuzzy_search``: the first word with the least Levenshtein distance to ``key``."""
    if not key or not words:
        return None
    best, best_word = None, ""
    for w in words:
        d = _levenshtein(key, w)
        if best is None or d < best:
            best, best_word = d, w
    return best_word
