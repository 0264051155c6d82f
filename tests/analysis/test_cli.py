"""``cedar analyze policies`` / ``cedar analyze compare``: output and exit codes, on
TinyTodo's policies with and without the blog's admin policy."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cedarlang import PolicySet
from cedarlang.analysis import Counterexample
from cedarlang.cli import main

pytest.importorskip("cvc5")

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = str(ROOT / "tinytodo" / "tinytodo.cedarschema")
POLICIES = ROOT / "tinytodo" / "policies.cedar"
ADMIN = ROOT / "examples" / "analysis" / "admin-policy.cedar"
# generous: the point is that it finishes (it takes well under a second)
TIMEOUT = 60


@pytest.fixture()
def with_admin(tmp_path: Path) -> Path:
    path = tmp_path / "with-admin.cedar"
    path.write_text(POLICIES.read_text() + "\n" + ADMIN.read_text())
    return path


def run(*args: str) -> tuple[int, str]:
    start = time.monotonic()
    result = CliRunner().invoke(main, ["analyze", *args])
    assert time.monotonic() - start < TIMEOUT
    return result.exit_code, result.output


def test_tinytodo_policies_have_no_findings() -> None:
    code, out = run("policies", "-p", str(POLICIES), "-s", SCHEMA)
    assert (code, out.strip()) == (0, "no findings")


def test_compare_with_itself_is_equivalent() -> None:
    code, out = run("compare", str(POLICIES), str(POLICIES), "-s", SCHEMA)
    assert code == 0
    assert out.strip().splitlines()[-1] == "overall: equivalent"


def test_adding_the_admin_policy_is_more_permissive(with_admin: Path) -> None:
    code, out = run("compare", str(POLICIES), str(with_admin), "-s", SCHEMA)
    assert code == 2
    assert out.strip().splitlines()[-1] == "overall: more permissive"
    assert 'User, Action::"CreateList", Application: equivalent' in out  # policy 0 allows it already
    assert 'User, Action::"DeleteList", List: more permissive' in out
    # the JSON form's counterexamples replay: new allows, old denies
    code, text = run("compare", str(POLICIES), str(with_admin), "-s", SCHEMA, "--json")
    data = json.loads(text)
    assert code == 2 and data["verdict"] == "more permissive"
    old, new = PolicySet.from_str(POLICIES.read_text()), PolicySet.from_str(with_admin.read_text())
    replayed = 0
    for env in data["envs"]:
        assert "newly_denied" not in env
        if env["verdict"] == "more permissive":
            cex = env["newly_allowed"]
            c = Counterexample(**cex["request"], entities=cex["entities"])
            assert c.replay(new).allowed and not c.replay(old).allowed
            replayed += 1
    assert replayed == 7


def test_removing_a_policy_is_less_permissive(with_admin: Path) -> None:
    code, out = run("compare", str(with_admin), str(POLICIES), "-s", SCHEMA)
    assert code == 2 and out.strip().endswith("overall: less permissive")


def test_findings_and_exit_codes(tmp_path: Path) -> None:
    path = tmp_path / "p.cedar"
    path.write_text(
        POLICIES.read_text()
        + '\n@id("dup") permit (principal, action, resource is List) when { principal == resource.owner };'
    )
    code, out = run("policies", "-p", str(path), "-s", SCHEMA)
    assert code == 2
    assert "shadowed-permit: permit dup is shadowed by permit policy1" in out
    code, text = run("policies", "-p", str(path), "-s", SCHEMA, "--json")
    assert json.loads(text)["lints"][0]["kind"] == "shadowed-permit"
    # a policy that does not validate: reported, exit 4 (incomplete)
    path.write_text("permit (principal, action, resource) when { principal.nope };")
    code, out = run("policies", "-p", str(path), "-s", SCHEMA)
    assert code == 4 and "not analysed: policy policy0 fails validation" in out
    # a user mistake is an error message, not a traceback
    code, out = run("policies", "-p", str(tmp_path / "missing.cedar"), "-s", SCHEMA)
    assert code == 1 and "Traceback" not in out


def symcc(*args: str) -> tuple[int, str]:
    env = [
        "--principal-type",
        "User",
        "--action",
        'Action::"GetList"',
        "--resource-type",
        "List",
        "-s",
        SCHEMA,
    ]
    result = CliRunner().invoke(main, ["symcc", *env, *args])
    return result.exit_code, result.output


def test_symcc_single_query_commands(tmp_path: Path, with_admin: Path) -> None:
    p1, p2 = tmp_path / "p1.cedar", tmp_path / "p2.cedar"
    p1.write_text("permit(principal, action, resource) when { principal.joblevel > 3 };")
    p2.write_text("permit(principal, action, resource) when { principal.joblevel >= 3 };")
    assert symcc("matches-implies", "--policy1", str(p1), "--policy2", str(p2)) == (
        0,
        "✓ Policy1 match implies Policy2 match: VERIFIED\n",
    )
    code, out = symcc("matches-implies", "--policy1", str(p2), "--policy2", str(p1))
    assert code == 0  # like Rust: a property that does not hold is no failure of the run
    assert out.splitlines()[:2] == [
        "✗ Policy1 match implies Policy2 match: DOES NOT HOLD",
        "  Counterexample found:",
    ]
    assert 'entity User::"' in out and '"joblevel": 3' in out
    code, out = symcc("--no-counterexample", "matches-equivalent", "--policy1", str(p2), "--policy2", str(p1))
    assert (code, out) == (0, "✗ Policies have equivalent match conditions: DOES NOT HOLD\n")
    assert symcc("implies", "--policies1", str(POLICIES), "--policies2", str(with_admin))[1].startswith("✓")
    assert symcc("implies", "--policies1", str(with_admin), "--policies2", str(POLICIES))[1].startswith("✗")
    assert symcc("-v", "never-errors", "-p", str(p1))[1].startswith(
        "✓ Policy never errors: VERIFIED\n  No counterexample"
    )
    # Rust's input checks
    code, out = symcc("always-matches", "-p", str(POLICIES))
    assert code == 1 and "Expected exactly one policy in --policies, found 4" in out
    args = ["--principal-type", "User", "--action", 'Action::"GetList"', "--resource-type", "Team"]
    result = CliRunner().invoke(main, ["symcc", *args, "-s", SCHEMA, "always-denies", "-p", str(p1)])
    assert result.exit_code == 1 and "no request environment" in result.output


def test_readme_shows_what_compare_prints(with_admin: Path) -> None:
    """The README's "Check a policy change in CI" shows the command's real verdicts (the
    counterexamples' ids and attributes are the solver's choice, free to change)."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("$ cedar analyze compare tinytodo/policies.cedar with-admin.cedar")
    shown = readme[start : readme.index("$ echo $?", start)].splitlines()[1:]
    code, out = run("compare", str(POLICIES), str(with_admin), "-s", SCHEMA)
    printed = out.splitlines()
    assert code == 2
    verdicts = [line for line in shown if not line.startswith("  ")]
    assert len(verdicts) == 5
    for line in verdicts:
        assert line in printed, line
    assert printed.count("  newly allowed, e.g.") == 7
