"""The fixed users and teams of ``entities.json`` (TinyTodo's own format, not Cedar's).

::

    {"users": {"User::\\"kesha\\"": {"euid": "User::\\"kesha\\"", "location": "ABC17",
                                   "joblevel": 5, "parents": ["Team::\\"temp\\"", ...]}},
     "teams": {"Team::\\"temp\\"": {"uid": "Team::\\"temp\\"", "parents": [...]}},
     "lists": {},
     "app": {"euid": "Application::\\"TinyTodo\\""}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cedarlang import CedarError, EntityUid, parse_entity_uid

from .model import APPLICATION, TEAM_TYPE, USER_TYPE


class DirectoryError(Exception):
    """``entities.json`` is unreadable or malformed."""


@dataclass(frozen=True)
class UserRecord:
    uid: EntityUid
    joblevel: int
    location: str
    parents: frozenset[EntityUid]


@dataclass(frozen=True)
class Directory:
    users: dict[EntityUid, UserRecord]
    teams: dict[EntityUid, frozenset[EntityUid]]
    app: EntityUid
    ignored_lists: int = 0

    @classmethod
    def from_json_text(cls, text: str, name: str = "entities.json") -> Directory:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise DirectoryError(f"{name} is not valid JSON: {err}") from None
        return cls.from_json(data, name)

    @classmethod
    def from_json(cls, data: Any, name: str = "entities.json") -> Directory:
        if not isinstance(data, dict):
            raise DirectoryError(f"{name}: expected a JSON object with users, teams and app")
        users: dict[EntityUid, UserRecord] = {}
        for key, record in _object(data, "users", name).items():
            where = f"{name}: user {key}"
            if not isinstance(record, dict):
                raise DirectoryError(f"{where}: expected an object")
            uid = _uid(record.get("euid", key), USER_TYPE, where)
            if _uid(key, USER_TYPE, where) != uid:
                raise DirectoryError(f"{where}: key and euid differ")
            joblevel = record.get("joblevel")
            location = record.get("location")
            if type(joblevel) is not int:
                raise DirectoryError(f"{where}: joblevel must be an integer")
            if not isinstance(location, str):
                raise DirectoryError(f"{where}: location must be a string")
            users[uid] = UserRecord(uid, joblevel, location, _parents(record, where))
        teams: dict[EntityUid, frozenset[EntityUid]] = {}
        for key, record in _object(data, "teams", name).items():
            where = f"{name}: team {key}"
            if not isinstance(record, dict):
                raise DirectoryError(f"{where}: expected an object")
            uid = _uid(record.get("uid", key), TEAM_TYPE, where)
            if _uid(key, TEAM_TYPE, where) != uid:
                raise DirectoryError(f"{where}: key and uid differ")
            teams[uid] = _parents(record, where)
        app_record = data.get("app", {"euid": str(APPLICATION)})
        if not isinstance(app_record, dict):
            raise DirectoryError(f"{name}: app must be an object")
        app = _uid(app_record.get("euid"), "Application", f"{name}: app")
        if app != APPLICATION:
            raise DirectoryError(f"{name}: the application must be {APPLICATION}, got {app}")
        lists = data.get("lists", {})
        ignored = len(lists) if isinstance(lists, dict) else 0
        return cls(users, teams, app, ignored)

    def has_user_or_team(self, uid: EntityUid) -> bool:
        return uid in self.users or uid in self.teams


def _object(data: dict[str, Any], key: str, name: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise DirectoryError(f"{name}: {key} must be an object")
    return value


def _uid(text: Any, expected_type: str, where: str) -> EntityUid:
    if not isinstance(text, str):
        raise DirectoryError(f"{where}: expected an entity uid string, got {text!r}")
    try:
        uid = parse_entity_uid(text)
    except CedarError as err:
        raise DirectoryError(f"{where}: bad entity uid {text!r}: {err}") from None
    if uid.type != expected_type:
        raise DirectoryError(f"{where}: expected an entity of type {expected_type}, got {uid}")
    return uid


def _parents(record: dict[str, Any], where: str) -> frozenset[EntityUid]:
    parents = record.get("parents", [])
    if not isinstance(parents, list):
        raise DirectoryError(f"{where}: parents must be a list")
    result: set[EntityUid] = set()
    for text in parents:
        if not isinstance(text, str):
            raise DirectoryError(f"{where}: bad parent {text!r}")
        try:
            result.add(parse_entity_uid(text))
        except CedarError as err:
            raise DirectoryError(f"{where}: bad parent {text!r}: {err}") from None
    return frozenset(result)
