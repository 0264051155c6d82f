"""Entities as a Graphviz DOT graph: Rust's ``Entities::to_dot_str`` (cedar-policy-core
``entities.rs``), which ``cedar visualize`` prints.

One box per entity, clustered by entity type, and an edge from each entity to each of its
direct parents. Ids are double-quoted strings escaped as Rust's ``escape_debug`` does
(the labels are the escaped entity ids, escaped once more). Rust walks hash maps; this
keeps the store's order (types in order of first appearance) and sorts each entity's
parents, so the output is stable.
"""

from __future__ import annotations

from collections.abc import Iterable

from .entities import Entity
from .lexical import escape_debug

__all__ = ["entities_to_dot"]


def _dot_id(text: str) -> str:
    return f'"{escape_debug(text)}"'


def entities_to_dot(entities: Iterable[Entity]) -> str:
    """The DOT text of ``entities`` (ending in a newline, as Rust's does)."""
    entities = list(entities)
    by_type: dict[str, list[Entity]] = {}
    for entity in entities:
        by_type.setdefault(entity.uid.type, []).append(entity)
    lines = ["strict digraph {", '\tordering="out"', "\tnode[shape=box]"]
    for entity_type, members in by_type.items():
        lines.append(f'\tsubgraph "cluster_{entity_type}" {{')
        lines.append(f"\t\tlabel={_dot_id(entity_type)}")
        for entity in members:
            lines.append(f"\t\t{_dot_id(str(entity.uid))} [label={_dot_id(escape_debug(entity.uid.id))}]")
        lines.append("\t}")
    for entity in entities:
        for parent in sorted(entity.parents):
            lines.append(f"\t{_dot_id(str(entity.uid))} -> {_dot_id(str(parent))}")
    lines.append("}")
    return "\n".join(lines) + "\n"
