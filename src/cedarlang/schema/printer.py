"""Printing a :class:`Fragment` in the Cedar schema syntax, as Rust's ``cedar_schema/fmt.rs``."""

from __future__ import annotations

from ..errors import SchemaError
from ..source import Diagnostic
from ._names import escape_debug, needs_quotes, qualify
from .fragment import (
    ActionRaw,
    Annotations,
    CommonRefRaw,
    EntityOrCommonRaw,
    EntityRaw,
    EntityTypeRaw,
    ExtensionRaw,
    Fragment,
    NamespaceRaw,
    PrimRaw,
    RawType,
    RecordRaw,
    SetRaw,
)
from .json_syntax import sorted_namespaces

_INDENT = "  "
_PRIM_NAMES = {"Boolean": "Bool", "Long": "Long", "String": "String"}


def _annotations(annotations: Annotations, indent: str) -> str:
    out = []
    for key in sorted(annotations):
        value = annotations[key]
        if value is None:
            out.append(f"{indent}@{key}\n")
        else:
            out.append(f'{indent}@{key}("{escape_debug(value)}")\n')
    return "".join(out)


def type_to_cedar(ty: RawType, indent: str = "") -> str:
    """A type in Cedar syntax; ``indent`` is the indentation of the line the type starts on."""
    if isinstance(ty, PrimRaw):
        return f"__cedar::{_PRIM_NAMES[ty.name]}"
    if isinstance(ty, EntityRaw | EntityOrCommonRaw | CommonRefRaw):
        return ty.name
    if isinstance(ty, ExtensionRaw):
        return f"__cedar::{ty.name}"
    if isinstance(ty, SetRaw):
        return f"Set<{type_to_cedar(ty.element, indent)}>"
    assert isinstance(ty, RecordRaw)
    member = indent + _INDENT
    parts = ["{"]
    names = sorted(ty.attributes)
    for i, name in enumerate(names):
        attr = ty.attributes[name]
        if i == 0:
            parts.append("\n")
        parts.append(_annotations(attr.annotations, member))
        shown = f'"{escape_debug(name)}"' if needs_quotes(name) else name
        opt = "" if attr.required else "?"
        comma = "," if i < len(names) - 1 else ""
        parts.append(f"{member}{shown}{opt}: {type_to_cedar(attr.type, member)}{comma}\n")
    parts.append(f"{indent}}}")
    return "".join(parts)


def _entity(name: str, et: EntityTypeRaw, indent: str) -> str:
    out = [f"{indent}entity {name}"]
    if et.enum is not None:
        choices = ", ".join(f'"{escape_debug(c)}"' for c in et.enum)
        out.append(f" enum [{choices}]")
    else:
        if et.member_of_types:
            out.append(" in [" + ", ".join(n.name for n in et.member_of_types) + "]")
        if not (isinstance(et.shape, RecordRaw) and et.shape.is_empty()):
            out.append(" = " + type_to_cedar(et.shape, indent))
        if et.tags is not None:
            out.append(" tags " + type_to_cedar(et.tags))
    out.append(";")
    return "".join(out)


def _action(name: str, action: ActionRaw, indent: str) -> str:
    out = [f'{indent}action "{escape_debug(name)}"']
    if action.member_of:
        refs = [f'{ref.type or "Action"}::"{escape_debug(ref.id)}"' for ref in action.member_of]
        out.append(" in [" + ", ".join(refs) + "]")
    spec = action.applies_to
    if spec is not None and spec.principal_types and spec.resource_types:
        member = indent + _INDENT
        principals = ", ".join(n.name for n in spec.principal_types)
        resources = ", ".join(n.name for n in spec.resource_types)
        out.append(" appliesTo {")
        out.append(f"\n{member}principal: [{principals}]")
        out.append(f",\n{member}resource: [{resources}]")
        ctx = spec.context
        shown_ctx = "{}" if isinstance(ctx, RecordRaw) and ctx.is_empty() else type_to_cedar(ctx, member)
        out.append(f",\n{member}context: {shown_ctx}")
        out.append(f"\n{indent}}}")
    out.append(";")
    return "".join(out)


def _namespace_body(ns: NamespaceRaw, indent: str) -> str:
    items: list[str] = []
    for name in sorted(ns.common_types):
        ct = ns.common_types[name]
        items.append(
            _annotations(ct.annotations, indent)
            + f"{indent}type {name} = {type_to_cedar(ct.type, indent)};\n"
        )
    for name in sorted(ns.entity_types):
        et = ns.entity_types[name]
        items.append(_annotations(et.annotations, indent) + _entity(name, et, indent) + "\n")
    for name in sorted(ns.actions):
        action = ns.actions[name]
        items.append(_annotations(action.annotations, indent) + _action(name, action, indent) + "\n")
    return "\n".join(items)


def _check_collisions(fragment: Fragment) -> None:
    collisions: list[str] = []
    for ns in sorted_namespaces(fragment):
        if ns.name is None:
            continue
        collisions.extend(
            qualify(name, ns.name) for name in sorted(ns.entity_types) if name in ns.common_types
        )
    if collisions:
        raise SchemaError(
            [
                Diagnostic(
                    f"There are name collisions: [{', '.join(collisions)}]",
                    help="the Cedar schema syntax cannot express a namespace that declares an "
                    "entity type and a common type with the same name",
                )
            ]
        )
    bad_shapes = [
        qualify(name, ns.name)
        for ns in sorted_namespaces(fragment)
        for name in sorted(ns.entity_types)
        if ns.entity_types[name].enum is None and not isinstance(ns.entity_types[name].shape, RecordRaw)
    ]
    if bad_shapes:
        raise SchemaError(
            [
                Diagnostic(
                    "The following entities have shapes that cannot be converted to Cedar schema "
                    f"syntax: [{', '.join(bad_shapes)}]",
                    help="in the Cedar schema syntax an entity shape must be written as a record",
                )
            ]
        )


def fragment_to_cedar(fragment: Fragment) -> str:
    """``fragment`` in the Cedar schema syntax (raises :class:`SchemaError` on name collisions)."""
    _check_collisions(fragment)
    out: list[str] = []
    namespaces = sorted_namespaces(fragment)
    for i, ns in enumerate(namespaces):
        if ns.name is None:
            out.append(_namespace_body(ns, ""))
        else:
            out.append(
                _annotations(ns.annotations, "")
                + f"namespace {ns.name} {{\n{_namespace_body(ns, _INDENT)}}}\n"
            )
        if i < len(namespaces) - 1:
            out.append("\n")
    return "".join(out)
