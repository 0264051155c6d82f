"""Structured logs: one JSON object per line.

Decision logs (logger ``cedarlang_serve.decisions``, off unless ``--decision-log`` is
given) hold, per evaluation: time, request id, store version, subject, action, resource,
decision, determining policies, errors and microseconds; per search: the request, the
number of results and any error. Other messages (reloads, admin changes, failures) go to
``cedarlang_serve.*`` loggers on stderr.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .pdp import Evaluation, Outcome

INFO = logging.INFO
DECISIONS = logging.getLogger("cedarlang_serve.decisions")
DECISIONS.propagate = False


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = getattr(record, "data", None)
        if data is None:
            data = {"level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        return json.dumps({"ts": round(record.created, 6), **data}, ensure_ascii=False, default=str)


def configure(decision_log: str | None, level: str = "info") -> None:
    """Service messages as JSON on stderr; decisions to ``decision_log`` (a path, or ``-``
    for stdout), or nowhere."""
    root = logging.getLogger("cedarlang_serve")
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False
    for h in list(DECISIONS.handlers):
        DECISIONS.removeHandler(h)
    if decision_log is None:
        DECISIONS.setLevel(logging.WARNING)
        return
    out: logging.Handler = (
        logging.StreamHandler(sys.stdout) if decision_log == "-" else logging.FileHandler(decision_log)
    )
    out.setFormatter(JsonFormatter())
    DECISIONS.addHandler(out)
    DECISIONS.setLevel(logging.INFO)


def _emit(data: dict[str, Any]) -> None:
    DECISIONS.info("decision", extra={"data": data})


def decision(request_id: str | None, version: str, ev: Evaluation, outcome: Outcome, seconds: float) -> None:
    _emit(
        {
            "kind": "evaluation",
            "request_id": request_id,
            "store": version,
            "subject": {"type": ev.subject.type, "id": ev.subject.id},
            "action": ev.action,
            "resource": {"type": ev.resource.type, "id": ev.resource.id},
            "decision": outcome.allowed,
            "reasons": outcome.reasons,
            "errors": outcome.errors,
            "rejected": outcome.rejected,
            "us": round(seconds * 1e6),
        }
    )


def search(
    request_id: str | None,
    version: str,
    kind: str,
    body: dict[str, Any],
    total: int,
    error: str | None,
    seconds: float,
) -> None:
    _emit(
        {
            "kind": f"search/{kind}",
            "request_id": request_id,
            "store": version,
            "subject": body.get("subject"),
            "action": body.get("action"),
            "resource": body.get("resource"),
            "total": total,
            "error": error,
            "us": round(seconds * 1e6),
        }
    )
