"""The SQL fragment, row by row (README "Authorized SQL queries"): what translates exactly,
what is checked in Python, and that the answers equal brute force either way. Also: no
value text in the generated SQL, hostile ids, NUL, paging and the ORM helper."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import cedarlang
from cedarlang.authorizer import Request
from cedarlang.values import to_json
from cedarlang_sql import (
    AuthorizedQuery,
    Column,
    EntityTable,
    InexactFilterError,
    Json,
    Mapping,
    MappingError,
    Membership,
    RecordSet,
    Ref,
    RefSet,
    SqlAuthorizer,
    SqlValueError,
)

SCHEMA = cedarlang.Schema.from_str("""
entity Team in [Team];
entity User in [Team] { level: Long, name: String };
entity Folder in [Folder];
entity Doc in [Folder] {
    owner: User, title: String, size: Long, public: Bool, note?: String,
    tags: Set<String>, meta: { color: String }, viewers: Set<User>,
};
action view appliesTo { principal: User, resource: Doc, context: { mfa?: Bool } };
""")


class Base(DeclarativeBase):
    pass


class TeamRow(Base):
    __tablename__ = "teams"
    id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    level: Mapped[int] = mapped_column(sa.BigInteger)
    name: Mapped[str] = mapped_column(sa.Text)


class FolderRow(Base):
    __tablename__ = "folders"
    id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)


class DocRow(Base):
    __tablename__ = "docs"
    id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    owner_id: Mapped[str] = mapped_column(sa.String(100))
    title: Mapped[str] = mapped_column(sa.Text)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    public: Mapped[bool] = mapped_column(sa.Boolean)
    note: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    tags: Mapped[str] = mapped_column(sa.Text)
    meta: Mapped[str] = mapped_column(sa.Text)


parents = sa.Table(
    "parents",
    Base.metadata,
    sa.Column("child_type", sa.String(100)),
    sa.Column("child_id", sa.String(100)),
    sa.Column("parent_type", sa.String(100)),
    sa.Column("parent_id", sa.String(100)),
)

doc_viewers = sa.Table(
    "doc_viewers", Base.metadata, sa.Column("doc_id", sa.String(100)), sa.Column("user_id", sa.String(100))
)

DOC_ATTRS: dict[str, Column | Ref | Json | RefSet] = {
    "viewers": RefSet(doc_viewers, "doc_id", "user_id", "User"),
    "owner": Ref("owner_id", "User"),
    "title": Column("title"),
    "size": Column("size"),
    "public": Column("public"),
    "note": Column("note"),
    "tags": Json("tags"),
    "meta": Json("meta"),
}
HOSTILE = ["o'brien", 'say "hi"', "100%", "a_b", "back\\slash", "x' OR '1'='1", "--", "ünï😀"]


def mapping(closure: bool = True) -> Mapping:
    m = Mapping(
        [
            EntityTable("Team", TeamRow),
            EntityTable("User", UserRow, attributes={"level": Column("level"), "name": Column("name")}),
            EntityTable("Folder", FolderRow),
            EntityTable("Doc", DocRow, attributes=DOC_ATTRS),
        ],
        Membership(parents, closure=closure),
    )
    m.check(SCHEMA)
    return m


def entity_data() -> list[dict[str, Any]]:
    def uid(t: str, i: str) -> dict[str, str]:
        return {"type": t, "id": i}

    data: list[dict[str, Any]] = [
        {"uid": uid("Team", "eng"), "attrs": {}, "parents": []},
        {"uid": uid("Team", "web"), "attrs": {}, "parents": [uid("Team", "eng")]},
        {"uid": uid("Folder", "root"), "attrs": {}, "parents": []},
        {"uid": uid("Folder", "sub"), "attrs": {}, "parents": [uid("Folder", "root")]},
    ]
    users = ["alice", "bob", *HOSTILE]
    for n, name in enumerate(users):
        team = ["web"] if n % 2 else []
        data.append(
            {
                "uid": uid("User", name),
                "attrs": {"level": n, "name": name},
                "parents": [uid("Team", t) for t in team],
            }
        )
    for n in range(24):
        owner = users[n % len(users)]
        attrs: dict[str, Any] = {
            "owner": {"__entity": uid("User", owner)},
            "title": ["plan", "Plan", "pl*n", "100% done", "a_b", "x\\y"][n % 6] + f" {n}",
            "size": n * 10,
            "public": n % 3 == 0,
            "tags": ["red"] if n % 4 == 0 else ["blue", "green"],
            "meta": {"color": "red" if n % 2 else "blue"},
            "viewers": [{"__entity": uid("User", users[(n * 3 + k) % len(users)])} for k in range(n % 3)],
        }
        if n % 5:
            attrs["note"] = f"n{n}"
        folder = ["root", "sub"][n % 2] if n % 3 else None
        doc_id = HOSTILE[n % len(HOSTILE)] + str(n) if n % 4 == 1 else f"d{n:02}"
        data.append(
            {"uid": uid("Doc", doc_id), "attrs": attrs, "parents": [uid("Folder", folder)] if folder else []}
        )
    return data


ENTITIES = cedarlang.Entities.from_json(entity_data(), schema=SCHEMA)


def load(m: Mapping, conn: sa.Connection) -> None:
    for entity in ENTITIES:
        table = m.tables.get(entity.uid.type)
        if table is None:
            continue
        row: dict[str, Any] = {table.key: entity.uid.id}
        members = []
        for name, mapped in table.attributes.items():
            value = entity.attrs.get(name)
            assert not isinstance(mapped, RecordSet)  # no child tables here
            if isinstance(mapped, RefSet):
                members = [{mapped.owner: entity.uid.id, mapped.member: m.id} for m in (value or ())]
                continue
            if value is None:
                row[mapped.column] = None
            elif isinstance(mapped, Ref):
                row[mapped.column] = value.id
            elif isinstance(mapped, Json):
                row[mapped.column] = json.dumps(to_json(value))
            else:
                row[mapped.column] = value
        conn.execute(table.core.insert(), [row])
        if members:
            conn.execute(doc_viewers.insert(), members)
        assert m.membership is not None
        ancestors = entity.ancestors if m.membership.closure else entity.parents
        for parent in ancestors:
            conn.execute(
                parents.insert(),
                [
                    {
                        "child_type": entity.uid.type,
                        "child_id": entity.uid.id,
                        "parent_type": parent.type,
                        "parent_id": parent.id,
                    }
                ],
            )


@pytest.fixture(params=[True, False], ids=["closure", "edges"])
def db(request: pytest.FixtureRequest) -> Iterator[tuple[Mapping, sa.Connection]]:
    engine = sa.create_engine("sqlite://")
    m = mapping(closure=request.param)
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        load(m, conn)
    with engine.connect() as conn:
        yield m, conn
    engine.dispose()


def brute(policies: cedarlang.PolicySet, principal: str, context: dict[str, Any]) -> list[str]:
    az = cedarlang.Authorizer()
    return sorted(
        e.uid.id
        for e in ENTITIES
        if e.uid.type == "Doc"
        and az.is_authorized(
            Request(principal, 'Action::"view"', e.uid, context, schema=SCHEMA), policies, ENTITIES
        ).allowed
    )


# (README fragment row, condition, translates exactly)
FRAGMENT = [
    ("scope `==`", 'permit(principal, action, resource == Doc::"d02");', True),
    ("scope `in` (membership table)", 'permit(principal, action, resource in Folder::"root");', True),
    ("scope `is ... in`", 'permit(principal, action, resource is Doc in Folder::"sub");', True),
    (
        "`==` on an entity reference",
        "permit(principal, action, resource) when { resource.owner == principal };",
        True,
    ),
    (
        "`==`, `!=` on a column",
        'permit(principal, action, resource) when { resource.title != "plan 0" };',
        True,
    ),
    (
        "`<` `<=` `>` `>=` on Long",
        "permit(principal, action, resource) when { resource.size >= 100 && resource.size < 200 };",
        True,
    ),
    (
        "Bool attribute as a condition, `!`",
        "permit(principal, action, resource) when { resource.public && !(resource.size > 150) };",
        True,
    ),
    (
        "`like` with `*` and `\\*`",
        'permit(principal, action, resource) when { resource.title like "pl\\\\*n*" || resource.title like "*% done*" };',
        True,
    ),
    (
        "`has` on an optional attribute",
        'permit(principal, action, resource) when { resource has note && resource.note == "n1" };',
        True,
    ),
    (
        "a path through a reference",
        "permit(principal, action, resource) when { resource.owner.level > 3 };",
        True,
    ),
    (
        "`in` on a reference",
        'permit(principal, action, resource) when { resource.owner in Team::"eng" };',
        True,
    ),
    (
        "known `in` attribute",
        "permit(principal, action, resource) when { principal in resource.owner };",
        True,
    ),
    ("`is`", "permit(principal, action, resource) when { resource.owner is User };", True),
    (
        "`if then else`, `||`",
        "permit(principal, action, resource) when { if resource.public then resource.size > 50 else resource.owner == principal };",
        True,
    ),
    (
        "forbid overrides permit",
        "permit(principal, action, resource); forbid(principal, action, resource) when { resource.size > 100 };",
        True,
    ),
    (
        "known parts evaluated first (context, principal)",
        "permit(principal, action, resource) when { context has mfa && context.mfa && principal.level < resource.size };",
        True,
    ),
    (
        "errors skip the policy (`unless` on an absent attribute)",
        'permit(principal, action, resource) unless { resource.note == "n1" };',
        True,
    ),
    (
        "association table: `in`",
        "permit(principal, action, resource) when { principal in resource.viewers };",
        True,
    ),
    (
        "association table: `contains`, `containsAny`, `containsAll`",
        "permit(principal, action, resource) when { resource.viewers.contains(principal) "
        '|| resource.viewers.containsAny([User::"bob", User::"alice"]) '
        '|| resource.viewers.containsAll([User::"o\'brien", User::"--"]) };',
        True,
    ),
    (
        "association table: `isEmpty`",
        "permit(principal, action, resource) when { resource.viewers.isEmpty() };",
        True,
    ),
    (
        "set operations (JSON column): checked in Python",
        'permit(principal, action, resource) when { resource.tags.contains("red") };',
        False,
    ),
    (
        "records (JSON column): checked in Python",
        'permit(principal, action, resource) when { resource.meta.color == "red" };',
        False,
    ),
    (
        "extension functions: checked in Python",
        'permit(principal, action, resource) when { decimal("1.5").lessThan(decimal("2.0")) && resource.tags.isEmpty() };',
        False,
    ),
    (
        "an untranslated forbid: checked in Python",
        'permit(principal, action, resource); forbid(principal, action, resource) when { resource.tags.contains("red") };',
        False,
    ),
]


@pytest.mark.parametrize(("row", "policy_text", "exact"), FRAGMENT, ids=[r for r, _, _ in FRAGMENT])
@pytest.mark.parametrize(
    "principal", ['User::"alice"', 'User::"bob"', str(cedarlang.EntityUid("User", HOSTILE[5]))]
)
def test_fragment_row(
    db: tuple[Mapping, sa.Connection], row: str, policy_text: str, exact: bool, principal: str
) -> None:
    m, conn = db
    policies = cedarlang.PolicySet.from_str(policy_text)
    context = {"mfa": True}
    query = AuthorizedQuery.resources(
        m,
        principal,
        'Action::"view"',
        "Doc",
        policies,
        ENTITIES,
        dialect="sqlite",
        context=context,
        schema=SCHEMA,
    )
    assert query.filter.exact is exact
    assert query.all(conn) == brute(policies, principal, context)
    if exact:
        rows = conn.execute(sa.select(DocRow.__table__.c.id).where(query.where(DocRow)).order_by("id"))
        assert [r[0] for r in rows] == brute(policies, principal, context)
    else:
        with pytest.raises(InexactFilterError):
            query.where(DocRow)


def test_generated_sql_holds_no_value_text() -> None:
    m = mapping()
    hostile_text = "x' OR '1'='1 %_\\"
    policies = cedarlang.PolicySet.from_str(
        "permit(principal, action, resource) when { resource.title == "
        + json.dumps(hostile_text)
        + ' || resource.title like "*%_\\\\**" || resource in Folder::"o\'brien" || resource.owner == principal };'
    )
    query = AuthorizedQuery.resources(
        m,
        cedarlang.EntityUid("User", "o'brien"),
        'Action::"view"',
        "Doc",
        policies,
        ENTITIES,
        dialect="postgresql",
        schema=SCHEMA,
    )
    dialects: list[sa.Dialect] = [sqlite.dialect(), postgresql.dialect()]  # type: ignore[no-untyped-call]
    for dialect in dialects:
        compiled = query.select().compile(dialect=dialect)
        text = str(compiled)
        for fragment in ("o'brien", "OR '1'", "%_", "Folder"):
            assert fragment not in text, (fragment, text)
        assert hostile_text in compiled.params.values()
        assert "o'brien" in compiled.params.values()


def test_orm_select_with_hostile_ids(db: tuple[Mapping, sa.Connection]) -> None:
    m, conn = db
    policies = cedarlang.PolicySet.from_str(
        "permit(principal, action, resource) when { resource.owner == principal };"
    )
    for name in HOSTILE:
        principal = cedarlang.EntityUid("User", name)
        query = AuthorizedQuery.resources(
            m, principal, 'Action::"view"', "Doc", policies, ENTITIES, dialect="sqlite", schema=SCHEMA
        )
        with Session(conn) as session:
            docs = session.scalars(sa.select(DocRow).where(query.where(DocRow)).order_by(DocRow.id)).all()
        assert [d.id for d in docs] == brute(policies, str(principal), {})
        assert docs, name  # each hostile user owns documents


def test_nul_is_refused_for_postgresql() -> None:
    policies = cedarlang.PolicySet.from_str(
        'permit(principal, action, resource) when { resource.title == "a\\0b" };'
    )
    with pytest.raises(SqlValueError, match="NUL"):
        AuthorizedQuery.resources(
            mapping(),
            'User::"alice"',
            'Action::"view"',
            "Doc",
            policies,
            ENTITIES,
            dialect="postgresql",
            schema=SCHEMA,
        )


def test_paging_never_drops_or_repeats(db: tuple[Mapping, sa.Connection]) -> None:
    m, conn = db
    for text in (
        "permit(principal, action, resource);",
        'permit(principal, action, resource) when { resource.tags.contains("blue") };',
    ):
        policies = cedarlang.PolicySet.from_str(text)
        query = AuthorizedQuery.resources(
            m, 'User::"alice"', 'Action::"view"', "Doc", policies, ENTITIES, dialect="sqlite"
        )
        want = brute(policies, 'User::"alice"', {})
        for limit in (1, 2, 5, 100):
            got: list[str] = []
            after = None
            while True:
                page = query.page(conn, after=after, limit=limit)
                assert len(page.ids) <= limit
                got.extend(page.ids)
                if page.next_after is None:
                    break
                assert len(page.ids) == limit  # a page is short only when it is the last
                after = page.next_after
            assert sorted(got) == want and len(got) == len(set(got))
        assert query.count(conn) == len(want)


def test_mapping_errors_are_clear() -> None:
    with pytest.raises(MappingError, match="attribute `title` of `Doc` has no column"):
        Mapping(
            [EntityTable("Doc", DocRow, attributes={k: v for k, v in DOC_ATTRS.items() if k != "title"})]
        ).check(SCHEMA)
    with pytest.raises(MappingError, match="is not an entity reference"):
        Mapping([EntityTable("Doc", DocRow, attributes={**DOC_ATTRS, "title": Ref("title", "User")})]).check(
            SCHEMA
        )
    with pytest.raises(MappingError, match="has no column `nope`"):
        Mapping([EntityTable("Doc", DocRow, attributes={"title": Column("nope")})])
    with pytest.raises(MappingError, match="entity type `Folder` has no table"):
        policies = cedarlang.PolicySet.from_str("permit(principal, action, resource);")
        AuthorizedQuery.resources(
            Mapping([EntityTable("Doc", DocRow, attributes=DOC_ATTRS)]),
            'User::"a"',
            'Action::"view"',
            "Folder",
            policies,
            ENTITIES,
            dialect="sqlite",
        )


def test_sql_authorizer_for_orm_code(db: tuple[Mapping, sa.Connection]) -> None:
    m, conn = db
    policies = cedarlang.PolicySet.from_str(
        "permit(principal, action, resource) when { resource.owner == principal };"
    )
    authz = SqlAuthorizer(m, policies, SCHEMA)
    with Session(conn) as session:
        docs = session.scalars(
            sa.select(DocRow).where(
                authz.authorized('User::"alice"', 'Action::"view"', DocRow, ENTITIES, "sqlite")
            )
        ).all()
    assert sorted(d.id for d in docs) == brute(policies, 'User::"alice"', {}) != []
    with pytest.raises(MappingError, match="is not mapped"):
        authz.authorized('User::"alice"', 'Action::"view"', parents, ENTITIES, "sqlite")
