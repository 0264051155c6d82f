"""The server's settings, from the command line or (for worker processes) the environment."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .errors import ServeError
from .pdp import Options

ENV = "CEDAR_SERVE_CONFIG"
"""Workers started by uvicorn read their settings from this variable (JSON)."""


@dataclass(frozen=True)
class ServeConfig:
    """The settings of ``cedar serve`` (one field per command-line option); passed to the
    worker processes through the environment (:meth:`to_env`, :meth:`from_env`)."""

    store: str
    """A directory, or a ``postgresql://`` URL."""
    seed: str | None = None
    """With a PostgreSQL store: a directory to fill an empty store from."""
    host: str = "127.0.0.1"
    port: int = 8180
    workers: int = 1
    admin_token: str | None = None
    page_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    public_url: str | None = None
    reload_interval: float = 1.0
    reasons: bool = False
    annotations: tuple[str, ...] = ()
    max_page_size: int = 1000
    max_evaluations: int = 10_000
    max_body: int = 1 << 20
    """The largest AuthZEN request body (bytes)."""
    max_admin_body: int = 256 << 20
    """The largest admin upload (an entire entity store)."""
    decision_log: str | None = None
    log_level: str = "info"

    def options(self) -> Options:
        return Options(self.reasons, self.annotations, self.max_page_size, self.max_evaluations)

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ServeConfig:
        text = os.environ.get(ENV)
        if not text:
            raise ServeError(f"{ENV} is not set (start workers with `cedar serve`)")
        data: dict[str, Any] = json.loads(text)
        names = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k in names}
        data["annotations"] = tuple(data.get("annotations", ()))
        return cls(**data)

    def is_postgres(self) -> bool:
        return self.store.startswith(("postgresql://", "postgres://"))
