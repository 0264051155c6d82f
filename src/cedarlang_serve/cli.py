"""The ``cedar serve`` command (click only here: the server is imported when it runs)."""

from __future__ import annotations

import os
import sys

import click


@click.command("serve")
@click.argument("store", metavar="STORE")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8180, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1), help="Worker processes.")
@click.option(
    "--seed", metavar="DIR", help="With a postgresql:// STORE: fill an empty database store from DIR."
)
@click.option(
    "--admin-token",
    envvar="CEDAR_SERVE_ADMIN_TOKEN",
    help="Turn on the admin API, guarded by this bearer token (env CEDAR_SERVE_ADMIN_TOKEN).",
)
@click.option(
    "--page-secret",
    envvar="CEDAR_SERVE_PAGE_SECRET",
    help="Key of the search page tokens; the same on every replica (env CEDAR_SERVE_PAGE_SECRET). "
    "Default: random per start.",
)
@click.option("--public-url", help="The PDP's public base URL for discovery (default: the request's).")
@click.option(
    "--reload-interval",
    default=1.0,
    show_default=True,
    type=float,
    help="Seconds between store checks; 0: off.",
)
@click.option("--reasons", is_flag=True, help="Put the determining policy ids in decision contexts.")
@click.option(
    "--annotation", "annotations", multiple=True, metavar="KEY", help="Report this annotation's values too."
)
@click.option(
    "--max-page-size", default=1000, show_default=True, type=click.IntRange(1), help="Search page cap."
)
@click.option("--decision-log", metavar="PATH", help="Write JSON decision logs here ('-': stdout).")
@click.option("--log-level", default="info", show_default=True, help="Service log level.")
def serve(store: str, **options: object) -> None:
    """Serve STORE (a directory of *.cedar, *.cedarschema, entities.json, authzen.json, or a
    postgresql:// URL) as an AuthZEN 1.0 policy decision point."""
    try:
        import uvicorn

        from . import app, config
        from .errors import ServeError
    except ImportError as err:  # pragma: no cover - depends on the installed extras
        raise click.ClickException(
            f"cedar serve needs the `serve` extra ({err}); pip install 'cedarlang[serve]'"
        ) from err
    settings = {k: v for k, v in options.items() if v is not None}
    settings["annotations"] = tuple(options["annotations"])  # type: ignore[arg-type]
    cfg = config.ServeConfig(store=store, **settings)  # type: ignore[arg-type]
    if cfg.workers == 1:
        try:
            asgi = app.build(cfg)
        except ServeError as err:
            message = err.render() if hasattr(err, "render") else str(err)
            click.echo(f"error: {message}", err=True)
            sys.exit(2)
        uvicorn.run(asgi, host=cfg.host, port=cfg.port, log_level=cfg.log_level, access_log=False)
        return
    # several processes: each builds the app from the same settings (one shared page secret)
    try:
        app.build(cfg)  # fail here, once, if the store does not load
    except ServeError as err:
        message = err.render() if hasattr(err, "render") else str(err)
        click.echo(f"error: {message}", err=True)
        sys.exit(2)
    os.environ[config.ENV] = cfg.to_env()
    uvicorn.run(
        "cedarlang_serve.app:app_from_env",
        factory=True,
        host=cfg.host,
        port=cfg.port,
        workers=cfg.workers,
        log_level=cfg.log_level,
        access_log=False,
    )
