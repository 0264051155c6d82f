"""Entities: uids with attributes, tags and (transitively closed) ancestors."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ._limits import gc_paused
from .cedar_json import (
    KNOWN_TYPE_NAMES,
    JsonValueError,
    UnknownInValue,
    load_json_text,
    uid_from_json,
    value_from_json,
)
from .errors import CedarError, EntitiesError
from .lexical import is_action_type
from .values import EMPTY_SET, I64_MAX, I64_MIN, EntityUid, Record, Value, to_json

if TYPE_CHECKING:
    from .schema import Schema


_NO_TAGS = Record()
"""Shared by every entity without tags (records are never mutated)."""
_NO_ATTRS = Record()
"""Shared by every entity loaded without attributes."""
_NO_PARENTS: frozenset[EntityUid] = frozenset()


class Entity:
    """One entity. ``ancestors`` holds every ancestor, not only direct parents."""

    __slots__ = ("ancestors", "attrs", "parents", "tags", "uid")

    def __init__(
        self,
        uid: EntityUid,
        attrs: Mapping[str, Value] | None = None,
        parents: Iterable[EntityUid] = (),
        tags: Mapping[str, Value] | None = None,
    ) -> None:
        self.uid = uid
        self.attrs: Record = (
            attrs if type(attrs) is Record or isinstance(attrs, Record) else Record(attrs or {})
        )
        self.parents: frozenset[EntityUid] = frozenset(parents)
        self.ancestors: frozenset[EntityUid] = self.parents
        self.tags: Record = (
            tags if type(tags) is Record or isinstance(tags, Record) else Record(tags) if tags else _NO_TAGS
        )

    def __repr__(self) -> str:
        return f"Entity({self.uid!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Entity)
            and self.uid == other.uid
            and self.attrs == other.attrs
            and self.parents == other.parents
            and self.tags == other.tags
        )

    __hash__ = None  # type: ignore[assignment]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "uid": self.uid.to_json(),
            "attrs": (
                {k: to_json(v) for k, v in self.attrs.items()}
                if type(self.attrs) is Record
                else self.attrs.to_json()  # type: ignore[attr-defined]  # partial.ResidualAttrs
            ),
            "parents": [p.to_json() for p in sorted(self.parents)],
        }
        if self.tags:
            data["tags"] = (
                {k: to_json(v) for k, v in self.tags.items()}
                if type(self.tags) is Record
                else self.tags.to_json()  # type: ignore[attr-defined]  # partial.ResidualAttrs
            )
        return data


class Entities:
    """An immutable-by-convention store of entities keyed by uid.

    Ancestor sets are closed transitively when the store is built, so ``in``
    is a set lookup.
    """

    __slots__ = ("__weakref__", "_children", "_entities", "_schema", "_version", "get")

    def __init__(self, entities: Iterable[Entity] = (), *, schema: Schema | None = None) -> None:
        store: dict[EntityUid, Entity] = {}
        for entity in entities:
            existing = store.get(entity.uid)
            if existing is not None and existing != entity:
                raise EntitiesError(f"duplicate entity entry `{entity.uid}`")
            store[entity.uid] = entity
        if schema is not None:
            _add_schema_actions(store, schema)
        _close_ancestors(store)
        if schema is not None:
            from .conformance import validate_entity

            for entity in store.values():
                validate_entity(entity, schema)
        self._entities = store
        self.get = store.get
        """``get(uid)``: the entity with that uid, or ``None`` (a plain dict lookup)."""
        self._schema = schema
        self._children: dict[EntityUid, set[EntityUid]] | None = None
        self._version = 0

    @classmethod
    def from_json(cls, data: str | bytes | list[Any], schema: Schema | None = None) -> Entities:
        """Entities from Cedar's entity JSON (a list of ``{uid, attrs, parents, tags}``)."""
        with gc_paused():
            return cls._from_json(data, schema)

    @classmethod
    def _from_json(cls, data: str | bytes | list[Any], schema: Schema | None) -> Entities:
        try:
            if schema is None and isinstance(data, (str, bytes)):
                fast = _from_text_without_schema(data)
                if fast is not None:
                    return cls._from_store(fast)
            if isinstance(data, (str, bytes)):
                data = load_json_text(data, "entities")
            if not isinstance(data, list):
                raise EntitiesError("entities JSON must be a list of entity objects")
            interner = Interner()
            if schema is None:
                return cls._from_store(_plain_store(data, interner)[0])
            return cls((entity_from_json(item, schema, interner) for item in data), schema=schema)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise EntitiesError(f"entities are not valid JSON: {err}") from None
        except RecursionError:
            raise EntitiesError("entities JSON is nested too deeply") from None

    @classmethod
    def _from_store(cls, store: dict[EntityUid, Entity]) -> Entities:
        """A store without a schema from entities already keyed by uid (duplicates checked)."""
        _close_ancestors(store)
        entities = cls.__new__(cls)
        entities._entities = store
        entities.get = store.get
        entities._schema = None
        entities._children = None
        entities._version = 0
        return entities

    def __getitem__(self, uid: EntityUid) -> Entity:
        return self._entities[uid]

    def __contains__(self, uid: object) -> bool:
        return uid in self._entities

    def __iter__(self) -> Iterator[Entity]:
        return iter(self._entities.values())

    def __len__(self) -> int:
        return len(self._entities)

    def __repr__(self) -> str:
        return f"<Entities: {len(self._entities)} entities>"

    def to_json(self) -> list[dict[str, Any]]:
        return [e.to_json() for e in self._entities.values()]

    @property
    def version(self) -> int:
        """A counter bumped by every update (caches derived from the store check it)."""
        return self._version

    def overlaid(self, entities: Iterable[Entity]) -> Entities:
        """A new store: this one with ``entities`` added or put in place of the stored
        entities of the same uids (this store is unchanged). Each must keep the parents of
        the entity it replaces (a new one: no parents), so the hierarchy is unchanged and
        no ancestor set is recomputed: for per-request attributes over a shared store."""
        store = dict(self._entities)
        new = list(entities)
        for entity in new:
            old = store.get(entity.uid)
            parents = old.parents if old is not None else _NO_PARENTS
            if entity.parents != parents:
                raise EntitiesError(f"an overlay of `{entity.uid}` cannot change its parents")
            if old is not None:
                entity.ancestors = old.ancestors
            store[entity.uid] = entity
        if self._schema is not None:
            from .conformance import validate_entity

            for entity in new:
                validate_entity(entity, self._schema)
        overlay = Entities.__new__(Entities)
        overlay._entities = store
        overlay.get = store.get
        overlay._schema = self._schema
        overlay._children = None
        overlay._version = 0
        return overlay

    def is_ancestor_of(self, ancestor: EntityUid, descendant: EntityUid) -> bool:
        entity = self._entities.get(descendant)
        return entity is not None and ancestor in entity.ancestors

    # -- incremental updates ---------------------------------------------------
    #
    # Each update recomputes the ancestors of exactly the entities it can affect:
    # the changed entities and everything below them.

    def upsert(self, entities: Iterable[Entity]) -> None:
        """Add entities, replacing any with the same uid."""
        self._version += 1
        new = list(entities)
        if self._schema is not None:
            from .conformance import validate_entity

            for entity in new:
                validate_entity(entity, self._schema)
        children = self._child_map()
        for entity in new:
            old = self._entities.get(entity.uid)
            if old is not None:
                for parent in old.parents:
                    children.get(parent, set()).discard(entity.uid)
            self._entities[entity.uid] = entity
            for parent in entity.parents:
                children.setdefault(parent, set()).add(entity.uid)
        self._recompute({e.uid for e in new})

    def remove(self, uids: Iterable[EntityUid]) -> None:
        """Remove entities. Their descendants keep them as (dangling) parents."""
        self._version += 1
        children = self._child_map()
        affected: set[EntityUid] = set()
        for uid in uids:
            entity = self._entities.pop(uid, None)
            if entity is None:
                continue
            for parent in entity.parents:
                children.get(parent, set()).discard(uid)
            affected.update(children.get(uid, ()))
        self._recompute(affected)

    def add_parent(self, child: EntityUid, parent: EntityUid) -> None:
        """Add the edge ``child in parent`` (both uids; ``child`` must exist)."""
        entity = self._require(child)
        if parent == child or self.is_ancestor_of(child, parent):
            raise EntitiesError(f"making `{parent}` a parent of `{child}` would create a cycle")
        self.upsert([Entity(child, entity.attrs, entity.parents | {parent}, entity.tags)])

    def remove_parent(self, child: EntityUid, parent: EntityUid) -> None:
        """Remove the edge ``child in parent``."""
        entity = self._require(child)
        self.upsert([Entity(child, entity.attrs, entity.parents - {parent}, entity.tags)])

    def _require(self, uid: EntityUid) -> Entity:
        entity = self._entities.get(uid)
        if entity is None:
            raise EntitiesError(f"entity `{uid}` does not exist")
        return entity

    def _child_map(self) -> dict[EntityUid, set[EntityUid]]:
        if self._children is None:
            children: dict[EntityUid, set[EntityUid]] = {}
            for entity in self._entities.values():
                for parent in entity.parents:
                    children.setdefault(parent, set()).add(entity.uid)
            self._children = children
        return self._children

    def _recompute(self, roots: set[EntityUid]) -> None:
        """Recompute ancestors of ``roots`` and all their descendants, parents first."""
        children = self._child_map()
        affected: set[EntityUid] = set()
        stack = [uid for uid in roots if uid in self._entities]
        while stack:
            uid = stack.pop()
            if uid not in affected:
                affected.add(uid)
                stack.extend(children.get(uid, ()))
        pending = {uid: sum(1 for p in self._entities[uid].parents if p in affected) for uid in affected}
        ready = [uid for uid, count in pending.items() if count == 0]
        done = 0
        while ready:
            uid = ready.pop()
            done += 1
            entity = self._entities[uid]
            ancestors: set[EntityUid] = set()
            for parent in entity.parents:
                ancestors.add(parent)
                parent_entity = self._entities.get(parent)
                if parent_entity is not None:
                    ancestors.update(parent_entity.ancestors)
            entity.ancestors = frozenset(ancestors)
            for child in children.get(uid, ()):
                if child in pending:
                    pending[child] -= 1
                    if pending[child] == 0:
                        ready.append(child)
        if done != len(affected):
            raise EntitiesError("entity hierarchy has a cycle")

    # -- equality, ancestors, DOT (Rust's `Entities::deep_eq`, `ancestors`, `to_dot_str`) ---
    #
    # Equality is by content and the hash by identity: stores are mutable (so they cannot
    # hash by content) and caches key on the store object (`query.StoreIndex`); the
    # identity hashes of two live stores differ, so no cache ever conflates equal stores.

    def __eq__(self, other: object) -> bool:
        """Equal stores hold the same uids, and under each uid an entity with equal
        attributes, tags and ancestors (the transitive closure, not the direct parents:
        Rust's ``Entities::deep_eq``; Rust's ``==`` compares only the uids)."""
        if not isinstance(other, Entities):
            return NotImplemented
        if self is other:
            return True
        if len(self._entities) != len(other._entities):
            return False
        theirs = other._entities
        for uid, entity in self._entities.items():
            match = theirs.get(uid)
            if (
                match is None
                or entity.attrs != match.attrs
                or entity.tags != match.tags
                or entity.ancestors != match.ancestors
            ):
                return False
        return True

    __hash__ = object.__hash__

    def ancestors(self, uid: EntityUid) -> frozenset[EntityUid] | None:
        """Every ancestor of ``uid`` (direct or not), or ``None`` if there is no such
        entity (Rust's ``Entities::ancestors``)."""
        entity = self._entities.get(uid)
        return None if entity is None else entity.ancestors

    def to_dot(self) -> str:
        """The entity graph in Graphviz DOT (Rust's ``Entities::to_dot_str``; ``cedar visualize``)."""
        from .dot import entities_to_dot

        return entities_to_dot(self._entities.values())


class Interner:
    """Shares equal values across one load: uids, parent sets and short strings.

    Entity files repeat the same uids (as parents and in attributes), the same
    parent sets and the same attribute strings many times; keeping one object
    for each saves memory on every entity.
    """

    __slots__ = ("parent_sets", "strings", "uids")

    def __init__(self) -> None:
        self.uids: dict[tuple[Any, Any], EntityUid] = {}
        self.parent_sets: dict[frozenset[EntityUid], frozenset[EntityUid]] = {}
        self.strings: dict[str, str] = {}

    def uid(self, data: Any, where: str) -> EntityUid:
        """A uid from JSON, shared with earlier uids of the same type and id."""
        if type(data) is not dict:
            return uid_from_json(data, where)
        key = (data.get("type"), data.get("id"))
        if type(key[0]) is not str or type(key[1]) is not str:
            return uid_from_json(data, where)
        uid = self.uids.get(key)
        if uid is None:
            uid = uid_from_json(data, where)
            self.uids[key] = uid
        return uid

    def shared_uid(self, uid: EntityUid) -> EntityUid:
        """The uid equal to ``uid`` seen first in this load (a uid is a (type, id) tuple)."""
        return self.uids.setdefault(uid, uid)

    def parents(self, parents: frozenset[EntityUid]) -> frozenset[EntityUid]:
        return self.parent_sets.setdefault(parents, parents)

    def string(self, value: str) -> str:
        return self.strings.setdefault(value, value) if len(value) <= 32 else value


def entity_from_json(data: Any, schema: Schema | None = None, interner: Interner | None = None) -> Entity:
    """One entity object from Cedar's entity JSON format."""
    if type(data) is not dict:
        raise EntitiesError(f"an entity must be a JSON object, got {type(data).__name__}")
    if interner is None:
        interner = Interner()
    try:
        attrs_json = data["attrs"]
        parents_json = data["parents"]
        uid = interner.uid(data["uid"], "entity uid")
    except KeyError as missing:
        where = f" `{data['uid']}`" if "uid" in data else ""
        raise EntitiesError(f"entity{where} is missing the required field `{missing.args[0]}`") from None
    tags_json = data.get("tags")
    if type(attrs_json) is not dict:
        raise EntitiesError(f"in entity `{uid}`: `attrs` must be an object")
    if type(parents_json) is not list:
        raise EntitiesError(f"in entity `{uid}`: `parents` must be a list")
    if tags_json is not None and type(tags_json) is not dict:
        raise EntitiesError(f"in entity `{uid}`: `tags` must be an object")
    try:
        if schema is None:
            try:
                attrs = _untyped_record(attrs_json, interner) if attrs_json else _NO_ATTRS
            except UnknownInValue:
                attrs = _residual_attrs(attrs_json, {})
            try:
                tags = _untyped_record(tags_json) if tags_json else None
            except UnknownInValue:
                tags = _residual_attrs(tags_json or {}, {})
        else:
            decl = schema.entity_type(uid.type)
            shape = decl.shape.attributes if decl is not None else {}
            try:
                attrs = Record(
                    (k, value_from_json(v, shape[k].type if k in shape else None))
                    for k, v in attrs_json.items()
                )
            except UnknownInValue:
                attrs = _residual_attrs(attrs_json, {k: a.type for k, a in shape.items()})
            tag_type = decl.tags if decl is not None else None
            try:
                tags = (
                    Record((k, value_from_json(v, tag_type)) for k, v in tags_json.items())
                    if tags_json
                    else None
                )
            except UnknownInValue:
                tags = _residual_attrs(tags_json or {}, {k: tag_type for k in tags_json or {}})
        parents = (
            interner.parents(frozenset([interner.uid(p, "parents") for p in parents_json]))
            if parents_json
            else _NO_PARENTS
        )
    except JsonValueError as err:
        detail = str(err).removeprefix("in value: ")
        raise JsonValueError(f"in entity `{uid}`{_locate(data, uid, schema)}: {detail}") from None
    if is_action_type(uid.type):
        for parent in parents:
            if not is_action_type(parent.type):
                raise EntitiesError(f"action `{uid}` has parent `{parent}`, which is not an action")
    return Entity(uid, attrs, parents, tags)


_PLAIN_TYPE_NAMES: dict[str, int] = {}
"""Entity type names found well-formed that are not action types, with the colons in each
(``_plain_store`` reads entities of these types inline; actions, whose parents must be
actions, it leaves to ``entity_from_json``)."""


def _from_text_without_schema(text: str | bytes) -> dict[EntityUid, Entity] | None:
    """``_plain_store`` of entity JSON text, parsed without the duplicate-key check (half
    of the load time): the keys of the objects read and the colons in their strings are
    counted instead, and match the colons of the text unless some object had a duplicate
    key (whose pair the parsed object lacks), a string escaped a colon, or the count left
    something out; only then is the text parsed again with the check. ``None``: the text
    or an entity is invalid (the general path then raises the error it always raised)."""
    try:
        data = load_json_text(text, "entities", unique_keys=False)
        if type(data) is not list:
            return None
        store, counted = _plain_store(data, Interner(), consume=True)
    except (CedarError, ValueError, RecursionError):
        return None
    raw = text if isinstance(text, str) else text.decode()
    if counted != raw.count(":") or ("\\" in raw and "\\u003" in raw):
        load_json_text(raw, "entities")  # raises the duplicate key's error, if there is one
    return store


def _keys_and_colons(data: Any) -> int:
    """The keys of the JSON objects in ``data`` plus the colons in its strings (keys
    included): the colons of its JSON text, if it has no duplicate keys and no ``\\u003a``."""
    count = 0
    stack = [data]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            count += len(item)
            for key, value in item.items():
                if ":" in key:
                    count += key.count(":")
                stack.append(value)
        elif kind is list:
            stack.extend(item)
        elif kind is str and ":" in item:
            count += item.count(":")
    return count


def _plain_store(
    data: list[Any], interner: Interner, *, consume: bool = False
) -> tuple[dict[EntityUid, Entity], int]:
    """Entities from JSON without a schema, keyed by uid: what ``entity_from_json`` builds,
    with the common shapes decoded inline (uids of types already seen well-formed, plain
    ``{"type", "id"}`` parents, attributes decoded as ``_untyped_record`` does). Any other
    entity (an action, tags, an unusual uid, a value that fails to decode) is left to
    ``entity_from_json``, which also raises every error.

    Also returns a count no greater than ``_keys_and_colons(data)``, equal to it for the
    common shapes (see ``_from_text_without_schema``).

    With ``consume``, each item is dropped from ``data`` once read: the entities' JSON is
    then freed item by item, while it is still in the processor's cache, rather than all
    at once afterwards (a tenth of a large load)."""
    store: dict[EntityUid, Entity] = {}
    counted = 0
    uids = interner.uids
    parent_sets = interner.parent_sets
    strings = interner.strings
    known = KNOWN_TYPE_NAMES
    new_uid = tuple.__new__
    new_entity = Entity.__new__
    no_parents = _NO_PARENTS
    plain_types = _PLAIN_TYPE_NAMES
    singles: dict[EntityUid, frozenset[EntityUid]] = {}
    """Parent sets of one parent, by that parent."""
    for n, item in enumerate(data):
        if consume:
            data[n] = None
        entity: Entity | None = None
        start = counted
        if type(item) is dict and "tags" not in item and len(item) == 3:
            try:
                uid_json, attrs_json, parents_json = item["uid"], item["attrs"], item["parents"]
                t, i = uid_json["type"], uid_json["id"]
            except (KeyError, TypeError):  # missing or odd fields: the general path says which
                t = None
            colons = plain_types.get(t) if type(t) is str else None
            if (
                colons is not None
                and type(i) is str
                and type(attrs_json) is dict
                and type(parents_json) is list
                and type(uid_json) is dict
            ):
                uid = new_uid(EntityUid, (t, i))
                uid = uids.setdefault(uid, uid)  # (a uid is keyed as its (type, id) tuple)
                if ":" in i:
                    colons += i.count(":")
                counted += 3 + colons + len(uid_json) + len(attrs_json)
                parents: frozenset[EntityUid] | None = no_parents
                if parents_json:
                    members = []
                    for parent in parents_json:
                        if type(parent) is not dict:
                            parents = None
                            break
                        pt, pi = parent.get("type"), parent.get("id")
                        colons = plain_types.get(pt) if type(pt) is str else None
                        if colons is None or type(pi) is not str:
                            parents = None
                            break
                        if ":" in pi:
                            colons += pi.count(":")
                        counted += len(parent) + colons
                        puid = uids.get((pt, pi))
                        if puid is None:
                            puid = uids[(pt, pi)] = new_uid(EntityUid, (pt, pi))
                        members.append(puid)
                    else:
                        if len(members) == 1:
                            parents = singles.get(members[0])
                            if parents is None:
                                closed = frozenset(members)
                                parents = singles[members[0]] = parent_sets.setdefault(closed, closed)
                        else:
                            closed = frozenset(members)
                            parents = parent_sets.setdefault(closed, closed)
                attrs = _NO_ATTRS
                if parents is not None and attrs_json:
                    attrs = Record(attrs_json)
                    for key, value in attrs_json.items():
                        kind = type(value)
                        if kind is str:
                            if ":" in value:
                                counted += value.count(":")
                            if len(value) <= 32:
                                attrs[key] = strings.setdefault(value, value)
                        elif kind is bool or (kind is int and I64_MIN <= value <= I64_MAX):
                            pass
                        elif kind is list and not value:
                            attrs[key] = EMPTY_SET
                        elif kind is dict and len(value) == 1 and "__entity" in value:
                            ref = value["__entity"]
                            rt, ri = (ref.get("type"), ref.get("id")) if type(ref) is dict else (None, None)
                            if type(rt) is not str or type(ri) is not str or rt not in known:
                                parents = None
                                break
                            counted += 1 + len(ref)
                            if ":" in rt or ":" in ri:
                                counted += rt.count(":") + ri.count(":")
                            ruid = uids.get((rt, ri))
                            if ruid is None:
                                ruid = uids[(rt, ri)] = new_uid(EntityUid, (rt, ri))
                            attrs[key] = ruid
                        else:  # sets, records, extension values
                            try:
                                decoded = value_from_json(value)
                            except JsonValueError:  # and unknowns: left to the general path
                                parents = None
                                break
                            counted += _keys_and_colons(value)
                            if type(decoded) is EntityUid:
                                decoded = uids.setdefault(decoded, decoded)
                            attrs[key] = decoded
                if parents is not None:
                    entity = new_entity(Entity)
                    entity.uid = uid
                    entity.attrs = attrs
                    entity.parents = entity.ancestors = parents
                    entity.tags = _NO_TAGS
        if entity is None:
            entity = entity_from_json(item, None, interner)
            counted = start + _keys_and_colons(item)
            name = entity.uid[0]
            if name in known and not is_action_type(name) and len(plain_types) < 4096:
                plain_types[name] = name.count(":")
        existing = store.setdefault(entity.uid, entity)
        if existing is not entity and existing != entity:
            raise EntitiesError(f"duplicate entity entry `{entity.uid}`")
    return store, counted


def _residual_attrs(data: dict[str, Any], shape: dict[str, Any]) -> Record:
    """Attributes (or tags) where some are unknown (``{"__extn": {"fn": "unknown", ...}}``)."""
    from .partial import residual_attrs

    return residual_attrs(data, shape)


def _untyped_record(data: dict[str, Any], interner: Interner | None = None) -> Record:
    record = Record(data)
    for key, value in data.items():
        kind = type(value)
        if kind is str:
            if interner is not None:
                record[key] = interner.string(value)
            continue
        if kind is bool:
            continue
        if kind is int and I64_MIN <= value <= I64_MAX:
            continue
        decoded = value_from_json(value)
        if interner is not None and type(decoded) is EntityUid:
            decoded = interner.shared_uid(decoded)
        record[key] = decoded
    return record


def _locate(data: dict[str, Any], uid: EntityUid, schema: Schema | None) -> str:
    """Which attribute, tag or parent of an entity failed to decode (error path only)."""
    decl = schema.entity_type(uid.type) if schema is not None else None
    shape = decl.shape.attributes if decl is not None else {}
    for key, value in (data.get("attrs") or {}).items():
        expected = shape[key].type if key in shape else None
        if _fails(value, expected):
            return f", attribute `{key}`"
    for key, value in (data.get("tags") or {}).items():
        if _fails(value, decl.tags if decl is not None else None):
            return f", tag `{key}`"
    return ", parents" if data.get("parents") else ""


def _fails(value: Any, expected: Any) -> bool:
    try:
        value_from_json(value, expected)
    except (JsonValueError, RecursionError):
        return True
    return False


def _add_schema_actions(store: dict[EntityUid, Entity], schema: Schema) -> None:
    for uid, ancestors in schema.action_entities():
        if uid not in store:
            entity = Entity(uid, parents=ancestors)
            store[uid] = entity


def _close_ancestors(store: dict[EntityUid, Entity]) -> None:
    """Set each entity's ancestors to the transitive closure of its parents.

    The closure depends only on the parent set, and a load shares one object for equal
    parent sets, so closures are kept by parent set: entities with the same parents cost
    one lookup. An entity whose parents have no parents keeps its parent set as its
    ancestors; equal closures are one object. On a cycle, ``_close_ancestors_in_order``
    reports it."""
    get = store.get
    closed: dict[frozenset[EntityUid], frozenset[EntityUid]] = {}
    shared: dict[frozenset[EntityUid], frozenset[EntityUid]] = {}
    for entity in store.values():
        parents = entity.parents
        if parents:
            found = closed.get(parents)
            if found is None:
                found = _closure(parents, get, closed, shared)
                if found is None:
                    _close_ancestors_in_order(store)
                    raise EntitiesError("entity hierarchy has a cycle")  # not reached: it raises
            entity.ancestors = found


def _closure(
    root: frozenset[EntityUid],
    get: Callable[[EntityUid], Entity | None],
    closed: dict[frozenset[EntityUid], frozenset[EntityUid]],
    shared: dict[frozenset[EntityUid], frozenset[EntityUid]],
) -> frozenset[EntityUid] | None:
    """The ancestors of an entity with parents ``root``, computing (and keeping in
    ``closed``) those of the parent sets it needs first, by a loop (hierarchies may be
    deep); ``None`` on a cycle."""
    stack = [root]
    open_sets = {root}
    while stack:
        parents = stack[-1]
        needed = None
        for parent in parents:
            entity = get(parent)
            if entity is not None:
                grand = entity.parents
                if grand and grand not in closed:
                    needed = grand
                    break
        if needed is not None:
            if needed in open_sets:
                return None
            open_sets.add(needed)
            stack.append(needed)
            continue
        extra: set[EntityUid] | None = None
        for parent in parents:
            entity = get(parent)
            if entity is not None and entity.parents:
                if extra is None:
                    extra = set(parents)
                extra.update(closed[entity.parents])
        if extra is None:
            result = parents
        else:
            union = frozenset(extra)
            result = shared.setdefault(union, union)
        closed[parents] = result
        open_sets.discard(parents)
        stack.pop()
    return closed[root]


def _close_ancestors_in_order(store: dict[EntityUid, Entity]) -> None:
    """Set each entity's ancestors to the transitive closure of its parents, entity by entity
    (``_close_ancestors`` runs it on a hierarchy with a cycle, to name the entity it reports).

    Entities are visited parents-first (Kahn's algorithm), so each ancestor set is
    the union of its parents and their already-closed ancestor sets. Roots (entities
    without parents) need no visit, and edges to them no wait. An entity whose parents
    have no ancestors shares its parents' set; equal sets are one object.
    """
    children: dict[EntityUid, list[EntityUid]] = {}
    pending: dict[EntityUid, int] = {}
    shared: dict[frozenset[EntityUid], frozenset[EntityUid]] = {}  # one object per distinct set
    ready: list[EntityUid] = []
    with_parents = 0
    get = store.get
    for uid, entity in store.items():
        parents = entity.parents
        if not parents:
            continue
        with_parents += 1
        count = 0
        for parent in parents:
            parent_entity = get(parent)
            if parent_entity is not None and parent_entity.parents:
                children.setdefault(parent, []).append(uid)
                count += 1
        if count:
            pending[uid] = count
        else:
            ready.append(uid)
    done = 0
    while ready:
        uid = ready.pop()
        done += 1
        entity = store[uid]
        parents = entity.parents
        if parents:
            extra: set[EntityUid] | None = None
            for parent in parents:
                parent_entity = store.get(parent)
                if parent_entity is not None and parent_entity.ancestors:
                    if extra is None:
                        extra = set(parents)
                    extra.update(parent_entity.ancestors)
            if extra is None:
                entity.ancestors = parents
            else:
                closed = frozenset(extra)
                entity.ancestors = shared.setdefault(closed, closed)
        for child in children.get(uid, ()):
            left = pending[child] - 1
            pending[child] = left
            if not left:
                ready.append(child)
    if done != with_parents:
        stuck = next(uid for uid, left in pending.items() if left)
        raise EntitiesError(f"entity hierarchy has a cycle: `{stuck}` is its own ancestor")


__all__ = ["Entities", "Entity", "JsonValueError", "entity_from_json"]
