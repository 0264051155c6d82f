"""Run one (schema, policies) case through cedarlang's validator and through cedarpy (Rust)."""

from __future__ import annotations

from dataclasses import dataclass

import cedarpy

from cedarlang import PolicySet, Schema
from cedarlang.errors import CedarError
from cedarlang.validator import Validator


@dataclass(frozen=True)
class Outcome:
    """``passed`` and the ids of policies with errors; ``rejected`` if the input did not parse."""

    passed: bool
    failing: frozenset[str]
    rejected: bool = False
    detail: str = ""


def rust_outcome(schema_text: str, policy_text: str) -> Outcome:
    r = cedarpy.validate_policies(policy_text, schema_text)
    ids = frozenset(e.policy_id for e in r.errors)
    detail = "\n".join(f"  {e.policy_id}: {e.error}" for e in r.errors)
    if "" in ids:  # parse errors (policies or schema) have no policy id
        return Outcome(False, frozenset(), True, detail)
    return Outcome(r.validation_passed, ids, False, detail)


def python_outcome(schema_text: str, policy_text: str) -> Outcome:
    try:
        schema = Schema.from_str(schema_text)
        pset = PolicySet.from_str(policy_text)
    except CedarError as err:
        return Outcome(False, frozenset(), True, str(err))
    result = Validator(schema).validate(pset)
    detail = "\n".join(f"  {e.policy_id}: [{e.kind}] {e.message}" for e in result.errors)
    return Outcome(result.passed, frozenset(result.policy_ids_with_errors()), False, detail)


def agree(a: Outcome, b: Outcome) -> bool:
    if a.rejected or b.rejected:
        return a.rejected == b.rejected
    return a.passed == b.passed and a.failing == b.failing


def describe(schema_text: str, policy_text: str, ours: Outcome, rust: Outcome) -> str:
    return (
        f"schema:\n{schema_text}\npolicies:\n{policy_text}\n"
        f"cedarlang: passed={ours.passed} failing={sorted(ours.failing)} rejected={ours.rejected}\n{ours.detail}\n"
        f"cedarpy:   passed={rust.passed} failing={sorted(rust.failing)} rejected={rust.rejected}\n{rust.detail}\n"
    )
