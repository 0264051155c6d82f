"""`cedar query resources|principals|actions`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cedarlang.cli import main

POLICIES = """permit(principal, action == Action::"view", resource) when { resource.owner == principal };
permit(principal, action == Action::"view", resource in Album::"shared");
forbid(principal, action, resource) when { resource has secret };
"""
ENTITIES = [
    {"uid": {"type": "User", "id": "alice"}, "attrs": {}, "parents": []},
    {"uid": {"type": "User", "id": "bob"}, "attrs": {}, "parents": []},
    {"uid": {"type": "Album", "id": "shared"}, "attrs": {}, "parents": []},
    {
        "uid": {"type": "Photo", "id": "a1"},
        "attrs": {"owner": {"__entity": {"type": "User", "id": "alice"}}},
        "parents": [],
    },
    {
        "uid": {"type": "Photo", "id": "a2"},
        "attrs": {"owner": {"__entity": {"type": "User", "id": "alice"}}, "secret": True},
        "parents": [],
    },
    {
        "uid": {"type": "Photo", "id": "s1"},
        "attrs": {"owner": {"__entity": {"type": "User", "id": "bob"}}},
        "parents": [{"type": "Album", "id": "shared"}],
    },
]


def _files(tmp_path: Path) -> list[str]:
    (tmp_path / "p.cedar").write_text(POLICIES)
    (tmp_path / "e.json").write_text(json.dumps(ENTITIES))
    return ["--policies", str(tmp_path / "p.cedar"), "--entities", str(tmp_path / "e.json")]


def test_query_resources_prints_one_uid_per_line(tmp_path: Path) -> None:
    args = ["query", "resources", "-l", 'User::"alice"', "-a", 'Action::"view"', "--resource-type", "Photo"]
    result = CliRunner().invoke(main, [*args, *_files(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ['Photo::"a1"', 'Photo::"s1"']


def test_query_principals_json(tmp_path: Path) -> None:
    args = [
        "query",
        "principals",
        "-a",
        'Action::"view"',
        "-r",
        'Photo::"a1"',
        "--principal-type",
        "User",
        "--json",
    ]
    result = CliRunner().invoke(main, [*args, *_files(tmp_path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"type": "User", "id": "alice"}]


def test_query_actions(tmp_path: Path) -> None:
    args = ["query", "actions", "-l", 'User::"bob"', "-r", 'Photo::"s1"']
    result = CliRunner().invoke(main, [*args, *_files(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ['Action::"view"']


def test_bad_uid_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    args = ["query", "resources", "-l", "User::alice", "-a", 'Action::"view"', "--resource-type", "Photo"]
    result = CliRunner().invoke(main, ["--error-format", "plain", *args, *_files(tmp_path)])
    assert result.exit_code == 1
    assert "invalid principal" in result.output
    assert "Traceback" not in result.output
