"""Counterexamples: a solver model read back as a concrete request and entity store,
and their replay through :class:`cedarlang.Authorizer`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..authorizer import Authorizer, Request, Response
from ..entities import Entities
from ..extensions.datetime import Datetime, Duration
from ..extensions.decimal import Decimal
from ..lexical import is_action_type
from ..policy import PolicySet
from ..validator.types import BoolType, EntityType, ExtType, LongType, RecordType, SetType, StringType, Type
from .encoding import Encoder, Sym, Term

__all__ = ["Counterexample", "extract"]


@dataclass(frozen=True)
class Counterexample:
    """A concrete request and entities (entity JSON) on which a query fails."""

    principal: dict[str, str]
    action: dict[str, str]
    resource: dict[str, str]
    context: dict[str, Any]
    entities: list[dict[str, Any]]

    def request(self) -> Request:
        return Request(self.principal, self.action, self.resource, self.context)

    def replay(self, policies: PolicySet) -> Response:
        """The decision the authorizer makes on this request."""
        return Authorizer().is_authorized(self.request(), policies, Entities.from_json(self.entities))

    def to_json(self) -> dict[str, Any]:
        return {
            "request": {
                "principal": self.principal,
                "action": self.action,
                "resource": self.resource,
                "context": self.context,
            },
            "entities": self.entities,
        }


EXT_CLASSES: dict[str, Any] = {"decimal": Decimal, "duration": Duration, "datetime": Datetime}


def _uid(type_name: str, id: str) -> dict[str, str]:
    return {"type": type_name, "id": id}


class _Reader:
    def __init__(self, enc: Encoder) -> None:
        self.enc = enc
        self.value = enc.backend.value

    def is_true(self, t: Term) -> bool:
        return bool(self.value(t).getBooleanValue())

    def json(self, ty: Type, term: Term) -> Any:
        v = self.value(term)
        if isinstance(ty, BoolType):
            return bool(v.getBooleanValue())
        if isinstance(ty, LongType):
            n = int(v.getBitVectorValue(10))
            return n - 2**64 if n >= 2**63 else n
        if isinstance(ty, StringType):
            return str(v.getStringValue())
        if isinstance(ty, EntityType):
            return {"__entity": _uid(self.enc.entity_name(ty), str(v.getStringValue()))}
        if isinstance(ty, ExtType) and ty.name == "ipaddr":
            return self.enc.ip.unpack(int(v.getBitVectorValue(10))).to_json()
        if isinstance(ty, ExtType):
            n = int(v.getBitVectorValue(10))
            n = n - 2**64 if n >= 2**63 else n
            return EXT_CLASSES[ty.name](n).to_json()
        if isinstance(ty, SetType):
            assert ty.element is not None
            return [self.json(ty.element, x) for x in sorted(v.getSetValue(), key=str)]
        raise AssertionError(ty)

    def sym(self, s: Sym) -> Any:
        if s.fields is not None:
            return {
                k: self.sym(v)
                for k, (p, v) in s.fields.items()
                # a field of a type the encoding does not cover is read by no encoded policy
                if (v.term is not None or v.fields is not None) and self.is_true(p)
            }
        return self.json(s.ty, s.term)


def extract(enc: Encoder) -> Counterexample:
    """The counterexample of the current model (the solver just answered sat)."""
    r = _Reader(enc)
    env = enc.env
    ids: dict[tuple[str, str], Term] = {}
    for g in enc.ground:
        ids.setdefault((g.type, str(r.value(g.term).getStringValue())), g.term)
    entities: dict[tuple[str, str], dict[str, Any]] = {}
    for (type_name, id), term in ids.items():
        if is_action_type(type_name):
            continue
        attrs: dict[str, Any] = {}
        for (tn, path), (fn, ty) in sorted(enc.attr_fns.items(), key=lambda kv: kv[0][1]):
            if tn != type_name:
                continue
            target = attrs
            present = True
            for depth in range(1, len(path) + 1):
                pfn = enc.presence_fns.get((tn, path[:depth]))
                if pfn is not None and not r.is_true(enc.apply(pfn, term)):
                    present = False
                    break
                if depth < len(path):
                    target = target.setdefault(path[depth - 1], {})
            if present:
                target[path[-1]] = r.json(ty, enc.apply(fn, term))
        # records whose fields are all unread but which are present
        for (tn, path), pfn in enc.presence_fns.items():
            if (
                tn == type_name
                and len(path) == 1
                and path[0] not in attrs
                and r.is_true(enc.apply(pfn, term))
            ):
                declared = enc.info.entity_attrs(tn).get(path[0])
                if declared is not None and isinstance(declared.type, RecordType):
                    attrs[path[0]] = {}
        parents = []
        for (child, ancestor), fn in enc.anc_fns.items():
            if child == type_name:
                for elem in sorted(r.value(enc.apply(fn, term)).getSetValue(), key=str):
                    parents.append(_uid(ancestor, str(elem.getStringValue())))
        entities[(type_name, id)] = {"uid": _uid(type_name, id), "attrs": attrs, "parents": parents}
    for type_name, eterm, kterm in enc.tag_reads:
        key = (type_name, str(r.value(eterm).getStringValue()))
        has_fn, get_fn, tag_ty = enc.tags(type_name)
        if key in entities and r.is_true(enc.apply(has_fn, eterm, kterm)):
            tag = str(r.value(kterm).getStringValue())
            entities[key].setdefault("tags", {})[tag] = r.json(tag_ty, enc.apply(get_fn, eterm, kterm))
    # entities named only as parents or inside attribute values: present, empty
    for e in list(entities.values()):
        for p in e["parents"]:
            _note_refs({"__entity": p}, entities)
        _note_refs(e["attrs"], entities)
        _note_refs(e.get("tags", {}), entities)
    context = r.sym(enc.context)
    _note_refs(context, entities)
    actions = enc.info.actions
    for uid in actions:  # the schema's action hierarchy (ancestors as parents)
        parents = [_uid(a.type, a.id) for a, ainfo in actions.items() if uid in ainfo.descendants]
        entities[(uid.type, uid.id)] = {"uid": _uid(uid.type, uid.id), "attrs": {}, "parents": parents}
    return Counterexample(
        _uid(env.principal, str(r.value(enc.principal.term).getStringValue())),
        _uid(env.action.type, env.action.id),
        _uid(env.resource, str(r.value(enc.resource.term).getStringValue())),
        context,
        list(entities.values()),
    )


def _note_refs(value: Any, entities: dict[tuple[str, str], dict[str, Any]]) -> None:
    if isinstance(value, dict):
        ref = value.get("__entity")
        if isinstance(ref, dict) and len(value) == 1:
            key = (ref["type"], ref["id"])
            if key not in entities and not is_action_type(ref["type"]):
                entities[key] = {"uid": dict(ref), "attrs": {}, "parents": []}
            return
        for v in value.values():
            _note_refs(v, entities)
    elif isinstance(value, list):
        for v in value:
            _note_refs(v, entities)
