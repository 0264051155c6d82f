"""Rust's own TPE examples, through the API and the ``cedar tpe`` CLI.

* ``data/tpe_rfc/`` is ``cedar-policy-cli/sample-data/tpe_rfc/`` of cedar-policy/cedar
  (the RFC 95 example). The expected outputs are those of ``cedar-policy-cli/tests/sample.rs``:
  ``test_tpe`` (UNKNOWN, exit 4, the three residuals; DENY, exit 2, for ``Delete`` with
  the context), ``test_tpe_link`` (a linked template's slot becomes its value) and
  ``test_tpe_invalid_policies`` (a policy that does not validate: exit 1).
* ``rfc_example`` and ``tinytodo::run`` are the unit tests of
  ``cedar-policy-core/src/tpe.rs``: the residuals' shapes and how the policies are sorted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cedarlang import Decision, PolicySet, Schema
from cedarlang.cli import main
from cedarlang.errors import TpePolicyValidationError
from cedarlang.tpe import (
    PartialEntities,
    PartialEntity,
    PartialEntityUid,
    PartialRequest,
    residual_policy_text,
    tpe,
)
from cedarlang.values import EntityUid

RFC = Path(__file__).parent / "data" / "tpe_rfc"

# sample.rs, test_tpe: `contains_residuals`
RFC_RESIDUALS = (
    "permit(principal, action, resource) when { resource.isPublic };",
    "permit(principal, action, resource) when { false };",
    'permit(principal, action, resource) when { context.hasMFA && (resource.owner == User::"Alice") };',
)


def rfc_schema() -> Schema:
    return Schema.from_str((RFC / "schema.cedarschema").read_text())


def rfc_policies() -> PolicySet:
    return PolicySet.from_str((RFC / "policies.cedar").read_text())


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["tpe", *(str(a) for a in args)])


def rfc_files() -> list[str | Path]:
    return [
        "-p",
        RFC / "policies.cedar",
        "--entities",
        RFC / "entities.json",
        "-s",
        RFC / "schema.cedarschema",
    ]


# -- the API -----------------------------------------------------------------------------


def test_rfc_sample_api() -> None:
    schema = rfc_schema()
    request = PartialRequest(
        PartialEntityUid("User", "Alice"), 'Action::"View"', PartialEntityUid("Document"), None, schema
    )
    entities = PartialEntities.from_json((RFC / "entities.json").read_text(), schema)
    response = tpe(rfc_policies(), request, entities, schema)
    assert response.decision is None
    assert sorted(residual_policy_text(p) for p in response.policies()) == sorted(RFC_RESIDUALS)
    assert sorted(str(p) for p in response.policies()) == sorted(RFC_RESIDUALS)
    assert response.residual_permits == {"policy0", "policy1"}
    assert response.false_permits == {"policy2"}
    assert not (response.true_permits | response.true_forbids | response.residual_forbids)
    assert [p.id for p in response.residual_policies()] == ["policy0", "policy1"]


def test_rfc_sample_api_with_context_is_decided() -> None:
    schema = rfc_schema()
    context = json.loads((RFC / "context.json").read_text())
    request = PartialRequest(
        PartialEntityUid("User", "Alice"), 'Action::"Delete"', PartialEntityUid("Document"), context, schema
    )
    entities = PartialEntities.from_json((RFC / "entities.json").read_text(), schema)
    response = tpe(rfc_policies(), request, entities, schema)
    assert response.decision is Decision.DENY
    assert response.reason == frozenset()


def test_rfc_example_core_unit_test() -> None:
    """tpe.rs ``rfc_example``: policies with ``@id`` annotations, context ``hasMFA: true``."""
    schema = rfc_schema()
    text = (RFC / "policies.cedar").read_text()
    policies = PolicySet()
    for i, chunk in enumerate(text.split(";")[:3]):
        policies.add(f'@id("{i}")\n{chunk};', f"p{i}")
    request = PartialRequest(
        'User::"Alice"', 'Action::"View"', PartialEntityUid("Document"), {"hasMFA": True}, schema
    )
    alice = PartialEntity(EntityUid("User", "Alice"), {}, (), None)
    response = tpe(policies, request, PartialEntities.from_entities([alice], schema), schema)
    texts = {rp.id: str(rp) for rp in response.residuals.values()}
    assert texts == {
        "p0": '@id("0")\npermit(principal, action, resource) when { resource.isPublic };',
        "p1": '@id("1")\npermit(principal, action, resource) when { resource.owner == User::"Alice" };',
        "p2": '@id("2")\npermit(principal, action, resource) when { false };',
    }


TINYTODO_SCHEMA = """
type Task = { "id": Long, "name": String, "state": String };
type Tasks = Set<Task>;
entity List in [Application] = {
  "editors": Team, "name": String, "owner": User, "readers": Team, "tasks": Tasks,
};
entity Application enum ["TinyTodo"];
entity User in [Team, Application] = { "joblevel": Long, "location": String };
entity Team in [Team, Application];
action DeleteList, GetList, UpdateList appliesTo { principal: [User], resource: [List] };
action CreateList, GetLists appliesTo { principal: [User], resource: [Application] };
action CreateTask, UpdateTask, DeleteTask appliesTo { principal: [User], resource: [List] };
action EditShare appliesTo { principal: [User], resource: [List] };
"""

TINYTODO_POLICIES = """
permit (principal, action in [Action::"CreateList", Action::"GetLists"], resource == Application::"TinyTodo");
permit (principal, action, resource is List) when { resource.owner == principal };
permit (principal, action == Action::"GetList", resource)
when { principal in resource.readers || principal in resource.editors };
permit (principal,
  action in [Action::"UpdateList", Action::"CreateTask", Action::"UpdateTask", Action::"DeleteTask"],
  resource)
when { principal in resource.editors };
"""


def test_tinytodo_core_unit_test() -> None:
    """tpe.rs ``tinytodo::run``: which policies are false, which residual, and the residuals."""
    schema = Schema.from_str(TINYTODO_SCHEMA)
    request = PartialRequest('User::"aaron"', 'Action::"GetList"', PartialEntityUid("List"), {}, schema)
    entities = PartialEntities.from_json(
        [{"uid": {"type": "User", "id": "aaron"}, "parents": [{"type": "Application", "id": "TinyTodo"}]}],
        schema,
    )
    response = tpe(PolicySet.from_str(TINYTODO_POLICIES), request, entities, schema)
    assert response.false_permits == {"policy0", "policy3"}
    assert response.residual_permits == {"policy1", "policy2"}
    assert not (
        response.true_permits | response.true_forbids | response.false_forbids | response.residual_forbids
    )
    assert response.decision is None
    assert [residual_policy_text(p) for p in response.residual_policies()] == [
        'permit(principal, action, resource) when { resource.owner == User::"aaron" };',
        "permit(principal, action, resource) when "
        '{ (User::"aaron" in resource.readers) || (User::"aaron" in resource.editors) };',
    ]


def test_linked_template_api() -> None:
    """sample.rs ``test_tpe_link``: the slot is substituted in the residual."""
    schema = rfc_schema()
    policies = PolicySet()
    policies.add_template(
        'permit (principal == ?principal, action == Action::"View", resource) when { resource.isPublic };',
        "ViewTemplate",
    )
    policies.link("ViewTemplate", "AliceView", {"?principal": 'User::"Alice"'})
    entities = PartialEntities.from_json((RFC / "entities.json").read_text(), schema)

    def run(principal: str | None) -> str | Decision:
        request = PartialRequest(
            PartialEntityUid("User", principal), 'Action::"View"', PartialEntityUid("Document"), None, schema
        )
        response = tpe(policies, request, entities, schema)
        if response.decision is not None:
            return response.decision
        return "\n".join(residual_policy_text(p) for p in response.residual_policies())

    assert run(None) == (
        'permit(principal, action, resource) when { (principal == User::"Alice") && resource.isPublic };'
    )
    assert run("Alice") == "permit(principal, action, resource) when { resource.isPublic };"
    assert run("Bob") is Decision.DENY


# -- the CLI -----------------------------------------------------------------------------


def test_cli_unknown_prints_residuals_exit_4() -> None:
    args = ["--principal-type", "User", "--principal-eid", "Alice", "-a", 'Action::"View"']
    result = cli(*args, "--resource-type", "Document", *rfc_files())
    assert result.exit_code == 4, result.output
    lines = result.output.splitlines()
    assert lines[:3] == ["", "UNKNOWN", "All policy residuals:"]
    assert sorted(lines[3:]) == sorted(RFC_RESIDUALS)


def test_cli_deny_exit_2() -> None:
    args = ["--principal-type", "User", "--principal-eid", "Alice", "-a", 'Action::"Delete"']
    result = cli(*args, "--resource-type", "Document", "--context", RFC / "context.json", *rfc_files())
    assert result.exit_code == 2, result.output
    assert result.output == "\nDENY\n"


def test_cli_request_json() -> None:
    result = cli("--request-json", RFC / "request.json", *rfc_files())
    assert result.exit_code == 4, result.output
    assert sorted(result.output.splitlines()[3:]) == sorted(RFC_RESIDUALS)


def test_cli_linked_template_allow(tmp_path: Path) -> None:
    (tmp_path / "t.cedar").write_text(
        '@id("ViewTemplate")\npermit (principal == ?principal, action == Action::"View", resource)\n'
        "when { resource.isPublic };"
    )
    (tmp_path / "links.json").write_text(
        json.dumps(
            # (the template's id is its @id, as in Rust's CLI)
            [{"template_id": "ViewTemplate", "link_id": "AliceView", "args": {"?principal": 'User::"Alice"'}}]
        )
    )
    (tmp_path / "e.json").write_text(
        json.dumps(
            [
                {
                    "uid": {"type": "Document", "id": "public"},
                    "attrs": {"isPublic": True, "owner": {"__entity": {"type": "User", "id": "Alice"}}},
                    "parents": [],
                }
            ]
        )
    )
    base = ["--principal-type", "User", "-a", 'Action::"View"', "--resource-type", "Document"]
    files: list[str | Path] = [
        "-p",
        tmp_path / "t.cedar",
        "-k",
        tmp_path / "links.json",
        "-s",
        RFC / "schema.cedarschema",
    ]
    result = cli(*base, *files, "--entities", RFC / "entities.json")
    assert result.exit_code == 4, result.output
    assert 'when { (principal == User::"Alice") && resource.isPublic };' in result.output
    result = cli(
        *base,
        "--principal-eid",
        "Alice",
        "--resource-eid",
        "public",
        *files,
        "--entities",
        tmp_path / "e.json",
    )
    assert result.exit_code == 0, result.output
    assert result.output == "\nALLOW\n"


def test_cli_invalid_policy_exit_1(tmp_path: Path) -> None:
    """sample.rs ``test_tpe_invalid_policies``: the validator's error, with its span."""
    bad = tmp_path / "bad.cedar"
    bad.write_text('permit ( principal, action == Action::"View", resource) when { resource.nonexistent };\n')
    args = ["--principal-type", "User", "--principal-eid", "Alice", "-a", 'Action::"View"', "--resource-type"]
    result = cli(
        *args, "Document", "-p", bad, "--entities", RFC / "entities.json", "-s", RFC / "schema.cedarschema"
    )
    assert result.exit_code == 1
    assert "attribute `nonexistent` on entity type `Document` not found" in result.output
    assert "did you mean `owner`?" in result.output
    assert "Traceback" not in result.output


def test_invalid_policy_api_error_carries_diagnostics() -> None:
    schema = rfc_schema()
    request = PartialRequest('User::"Alice"', 'Action::"View"', PartialEntityUid("Document"), None, schema)
    policies = PolicySet.from_str("permit (principal, action, resource) when { resource.nonexistent };")
    with pytest.raises(TpePolicyValidationError) as info:
        tpe(policies, request, PartialEntities.from_json([], schema), schema)
    assert info.value.diagnostics[0].kind == "UnsafeAttributeAccess"
    assert "^^^" in info.value.render()


def test_cli_missing_request_part_exit_1() -> None:
    result = cli("--principal-type", "User", "--resource-type", "Document", *rfc_files())
    assert result.exit_code == 1
    assert "action must be specified" in result.output
