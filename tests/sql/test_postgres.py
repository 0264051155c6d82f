"""The SQL filter property on a real PostgreSQL (``.ci/run`` starts one; see ``harness.py``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from ..skips import requires_service
from .harness import Outcome, run, summary

TOTAL = int(os.environ.get("CEDAR_SQL_EXAMPLES", "2000"))
SEED = int(os.environ.get("CEDAR_SQL_SEED", "20261130"))


@pytest.fixture
def pg_engine() -> Iterator[sa.Engine]:
    """An engine on a private schema of the TINYTODO_TEST_POSTGRES_URL database."""
    url = os.environ["TINYTODO_TEST_POSTGRES_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"cedar_sql_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = sa.create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@requires_service("postgresql")
def test_postgresql_answers_equal_brute_force(pg_engine: sa.Engine) -> None:
    outcome = run(TOTAL, SEED, Outcome(), pg_engine)
    print(f"postgresql: {summary(outcome.stats)}")
    assert not outcome.mismatches, "\n\n".join(outcome.mismatches)
    stats = outcome.stats
    assert stats["cases"] == TOTAL
    assert stats["nonempty answers"] >= 0.15 * stats["queries"], summary(stats)
    assert stats["exact filters"] >= 0.3 * stats["queries"], summary(stats)
