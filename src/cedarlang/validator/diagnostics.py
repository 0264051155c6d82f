"""Validation errors and warnings, rendered like compiler diagnostics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..source import Diagnostic, Source, Span

__all__ = ["ERROR_KINDS", "WARNING_KINDS", "ValidationDiagnostic", "ValidationResult", "fuzzy_search"]

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
"""Rust's ``ValidationError`` variants."""

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
"""Rust's ``ValidationWarning`` variants."""


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
    """Levenshtein distance by Hyyrö's bit-vector algorithm (Myers 1999 for edit distance).

    Each column of the dynamic-programming table is one Python int of ``len(b)`` bits, so the
    cost is ``len(a)`` big-int steps instead of ``len(a) * len(b)`` Python steps: long names
    (a 5,000-character namespace from fuzzing) no longer take seconds.
    """
    if a == b:
        return 0
    if not a or not b:
        return len(a) or len(b)
    m = len(b)
    peq: dict[str, int] = {}
    for i, ch in enumerate(b):
        peq[ch] = peq.get(ch, 0) | (1 << i)
    mask = (1 << m) - 1
    top = 1 << (m - 1)
    pv, mv, score = mask, 0, m
    for ch in a:
        eq = peq.get(ch, 0)
        xv = eq | mv
        xh = ((((eq & pv) + pv) & mask) ^ pv) | eq
        ph = mv | (~(xh | pv) & mask)
        mh = pv & xh
        if ph & top:
            score += 1
        elif mh & top:
            score -= 1
        ph = ((ph << 1) | 1) & mask
        mh = (mh << 1) & mask
        pv = mh | (~(xv | ph) & mask)
        mv = ph & xv
    return score


def fuzzy_search(key: str, words: Sequence[str]) -> str | None:
    """Rust's ``fuzzy_search``: the first word with the least Levenshtein distance to ``key``."""
    if not key or not words:
        return None
    best, best_word = None, ""
    for w in words:
        if best is not None and abs(len(key) - len(w)) >= best:
            continue  # the distance is at least the difference in length: cannot win
        d = _levenshtein(key, w)
        if best is None or d < best:
            best, best_word = d, w
    return best_word
