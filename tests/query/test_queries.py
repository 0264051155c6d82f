"""Permission queries on hand-made TinyTodo-shaped data: answers, narrowing, errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cedarlang import Authorizer, Entities, PolicySet, Schema
from cedarlang.authorizer import Response, UidLike
from cedarlang.errors import RequestError
from cedarlang.values import EntityUid

TINYTODO = Path(__file__).resolve().parents[2] / "tinytodo"
POLICIES = (TINYTODO / "policies.cedar").read_text()
SCHEMA = Schema.from_str((TINYTODO / "tinytodo.cedarschema").read_text())

N_LISTS = 600


def _uid(t: str, i: str) -> dict[str, str]:
    return {"type": t, "id": i}


def _store() -> Entities:
    app = _uid("Application", "TinyTodo")
    data = [
        {"uid": app, "attrs": {}, "parents": []},
        {"uid": _uid("Team", "admin"), "attrs": {}, "parents": [app]},
        {"uid": _uid("Team", "interns"), "attrs": {}, "parents": [app]},
        {"uid": _uid("Team", "readers-of-7"), "attrs": {}, "parents": [_uid("Team", "interns")]},
    ]
    for name, team in (("alice", "admin"), ("bob", "interns"), ("carol", "admin")):
        data.append(
            {
                "uid": _uid("User", name),
                "attrs": {"joblevel": 5, "location": "ABC"},
                "parents": [app, _uid("Team", team)],
            }
        )
    for i in range(N_LISTS):
        owner = "alice" if i % 200 == 0 else "carol"
        readers = "readers-of-7" if i == 7 else "admin"
        data.append(
            {
                "uid": _uid("List", str(i)),
                "attrs": {
                    "owner": {"__entity": _uid("User", owner)},
                    "readers": {"__entity": _uid("Team", readers)},
                    "editors": {"__entity": _uid("Team", "admin")},
                    "name": f"list {i}",
                    "tasks": [],
                },
                "parents": [app],
            }
        )
    return Entities.from_json(data, schema=SCHEMA)


class CountingAuthorizer(Authorizer):
    """Counts the candidates a query authorizes one by one."""

    def __init__(self) -> None:
        super().__init__()
        self.checked = 0

    def decide_uids(self, *args: Any, **kwargs: Any) -> Response:
        self.checked += 1
        return super().decide_uids(*args, **kwargs)


def _brute_resources(principal: str, action: str, entities: Entities, policies: PolicySet) -> list[EntityUid]:
    from cedarlang.authorizer import Request

    az = Authorizer()
    lists = [e.uid for e in entities if e.uid.type == "List"]
    return sorted(
        u for u in lists if az.is_authorized(Request(principal, action, u, {}), policies, entities).allowed
    )


def test_owned_lists_are_found_without_checking_every_list() -> None:
    entities, policies = _store(), PolicySet.from_str(POLICIES)
    az = CountingAuthorizer()
    got = az.query_resources('User::"alice"', 'Action::"DeleteList"', "List", policies, entities)
    assert got == [EntityUid("List", str(i)) for i in sorted(range(0, N_LISTS, 200), key=str)]
    assert got == _brute_resources('User::"alice"', 'Action::"DeleteList"', entities, policies)
    assert az.checked <= len(got)  # the owner index found exactly the owned lists


def test_sharing_through_team_membership() -> None:
    entities, policies = _store(), PolicySet.from_str(POLICIES)
    az = CountingAuthorizer()
    # bob is an intern; `readers-of-7` is a sub-team of interns, so bob is not one of its
    # members and reads nothing; carol (admin) reads every list but 7, which she owns.
    assert az.query_resources('User::"bob"', 'Action::"GetList"', "List", policies, entities) == []
    got = az.query_resources('User::"carol"', 'Action::"GetList"', "List", policies, entities)
    assert got == _brute_resources('User::"carol"', 'Action::"GetList"', entities, policies)
    assert EntityUid("List", "7") in got  # carol owns it


def test_forbid_and_templates_are_exact() -> None:
    entities = _store()
    policies = PolicySet.from_str(
        POLICIES
        + '\nforbid (principal in Team::"admin", action == Action::"GetList", resource) when { resource.name like "*9" };'
        + '\n@id("share") permit (principal in ?principal, action == Action::"GetList", resource == ?resource);'
    )
    template = policies.templates()[0].id
    policies.link(template, "share-bob-7", {"?principal": 'User::"bob"', "?resource": 'List::"7"'})
    for who in ("alice", "bob", "carol"):
        got = Authorizer().query_resources(f'User::"{who}"', 'Action::"GetList"', "List", policies, entities)
        assert got == _brute_resources(f'User::"{who}"', 'Action::"GetList"', entities, policies)
    assert Authorizer().query_resources('User::"bob"', 'Action::"GetList"', "List", policies, entities) == [
        EntityUid("List", "7")
    ]


def test_query_principals_and_actions() -> None:
    entities, policies = _store(), PolicySet.from_str(POLICIES)
    az = Authorizer()
    assert az.query_principals('Action::"DeleteList"', 'List::"200"', "User", policies, entities) == [
        EntityUid("User", "alice")
    ]
    readers = az.query_principals('Action::"GetList"', 'List::"7"', "User", policies, entities)
    assert readers == [EntityUid("User", "alice"), EntityUid("User", "carol")]  # admins edit; carol owns
    actions = az.query_actions('User::"alice"', 'List::"0"', policies, entities, schema=SCHEMA)
    assert [a.id for a in actions] == [
        "CreateTask",
        "DeleteList",
        "DeleteTask",
        "EditShare",
        "GetList",
        "UpdateList",
        "UpdateTask",
    ]
    assert az.query_actions('User::"bob"', 'List::"0"', policies, entities, schema=SCHEMA) == []
    # without a schema: the actions named by the policies (Application actions included)
    no_schema = az.query_actions('User::"alice"', 'Application::"TinyTodo"', policies, entities)
    assert [a.id for a in no_schema] == ["CreateList", "GetLists"]


def test_the_index_follows_updates() -> None:
    entities, policies = _store(), PolicySet.from_str(POLICIES)
    az = Authorizer()
    before = az.query_resources('User::"bob"', 'Action::"DeleteList"', "List", policies, entities)
    assert before == []
    entity = entities[EntityUid("List", "3")]
    from cedarlang.entities import Entity

    attrs = dict(entity.attrs)
    attrs["owner"] = EntityUid("User", "bob")
    entities.upsert([Entity(entity.uid, attrs, entity.parents)])
    after = az.query_resources('User::"bob"', 'Action::"DeleteList"', "List", policies, entities)
    assert after == [EntityUid("List", "3")]


def test_uids_in_every_request_form() -> None:
    entities, policies = _store(), PolicySet.from_str(POLICIES)
    az = Authorizer()
    forms: list[UidLike] = ['User::"alice"', {"type": "User", "id": "alice"}, EntityUid("User", "alice")]
    answers = [
        az.query_resources(p, {"type": "Action", "id": "DeleteList"}, "List", policies, entities)
        for p in forms
    ]
    assert answers[0] == answers[1] == answers[2] != []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda az, ps, es: az.query_resources(
                'User::"alice"', 'Action::"GetList"', "Nope", ps, es, schema=SCHEMA
            ),
            "resource type `Nope` is not declared",
        ),
        (
            lambda az, ps, es: az.query_resources(
                'User::"alice"', 'Action::"GetList"', "Application", ps, es, schema=SCHEMA
            ),
            "is not valid for",
        ),
        (
            lambda az, ps, es: az.query_resources('User::"alice"', 'Action::"GetList"', "not a type", ps, es),
            "invalid resource type",
        ),
        (
            lambda az, ps, es: az.query_principals('Action::"GetList"', "List::7", "User", ps, es),
            "invalid resource",
        ),
        (
            lambda az, ps, es: az.query_resources(
                'User::"alice"', 'Action::"GetList"', "List", ps, es, context={"x": 1}, schema=SCHEMA
            ),
            "context",
        ),
    ],
)
def test_bad_queries_raise_request_errors(
    call: Callable[[Authorizer, PolicySet, Entities], object], message: str
) -> None:
    with pytest.raises(RequestError, match=message):
        call(Authorizer(), PolicySet.from_str(POLICIES), _store())
