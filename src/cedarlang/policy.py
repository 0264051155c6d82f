"""Policies, templates, template-linked policies and policy sets."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from . import ast
from ._limits import gc_paused
from .ast import Expr, condition_parts
from .cedar_json import uid_from_json
from .compiler import CompiledPolicy, PolicyFunction
from .errors import PolicySetError
from .index import PolicyIndex
from .parser import parse_entity_uid, parse_policies
from .source import TextInput
from .values import EntityUid

if TYPE_CHECKING:
    from . import pst

SlotValues = Mapping[str, EntityUid]
_INDEX_LOCK = threading.Lock()
_NO_SLOTS: Mapping[str, EntityUid] = MappingProxyType({})


def _as_uid(value: Any) -> EntityUid:
    if type(value) is dict:
        return uid_from_json(value)
    if isinstance(value, EntityUid):
        return value
    if isinstance(value, str):
        return parse_entity_uid(value)
    raise PolicySetError(f"expected an entity uid, got {value!r}")


class _Parsed:
    """What templates and policies share: a syntax tree and an id."""

    __slots__ = ("ast", "id")

    def __init__(self, policy_ast: ast.PolicyAst, policy_id: str) -> None:
        self.ast = policy_ast
        self.id = policy_id

    @property
    def effect(self) -> ast.Effect:
        return self.ast.effect

    @property
    def annotations(self) -> Mapping[str, str]:
        return MappingProxyType(dict(self.ast.annotations))

    def annotation(self, key: str) -> str | None:
        return self.ast.annotations.get(key)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"

    def __str__(self) -> str:
        """The policy's source text; Cedar text rendered from the tree for a policy built
        another way (JSON, PST)."""
        if self.ast.text is not None:
            return self.ast.text
        from .est import policy_to_cedar

        return policy_to_cedar(self.ast)


class Template(_Parsed):
    """A policy with slots (``?principal`` / ``?resource``). Link it to get policies."""

    __slots__ = ("_compiled",)

    def __init__(self, policy_ast: ast.PolicyAst, template_id: str) -> None:
        super().__init__(policy_ast, template_id)
        self._compiled: CompiledPolicy | None = None

    def compiled(self) -> CompiledPolicy:
        """The template compiled once; every link shares it."""
        if self._compiled is None:
            self._compiled = CompiledPolicy(self.ast, self.id)
        return self._compiled

    @classmethod
    def from_str(cls, text: TextInput, template_id: str = "template0") -> Template:
        parsed = _parse_one(text)
        if not parsed.slots:
            raise PolicySetError("expected a template (a policy with slots), found a static policy")
        return cls(parsed, template_id)

    @property
    def slots(self) -> tuple[str, ...]:
        return self.ast.slots

    def new_id(self, template_id: str) -> Template:
        """This template under another id (Rust's ``Template::new_id``); this one is unchanged."""
        template = Template(self.ast, template_id)
        template._compiled = self._compiled  # (the id only names the compiled code)
        return template


class Policy(_Parsed):
    """A static policy, or a template linked with slot values.

    ``condition_parts`` are the boolean expressions that must all be ``true``
    for the policy to be satisfied: the scope constraints, each ``when`` body
    and each negated ``unless`` body, in order (Rust's ``condition()``).
    """

    __slots__ = ("_compiled", "_function", "is_permit", "slot_values", "template_id")

    def __init__(
        self,
        policy_ast: ast.PolicyAst,
        policy_id: str,
        template_id: str | None = None,
        slot_values: SlotValues | None = None,
        compiled: CompiledPolicy | None = None,
    ) -> None:
        # (assigned here rather than through super().__init__: linking builds many policies)
        self.ast = policy_ast
        self.id = policy_id
        self.template_id = template_id
        self.slot_values: Mapping[str, EntityUid] = (
            MappingProxyType(dict(slot_values)) if slot_values else _NO_SLOTS
        )
        self.is_permit: bool = policy_ast.effect is ast.Effect.PERMIT
        self._compiled = compiled
        self._function: PolicyFunction | None = None

    @property
    def condition_parts(self) -> tuple[Expr, ...]:
        """The scope constraints, ``when`` bodies and negated ``unless`` bodies (slots filled)."""
        return condition_parts(self.ast, self.slot_values)

    @property
    def function(self) -> PolicyFunction:
        """The compiled condition: ``fn(principal, action, resource, context, entities)``."""
        function = self._function
        if function is None:
            if self._compiled is None:
                self._compiled = CompiledPolicy(self.ast, self.id)
            function = self._function = self._compiled.bind(self.slot_values)
        return function

    @classmethod
    def from_str(cls, text: TextInput, policy_id: str = "policy0") -> Policy:
        parsed = _parse_one(text)
        if parsed.slots:
            raise PolicySetError("expected a static policy, found a template (it has slots)")
        return cls(parsed, policy_id)

    @property
    def is_template_linked(self) -> bool:
        return self.template_id is not None

    def new_id(self, policy_id: str) -> Policy:
        """This policy under another id (Rust's ``Policy::new_id``): a template-linked
        policy keeps its template and slot values. This one is unchanged."""
        return Policy(self.ast, policy_id, self.template_id, self.slot_values, self._compiled)

    def _same_as(self, other: Policy) -> bool:
        """Equal apart from the id: the same syntax tree, template and slot values."""
        return (
            self.ast == other.ast
            and self.template_id == other.template_id
            and self.slot_values == other.slot_values
        )


def _parse_one(text: TextInput) -> ast.PolicyAst:
    parsed = parse_policies(text)
    if len(parsed) != 1:
        raise PolicySetError(f"expected exactly one policy, found {len(parsed)}")
    return parsed[0]


class PolicySet:
    """A set of static policies, templates and template-linked policies, keyed by id."""

    def __init__(self) -> None:
        self._policies: dict[str, Policy] = {}
        self._templates: dict[str, Template] = {}
        self._version = 0
        self._index: PolicyIndex | None = None

    def index(self) -> PolicyIndex:
        """The scope index of this set's policies (built on first use, then kept current)."""
        index = self._index
        if index is None:
            with _INDEX_LOCK:
                if self._index is None:
                    self._index = PolicyIndex(self._policies.values())
                index = self._index
        return index

    def _added(self, policy: Policy) -> None:
        self._policies[policy.id] = policy
        self._version += 1
        if self._index is not None:
            self._index.add(policy)

    def _removed(self, policy: Policy) -> None:
        del self._policies[policy.id]
        self._version += 1
        if self._index is not None:
            self._index.remove(policy)

    @classmethod
    def from_str(
        cls, text: TextInput, name: str = "<policies>", *, ids_from_annotation: bool = False
    ) -> PolicySet:
        """Parse policy text (or UTF-8 bytes); ids are ``policy0``, ``policy1``, ... in text order
        (templates share the counter).

        With ``ids_from_annotation``, a policy or template with an ``@id("...")`` annotation
        takes that value as its id instead, as the Rust ``cedar`` CLI does
        (``rename_from_id_annotation``); two policies ending up with one id raise
        :class:`PolicySetError`."""
        pset = cls()
        with gc_paused():
            parsed_policies = parse_policies(text, name)
        if ids_from_annotation:
            return pset._add_named(parsed_policies)
        for index, parsed in enumerate(parsed_policies):
            pid = f"policy{index}"
            if parsed.slots:
                pset._templates[pid] = Template(parsed, pid)
            else:
                pset._policies[pid] = Policy(parsed, pid)
        return pset

    def _add_named(self, parsed_policies: list[ast.PolicyAst]) -> PolicySet:
        """Add parsed policies under their ``@id`` (else positional) ids: templates first,
        then static policies, each checked for a clash, in Rust's order."""
        named = [
            (parsed.annotations.get("id", f"policy{index}"), parsed)
            for index, parsed in enumerate(parsed_policies)
        ]
        for pid, parsed in named:
            if parsed.slots:
                self.add_template(Template(parsed, pid))
        for pid, parsed in named:
            if not parsed.slots:
                self.add(Policy(parsed, pid))
        return self

    # -- the policy syntax tree (cedarlang.pst) --------------------------------

    def to_pst(self) -> pst.PolicySet:
        """This set as policy syntax tree nodes (Rust's ``PolicySet::to_pst``; cedarpy's
        ``PolicySet.to_pst``)."""
        from . import pst

        return pst.to_pst(self)

    @classmethod
    def from_pst(cls, node: pst.PolicySet) -> PolicySet:
        """A policy set from policy syntax tree nodes (the inverse of :meth:`to_pst`)."""
        from . import pst

        return pst.from_pst(node)

    # -- queries ---------------------------------------------------------------

    def policies(self) -> list[Policy]:
        """Static and template-linked policies."""
        return list(self._policies.values())

    def templates(self) -> list[Template]:
        return list(self._templates.values())

    def policy(self, policy_id: str) -> Policy | None:
        return self._policies.get(policy_id)

    def template(self, template_id: str) -> Template | None:
        return self._templates.get(template_id)

    def __iter__(self) -> Iterator[Policy]:
        return iter(self._policies.values())

    def __len__(self) -> int:
        return len(self._policies)

    def __contains__(self, policy_id: object) -> bool:
        return policy_id in self._policies or policy_id in self._templates

    def __repr__(self) -> str:
        return f"<PolicySet: {len(self._policies)} policies, {len(self._templates)} templates>"

    @property
    def version(self) -> int:
        """Increases on every change (lets caches and indexes notice edits)."""
        return self._version

    # -- changes -------------------------------------------------------------

    def _check_free(self, policy_id: str) -> None:
        if policy_id in self._policies or policy_id in self._templates:
            raise PolicySetError(f"duplicate policy id `{policy_id}`")

    def add(self, policy: Policy | str, policy_id: str | None = None) -> Policy:
        """Add a static policy (a :class:`Policy` or policy text)."""
        if isinstance(policy, str):
            policy = Policy.from_str(policy, policy_id or f"policy{len(self._policies)}")
        elif policy_id is not None and policy_id != policy.id:
            policy = Policy(policy.ast, policy_id)
        if policy.template_id is not None:
            raise PolicySetError("use `link` to add template-linked policies")
        self._check_free(policy.id)
        self._added(policy)
        return policy

    def add_template(self, template: Template | str, template_id: str | None = None) -> Template:
        if isinstance(template, str):
            template = Template.from_str(template, template_id or f"template{len(self._templates)}")
        elif template_id is not None and template_id != template.id:
            template = Template(template.ast, template_id)
        self._check_free(template.id)
        self._templates[template.id] = template
        self._version += 1
        return template

    def link(self, template_id: str, policy_id: str, values: Mapping[str, Any]) -> Policy:
        """Link a template: ``values`` maps ``"?principal"``/``"?resource"`` to entity uids."""
        template = self._templates.get(template_id)
        if template is None:
            raise PolicySetError(f"no template with id `{template_id}`")
        self._check_free(policy_id)
        unknown = [k for k in values if k not in ("?principal", "?resource")]
        if unknown:
            raise PolicySetError(
                f"unknown template slot `{unknown[0]}`: the slots are `?principal` and `?resource`"
            )
        slot_values = {k: _as_uid(v) for k, v in values.items()}
        needed = set(template.slots)
        if set(slot_values) != needed:
            missing = needed - set(slot_values)
            extra = set(slot_values) - needed
            detail = []
            if missing:
                detail.append(f"missing values for {', '.join(sorted(missing))}")
            if extra:
                detail.append(f"values for slots the template lacks: {', '.join(sorted(extra))}")
            raise PolicySetError(f"cannot link template `{template_id}`: {'; '.join(detail)}")
        policy = Policy(template.ast, policy_id, template_id, slot_values, template.compiled())
        self._added(policy)
        return policy

    def link_many(self, links: Iterable[Mapping[str, Any]]) -> list[Policy]:
        """Link many templates at once, all or nothing. Each link is a mapping with
        ``template_id``, ``new_id`` and ``values`` (cedarpy's ``with_linked_batch`` form)."""
        done: list[Policy] = []
        with gc_paused():
            try:
                for link in links:
                    try:
                        template_id, policy_id, values = link["template_id"], link["new_id"], link["values"]
                    except (KeyError, TypeError):
                        raise PolicySetError(
                            f"a link needs `template_id`, `new_id` and `values`, got {link!r}"
                        ) from None
                    done.append(self.link(template_id, policy_id, values))
            except BaseException:
                for policy in done:
                    self._removed(policy)
                raise
        return done

    def unlink(self, policy_id: str) -> Policy:
        policy = self._policies.get(policy_id)
        if policy is None or policy.template_id is None:
            raise PolicySetError(f"no template-linked policy with id `{policy_id}`")
        self._removed(policy)
        return policy

    def remove(self, policy_id: str) -> Policy:
        """Remove a static policy."""
        policy = self._policies.get(policy_id)
        if policy is None or policy.template_id is not None:
            raise PolicySetError(f"no static policy with id `{policy_id}`")
        self._removed(policy)
        return policy

    def remove_template(self, template_id: str) -> Template:
        """Remove a template that has no linked policies."""
        template = self._templates.get(template_id)
        if template is None:
            raise PolicySetError(f"no template with id `{template_id}`")
        if any(p.template_id == template_id for p in self._policies.values()):
            raise PolicySetError(f"template `{template_id}` still has linked policies")
        del self._templates[template_id]
        self._version += 1
        return template

    def linked_policies(self, template_id: str) -> list[Policy]:
        return [p for p in self._policies.values() if p.template_id == template_id]

    # -- annotations -------------------------------------------------------------

    def annotation(self, policy_id: str, key: str) -> str | None:
        """The value of annotation ``key`` of the policy ``policy_id`` (a template-linked
        policy has its template's annotations); ``None`` if either is missing
        (Rust's ``PolicySet::annotation``)."""
        policy = self._policies.get(policy_id)
        return None if policy is None else policy.annotation(key)

    def template_annotation(self, template_id: str, key: str) -> str | None:
        """The value of annotation ``key`` of the template ``template_id``, or ``None``
        (Rust's ``PolicySet::template_annotation``)."""
        template = self._templates.get(template_id)
        return None if template is None else template.annotation(key)

    # -- merging -----------------------------------------------------------------

    def merge(self, other: PolicySet, rename_duplicates: bool = False) -> dict[str, str]:
        """Add every template and policy of ``other`` to this set (``other`` is unchanged).

        An id of ``other`` that names something different here is a clash: without
        ``rename_duplicates`` it raises :class:`PolicySetError` (and nothing is added);
        with it, the clashing template or policy of ``other`` gets the first free id
        ``policy<N>`` (free in both sets) and links to a renamed template follow it.
        Identical entries under one id are merged into one. Returns the renaming, old id
        to new id. Rust's ``PolicySet::merge`` (cedar-policy/cedar#610; the renaming is
        ``merge_policyset`` in cedar-policy-core's ``ast/policy_set.rs``)."""
        renaming: dict[str, str] = {}
        counter = [0]

        def fresh() -> str:
            while True:
                pid = f"policy{counter[0]}"
                counter[0] += 1
                if pid not in self and pid not in other:
                    return pid

        # Rust keeps a static policy as a template plus its one link, so its "templates"
        # are the templates and static policies, its "links" the static and linked policies.
        def clash(pid: str) -> None:
            if pid not in renaming:
                renaming[pid] = fresh()

        for pid, template in other._templates.items():
            mine_template = self._templates.get(pid)
            if (mine_template is not None and mine_template.ast != template.ast) or pid in self._policies:
                clash(pid)  # (a policy here: static differs; linked is a link colliding)
        for pid, policy in other._policies.items():
            mine = self._policies.get(pid)
            if policy.template_id is None and (
                pid in self._templates
                or (mine is not None and mine.template_id is None and mine.ast != policy.ast)
            ):
                clash(pid)
        for pid, policy in other._policies.items():
            mine = self._policies.get(pid)
            if (mine is not None and not mine._same_as(policy)) or (
                policy.template_id is not None and pid in self._templates
            ):
                clash(pid)
        if renaming and not rename_duplicates:
            raise PolicySetError(f"duplicate policy id `{next(iter(renaming))}`")
        for pid, template in other._templates.items():
            new_tid = renaming.get(pid, pid)
            if new_tid not in self._templates:
                self._templates[new_tid] = template.new_id(new_tid)
                self._version += 1
        for pid, policy in other._policies.items():
            new_pid = renaming.get(pid, pid)
            if new_pid in self._policies:
                continue  # the same policy is here already
            moved = policy.new_id(new_pid)
            if policy.template_id is not None and policy.template_id in renaming:
                moved = Policy(
                    policy.ast, new_pid, renaming[policy.template_id], policy.slot_values, policy._compiled
                )
            self._added(moved)
        return renaming
