"""Start-up validation (exit non-zero with rendered errors) and policy hot reload
(validate first, keep the old set on any error, log what happened)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import cedarlang
from tinytodo_server import StartupError, TinyTodo
from tinytodo_server.cli import Config, main, parse_config

from .conftest import AppFactory
from .helpers import ADMIN_POLICY, DENIED, ServerProcess, copy_tinytodo, policies_file

SYNTAX_ERROR = '\npermit (principal, action == Action::"GetList", resource) when { ( };\n'
# The tutorial's suggestion for breaking validation: `readers` misspelled.
SCHEMA_ERROR = (
    '\npermit (principal, action == Action::"GetList", resource) when { principal in resource.Readers };\n'
)
UNKNOWN_ACTION = '\npermit (principal, action == Action::"GetListz", resource);\n'


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


# -- start-up -----------------------------------------------------------------------------------


def run_main(workdir: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.chdir(workdir)
    return main(["--port", "0", *args], environ={})


def test_startup_rejects_parse_errors(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = policies_file(workdir, False)
    path.write_text(path.read_text() + SYNTAX_ERROR)
    assert run_main(workdir, monkeypatch) == 1
    err = capsys.readouterr().err
    assert "Failed to load entities, policies, schema, credentials or the database" in err
    assert "^" in err  # the rendered diagnostic points at the source
    assert "when { ( }" in err


@pytest.mark.parametrize("bad", [SCHEMA_ERROR, UNKNOWN_ACTION], ids=["attribute", "action"])
@pytest.mark.parametrize("templates", [False, True], ids=["teams", "templates"])
def test_startup_validates_against_schema(
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    bad: str,
    templates: bool,
) -> None:
    path = policies_file(workdir, templates)
    path.write_text(path.read_text() + bad)
    args = ("--templates",) if templates else ()
    assert run_main(workdir, monkeypatch, *args) == 1
    err = capsys.readouterr().err
    assert "Validation Failed" in err
    assert ("Readers" if bad is SCHEMA_ERROR else "GetListz") in err


def test_shipped_policies_validate() -> None:
    from tinytodo_server.policies import parse_policies, validate_policies

    from .helpers import TINYTODO_DIR

    for policies, schema in [
        ("policies.cedar", "tinytodo.cedarschema"),
        ("policies-templates.cedar", "tinytodo-templates.cedarschema"),
    ]:
        s = cedarlang.Schema.from_str((TINYTODO_DIR / schema).read_text())
        text = (TINYTODO_DIR / policies).read_text() + ADMIN_POLICY
        assert validate_policies(s, parse_policies(text, policies)) == []


def test_validation_is_one_function(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> None:
    """Whatever validate_policies says decides start-up and reloads."""
    from tinytodo_server import core as core_module
    from tinytodo_server import policies as policies_module

    monkeypatch.setattr(policies_module, "validate_policies", lambda s, p: ["rendered problem"])
    monkeypatch.setattr(core_module, "validate_policies", lambda s, p: ["rendered problem"])
    monkeypatch.chdir(workdir)
    with pytest.raises(core_module.StartupError) as info:
        core_module.TinyTodo.load(
            schema_path=Path("tinytodo.cedarschema"),
            entities_path=Path("entities.json"),
            policies_path=Path("policies.cedar"),
        )
    assert info.value.render() == "Validation Failed\nrendered problem"


@pytest.mark.parametrize(
    ("file", "content", "words"),
    [
        ("tinytodo.cedarschema", "entity User = {", "Error Parsing Schema"),
        ("entities.json", "{", "Error Deserializing Json"),
        (
            "entities.json",
            '{"users": {"User::\\"x\\"": {"euid": "Team::\\"x\\""}}}',
            "expected an entity of type User",
        ),
        ("policies.cedar", None, "Cannot read the policies file"),
    ],
)
def test_startup_rejects_bad_files(
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    file: str,
    content: str | None,
    words: str,
) -> None:
    if content is None:
        (workdir / file).unlink()
    else:
        (workdir / file).write_text(content)
    assert run_main(workdir, monkeypatch) == 1
    assert words in capsys.readouterr().err


def test_template_mode_needs_the_templates(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(workdir, monkeypatch, "--templates", "--policies", "policies.cedar") == 1
    assert "reader-template" in capsys.readouterr().err


def test_startup_failure_exits_non_zero(workdir: Path) -> None:
    path = policies_file(workdir, False)
    path.write_text(path.read_text() + SYNTAX_ERROR)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINYTODO_")}
    proc = subprocess.run(
        [sys.executable, "-m", "tinytodo_server", "--port", "0"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "^" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_config_defaults_and_overrides() -> None:
    assert parse_config([], {}) == Config()
    assert Config().port == 8080
    assert parse_config(["9000"], {}).port == 9000  # upstream: tiny-todo-server [port]
    assert parse_config([], {"TINYTODO_PORT": "9001"}).port == 9001
    assert parse_config(["--port", "9002"], {"TINYTODO_PORT": "9001"}).port == 9002
    config = parse_config([], {"TINYTODO_TEMPLATES": "1", "TINYTODO_DB": "x.db"})
    assert config.templates and config.db == "x.db"
    assert config.policies == Path("policies-templates.cedar")
    assert config.schema == Path("tinytodo-templates.cedarschema")
    with pytest.raises(SystemExit):
        parse_config(["not-a-port"], {})


# -- hot reload ---------------------------------------------------------------------------------


def test_reload_valid_and_invalid_edits(
    make_app: AppFactory, mode: str, workdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tinytodo_server")
    api, core = make_app()
    path = policies_file(workdir, mode == "templates")
    original = path.read_text()
    lst = api.new_list("andrew", "l")
    api.ok(api.share("andrew", lst, "interns", "Reader"))
    assert api.get_list("emina", lst).json() == DENIED

    path.write_text(original + ADMIN_POLICY)
    assert core.reload_policies()
    assert "Reloaded policy set" in caplog.text
    assert api.ok(api.get_list("emina", lst))
    assert core.policies.policy("admin-omnipotence") is not None  # named by @id
    assert api.ok(api.get_list("aaron", lst))  # template links survive a reload

    caplog.clear()
    path.write_text(original + ADMIN_POLICY + SYNTAX_ERROR)
    assert not core.reload_policies()
    assert "Error reloading policies" in caplog.text
    assert "^" in caplog.text
    assert api.ok(api.get_list("emina", lst))  # the old set is still in force

    caplog.clear()
    path.write_text(original + ADMIN_POLICY + ADMIN_POLICY)  # duplicate @id
    assert not core.reload_policies()
    assert "admin-omnipotence" in caplog.text

    caplog.clear()
    path.write_text(SCHEMA_ERROR + original)
    assert not core.reload_policies()
    assert "Error validating policies" in caplog.text
    assert api.ok(api.get_list("emina", lst))

    if mode == "templates":
        caplog.clear()
        path.write_text(original.replace('@id("reader-template")', '@id("renamed")'))
        assert not core.reload_policies()
        assert "reader-template" in caplog.text
        assert api.ok(api.get_list("aaron", lst))

    path.write_text(original)
    assert core.reload_policies()
    assert api.get_list("emina", lst).json() == DENIED
    assert api.ok(api.get_list("aaron", lst))


def test_watcher_reloads_on_change(
    make_app: AppFactory, mode: str, workdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tinytodo_server")
    api, _core = make_app(reload_interval=0.05)
    path = policies_file(workdir, mode == "templates")
    original = path.read_text()
    lst = api.new_list("andrew", "l")
    path.write_text(original + ADMIN_POLICY)
    wait_for(lambda: api.get_list("emina", lst).json() != DENIED)
    path.write_text(original + SYNTAX_ERROR)
    wait_for(lambda: "Error reloading policies" in caplog.text)
    assert api.ok(api.get_list("emina", lst))
    path.unlink()
    wait_for(lambda: "is missing" in caplog.text)
    path.write_text(original)
    wait_for(lambda: api.get_list("emina", lst).json() == DENIED)


def test_reload_in_a_real_server(tmp_path: Path) -> None:
    workdir = copy_tinytodo(tmp_path / "tinytodo")
    server = ServerProcess(workdir, extra=("--reload-interval", "0.1")).start()
    try:
        api = server.api()
        lst = api.new_list("andrew", "l")
        assert api.get_list("emina", lst).json() == DENIED
        path = policies_file(workdir, False)
        path.write_text(path.read_text() + ADMIN_POLICY)
        wait_for(lambda: api.get_list("emina", lst).json() != DENIED)
        path.write_text(path.read_text() + SYNTAX_ERROR)
        wait_for(lambda: "Error reloading policies" in server.log())
        assert api.ok(api.get_list("emina", lst))
        assert "Reloaded policy set" in server.log()
    finally:
        server.stop()


def test_validate_policies_uses_the_validator_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """validate_policies speaks cedarlang.Validator's interface: Validator(schema)
    .validate(policy_set) -> result with .passed and .errors (.policy_id, .render())."""
    from tinytodo_server.policies import check_policies, parse_policies, validate_policies

    from .helpers import TINYTODO_DIR

    class Error:
        policy_id = "policy2"

        def render(self) -> str:
            return "error: attribute `Readers` not found\n  | when { ... }\n  |      ^^^^"

    class Result:
        def __init__(self, passed: bool) -> None:
            self.passed = passed
            self.errors = [] if passed else [Error()]

    seen: list[cedarlang.Schema] = []

    class FakeValidator:
        def __init__(self, schema: cedarlang.Schema) -> None:
            seen.append(schema)

        def validate(self, policies: cedarlang.PolicySet) -> Result:
            return Result("Readers" not in str(policies.policy("policy2")))

    monkeypatch.setattr(cedarlang, "Validator", FakeValidator, raising=False)
    schema = cedarlang.Schema.from_str((TINYTODO_DIR / "tinytodo.cedarschema").read_text())
    good = parse_policies((TINYTODO_DIR / "policies.cedar").read_text(), "p")
    assert validate_policies(schema, good) == []
    bad_text = (TINYTODO_DIR / "policies.cedar").read_text().replace("resource.readers", "resource.Readers")
    bad = parse_policies(bad_text, "p")
    assert validate_policies(schema, bad) == [
        "in policy `policy2`: error: attribute `Readers` not found\n  | when { ... }\n  |      ^^^^"
    ]
    with pytest.raises(Exception, match="Validation Failed"):
        check_policies(schema, bad)
    assert seen == [schema, schema, schema]


def test_startup_prints_the_validators_rendered_errors(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With a stand-in validator that fails: exit status 1 and its rendered errors."""

    class Error:
        policy_id = "policy1"

        def render(self) -> str:
            return "policy1: rendered with a caret\n    ^^^"

    class FakeValidator:
        def __init__(self, schema: cedarlang.Schema) -> None:
            pass

        def validate(self, policies: cedarlang.PolicySet) -> object:
            return type("Result", (), {"passed": False, "errors": [Error()]})()

    monkeypatch.setattr(cedarlang, "Validator", FakeValidator, raising=False)
    assert run_main(workdir, monkeypatch) == 1
    err = capsys.readouterr().err
    assert "Validation Failed\npolicy1: rendered with a caret\n    ^^^" in err


def load_core(workdir: Path) -> TinyTodo:
    return TinyTodo.load(
        schema_path=workdir / "tinytodo.cedarschema",
        entities_path=workdir / "entities.json",
        policies_path=policies_file(workdir, False),
    )


def test_empty_policies_are_an_error_that_keeps_the_last_good_ones(workdir: Path) -> None:
    """An empty policies file would silently mean "deny everything": refused at start-up,
    and a reload to it (or to a missing file) keeps the policies in force."""
    path = policies_file(workdir, False)
    good = path.read_text()
    path.write_text("// nothing here\n")
    with pytest.raises(StartupError, match="contains no policies"):
        load_core(workdir)
    path.write_text(good)
    core = load_core(workdir)
    try:
        in_force = core.policies
        path.write_text("   \n")
        assert core.reload_policies() is False
        assert core.policies is in_force
        path.unlink()
        assert core.reload_policies() is False
        assert core.policies is in_force
    finally:
        core.close()


def test_access_log_is_one_json_line_per_request(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    import json
    import logging

    api, _core = make_app()
    with caplog.at_level(logging.INFO, logger="tinytodo_server.access"):
        api.ok(api.create_list("andrew", "l"))
        api.client.get("/api/lists/get")  # no token
    entries = [json.loads(r.getMessage()) for r in caplog.records if r.name == "tinytodo_server.access"]
    paths = [(e["path"], e["status"], e["user"]) for e in entries]
    assert ("/api/list/create", 200, 'User::"andrew"') in paths
    assert ("/api/lists/get", 401, None) in paths
    assert all(isinstance(e["ms"], float) and e["method"] in ("GET", "POST") for e in entries)
