"""Cedar entities read from the mapped tables (for the rows checked in Python)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from cedarlang import Entity
from cedarlang.cedar_json import value_from_json
from cedarlang.values import CedarSet, EntityUid, Record, Value

from .mapping import Column, Json, Mapping, RecordSet, Ref, RefSet


class SqlEntityLoader:
    """Loads entities by uid from the mapped tables through one connection.

    Each entity gets its mapped attributes (``NULL`` columns are absent attributes),
    and its parents from the membership table. :meth:`closure` also loads what the
    loaded entities refer to and their ancestors, up to ``depth`` hops, which is what
    evaluating attribute chains of that length needs.
    """

    def __init__(self, mapping: Mapping, connection: sa.Connection) -> None:
        self.mapping = mapping
        self.connection = connection

    def load(self, uids: Iterable[EntityUid]) -> dict[EntityUid, Entity]:
        by_type: dict[str, list[str]] = {}
        for uid in uids:
            if uid.type in self.mapping.tables:
                by_type.setdefault(uid.type, []).append(uid.id)
        parents = self._parents(by_type)
        found: dict[EntityUid, Entity] = {}
        for entity_type, ids in by_type.items():
            table = self.mapping.tables[entity_type]
            core = table.core
            for chunk in _chunks(sorted(set(ids)), 500):
                sets = self._sets(table.attributes, chunk)
                records = self._records(table.attributes, chunk)
                rows = self.connection.execute(sa.select(core).where(core.c[table.key].in_(chunk)))
                for row in rows.mappings():
                    uid = EntityUid(entity_type, str(row[table.key]))
                    attrs: dict[str, Value] = {}
                    for name, mapped in table.attributes.items():
                        if isinstance(mapped, RefSet):
                            attrs[name] = CedarSet(sets[name].get(uid.id, ()))
                            continue
                        if isinstance(mapped, RecordSet):
                            attrs[name] = CedarSet(records[name].get(uid.id, ()))
                            continue
                        value = _attribute(row[mapped.column], mapped, table.column(mapped.column))
                        if value is not None:
                            attrs[name] = value
                    tags = None
                    if table.tags is not None and row[table.tags] is not None:
                        raw = row[table.tags]
                        tags = value_from_json(json.loads(raw) if isinstance(raw, (str, bytes)) else raw)
                    found[uid] = Entity(uid, attrs, parents.get(uid, ()), tags)
        return found

    def _sets(self, attributes: Any, owners: list[str]) -> dict[str, dict[str, list[EntityUid]]]:
        """The members of each association-table attribute, by owner id."""
        out: dict[str, dict[str, list[EntityUid]]] = {}
        for name, mapped in attributes.items():
            if not isinstance(mapped, RefSet):
                continue
            owner, member = mapped.columns()
            found = out[name] = {}
            for owner_id, member_id in self.connection.execute(
                sa.select(owner, member).where(owner.in_(owners))
            ):
                found.setdefault(str(owner_id), []).append(EntityUid(mapped.entity_type, str(member_id)))
        return out

    def _records(self, attributes: Any, owners: list[str]) -> dict[str, dict[str, list[Record]]]:
        """The records of each child-table attribute, by owner id."""
        out: dict[str, dict[str, list[Record]]] = {}
        for name, mapped in attributes.items():
            if not isinstance(mapped, RecordSet):
                continue
            owner, fields = mapped.columns()
            found = out[name] = {}
            query = sa.select(owner, *fields.values()).where(owner.in_(owners))
            for owner_id, *raw in self.connection.execute(query):
                record = {
                    field: value
                    for (field, column), cell in zip(fields.items(), raw, strict=True)
                    if (value := _attribute(cell, Column(column.name), column)) is not None
                }
                found.setdefault(str(owner_id), []).append(Record(record))
        return out

    def _parents(self, by_type: dict[str, list[str]]) -> dict[EntityUid, set[EntityUid]]:
        out: dict[EntityUid, set[EntityUid]] = {}
        for entity_type, ids in by_type.items():
            fixed = self.mapping.tables[entity_type].parents
            if fixed is not None:
                for i in ids:
                    out[EntityUid(entity_type, i)] = set(fixed)
        membership = self.mapping.membership
        if membership is None:
            return out
        child_type, child_id, parent_type, parent_id = membership.columns()
        for entity_type, ids in by_type.items():
            if self.mapping.tables[entity_type].parents is not None:
                continue
            for chunk in _chunks(sorted(set(ids)), 500):
                query = sa.select(child_id, parent_type, parent_id).where(
                    child_type == entity_type, child_id.in_(chunk)
                )
                for cid, ptype, pid in self.connection.execute(query):
                    out.setdefault(EntityUid(entity_type, str(cid)), set()).add(
                        EntityUid(str(ptype), str(pid))
                    )
        return out

    def closure(self, uids: Iterable[EntityUid], depth: int) -> dict[EntityUid, Entity]:
        """The entities ``uids``, their ancestors and what they refer to, ``depth`` hops out."""
        found: dict[EntityUid, Entity] = {}
        frontier = set(uids)
        for _ in range(depth + 1):
            frontier -= found.keys()
            if not frontier:
                break
            loaded = self.load(frontier)  # uids with no row stay missing, as in Cedar
            found.update(loaded)
            frontier = set()
            for entity in loaded.values():
                frontier.update(entity.parents)
                frontier.update(_referenced(entity.attrs.values()))
        return found


def _attribute(raw: Any, mapped: Column | Ref | Json, column: sa.Column[Any]) -> Value | None:
    if raw is None:
        return None
    if isinstance(mapped, Ref):
        return EntityUid(mapped.entity_type, str(raw))
    if isinstance(mapped, Json):
        return value_from_json(json.loads(raw) if isinstance(raw, (str, bytes)) else raw)
    if isinstance(column.type, sa.Boolean):
        return bool(raw)
    if isinstance(column.type, sa.Integer):
        return int(raw)
    return str(raw)


def _referenced(values: Iterable[Value]) -> set[EntityUid]:
    found: set[EntityUid] = set()
    stack = list(values)
    while stack:
        value = stack.pop()
        if type(value) is EntityUid:
            found.add(value)
        elif type(value) is CedarSet:
            stack.extend(value)
        elif type(value) is Record:
            stack.extend(value.values())
    return found


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
