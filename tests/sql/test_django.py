"""The SQL filter property through Django's ORM on SQLite (see ``harness.py``).

Each generated case's tables are created (SQLAlchemy, committed) in one SQLite file that
Django also uses; a Django model (``managed = False``) is declared for each table, and
``authorized_queryset`` must return exactly the rows ``is_authorized`` allows. Exact filters
go through ``authorized_q`` (a ``Q`` object), the others through the Python check.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, seed, settings

import cedarlang
from cedarlang_sql import InexactFilterError, Mapping
from tests.differential.strategies import Case

from .harness import PROFILE, Outcome, build_tables, case_queries, load_rows, parse_case, summary

TOTAL = int(os.environ.get("CEDAR_SQL_EXAMPLES", "2000"))
SEED = int(os.environ.get("CEDAR_SQL_SEED", "20261130"))
_names = itertools.count()
_cases = itertools.count()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    import django
    from django.conf import settings as django_settings

    path = tmp_path_factory.mktemp("django") / "db.sqlite3"
    if django_settings.configured:  # pragma: no cover - one configuration per process
        pytest.fail("Django is already configured in this process")
    django_settings.configure(
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}},
        INSTALLED_APPS=[],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()
    yield path


def _models(mapping: Mapping) -> dict[str, Any]:
    """A Django model for each mapped table (unmanaged, unique class names)."""
    from django.db import models

    out = {}
    for entity_type, table in mapping.tables.items():
        attrs: dict[str, Any] = {
            "__module__": __name__,
            "Meta": type(
                "Meta", (), {"app_label": "cedar_sql_test", "db_table": table.core.name, "managed": False}
            ),
        }
        for column in table.core.columns:
            if column.name == table.key:
                attrs[column.name] = models.CharField(primary_key=True, max_length=200)
            elif isinstance(column.type, sa.Boolean):
                attrs[column.name] = models.BooleanField(null=True)
            elif isinstance(column.type, sa.Integer):
                attrs[column.name] = models.BigIntegerField(null=True)
            else:
                attrs[column.name] = models.TextField(null=True)
        out[entity_type] = type(f"Model{next(_names)}", (models.Model,), attrs)
    return out


def check_case(case: Case, outcome: Outcome, engine: sa.Engine) -> None:
    from cedarlang_sql.django import authorized_q, authorized_queryset

    stats = outcome.stats
    stats["cases"] += 1
    parsed = parse_case(case)
    if parsed is None:
        stats["cases rejected"] += 1
        return
    schema, ps, entities = parsed
    metadata = sa.MetaData()
    mapping = build_tables(schema, metadata, f"d{next(_names)}", closure=next(_cases) % 2 == 0)
    with engine.begin() as connection:
        metadata.create_all(connection, checkfirst=False)
        load_rows(mapping, entities, connection)
    models = _models(mapping)
    try:
        for r, unknown, entity_type, want, make_query in case_queries(
            case, mapping, ps, entities, schema, "sqlite"
        ):
            model = models[entity_type]
            try:
                query = make_query()
                got: list[str] | str = sorted(authorized_queryset(query, model).values_list("pk", flat=True))
                if query.filter.exact:
                    stats["exact filters (Q objects)"] += 1
                    exact_rows = model.objects.filter(authorized_q(query, model)).values_list("pk", flat=True)
                    assert sorted(exact_rows) == got
                else:
                    stats["filters checked in Python"] += 1
                    with pytest.raises(InexactFilterError):
                        authorized_q(query, model)
            except cedarlang.CedarError as err:
                got = f"rejected: {type(err).__name__}"
            stats["queries"] += 1
            if isinstance(want, list) and want:
                stats["nonempty answers"] += 1
            if got != want:
                stats["mismatches"] += 1
                if len(outcome.mismatches) < 5:
                    outcome.mismatches.append(
                        f"{unknown} query {r}\n  django: {got}\n  brute:  {want}\n  case: {case!r}"
                    )
    finally:
        with engine.begin() as connection:
            metadata.drop_all(connection, checkfirst=False)


def test_django_answers_equal_brute_force(database: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{database}")
    outcome = Outcome()

    @seed(SEED)
    @settings(
        max_examples=TOTAL,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(schema_cases_strategy())
    def body(case: Case) -> None:
        check_case(case, outcome, engine)

    try:
        body()
    finally:
        engine.dispose()
    print(f"django: {summary(outcome.stats)}")
    assert not outcome.mismatches, "\n\n".join(outcome.mismatches)
    stats = outcome.stats
    assert stats["cases"] == TOTAL
    assert stats["nonempty answers"] >= 0.15 * stats["queries"], summary(stats)
    assert stats["exact filters (Q objects)"] >= 0.3 * stats["queries"], summary(stats)


def schema_cases_strategy() -> Any:
    from tests.differential.schemacases import schema_cases

    return schema_cases(PROFILE)
