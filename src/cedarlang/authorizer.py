"""Requests, responses and the authorizer (default deny, forbid overrides permit)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from .cedar_json import (
    KNOWN_TYPE_NAMES,
    JsonValueError,
    check_escapes,
    is_entity_type_name,
    load_json_text,
    uid_from_json,
    value_from_json,
)
from .compiler import DecisionInliner
from .entities import Entities
from .errors import CedarError, EvaluationError, ExtensionValueError, RequestError
from .evaluator import Interpreter
from .index import Entry, SmallCandidates
from .ops import expect_bool
from .parser import parse_entity_uid
from .policy import Policy, PolicySet
from .values import I64_MAX, I64_MIN, EntityUid, Record

if TYPE_CHECKING:
    from .partial import PartialRequest, PartialResponse
    from .schema import Schema


class Decision(StrEnum):
    """An authorization decision: ``ALLOW`` or ``DENY`` (``str()`` is ``"allow"`` / ``"deny"``)."""

    ALLOW = "allow"
    DENY = "deny"


UidLike = EntityUid | str | Mapping[str, Any]


_new_tuple = tuple.__new__

_UIDS: dict[str, dict[str, EntityUid]] = {}
"""Uids read from well-formed ``{"type", "id"}`` dicts, by id then type: a request looks
its dicts up as ``_UIDS[d["id"]][d["type"]]`` (two lookups by strings, whose hashes Python
keeps), so a uid seen before costs two lookups instead of being checked and built again."""
UID_CACHE_SIZE = 1 << 16
"""Ids kept in ``_UIDS`` before it is emptied."""
_TYPES_PER_ID = 64
"""Types kept for one id before they are emptied."""


def to_uid(value: UidLike, role: str = "entity") -> EntityUid:
    """An :class:`EntityUid` from a uid, ``'Type::"id"'`` text or a ``{"type", "id"}`` dict."""
    kind = type(value)
    if kind is dict:  # the common case first: a plain {"type", "id"} dict
        type_name, eid = value.get("type"), value.get("id")  # type: ignore[union-attr]
        if type(eid) is str and type(type_name) is str:
            by_type = _UIDS.get(eid)
            uid = by_type.get(type_name) if by_type is not None else None
            if uid is not None:
                return uid
            if type_name in KNOWN_TYPE_NAMES or is_entity_type_name(type_name):  # (its cache first)
                uid = _new_tuple(EntityUid, (type_name, eid))
                if by_type is None:
                    if len(_UIDS) >= UID_CACHE_SIZE:
                        _UIDS.clear()
                    by_type = _UIDS[eid] = {}
                elif len(by_type) >= _TYPES_PER_ID:
                    by_type.clear()
                by_type[type_name] = uid
                return uid
    elif kind is EntityUid:
        return value  # type: ignore[return-value]
    if isinstance(value, str):
        try:
            return parse_entity_uid(value)
        except CedarError as err:
            raise RequestError(f"invalid {role} `{value}`: {err}") from None
    if isinstance(value, Mapping):
        try:
            return uid_from_json(dict(value), role)
        except JsonValueError as err:
            raise RequestError(str(err)) from None
    raise RequestError(f"invalid {role}: expected an entity uid, got {value!r}")


class Request:
    """An authorization request: principal, action, resource and context."""

    __slots__ = ("action", "context", "principal", "resource")

    def __init__(
        self,
        principal: UidLike,
        action: UidLike,
        resource: UidLike,
        context: Mapping[str, Any] | Record | str | bytes | None = None,
        schema: Schema | None = None,
    ) -> None:
        # the common case first: three {"type", "id"} dicts of uids seen before (anything
        # else, a uid, text or a uid not seen, fails a subscript or a lookup: check them)
        uids = _UIDS
        try:
            x: Any = principal
            self.principal = uids[x["id"]][x["type"]]
            x = action
            self.action = uids[x["id"]][x["type"]]
            x = resource
            self.resource = uids[x["id"]][x["type"]]
        except Exception:  # whatever failed, the checked path tells
            self.principal = to_uid(principal, "principal")
            self.action = to_uid(action, "action")
            self.resource = to_uid(resource, "resource")
        if schema is None:
            self.context = (
                _EMPTY_CONTEXT
                if context is None or (not context and type(context) is dict)
                else build_context(context, None, self.action)
            )
            return
        self.context = _checked_context(self.principal, self.action, self.resource, context, schema)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str | bytes, schema: Schema | None = None) -> Request:
        """A request in its JSON form, as a dict or as text: ``principal``, ``action`` and
        ``resource`` (each a ``{"type", "id"}`` object or ``'Type::"id"'`` text) and an
        optional ``context`` (see :class:`Request`)."""
        if isinstance(data, (str, bytes)):
            try:
                data = load_json_text(data, "request")
            except JsonValueError as err:
                raise RequestError(str(err)) from None
        return cls.checked(*_request_parts(data, schema))

    @classmethod
    def checked(
        cls, principal: EntityUid, action: EntityUid, resource: EntityUid, context: Record
    ) -> Request:
        """A request from parts already converted and validated (no checks repeated)."""
        request = cls.__new__(cls)
        request.principal, request.action, request.resource = principal, action, resource
        request.context = context
        return request

    def __repr__(self) -> str:
        return (
            f"Request(principal={self.principal}, action={self.action}, "
            f"resource={self.resource}, context={dict(self.context)!r})"
        )


_REQUEST_FIELDS = ("principal", "action", "resource", "context")
"""The fields of a request's JSON form (the first three required)."""


def _request_parts(data: Any, schema: Schema | None = None) -> tuple[EntityUid, EntityUid, EntityUid, Record]:
    """The checked principal, action, resource and context of a request's JSON form, a
    mapping (:meth:`Request.from_json`; the request path reads a dict with it when its
    uids were not seen before, with no :class:`Request` built)."""
    if type(data) is not dict and not isinstance(data, Mapping):
        raise RequestError(f"a request must be a JSON object, got {type(data).__name__}")
    for field in data:
        if field not in _REQUEST_FIELDS:
            raise RequestError(
                f"unexpected request field `{field}`: expected principal, action, resource, context"
            )
    if "principal" not in data or "action" not in data or "resource" not in data:
        missing = next(field for field in _REQUEST_FIELDS if field not in data)
        raise RequestError(f"the request has no `{missing}`")
    principal = to_uid(data["principal"], "principal")
    action = to_uid(data["action"], "action")
    resource = to_uid(data["resource"], "resource")
    context = _checked_context(principal, action, resource, data.get("context"), schema)
    return principal, action, resource, context


_EMPTY_CONTEXT = Record()
"""The context of every request given none (records are never mutated)."""


def _checked_context(
    principal: EntityUid, action: EntityUid, resource: EntityUid, context: Any, schema: Schema | None
) -> Record:
    """The context as a Record, the request checked against the schema if there is one."""
    if schema is None:
        return build_context(context, None, action)
    from .conformance import validate_context, validate_request_scope

    validate_request_scope(schema, principal, action, resource)
    record = build_context(context, schema, action)
    validate_context(schema, action, record)
    return record


def build_context(context: Any, schema: Schema | None, action: EntityUid) -> Record:
    """The request context as a Record (from a dict, Record, or JSON text), typed by the schema."""
    if not context and (context is None or type(context) is dict):
        return _EMPTY_CONTEXT
    if type(context) is Record:
        return context
    try:
        if isinstance(context, (str, bytes)):
            context = load_json_text(context, "context", unique_keys=False)
        if not isinstance(context, Mapping):
            raise RequestError("context must be a record (a JSON object)")
        expected = schema.context_type(action) if schema is not None else None
        try:
            if (
                expected is None
                and type(context) is dict
                and "__entity" not in context
                and "__extn" not in context
                and "__expr" not in context
            ):
                return _plain_context(context)
            value = value_from_json(dict(context), expected, "context")
        except ExtensionValueError:
            check_escapes(context, "context")  # Rust reports a bad uid first
            raise
    except JsonValueError as err:
        raise RequestError(str(err)) from None
    except RecursionError:
        raise RequestError("context is nested too deeply") from None
    assert type(value) is Record
    return value


def _plain_context(context: dict[str, Any]) -> Record:
    """``value_from_json(context)`` without a schema, with booleans, strings and longs
    (the common context fields) taken as they are."""
    fields = Record()
    for key, value in context.items():
        kind = type(value)
        if kind is bool or kind is str or (kind is int and I64_MIN <= value <= I64_MAX):
            fields[key] = value
        else:
            fields[key] = value_from_json(value, None, f"context.{key}")
    return fields


@dataclass(frozen=True)
class AuthorizationError:
    """A policy that raised an error during evaluation (it was skipped)."""

    policy_id: str
    message: str
    kind: str = "EvaluationError"

    def __str__(self) -> str:
        return f"error while evaluating policy `{self.policy_id}`: {self.message}"


class Response(NamedTuple):
    """The answer to a request: the decision, the determining policies and any errors.

    A named tuple, so that building one costs next to nothing on the hot path.
    """

    decision: Decision
    reasons: frozenset[str] = frozenset()
    errors: tuple[AuthorizationError, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOW

    def __bool__(self) -> bool:
        return self.allowed

    def __repr__(self) -> str:
        return f"Response(decision={self.decision!r}, reasons={self.reasons!r}, errors={self.errors!r})"


def evaluate_policy(policy: Policy, interpreter: Interpreter) -> bool:
    """Whether ``policy`` is satisfied; raises EvaluationError if it errors."""
    return all(expect_bool(interpreter.evaluate(part)) for part in policy.condition_parts)


_RECURSION = "recursion limit reached"


class Authorizer:
    """Decides requests: any satisfied forbid denies; else any satisfied permit allows;
    else deny. A policy that errors is skipped and reported in ``errors``.

    Policies run as compiled Python functions; ``Authorizer(interpret=True)``
    uses the reference interpreter instead (slower; the oracle in tests).
    """

    def __init__(self, *, interpret: bool = False) -> None:
        self.interpret = interpret

    def is_authorized(
        self,
        request: Request | Mapping[str, Any] | str | bytes,
        policies: PolicySet | Iterable[Policy],
        entities: Entities,
    ) -> Response:
        """The decision on ``request``: a :class:`Request`, or its JSON form as a dict
        (the fastest), another mapping or text (:meth:`Request.from_json`)."""
        if type(request) is dict:
            try:  # the common case, inline: uids seen before (as in Request.__init__)
                uids = _UIDS
                x = request["principal"]
                p = uids[x["id"]][x["type"]]
                x = request["action"]
                a = uids[x["id"]][x["type"]]
                x = request["resource"]
                r = uids[x["id"]][x["type"]]
                x = request["context"]
                if len(request) != 4:
                    raise KeyError
                c = _EMPTY_CONTEXT if x is None or (not x and type(x) is dict) else build_context(x, None, a)
            except Exception:  # whatever failed, the checked path tells
                p, a, r, c = _request_parts(request)
        else:
            try:
                p, a, r, c = request.principal, request.action, request.resource, request.context  # type: ignore[union-attr]
            except AttributeError:  # another mapping, or JSON text
                request = Request.from_json(request)  # type: ignore[arg-type]
                p, a, r, c = request.principal, request.action, request.resource, request.context
        if self.interpret:
            return self._interpreted(Request.checked(p, a, r, c), policies, entities)
        if isinstance(policies, PolicySet):
            index = policies.index()
            cache = index.small_cache
            if cache is not None:  # a small set: the cache hit of `candidates`, inline
                entity = entities.get(a)
                hit = cache.get((p[0], a, r[0]))
                if hit is not None and hit[0] is (entity.ancestors if entity is not None else None):
                    decide = hit[1].decide
                    if decide is not None:
                        return decide(p, a, r, c, entities)  # type: ignore[no-any-return,operator]
            candidates = index.candidates(p, a, r, entities)
            if type(candidates) is SmallCandidates:  # a small set: one call decides
                decide = candidates.decide
                if decide is None:
                    decide = candidates.decide = decider(candidates, policies)
                return decide(p, a, r, c, entities)  # type: ignore[no-any-return,operator]
        else:
            candidates = [(policy.id, policy.is_permit, policy.function) for policy in policies]
        permits: list[str] = []
        forbids: list[str] = []
        errors: list[AuthorizationError] = []
        for policy_id, is_permit, function in candidates:
            try:
                if function(p, a, r, c, entities):
                    (permits if is_permit else forbids).append(policy_id)
            except EvaluationError as err:
                errors.append(AuthorizationError(policy_id, err.message, err.kind))
            except RecursionError:
                errors.append(AuthorizationError(policy_id, _RECURSION, "RecursionLimit"))
        # _decide, inline (one call less on the request path)
        if forbids:
            return _new_tuple(Response, (_DENY, frozenset(forbids), tuple(errors)))
        if permits:
            return _new_tuple(Response, (_ALLOW, frozenset(permits), tuple(errors)))
        return _new_tuple(Response, (_DENY, _NO_REASONS, tuple(errors)))

    def decide_uids(
        self,
        p: EntityUid,
        a: EntityUid,
        r: EntityUid,
        c: Record,
        policies: PolicySet | Iterable[Policy],
        entities: Entities,
    ) -> Response:
        """``is_authorized`` on an already-checked principal, action, resource and context
        (the request is not checked again; the request path itself stays one call deep)."""
        return self.is_authorized(Request.checked(p, a, r, c), policies, entities)

    def is_authorized_batch(
        self,
        requests: Iterable[Request | Mapping[str, Any]],
        policies: PolicySet | Iterable[Policy],
        entities: Entities,
    ) -> list[Response]:
        """Decide many requests against one policy set and entity store, in order."""
        if not isinstance(policies, PolicySet):
            policies = list(policies)
        return [self.is_authorized(request, policies, entities) for request in requests]

    # -- permission queries (see cedarlang.query) -----------------------------

    def query_resources(
        self,
        principal: UidLike,
        action: UidLike,
        resource_type: str,
        policies: PolicySet | Iterable[Policy],
        entities: Entities,
        *,
        context: Mapping[str, Any] | Record | str | bytes | None = None,
        schema: Schema | None = None,
    ) -> list[EntityUid]:
        """The entities of ``resource_type`` that ``principal`` may ``action``, sorted."""
        from .query import query_resources

        return query_resources(
            principal,
            action,
            resource_type,
            policies,
            entities,
            context=context,
            schema=schema,
            authorizer=self,
        )

    def query_principals(
        self,
        action: UidLike,
        resource: UidLike,
        principal_type: str,
        policies: PolicySet | Iterable[Policy],
        entities: Entities,
        *,
        context: Mapping[str, Any] | Record | str | bytes | None = None,
        schema: Schema | None = None,
    ) -> list[EntityUid]:
        """The entities of ``principal_type`` that may ``action`` on ``resource``, sorted."""
        from .query import query_principals

        return query_principals(
            action,
            resource,
            principal_type,
            policies,
            entities,
            context=context,
            schema=schema,
            authorizer=self,
        )

    def query_actions(
        self,
        principal: UidLike,
        resource: UidLike,
        policies: PolicySet | Iterable[Policy],
        entities: Entities,
        *,
        context: Mapping[str, Any] | Record | str | bytes | None = None,
        schema: Schema | None = None,
    ) -> list[EntityUid]:
        """The actions ``principal`` may take on ``resource``, sorted."""
        from .query import query_actions

        return query_actions(
            principal, resource, policies, entities, context=context, schema=schema, authorizer=self
        )

    def is_authorized_partial(
        self,
        request: PartialRequest,
        policies: PolicySet | Iterable[Policy],
        entities: Entities,
        *,
        partial_entities: bool = True,
    ) -> PartialResponse:
        """Authorize a request with unknowns: see :func:`cedarlang.partial.partially_authorize`."""
        from .partial import partially_authorize

        return partially_authorize(request, policies, entities, partial_entities=partial_entities)

    def _interpreted(
        self, request: Request, policies: PolicySet | Iterable[Policy], entities: Entities
    ) -> Response:
        interpreter = Interpreter(
            request.principal, request.action, request.resource, request.context, entities
        )
        permits: list[str] = []
        forbids: list[str] = []
        errors: list[AuthorizationError] = []
        for policy in policies:
            try:
                satisfied = evaluate_policy(policy, interpreter)
            except EvaluationError as err:
                errors.append(AuthorizationError(policy.id, err.message, err.kind))
                continue
            if satisfied:
                (permits if policy.is_permit else forbids).append(policy.id)
        return _decide(permits, forbids, errors)


_NO_REASONS: frozenset[str] = frozenset()
_ALLOW, _DENY = Decision.ALLOW, Decision.DENY
_DENIED = Response(_DENY)
"""The response when no policy is satisfied and none errs."""

Decider = Callable[[EntityUid, EntityUid, EntityUid, Record, Entities], Response]
"""``decide(principal, action, resource, context, entities)``: the response of a set of
candidate policies (as ``is_authorized`` would give it)."""

_DECIDERS: dict[tuple[Entry, ...], Decider] = {}
"""Deciders by their candidates (a small set's requests share a few candidate lists)."""
DECIDER_CACHE_SIZE = 1024
"""Entries kept in ``_DECIDERS`` before it is emptied."""
_MAX_REASON_TABLE = 4
"""Up to this many permits (or forbids), the reasons of each outcome are built once."""


def decider(candidates: SmallCandidates, policies: PolicySet) -> Decider:
    """One Python function deciding a small set's ``candidates`` (chosen by the scope
    index from the request's types and action): ``is_authorized``'s loop unrolled, each
    policy's body written in (or its function called) in turn, its errors recorded, then
    forbid overrides permit, default deny. Evaluation does the same work in the same
    order, less what the index established and the entity lookups the policies share."""
    key = tuple(candidates)
    found = _DECIDERS.get(key)
    if found is not None:
        return found
    namespace: dict[str, Any] = {
        "_new_tuple": _new_tuple,
        "_Response": Response,
        "_ALLOW": _ALLOW,
        "_DENY": _DENY,
        "_NO_REASONS": _NO_REASONS,
        "_EvaluationError": EvaluationError,
        "_AuthorizationError": AuthorizationError,
        "_frozenset": frozenset,
        "_DENIED": _DENIED,
    }
    inliner = DecisionInliner(namespace)
    body: list[str] = []
    forbids: list[int] = []
    permits: list[int] = []
    for n, (policy_id, is_permit, function) in enumerate(key):
        namespace[f"_f{n}"], namespace[f"_id{n}"] = function, policy_id
        (permits if is_permit else forbids).append(n)
        policy = policies.policy(policy_id)
        inlined = inliner.body(policy.ast, policy.slot_values) if policy is not None else None
        if inlined is None:
            evaluate = [f"s{n} = _f{n}(p, a, r, c, E)"]
        elif inlined[1]:  # plain lookups: a KeyError or AttributeError lets the function decide
            evaluate = [
                "try:",
                f"    s{n} = {inlined[0]}",
                "except (KeyError, AttributeError):",
                f"    s{n} = _f{n}(p, a, r, c, E)",
            ]
        else:
            evaluate = [f"s{n} = {inlined[0]}"]
        body += [
            "    try:",
            *(f"        {line}" for line in evaluate),
            "    except _EvaluationError as err:",
            f"        s{n} = False",
            f"        errors += (_AuthorizationError(_id{n}, err.message, err.kind),)",
            "    except RecursionError:",
            f"        s{n} = False",
            f"        errors += (_AuthorizationError(_id{n}, {_RECURSION!r}, 'RecursionLimit'),)",
        ]
    lines = ["def _decide(p, a, r, c, E):", "    errors = ()"]
    lines += [f"    {line}" for line in inliner.prelude()]
    lines += body
    for decision, group in (("_DENY", forbids), ("_ALLOW", permits)):
        if not group:
            continue
        # the responses without errors are built once (a response is immutable)
        if len(group) <= _MAX_REASON_TABLE:
            table = tuple(
                frozenset(key[n][0] for bit, n in enumerate(group) if outcome >> bit & 1)
                for outcome in range(1 << len(group))
            )
            namespace[f"_reasons{decision}"] = table
            namespace[f"_responses{decision}"] = tuple(Response(namespace[decision], r) for r in table)
            outcome = (
                "1"  # (taken only when its one policy is satisfied)
                if len(group) == 1
                else " | ".join(f"({1 << bit} if s{n} else 0)" for bit, n in enumerate(group))
            )
            reasons, response = f"_reasons{decision}[{outcome}]", f"_responses{decision}[{outcome}]"
        else:
            ids = ", ".join(f"(_id{n}, s{n})" for n in group)
            reasons = f"_frozenset([i for i, s in ({ids}) if s])"
            response = f"_new_tuple(_Response, ({decision}, {reasons}, ()))"
        built = f"_new_tuple(_Response, ({decision}, {reasons}, errors))"
        lines += [
            f"    if {' or '.join(f's{n}' for n in group)}:",
            f"        return {built} if errors else {response}",
        ]
    lines.append("    return _new_tuple(_Response, (_DENY, _NO_REASONS, errors)) if errors else _DENIED")
    exec(compile("\n".join(lines) + "\n", "<cedar decision>", "exec"), namespace)
    found = cast(Decider, namespace["_decide"])
    if len(_DECIDERS) >= DECIDER_CACHE_SIZE:
        _DECIDERS.clear()
    _DECIDERS[key] = found
    return found


def _decide(permits: list[str], forbids: list[str], errors: list[AuthorizationError]) -> Response:
    """The decision (forbid overrides permit, default deny); ``is_authorized`` has it inline."""
    if forbids:
        return Response(_DENY, frozenset(forbids), tuple(errors))
    if permits:
        return Response(_ALLOW, frozenset(permits), tuple(errors))
    return Response(_DENY, _NO_REASONS, tuple(errors))
