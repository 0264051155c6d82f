"""``cedar serve``: an OpenID AuthZEN 1.0 policy decision point on cedarlang.

Run ``cedar serve DIR`` (see :mod:`cedarlang_serve.cli`); embed with
:func:`cedarlang_serve.app.build` (an ASGI app). The modules, one per concept:
:mod:`.store` (sources, snapshots, atomic swap), :mod:`.mapping` (AuthZEN ↔ Cedar),
:mod:`.pdp` (evaluation, evaluations, search), :mod:`.pages` (paging tokens),
:mod:`.app` (HTTP routes) with :mod:`.web` (bodies, errors, request ids), :mod:`.admin`,
:mod:`.reload`, :mod:`.logs`, :mod:`.pg_store` (PostgreSQL), :mod:`.config`,
:mod:`.server` (uvicorn, workers), :mod:`.cli` and :mod:`.errors`.
"""

from .config import ServeConfig
from .errors import BadRequest, ServeError, StoreError

__all__ = ["BadRequest", "ServeConfig", "ServeError", "StoreError"]
