"""Run one generated :class:`Case` through cedarpy (the Rust engine, the judge) and
cedarlang, compare the answers, describe mismatches and minimise them."""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import cedarpy

import cedarlang

from .strategies import Case, Node

P = ParamSpec("P")
T = TypeVar("T")

ERR_RE = re.compile(r"error while evaluating policy `([^`]*)`: ")

# --------------------------------------------------------------------------------------
# Error kinds: both engines' errors mapped onto one small vocabulary, so that "both
# failed" is only agreement when they failed for the same reason.
# --------------------------------------------------------------------------------------

# Rust's evaluation error messages (cedar-policy-core/src/evaluator/err.rs,
# EvaluationErrorKind's `#[error(...)]` texts), first match wins.
RUST_EVAL_KINDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), k)
    for p, k in (
        (r"^type error", "type"),
        (r"^entity `.*` does not exist", "entity missing"),
        (r"^`.*` does not have the attribute `", "entity attribute missing"),
        (r"^record does not have the attribute `", "record attribute missing"),
        (r"^`.*` does not have the tag `", "tag missing"),
        (r"^integer overflow", "overflow"),
        (r"^error while evaluating `[^`]*` extension function", "extension"),
        (r"^recursion limit", "recursion"),
        (r"^wrong number of arguments provided to extension function", "arity"),
    )
)
# cedarlang's EvaluationError.kind -> the vocabulary above
PY_EVAL_KINDS: dict[str, str] = {
    "TypeError": "type",
    "EntityDoesNotExist": "entity missing",
    "EntityAttrDoesNotExist": "entity attribute missing",
    "RecordAttrDoesNotExist": "record attribute missing",
    "EntityTagDoesNotExist": "tag missing",
    "IntegerOverflow": "overflow",
    "FailedExtensionFunctionExecution": "extension",
    "RecursionLimit": "recursion",
    "WrongNumArguments": "arity",
}


# Rejected inputs (schema / policies / links / entities / request): each engine's
# message (cedarlang's prefixed with its exception class) -> kind.  Ordered: first
# match wins; what matches nothing is "other" (and then has to agree on both sides).
_EXT_VALUE = (
    r"extension function|is not a well-formed|invalid IP address|error parsing prefix|invalid date"
    r"|invalid duration|invalid hour|invalid millisecond|invalid offset|overflow|too many digits"
    r"|type error: expected"
)
_UID = (
    r"as entity Uid|failed to parse escape `__entity`|in entity uid|in (principal|action|resource):"
    r"|invalid (principal|action|resource) `|reserved name|not a valid entity type name|normalized form"
)
_SCHEMA = (
    r"conform to the schema|declared in the schema|according to the schema|type mismatch"
    r"|is not valid for `|entities cannot be in|expected (a |an )?[\w ]+, got "
    r"|expected the record to have an attribute|required attribute"
)
REJECTION_KINDS: dict[str, tuple[tuple[re.Pattern[str], str], ...]] = {
    "rust": tuple(
        (re.compile(p), k)
        for p, k in (
            (r"duplicate entity entry", "duplicate entity"),
            (r"non-action parent", "action parent"),
            (r"has a cycle", "cycle"),
            (r"no template with id", "no such template"),
            (r"slots were not provided|unable to link template", "link values"),
            (r"type error: expected", "extension value"),  # an `__extn` with a wrong argument
            (_SCHEMA, "schema"),
            (_UID, "uid"),
            (_EXT_VALUE, "extension value"),
        )
    ),
    "python": tuple(
        (re.compile(p), k)
        for p, k in (
            (
                r"^ParseError: .*(normalized form|unexpected identifier|reserved and cannot|invalid entity uid)",
                "uid",
            ),
            (r"^ParseError", "parse"),
            (r"duplicate entity entry", "duplicate entity"),
            (r"which is not an action", "action parent"),
            (r"has a cycle", "cycle"),
            (r"no template with id", "no such template"),
            (r"^PolicySetError: (cannot link|duplicate policy id)", "link values"),
            (_SCHEMA, "schema"),
            (_UID, "uid"),
            (_EXT_VALUE, "extension value"),
        )
    ),
}


def rejection_kind(engine: str, stage: str, message: str) -> str:
    if stage == "policies":
        # every PolicySet.from_str failure is a parse error; cedarlang must raise ParseError
        return "parse" if engine == "rust" or message.startswith("ParseError") else "other"
    for pattern, kind in REJECTION_KINDS[engine]:
        if pattern.search(message):
            return kind
    return "other"


def rust_eval_kind(message: str) -> str:
    for pattern, kind in RUST_EVAL_KINDS:
        if pattern.search(message):
            return kind
    return f"unmapped: {message[:80]}"


# --------------------------------------------------------------------------------------
# Outcomes
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    decision: str  # "allow" / "deny"
    reasons: frozenset[str]
    errors: frozenset[tuple[str, str]]  # (policy id, error kind) of policies that errored
    messages: tuple[str, ...] = ()  # error messages (shown, not compared)

    def key(self) -> tuple[str, frozenset[str], frozenset[tuple[str, str]]]:
        return (self.decision, self.reasons, self.errors)

    def show(self) -> str:
        errs = sorted(f"{pid} ({kind})" for pid, kind in self.errors)
        out = f"{self.decision.upper()} reasons={sorted(self.reasons)} errors={errs}"
        for m in self.messages:
            out += f"\n      {m}"
        return out


@dataclass(frozen=True)
class Rejected:
    """An input the engine refused (``what`` = policies/links/entities/request)."""

    what: str
    message: str
    kind: str = "other"  # see rejection_kind

    def show(self) -> str:
        return f"REJECTED {self.what} ({self.kind}): {self.message[:600]}"


Outcome = Answer | Rejected


def _rejected(engine: str, what: str, message: str) -> Rejected:
    return Rejected(what, message, rejection_kind(engine, what, message))


@dataclass
class Result:
    schema: Rejected | None = None
    policies: Rejected | None = None
    links: Rejected | None = None
    entities: Rejected | None = None
    requests: list[Outcome] = field(default_factory=list)


class Crash(Exception):
    """cedarlang raised something that is not a CedarError."""


# --------------------------------------------------------------------------------------
# Running the engines
# --------------------------------------------------------------------------------------


def run_cedarpy(case: Case) -> Result:
    res = Result()
    try:
        ps = cedarpy.PolicySet.from_str(case.policy_text())
    except ValueError as err:
        res.policies = _rejected("rust", "policies", str(err))
        ps = cedarpy.PolicySet.from_str("")
    else:
        if case.links:
            try:
                ps = ps.with_linked_batch(case.link_dicts())
            except (ValueError, KeyError) as err:
                res.links = _rejected("rust", "links", str(err))
    schema: Any = None
    schema_text = case.schema_json()
    if schema_text is not None:
        try:
            schema = cedarpy.Schema.from_json_str(schema_text)
        except ValueError as err:
            res.schema = _rejected("rust", "schema", str(err))
    try:
        ents: Any = cedarpy.Entities.from_json_str(case.entities_json(), schema=schema)
    except ValueError as err:
        # the handle's error is terse; is_authorized reports the underlying cause
        probe = cedarpy.is_authorized(
            {"principal": 'A::"a"', "action": 'Action::"a"', "resource": 'A::"a"'},
            "",
            case.entities_json(),
            schema=schema,
        )
        detail = "; ".join(probe.diagnostics.errors)
        detail = detail.rsplit("]: ", 1)[-1] if detail.startswith("failed to parse entities") else detail
        res.entities = _rejected("rust", "entities", detail or str(err))
        ents = "[]"
    if res.policies is None and res.links is not None:
        ps = cedarpy.PolicySet.from_str("")
    try:
        answers: list[Any] = cedarpy.is_authorized_batch(case.wire_requests(), ps, ents, schema=schema)
    except Exception:
        # cedarpy refuses the whole batch for some malformed request uids
        # (e.g. a dict without "type" -> KeyError); ask one request at a time.
        answers = []
        for req in case.wire_requests():
            try:
                answers.append(cedarpy.is_authorized(req, ps, ents, schema=schema))
            except Exception as err:
                answers.append(err)
    for ans in answers:
        if isinstance(ans, Exception):
            res.requests.append(_rejected("rust", "request", f"{type(ans).__name__}: {ans}"))
            continue
        errs = list(ans.diagnostics.errors)
        if ans.decision == cedarpy.Decision.NoDecision:
            res.requests.append(_rejected("rust", "request", "; ".join(errs)))
            continue
        ids = set()
        for e in errs:
            m = ERR_RE.search(e)
            if m:
                ids.add((m.group(1), rust_eval_kind(e[m.end() :])))
            else:
                ids.add((f"<unparsed error: {e}>", "?"))
        res.requests.append(
            Answer(
                "allow" if ans.decision == cedarpy.Decision.Allow else "deny",
                frozenset(ans.diagnostics.reasons),
                frozenset(ids),
                tuple(sorted(errs)),
            )
        )
    return res


def _cl(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Call ``fn(*args, **kwargs)`` in cedarlang, turning non-CedarError exceptions into a Crash."""
    try:
        return fn(*args, **kwargs)
    except cedarlang.CedarError:
        raise
    except RecursionError as err:
        raise Crash(f"RecursionError: {err}") from err
    except Exception as err:
        raise Crash(f"{type(err).__name__}: {err}") from err


def run_cedarlang(case: Case) -> Result:
    res = Result()
    try:
        ps = _cl(cedarlang.PolicySet.from_str, case.policy_text())
    except cedarlang.CedarError as err:
        res.policies = _rejected("python", "policies", f"{type(err).__name__}: {err}")
        ps = cedarlang.PolicySet.from_str("")
    else:
        for link in case.link_dicts():
            try:
                _cl(ps.link, link["template_id"], link["new_id"], link["values"])
            except cedarlang.CedarError as err:
                res.links = _rejected("python", "links", f"{type(err).__name__}: {err}")
                ps = cedarlang.PolicySet.from_str("")
                break
    schema: cedarlang.Schema | None = None
    schema_text = case.schema_json()
    if schema_text is not None:
        try:
            schema = _cl(cedarlang.Schema.from_json, schema_text)
        except cedarlang.CedarError as err:
            res.schema = _rejected("python", "schema", f"{type(err).__name__}: {err}")
    try:
        es = _cl(cedarlang.Entities.from_json, case.entities_json(), schema=schema)
    except cedarlang.CedarError as err:
        res.entities = _rejected("python", "entities", f"{type(err).__name__}: {err}")
        # like Rust's empty store given a schema: it still holds the schema's actions
        es = cedarlang.Entities.from_json([], schema=schema)
    authorizer = cedarlang.Authorizer()
    for r in case.wire_requests():
        try:
            req = _cl(
                cedarlang.Request,
                principal=r["principal"],
                action=r["action"],
                resource=r["resource"],
                context=r.get("context"),
                schema=schema,
            )
        except cedarlang.CedarError as err:
            res.requests.append(_rejected("python", "request", f"{type(err).__name__}: {err}"))
            continue
        rsp = _cl(authorizer.is_authorized, req, ps, es)
        res.requests.append(
            Answer(
                rsp.decision.value,
                frozenset(rsp.reasons),
                frozenset((e.policy_id, PY_EVAL_KINDS.get(e.kind, e.kind)) for e in rsp.errors),
                tuple(sorted(str(e) for e in rsp.errors)),
            )
        )
    return res


def run_cedarlang_safe(case: Case) -> Result | Crash:
    try:
        return run_cedarlang(case)
    except Crash as crash:
        return crash


# --------------------------------------------------------------------------------------
# Comparing
# --------------------------------------------------------------------------------------


@dataclass
class Mismatch:
    stage: str  # crash / policies / links / entities / request / answer
    index: int | None  # request index
    aspects: tuple[str, ...]
    rust: str
    python: str
    group: str  # a coarse key for grouping distinct bugs

    def signature(self) -> tuple[str, tuple[str, ...], str]:
        return (self.stage, self.aspects, self.group)


def _norm(msg: str) -> str:
    """A coarse, value-free version of an error message, for grouping."""
    msg = re.sub(r" at line \d+ column \d+", "", msg)
    msg = msg.replace("error during entity deserialization: ", "")
    msg = re.sub(r"`[^`]*`", "`_`", msg)
    msg = re.sub(r'"(?:[^"\\]|\\.)*"', '"_"', msg)
    msg = re.sub(r"\d+", "N", msg)
    msg = re.sub(r"\b(principal|action|resource)\b", "<var>", msg)
    msg = re.sub(r"context(\.[\w ]+)+", "context.<key>", msg)
    return msg[:90]


def compare_all(rust: Result, py: Result | Crash) -> list[Mismatch]:
    """Every disagreement: input-stage ones first, then one per request."""
    if isinstance(py, Crash):
        return [Mismatch("crash", None, (), "(no crash)", f"CRASH {py}", _norm(str(py)))]
    out: list[Mismatch] = []
    for stage in ("schema", "policies", "links", "entities"):
        r: Rejected | None = getattr(rust, stage)
        p: Rejected | None = getattr(py, stage)
        if r is not None and p is not None:
            if r.kind == p.kind:
                continue
            who = f"rust {r.kind} error vs python {p.kind} error"
        elif r is None and p is None:
            continue
        else:
            who = "python rejects" if p is not None else "python accepts"
        rs = r.show() if r else "accepted"
        ps = p.show() if p else "accepted"
        group = f"{who}: {_norm(r.message) if r else _norm(p.message if p else '')}"
        out.append(Mismatch(stage, None, (), rs, ps, group))
        if stage in ("schema", "policies", "links"):
            return out  # the policy sets differ: later answers are meaningless
    assert len(rust.requests) == len(py.requests)
    for i, (ra, pa) in enumerate(zip(rust.requests, py.requests, strict=True)):
        if isinstance(ra, Rejected) and isinstance(pa, Rejected):
            if ra.kind == pa.kind:
                continue
            group = f"rust {ra.kind} error vs python {pa.kind} error: {_norm(ra.message)}"
            out.append(Mismatch("request", i, (), ra.show(), pa.show(), group))
            continue
        if isinstance(ra, Rejected) or isinstance(pa, Rejected):
            who = "python rejects" if isinstance(pa, Rejected) else "python accepts"
            msg = ra.message if isinstance(ra, Rejected) else pa.message  # type: ignore[union-attr]
            out.append(Mismatch("request", i, (), ra.show(), pa.show(), f"{who}: {_norm(msg)}"))
            continue
        if out and out[0].stage == "entities":
            continue  # the entity sets differ: answers are meaningless
        if ra.key() == pa.key():
            continue
        aspects = tuple(
            name
            for name, a, b in (
                ("decision", ra.decision, pa.decision),
                ("reasons", ra.reasons, pa.reasons),
                ("errors", ra.errors, pa.errors),
            )
            if a != b
        )
        # group by the error message of the first policy whose error status differs
        only_r = sorted(ra.errors - pa.errors)
        only_p = sorted(pa.errors - ra.errors)
        if only_r:
            msg = next((m for m in ra.messages if f"`{only_r[0][0]}`" in m), "")
            group = f"only rust errors ({only_r[0][1]}): {_norm(msg.split(': ', 1)[-1])}"
        elif only_p:
            msg = next((m for m in pa.messages if f"`{only_p[0][0]}`" in m), "")
            group = f"only python errors ({only_p[0][1]}): {_norm(msg.split(': ', 1)[-1])}"
        else:
            group = f"rust {ra.decision} vs python {pa.decision}, {'/'.join(aspects)} differ"
        out.append(Mismatch("answer", i, aspects, ra.show(), pa.show(), group))
    return out


def compare(rust: Result, py: Result | Crash) -> Mismatch | None:
    mms = compare_all(rust, py)
    return mms[0] if mms else None


def _entity_kinds(case: Case) -> tuple[set[str], set[str]]:
    """The rejection kinds each engine gives the entities of ``case`` one at a time."""
    rust: set[str] = set()
    py: set[str] = set()
    for ent in case.entities:
        one = copy.copy(case)
        one.entities = [ent]
        one.requests = []
        r, p = run_cedarpy(one), run_cedarlang_safe(one)
        if r.entities is not None:
            rust.add(r.entities.kind)
        if isinstance(p, Result) and p.entities is not None:
            py.add(p.entities.kind)
    return rust, py


def _several_defects(case: Case, rust: Result, py: Result | Crash) -> bool:
    """Both engines rejected the entity data, for different reasons, because it has
    several defects and each reports a different one first (Rust parses the whole
    JSON document before it evaluates values; cedarlang goes entity by entity).
    True when each engine also finds the other's defect in some single entity."""
    if case.raw_entities is not None or isinstance(py, Crash):
        return False
    if rust.entities is None or py.entities is None:
        return False
    rust_kinds, py_kinds = _entity_kinds(case)
    return rust.entities.kind in py_kinds and py.entities.kind in rust_kinds


def check_all(case: Case) -> tuple[Result, Result | Crash, list[Mismatch]]:
    rust = run_cedarpy(case)
    py = run_cedarlang_safe(case)
    mms = compare_all(rust, py)
    if mms and mms[0].stage == "entities" and _several_defects(case, rust, py):
        mms = [m for m in mms if m.stage != "entities"]
    return rust, py, mms


def check(case: Case) -> tuple[Result, Result | Crash, Mismatch | None]:
    rust, py, mms = check_all(case)
    return rust, py, (mms[0] if mms else None)


# --------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------


def describe(case: Case, mm: Mismatch, title: str = "MISMATCH") -> str:
    lines = [
        f"=== {title}: stage={mm.stage}"
        + (f" request#{mm.index}" if mm.index is not None else "")
        + (f" differs in {', '.join(mm.aspects)}" if mm.aspects else "")
        + f"  [{mm.group}]",
        "--- policies ---",
        case.policy_text().rstrip(),
    ]
    if case.links:
        lines += ["--- links ---", json.dumps(case.link_dicts(), ensure_ascii=False)]
    if case.schema is not None:
        lines += ["--- schema (JSON) ---", case.schema_json() or ""]
    lines += ["--- entities (JSON text) ---", case.entities_json()]
    if mm.index is not None:
        lines += ["--- request ---", json.dumps(case.wire_requests()[mm.index], ensure_ascii=False)]
    else:
        lines += ["--- requests ---", json.dumps(case.wire_requests(), ensure_ascii=False)]
    lines += ["--- cedarpy (Rust, expected) ---", "  " + mm.rust, "--- cedarlang ---", "  " + mm.python]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Minimising
# --------------------------------------------------------------------------------------


def _json_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of every removable list item / dict key inside ``value`` (deepest last)."""
    out: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append((*path, k))
            out.extend(_json_paths(v, (*path, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.append((*path, i))
            out.extend(_json_paths(v, (*path, i)))
    return out


def _delete(root: Any, path: tuple[Any, ...]) -> None:
    obj = root
    for k in path[:-1]:
        obj = obj[k]
    del obj[path[-1]]


def _nodes(node: Node) -> list[Node]:
    out = [node]
    for c in node.children():
        out.extend(_nodes(c))
    return out


def _candidates(case: Case) -> list[Callable[[Case], None]]:
    """Reductions of ``case`` (each edits a copy in place): coarse ones first."""
    out: list[Callable[[Case], None]] = []

    def variant(fn: Callable[[Case], None]) -> None:
        out.append(fn)

    # -- coarse -----------------------------------------------------------------------
    if len(case.requests) > 1:
        for i in range(len(case.requests)):

            def only_request(c: Case, i: int = i) -> None:
                c.requests[:] = [c.requests[i]]

            variant(only_request)
    if case.entities:

        def no_entities(c: Case) -> None:
            c.entities.clear()

        variant(no_entities)
    for ri, req in enumerate(case.requests):
        if req.get("context"):

            def empty_context(c: Case, ri: int = ri) -> None:
                c.requests[ri]["context"] = {}

            variant(empty_context)
    for ei, ent in enumerate(case.entities):
        if isinstance(ent, dict):
            for key in ("attrs", "tags", "parents"):
                if ent.get(key):

                    def empty_field(c: Case, ei: int = ei, key: str = key) -> None:
                        c.entities[ei][key] = type(c.entities[ei][key])()

                    variant(empty_field)
    # -- drop policies (re-pointing links at the renumbered templates), links ---------------
    if len(case.policies) > 1:
        for i in range(len(case.policies)):

            def drop(c: Case, i: int = i) -> None:
                del c.policies[i]
                c.links = [lk for lk in c.links if lk.policy_index != i]
                for lk in c.links:
                    if lk.policy_index > i:
                        lk.policy_index -= 1

            variant(drop)
    for i in range(len(case.links)):

        def drop_link(c: Case, i: int = i) -> None:
            del c.links[i]

        variant(drop_link)
    for ri, req in enumerate(case.requests):
        for var, plain in (
            ("principal", 'User::"alice"'),
            ("action", 'Action::"view"'),
            ("resource", 'Photo::"p1"'),
        ):
            if req.get(var) != plain:

                def plain_uid(c: Case, ri: int = ri, var: str = var, plain: str = plain) -> None:
                    c.requests[ri][var] = plain

                variant(plain_uid)
    # -- fine: pieces of entity JSON and contexts (last first, so indices stay valid) -------
    for i in reversed(range(len(case.entities))):

        def drop_entity(c: Case, i: int = i) -> None:
            del c.entities[i]

        variant(drop_entity)
    for path in reversed(_json_paths(case.entities)):
        if len(path) > 1:

            def drop_entity_json(c: Case, path: tuple[Any, ...] = path) -> None:
                _delete(c.entities, path)

            variant(drop_entity_json)
    for ri, req in enumerate(case.requests):
        for path in reversed(_json_paths(req.get("context", {}))):

            def drop_context_json(c: Case, ri: int = ri, path: tuple[Any, ...] = path) -> None:
                _delete(c.requests[ri]["context"], path)

            variant(drop_context_json)
    # -- policies: scopes, conditions, annotations, expressions ---------------------------
    for pi, pol in enumerate(case.policies):
        for var in ("principal", "action", "resource"):
            if getattr(pol, var) != var:

                def open_scope(c: Case, pi: int = pi, var: str = var) -> None:
                    setattr(c.policies[pi], var, var)

                variant(open_scope)
        if pol.annotations or pol.trailer:

            def bare(c: Case, pi: int = pi) -> None:
                c.policies[pi].annotations = []
                c.policies[pi].trailer = ""

            variant(bare)
        for ci in range(len(pol.conditions)):

            def drop_condition(c: Case, pi: int = pi, ci: int = ci) -> None:
                del c.policies[pi].conditions[ci]

            variant(drop_condition)
        for ci, (kw, cond) in enumerate(pol.conditions):
            if kw == "unless":

                def to_when(c: Case, pi: int = pi, ci: int = ci) -> None:
                    old = c.policies[pi].conditions[ci][1]
                    c.policies[pi].conditions[ci] = ("when", Node(6, "!(", old, ")"))

                variant(to_when)
            for ni, node in enumerate(_nodes(cond)):
                subs = [Node(7, "(", ch, ")") for ch in _nodes(node)[1:]]
                for lit in ("true", "false", "1", '"a"', "principal"):
                    if node.text() != lit:
                        subs.append(Node(7, lit))
                for sub in subs:

                    def replace(c: Case, pi: int = pi, ci: int = ci, ni: int = ni, sub: Node = sub) -> None:
                        target = _nodes(c.policies[pi].conditions[ci][1])[ni]
                        target.prec = sub.prec
                        target.parts = copy.deepcopy(sub.parts)

                    variant(replace)
    return out


def _size(case: Case) -> int:
    return (
        len(case.policy_text())
        + len(json.dumps(case.link_dicts()))
        + len(json.dumps(case.entities))
        + len(json.dumps(case.requests))
    )


def minimize(case: Case, keep: Callable[[Case], bool], budget_s: float = 20.0) -> Case:
    """Greedy delta debugging.  Each pass walks the candidate list once, taking
    every reduction that ``keep``s (continuing at the same position), and passes
    repeat until nothing shrinks or time is up."""
    deadline = time.monotonic() + budget_s
    best = case
    while time.monotonic() < deadline:
        start_size = _size(best)
        index = 0
        while time.monotonic() < deadline:
            cands = _candidates(best)
            if index >= len(cands):
                break
            taken = False
            for j in range(index, len(cands)):
                if time.monotonic() > deadline:
                    break
                cand = best.copy()
                try:
                    cands[j](cand)
                except Exception:
                    continue
                if _size(cand) >= _size(best):
                    continue
                try:
                    ok = keep(cand)
                except Exception:
                    ok = False
                if ok:
                    best, index, taken = cand, j, True
                    break
            if not taken:
                break
        if _size(best) >= start_size:
            break
    return best


def keep_same(mm: Mismatch) -> Callable[[Case], bool]:
    sig = mm.signature()

    def keep(case: Case) -> bool:
        _, _, mms = check_all(case)
        return any(m.signature() == sig for m in mms)

    return keep


def minimized_report(case: Case, mm: Mismatch, budget_s: float = 20.0) -> tuple[Case, Mismatch, str]:
    sig = mm.signature()
    small = minimize(case, keep_same(mm), budget_s)
    _, _, mms = check_all(small)
    mm2 = next(m for m in mms if m.signature() == sig)
    # keep only the mismatching request in the repro
    if mm2.index is not None and len(small.requests) > 1:
        only = small.copy()
        only.requests = [small.requests[mm2.index]]
        _, _, mms3 = check_all(only)
        mm3 = next((m for m in mms3 if m.signature() == sig), None)
        if mm3 is not None:
            small, mm2 = only, mm3
    return small, mm2, describe(small, mm2)
