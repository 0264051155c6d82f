"""The SQL filter property: rows the SQL query returns = brute force, per backend.

Each case comes from the schema-shaped generator (``tests/differential/schemacases``),
always with its schema: the schema becomes tables (one per entity type: Bool, Long
and String attributes as columns, entity references as id columns, everything else
as Cedar JSON; tags as JSON) and a membership table (closure or direct edges,
alternating), the entities become rows, and each request becomes a resource query
(principal and action known) and a principal query (action and resource known).
The answer of ``AuthorizedQuery`` (paged, post-filtered where the SQL is a superset)
must equal ``is_authorized`` on every entity of the queried type.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, seed, settings

import cedarlang
from cedarlang.authorizer import Request, to_uid
from cedarlang.lexical import is_action_type
from cedarlang.schema.types import BoolType, EntityRefType, LongType, SetType, StringType
from cedarlang.values import EntityUid, to_json
from cedarlang_sql import (
    AuthorizedQuery,
    Column,
    EntityTable,
    Json,
    Mapping,
    Membership,
    RecordSet,
    Ref,
    RefSet,
)
from tests.differential.schemacases import SchemaProfile, schema_cases
from tests.differential.strategies import Case

PROFILE = SchemaProfile(name="sql", schema_share=1.0, nonconforming=0.0)
_counter = itertools.count()
_cases = itertools.count()


@dataclass
class Outcome:
    stats: Counter[str] = field(default_factory=Counter)
    mismatches: list[str] = field(default_factory=list)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", name).lower()


def build_tables(schema: cedarlang.Schema, metadata: sa.MetaData, prefix: str, closure: bool) -> Mapping:
    """Tables and the mapping for every entity type of ``schema``."""
    tables = []
    for name in sorted(_entity_types(schema)):
        decl = schema.entity_type(name)
        assert decl is not None
        columns: list[sa.Column[Any]] = [sa.Column("id", sa.String(200), primary_key=True)]
        attributes: dict[str, Any] = {}
        for i, (attr, spec) in enumerate(sorted(decl.shape.attributes.items())):
            col = f"a{i}"
            ty = spec.type
            if isinstance(ty, BoolType):
                columns.append(sa.Column(col, sa.Boolean))
                attributes[attr] = Column(col)
            elif isinstance(ty, LongType):
                columns.append(sa.Column(col, sa.BigInteger))
                attributes[attr] = Column(col)
            elif isinstance(ty, StringType):
                columns.append(sa.Column(col, sa.Text))
                attributes[attr] = Column(col)
            elif isinstance(ty, EntityRefType):
                columns.append(sa.Column(col, sa.String(200)))
                attributes[attr] = Ref(col, ty.name)
            elif isinstance(ty, SetType) and isinstance(ty.element, EntityRefType) and spec.required:
                assoc = sa.Table(
                    f"{prefix}_{_safe(name)}_{col}", metadata, sa.Column("owner", sa.String(200)),
                    sa.Column("member", sa.String(200)),
                )  # fmt: skip
                attributes[attr] = RefSet(assoc, "owner", "member", ty.element.name)
            else:
                columns.append(sa.Column(col, sa.Text))
                attributes[attr] = Json(col)
        columns.append(sa.Column("tags", sa.Text))
        table = sa.Table(f"{prefix}_{_safe(name)}", metadata, *columns)
        tables.append(EntityTable(name, table, "id", attributes, tags="tags"))
    membership_table = sa.Table(
        f"{prefix}_parents",
        metadata,
        sa.Column("child_type", sa.String(200)),
        sa.Column("child_id", sa.String(200)),
        sa.Column("parent_type", sa.String(200)),
        sa.Column("parent_id", sa.String(200)),
    )
    mapping = Mapping(tables, Membership(membership_table, closure=closure))
    mapping.check(schema)
    return mapping


def _entity_types(schema: cedarlang.Schema) -> list[str]:
    return sorted(t for t in schema.entity_types if not is_action_type(t))


def load_rows(mapping: Mapping, entities: cedarlang.Entities, connection: sa.Connection) -> None:
    for entity_type, table in mapping.tables.items():
        rows = []
        members: dict[str, list[dict[str, str]]] = {}
        for entity in entities:
            if entity.uid.type != entity_type:
                continue
            row: dict[str, Any] = {"id": entity.uid.id}
            for name, mapped in table.attributes.items():
                value = entity.attrs.get(name)
                assert not isinstance(mapped, RecordSet)  # these tests map no child tables
                if isinstance(mapped, RefSet):
                    members.setdefault(name, []).extend(
                        {"owner": entity.uid.id, "member": m.id} for m in (value or ())
                    )
                    continue
                if value is None:
                    row[mapped.column] = None
                elif isinstance(mapped, Ref):
                    row[mapped.column] = value.id
                elif isinstance(mapped, Json):
                    row[mapped.column] = json.dumps(to_json(value))
                else:
                    row[mapped.column] = value
            row["tags"] = json.dumps(to_json(entity.tags)) if entity.tags else None
            rows.append(row)
        if rows:
            connection.execute(table.core.insert(), rows)
        for name, pairs in members.items():
            mapped = table.attributes[name]
            assert isinstance(mapped, RefSet)
            if pairs:
                connection.execute(mapped.core.insert(), pairs)
    membership = mapping.membership
    assert membership is not None
    pairs = []
    for entity in entities:
        if is_action_type(entity.uid.type):
            continue
        parents = entity.ancestors if membership.closure else entity.parents
        for parent in parents:
            pairs.append(
                {
                    "child_type": entity.uid.type,
                    "child_id": entity.uid.id,
                    "parent_type": parent.type,
                    "parent_id": parent.id,
                }
            )
    if pairs:
        connection.execute(membership.core.insert(), pairs)


def _brute(
    unknown: str,
    entity_type: str,
    known: dict[str, EntityUid],
    context: Any,
    ps: cedarlang.PolicySet,
    entities: cedarlang.Entities,
    schema: cedarlang.Schema,
) -> list[str] | str:
    az = cedarlang.Authorizer()
    out = []
    for entity in entities:
        if entity.uid.type != entity_type:
            continue
        variables = {**known, unknown: entity.uid}
        try:
            request = Request(
                variables["principal"], variables["action"], variables["resource"], context, schema=schema
            )
        except cedarlang.CedarError as err:
            return f"rejected: {type(err).__name__}"
        if az.is_authorized(request, ps, entities).allowed:
            out.append(entity.uid.id)
    return sorted(out)


def parse_case(case: Case) -> tuple[cedarlang.Schema, cedarlang.PolicySet, cedarlang.Entities] | None:
    """The case's schema, policies and entities (``None`` when one of them is rejected)."""
    try:
        schema = cedarlang.Schema.from_json(case.schema_json() or "{}")
        ps = cedarlang.PolicySet.from_str(case.policy_text())
        entities = cedarlang.Entities.from_json(case.entities_json(), schema=schema)
    except cedarlang.CedarError:
        return None
    return schema, ps, entities


QueryCase = tuple[dict[str, Any], str, str, list[str] | str, Callable[[], AuthorizedQuery]]
"""(request, unknown, entity type, brute-force answer, build the query: may raise CedarError)."""


def case_queries(
    case: Case,
    mapping: Mapping,
    ps: cedarlang.PolicySet,
    entities: cedarlang.Entities,
    schema: cedarlang.Schema,
    dialect: str,
) -> Iterator[QueryCase]:
    """Each request of the case as a resource query and a principal query."""
    for r in case.requests:
        try:
            p, a, res = (to_uid(r[k]) for k in ("principal", "action", "resource"))
        except cedarlang.CedarError:
            continue
        context = r.get("context") or {}
        options: dict[str, Any] = {"dialect": dialect, "context": context, "schema": schema}
        yield (
            r,
            "resource",
            res.type,
            _brute("resource", res.type, {"principal": p, "action": a}, context, ps, entities, schema),
            partial(AuthorizedQuery.resources, mapping, p, a, res.type, ps, entities, **options),
        )
        yield (
            r,
            "principal",
            p.type,
            _brute("principal", p.type, {"action": a, "resource": res}, context, ps, entities, schema),
            partial(AuthorizedQuery.principals, mapping, a, res, p.type, ps, entities, **options),
        )


def check_case(case: Case, outcome: Outcome, engine: sa.Engine) -> None:
    stats = outcome.stats
    stats["cases"] += 1
    parsed = parse_case(case)
    if parsed is None:
        stats["cases rejected"] += 1
        return
    schema, ps, entities = parsed
    closure = next(_cases) % 2 == 0  # membership as a closure table, or edges (recursive CTE)
    metadata = sa.MetaData()
    prefix = f"c{next(_counter)}"
    mapping = build_tables(schema, metadata, prefix, closure)
    with engine.connect() as connection, connection.begin() as transaction:
        # the tables live in one transaction that is rolled back (DDL included): cheap cleanup
        metadata.create_all(connection, checkfirst=False)
        try:
            load_rows(mapping, entities, connection)
            for r, unknown, entity_type, want, make_query in case_queries(
                case, mapping, ps, entities, schema, engine.dialect.name
            ):
                try:
                    query = make_query()
                    got: list[str] | str = _paged(query, connection)
                    exact = query.filter.exact
                except cedarlang.CedarError as err:
                    got, exact = f"rejected: {type(err).__name__}", True
                stats["queries"] += 1
                stats["closure table" if closure else "edges (recursive CTE)"] += 1
                stats["exact filters" if exact else "filters checked in Python"] += 1
                if isinstance(want, list) and want:
                    stats["nonempty answers"] += 1
                if isinstance(want, str):
                    stats["rejected queries"] += 1
                    if isinstance(got, str) or not _candidates(entities, entity_type):
                        continue
                if got != want:
                    stats["mismatches"] += 1
                    if len(outcome.mismatches) < 5:
                        outcome.mismatches.append(
                            f"{unknown} query {r}\n  sql:   {got}\n  brute: {want}\n  case: {case!r}"
                        )
        finally:
            transaction.rollback()


def _candidates(entities: cedarlang.Entities, entity_type: str) -> bool:
    return any(e.uid.type == entity_type for e in entities)


def _paged(query: AuthorizedQuery, connection: sa.Connection) -> list[str]:
    """The answer; every fourth query page by page (size 2), checked against ``all`` and ``count``."""
    if next(_counter) % 4:
        return sorted(query.all(connection))
    out: list[str] = []
    after = None
    while True:
        page = query.page(connection, after=after, limit=2)
        out.extend(page.ids)
        if page.next_after is None:
            break
        after = page.next_after
    assert out == query.all(connection) and len(out) == query.count(connection), (out, query.all(connection))
    return sorted(out)


def run(examples: int, seed_value: int, outcome: Outcome, engine: sa.Engine) -> Outcome:
    @seed(seed_value)
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(schema_cases(PROFILE))
    def body(case: Case) -> None:
        check_case(case, outcome, engine)

    body()
    return outcome


def summary(stats: Counter[str]) -> str:
    return ", ".join(f"{key}: {value}" for key, value in sorted(stats.items()))


@contextmanager
def sqlite_engine() -> Iterator[sa.Engine]:
    engine = sa.create_engine("sqlite://")
    try:
        yield engine
    finally:
        engine.dispose()
