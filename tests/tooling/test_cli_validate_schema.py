"""`cedar validate --validation-mode / --level` and `cedar translate-schema --direction`:
every flag and value the Rust CLI 4.12 has for these two commands
(cedar-policy-cli/src/command/validate.rs, translate_schema.rs; the resolved-types cases
follow cedar-policy-cli/tests/sample.rs ``test_translate_schema_with_resolved_types*``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cedarlang import Schema
from cedarlang.cli import main

REPO = Path(__file__).resolve().parents[2]

SCHEMA = """
entity Group { name: String };
entity User in [Group] { manager: User, team: Group, active: Bool };
action view appliesTo { principal: [User, Group], resource: User };
"""
DEEP = 'permit(principal, action, resource) when { resource.manager.team.name == "x" };\n'
#: valid only in permissive mode: when the principal is a Group, the `if` joins two entity types
PERMISSIVE_ONLY = 'permit(principal, action, resource) when { (if resource.active then resource else principal) in Group::"g" };\n'


def run(*args: str | Path, input: str | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


@pytest.fixture
def schema_file(tmp_path: Path) -> Path:
    path = tmp_path / "schema.cedarschema"
    path.write_text(SCHEMA)
    return path


def _policies(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policies.cedar"
    path.write_text(text)
    return path


# -- validate --level ---------------------------------------------------------------------


def test_validate_level(schema_file: Path, tmp_path: Path) -> None:
    policies = _policies(tmp_path, DEEP)
    assert run("validate", "-s", schema_file, "-p", policies).exit_code == 0
    passed = run("validate", "-s", schema_file, "-p", policies, "--level", "3")
    assert passed.exit_code == 0, passed.output
    assert "policy set validation passed" in passed.stdout
    failed = run("validate", "-s", schema_file, "-p", policies, "--level", "2")
    assert failed.exit_code == 3, failed.output
    assert "this policy requires level 3, which exceeds the maximum allowed level (2)" in failed.stdout
    assert "EntityDerefLevelViolation" in failed.stdout
    assert "policy set validation failed" in failed.stdout


def test_validate_level_zero_and_literals(schema_file: Path, tmp_path: Path) -> None:
    scope_only = _policies(tmp_path, 'permit(principal == User::"a", action, resource);\n')
    assert run("validate", "-s", schema_file, "-p", scope_only, "--level", "0").exit_code == 0
    literal = _policies(tmp_path, 'permit(principal, action, resource) when { User::"a".active };\n')
    result = run("validate", "-s", schema_file, "-p", literal, "--level", "5")
    assert result.exit_code == 3
    assert "entity literals cannot be dereferenced at any level" in result.stdout


@pytest.mark.parametrize("bad", ["-1", "two"])
def test_validate_level_usage_errors(schema_file: Path, tmp_path: Path, bad: str) -> None:
    result = run("validate", "-s", schema_file, "-p", _policies(tmp_path, DEEP), "--level", bad)
    assert result.exit_code == 2
    assert "--level" in result.output


# -- validate --validation-mode ------------------------------------------------------------


def test_validation_modes(schema_file: Path, tmp_path: Path) -> None:
    policies = _policies(tmp_path, PERMISSIVE_ONLY)
    strict = run("validate", "-s", schema_file, "-p", policies)
    assert strict.exit_code == 3 and "IncompatibleTypes" in strict.stdout
    assert run("validate", "-s", schema_file, "-p", policies, "--validation-mode", "strict").exit_code == 3
    permissive = run("validate", "-s", schema_file, "-p", policies, "--validation-mode", "permissive")
    assert permissive.exit_code == 0, permissive.output
    assert "policy set validation passed" in permissive.stdout


def test_validation_mode_with_level(schema_file: Path, tmp_path: Path) -> None:
    policies = _policies(tmp_path, PERMISSIVE_ONLY + DEEP)
    args: list[str | Path] = [
        "validate",
        "-s",
        schema_file,
        "-p",
        policies,
        "--validation-mode",
        "permissive",
    ]
    assert run(*args, "--level", "3").exit_code == 0
    assert run(*args, "--level", "2").exit_code == 3


def test_validation_mode_partial_is_not_built(schema_file: Path, tmp_path: Path) -> None:
    result = run(
        "validate", "-s", schema_file, "-p", _policies(tmp_path, DEEP), "--validation-mode", "partial"
    )
    assert result.exit_code == 1
    assert "`--validation-mode partial`" in result.stderr
    assert "partial-validate" in result.stderr


def test_validation_mode_unknown(schema_file: Path, tmp_path: Path) -> None:
    result = run(
        "validate", "-s", schema_file, "-p", _policies(tmp_path, DEEP), "--validation-mode", "lenient"
    )
    assert result.exit_code == 2


# -- translate-schema --direction ----------------------------------------------------------

TINYTODO = REPO / "tinytodo" / "tinytodo.cedarschema"


def test_translate_schema_every_direction(tmp_path: Path) -> None:
    as_json = run("translate-schema", "--direction", "cedar-to-json", "-s", TINYTODO)
    assert as_json.exit_code == 0, as_json.output
    json_file = tmp_path / "schema.json"
    json_file.write_text(as_json.stdout)
    back = run("translate-schema", "--direction", "json-to-cedar", "-s", json_file)
    assert back.exit_code == 0, back.output
    assert Schema.from_str(back.stdout) == Schema.from_str(TINYTODO.read_text())
    resolved = run("translate-schema", "--direction", "cedar-to-json-with-resolved-types", "-s", TINYTODO)
    assert resolved.exit_code == 0, resolved.output
    data = json.loads(resolved.stdout)
    assert "EntityOrCommon" not in resolved.stdout
    assert "EntityOrCommon" in as_json.stdout  # the plain translation keeps the ambiguity
    for name in ("List", "User", "Team", "Application"):
        assert name in json.dumps(data)
    assert Schema.from_json(data) == Schema.from_str(TINYTODO.read_text())


def test_translate_schema_resolved_types_stdin() -> None:
    result = run(
        "translate-schema",
        "--direction",
        "cedar-to-json-with-resolved-types",
        input='entity User; action "view"; entity Doc { owner: User, n: Long };',
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data[""]["entityTypes"]["Doc"]["shape"]["attributes"] == {
        "owner": {"type": "Entity", "name": "User"},
        "n": {"type": "Long"},
    }


def test_translate_schema_resolved_types_invalid_input() -> None:
    result = run(
        "translate-schema", "--direction", "cedar-to-json-with-resolved-types", input="invalid cedar syntax {"
    )
    assert result.exit_code == 1
    assert result.stderr


def test_translate_schema_resolved_types_warnings() -> None:
    result = run(
        "translate-schema", "--direction", "cedar-to-json-with-resolved-types", input="entity String;\n"
    )
    assert result.exit_code == 0
    json.loads(result.stdout)
    assert "The name `String` shadows a builtin Cedar name" in result.stderr


def test_translate_schema_resolved_types_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent-file.cedarschema"
    result = run("translate-schema", "--direction", "cedar-to-json-with-resolved-types", "-s", missing)
    assert result.exit_code == 1
    assert "nonexistent-file.cedarschema" in result.stderr


def test_translate_schema_resolved_types_unresolvable() -> None:
    result = run(
        "translate-schema",
        "--direction",
        "cedar-to-json-with-resolved-types",
        input='entity User = { "manager": Manager };\naction "view";\n',
    )
    assert result.exit_code == 1
    assert "Manager" in result.stderr


def test_translate_schema_unknown_direction() -> None:
    assert run("translate-schema", "--direction", "json-to-json", input="{}").exit_code == 2
