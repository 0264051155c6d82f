"""The ``cedarpy`` API on the pure-Python engine.

``import cedarlang.compat.cedarpy as cedarpy`` gives the functions and classes of the
``cedarpy`` package (Rust engine bindings, 4.12) with the same signatures and result
shapes: :func:`is_authorized`, :func:`is_authorized_batch`, :func:`validate_policies`,
:func:`format_policies`, :func:`policies_to_json_str`, :func:`policies_from_json_str`,
the reusable :class:`PolicySet`, :class:`Entities` and :class:`Schema` handles, and the
result types :class:`Decision`, :class:`AuthzResult`, :class:`Diagnostics`,
:class:`ValidationResult` and :class:`ValidationError`.

Results are plain dictionaries underneath (``AuthzResult._authz_resp``,
``ValidationResult._result``) exactly as cedarpy builds them. Error and diagnostic
*texts* are cedarlang's (they follow Rust's wording where cedarlang does).
:func:`is_authorized_partial` (partial evaluation) returns :class:`PartialAuthzResult`.
The policy syntax tree is ``pst`` (:mod:`cedarlang.pst`'s nodes), with
:func:`policies_to_pst` and ``PolicySet.to_pst`` / ``PolicySet.from_pst``.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any, List, Optional, Union  # noqa: UP035  (names cedarpy's namespace has)

from ... import est
from ...authorizer import AuthorizationError, Authorizer, Request
from ...authorizer import Decision as CoreDecision
from ...entities import Entities as _CoreEntities
from ...entities import Entity, entity_from_json
from ...errors import CedarError, DiagnosticError, ParseError
from ...formatter import format_policies as _format
from ...parser import parse_policies
from ...partial import PartialRequest, partial_evaluate, partially_authorize
from ...policy import Policy, Template
from ...policy import PolicySet as _CorePolicySet
from ...schema import Schema as _CoreSchema
from ...validator import Validator
from . import pst

__all__ = [
    "AuthzResult",
    "Decision",
    "Diagnostics",
    "Entities",
    "PartialAuthzResult",
    "PartialDiagnostics",
    "PolicySet",
    "Schema",
    "ValidationError",
    "ValidationResult",
    "echo",
    "format_policies",
    "is_authorized",
    "is_authorized_batch",
    "is_authorized_partial",
    "policies_from_json_str",
    "policies_to_json_str",
    "policies_to_pst",
    "pst",
    "validate_policies",
]

# The names ``cedarpy``'s namespace holds besides its API (its imports), so that code
# reaching them through the module keeps working.
_IMPORTED_NAMES = (Any, Enum, List, Optional, Union, copy, json)  # noqa: UP006


def _message(err: BaseException) -> str:
    """An error's message (all diagnostic messages, one a line, for parse errors)."""
    if isinstance(err, DiagnosticError) and err.diagnostics:
        return "\n".join(d.message for d in err.diagnostics)
    return str(err)


def _copy_policy_set(inner: _CorePolicySet) -> _CorePolicySet:
    new = _CorePolicySet()
    for template in inner.templates():
        new.add_template(Template(template.ast, template.id))
    for policy in inner.policies():
        if policy.template_id is None:
            new.add(Policy(policy.ast, policy.id))
        else:
            new.link(policy.template_id, policy.id, policy.slot_values)
    return new


# ---------------------------------------------------------------------------
# Handles


class PolicySet:
    """An immutable, reusable parsed policy set (cedarpy's ``PolicySet`` handle).

    Build one with :meth:`from_str` or :meth:`from_json_str`; pass it anywhere a policies
    string is accepted. :meth:`with_added_str`, :meth:`with_linked`,
    :meth:`with_linked_batch` and :meth:`without_linked` return new handles.
    """

    __slots__ = ("_inner", "_positional")

    def __init__(self, _inner: _CorePolicySet, _positional: int = 0) -> None:
        if not isinstance(_inner, _CorePolicySet):
            raise TypeError("PolicySet cannot be constructed directly; use PolicySet.from_str(...)")
        self._inner = _inner
        self._positional = _positional

    @staticmethod
    def from_str(s: str, *, release_gil: bool = False) -> PolicySet:
        """Parse Cedar policy text. Raises ``ValueError`` on parse errors."""
        try:
            inner = _CorePolicySet.from_str(s)
        except CedarError as err:
            raise ValueError(_message(err)) from None
        return PolicySet(inner, len(inner) + len(inner.templates()))

    @staticmethod
    def from_json_str(s: str, *, release_gil: bool = False) -> PolicySet:
        """Parse the Cedar JSON (EST) policy format. Raises ``ValueError`` on errors."""
        try:
            return PolicySet(est.policy_set_from_json(s))
        except CedarError as err:
            raise ValueError(_message(err)) from None

    @staticmethod
    def from_pst(node: pst.PolicySet, *, release_gil: bool = False) -> PolicySet:
        """Build a handle from :mod:`cedarlang.pst` nodes (the inverse of :meth:`to_pst`).
        Raises ``TypeError`` for anything but a PST ``PolicySet``, ``ValueError`` if the
        nodes do not form a valid policy set."""
        try:
            inner = _CorePolicySet.from_pst(node)
        except CedarError as err:
            raise ValueError(_message(err)) from None
        return PolicySet(inner, len(inner) + len(inner.templates()))

    def to_pst(self) -> pst.PolicySet:
        """This set as :mod:`cedarlang.pst` nodes. Raises ``ValueError`` if it cannot be
        represented (expression nesting deeper than 100 levels)."""
        try:
            return self._inner.to_pst()
        except CedarError as err:
            raise ValueError(_message(err)) from None

    @property
    def policy_set(self) -> _CorePolicySet:
        """The underlying :class:`cedarlang.PolicySet` (do not modify it)."""
        return self._inner

    def with_added_str(self, fragment: str) -> PolicySet:
        """A new handle: this set plus the policies of ``fragment`` (positional ids
        renumbered to follow this set's, as if the texts were concatenated)."""
        try:
            parsed = parse_policies(fragment)
        except ParseError as err:
            raise ValueError(_message(err)) from None
        new = _copy_policy_set(self._inner)
        counter = self._positional
        for policy_ast in parsed:
            while f"policy{counter}" in new:
                counter += 1
            pid = f"policy{counter}"
            counter += 1
            if policy_ast.slots:
                new.add_template(Template(policy_ast, pid))
            else:
                new.add(Policy(policy_ast, pid))
        return PolicySet(new, counter)

    def _resolve_template(self, template_id: str) -> str:
        if self._inner.template(template_id) is not None:
            return template_id
        matches = [t.id for t in self._inner.templates() if t.ast.annotations.get("id") == template_id]
        if not matches:
            raise ValueError(f'no template with id or @id "{template_id}" in the policy set')
        if len(matches) > 1:
            raise ValueError(
                f'@id "{template_id}" is ambiguous: it names the templates {", ".join(sorted(matches))}'
            )
        return matches[0]

    def with_linked_batch(self, links: Sequence[Mapping[str, Any]]) -> PolicySet:
        """A new handle with every link applied (all or nothing). Each link is
        ``{"template_id", "new_id", "values": {"?principal": uid, "?resource": uid}}``;
        ``template_id`` is a template's id or, failing that, its ``@id`` annotation."""
        for link in links:
            for key in ("template_id", "new_id", "values"):
                if key not in link:
                    raise KeyError(f"link dict missing '{key}' key")
        new = _copy_policy_set(self._inner)
        for link in links:
            template_id = self._resolve_template(str(link["template_id"]))
            values = link["values"]
            if not isinstance(values, Mapping):
                raise ValueError("template link failed: `values` must be a dict")
            try:
                new.link(template_id, str(link["new_id"]), dict(values))
            except CedarError as err:
                raise ValueError(f"template link failed: {_message(err)}") from None
        return PolicySet(new, self._positional)

    def with_linked(self, template_id: str, new_id: str, values: Mapping[str, Any]) -> PolicySet:
        """A new handle with one template linked (see :meth:`with_linked_batch`)."""
        return self.with_linked_batch([{"template_id": template_id, "new_id": new_id, "values": values}])

    def templates(self) -> list[dict[str, Any]]:
        """Each template: ``id``, ``id_annotation``, ``slots`` and its ``links``."""
        out = []
        for template in self._inner.templates():
            out.append(
                {
                    "id": template.id,
                    "id_annotation": template.ast.annotations.get("id"),
                    # cedarpy lists `?resource` before `?principal`
                    "slots": sorted(template.slots, reverse=True),
                    "links": [
                        {
                            "id": policy.id,
                            "values": {slot: str(uid) for slot, uid in policy.slot_values.items()},
                        }
                        for policy in self._inner.linked_policies(template.id)
                    ],
                }
            )
        return out

    def without_linked(self, link_id: str) -> PolicySet:
        """A new handle without the template-linked policy ``link_id``."""
        new = _copy_policy_set(self._inner)
        try:
            new.unlink(link_id)
        except CedarError as err:
            raise ValueError(_message(err)) from None
        return PolicySet(new, self._positional)

    def __len__(self) -> int:
        return len(self._inner)

    def __str__(self) -> str:
        parts = []
        for policy in self._inner.policies():
            text = policy.ast.text if policy.template_id is None else None
            parts.append(text if text is not None else est.policy_to_cedar(policy))
        return "\n".join(parts)

    def __repr__(self) -> str:
        return f"PolicySet(<{len(self)} policies>)"


class Schema:
    """A reusable parsed schema (cedarpy's ``Schema`` handle)."""

    __slots__ = ("_inner",)

    def __init__(self, _inner: _CoreSchema) -> None:
        if not isinstance(_inner, _CoreSchema):
            raise TypeError("Schema cannot be constructed directly; use Schema.from_str(...)")
        self._inner = _inner

    @staticmethod
    def from_str(s: str, *, release_gil: bool = False) -> Schema:
        """Parse the Cedar schema syntax. Raises ``ValueError`` on errors."""
        try:
            return Schema(_CoreSchema.from_str(s))
        except CedarError as err:
            raise ValueError(f"error parsing schema: {_message(err)}") from None

    @staticmethod
    def from_json_str(s: str, *, release_gil: bool = False) -> Schema:
        """Parse the JSON schema format. Raises ``ValueError`` on errors."""
        try:
            return Schema(_CoreSchema.from_json(s))
        except CedarError as err:
            raise ValueError(f"error parsing schema: {_message(err)}") from None

    @property
    def schema(self) -> _CoreSchema:
        """The underlying :class:`cedarlang.Schema`."""
        return self._inner

    def __str__(self) -> str:
        return self._inner.to_cedarschema()

    def __repr__(self) -> str:
        return f"Schema(<{len(self._inner.entity_types)} entity types, {len(self._inner.actions)} actions>)"


SchemaArg = str | dict[str, Any] | Schema | None


def _load_schema(schema: SchemaArg) -> _CoreSchema | None:
    if schema is None:
        return None
    if isinstance(schema, Schema):
        return schema._inner
    if isinstance(schema, _CoreSchema):
        return schema
    try:
        if isinstance(schema, dict):
            return _CoreSchema.from_json(schema)
        return _CoreSchema.from_str_or_json(schema)
    except CedarError as err:
        raise ValueError(f"error parsing schema: {_message(err)}") from None


def _copy_entity(entity: Entity) -> Entity:
    return Entity(entity.uid, entity.attrs, entity.parents, entity.tags)


def _parse_entity_list(s: str | bytes | list[Any], schema: _CoreSchema | None) -> list[Entity]:
    data: Any = s
    if isinstance(s, (str, bytes)):
        try:
            data = json.loads(s)
        except json.JSONDecodeError as err:
            raise ValueError(f"error during entity deserialization: {err}") from None
    if not isinstance(data, list):
        raise ValueError("error during entity deserialization: entities must be a JSON list")
    try:
        return [entity_from_json(item, schema) for item in data]
    except CedarError as err:
        raise ValueError(_message(err)) from None


def _build_entities(entities: list[Entity], schema: _CoreSchema | None) -> _CoreEntities:
    try:
        return _CoreEntities([_copy_entity(e) for e in entities], schema=schema)
    except CedarError as err:
        raise ValueError(_message(err)) from None


class Entities:
    """A reusable parsed entity set (cedarpy's ``Entities`` handle)."""

    __slots__ = ("_inner", "_source")

    def __init__(self, _inner: _CoreEntities, _source: list[Entity] | None = None) -> None:
        if not isinstance(_inner, _CoreEntities):
            raise TypeError("Entities cannot be constructed directly; use Entities.from_json_str(...)")
        self._inner = _inner
        self._source: list[Entity] = _source if _source is not None else list(_inner)

    @staticmethod
    def from_json_str(s: str, schema: SchemaArg = None, *, release_gil: bool = False) -> Entities:
        """Parse Cedar's entity JSON; with ``schema``, the entities are checked against it."""
        core_schema = _load_schema(schema)
        parsed = _parse_entity_list(s, core_schema)
        return Entities(_build_entities(parsed, core_schema), parsed)

    def with_added_json_str(self, delta: str, schema: SchemaArg = None) -> Entities:
        """A new handle: these entities plus those of ``delta`` (a disjoint union)."""
        core_schema = _load_schema(schema)
        added = _parse_entity_list(delta, core_schema)
        known = {e.uid: e for e in self._source}
        combined = list(self._source)
        for entity in added:
            existing = known.get(entity.uid)
            if existing is not None:
                if existing != entity:
                    raise ValueError(f"duplicate entity entry `{entity.uid}`")
                continue
            known[entity.uid] = entity
            combined.append(entity)
        return Entities(_build_entities(combined, core_schema), combined)

    @property
    def entities(self) -> _CoreEntities:
        """The underlying :class:`cedarlang.Entities`."""
        return self._inner

    def __len__(self) -> int:
        return len(self._source)

    def __str__(self) -> str:
        return json.dumps([e.to_json() for e in self._source], indent=2, ensure_ascii=False)

    def __repr__(self) -> str:
        return f"Entities(<{len(self)} entities>)"


# ---------------------------------------------------------------------------
# Results


def echo(s: str) -> str:
    """Return ``s`` (cedarpy's binding smoke test)."""
    return s


class Decision(Enum):
    """cedarpy's decision: ``Allow``, ``Deny``, or ``NoDecision`` (a request that could not be
    evaluated, or a partial result the unknowns leave open)."""

    Allow = "Allow"
    Deny = "Deny"
    NoDecision = "NoDecision"


class _DiagnosticsBase:
    def __init__(self, diagnostics: dict[str, Any]) -> None:
        super().__init__()
        self._diagnostics: dict[str, Any] = diagnostics

    @property
    def errors(self) -> list[str]:
        errors: list[str] = self._diagnostics.get("errors", [])
        return errors

    @property
    def reasons(self) -> list[str]:
        reasons: list[str] = self._diagnostics.get("reason", [])
        return reasons

    @property
    def id_annotations_by_reason(self) -> dict[str, str]:
        found: dict[str, str] = self._diagnostics.get("id_annotations_by_reason", {})
        return found


class Diagnostics(_DiagnosticsBase):
    """Diagnostics of a decision: ``reasons``, ``errors``, ``id_annotations_by_reason``."""


class AuthzResult:
    """The result of :func:`is_authorized` (cedarpy's shape)."""

    def __init__(self, authz_resp: dict[str, Any]) -> None:
        super().__init__()
        self._authz_resp = authz_resp
        self._diagnostics = Diagnostics(self._authz_resp.get("diagnostics", {}))

    @property
    def decision(self) -> Decision:
        return Decision[self._authz_resp["decision"]]

    @property
    def allowed(self) -> bool:
        return Decision.Allow == self.decision

    @property
    def correlation_id(self) -> str | None:
        found: str | None = self._authz_resp.get("correlation_id", None)
        return found

    @property
    def diagnostics(self) -> Diagnostics:
        return self._diagnostics

    @property
    def metrics(self) -> dict[str, int]:
        found: dict[str, int] = self._authz_resp.get("metrics", {})
        return found

    def __getitem__(self, __name: str) -> Any:
        return getattr(self, __name)


class PartialDiagnostics(_DiagnosticsBase):
    """Diagnostics of a partial decision: ``reasons`` (the policies certainly satisfied),
    ``errors``, ``id_annotations_by_reason`` (every policy with an ``@id``), and
    ``may_be_determining``, ``must_be_determining``, ``nontrivial_residuals``,
    ``unknown_entities``."""

    @property
    def may_be_determining(self) -> list[str]:
        found: list[str] = self._diagnostics.get("may_be_determining", [])
        return found

    @property
    def must_be_determining(self) -> list[str]:
        found: list[str] = self._diagnostics.get("must_be_determining", [])
        return found

    @property
    def nontrivial_residuals(self) -> list[str]:
        found: list[str] = self._diagnostics.get("nontrivial_residuals", [])
        return found

    @property
    def unknown_entities(self) -> list[str]:
        found: list[str] = self._diagnostics.get("unknown_entities", [])
        return found


class PartialAuthzResult:
    """The result of :func:`is_authorized_partial` (cedarpy's shape): ``decision`` is
    ``NoDecision`` when the unknowns leave it open; ``residuals`` maps every policy id to
    its residual policy in Cedar's JSON policy format."""

    def __init__(self, authz_resp: dict[str, Any]) -> None:
        self._authz_resp = authz_resp
        self._diagnostics = PartialDiagnostics(authz_resp.get("diagnostics", {}))

    @property
    def decision(self) -> Decision:
        found = self._authz_resp.get("decision")
        if found is None or found == "NoDecision":
            return Decision.NoDecision
        return Decision[found]

    @property
    def allowed(self) -> bool:
        return Decision.Allow == self.decision

    @property
    def correlation_id(self) -> str | None:
        found: str | None = self._authz_resp.get("correlation_id")
        return found

    @property
    def diagnostics(self) -> PartialDiagnostics:
        return self._diagnostics

    @property
    def residuals(self) -> dict[str, Any]:
        found: dict[str, Any] = self._authz_resp.get("residuals", {})
        return found

    @property
    def metrics(self) -> dict[str, int]:
        found: dict[str, int] = self._authz_resp.get("metrics", {})
        return found

    def __getitem__(self, __name: str) -> Any:
        return getattr(self, __name)


class ValidationError:
    """One validation error: ``policy_id`` (empty for parse errors) and ``error``."""

    def __init__(self, error_dict: dict[str, str]) -> None:
        self._error = error_dict

    @property
    def policy_id(self) -> str:
        return self._error.get("policy_id", "")

    @property
    def error(self) -> str:
        return self._error.get("error", "")

    def __str__(self) -> str:
        if self.policy_id:
            return f"[{self.policy_id}] {self.error}"
        return self.error

    def __repr__(self) -> str:
        return f"ValidationError(policy_id={self.policy_id!r}, error={self.error!r})"


class ValidationResult:
    """The result of :func:`validate_policies` (cedarpy's shape)."""

    def __init__(self, result_dict: dict[str, Any]) -> None:
        self._result = result_dict
        self._errors = [ValidationError(e) for e in result_dict.get("errors", [])]

    @property
    def validation_passed(self) -> bool:
        return bool(self._result.get("validation_passed", False))

    @property
    def errors(self) -> list[ValidationError]:
        return self._errors

    @property
    def id_annotations_by_policy_id(self) -> dict[str, str]:
        found: dict[str, str] = self._result.get("id_annotations_by_policy_id", {})
        return found

    def __bool__(self) -> bool:
        return self.validation_passed

    def __repr__(self) -> str:
        return f"ValidationResult(validation_passed={self.validation_passed}, num_errors={len(self._errors)})"


# ---------------------------------------------------------------------------
# Authorization

PoliciesArg = str | PolicySet | _CorePolicySet
EntitiesArg = str | list[dict[str, Any]] | Entities | _CoreEntities


def _micros(start: float) -> int:
    return int((time.perf_counter() - start) * 1_000_000)


def _no_decision(message: str) -> dict[str, Any]:
    return {"decision": "NoDecision", "diagnostics": {"errors": [message]}}


def _id_annotations(pset: _CorePolicySet, ids: Sequence[str]) -> dict[str, str]:
    found = {}
    for pid in ids:
        policy = pset.policy(pid)
        if policy is not None and "id" in policy.ast.annotations:
            found[pid] = policy.ast.annotations["id"]
    return found


def is_authorized(
    request: dict[str, Any],
    policies: PoliciesArg,
    entities: EntitiesArg,
    schema: SchemaArg = None,
    verbose: bool = False,
) -> AuthzResult:
    """Decide one request. ``request`` has ``principal``, ``action``, ``resource`` (each
    ``'Type::"id"'`` or ``{"type", "id"}``), optional ``context`` (dict or JSON text) and
    optional ``correlation_id``."""
    return is_authorized_batch([request], policies, entities, schema, verbose)[0]


def is_authorized_batch(
    requests: list[dict[str, Any]],
    policies: PoliciesArg,
    entities: EntitiesArg,
    schema: SchemaArg = None,
    verbose: bool = False,
) -> list[AuthzResult]:
    """Decide each request against the same policies, entities and schema (in order)."""
    return [AuthzResult(resp) for resp in _authorize_batch(requests, policies, entities, schema, verbose)]


def _authorize_batch(
    requests: list[dict[str, Any]],
    policies: PoliciesArg,
    entities: EntitiesArg,
    schema: SchemaArg,
    verbose: bool,
) -> list[dict[str, Any]]:
    if verbose:
        shown = (
            entities
            if isinstance(entities, str)
            else json.dumps(entities)
            if isinstance(entities, list)
            else entities
        )
        print(f"policies: {policies}")
        print(f"entities: {shown}")
        print(f"schema: {'<none>' if schema is None else schema}")
    metrics: dict[str, int] = {}

    start = time.perf_counter()
    try:
        core_schema = _load_schema(schema)
    except ValueError as err:
        return [_no_decision(f"failed to parse schema: {err}") for _ in requests]
    metrics["parse_schema_duration_micros"] = _micros(start) if core_schema is not None else 0
    metrics["schema_pre_parsed"] = int(isinstance(schema, (Schema, _CoreSchema)))

    start = time.perf_counter()
    if isinstance(policies, PolicySet):
        pset = policies._inner
    elif isinstance(policies, _CorePolicySet):
        pset = policies
    else:
        try:
            pset = _CorePolicySet.from_str(policies)
        except CedarError as err:
            return [_no_decision(f"policy parse errors:\n{_message(err)}") for _ in requests]
    metrics["parse_policies_duration_micros"] = _micros(start)
    metrics["policies_pre_parsed"] = int(not isinstance(policies, str))

    start = time.perf_counter()
    if isinstance(entities, Entities):
        store = entities._inner
    elif isinstance(entities, _CoreEntities):
        store = entities
    else:
        try:
            store = _build_entities(_parse_entity_list(entities, core_schema), core_schema)
        except ValueError as err:
            text = entities if isinstance(entities, str) else json.dumps(entities)
            return [_no_decision(f"failed to parse entities from:\n{text}: {err}") for _ in requests]
    metrics["load_entities_duration_micros"] = _micros(start)
    metrics["entities_pre_parsed"] = int(not isinstance(entities, (str, list)))

    authorizer = Authorizer()
    results = []
    for req in requests:
        start = time.perf_counter()
        context = req.get("context")
        try:
            missing = [k for k in ("principal", "action", "resource") if req.get(k) is None]
            if missing:
                raise ValueError(f"missing {', '.join(missing)}")
            request = Request(req["principal"], req["action"], req["resource"], context, schema=core_schema)
        except (CedarError, ValueError) as err:
            results.append(_no_decision(f"failed to build request: {_message(err)}"))
            continue
        build = _micros(start)
        start = time.perf_counter()
        response = authorizer.is_authorized(request, pset, store)
        reasons = sorted(response.reasons)
        results.append(
            {
                "decision": "Allow" if response.allowed else "Deny",
                "correlation_id": req.get("correlation_id"),
                "diagnostics": {
                    "reason": reasons,
                    "id_annotations_by_reason": _id_annotations(pset, reasons),
                    "errors": [_error_text(e, request, pset, store) for e in response.errors],
                },
                "metrics": {
                    **metrics,
                    "build_request_duration_micros": build,
                    "authz_duration_micros": _micros(start),
                },
            }
        )
    return results


def _error_text(
    error: AuthorizationError, request: Request, pset: _CorePolicySet, store: _CoreEntities
) -> str:
    """An error as cedarpy words it. A policy that met an unknown (an entity attribute
    ``{"__extn": {"fn": "unknown", ...}}``) is reported with its whole residual, as Rust
    does (it authorizes by partial evaluation)."""
    policy = pset.policy(error.policy_id)
    if error.kind != "NonValue" or policy is None:
        return str(error)
    known = PartialRequest(request.principal, request.action, request.resource, request.context)
    try:
        residual = partial_evaluate(policy, known, store, partial_entities=False)
    except CedarError:
        return str(error)
    if isinstance(residual, bool):
        return str(error)
    message = f"the expression contains unknown(s): `{est.expr_text(residual)}`"
    return str(AuthorizationError(policy.id, message, error.kind))


def is_authorized_partial(
    request: dict[str, Any],
    policies: PoliciesArg,
    entities: EntitiesArg,
    schema: SchemaArg = None,
    verbose: bool = False,
) -> PartialAuthzResult:
    """Partially evaluate a request: ``principal``, ``action``, ``resource`` or ``context``
    that are ``None`` or absent are unknown (an absent context too, unlike
    :func:`is_authorized`). Entities missing from ``entities`` are unknown, and entity
    attributes may be ``{"__extn": {"fn": "unknown", "arg": name}}``."""
    if verbose:
        print(f"policies: {policies}")
        print(f"entities: {entities}")
        print(f"schema: {'<none>' if schema is None else schema}")
    return PartialAuthzResult(_authorize_partial(request, policies, entities, schema))


def _no_partial_decision(message: str) -> dict[str, Any]:
    return {"decision": "NoDecision", "diagnostics": {"errors": [message]}}


def _authorize_partial(
    req: dict[str, Any], policies: PoliciesArg, entities: EntitiesArg, schema: SchemaArg
) -> dict[str, Any]:
    metrics: dict[str, int] = {}
    start = time.perf_counter()
    if isinstance(policies, PolicySet):
        pset = policies._inner
    elif isinstance(policies, _CorePolicySet):
        pset = policies
    else:
        try:
            pset = _CorePolicySet.from_str(policies)
        except CedarError as err:
            return _no_partial_decision(f"policy parse errors:\n{_message(err)}")
    metrics["parse_policies_duration_micros"] = _micros(start)
    metrics["policies_pre_parsed"] = int(not isinstance(policies, str))
    start = time.perf_counter()
    try:
        core_schema = _load_schema(schema)
    except ValueError as err:
        return _no_partial_decision(f"failed to parse schema: {err}")
    metrics["parse_schema_duration_micros"] = _micros(start)
    metrics["schema_pre_parsed"] = int(isinstance(schema, (Schema, _CoreSchema)))
    start = time.perf_counter()
    if isinstance(entities, Entities):
        store = entities._inner
    elif isinstance(entities, _CoreEntities):
        store = entities
    else:
        try:
            store = _build_entities(_parse_entity_list(entities, core_schema), core_schema)
        except ValueError as err:
            text = entities if isinstance(entities, str) else json.dumps(entities)
            return _no_partial_decision(f"failed to parse entities from:\n{text}: {err}")
    metrics["load_entities_duration_micros"] = _micros(start)
    metrics["entities_pre_parsed"] = int(not isinstance(entities, (str, list)))

    start = time.perf_counter()
    try:
        request = PartialRequest(
            req.get("principal"), req.get("action"), req.get("resource"), req.get("context"), core_schema
        )
    except CedarError as err:
        return _no_partial_decision(f"failed to build request: {_message(err)}")
    metrics["build_request_duration_micros"] = _micros(start)
    start = time.perf_counter()
    response = partially_authorize(request, pset, store)
    metrics["authz_duration_micros"] = _micros(start)

    decision = response.decision
    residuals = response.residuals
    satisfied = response.satisfied
    return {
        "decision": None if decision is None else ("Allow" if decision is CoreDecision.ALLOW else "Deny"),
        "correlation_id": req.get("correlation_id"),
        "diagnostics": {
            "reason": satisfied,
            "id_annotations_by_reason": _id_annotations(pset, list(residuals)),
            "errors": [str(e) for e in response.errored],
            "may_be_determining": response.may_be_determining,
            "must_be_determining": response.must_be_determining,
            "nontrivial_residuals": response.nontrivial_residuals,
            "unknown_entities": sorted(str(uid) for uid in response.unknown_entities),
        },
        "residuals": {pid: policy.to_json() for pid, policy in residuals.items()},
        "metrics": metrics,
    }


# ---------------------------------------------------------------------------
# Validation, formatting, JSON


def validate_policies(
    policies: str | PolicySet, schema: str | dict[str, Any] | Schema, *, release_gil: bool = False
) -> ValidationResult:
    """Validate policies against a schema (strict mode)."""
    return ValidationResult(_validate(policies, schema))


def _validate(policies: str | PolicySet, schema: str | dict[str, Any] | Schema) -> dict[str, Any]:
    def failed(message: str) -> dict[str, Any]:
        return {
            "validation_passed": False,
            "errors": [{"policy_id": "", "error": message}],
            "id_annotations_by_policy_id": {},
        }

    if isinstance(policies, PolicySet):
        pset = policies._inner
    else:
        try:
            pset = _CorePolicySet.from_str(policies)
        except CedarError as err:
            return failed(f"Policy parse error: {_message(err)}")
    try:
        core_schema = _load_schema(schema)
    except ValueError as err:
        return failed(f"Schema parse error: {err}")
    assert core_schema is not None
    result = Validator(core_schema).validate(pset)
    errors = [{"policy_id": e.policy_id, "error": getattr(e, "full_message", str(e))} for e in result.errors]
    ids = list(dict.fromkeys(e["policy_id"] for e in errors if e["policy_id"]))
    annotations = {}
    for pid in ids:
        found = pset.policy(pid) or pset.template(pid)
        if found is not None and "id" in found.ast.annotations:
            annotations[pid] = found.ast.annotations["id"]
    return {
        "validation_passed": bool(result.passed),
        "errors": errors,
        "id_annotations_by_policy_id": annotations,
    }


def format_policies(policies: str, line_width: int = 80, indent_width: int = 2) -> str:
    """Format policies the Cedar way. Raises ``ValueError`` if they do not parse."""
    try:
        return _format(policies, line_width, indent_width)
    except CedarError as err:
        raise ValueError(_message(err)) from None


def policies_to_json_str(policies: str) -> str:
    """Cedar policy text → the JSON (EST) policy set format, as a compact JSON string."""
    try:
        pset = _CorePolicySet.from_str(policies)
    except CedarError as err:
        raise ValueError(_message(err)) from None
    return est.policy_set_to_json_text(pset)


def policies_from_json_str(policies: str) -> str:
    """The JSON (EST) policy set format → Cedar text (static and template-linked
    policies, one a line, as Rust prints them; templates are left out)."""
    try:
        pset = est.policy_set_from_json(policies)
    except CedarError as err:
        raise ValueError(_message(err)) from None
    return est.policy_set_to_cedar(pset, templates=False, linked=True)


def policies_to_pst(policies: str) -> pst.PolicySet:
    """Parse Cedar policy text into :mod:`cedarlang.pst` nodes (``ValueError`` on errors)."""
    return PolicySet.from_str(policies).to_pst()
