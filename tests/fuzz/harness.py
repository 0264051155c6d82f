"""Mutation fuzzing of the public API: only :class:`~cedarlang.CedarError` may escape.

Seeds come from the conformance corpus (``$CEDAR_CONFORMANCE`` or ``../shared/conformance``):
policy text, entity JSON, Cedar-syntax schemas and request contexts, plus the policy JSON
and schema JSON that cedarlang prints for them. Each fuzz input is one seed of one
:data:`TARGETS` kind, mutated by a few :data:`MUTATORS` (byte flips, insert/delete, splices
of other seeds, deep nesting, huge numbers, invalid UTF-8), given as ``bytes`` or as ``str``
(invalid UTF-8 becomes lone surrogates). :func:`run_input` feeds it to the parser of its kind
and, when that succeeds, on through printing, round trips, formatting, validation, entity
loading and authorization, under a CPU-time limit.

Input ``i`` of a run with seed ``S`` depends only on ``(S, i)`` and the corpus, so
:func:`make_input` regenerates any single input for a reproducer.
"""

from __future__ import annotations

import json
import random
import re
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cedarlang
from cedarlang import (
    Authorizer,
    CedarError,
    Entities,
    PolicySet,
    Request,
    Schema,
    Validator,
    format_policies,
    policy_set_from_json,
    policy_set_to_json,
)
from cedarlang._limits import DEEP_FRAMES, recursion_headroom

from ..conformance.runner import conformance_root

TIME_LIMIT = 2.0
"""Seconds of CPU time one input may take (all API calls on it together)."""

TARGETS = ("policy_text", "policy_json", "entities_json", "schema_text", "schema_json", "context_json")

_PACKAGE_DIR = Path(cedarlang.__file__).resolve().parent


# ---------------------------------------------------------------------------- seeds


@dataclass
class Case:
    """One conformance test: its policies, entities, schema and a few requests."""

    policies: str
    entities: str
    schema: str
    requests: list[dict[str, Any]]
    policy_json: str = ""
    schema_json: str = ""
    parsed_schema: Schema | None = None
    parsed_policies: PolicySet | None = None
    parsed_entities: Entities | None = None


@dataclass
class Seeds:
    cases: list[Case]
    by_target: dict[str, list[bytes]] = field(default_factory=dict)

    def fragments(self) -> Iterator[bytes]:
        for texts in self.by_target.values():
            yield from texts


def corpus_dir() -> Path:
    return conformance_root() / "corpus" / "corpus-tests"


def load_seeds(count: int, seed: int) -> Seeds:
    """``count`` conformance tests chosen by ``seed`` (same choice for the same corpus)."""
    folder = corpus_dir()
    names = sorted(p.name[: -len(".cedar")] for p in folder.glob("*.cedar"))
    if not names:
        raise FileNotFoundError(f"no conformance corpus in {folder} (set $CEDAR_CONFORMANCE)")
    chosen = random.Random(seed).sample(names, min(count, len(names)))
    cases = []
    for name in chosen:
        spec = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
        case = Case(
            policies=(folder / f"{name}.cedar").read_text(encoding="utf-8"),
            entities=(folder / f"{name}.entities.json").read_text(encoding="utf-8"),
            schema=(folder / f"{name}.cedarschema").read_text(encoding="utf-8"),
            requests=spec["requests"][:3],
        )
        case.parsed_schema = Schema.from_str(case.schema)
        case.parsed_policies = PolicySet.from_str(case.policies)
        case.parsed_entities = Entities.from_json(case.entities)
        case.policy_json = json.dumps(policy_set_to_json(case.parsed_policies), indent=1)
        case.schema_json = case.parsed_schema.to_json_str(indent=1)
        cases.append(case)
    seeds = Seeds(cases)
    seeds.by_target = {
        "policy_text": [c.policies.encode() for c in cases],
        "policy_json": [c.policy_json.encode() for c in cases],
        "entities_json": [c.entities.encode() for c in cases],
        "schema_text": [c.schema.encode() for c in cases],
        "schema_json": [c.schema_json.encode() for c in cases],
        "context_json": [text for c in cases for text in _contexts(c)],
    }
    return seeds


# ---------------------------------------------------------------------------- mutators

Mutator = Callable[[random.Random, bytearray, Seeds], str]

_INTERESTING_BYTES = b'(){}[]<>"\\:;,.!-+*&|=@?0123456789 \n\t_aZ\x00\x7f'
_NESTING = [
    (b"(", b")"),
    (b"[", b"]"),
    (b"{", b"}"),
    (b'{"a":', b"}"),
    (b"!", b""),
    (b"-", b""),
    (b"if true then ", b" else 1"),
    (b"Set<", b">"),
    (b"{ a: ", b" }"),
    (b'{"type":"Set","element":', b"}"),
    (b'{"!":{"arg":', b"}}"),
    (b'{"Set":[', b"]}"),
]
_HUGE = [
    b"9223372036854775807",
    b"9223372036854775808",
    b"-9223372036854775808",
    b"-9223372036854775809",
    b"1e999999",
    b"-0",
    b"1" * 5000,
    b"0." + b"0" * 3000 + b"1",
    b'"' + b"9" * 400 + b'.0"',
]
_BAD_UTF8 = [b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\x80", b"\xfe\xff"]


def _pos(rng: random.Random, data: bytearray) -> int:
    return rng.randrange(len(data) + 1)


def flip(rng: random.Random, data: bytearray, seeds: Seeds) -> str:
    if not data:
        return "flip(empty)"
    i = rng.randrange(len(data))
    data[i] = rng.choice(_INTERESTING_BYTES) if rng.random() < 0.6 else rng.randrange(256)
    return f"flip@{i}"


def insert(rng: random.Random, data: bytearray, seeds: Seeds) -> str:
    i = _pos(rng, data)
    chunk = bytes(rng.choice(_INTERESTING_BYTES) for _ in range(rng.randint(1, 8)))
    data[i:i] = chunk
    return f"insert@{i}"


def delete(rng: random.Random, data: bytearray, seeds: Seeds) -> str:
    if not data:
        return "delete(empty)"
    i = rng.randrange(len(data))
    n = rng.randint(1, max(1, min(64, len(data) - i)))
    del data[i : i + n]
    return f"delete@{i}+{n}"


def splice(rng: random.Random, data: bytearray, seeds: Seeds) -> str:
    """Insert (or overwrite with) a random slice of another seed of any kind."""
    other = rng.choice(list(seeds.fragments()))
    if not other:
        return "splice(empty)"
    a = rng.randrange(len(other))
    b = min(len(other), a + rng.randint(1, 200))
    i = _pos(rng, data)
    if rng.random() < 0.5:
        data[i:i] = other[a:b]
    else:
        data[i : i + (b - a)] = other[a:b]
    return f"splice@{i}"


def duplicate(rng: random.Random, data: bytearray, seeds: Seeds) -> str:
    """Repeat a slice of the input many times (long lists, many declarations)."""
    if not data:
        return "duplicate(empty)"
    a = rng.randrange(len(data))
    b = min(len(data), a + rng.randint(1, 80))
    times = rng.choice([2, 10, 100, 1000])
    data[b:b] = data[a:b] * times
    return f"duplicate@{a}:{b}x{times}"


def nest(rng: random.Random, data: bytearray, seeds: Seeds) -> str:
    """Wrap a point of the input in many levels of brackets / operators."""
    opening, closing = rng.choice(_NESTING)
    depth = rng.choice([50, 500, 2100, 5000, 20000])
    i = _pos(rng, data)
    j = rng.randint(i, min(len(data), i + 40))
    data[j:j] = closing * depth
    data[i:i] = opening * depth
    return f"nest{opening!r}x{depth}@{i}"


def huge_number(rng: random.Random, data: bytearray, seeds: Seeds) -> str:
    """Replace a run of digits (or insert) with an extreme number."""
    value = rng.choice(_HUGE)
    digits = [i for i, c in enumerate(data) if 48 <= c <= 57]
    if digits and rng.random() < 0.8:
        i = rng.choice(digits)
        j = i
        while j < len(data) and 48 <= data[j] <= 57:
            j += 1
        data[i:j] = value
    else:
        i = _pos(rng, data)
        data[i:i] = value
    return f"huge@{i}"


def bad_utf8(rng: random.Random, data: bytearray, seeds: Seeds) -> str:
    i = _pos(rng, data)
    data[i:i] = rng.choice(_BAD_UTF8)
    return f"bad_utf8@{i}"


def truncate(rng: random.Random, data: bytearray, seeds: Seeds) -> str:
    i = _pos(rng, data)
    del data[i:]
    return f"truncate@{i}"


_JSON_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    2**63,
    -(2**63) - 1,
    1.5,
    "",
    "\u0000",
    "\ud800",
    "1.2.3.4/99",
    "decimal",
    "__extn",
    [],
    {},
    {"__entity": {"type": "A", "id": "a"}},
    {"__extn": {"fn": "decimal", "arg": "1" * 30 + ".0"}},
    {"__extn": {"fn": "ip", "arg": "::ffff:1.2.3.4/129"}},
    {"type": "Set", "element": {"type": "Long"}},
    {"type": "Entity", "name": "Action"},
    {"Value": 1},
    {"Var": "principal"},
]


def _json_nodes(value: Any, out: list[tuple[Any, Any]]) -> None:
    """Every (container, key) pair of a parsed JSON value, parents before children."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for k in node:
                out.append((node, k))
                stack.append(node[k])
        elif isinstance(node, list):
            for i in range(len(node)):
                out.append((node, i))
                stack.append(node[i])


def json_node(rng: random.Random, data: bytearray, seeds: Seeds) -> str:
    """Structure-aware: replace, drop, rename or copy a node of a JSON input."""
    try:
        value = json.loads(bytes(data))
    except (ValueError, RecursionError):
        return flip(rng, data, seeds)
    nodes: list[tuple[Any, Any]] = []
    _json_nodes(value, nodes)
    if not nodes:
        return flip(rng, data, seeds)
    container, key = rng.choice(nodes)
    choice = rng.randrange(4)
    if choice == 0:
        container[key] = rng.choice(_JSON_VALUES)
    elif choice == 1 and isinstance(container, dict):
        container[rng.choice(["type", "id", "name", "attrs", "parents", "__extn", "", str(key) * 2])] = (
            container.pop(key)
        )
    elif choice == 2:
        other, other_key = rng.choice(nodes)
        container[key] = other[other_key] if other is not container or other_key != key else None
    else:
        del container[key]
    try:
        data[:] = json.dumps(value).encode()
    except (ValueError, RecursionError):  # a node was copied into itself
        return "json_node(cycle)"
    return f"json_node{choice}@{key!r}"[:40]


_TOKEN_RE = re.compile(rb'"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*|[0-9]+|::|==|!=|<=|>=|&&|\|\||\S')


def token_swap(rng: random.Random, data: bytearray, seeds: Seeds) -> str:
    """Replace one token with a token of another seed (keeps inputs near-valid)."""
    tokens = list(_TOKEN_RE.finditer(data))
    other = _TOKEN_RE.findall(rng.choice(list(seeds.fragments())))
    if not tokens or not other:
        return insert(rng, data, seeds)
    tok = rng.choice(tokens)
    data[tok.start() : tok.end()] = rng.choice(other)
    return f"token_swap@{tok.start()}"


MUTATORS: tuple[tuple[Mutator, int], ...] = (
    (json_node, 5),
    (token_swap, 5),
    (flip, 6),
    (insert, 4),
    (delete, 4),
    (splice, 4),
    (duplicate, 2),
    (nest, 2),
    (huge_number, 2),
    (bad_utf8, 1),
    (truncate, 1),
)
_WEIGHTED = [m for m, w in MUTATORS for _ in range(w)]


@dataclass
class FuzzInput:
    index: int
    target: str
    case: Case
    data: str | bytes
    mutations: list[str]

    def describe(self) -> str:
        kind = "bytes" if isinstance(self.data, bytes) else "str"
        return f"#{self.index} {self.target} ({kind}, {len(self.data)} long): {', '.join(self.mutations)}"


def _contexts(case: Case) -> list[bytes]:
    """Context seeds: the requests' contexts and the entities' attribute records."""
    out = [json.dumps(r.get("context", {})).encode() for r in case.requests]
    assert case.parsed_entities is not None
    out += [json.dumps(e["attrs"]).encode() for e in case.parsed_entities.to_json() if e.get("attrs")]
    return out


def make_input(seeds: Seeds, run_seed: int, index: int) -> FuzzInput:
    """Input ``index`` of the run seeded ``run_seed``."""
    rng = random.Random(run_seed * 1_000_003 + index)
    target = TARGETS[index % len(TARGETS)]
    case_no = rng.randrange(len(seeds.cases))
    case = seeds.cases[case_no]
    if target == "context_json":
        data = bytearray(rng.choice(_contexts(case)))
    else:
        data = bytearray(seeds.by_target[target][case_no])
    if rng.random() < 0.5:  # one structure-aware change: gets past the parsers more often
        mild = json_node if target.endswith("_json") else rng.choice([token_swap, huge_number, duplicate])
        mutations = [mild(rng, data, seeds)]
    else:
        mutations = [rng.choice(_WEIGHTED)(rng, data, seeds) for _ in range(rng.choice([1, 1, 2, 3, 5]))]
    raw = bytes(data)
    value: str | bytes = raw if rng.random() < 0.5 else raw.decode("utf-8", "surrogateescape")
    return FuzzInput(index, target, case, value, mutations)


# ---------------------------------------------------------------------------- running


def _requests(case: Case, schema: Schema | None, context: Any = None) -> Iterator[Request]:
    for r in case.requests:
        yield Request(
            r["principal"],
            r["action"],
            r["resource"],
            r.get("context", {}) if context is None else context,
            schema=schema if r.get("validateRequest", True) else None,
        )


def _authorize(case: Case, policies: PolicySet, entities: Entities, schema: Schema | None) -> None:
    authorizer = Authorizer()
    for request in _requests(case, schema):
        authorizer.is_authorized(request, policies, entities)


def _use_policies(case: Case, ps: PolicySet) -> None:
    """Print, round-trip through JSON, validate and authorize a parsed policy set."""
    text = "\n".join(str(p) for p in (*ps.templates(), *ps.policies()))
    PolicySet.from_str(text)
    with recursion_headroom(DEEP_FRAMES):  # json.dumps of a deeply nested (valid) policy
        est_text = json.dumps(policy_set_to_json(ps))
    policy_set_from_json(est_text)
    assert case.parsed_schema is not None and case.parsed_entities is not None
    Validator(case.parsed_schema).validate(ps)
    _authorize(case, ps, case.parsed_entities, None)


def _use_schema(case: Case, schema: Schema) -> None:
    """Print a parsed schema both ways, re-read both, validate and load and authorize with it."""
    Schema.from_json(schema.to_json_str())
    Schema.from_str(schema.to_cedarschema())
    assert case.parsed_policies is not None
    Validator(schema).validate(case.parsed_policies)
    entities = Entities.from_json(case.entities, schema=schema)
    _authorize(case, case.parsed_policies, entities, schema)


def exercise(item: FuzzInput) -> None:
    """Every public API call for the input (CedarError from any step ends it)."""
    data, case = item.data, item.case
    if item.target == "policy_text":
        ps = PolicySet.from_str(data)
        format_policies(data)
        _use_policies(case, ps)
    elif item.target == "policy_json":
        _use_policies(case, policy_set_from_json(data))
    elif item.target == "entities_json":
        Entities.from_json(data)
        entities = Entities.from_json(data, schema=case.parsed_schema)
        entities.to_json()
        assert case.parsed_policies is not None
        _authorize(case, case.parsed_policies, entities, case.parsed_schema)
    elif item.target == "schema_text":
        _use_schema(case, Schema.from_str(data))
    elif item.target == "schema_json":
        _use_schema(case, Schema.from_json(data))
    else:
        assert item.target == "context_json"
        assert case.parsed_policies is not None and case.parsed_entities is not None
        authorizer = Authorizer()
        for request in _requests(case, case.parsed_schema, context=data):
            authorizer.is_authorized(request, case.parsed_policies, case.parsed_entities)


class _Timeout(BaseException):
    """Raised by the CPU-time alarm (a BaseException so that no ``except Exception`` eats it)."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Timeout


@contextmanager
def cpu_time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`_Timeout` once the process has used ``seconds`` more CPU time.

    CPU time (``ITIMER_PROF``) rather than wall time: the limit is about the input,
    not about how busy the machine is.
    """
    old = signal.signal(signal.SIGPROF, _on_alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)


@dataclass
class Outcome:
    item: FuzzInput
    seconds: float
    """CPU seconds the input took."""
    error: BaseException | None = None
    """An exception other than CedarError (or the timeout), if one escaped."""
    frames: tuple[str, ...] = ()
    """``file.py:function`` of each cedarlang frame the exception passed, outermost first."""

    @property
    def where(self) -> str:
        """The innermost cedarlang frame the exception came from."""
        return self.frames[-1] if self.frames else ""

    @property
    def timed_out(self) -> bool:
        return isinstance(self.error, _Timeout)

    @property
    def kind(self) -> str:
        if self.error is None:
            return "ok"
        if self.timed_out:
            return "timeout"
        return type(self.error).__name__


def _frames(error: BaseException) -> tuple[str, ...]:
    out = []
    for frame, _ in traceback.walk_tb(error.__traceback__):
        path = Path(frame.f_code.co_filename).resolve()
        if path.is_relative_to(_PACKAGE_DIR):
            out.append(f"{path.relative_to(_PACKAGE_DIR).as_posix()}:{frame.f_code.co_name}")
    return tuple(out)


def run_input(item: FuzzInput, limit: float = TIME_LIMIT) -> Outcome:
    start = time.process_time()
    error: BaseException | None = None
    try:
        with cpu_time_limit(limit), suppress(CedarError):
            exercise(item)
    except (Exception, _Timeout) as err:
        error = err
    seconds = time.process_time() - start
    outcome = Outcome(item, seconds, error, _frames(error) if error is not None else ())
    if error is None and seconds > limit:
        outcome.error = _Timeout()
    return outcome


# ---------------------------------------------------------------------------- a run


@dataclass
class Totals:
    inputs: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    unknown: list[Outcome] = field(default_factory=list)
    slowest: list[Outcome] = field(default_factory=list)
    """The five slowest inputs, slowest first."""

    @property
    def escaped(self) -> int:
        """Inputs where an exception other than CedarError escaped (timeouts not counted)."""
        return sum(n for kind, n in self.by_kind.items() if kind not in ("ok", "timeout"))

    @property
    def recursion_errors(self) -> int:
        return self.by_kind.get("RecursionError", 0)

    @property
    def over_limit(self) -> int:
        return self.by_kind.get("timeout", 0)

    def add(self, outcome: Outcome) -> None:
        self.inputs += 1
        self.by_kind[outcome.kind] = self.by_kind.get(outcome.kind, 0) + 1
        if len(self.slowest) < 5 or outcome.seconds > self.slowest[-1].seconds:
            self.slowest = sorted([*self.slowest, outcome], key=lambda o: -o.seconds)[:5]
        if outcome.error is not None:
            self.unknown.append(outcome)

    def summary(self) -> str:
        slow = self.slowest[0] if self.slowest else None
        lines = [
            f"inputs: {self.inputs}",
            f"exceptions outside CedarError: {self.escaped}",
            f"RecursionErrors: {self.recursion_errors}",
            f"inputs over {TIME_LIMIT:g} s CPU: {self.over_limit}",
            f"slowest input: {slow.seconds:.3f} s CPU, {slow.item.describe()}" if slow else "slowest: -",
            *(f"  next slowest: {o.seconds:.3f} s CPU, {o.item.describe()}" for o in self.slowest[1:]),
            f"unknown findings: {len(self.unknown)}",
        ]
        for o in self.unknown[:20]:
            lines.append(f"  {o.kind} at {o.where or '?'}: {str(o.error)[:120]!r} <- {o.item.describe()}")
        return "\n".join(lines)


def run(
    seeds: Seeds,
    run_seed: int,
    inputs: int,
    progress: Callable[[Totals], None] | None = None,
    found: Callable[[Outcome], None] | None = None,
) -> Totals:
    """Run inputs ``0 .. inputs-1``; ``progress`` every 1000, ``found`` for each unknown finding."""
    totals = Totals()
    for index in range(inputs):
        unknown = len(totals.unknown)
        totals.add(run_input(make_input(seeds, run_seed, index)))
        if found is not None and len(totals.unknown) > unknown:
            found(totals.unknown[-1])
        if progress is not None and (index + 1) % 1000 == 0:
            progress(totals)
    return totals
