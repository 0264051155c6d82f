from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import quote

import pytest

with warnings.catch_warnings():
    # Starlette 1.x nags about httpx (it prefers httpx2) in its TestClient.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from tinytodo_server import Credentials, Limits, Security, TinyTodo, TokenIssuer, create_app

from .helpers import MODES, Api, append_admin_policy, copy_tinytodo, policies_file


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A private copy of the tinytodo/ folder."""
    return copy_tinytodo(tmp_path / "tinytodo")


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


TEST_SECRET = b"test-secret-" + b"x" * 32

AppFactory = Callable[..., tuple[Api, TinyTodo]]


@pytest.fixture
def make_app(workdir: Path, mode: str) -> Iterator[AppFactory]:
    """Build an in-process server (Starlette TestClient) over ``workdir``.

    ``make_app(admin_policy=True)`` appends the blog's admin policy first.
    """
    stack = ExitStack()

    def factory(
        *,
        admin_policy: bool = False,
        db: str | None = None,
        reload_interval: float = 0,
        limits: Limits | None = None,
    ) -> tuple[Api, TinyTodo]:
        templates = mode == "templates"
        if admin_policy:
            append_admin_policy(workdir, templates)
        core = TinyTodo.load(
            schema_path=workdir / ("tinytodo-templates.cedarschema" if templates else "tinytodo.cedarschema"),
            entities_path=workdir / "entities.json",
            policies_path=policies_file(workdir, templates),
            db=db,
            templates=templates,
            limits=limits,
        )
        security = Security(Credentials.load(workdir / "credentials.json"), TokenIssuer(TEST_SECRET))
        app = create_app(core, security, reload_interval=reload_interval)
        client = stack.enter_context(TestClient(app, base_url="http://localhost"))
        return Api(client), core

    with stack:
        yield factory


POSTGRES_URL = os.environ.get("TINYTODO_TEST_POSTGRES_URL")


def _with_search_path(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A private schema in the PostgreSQL database of TINYTODO_TEST_POSTGRES_URL."""
    import psycopg

    assert POSTGRES_URL, "the requires_service('postgresql') mark guards this"
    schema = f"tinytodo_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield _with_search_path(POSTGRES_URL, schema)
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
