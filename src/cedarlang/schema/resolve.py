"""From a :class:`Fragment` to the resolved model (Rust's ``ValidatorSchema`` construction).

Steps, in Rust's order (``schema.rs`` ``from_schema_fragments`` and ``namespace_def.rs``):

1. per-namespace restrictions: no entity type named ``Action``; no action ``attributes``;
2. collect all definitions (fully qualified) and apply the RFC 70 shadowing rules;
3. make ``Bool``/``Long``/``String`` and the extension types available in the empty
   namespace as aliases of ``__cedar::*`` (unless the user declared those names there);
4. resolve every type reference: an unqualified name in namespace ``NS`` means ``NS::name``
   if that is declared, else ``name`` in the empty namespace; common types win over entity
   types at each step; undeclared names are errors (reported together);
5. inline common types (cycles are errors), check extension types and open records;
6. entity shapes and action contexts must be records; the action hierarchy must be acyclic.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, NoReturn

from ..errors import SchemaError
from ..extensions import EXTENSION_TYPES
from ..source import Diagnostic, Source, Span
from ..values import EntityUid
from ._names import PRIMITIVE_NAMES, escape_debug, name_sort_key, qualify
from .fragment import (
    ActionRaw,
    ActionRefRaw,
    Annotations,
    ApplySpecRaw,
    AttrRaw,
    CommonRefRaw,
    CommonTypeRaw,
    EntityOrCommonRaw,
    EntityRaw,
    EntityTypeRaw,
    ExtensionRaw,
    Fragment,
    NamespaceRaw,
    PrimRaw,
    RawName,
    RawType,
    RecordRaw,
    SetRaw,
)
from .json_syntax import sorted_namespaces
from .model import ActionDecl, EntityTypeDecl
from .types import (
    BOOL,
    EMPTY_RECORD,
    LONG,
    STRING,
    Attribute,
    EntityRefType,
    ExtensionType,
    RecordType,
    SchemaType,
    SetType,
)

_BUILTINS: Final[dict[str, SchemaType]] = {
    "__cedar::Bool": BOOL,
    "__cedar::Long": LONG,
    "__cedar::String": STRING,
    **{f"__cedar::{ext}": ExtensionType(ext) for ext in EXTENSION_TYPES},
}
_PRIMS: Final[dict[str, SchemaType]] = {"Long": LONG, "String": STRING, "Boolean": BOOL}

_ENTITY: Final = "entity"
_COMMON: Final = "common"
_EITHER: Final = "either"


def _join_with_and(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    return ", ".join(items[:-1]) + f", and {items[-1]}"


def uid_str(uid: EntityUid) -> str:
    """An entity uid as Rust displays it: ``Type::"escaped id"``."""
    return f'{uid.type}::"{escape_debug(uid.id)}"'


def _frozen_annotations(annotations: Annotations) -> Mapping[str, str]:
    return MappingProxyType({k: ("" if v is None else v) for k, v in annotations.items()})


@dataclass(slots=True)
class _Unresolved:
    raw: str
    possibilities: list[str]
    kind: str
    span: Span | None


class _Undefined(Exception):
    def __init__(self, items: list[_Unresolved]) -> None:
        super().__init__("undefined type")
        self.items = items


@dataclass
class Resolved:
    """The result of resolution."""

    entity_types: dict[str, EntityTypeDecl]
    actions: dict[EntityUid, ActionDecl]
    warnings: list[Diagnostic] = field(default_factory=list)


class _Resolver:
    def __init__(self, fragment: Fragment) -> None:
        self.fragment = fragment
        self.source: Source | None = fragment.source
        self.namespaces = sorted_namespaces(fragment)
        # fully-qualified definitions
        self.entity_defs: dict[str, tuple[NamespaceRaw, EntityTypeRaw]] = {}
        self.common_defs: dict[str, tuple[NamespaceRaw, RawType, Span | None]] = {}
        self.action_defs: dict[EntityUid, tuple[NamespaceRaw, ActionRaw]] = {}
        self.aliases: dict[str, str] = {}
        self.action_types: set[str] = set()
        # where an entity type name was first used as a parent / in appliesTo (for errors)
        self.ref_spans: dict[str, Span | None] = {}
        self.unresolved: list[_Unresolved] = []
        self.undeclared_actions: list[tuple[ActionRefRaw, Span | None]] = []

    # -- errors
    def fail(self, message: str, span: Span | None = None, help: str | None = None) -> NoReturn:
        raise SchemaError([Diagnostic(message, span, self.source if span else None, help)])

    # -- step 1 and 2
    def collect(self) -> None:
        for ns in self.namespaces:
            if "Action" in ns.entity_types:
                self.fail(
                    "entity type `Action` declared in `entityTypes` list",
                    ns.entity_types["Action"].span,
                    "the `Action` entity type is implicitly declared; actions are declared with `action`",
                )
            with_attrs = sorted(name for name, a in ns.actions.items() if a.has_attributes)
            if with_attrs:
                self.fail(
                    "unsupported feature used in schema",
                    None,
                    f"action declared with attributes: [{', '.join(with_attrs)}]",
                )
        for ns in self.namespaces:
            for name, ct in ns.common_types.items():
                self.common_defs[qualify(name, ns.name)] = (ns, ct.type, ct.span)
            for name, et in ns.entity_types.items():
                self.entity_defs[qualify(name, ns.name)] = (ns, et)
            for name, action in ns.actions.items():
                self.action_defs[EntityUid(qualify("Action", ns.name), name)] = (ns, action)
                self.action_types.add(qualify("Action", ns.name))

    def def_span(self, name: str) -> Span | None:
        if name in self.entity_defs:
            return self.entity_defs[name][1].span
        if name in self.common_defs:
            return self.common_defs[name][2]
        return None

    def rfc70(self) -> None:
        names = list(self.entity_defs) + list(self.common_defs)
        qualified = [n for n in names if "::" in n and "__cedar" not in n.split("::")]
        by_base: dict[str, str] = {}
        for n in qualified:
            by_base.setdefault(n.rsplit("::", 1)[1], n)
        for unqualified in names:
            if "::" in unqualified:
                continue
            shadowing = by_base.get(unqualified)
            if shadowing is not None:
                self.fail(
                    f"definition of `{shadowing}` illegally shadows the existing definition of "
                    f"`{unqualified}`",
                    self.def_span(shadowing),
                    f"try renaming one of the definitions, or moving `{unqualified}` to a "
                    f"different namespace",
                )
        empty_ns_actions = {uid.id for uid in self.action_defs if uid.type == "Action"}
        for uid, (_, action) in self.action_defs.items():
            if uid.type != "Action" and uid.id in empty_ns_actions:
                shadowed = EntityUid("Action", uid.id)
                self.fail(
                    f"definition of `{uid_str(uid)}` illegally shadows the existing definition "
                    f"of `{uid_str(shadowed)}`",
                    action.span,
                    f"try renaming one of the actions, or moving `{uid_str(shadowed)}` to a "
                    f"different namespace",
                )

    # -- step 3
    def add_aliases(self) -> None:
        for name in (*PRIMITIVE_NAMES, *EXTENSION_TYPES):
            if name not in self.entity_defs and name not in self.common_defs:
                self.aliases[name] = f"__cedar::{name}"

    def is_common(self, name: str) -> bool:
        return name in self.common_defs or name in self.aliases or name in _BUILTINS

    # -- step 4
    @staticmethod
    def possibilities(name: str, ns: str | None) -> list[str]:
        if "::" in name or ns is None:
            return [name]
        return [f"{ns}::{name}", name]

    def lookup(self, name: str, ns: str | None, kind: str) -> str | _Unresolved:
        """Resolve a type reference, or describe why it does not resolve."""
        options = self.possibilities(name, ns)
        for option in options:
            if kind != _ENTITY and self.is_common(option):
                return option
            if kind != _COMMON and (option in self.entity_defs or option in self.action_types):
                return option
        return _Unresolved(name, options, kind, None)

    def resolve_name(self, name: str, span: Span | None, ns: str | None, kind: str) -> str:
        """Like :meth:`lookup` but raises :class:`_Undefined` on failure."""
        found = self.lookup(name, ns, kind)
        if isinstance(found, _Unresolved):
            found.span = span
            raise _Undefined([found])
        return found

    def resolve_names(self, names: Iterable[RawName], ns: str | None) -> tuple[list[str], list[_Unresolved]]:
        """Resolve entity type names, collecting every failure (once per distinct name)."""
        out: list[str] = []
        failed: dict[str, _Unresolved] = {}
        for raw in names:
            found = self.lookup(raw.name, ns, _ENTITY)
            if isinstance(found, _Unresolved):
                found.span = raw.span
                failed.setdefault(raw.name, found)
            else:
                out.append(found)
                self.ref_spans.setdefault(found, raw.span)
        return out, list(failed.values())

    def qualify_type(self, ty: RawType, ns: str | None) -> RawType:
        """Resolve all names in ``ty``: entity refs become ``EntityRaw``, common refs
        ``CommonRefRaw``. Raises :class:`_Undefined` for the first name that does not resolve
        (attributes in sorted order, as Rust does)."""
        if isinstance(ty, PrimRaw | ExtensionRaw):
            return ty
        if isinstance(ty, SetRaw):
            return SetRaw(self.qualify_type(ty.element, ns), span=ty.span)
        if isinstance(ty, RecordRaw):
            attrs = {
                k: AttrRaw(
                    self.qualify_type(ty.attributes[k].type, ns),
                    ty.attributes[k].required,
                    ty.attributes[k].annotations,
                    ty.attributes[k].span,
                )
                for k in sorted(ty.attributes)
            }
            return RecordRaw(attrs, ty.additional_attributes, span=ty.span)
        if isinstance(ty, EntityRaw):
            return EntityRaw(self.resolve_name(ty.name, ty.span, ns, _ENTITY), span=ty.span)
        if isinstance(ty, CommonRefRaw):
            return CommonRefRaw(self.resolve_name(ty.name, ty.span, ns, _COMMON), span=ty.span)
        assert isinstance(ty, EntityOrCommonRaw)
        target = self.resolve_name(ty.name, ty.span, ns, _EITHER)
        if self.is_common(target):
            return CommonRefRaw(target, span=ty.span)
        return EntityRaw(target, span=ty.span)

    def try_qualify(self, ty: RawType, ns: str | None) -> RawType | None:
        try:
            return self.qualify_type(ty, ns)
        except _Undefined as e:
            self.unresolved.extend(e.items)
            return None

    def resolve_action_ref(self, ref: ActionRefRaw, ns: str | None) -> EntityUid | None:
        ty = ref.type if ref.type is not None else "Action"
        for option in self.possibilities(ty, ns):
            uid = EntityUid(option, ref.id)
            if uid in self.action_defs:
                return uid
        return None

    def report_unresolved(self) -> None:
        if self.unresolved:
            first = self.unresolved[0]
            names = ", ".join(u.raw for u in self.unresolved)
            plural = "s" if len(self.unresolved) > 1 else ""
            what = {
                _COMMON: "as a common type",
                _ENTITY: "as an entity type",
                _EITHER: "as a common or entity type",
            }[first.kind]
            if len(first.possibilities) == 1:
                help = f"`{first.possibilities[0]}` has not been declared {what}"
            else:
                a, b = first.possibilities
                help = f"neither `{a}` nor `{b}` refers to anything that has been declared {what}"
            suggestion = self.suggest(first)
            if suggestion is not None:
                help += f"; did you mean `{suggestion}`?"
            self.fail(f"failed to resolve type{plural}: {names}", first.span, help)
        if self.undeclared_actions:
            refs = [f'{ref.type or "Action"}::"{escape_debug(ref.id)}"' for ref, _ in self.undeclared_actions]
            plural = "s" if len(refs) > 1 else ""
            self.fail(
                f"undeclared action{plural}: {_join_with_and(refs)}",
                self.undeclared_actions[0][1],
                "any actions appearing as parents need to be declared as actions",
            )

    def suggest(self, missing: _Unresolved) -> str | None:
        candidates: set[str] = set()
        if missing.kind != _ENTITY:
            candidates.update(self.common_defs)
            candidates.update(self.aliases)
            candidates.update(_BUILTINS)
        if missing.kind != _COMMON:
            candidates.update(self.entity_defs)
        # compare like with like: basenames when the reference is unqualified
        if "::" not in missing.raw:
            table: dict[str, str] = {}
            for c in sorted(candidates):
                table.setdefault(c.rsplit("::", 1)[-1], c.rsplit("::", 1)[-1])
            pool = list(table)
        else:
            pool = sorted(candidates)
        matches = difflib.get_close_matches(missing.raw, pool, n=1, cutoff=0.6)
        return matches[0] if matches else None

    # -- step 5
    def to_schema_type(self, ty: RawType, commons: Mapping[str, SchemaType]) -> SchemaType:
        if isinstance(ty, PrimRaw):
            return _PRIMS[ty.name]
        if isinstance(ty, ExtensionRaw):
            if ty.name not in EXTENSION_TYPES:
                matches = difflib.get_close_matches(ty.name, EXTENSION_TYPES, n=1, cutoff=0.0)
                help = f"did you mean `{matches[0]}`?" if matches else None
                self.fail(f"unknown extension type `{ty.name}`", ty.span, help)
            return ExtensionType(ty.name)
        if isinstance(ty, EntityRaw):
            return EntityRefType(ty.name)
        if isinstance(ty, CommonRefRaw):
            return commons[ty.name]
        if isinstance(ty, SetRaw):
            return SetType(self.to_schema_type(ty.element, commons))
        assert isinstance(ty, RecordRaw)
        if ty.additional_attributes:
            self.fail(
                "unsupported feature used in schema",
                ty.span,
                "records and entities with `additionalAttributes` are experimental, but the "
                "experimental `partial-validate` feature is not enabled",
            )
        return RecordType(
            MappingProxyType(
                {
                    name: Attribute(
                        self.to_schema_type(attr.type, commons),
                        attr.required,
                        _frozen_annotations(attr.annotations),
                    )
                    for name, attr in ty.attributes.items()
                }
            )
        )

    def resolve_commons(self, qualified: dict[str, RawType]) -> dict[str, SchemaType]:
        deps: dict[str, list[str]] = {name: list(_common_refs(ty)) for name, ty in qualified.items()}
        order, on_cycle = _dependency_order(deps)
        if on_cycle:
            cycle = next(name for name in deps if name in on_cycle)
            self.fail(
                f"cycle in common type references containing `{cycle}`",
                self.common_defs[cycle][2] if cycle in self.common_defs else None,
                "common types may refer to other common types, but not in a cycle",
            )
        resolved: dict[str, SchemaType] = dict(_BUILTINS)
        for name in order:
            resolved[name] = self.to_schema_type(qualified[name], resolved)
        return resolved

    # -- everything
    def run(self) -> Resolved:
        self.collect()
        self.rfc70()
        self.add_aliases()

        # Resolve names, in Rust's order: per namespace common types, entity types, actions.
        # Within one type only the first failure is reported; entity parents and appliesTo
        # lists report every failure; an action's context failure hides the rest of it.
        q_commons: dict[str, RawType] = {}
        q_entities: dict[str, tuple[list[str], RawType, RawType | None]] = {}
        q_actions: dict[EntityUid, tuple[list[EntityUid], list[str], list[str], RawType]] = {}
        for ns in self.namespaces:
            nsn = ns.name
            for name, ct in ns.common_types.items():
                q_ct = self.try_qualify(ct.type, nsn)
                if q_ct is not None:
                    q_commons[qualify(name, nsn)] = q_ct
            for name, et in ns.entity_types.items():
                parents, failed = self.resolve_names(et.member_of_types, nsn)
                if failed:
                    self.unresolved.extend(failed)
                    continue
                shape = self.try_qualify(et.shape, nsn)
                tags = None if et.tags is None else self.try_qualify(et.tags, nsn)
                if shape is not None and (tags is not None or et.tags is None):
                    q_entities[qualify(name, nsn)] = (parents, shape, tags)
            for name, action in ns.actions.items():
                uid = EntityUid(qualify("Action", nsn), name)
                spec = action.applies_to
                context = self.try_qualify(spec.context if spec else RecordRaw(), nsn)
                if context is None:
                    continue
                principals, failed_p = self.resolve_names(spec.principal_types if spec else [], nsn)
                resources, failed_r = self.resolve_names(spec.resource_types if spec else [], nsn)
                if failed_p or failed_r:
                    self.unresolved.extend(failed_p + failed_r)
                    continue
                parents_a: list[EntityUid] = []
                missing: dict[tuple[str, str], ActionRefRaw] = {}
                for ref in action.member_of or []:
                    parent = self.resolve_action_ref(ref, nsn)
                    if parent is None:
                        missing.setdefault((ref.type or "Action", ref.id), ref)
                    else:
                        parents_a.append(parent)
                self.undeclared_actions.extend((ref, ref.span) for ref in missing.values())
                q_actions[uid] = (parents_a, principals, resources, context)
        for alias, aliased in self.aliases.items():
            q_commons[alias] = CommonRefRaw(aliased)
        self.report_unresolved()

        commons = self.resolve_commons(q_commons)

        entity_types: dict[str, EntityTypeDecl] = {}
        for name, (parents, shape_raw, tags_raw) in q_entities.items():
            et = self.entity_defs[name][1]
            shape_t = self.to_schema_type(shape_raw, commons)
            if not isinstance(shape_t, RecordType):
                self.fail(
                    f"Shape for entity type {name} is declared with a type other than `Record`",
                    et.span,
                    "entity type shapes must have type `Record`",
                )
            tags_t = None if tags_raw is None else self.to_schema_type(tags_raw, commons)
            entity_types[name] = EntityTypeDecl(
                name=name,
                member_of_types=frozenset(parents),
                shape=shape_t if et.enum is None else EMPTY_RECORD,
                tags=tags_t,
                enum=None if et.enum is None else tuple(et.enum),
                annotations=_frozen_annotations(et.annotations),
            )

        actions: dict[EntityUid, ActionDecl] = {}
        for uid, (parents_a, principals, resources, context_raw) in q_actions.items():
            action = self.action_defs[uid][1]
            context_t = self.to_schema_type(context_raw, commons)
            if not isinstance(context_t, RecordType):
                self.fail(
                    f"Context for action {uid_str(uid)} is declared with a type other than `Record`",
                    action.span,
                    "action contexts must have type `Record`",
                )
            actions[uid] = ActionDecl(
                uid=uid,
                member_of=tuple(dict.fromkeys(parents_a)),
                principal_types=tuple(dict.fromkeys(principals)),
                resource_types=tuple(dict.fromkeys(resources)),
                context=context_t,
                has_applies_to=bool(principals) and bool(resources),
                annotations=_frozen_annotations(action.annotations),
            )

        self.check_action_cycles(actions)
        self.check_undeclared(entity_types, actions)
        return Resolved(entity_types, actions, self.warnings())

    def check_undeclared(
        self, entity_types: Mapping[str, EntityTypeDecl], actions: Mapping[EntityUid, ActionDecl]
    ) -> None:
        """Action entity types resolve as type names, but may not be parents or in appliesTo."""
        undeclared: set[str] = set()
        for et in entity_types.values():
            undeclared.update(p for p in et.member_of_types if p not in entity_types)
        for action in actions.values():
            undeclared.update(t for t in action.principal_types if t not in entity_types)
            undeclared.update(t for t in action.resource_types if t not in entity_types)
        if undeclared:
            names = sorted(undeclared, key=name_sort_key)
            plural = "s" if len(names) > 1 else ""
            self.fail(
                f"undeclared entity type{plural}: {_join_with_and(names)}",
                self.ref_spans.get(names[0]),
                "any entity types appearing anywhere in a schema need to be declared in `entityTypes`",
            )

    def check_action_cycles(self, actions: Mapping[EntityUid, ActionDecl]) -> None:
        for start in actions:
            seen: set[EntityUid] = set()
            stack = list(actions[start].member_of)
            while stack:
                node = stack.pop()
                if node == start:
                    self.fail(
                        f"cycle in action hierarchy containing `{uid_str(start)}`",
                        self.action_defs[start][1].span,
                        "an action may not be (transitively) a member of itself",
                    )
                if node in seen:
                    continue
                seen.add(node)
                stack.extend(actions[node].member_of)

    def warnings(self) -> list[Diagnostic]:
        if self.source is None:
            return []
        out: list[Diagnostic] = []
        builtin = {*PRIMITIVE_NAMES, *EXTENSION_TYPES}
        for ns in self.namespaces:
            for name, ct in ns.common_types.items():
                if name in ns.entity_types:
                    out.append(
                        Diagnostic(
                            f"The common type name {name} shadows an entity name",
                            ct.span,
                            self.source,
                            severity="warning",
                        )
                    )
            for name, span in [(n, c.span) for n, c in ns.common_types.items()] + [
                (n, e.span) for n, e in ns.entity_types.items()
            ]:
                if name in builtin:
                    out.append(
                        Diagnostic(
                            f"The name `{name}` shadows a builtin Cedar name. You'll have to "
                            f"refer to the builtin as `__cedar::{name}`.",
                            span,
                            self.source,
                            severity="warning",
                        )
                    )
        return out


def _common_refs(ty: RawType) -> Iterable[str]:
    if isinstance(ty, CommonRefRaw):
        yield ty.name
    elif isinstance(ty, SetRaw):
        yield from _common_refs(ty.element)
    elif isinstance(ty, RecordRaw):
        for attr in ty.attributes.values():
            yield from _common_refs(attr.type)


def _dependency_order(deps: Mapping[str, list[str]]) -> tuple[list[str], set[str]]:
    """The names of ``deps`` ordered so that each comes after everything it refers to, and the
    set of names that lie on a reference cycle (then the order is meaningless).

    Tarjan's strongly connected components, iteratively: linear in the number of names and
    references, however long a chain of aliases is (references to names outside ``deps`` are
    ignored).
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    order: list[str] = []
    on_cycle: set[str] = set()
    for root in deps:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work[-1]
            succs = deps[node]
            if i < len(succs):
                work[-1] = (node, i + 1)
                succ = succs[i]
                if succ not in deps:
                    continue
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, 0))
                elif succ in on_stack:
                    low[node] = min(low[node], index[succ])
                if succ == node:
                    on_cycle.add(node)
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    on_cycle.update(component)
                order.extend(component)
    return order, on_cycle


def resolve(fragment: Fragment) -> Resolved:
    """Resolve ``fragment`` into entity type and action declarations (raises :class:`SchemaError`)."""
    return _Resolver(fragment).run()


def fragment_with_resolved_types(fragment: Fragment) -> tuple[Fragment, list[Diagnostic]]:
    """Rust's ``Fragment::to_internal_name_fragment_with_resolved_types``: ``fragment`` with
    every type reference fully qualified and every ``EntityOrCommon`` reference (a bare name
    in the Cedar syntax) resolved to an entity type (``{"type": "Entity", "name": ...}``) or
    a common type (``{"type": <name>}``; the builtin ``String``, ``decimal``, ... are common
    types by that name unless an entity type shadows them). Entity type parents, ``appliesTo``
    lists and action groups (``{"id", "type"}``) are qualified too.

    Like Rust, only the names are checked: a name that resolves to nothing raises
    :class:`SchemaError`, but the schema-wide checks of :class:`~cedarlang.Schema` (RFC 70
    shadowing, cycles, ...) are not made. Returns the fragment and the warnings (a declaration
    shadowing a builtin type name).
    """
    resolver = _Resolver(fragment)
    resolver.collect()
    resolver.add_aliases()

    def qualified(ty: RawType, ns: str | None) -> RawType:
        try:
            return resolver.qualify_type(ty, ns)
        except _Undefined as e:
            resolver.unresolved.extend(e.items)
            resolver.report_unresolved()
            raise AssertionError("unreachable") from None

    def names(raws: list[RawName], ns: str | None) -> list[RawName]:
        found, failed = resolver.resolve_names(raws, ns)
        if failed:
            resolver.unresolved.extend(failed)
            resolver.report_unresolved()
        return [RawName(n, r.span) for n, r in zip(found, raws, strict=True)]

    out = Fragment(source=fragment.source)
    for ns in resolver.namespaces:
        nsn = ns.name
        new_ns = NamespaceRaw(nsn, annotations=dict(ns.annotations), span=ns.span)
        for name, ct in ns.common_types.items():
            new_ns.common_types[name] = CommonTypeRaw(qualified(ct.type, nsn), dict(ct.annotations), ct.span)
        for name, et in ns.entity_types.items():
            new_ns.entity_types[name] = EntityTypeRaw(
                member_of_types=names(et.member_of_types, nsn),
                shape=qualified(et.shape, nsn),
                tags=None if et.tags is None else qualified(et.tags, nsn),
                enum=None if et.enum is None else list(et.enum),
                annotations=dict(et.annotations),
                span=et.span,
            )
        for name, action in ns.actions.items():
            spec = action.applies_to
            new_spec = None
            if spec is not None:
                new_spec = ApplySpecRaw(
                    names(spec.principal_types, nsn),
                    names(spec.resource_types, nsn),
                    qualified(spec.context, nsn),
                )
            member_of = None
            if action.member_of is not None:
                member_of = []
                for ref in action.member_of:
                    parent = resolver.resolve_action_ref(ref, nsn)
                    if parent is None:
                        resolver.fail(
                            f"undeclared action: {uid_str(EntityUid(ref.type or 'Action', ref.id))}",
                            ref.span,
                            "any actions appearing as parents need to be declared as actions",
                        )
                    member_of.append(ActionRefRaw(parent.id, parent.type, ref.span))
            new_ns.actions[name] = ActionRaw(
                new_spec, member_of, dict(action.annotations), action.has_attributes, action.span
            )
        out.namespaces[nsn] = new_ns
    return out, resolver.warnings()


def merge_fragments(fragments: Iterable[Fragment]) -> Fragment:
    """One fragment holding the declarations of all ``fragments`` (Rust's
    ``ValidatorSchema::from_schema_fragments``): a namespace may be spread over several
    fragments, but a common type, entity type or action may be declared only once
    (``duplicate common type `NS::T```, ``duplicate entity type ...``, ``duplicate action ...``).
    Namespace annotations are merged (the first value of a key wins). Source spans are kept
    only when every fragment comes from the same source.
    """
    merged = Fragment()
    sources = []
    for fragment in fragments:
        sources.append(fragment.source)
        for key, ns in fragment.namespaces.items():
            target = merged.namespaces.get(key)
            if target is None:
                target = merged.namespaces[key] = NamespaceRaw(key, span=ns.span)
            for name, ct in ns.common_types.items():
                if name in target.common_types:
                    raise SchemaError([Diagnostic(f"duplicate common type `{qualify(name, key)}`")])
                target.common_types[name] = ct
            for name, et in ns.entity_types.items():
                if name in target.entity_types:
                    raise SchemaError([Diagnostic(f"duplicate entity type `{qualify(name, key)}`")])
                target.entity_types[name] = et
            for name, action in ns.actions.items():
                if name in target.actions:
                    uid = EntityUid(qualify("Action", key), name)
                    raise SchemaError([Diagnostic(f"duplicate action `{uid_str(uid)}`")])
                target.actions[name] = action
            for k, v in ns.annotations.items():
                target.annotations.setdefault(k, v)
    if len({id(s) for s in sources}) == 1:
        merged.source = sources[0]
    return merged
