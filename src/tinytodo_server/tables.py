"""TinyTodo's tables (SQLAlchemy Core) and how Cedar's entities map onto them.

=================  ==========================================================================
table              rows
=================  ==========================================================================
``todo_users``     the users of ``entities.json`` (``joblevel``, ``location``)
``todo_teams``     named teams (``entities.json``) and each list's reader/editor teams
``todo_parents``   the hierarchy, one row per direct edge (``child in parent``);
                   ``origin`` says whether ``entities.json`` or a share made it
``todo_lists``     lists: owner, name, reader/editor teams, the next task id
``todo_tasks``     tasks, keyed by (list, id); ``state`` holds Cedar's value
                   (``"checked"``/``"unchecked"``)
``todo_links``     template mode: one template-linked policy per share
``todo_counters``  the shared id counter of lists and list teams
``todo_meta``      the table layout's version
=================  ==========================================================================

The same tables serve SQLite and PostgreSQL. :func:`cedar_mapping` tells
:mod:`cedarlang_sql` where Cedar's ``User`` and ``List`` entities live, so
``get_lists`` is one SQL query (see :mod:`tinytodo_server.core`).
"""

from __future__ import annotations

import sqlalchemy as sa

from cedarlang_sql import Column, EntityTable, Mapping, Membership, RecordSet, Ref

from .model import APPLICATION, LIST_TYPE, TEAM_TYPE, USER_TYPE

LAYOUT_VERSION = "2"

metadata = sa.MetaData()

meta = sa.Table(
    "todo_meta",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
counters = sa.Table(
    "todo_counters",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)
users = sa.Table(
    "todo_users",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("joblevel", sa.BigInteger, nullable=False),
    sa.Column("location", sa.Text, nullable=False),
)
teams = sa.Table(
    "todo_teams",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("list_id", sa.Text, nullable=True),  # set for a list's reader/editor team
)
parents = sa.Table(
    "todo_parents",
    metadata,
    sa.Column("child_type", sa.Text, primary_key=True),
    sa.Column("child_id", sa.Text, primary_key=True),
    sa.Column("parent_type", sa.Text, primary_key=True),
    sa.Column("parent_id", sa.Text, primary_key=True),
    sa.Column("origin", sa.Text, nullable=False),  # "entities.json" or "share"
)
sa.Index("todo_parents_parent", parents.c.parent_type, parents.c.parent_id)
lists = sa.Table(
    "todo_lists",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("owner_id", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("readers_id", sa.Text, nullable=True),
    sa.Column("editors_id", sa.Text, nullable=True),
    sa.Column("next_task", sa.BigInteger, nullable=False, server_default="0"),
)
# The indexes the get_lists filter uses: owned, shared as reader, shared as editor.
sa.Index("todo_lists_owner", lists.c.owner_id, lists.c.id)
sa.Index("todo_lists_readers", lists.c.readers_id, lists.c.id)
sa.Index("todo_lists_editors", lists.c.editors_id, lists.c.id)
tasks = sa.Table(
    "todo_tasks",
    metadata,
    sa.Column("list_id", sa.Text, primary_key=True),
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.CheckConstraint("state IN ('checked', 'unchecked')", name="todo_tasks_state"),
)
links = sa.Table(
    "todo_links",
    metadata,
    sa.Column("policy_id", sa.Text, primary_key=True),
    sa.Column("template_id", sa.Text, nullable=False),
    sa.Column("principal", sa.Text, nullable=False),  # entity uid text
    sa.Column("resource_id", sa.Text, nullable=False),  # a List's id
)
sa.Index("todo_links_principal", links.c.principal)
sa.Index("todo_links_resource", links.c.resource_id)


def cedar_mapping(templates: bool) -> Mapping:
    """Cedar ``User`` and ``List`` entities in these tables (``readers``/``editors``
    exist only in team mode: template mode's schema has no such attributes)."""
    list_attrs: dict[str, Column | Ref | RecordSet] = {
        "owner": Ref("owner_id", USER_TYPE),
        "name": Column("name"),
        "tasks": RecordSet(tasks, "list_id", {"id": "id", "name": "name", "state": "state"}),
    }
    if not templates:
        list_attrs["readers"] = Ref("readers_id", TEAM_TYPE)
        list_attrs["editors"] = Ref("editors_id", TEAM_TYPE)
    return Mapping(
        [
            EntityTable(
                USER_TYPE,
                users,
                attributes={"joblevel": Column("joblevel"), "location": Column("location")},
            ),
            EntityTable(TEAM_TYPE, teams),
            EntityTable(LIST_TYPE, lists, attributes=list_attrs, parents=(APPLICATION,)),
        ],
        Membership(parents, closure=False),
    )
