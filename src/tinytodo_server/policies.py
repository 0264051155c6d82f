"""Loading, naming, linking and validating TinyTodo's Cedar policies."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cedarlang
from cedarlang import CedarError, PolicySet, Schema

log = logging.getLogger("tinytodo_server.policies")

READER_TEMPLATE = "reader-template"
EDITOR_TEMPLATE = "editor-template"


class PolicyLoadError(Exception):
    """Policies that cannot be used: a parse error, a bad link or failed validation.

    ``str(err)`` is a one-line summary; ``details`` holds the rendered
    diagnostics (source line and caret), one string per problem.
    """

    def __init__(self, summary: str, details: Iterable[str] = ()) -> None:
        super().__init__(summary)
        self.summary = summary
        self.details = list(details)

    def render(self) -> str:
        return "\n".join([self.summary, *self.details]) if self.details else self.summary


def parse_policies(text: str, name: str) -> PolicySet:
    """Parse policy text and rename each policy and template by its ``@id("...")``
    annotation, as upstream TinyTodo does (others keep ``policy0``, ``policy1``...)."""
    try:
        renamed = PolicySet.from_str(text, name, ids_from_annotation=True)
    except cedarlang.ParseError as err:
        raise PolicyLoadError(f"Error parsing policies in {name}", [err.render()]) from err
    except CedarError as err:
        raise PolicyLoadError(f"Error parsing policies in {name}: {err}") from err
    if not len(renamed) and not renamed.templates():
        raise PolicyLoadError(
            f"{name} contains no policies: every request would be denied "
            "(write `forbid (principal, action, resource);` to mean that)"
        )
    return renamed


def require_share_templates(policies: PolicySet) -> None:
    """Template mode needs the reader and editor templates."""
    missing = [t for t in (READER_TEMPLATE, EDITOR_TEMPLATE) if policies.template(t) is None]
    if missing:
        raise PolicyLoadError(
            "Template mode needs the templates "
            + " and ".join(f'@id("{t}")' for t in missing)
            + " in the policies file"
        )


_warned_no_validator = False


def validate_policies(schema: Schema, policies: PolicySet) -> list[str]:
    """Validate ``policies`` against ``schema``; return the rendered errors ([] = passed).

    This is the only place that calls cedarlang's validator. While
    ``cedarlang.Validator`` does not exist, nothing can be checked: this logs a
    warning and lets the policies through (failing closed is impossible then).
    """
    global _warned_no_validator
    validator_class: Any = getattr(cedarlang, "Validator", None)
    if validator_class is None:
        if not _warned_no_validator:
            log.warning("cedarlang.Validator is not available: policies are NOT validated against the schema")
            _warned_no_validator = True
        return []
    result = validator_class(schema).validate(policies)
    if result.passed:
        return []
    rendered: list[str] = []
    for error in result.errors:
        render = getattr(error, "render", None)
        text = str(render()) if callable(render) else str(error)
        policy_id = getattr(error, "policy_id", None)
        if policy_id and str(policy_id) not in text:
            text = f"in policy `{policy_id}`: {text}"
        rendered.append(text)
    return rendered


def check_policies(schema: Schema, policies: PolicySet) -> None:
    """Raise PolicyLoadError with the validator's rendered errors if validation fails."""
    errors = validate_policies(schema, policies)
    if errors:
        raise PolicyLoadError("Validation Failed", errors)


@dataclass(frozen=True)
class FileSignature:
    """What the policy watcher compares to notice an edit."""

    mtime_ns: int
    size: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> FileSignature | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return cls(st.st_mtime_ns, st.st_size, st.st_ino)
