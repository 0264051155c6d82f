"""The ``cedar serve`` command (click only here: the server is imported when it runs)."""

from __future__ import annotations

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
        from . import app, config, server
        from .errors import ServeError, StoreError
    except ImportError as err:  # pragma: no cover - depends on the installed extras
        raise click.ClickException(
            f"cedar serve needs the `serve` extra ({err}); pip install 'cedarlang[serve]'"
        ) from err
    settings = {k: v for k, v in options.items() if v is not None}
    settings["annotations"] = tuple(options["annotations"])  # type: ignore[arg-type]
    cfg = config.ServeConfig(store=store, **settings)  # type: ignore[arg-type]
    try:
        asgi = app.build(cfg)  # the store must load before anything is served
    except ServeError as err:
        click.echo(f"error: {err.render() if isinstance(err, StoreError) else err}", err=True)
        sys.exit(2)
    # several workers build their own (one shared page secret, through the environment)
    server.run(cfg, asgi if cfg.workers == 1 else None)
