"""Authorized SQL on a TinyTodo-shaped PostgreSQL database vs per-list authorization.

    python benchmarks/sql_filter.py --url postgresql://postgres@127.0.0.1:55432/tinytodo_test
    python benchmarks/sql_filter.py --url ... --lists 100000 --users 1000   # smaller

Builds (in a fresh schema, dropped at the end) ``users``, ``lists`` (owner, readers team,
editors team, name) and a closure membership table ``parents`` (users in the reader and
editor teams of lists shared with them), with the indexes the filter needs::

    lists (owner_id, id), lists (readers_id, id), lists (editors_id, id)
    parents (child_type, child_id), parents (parent_type, parent_id, child_type)

Then, for ``--sample`` users, "the first 50 lists this user may read" (TinyTodo's
``policies.cedar``, action ``GetList``): the user's teams are read from ``parents``
(the known side, in memory), the policies become one SQL query, the first page is
fetched. Printed: p50 / p99 over the users, and the same answer computed by
authorizing every list in memory (a few users: it is slow) with the ratio.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

import cedarlang
from cedarlang import Entities, Entity, EntityUid
from cedarlang_sql import AuthorizedQuery, Column, EntityTable, Json, Mapping, Membership, Ref

ROOT = Path(__file__).resolve().parents[1]


def tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table, sa.Table]:
    users = sa.Table(
        "users", metadata, sa.Column("id", sa.Text, primary_key=True),
        sa.Column("joblevel", sa.BigInteger), sa.Column("location", sa.Text),
    )  # fmt: skip
    lists = sa.Table(
        "lists", metadata, sa.Column("id", sa.Text, primary_key=True), sa.Column("owner_id", sa.Text),
        sa.Column("readers_id", sa.Text), sa.Column("editors_id", sa.Text), sa.Column("name", sa.Text),
        sa.Column("tasks", sa.Text),
    )  # fmt: skip
    parents = sa.Table(
        "parents",
        metadata,
        *(sa.Column(c, sa.Text) for c in ("child_type", "child_id", "parent_type", "parent_id")),
    )
    sa.Index("lists_owner", lists.c.owner_id, lists.c.id)
    sa.Index("lists_readers", lists.c.readers_id, lists.c.id)
    sa.Index("lists_editors", lists.c.editors_id, lists.c.id)
    sa.Index("parents_child", parents.c.child_type, parents.c.child_id)
    sa.Index("parents_parent", parents.c.parent_type, parents.c.parent_id, parents.c.child_type)
    return users, lists, parents


def mapping(users: sa.Table, lists: sa.Table, parents: sa.Table) -> Mapping:
    return Mapping(
        [
            EntityTable(
                "User", users, attributes={"joblevel": Column("joblevel"), "location": Column("location")}
            ),
            EntityTable(
                "List",
                lists,
                attributes={
                    "owner": Ref("owner_id", "User"),
                    "readers": Ref("readers_id", "Team"),
                    "editors": Ref("editors_id", "Team"),
                    "name": Column("name"),
                    "tasks": Json("tasks"),
                },
            ),
        ],
        Membership(parents, closure=True),
    )


def copy_rows(conn: sa.Connection, table: str, rows: list[tuple[str, ...]]) -> None:
    raw = conn.connection.driver_connection
    assert raw is not None
    buffer = io.StringIO("".join("\t".join(row) + "\n" for row in rows))
    with raw.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN") as copy:  # type: ignore[attr-defined]
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


def populate(conn: sa.Connection, n_lists: int, n_users: int, seed: int) -> dict[str, list[tuple[str, ...]]]:
    rnd = random.Random(seed)
    users = [(f"u{i}", str(rnd.randint(1, 9)), f"L{i % 7}") for i in range(n_users)]
    lists, memberships = [], []
    for i in range(n_lists):
        lists.append((f"{i:07d}", f"u{rnd.randrange(n_users)}", f"r{i}", f"e{i}", f"list {i}", "[]"))
        if rnd.random() < 0.1:
            memberships.append(("User", f"u{rnd.randrange(n_users)}", "Team", f"r{i}"))
        if rnd.random() < 0.05:
            memberships.append(("User", f"u{rnd.randrange(n_users)}", "Team", f"e{i}"))
    copy_rows(conn, "users", users)
    copy_rows(conn, "lists", lists)
    copy_rows(conn, "parents", memberships)
    return {"users": users, "lists": lists, "parents": memberships}


def known_side(conn: sa.Connection, parents: sa.Table, user: str) -> Entities:
    """The principal and its teams (what the application keeps or loads per request)."""
    rows = conn.execute(
        sa.select(parents.c.parent_type, parents.c.parent_id).where(
            parents.c.child_type == "User", parents.c.child_id == user
        )
    )
    teams = [EntityUid(t, i) for t, i in rows]
    return Entities([Entity(EntityUid("User", user), {}, teams), *(Entity(t) for t in teams)])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="postgresql://... (a schema is created and dropped)")
    parser.add_argument("--lists", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=200, help="users timed")
    parser.add_argument("--brute", type=int, default=2, help="users also answered by per-list authorization")
    args = parser.parse_args()

    url = args.url.replace("postgresql://", "postgresql+psycopg://", 1)
    schema_name = f"cedar_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema_name}"'))
    engine = sa.create_engine(url, connect_args={"options": f"-csearch_path={schema_name}"})
    try:
        metadata = sa.MetaData()
        users, lists, parents = tables(metadata)
        m = mapping(users, lists, parents)
        schema = cedarlang.Schema.from_str((ROOT / "tinytodo" / "tinytodo.cedarschema").read_text())
        policies = cedarlang.PolicySet.from_str((ROOT / "tinytodo" / "policies.cedar").read_text())
        start = time.perf_counter()
        with engine.begin() as conn:
            metadata.create_all(conn)
            data = populate(conn, args.lists, args.users, 7)
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
        print(
            f"# loaded {args.lists:,} lists, {args.users:,} users, {len(data['parents']):,} memberships "
            f"in {time.perf_counter() - start:.1f} s",
            file=sys.stderr,
        )
        rnd = random.Random(11)
        sample = [f"u{rnd.randrange(args.users)}" for _ in range(args.sample)]
        times, sizes = [], []
        answers: dict[str, list[str]] = {}
        with engine.connect() as conn:
            for user in sample:
                t0 = time.perf_counter()
                known = known_side(conn, parents, user)
                query = AuthorizedQuery.resources(
                    m, EntityUid("User", user), 'Action::"GetList"', "List", policies, known,
                    dialect="postgresql", schema=schema,
                )  # fmt: skip
                page = query.page(conn, limit=50)
                times.append(time.perf_counter() - t0)
                sizes.append(len(page.ids))
                answers[user] = page.ids
                assert query.filter.exact
        p50, p99 = statistics.median(times), sorted(times)[int(len(times) * 0.99) - 1]
        print(
            f"first 50 lists a user may read: p50 {p50 * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms "
            f"over {len(sample)} users (median page {statistics.median(sizes):.0f} lists)"
        )
        # the same answers by authorizing every list in memory
        t0 = time.perf_counter()
        uid = EntityUid
        store = [Entity(uid("User", u), {"joblevel": int(j), "location": loc}) for u, j, loc in data["users"]]
        by_user: dict[str, list[EntityUid]] = {}
        for _child_type, child, parent_type, parent in data["parents"]:
            by_user.setdefault(child, []).append(uid(parent_type, parent))
        store = [Entity(e.uid, e.attrs, by_user.get(e.uid.id, ())) for e in store]
        store += [
            Entity(uid("List", i), {"owner": uid("User", o), "readers": uid("Team", r), "editors": uid("Team", e),
                                     "name": n, "tasks": cedarlang.CedarSet()})
            for i, o, r, e, n, _ in data["lists"]
        ]  # fmt: skip
        entities = Entities(store)
        print(f"# in-memory store built in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        az = cedarlang.Authorizer()
        brute_times = []
        list_uids = [uid("List", row[0]) for row in data["lists"]]
        for user in sample[: args.brute]:
            t0 = time.perf_counter()
            principal = uid("User", user)
            allowed = [
                u.id for u in list_uids
                if az.is_authorized(cedarlang.Request(principal, 'Action::"GetList"', u), policies, entities).allowed
            ]  # fmt: skip
            brute_times.append(time.perf_counter() - t0)
            if sorted(allowed)[:50] != answers[user]:
                raise SystemExit(f"answers differ for {user}")
        brute = statistics.median(brute_times)
        print(
            f"per-list authorization of all {args.lists:,} lists: {brute * 1e3:.0f} ms per user "
            f"({len(brute_times)} users, same first 50 lists); ratio SQL p50 / per-list = {p50 / brute:.5f}"
        )
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema_name}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
