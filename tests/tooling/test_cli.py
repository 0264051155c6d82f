"""The `cedar` command line: every command's success, failure, exit code and messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import cedarlang
from cedarlang.cli import main

from .conftest import CONFORMANCE, needs_conformance

POLICIES = """@id("view")
permit(principal == User::"alice", action == Action::"view", resource) when { resource.public };
permit(principal == ?principal, action, resource);
forbid(principal, action, resource) when { principal.banned };
"""
ENTITIES: list[dict[str, Any]] = [
    {"uid": {"type": "Photo", "id": "1"}, "attrs": {"public": True}, "parents": []},
    {"uid": {"type": "User", "id": "alice"}, "attrs": {}, "parents": []},
    {"uid": {"type": "User", "id": "eve"}, "attrs": {"banned": True}, "parents": []},
]
SCHEMA = """entity User { banned?: Bool };
entity Photo { public: Bool };
action view appliesTo { principal: User, resource: Photo, context: { mfa?: Bool } };
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "policies": tmp_path / "policies.cedar",
        "entities": tmp_path / "entities.json",
        "schema": tmp_path / "schema.cedarschema",
        "bad": tmp_path / "bad.cedar",
        "context": tmp_path / "context.json",
        "request": tmp_path / "request.json",
    }
    paths["policies"].write_text(POLICIES)
    paths["entities"].write_text(json.dumps(ENTITIES))
    paths["schema"].write_text(SCHEMA)
    paths["bad"].write_text("permit(principal, action, resource) when { principal.x == };\n")
    paths["context"].write_text('{"mfa": true}')
    paths["request"].write_text(
        json.dumps(
            {
                "principal": 'User::"alice"',
                "action": {"type": "Action", "id": "view"},
                "resource": 'Photo::"1"',
                "context": {},
            }
        )
    )
    return paths


def run(*args: str | Path, input: str | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def request_args(principal: str = 'User::"alice"') -> list[str]:
    return ["-l", principal, "-a", 'Action::"view"', "-r", 'Photo::"1"']


# -- authorize ---------------------------------------------------------------


def test_authorize_allow(files: dict[str, Path]) -> None:
    result = run("authorize", "-p", files["policies"], "--entities", files["entities"], *request_args())
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "ALLOW"
    assert "  view" in result.stdout.splitlines()  # the @id("view") policy, named as Rust's CLI names it


def test_authorize_deny_with_reason_and_error(files: dict[str, Path]) -> None:
    result = run(
        "authorize", "-p", files["policies"], "--entities", files["entities"], *request_args('User::"eve"')
    )
    assert result.exit_code == 2
    assert result.stdout.splitlines()[0] == "DENY"
    assert "policy2" in result.stdout


def test_authorize_reports_evaluation_errors(files: dict[str, Path]) -> None:
    result = run(
        "authorize", "-p", files["policies"], "--entities", files["entities"], *request_args('User::"bob"')
    )
    assert result.exit_code == 2
    assert "error while evaluating policy `policy2`" in result.stdout


def test_authorize_verbose_says_no_policy_applied(files: dict[str, Path]) -> None:
    entities = [e for e in ENTITIES if e["uid"]["id"] != "eve"] + [
        {"uid": {"type": "User", "id": "bob"}, "attrs": {"banned": False}, "parents": []}
    ]
    files["entities"].write_text(json.dumps(entities))
    result = run(
        "authorize",
        "-p",
        files["policies"],
        "--entities",
        files["entities"],
        *request_args('User::"bob"'),
        "-v",
    )
    assert result.exit_code == 2
    assert "no policies applied" in result.stdout


def test_authorize_with_schema_context_and_request_json(files: dict[str, Path]) -> None:
    result = run(
        "authorize",
        "-p",
        files["policies"],
        "--entities",
        files["entities"],
        "-s",
        files["schema"],
        *request_args(),
        "-c",
        files["context"],
    )
    assert result.exit_code == 0, result.output
    result = run(
        "authorize",
        "-p",
        files["policies"],
        "--entities",
        files["entities"],
        "--request-json",
        files["request"],
    )
    assert result.exit_code == 0, result.output


def test_authorize_request_rejected_by_schema(files: dict[str, Path]) -> None:
    files["context"].write_text('{"mfa": "yes"}')
    result = run(
        "authorize",
        "-p",
        files["policies"],
        "--entities",
        files["entities"],
        "-s",
        files["schema"],
        *request_args(),
        "-c",
        files["context"],
    )
    assert result.exit_code == 1
    assert "error" in result.stderr


def test_authorize_template_linked(files: dict[str, Path], tmp_path: Path) -> None:
    links = tmp_path / "links.json"
    links.write_text(
        json.dumps([{"template_id": "policy1", "link_id": "bob-link", "args": {"?principal": 'User::"bob"'}}])
    )
    entities = [*ENTITIES, {"uid": {"type": "User", "id": "bob"}, "attrs": {"banned": False}, "parents": []}]
    files["entities"].write_text(json.dumps(entities))
    result = run(
        "authorize",
        "-p",
        files["policies"],
        "--entities",
        files["entities"],
        "-k",
        links,
        *request_args('User::"bob"'),
    )
    assert result.exit_code == 0, result.output
    assert "bob-link" in result.stdout


def test_authorize_parse_error_shows_caret(files: dict[str, Path]) -> None:
    result = run("authorize", "-p", files["bad"], "--entities", files["entities"], *request_args())
    assert result.exit_code == 1
    assert "bad.cedar:1:" in result.stderr
    assert "^" in result.stderr


def test_authorize_failures(files: dict[str, Path]) -> None:
    result = run("authorize", "-p", files["policies"], "--entities", files["entities"], "-l", 'User::"alice"')
    assert result.exit_code == 1 and "action" in result.stderr
    result = run("authorize", "-p", files["policies"], "--entities", "missing.json", *request_args())
    assert result.exit_code == 1 and "missing.json" in result.stderr
    result = run(
        "authorize", "-p", files["policies"], "--entities", files["entities"], *request_args("nonsense")
    )
    assert result.exit_code == 1 and "principal" in result.stderr
    result = run("authorize", "-p", files["policies"], *request_args())
    assert result.exit_code == 2  # click usage error: --entities is required


def test_authorize_json_policies(files: dict[str, Path], tmp_path: Path) -> None:
    policy_json = tmp_path / "policies.json"
    result = run("translate-policy", "--direction", "cedar-to-json", "-p", files["policies"])
    policy_json.write_text(result.stdout)
    result = run(
        "authorize",
        "-p",
        policy_json,
        "--policy-format",
        "json",
        "--entities",
        files["entities"],
        *request_args(),
    )
    assert result.exit_code == 0, result.output


# -- evaluate ----------------------------------------------------------------


def test_evaluate(files: dict[str, Path]) -> None:
    result = run(
        "evaluate", "--entities", files["entities"], *request_args(), '[resource.public, 1 + 2, "a"]'
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == '["a", 3, true]'
    assert run("evaluate", "principal == principal", "-l", 'User::"x"').stdout.strip() == "true"


def test_evaluate_failures(files: dict[str, Path]) -> None:
    result = run("evaluate", "1 +")
    assert result.exit_code == 1 and "^" in result.stderr
    result = run("evaluate", "1 + true")
    assert result.exit_code == 1 and "evaluate" in result.stderr
    result = run("evaluate", "principal.name")
    assert result.exit_code == 1 and "--principal" in result.stderr


# -- validate ----------------------------------------------------------------

validator_available = pytest.mark.skipif(not hasattr(cedarlang, "Validator"), reason="no cedarlang.Validator")


@validator_available
def test_validate_pass_and_fail(files: dict[str, Path]) -> None:
    ok = files["policies"].parent / "ok.cedar"
    ok.write_text('permit(principal, action == Action::"view", resource) when { resource.public };')
    result = run("validate", "-s", files["schema"], "-p", ok)
    assert result.exit_code == 0, result.output
    assert "validation passed" in result.stdout
    bad = files["policies"].parent / "invalid.cedar"
    bad.write_text('permit(principal, action == Action::"view", resource) when { resource.nope };')
    result = run("validate", "-s", files["schema"], "-p", bad)
    assert result.exit_code == 3
    assert "validation failed" in result.stdout
    assert "nope" in result.stdout


def test_validate_failure_on_bad_schema(files: dict[str, Path]) -> None:
    files["schema"].write_text("entity")
    result = run("validate", "-s", files["schema"], "-p", files["policies"])
    assert result.exit_code == 1


# -- check-parse -------------------------------------------------------------


def test_check_parse(files: dict[str, Path]) -> None:
    assert run("check-parse", "-p", files["policies"]).exit_code == 0
    result = run("check-parse", "-p", files["bad"])
    assert result.exit_code == 1
    assert "unexpected token" in result.stderr and "^" in result.stderr
    assert run("check-parse", input=POLICIES).exit_code == 0


def test_json_error_format(files: dict[str, Path]) -> None:
    result = run("--error-format", "json", "check-parse", "-p", files["bad"])
    assert result.exit_code == 1
    error = json.loads(result.stderr.splitlines()[0])
    assert error["line"] == 1 and error["file"].endswith("bad.cedar")


# -- format ------------------------------------------------------------------


def test_format_stdout_check_and_write(files: dict[str, Path]) -> None:
    result = run("format", "-p", files["policies"])
    assert result.exit_code == 0
    assert result.stdout.startswith('@id("view")\npermit (\n')
    assert run("format", "-p", files["policies"], "--check").exit_code == 1
    assert run("format", "-p", files["policies"], "--write").exit_code == 0
    assert files["policies"].read_text() == result.stdout
    assert run("format", "-p", files["policies"], "--check").exit_code == 0
    narrow = run("format", "-p", files["policies"], "-l", "30", "-i", "4")
    assert narrow.exit_code == 0 and "\n    principal" in narrow.stdout


def test_format_failures(files: dict[str, Path]) -> None:
    result = run("format", "-p", files["bad"])
    assert result.exit_code == 1 and "^" in result.stderr
    assert run("format", "--write", input=POLICIES).exit_code == 1
    assert run("format", "-p", files["policies"], "--write", "--check").exit_code == 1


# -- link --------------------------------------------------------------------


def test_link(files: dict[str, Path], tmp_path: Path) -> None:
    links = tmp_path / "links.json"
    args = json.dumps({"?principal": 'User::"bob"'})
    result = run(
        "link", "-p", files["policies"], "-k", links, "--template-id", "policy1", "-n", "l1", "-a", args
    )
    assert result.exit_code == 0, result.output
    assert (
        'Template-linked policy added: permit(principal == User::"bob", action, resource);' in result.stdout
    )
    assert json.loads(links.read_text()) == [
        {"template_id": "policy1", "link_id": "l1", "args": {"?principal": 'User::"bob"'}}
    ]
    result = run(
        "link", "-p", files["policies"], "-k", links, "--template-id", "policy1", "-n", "l2", "-a", args
    )
    assert result.exit_code == 0
    assert len(json.loads(links.read_text())) == 2
    # duplicate id, unknown template, bad arguments
    assert (
        run(
            "link", "-p", files["policies"], "-k", links, "--template-id", "policy1", "-n", "l1", "-a", args
        ).exit_code
        == 1
    )
    assert (
        run(
            "link", "-p", files["policies"], "-k", links, "--template-id", "nope", "-n", "x", "-a", args
        ).exit_code
        == 1
    )
    result = run(
        "link", "-p", files["policies"], "-k", links, "--template-id", "policy1", "-n", "x", "-a", "{"
    )
    assert result.exit_code == 1 and "JSON" in result.stderr


# -- translate ---------------------------------------------------------------


def test_translate_policy_both_ways(files: dict[str, Path], tmp_path: Path) -> None:
    result = run("translate-policy", "--direction", "cedar-to-json", "-p", files["policies"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert set(data["staticPolicies"]) == {"view", "policy2"} and set(data["templates"]) == {"policy1"}
    as_json = tmp_path / "p.json"
    as_json.write_text(result.stdout)
    back = run("translate-policy", "--direction", "json-to-cedar", "-p", as_json)
    assert back.exit_code == 0
    again = json.loads(run("translate-policy", "--direction", "cedar-to-json", input=back.stdout).stdout)

    def bodies(d: dict[str, Any]) -> list[str]:  # positional ids follow the printed order
        return sorted(
            json.dumps(p, sort_keys=True)
            for part in ("templates", "staticPolicies")
            for p in d[part].values()
        )

    assert bodies(again) == bodies(data)


def test_translate_policy_failures(files: dict[str, Path], tmp_path: Path) -> None:
    assert run("translate-policy", "--direction", "cedar-to-json", "-p", files["bad"]).exit_code == 1
    linked = tmp_path / "linked.json"
    data = json.loads(run("translate-policy", "--direction", "cedar-to-json", "-p", files["policies"]).stdout)
    data["templateLinks"] = [
        {"templateId": "policy1", "newId": "l", "values": {"?principal": {"type": "U", "id": "u"}}}
    ]
    linked.write_text(json.dumps(data))
    result = run("translate-policy", "--direction", "json-to-cedar", "-p", linked)
    assert result.exit_code == 1 and "template linked" in result.stderr
    assert run("translate-policy", "--direction", "json-to-cedar", input="{").exit_code == 1
    assert run("translate-policy", "--direction", "sideways", input="").exit_code == 2


def test_translate_schema_both_ways(files: dict[str, Path], tmp_path: Path) -> None:
    result = run("translate-schema", "--direction", "cedar-to-json", "-s", files["schema"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert "Photo" in data[""]["entityTypes"]
    as_json = tmp_path / "schema.json"
    as_json.write_text(result.stdout)
    back = run("translate-schema", "--direction", "json-to-cedar", "-s", as_json)
    assert back.exit_code == 0 and "entity Photo" in back.stdout
    assert run("translate-schema", "--direction", "cedar-to-json", input="entity").exit_code == 1


# -- run-tests ---------------------------------------------------------------


def test_run_tests_rust_format(files: dict[str, Path], tmp_path: Path) -> None:
    tests = tmp_path / "tests.json"
    request = {
        "principal": 'User::"alice"',
        "action": 'Action::"view"',
        "resource": 'Photo::"1"',
        "context": {},
    }
    tests.write_text(
        json.dumps(
            [
                {
                    "name": "alice views",
                    "request": request,
                    "entities": ENTITIES,
                    "decision": "allow",
                    "reason": ["view"],
                    "num_errors": 1,
                },
                {
                    "name": "wrong",
                    "request": request,
                    "entities": ENTITIES,
                    "decision": "deny",
                    "reason": [],
                    "num_errors": 0,
                },
            ]
        )
    )
    result = run("run-tests", "--tests", tests, "-p", files["policies"])
    assert result.exit_code == 1
    assert "test alice views ... ok" in result.stdout
    assert "test wrong ... fail" in result.stdout
    assert result.stdout.splitlines()[-1] == "1 passed, 1 failed"


@needs_conformance
def test_run_tests_conformance_subset() -> None:
    result = run("run-tests", "--conformance", CONFORMANCE / "tests")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "74 passed, 0 failed"


def test_run_tests_reports_failures(tmp_path: Path) -> None:
    (tmp_path / "p.cedar").write_text("permit(principal, action, resource);")
    (tmp_path / "e.json").write_text("[]")
    (tmp_path / "s.cedarschema").write_text("entity U; action a appliesTo { principal: U, resource: U };")
    request = {
        "description": "d",
        "principal": {"type": "U", "id": "x"},
        "action": {"type": "Action", "id": "a"},
        "resource": {"type": "U", "id": "y"},
        "context": {},
        "decision": "deny",
        "reason": [],
        "errors": [],
    }
    (tmp_path / "t.json").write_text(
        json.dumps(
            {
                "policies": "p.cedar",
                "entities": "e.json",
                "schema": "s.cedarschema",
                "shouldValidate": True,
                "requests": [request],
            }
        )
    )
    result = run("run-tests", "--conformance", tmp_path)
    assert result.exit_code == 1
    assert "FAIL t.json [d]" in result.stdout
    assert result.stdout.splitlines()[-1] == "0 passed, 1 failed"
    assert run("run-tests").exit_code == 1


# -- the installed program -----------------------------------------------------


def test_help_and_version() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for command in (
        "authorize",
        "evaluate",
        "validate",
        "check-parse",
        "format",
        "link",
        "translate-policy",
        "translate-schema",
        "run-tests",
    ):
        assert command in result.stdout
    assert run("--version").exit_code == 0


@needs_conformance
def test_subprocess_smoke_run_tests_whole_conformance() -> None:
    """`cedar run-tests` over all the conformance data, as an installed program (piped: no colour)."""
    cedar = Path(sys.executable).with_name("cedar")
    command = [str(cedar)] if cedar.exists() else [sys.executable, "-m", "cedarlang.cli"]
    proc = subprocess.run(
        [*command, "run-tests", "--conformance", str(CONFORMANCE)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stdout.splitlines()[-1] == "62546 passed, 0 failed"
    assert "\x1b[" not in proc.stdout
