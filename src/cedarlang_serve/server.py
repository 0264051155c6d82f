"""Running the app under uvicorn: in this process, or in N worker processes.

With several workers uvicorn binds one listening socket and hands it to each worker. It
creates that socket without naming the protocol (``proto`` 0), and asyncio turns on
``TCP_NODELAY`` only for sockets whose ``proto`` is TCP, so every answer written in two
parts (headers, then body) waits for the client's delayed ACK: about 40 ms a request
(measured: 1.2 ms p50 with one worker, 44 ms with two). :class:`_Config` binds the socket
as TCP, so the workers' connections get ``TCP_NODELAY`` as in one-worker mode.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from .config import ENV, ServeConfig

FACTORY = "cedarlang_serve.app:app_from_env"


class _Config(uvicorn.Config):
    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
            sock = socket.socket(sock.family, socket.SOCK_STREAM, socket.IPPROTO_TCP, fileno=sock.detach())
            sock.set_inheritable(True)
        return sock


def run(config: ServeConfig, app: Any = None, factory: str = FACTORY) -> None:
    """Serve ``app`` (one worker), or start ``config.workers`` processes that each build the
    app with ``factory`` (an import string; it reads ``config`` from the environment)."""
    common: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "log_level": config.log_level,
        "access_log": False,
    }
    if config.workers == 1 and app is not None:
        uvicorn.Server(uvicorn.Config(app, **common)).run()
        return
    os.environ[ENV] = config.to_env()
    uv = _Config(factory, factory=True, workers=config.workers, **common)
    if config.workers == 1:
        uvicorn.Server(uv).run()
        return
    sock = uv.bind_socket()
    try:
        supervisor = Multiprocess(uv, sockets=[sock])
    except TypeError:  # uvicorn before 0.36 takes the worker's target too
        supervisor = Multiprocess(uv, target=uvicorn.Server(uv).run, sockets=[sock])  # type: ignore[call-arg]
    supervisor.run()
