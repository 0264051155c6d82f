"""Every flag of Rust's ``cedar`` CLI 4.12 (but `symcc`, `tpe`, `partially-authorize` and the
level-validation flags), one test each or per group, named in ``docs/cli-parity.md``; and
``@id`` as the policy id: authorize reports it, link and run-tests use it."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from cedarlang.cli import main

DATA = Path(__file__).parent / "data" / "id_annotations"
DOC = Path(__file__).parents[2] / "docs" / "cli-parity.md"

POLICIES = """@id("owner-rule")
permit(principal, action == Action::"view", resource) when { resource.owner == principal };
@id("reader-template")
permit(principal == ?principal, action == Action::"view", resource);
forbid(principal, action, resource) when { principal.banned };
"""
SCHEMA = """entity User { banned: Bool };
entity Photo { owner: User };
action view appliesTo { principal: User, resource: Photo, context: { mfa?: Bool } };
"""
ENTITIES: list[dict[str, Any]] = [
    {"uid": {"type": "User", "id": "alice"}, "attrs": {"banned": False}, "parents": []},
    {"uid": {"type": "User", "id": "bob"}, "attrs": {"banned": False}, "parents": []},
    {
        "uid": {"type": "Photo", "id": "p"},
        "attrs": {"owner": {"__entity": {"type": "User", "id": "alice"}}},
        "parents": [],
    },
]


def run(*args: object, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], input=input, env=env)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "policies": tmp_path / "policies.cedar",
        "schema": tmp_path / "schema.cedarschema",
        "entities": tmp_path / "entities.json",
        "context": tmp_path / "context.json",
        "links": tmp_path / "links.json",
    }
    paths["policies"].write_text(POLICIES)
    paths["schema"].write_text(SCHEMA)
    paths["entities"].write_text(json.dumps(ENTITIES))
    paths["context"].write_text('{"mfa": true}')
    return paths


def request(principal: str = "alice") -> list[str]:
    return ["-l", f'User::"{principal}"', "-a", 'Action::"view"', "-r", 'Photo::"p"']


# -- global ------------------------------------------------------------------------


def test_global_error_format(files: dict[str, Path]) -> None:
    bad = files["policies"]
    bad.write_text("permit(principal, action, resource) when { };")
    result = run("-f", "json", "check-parse", "-p", bad)
    assert result.exit_code == 1 and json.loads(result.stderr.splitlines()[0])["severity"] == "error"
    plain = run("--error-format", "plain", "check-parse", "-p", bad)
    assert plain.exit_code == 1 and "\x1b[" not in plain.stderr
    from_env = run("check-parse", "-p", bad, env={"CEDAR_ERROR_FORMAT": "json"})
    assert json.loads(from_env.stderr.splitlines()[0])["line"] == 1


def test_global_version_and_help() -> None:
    assert run("-V").exit_code == 0 and "cedar" in run("-V").stdout
    assert run("--version").stdout == run("-V").stdout
    for command in ("visualize", "new", "language-version", "license", "check-parse", "run-tests"):
        assert command in run("-h").stdout
        assert run(command, "--help").exit_code == 0


# -- authorize ----------------------------------------------------------------------


def test_authorize_reports_id_names(files: dict[str, Path]) -> None:
    result = run("authorize", "-p", files["policies"], "--entities", files["entities"], *request())
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:4] == [
        "ALLOW",
        "",
        "note: this decision was due to the following policies:",
        "  owner-rule",
    ]
    # from standard input, too
    piped = run("authorize", "--entities", files["entities"], *request(), input=POLICIES)
    assert "  owner-rule" in piped.stdout.splitlines()


def test_authorize_request_flags(files: dict[str, Path]) -> None:
    base = ["authorize", "-p", files["policies"], "--entities", files["entities"]]
    assert (
        run(
            *base, "--principal", 'User::"bob"', "--action", 'Action::"view"', "--resource", 'Photo::"p"'
        ).exit_code
        == 2
    )
    result = run(*base, "-l", 'User::"alice"', "-a", 'Action::"view"')
    assert result.exit_code == 1 and "resource" in result.stderr


def test_authorize_context_and_request_validation(files: dict[str, Path]) -> None:
    base = [
        "authorize",
        "-p",
        files["policies"],
        "--entities",
        files["entities"],
        "-s",
        files["schema"],
        *request(),
    ]
    assert run(*base, "-c", files["context"]).exit_code == 0
    files["context"].write_text('{"mfa": "yes"}')
    assert run(*base, "--context", files["context"]).exit_code == 1  # the schema rejects the context
    # `--request-validation false` skips the scope checks; the context is still read with the
    # schema (Rust: `Context::from_json_value(.., Some((schema, action)))`)
    assert run(*base, "-c", files["context"], "--request-validation", "false").exit_code == 1
    wrong_scope = ["-l", 'Photo::"p"', "-a", 'Action::"view"', "-r", 'Photo::"p"']
    base = ["authorize", "-p", files["policies"], "--entities", files["entities"], "-s", files["schema"]]
    assert run(*base, *wrong_scope).exit_code == 1  # a Photo is no principal of view
    assert run(*base, *wrong_scope, "--request-validation", "false").exit_code == 2


def test_authorize_request_json(files: dict[str, Path], tmp_path: Path) -> None:
    req = tmp_path / "request.json"
    req.write_text(
        json.dumps(
            {
                "principal": 'User::"alice"',
                "action": 'Action::"view"',
                "resource": 'Photo::"p"',
                "context": {},
            }
        )
    )
    base = ["authorize", "-p", files["policies"], "--entities", files["entities"]]
    assert run(*base, "--request-json", req).exit_code == 0
    result = run(*base, "--request-json", req, "-l", 'User::"bob"')
    assert result.exit_code == 1 and "cannot be combined" in result.stderr


def test_authorize_json_policy_format(files: dict[str, Path], tmp_path: Path) -> None:
    as_json = tmp_path / "p.json"
    as_json.write_text(
        run("translate-policy", "--direction", "cedar-to-json", "-p", files["policies"]).stdout
    )
    result = run(
        "authorize", "-p", as_json, "--policy-format", "json", "--entities", files["entities"], *request()
    )
    assert result.exit_code == 0 and "  owner-rule" in result.stdout.splitlines()  # the JSON keys


def test_authorize_template_linked_by_id(files: dict[str, Path]) -> None:
    files["links"].write_text(
        json.dumps(
            [
                {
                    "template_id": "reader-template",
                    "link_id": "bob-views",
                    "args": {"?principal": 'User::"bob"'},
                }
            ]
        )
    )
    result = run(
        "authorize", "-p", files["policies"], "-k", files["links"], "--template-linked", files["links"],
        "--entities", files["entities"], *request("bob"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "  bob-views" in result.stdout.splitlines()
    missing = run(
        "authorize",
        "-p",
        files["policies"],
        "-k",
        files["links"].with_name("nope.json"),
        "--entities",
        files["entities"],
        *request(),
    )
    assert (
        missing.exit_code == 1 and "nope.json" in missing.stderr
    )  # as in Rust: a missing links file is an error


def test_authorize_verbose_and_timing(files: dict[str, Path]) -> None:
    base = ["authorize", "-p", files["policies"], "--entities", files["entities"]]
    quiet = run(*base, *request("bob"), "--verbose")
    assert quiet.exit_code == 2 and "note: no policies applied to this request" in quiet.stdout
    timed = run(*base, *request(), "-t")
    assert re.search(r"^Authorization Time \(micro seconds\) : \d+$", timed.stdout, re.M)
    assert "Authorization Time" in run(*base, *request(), "--timing").stdout


def test_schema_format_flag(files: dict[str, Path], tmp_path: Path) -> None:
    as_json = tmp_path / "schema.txt"  # not named .json: the flag decides
    as_json.write_text(run("translate-schema", "--direction", "cedar-to-json", "-s", files["schema"]).stdout)
    common = ["-p", files["policies"], "--entities", files["entities"]]
    assert run("authorize", *common, "-s", as_json, "--schema-format", "json", *request()).exit_code == 0
    assert (
        run("authorize", *common, "-s", files["schema"], "--schema-format", "cedar", *request()).exit_code
        == 0
    )
    assert (
        run("authorize", *common, "-s", files["schema"], "--schema-format", "json", *request()).exit_code == 1
    )
    assert run("evaluate", "-s", as_json, "--schema-format", "json", "1 + 1").stdout.strip() == "2"
    assert run("validate", "-p", files["policies"], "-s", as_json, "--schema-format", "json").exit_code == 0
    tests = tmp_path / "t.json"
    tests.write_text("[]")
    assert (
        run(
            "run-tests", "-p", files["policies"], "--tests", tests, "-s", as_json, "--schema-format", "json"
        ).exit_code
        == 0
    )
    assert run("check-parse", "-s", files["schema"], "--schema-format", "json").exit_code == 1


# -- evaluate -----------------------------------------------------------------------


def test_evaluate_flags(files: dict[str, Path], tmp_path: Path) -> None:
    expr = "principal == resource.owner && context.mfa"
    common = ["--entities", files["entities"], "-c", files["context"]]
    assert run("evaluate", *request(), *common, expr).stdout.strip() == "true"
    long_flags = ["--principal", 'User::"bob"', "--action", 'Action::"view"', "--resource", 'Photo::"p"']
    assert (
        run(
            "evaluate", *long_flags, "--entities", files["entities"], "--context", files["context"], expr
        ).stdout.strip()
        == "false"
    )
    req = tmp_path / "r.json"
    req.write_text(
        json.dumps(
            {
                "principal": 'User::"alice"',
                "action": 'Action::"view"',
                "resource": 'Photo::"p"',
                "context": {"mfa": True},
            }
        )
    )
    assert (
        run("evaluate", "--request-json", req, "--entities", files["entities"], expr).stdout.strip() == "true"
    )
    files["context"].write_text('{"mfa": 1}')
    strict = run("evaluate", *request(), "-s", files["schema"], "-c", files["context"], "context.mfa")
    assert strict.exit_code == 1
    loose = run(
        "evaluate",
        *request(),
        "--schema",
        files["schema"],
        "-c",
        files["context"],
        "--request-validation",
        "false",
        "context.mfa",
    )
    assert loose.exit_code == 1  # the schema still types the context ...
    assert (
        run("evaluate", *request(), "-c", files["context"], "context.mfa").stdout.strip() == "1"
    )  # ... not without it
    scope = ["-l", 'Photo::"p"', "-a", 'Action::"view"', "-r", 'Photo::"p"', "-s", files["schema"]]
    assert run("evaluate", *scope, "principal").exit_code == 1
    assert (
        run("evaluate", *scope, "--request-validation", "false", "principal").stdout.strip() == 'Photo::"p"'
    )


# -- validate -----------------------------------------------------------------------


def test_validate_flags(files: dict[str, Path], tmp_path: Path) -> None:
    assert run("validate", "-p", files["policies"], "-s", files["schema"]).exit_code == 0
    assert run("validate", "--policies", files["policies"], "--schema", files["schema"]).exit_code == 0
    as_json = tmp_path / "p.json"
    as_json.write_text(
        run("translate-policy", "--direction", "cedar-to-json", "-p", files["policies"]).stdout
    )
    assert run("validate", "-p", as_json, "--policy-format", "json", "-s", files["schema"]).exit_code == 0
    files["links"].write_text(
        json.dumps([{"template_id": "reader-template", "link_id": "l", "args": {"?principal": 'Photo::"x"'}}])
    )
    linked = run("validate", "-p", files["policies"], "-k", files["links"], "-s", files["schema"])
    assert linked.exit_code == 3, linked.output  # the link puts a Photo where a User goes
    with_warning = tmp_path / "w2.cedar"
    with_warning.write_text('permit(principal, action, resource) when { "\\u{202e}" == "" };')
    assert run("validate", "-p", with_warning, "-s", files["schema"]).exit_code == 0
    assert run("validate", "-p", with_warning, "-s", files["schema"], "--deny-warnings").exit_code == 3


# -- check-parse --------------------------------------------------------------------


def test_check_parse_each_input(files: dict[str, Path], tmp_path: Path) -> None:
    bad_policies = tmp_path / "bad.cedar"
    bad_policies.write_text("permit(principal, action, resource) when {")
    bad_schema = tmp_path / "bad.cedarschema"
    bad_schema.write_text("entity ;")
    bad_entities = tmp_path / "bad.json"
    bad_entities.write_text('[{"uid": {"type": "Nope", "id": "x"}, "attrs": {}, "parents": []}]')
    assert run("check-parse", "-p", files["policies"]).exit_code == 0
    assert run("check-parse", "--policies", bad_policies).exit_code == 1
    assert run("check-parse", "--expression", "1 + principal.x").exit_code == 0
    result = run("check-parse", "--expression", "1 +")
    assert result.exit_code == 1 and "<expression>" in result.stderr
    assert run("check-parse", "-s", files["schema"]).exit_code == 0
    assert run("check-parse", "--schema", bad_schema, "--schema-format", "cedar").exit_code == 1
    assert run("check-parse", "--entities", files["entities"]).exit_code == 0
    assert run("check-parse", "--entities", bad_entities).exit_code == 0  # no schema: any type
    assert run("check-parse", "--entities", bad_entities, "-s", files["schema"]).exit_code == 1
    as_json = tmp_path / "p.json"
    as_json.write_text(
        run("translate-policy", "--direction", "cedar-to-json", "-p", files["policies"]).stdout
    )
    assert run("check-parse", "-p", as_json, "--policy-format", "json").exit_code == 0
    assert run("check-parse", "-p", files["policies"], "--policy-format", "json").exit_code == 1
    # every input is checked and every error reported
    everything = run(
        "check-parse", "-p", bad_policies, "--expression", "1 +", "-s", bad_schema, "--entities", bad_entities
    )
    assert everything.exit_code == 1
    assert everything.stderr.count("error") >= 3
    # no input at all: policies from standard input
    assert run("check-parse", input=POLICIES).exit_code == 0
    assert run("check-parse", input="permit(").exit_code == 1


def test_check_parse_links(files: dict[str, Path]) -> None:
    files["links"].write_text(
        json.dumps(
            [{"template_id": "reader-template", "link_id": "l", "args": {"?principal": 'User::"bob"'}}]
        )
    )
    assert run("check-parse", "-p", files["policies"], "-k", files["links"]).exit_code == 0
    files["links"].write_text(
        json.dumps([{"template_id": "policy1", "link_id": "l", "args": {"?principal": 'User::"bob"'}}])
    )
    result = run("check-parse", "-p", files["policies"], "--template-linked", files["links"])
    assert result.exit_code == 1 and "policy1" in result.stderr  # the template is `reader-template`


# -- link ---------------------------------------------------------------------------


def test_link_by_id(files: dict[str, Path]) -> None:
    args = json.dumps({"?principal": 'User::"bob"'})
    result = run(
        "link", "-p", files["policies"], "-k", files["links"], "--template-id", "reader-template",
        "-n", "bob-views", "-a", args,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith('Template-linked policy added: @id("reader-template")')
    assert json.loads(files["links"].read_text()) == [
        {"template_id": "reader-template", "link_id": "bob-views", "args": {"?principal": 'User::"bob"'}}
    ]
    result = run(
        "link", "--policies", files["policies"], "--template-linked", files["links"],
        "--template-id", "reader-template", "--new-id", "bob-again", "--arguments", args,
    )  # fmt: skip
    assert result.exit_code == 0 and len(json.loads(files["links"].read_text())) == 2
    # the links work for authorize
    authorized = run(
        "authorize",
        "-p",
        files["policies"],
        "-k",
        files["links"],
        "--entities",
        files["entities"],
        *request("bob"),
    )
    assert authorized.exit_code == 0 and {"  bob-views", "  bob-again"} <= set(authorized.stdout.splitlines())
    # without -k the link is only printed; the positional id no longer names the template
    assert (
        run(
            "link", "-p", files["policies"], "--template-id", "reader-template", "-n", "x", "-a", args
        ).exit_code
        == 0
    )
    assert (
        run("link", "-p", files["policies"], "--template-id", "policy1", "-n", "x", "-a", args).exit_code == 1
    )


def test_link_json_policies(files: dict[str, Path], tmp_path: Path) -> None:
    as_json = tmp_path / "p.json"
    as_json.write_text(
        run("translate-policy", "--direction", "cedar-to-json", "-p", files["policies"]).stdout
    )
    args = json.dumps({"?principal": 'User::"bob"'})
    result = run(
        "link",
        "-p",
        as_json,
        "--policy-format",
        "json",
        "--template-id",
        "reader-template",
        "-n",
        "x",
        "-a",
        args,
    )
    assert result.exit_code == 0, result.output


# -- format, translate --------------------------------------------------------------


def test_format_flags(tmp_path: Path) -> None:
    source = tmp_path / "p.cedar"
    source.write_text(
        'permit(principal,action == Action::"a",resource) when { principal.name == "a long name" };'
    )
    assert run("format", "-p", source).stdout.startswith("permit (\n  principal,")
    assert "\n    principal," in run("format", "--policies", source, "-i", "4").stdout
    assert (
        run("format", "-p", source, "--indent-width", "4").stdout
        == run("format", "-p", source, "-i", "4").stdout
    )
    narrow = run("format", "-p", source, "-l", "20").stdout
    wide = run("format", "-p", source, "--line-width", "200").stdout
    assert narrow != wide and max(len(line) for line in wide.splitlines()) > 20
    assert run("format", "-p", source, "-c").exit_code == 1
    assert run("format", "-p", source, "--write").exit_code == 0
    assert run("format", "-p", source, "--check").exit_code == 0
    assert run("format", "-w", input="permit(principal, action, resource);").exit_code == 1  # -w needs -p


def test_translate_policy_flags(files: dict[str, Path], tmp_path: Path) -> None:
    result = run("translate-policy", "--direction", "cedar-to-json", "--policies", files["policies"])
    data = json.loads(result.stdout)
    assert set(data["staticPolicies"]) == {"owner-rule", "policy2"} and set(data["templates"]) == {
        "reader-template"
    }
    as_json = tmp_path / "p.json"
    as_json.write_text(result.stdout)
    back = run("translate-policy", "--direction", "json-to-cedar", "-p", as_json)
    assert back.exit_code == 0 and '@id("owner-rule")' in back.stdout


def test_translate_schema_flags(files: dict[str, Path], tmp_path: Path) -> None:
    as_json = run("translate-schema", "--direction", "cedar-to-json", "--schema", files["schema"]).stdout
    (tmp_path / "s.json").write_text(as_json)
    back = run("translate-schema", "--direction", "json-to-cedar", "-s", tmp_path / "s.json")
    assert back.exit_code == 0 and "entity Photo" in back.stdout


# -- visualize, new, language-version, license --------------------------------------


def test_visualize(files: dict[str, Path], tmp_path: Path) -> None:
    result = run("visualize", "--entities", files["entities"])
    assert result.exit_code == 0
    assert result.stdout.startswith('strict digraph {\n\tordering="out"\n\tnode[shape=box]\n')
    assert '\t\t"User::\\"alice\\"" [label="alice"]\n' in result.stdout
    assert result.stdout.endswith("}\n\n")  # Rust's println! after the graph's own newline
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert run("visualize", "--entities", bad).exit_code == 1
    assert run("visualize").exit_code == 2  # --entities is required


def test_new_project(tmp_path: Path) -> None:
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert run("new", "--name", "proj").exit_code == 0
        assert run("new", "-n", "proj").exit_code == 1  # exists already
    finally:
        os.chdir(cwd)
    project = tmp_path / "proj"
    assert sorted(p.name for p in project.iterdir()) == [
        "entities.json",
        "policy.cedar",
        "schema.cedarschema.json",
    ]
    files = ["-p", project / "policy.cedar", "-s", project / "schema.cedarschema.json"]
    assert run("validate", *files).exit_code == 0
    result = run(
        "authorize", *files, "--entities", project / "entities.json",
        "-l", 'A::"a"', "-a", 'Action::"action"', "-r", 'C::"c"',
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def test_language_version() -> None:
    import cedarlang

    result = run("language-version")
    assert result.exit_code == 0
    assert (
        result.stdout == f"Cedar language version: {cedarlang.LANG_VERSION[0]}.{cedarlang.LANG_VERSION[1]}\n"
    )
    assert cedarlang.LANG_VERSION[:2] == (4, 5)  # cedar-policy 4.12's get_lang_version()


def test_license() -> None:
    result = run("license")
    assert result.exit_code == 0 and "Apache License, Version 2.0" in result.stdout


# -- run-tests ----------------------------------------------------------------------


def id_test_args() -> list[str | Path]:
    return [
        "-p",
        DATA / "policies.cedar",
        "-k",
        DATA / "links.json",
        "-s",
        DATA / "schema.cedarschema",
        "--tests",
        DATA / "tests.json",
    ]


def test_run_tests_id_annotation_files() -> None:
    result = run("run-tests", *id_test_args())
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "7 passed, 0 failed"
    assert (
        run(
            "run-tests",
            "--policies",
            DATA / "policies.cedar",
            "--template-linked",
            DATA / "links.json",
            "--tests",
            DATA / "tests.json",
        ).exit_code
        == 0
    )


def test_run_tests_id_annotation_reasons_fail_when_wrong(tmp_path: Path) -> None:
    tests = json.loads((DATA / "tests.json").read_text())
    tests[0]["reason"] = ["policy0"]  # the positional id: not a policy's name any more
    (tmp_path / "t.json").write_text(json.dumps(tests))
    result = run(
        "run-tests", "-p", DATA / "policies.cedar", "-k", DATA / "links.json", "--tests", tmp_path / "t.json"
    )
    assert result.exit_code == 1 and "missing reason(s): `policy0`" in result.stdout
    assert result.stdout.splitlines()[-1] == "6 passed, 1 failed"
    # without the links file the linked policy's test fails
    assert run("run-tests", "-p", DATA / "policies.cedar", "--tests", DATA / "tests.json").exit_code == 1


def test_id_annotation_tests_agree_with_cedarpy() -> None:
    """The expected decisions and reasons of tests.json, checked with the Rust engine."""
    cedarpy = pytest.importorskip("cedarpy")
    text = (DATA / "policies.cedar").read_text()
    pset = cedarpy.PolicySet.from_str(text)
    for link in json.loads((DATA / "links.json").read_text()):
        pset = pset.with_linked(link["template_id"], link["link_id"], link["args"])
    link_ids = {link["link_id"] for link in json.loads((DATA / "links.json").read_text())}
    schema = (DATA / "schema.cedarschema").read_text()
    for test in json.loads((DATA / "tests.json").read_text()):
        result = cedarpy.is_authorized(test["request"], pset, test["entities"], schema=schema)
        # cedarpy keeps positional ids: a static policy's name is its @id (a link keeps its id)
        names = result.diagnostics.id_annotations_by_reason
        reasons = {r if r in link_ids else names.get(r, r) for r in result.diagnostics.reasons}
        assert result.decision.value.lower() == test["decision"], test["name"]
        assert set(test["reason"]) <= reasons, test["name"]
        assert len(result.diagnostics.errors) == test["num_errors"]


def test_run_tests_json_policies(tmp_path: Path) -> None:
    as_json = tmp_path / "p.json"
    as_json.write_text(
        run("translate-policy", "--direction", "cedar-to-json", "-p", DATA / "policies.cedar").stdout
    )
    result = run(
        "run-tests",
        "-p",
        as_json,
        "--policy-format",
        "json",
        "-k",
        DATA / "links.json",
        "--tests",
        DATA / "tests.json",
    )
    assert result.exit_code == 0, result.output


def test_run_tests_schema_validates_policies(tmp_path: Path) -> None:
    bad = tmp_path / "p.cedar"
    bad.write_text((DATA / "policies.cedar").read_text() + "\npermit(principal is Nope, action, resource);")
    result = run(
        "run-tests",
        "-p",
        bad,
        "-k",
        DATA / "links.json",
        "-s",
        DATA / "schema.cedarschema",
        "--tests",
        DATA / "tests.json",
    )
    assert result.exit_code == 1
    assert result.stdout.count("error: policy set validation failed") == 7
    # without the schema nothing is validated
    assert (
        run("run-tests", "-p", bad, "-k", DATA / "links.json", "--tests", DATA / "tests.json").exit_code == 0
    )


# -- the table ----------------------------------------------------------------------


def _command(path: str) -> click.Command:
    command: click.Command = main
    for name in path.split():
        assert isinstance(command, click.Group)
        found = command.commands.get(name)
        assert found is not None, f"no command `{path}`"
        command = found
    return command


def test_parity_table() -> None:
    rows = [
        [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        for line in DOC.read_text().splitlines()
        if line.startswith("| ") and not line.startswith("| Rust command")
    ]
    assert len(rows) > 60
    this_file = Path(__file__).read_text()
    rust_commands = set()
    for rust_command, _rust_flag, ours, test, _notes in rows:
        rust_commands.add(rust_command)
        if test.startswith("test_"):
            assert f"def {test}(" in this_file, test
        if ours.startswith("*") or ours.startswith("(") or not ours.startswith(("-", "`")):
            continue
        command = main if rust_command == "(global)" else _command(rust_command)
        declared = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
        declared |= {"-h", "--help"} | ({"-V", "--version"} if command is main else set())
        for flag in re.findall(r"`(-[-\w]+)`", ours):
            assert flag in declared, f"{rust_command}: {flag}"
        for argument in re.findall(r"`([A-Z]+)`", ours):
            assert argument.lower() in {p.name for p in command.params}, argument
    # every Rust subcommand (cedar-policy-cli 4.12's Commands enum) has rows
    assert rust_commands >= {
        "authorize", "evaluate", "validate", "check-parse", "link", "format", "translate-policy",
        "translate-schema", "visualize", "new", "partially-authorize", "tpe", "run-tests", "symcc",
        "language-version", "license",
    }  # fmt: skip
