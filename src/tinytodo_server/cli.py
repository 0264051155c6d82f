"""Command line: flags, environment variables and start-up."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("tinytodo_server")

DEFAULT_PORT = 8080
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Config:
    port: int = DEFAULT_PORT
    host: str = "127.0.0.1"
    db: str | None = None
    templates: bool = False
    policies: Path = Path("policies.cedar")
    schema: Path = Path("tinytodo.cedarschema")
    entities: Path = Path("entities.json")
    reload_interval: float = 1.0
    log_level: str = "info"


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"Couldn't parse port number. Expected a valid integer port number, got {text!r}"
        ) from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is out of range (0-65535)")
    return port


def build_parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tinytodo_server",
        description=(
            "TinyTodo server. Reads policies.cedar, tinytodo.cedarschema and entities.json "
            "from the working directory (policies-templates.cedar and "
            "tinytodo-templates.cedarschema with --templates)."
        ),
    )
    parser.add_argument(
        "port_arg",
        nargs="?",
        type=_port,
        metavar="port",
        help="port to listen on (as upstream: tiny-todo-server [port])",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=None,
        help=f"port to listen on [env TINYTODO_PORT, default {DEFAULT_PORT}]",
    )
    parser.add_argument(
        "--host",
        default=environ.get("TINYTODO_HOST", "127.0.0.1"),
        help="address to bind [env TINYTODO_HOST, default 127.0.0.1]",
    )
    parser.add_argument(
        "--db",
        default=environ.get("TINYTODO_DB") or None,
        help="database: a SQLite file path, sqlite:///path or postgresql://... "
        "[env TINYTODO_DB; default: in memory, empty on each start]",
    )
    parser.add_argument(
        "--templates",
        action="store_true",
        default=environ.get("TINYTODO_TEMPLATES", "").lower() in _TRUE,
        help="share by linking Cedar templates instead of team membership [env TINYTODO_TEMPLATES=1]",
    )
    parser.add_argument("--policies", type=Path, help="policies file")
    parser.add_argument("--schema", type=Path, help="schema file (Cedar schema syntax)")
    parser.add_argument(
        "--entities", type=Path, default=Path("entities.json"), help="users and teams (default entities.json)"
    )
    parser.add_argument(
        "--reload-interval",
        type=float,
        default=environ.get("TINYTODO_RELOAD_INTERVAL", "1.0"),
        help="seconds between checks of the policies file; 0 turns reloading "
        "off [env TINYTODO_RELOAD_INTERVAL, default 1]",
    )
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default=environ.get("TINYTODO_LOG", "info").lower(),
        help="log level [env TINYTODO_LOG, default info]",
    )
    return parser


def parse_config(argv: Sequence[str], environ: Mapping[str, str]) -> Config:
    parser = build_parser(environ)
    args = parser.parse_args(list(argv))
    if args.log_level not in LOG_LEVELS:
        parser.error(f"bad log level {args.log_level!r}")
    port = args.port if args.port is not None else args.port_arg
    if port is None:
        env_port = environ.get("TINYTODO_PORT")
        try:
            port = _port(env_port) if env_port else DEFAULT_PORT
        except argparse.ArgumentTypeError as err:
            parser.error(f"TINYTODO_PORT: {err}")
    templates = bool(args.templates)
    policies = args.policies or Path("policies-templates.cedar" if templates else "policies.cedar")
    schema = args.schema or Path("tinytodo-templates.cedarschema" if templates else "tinytodo.cedarschema")
    return Config(
        port=port,
        host=args.host,
        db=args.db,
        templates=templates,
        policies=policies,
        schema=schema,
        entities=args.entities,
        reload_interval=max(0.0, args.reload_interval),
        log_level=args.log_level,
    )


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    config = parse_config(sys.argv[1:] if argv is None else argv, os.environ if environ is None else environ)
    logging.basicConfig(
        stream=sys.stderr,
        level=config.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Imported here so that `--help` and flag errors are fast.
    import uvicorn

    import cedarlang

    from .core import StartupError, TinyTodo
    from .web import create_app

    try:
        core = TinyTodo.load(
            schema_path=config.schema,
            entities_path=config.entities,
            policies_path=config.policies,
            db=config.db,
            templates=config.templates,
        )
    except StartupError as err:
        print(err.render(), file=sys.stderr)
        print("Failed to load entities, policies, or schema", file=sys.stderr)
        return 1
    if hasattr(cedarlang, "Validator"):
        log.info("Validation passed!")
    app = create_app(core, reload_interval=config.reload_interval)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level=config.log_level,
            access_log=False,
            lifespan="on",
        )
    )
    log.info("Serving application server on %s:%d!", config.host, config.port)
    code = 0
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.run()
    except SystemExit as exc:  # uvicorn exits this way when it cannot bind
        code = exc.code if isinstance(exc.code, int) else 1
    if code or not server.started:
        core.close()
        print(f"TinyTodo server could not start on {config.host}:{config.port}", file=sys.stderr)
        return code or 1
    return 0
