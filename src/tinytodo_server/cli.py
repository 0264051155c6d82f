"""Command line: flags, environment variables and start-up."""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import socket
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
    credentials: Path = Path("credentials.json")
    secret: str | None = None
    secret_file: Path = Path(".tinytodo-secret")
    token_ttl: float = 3600.0
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
    max_lists_per_user: int = 1000
    max_tasks_per_list: int = 10_000
    max_body: int = 64 * 1024
    secure_cookies: bool = False
    """Always mark the web UI's cookies ``Secure`` (else: when the request came over HTTPS)."""


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


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


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
        "--credentials",
        type=Path,
        default=Path(environ.get("TINYTODO_CREDENTIALS", "credentials.json")),
        help="users' argon2 password hashes [env TINYTODO_CREDENTIALS, default credentials.json]",
    )
    parser.add_argument(
        "--secret-file",
        type=Path,
        default=Path(environ.get("TINYTODO_SECRET_FILE", ".tinytodo-secret")),
        help="the token signing secret, created if missing; every replica must share it "
        "(or set TINYTODO_SECRET) [env TINYTODO_SECRET_FILE, default .tinytodo-secret]",
    )
    parser.add_argument(
        "--token-ttl",
        type=_positive,
        default=environ.get("TINYTODO_TOKEN_TTL", "3600"),
        help="seconds a login token is valid [env TINYTODO_TOKEN_TTL, default 3600]",
    )
    parser.add_argument(
        "--allowed-hosts",
        default=environ.get("TINYTODO_ALLOWED_HOSTS", "localhost,127.0.0.1,::1"),
        help="comma-separated Host header values served (others get 400: no DNS rebinding) "
        "[env TINYTODO_ALLOWED_HOSTS, default localhost,127.0.0.1,::1]",
    )
    parser.add_argument(
        "--secure-cookies",
        action="store_true",
        default=environ.get("TINYTODO_SECURE_COOKIES", "").lower() in ("1", "true", "yes"),
        help="always send the web UI's cookies as Secure (with the __Host- prefix), e.g. behind "
        "a TLS proxy; without it, only requests that came over HTTPS get them "
        "[env TINYTODO_SECURE_COOKIES=1]",
    )
    parser.add_argument(
        "--max-lists-per-user",
        type=_positive,
        default=environ.get("TINYTODO_MAX_LISTS_PER_USER", "1000"),
        help="lists one user may own [env TINYTODO_MAX_LISTS_PER_USER, default 1000]",
    )
    parser.add_argument(
        "--max-tasks-per-list",
        type=_positive,
        default=environ.get("TINYTODO_MAX_TASKS_PER_LIST", "10000"),
        help="tasks one list may hold [env TINYTODO_MAX_TASKS_PER_LIST, default 10000]",
    )
    parser.add_argument(
        "--max-body",
        type=_positive,
        default=environ.get("TINYTODO_MAX_BODY", str(64 * 1024)),
        help="bytes in a request body [env TINYTODO_MAX_BODY, default 65536]",
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
        credentials=args.credentials,
        secret=environ.get("TINYTODO_SECRET") or None,
        secret_file=args.secret_file,
        token_ttl=float(args.token_ttl),
        allowed_hosts=tuple(h.strip() for h in args.allowed_hosts.split(",") if h.strip()),
        max_lists_per_user=args.max_lists_per_user,
        max_tasks_per_list=args.max_tasks_per_list,
        max_body=args.max_body,
        secure_cookies=args.secure_cookies,
    )


def hash_password_main(environ: Mapping[str, str]) -> int:
    """``python -m tinytodo_server hash-password``: read a password (twice, from the
    terminal; or one line from standard input) and print its argon2id hash."""
    import getpass

    from .auth import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("error: the passwords differ", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\n")
    if not password:
        print("error: empty password", file=sys.stderr)
        return 1
    print(hash_password(password))
    return 0


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, or SystemExit with one clear line."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it, a response written in two parts
    # waits for the client's delayed ACK (40 ms per request on a kept-alive connection).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise StartFailed(
                f"error: port {port} on {host} is already in use (another TinyTodo server?); "
                "stop it, or set TINYTODO_PORT (or --port) to a free port"
            ) from err
        raise StartFailed(f"error: cannot listen on {host}:{port}: {err.strerror or err}") from err
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class StartFailed(Exception):
    pass


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if environ is None else environ
    if args[:1] == ["hash-password"]:
        return hash_password_main(env)
    config = parse_config(args, env)
    logging.basicConfig(
        stream=sys.stderr,
        level=config.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Imported here so that `--help` and flag errors are fast.
    import uvicorn

    from .auth import AuthError, Credentials, TokenIssuer, load_secret
    from .core import Limits, StartupError, TinyTodo
    from .inputs import Security, WebLimits
    from .ui import UiConfig
    from .web import create_app

    try:
        sock = _bind(config.host, config.port)
    except StartFailed as err:
        print(err, file=sys.stderr)
        return 1
    try:
        security = Security(
            Credentials.load(config.credentials),
            TokenIssuer(load_secret(config.secret, config.secret_file), config.token_ttl),
        )
        core = TinyTodo.load(
            schema_path=config.schema,
            entities_path=config.entities,
            policies_path=config.policies,
            db=config.db,
            templates=config.templates,
            limits=Limits(config.max_lists_per_user, config.max_tasks_per_list),
        )
    except (StartupError, AuthError) as err:
        sock.close()
        print(err.render() if isinstance(err, StartupError) else f"error: {err}", file=sys.stderr)
        print("Failed to load entities, policies, schema, credentials or the database", file=sys.stderr)
        return 1
    log.info("Validation passed!")
    app = create_app(
        core,
        security,
        reload_interval=config.reload_interval,
        allowed_hosts=config.allowed_hosts,
        limits=WebLimits(max_body=config.max_body),
        ui=UiConfig(secure_cookies=True if config.secure_cookies else None),
    )
    server = uvicorn.Server(uvicorn.Config(app, log_level=config.log_level, access_log=False, lifespan="on"))
    log.info("Serving application server on %s:%d!", config.host, config.port)
    code = 0
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.run(sockets=[sock])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    if code or not server.started:
        core.close()
        print(f"TinyTodo server could not start on {config.host}:{config.port}", file=sys.stderr)
        return code or 1
    return 0
