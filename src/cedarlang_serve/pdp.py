"""The decision point without HTTP: evaluation, evaluations and the three searches.

Each function takes the parsed JSON body and returns the JSON answer (or raises
:class:`BadRequest`). Decisions come from a :class:`Decider` (cedarlang's authorizer by
default; the benchmark puts the cedarpy engine behind the same code), searches from
cedarlang's permission queries, which return exactly what authorizing every candidate
allows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cedarlang import Authorizer, CedarError, Request
from cedarlang.values import Record

from . import logs
from .errors import BadRequest
from .mapping import Party, action_name, body_object, context_of, party, uid_of, with_properties
from .pages import PageTokens, page_limit, request_digest
from .store import Snapshot

SEMANTICS = ("execute_all", "deny_on_first_deny", "permit_on_first_permit")


@dataclass(frozen=True)
class Evaluation:
    """One access request, checked for structure."""

    subject: Party
    action: str
    resource: Party
    context: dict[str, Any]


@dataclass
class Outcome:
    allowed: bool
    reasons: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rejected: str | None = None  # Cedar could not take the request (why)


Decider = Callable[[Snapshot, Evaluation], Outcome]
"""Decides one evaluation against a snapshot."""


_AUTHORIZER = Authorizer()


def cedarlang_decider(snapshot: Snapshot, ev: Evaluation) -> Outcome:
    """Decide with cedarlang (the default)."""
    mapping = snapshot.mapping
    try:
        p, r = uid_of(ev.subject, mapping), uid_of(ev.resource, mapping)
        a = mapping.action_uid(ev.action)
        props = [
            (uid, part.properties) for uid, part in ((p, ev.subject), (r, ev.resource)) if part.properties
        ]
        entities = with_properties(snapshot, props)
        request = Request(p, a, r, ev.context, schema=snapshot.schema)
    except CedarError as err:
        return Outcome(False, rejected=str(err))
    response = _AUTHORIZER.decide_uids(
        request.principal, request.action, request.resource, request.context, snapshot.policies, entities
    )
    return Outcome(
        response.allowed,
        sorted(response.reasons),
        [f"{e.policy_id}: {e.message}" for e in response.errors],
    )


@dataclass(frozen=True)
class Options:
    """What the PDP adds to answers, and its limits."""

    reasons: bool = False
    """Put the determining policy ids (and evaluation errors) in each decision's context."""
    annotations: tuple[str, ...] = ()
    """Annotation keys whose values (on the determining policies) go in the decision context."""
    max_page_size: int = 1000
    max_evaluations: int = 10_000


class PDP:
    def __init__(
        self,
        current: Callable[[], Snapshot],
        tokens: PageTokens,
        options: Options = Options(),
        decider: Decider = cedarlang_decider,
    ) -> None:
        self.current = current
        self.tokens = tokens
        self.options = options
        self.decider = decider

    # -- evaluation(s) ------------------------------------------------------------

    def _decision(self, snapshot: Snapshot, ev: Evaluation, request_id: str | None) -> dict[str, Any]:
        started = time.perf_counter()
        outcome = self.decider(snapshot, ev)
        answer: dict[str, Any] = {"decision": outcome.allowed}
        context: dict[str, Any] = {}
        if outcome.rejected is not None:
            context["error"] = {"status": 400, "message": outcome.rejected}
        if self.options.reasons:
            context["reasons"] = outcome.reasons
            if outcome.errors:
                context["errors"] = outcome.errors
        if self.options.annotations and outcome.reasons:
            found: dict[str, dict[str, str]] = {}
            for policy_id in outcome.reasons:
                policy = snapshot.policies.policy(policy_id)
                values = {
                    k: v
                    for k in self.options.annotations
                    if policy and (v := policy.annotation(k)) is not None
                }
                if values:
                    found[policy_id] = values
            if found:
                context["annotations"] = found
        if context:
            answer["context"] = context
        if logs.DECISIONS.isEnabledFor(logs.INFO):
            logs.decision(request_id, snapshot.version, ev, outcome, time.perf_counter() - started)
        return answer

    def evaluation(self, body: Any, request_id: str | None = None) -> dict[str, Any]:
        body = body_object(body)
        return self._decision(self.current(), _evaluation(body, {}), request_id)

    def evaluations(self, body: Any, request_id: str | None = None) -> dict[str, Any]:
        body = body_object(body)
        items = body.get("evaluations")
        if items is None or items == []:
            return self.evaluation(body, request_id)  # the backwards-compatible form
        if not isinstance(items, list):
            raise BadRequest("`evaluations` must be an array of objects")
        if len(items) > self.options.max_evaluations:
            raise BadRequest(
                f"`evaluations` has {len(items)} items; this PDP takes at most {self.options.max_evaluations}"
            )
        options = body.get("options")
        if options is None:
            options = {}
        if not isinstance(options, dict):
            raise BadRequest("`options` must be an object")
        semantic = options.get("evaluations_semantic", "execute_all")
        if semantic not in SEMANTICS:
            raise BadRequest("`options.evaluations_semantic` must be one of " + ", ".join(SEMANTICS))
        checked = [_evaluation(body, item, f"evaluations[{i}]") for i, item in enumerate(items)]
        snapshot = self.current()  # one store for the whole batch
        answers: list[dict[str, Any]] = []
        for ev in checked:
            answer = self._decision(snapshot, ev, request_id)
            answers.append(answer)
            if semantic == "deny_on_first_deny" and not answer["decision"]:
                break
            if semantic == "permit_on_first_permit" and answer["decision"]:
                break
        return {"evaluations": answers}

    # -- search -------------------------------------------------------------------

    def search(self, kind: str, body: Any, request_id: str | None = None) -> dict[str, Any]:
        body = body_object(body)
        limit, token = page_limit(body.get("page"), self.options.max_page_size)
        digest = request_digest(body)
        offset = self.tokens.offset(token, digest) if token is not None else 0
        context = context_of(body.get("context"))
        snapshot = self.current()
        started = time.perf_counter()
        if kind == "subject":
            subject = party(body.get("subject"), "subject", need_id=False)
            action = action_name(body.get("action"))
            resource = party(body.get("resource"), "resource", need_id=True)
        elif kind == "resource":
            subject = party(body.get("subject"), "subject", need_id=True)
            action = action_name(body.get("action"))
            resource = party(body.get("resource"), "resource", need_id=False)
        else:
            subject = party(body.get("subject"), "subject", need_id=True)
            resource = party(body.get("resource"), "resource", need_id=True)
            action = ""
        error: str | None = None
        try:
            found = _search(snapshot, kind, subject, action, resource, context)
        except CedarError as err:
            found, error = [], str(err)
        total = len(found)
        end = offset + limit
        results = found[offset:end]
        answer: dict[str, Any] = {
            "page": {
                "next_token": self.tokens.issue(digest, end) if end < total else "",
                "count": len(results),
                "total": total,
            }
        }
        if error is not None:
            answer["context"] = {"error": {"status": 400, "message": error}}
        answer["results"] = results
        if logs.DECISIONS.isEnabledFor(logs.INFO):
            logs.search(request_id, snapshot.version, kind, body, total, error, time.perf_counter() - started)
        return answer


def _search(
    snapshot: Snapshot, kind: str, subject: Party, action: str, resource: Party, context: dict[str, Any]
) -> list[dict[str, str]]:
    mapping, schema, policies = snapshot.mapping, snapshot.schema, snapshot.policies
    ctx: dict[str, Any] | Record = context
    if kind == "subject":
        r = uid_of(resource, mapping)
        entities = with_properties(snapshot, [(r, resource.properties)] if resource.properties else [])
        uids = _AUTHORIZER.query_principals(
            mapping.action_uid(action), r, mapping.cedar_type(subject.type), policies, entities,
            context=ctx, schema=schema,
        )  # fmt: skip
        return [{"type": subject.type, "id": uid.id} for uid in uids]
    if kind == "resource":
        p = uid_of(subject, mapping)
        entities = with_properties(snapshot, [(p, subject.properties)] if subject.properties else [])
        uids = _AUTHORIZER.query_resources(
            p, mapping.action_uid(action), mapping.cedar_type(resource.type), policies, entities,
            context=ctx, schema=schema,
        )  # fmt: skip
        return [{"type": resource.type, "id": uid.id} for uid in uids]
    p, r = uid_of(subject, mapping), uid_of(resource, mapping)
    props = [(uid, part.properties) for uid, part in ((p, subject), (r, resource)) if part.properties]
    entities = with_properties(snapshot, props)
    uids = _AUTHORIZER.query_actions(p, r, policies, entities, context=ctx, schema=schema)
    return [{"name": uid.id} for uid in uids if uid.type == mapping.action_type]


def _evaluation(defaults: dict[str, Any], item: Any, where: str = "") -> Evaluation:
    """One evaluation: ``item``'s keys over the top-level ``defaults``."""
    if where and not isinstance(item, dict):
        raise BadRequest(f"`{where}` must be an object")
    prefix = f"{where}." if where else ""

    def pick(key: str) -> tuple[Any, str]:
        if key in item:
            return item[key], prefix + key
        return defaults.get(key), key

    subject, s_where = pick("subject")
    action, a_where = pick("action")
    resource, r_where = pick("resource")
    context, c_where = pick("context")
    return Evaluation(
        party(subject, s_where, need_id=True),
        action_name(action, a_where),
        party(resource, r_where, need_id=True),
        context_of(context, c_where),
    )


__all__ = ["PDP", "SEMANTICS", "Decider", "Evaluation", "Options", "Outcome", "cedarlang_decider"]
