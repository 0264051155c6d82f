"""The ```sh blocks' checks and runs (tests/docs/shell.py): a planted mistake fails them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs import examples, shell


def _page(tmp_path: Path, text: str) -> examples.Tally:
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    tally = examples.Tally()
    examples.run_page(page, tally)
    return tally


def _sh(tmp_path: Path, *commands: str) -> examples.Tally:
    return _page(tmp_path, "```sh\n" + "\n".join(commands) + "\n```\n")


@pytest.mark.parametrize(
    ("command", "complaint"),
    [
        ('pip install "cedarlang[nosuch]"', "no extra `nosuch`"),
        ('pip install -e ".[serve,nosuch]"', "no extra `nosuch`"),
        ("pip install -e tinytodo", "not a checkout of cedarlang"),
        ("pip install requests", "is not cedarlang"),
        ("pip install --user cedarlang", "not a checked pip option"),
        ("cedar serve examples/authzen/search --prot 8180", "No such option '--prot'"),
        ("cedar serve examples/authzen/search --workers 0", "--workers"),
        ("cedar analyse compare a.cedar b.cedar", "No such command 'analyse'"),
        ("cedar analyze compare nosuch.cedar tinytodo/policies.cedar", "nosuch.cedar"),
        ("cedar analyze", "Usage: cedar analyze"),
        ("mkdocs build --strikt", "No such option '--strikt'"),
        ("mkdocs deploy", "No such command 'deploy'"),
        ("python benchmarks/bench.py --quick --no-such-flag", "unrecognized arguments: --no-such-flag"),
        ("python benchmarks/bench.py --requests many", "invalid int value"),
        ("python benchmarks/nosuch.py", "no file benchmarks/nosuch.py"),
        ("python -X dev benchmarks/bench.py", "only `python [-i] SCRIPT ARGS...`"),
        ("python -m nosuch_module", "no module nosuch_module in this checkout"),
        ("python -m this", "only for a module that parses its arguments with argparse"),
        ("cd tinytodo && python -m tinytodo_server --port x", "Expected a valid integer port number"),
        ("python -m tinytodo_server --no-such-flag", "unrecognized arguments: --no-such-flag"),
        ("cd tinytodo && python -i tinytodo.py --port 1", "takes no arguments"),
        ("bash scripts/nosuch.sh", "not `bash SCRIPT`"),
        ("cd nosuch", "no directory"),
        ("export CEDAR_SERVE_ADMIN_TOKEN=x", "CEDAR_SERVE_ADMIN_TOKEN: not the environment variable"),
        ("export NOSUCH=x && cedar serve examples/authzen/search", "NOSUCH: not the environment variable"),
        ("rm -rf site", "no check knows `rm`"),
        ("cedar validate -p tinytodo/policies.cedar | tee out.txt", "`|` cannot be checked"),
        ("curl -s localhost:8180/health", "needs a `cedar serve DIR` before it"),
    ],
)
def test_a_planted_mistake_fails(tmp_path: Path, command: str, complaint: str) -> None:
    tally = _sh(tmp_path, "pip install cedarlang", command)
    assert len(tally.failures) == 1, tally.failures
    assert complaint in tally.failures[0]
    assert (tally.sh_not_run, tally.sh_checked, tally.sh_run) == (1, 0, 0)
    assert "1 not run" in tally.summary()


def test_the_real_commands_pass(tmp_path: Path) -> None:
    tally = _sh(
        tmp_path,
        'pip install cedarlang "cedarlang[sql,serve]"   # a comment',
        'pip install -e ".[docs]"',
        "export CEDAR_SERVE_ADMIN_TOKEN=... CEDAR_SERVE_PAGE_SECRET=...",
        "cedar serve postgresql://pdp@db/pdp --seed ./policies --port 8180 \\",
        "    --workers 2 --decision-log /var/log/cedar/decisions.jsonl",
        "cedar analyze compare tinytodo/policies.cedar tinytodo/policies.cedar -s tinytodo/tinytodo.cedarschema",
        "mkdocs build --strict; mkdocs serve",
        "python benchmarks/bench.py --quick --markdown",
        "bash scripts/demo.sh",
        "cd tinytodo && python -i tinytodo.py",
    )
    assert not tally.failures, tally.failures
    assert (tally.sh_checked, tally.sh_run, tally.sh_not_run, tally.sh_commands) == (1, 0, 0, 11)


def test_a_script_is_parsed_not_run(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text(
        "import argparse, pathlib\n"
        "parser = argparse.ArgumentParser()\n"
        "parser.add_argument('--fast', action='store_true')\n"
        "parser.parse_args()\n"
        "pathlib.Path('ran').write_text('the script ran')\n",
        encoding="utf-8",
    )
    state = shell.State(cwd=tmp_path)
    shell.check_python(["python", "job.py", "--fast"], state)
    assert not (tmp_path / "ran").exists()
    with pytest.raises(shell.ShellCheckError, match="unrecognized arguments: --slow"):
        shell.check_python(["python", "job.py", "--slow"], state)


def test_a_module_is_parsed_not_run(tmp_path: Path) -> None:
    """``python -m tinytodo_server`` would start a server: the check stops it at parse_args."""
    state = shell.State(cwd=shell.ROOT / "tinytodo")
    shell.check_python(["python", "-m", "tinytodo_server", "--port", "8080"], state)
    package = tmp_path / "job"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "__main__.py").write_text(
        "import argparse, pathlib\n"
        "argparse.ArgumentParser().parse_args()\n"
        "pathlib.Path('ran').write_text('the module ran')\n",
        encoding="utf-8",
    )
    shell.check_python(["python", "-m", "job"], shell.State(cwd=tmp_path))
    assert not (tmp_path / "ran").exists()
    with pytest.raises(shell.ShellCheckError, match="unrecognized arguments: --slow"):
        shell.check_python(["python", "-m", "job", "--slow"], shell.State(cwd=tmp_path))


def test_an_output_block_needs_a_block_that_runs(tmp_path: Path) -> None:
    tally = _page(tmp_path, '```sh\npip install cedarlang\n```\n\n```text title="Output"\nok\n```\n')
    assert len(tally.failures) == 1 and "does not run" in tally.failures[0]


SERVE = (
    "```sh\ncedar serve examples/authzen/search --port 8180\n"
    "curl -s localhost:8180/access/v1/evaluation -H 'Content-Type: application/json' \\\n"
    '  -d \'{"subject": {"type": "user", "id": "erin"}, "action": {"name": "delete"}, '
    '"resource": {"type": "record", "id": "%s"}}\'\n```\n'
)


def test_serve_and_curl_run_and_their_output_is_checked(tmp_path: Path) -> None:
    shown = '\n```text title="Output"\n{"decision":false}\n```\n'
    tally = _page(tmp_path, SERVE % "101" + shown)  # erin owns 105, not 101
    assert not tally.failures, tally.failures
    assert (tally.sh_run, tally.sh_checked, tally.sh_not_run) == (1, 0, 0)
    tally = _page(tmp_path, SERVE % "105" + shown)
    assert len(tally.failures) == 1 and '{"decision":true}' in tally.failures[0]
    tally = _page(tmp_path, SERVE % "105")
    assert len(tally.failures) == 1 and "the page shows\nNone" in tally.failures[0]


RUN = (
    "<!-- run: old.cedar=tinytodo/policies.cedar new.cedar=docs/examples/tinytodo-with-admin.cedar "
    "s.cedarschema=tinytodo/tinytodo.cedarschema status=%d -->\n"
    "```sh\ncedar analyze compare old.cedar new.cedar -s s.cedarschema --json > d.json \\\n"
    "  || jq -r .verdict d.json\n```\n"
)


def test_a_run_comment_runs_the_block_in_a_temp_dir(tmp_path: Path) -> None:
    shown = '\n```text title="Output"\nmore permissive\n```\n'
    tally = _page(tmp_path, RUN % 0 + shown)
    assert not tally.failures, tally.failures
    assert (tally.sh_run, tally.sh_commands) == (1, 1)
    tally = _page(tmp_path, RUN % 1 + shown)
    assert len(tally.failures) == 1 and "exited 0, its run comment says 1" in tally.failures[0]
    tally = _page(tmp_path, RUN % 0)
    assert len(tally.failures) == 1 and "more permissive" in tally.failures[0]
    tally = _page(tmp_path, (RUN % 0).replace("--json", "--jsn"))
    assert len(tally.failures) == 1 and "No such option '--jsn'" in tally.failures[0]
    tally = _page(tmp_path, (RUN % 0).replace("tinytodo/policies.cedar", "nosuch.cedar"))
    assert len(tally.failures) == 1 and "no file nosuch.cedar" in tally.failures[0]


def test_lines_join_continuations_and_commands_split() -> None:
    body = "a x \\\n  y  # note\n\nb && c; d\n"
    assert shell.lines(body) == ["a x    y  # note", "b && c; d"]
    assert shell.commands("b && c; d # e", run=False) == [["b"], ["c"], ["d"]]
    assert shell.commands("a > f || b", run=True) == [["a"], ["b"]]
