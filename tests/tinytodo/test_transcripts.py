"""End to end: the blog post's two transcripts fed to ``python -i tinytodo.py``.

How the comparison works: in interactive mode Python writes its ``>>> ``
prompts to stderr and the commands' output to stdout, and it does not echo
piped input. So the client runs unbuffered with stderr merged into stdout:
the output is then ``>>> `` + the first command's output + ``>>> `` + ... and
splitting it at the prompts gives each command's output, in order. Putting
each command back after its prompt rebuilds the session exactly as the blog
prints it, which is compared line by line (after turning the post's
typographic quotes and non-breaking spaces into ASCII ones). The server's own log goes to a file
(TINYTODO_SERVER_LOG) so it cannot interleave.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .helpers import ADMIN_POLICY, REPO, copy_tinytodo, free_port, policies_file

FIXTURE = Path(__file__).with_name("blog_transcripts.txt")
# The post itself lives in the project's shared folder (beside the repository in CI).
BLOG_CANDIDATES = [
    Path("/work/shared/seed/cedar-tinytodo-blog-post.txt"),
    REPO.parent / "shared" / "seed" / "cedar-tinytodo-blog-post.txt",
]
SHELL_LINE = "> python -i tinytodo.py"
PROMPT = ">>> "

# The post's typography: curly quotes, the double prime of List::"0″ and
# non-breaking spaces (the web page has some in the transcripts).
TYPOGRAPHIC = str.maketrans({"“": '"', "”": '"', "″": '"', "‘": "'", "’": "'", "\N{NO-BREAK SPACE}": " "})


def sections() -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in FIXTURE.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        if line.startswith("@@ "):
            current = result.setdefault(line[3:].split(" (")[0], [])
            continue
        assert current is not None
        current.append(line)
    return result


def normalize(line: str) -> str:
    return line.translate(TYPOGRAPHIC).rstrip()


def expected_session(name: str, port: int) -> list[str]:
    lines = [normalize(line) for line in sections()[name]]
    assert lines[0] == SHELL_LINE
    lines = [line for line in lines[1:] if line]
    if name == "transcript 2":
        # KNOWN BLOG DRIFT: the post's second transcript shows
        # "=== TinyTodo started on port 8080", but the real client prints
        # "TinyTodo server started on port 8080" (as the first transcript shows);
        # see /work/shared/guides/tinytodo-upstream.md, section 2, "Other
        # documentation drift". Only this one line is normalized.
        drift = "=== TinyTodo started on port 8080"
        assert lines.count(drift) == 1
        lines[lines.index(drift)] = "TinyTodo server started on port 8080"
    # The tests use a free port instead of the blog's 8080 (the default).
    return [line.replace("port 8080", f"port {port}") for line in lines]


def run_session(workdir: Path, commands: list[str], port: int, templates: bool) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINYTODO_")}
    env.update(
        PYTHONUNBUFFERED="1",
        TINYTODO_PORT=str(port),
        TINYTODO_SERVER_LOG=str(workdir / "server.log"),
    )
    if templates:
        env["TINYTODO_TEMPLATES"] = "1"
    proc = subprocess.run(
        [sys.executable, "-i", "tinytodo.py"],
        cwd=workdir,
        env=env,
        input="".join(c + "\n" for c in commands),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
    )
    out = proc.stdout
    assert proc.returncode == 0, out
    chunks = out.split(PROMPT)
    # Nothing before the first prompt; one prompt per command plus the one that read EOF.
    assert chunks[0] == "", out
    assert len(chunks) == len(commands) + 2, out
    assert chunks[-1].strip() == "", out
    session: list[str] = []
    for command, chunk in zip(commands, chunks[1:-1], strict=True):
        session.append(PROMPT + command)
        session += chunk.splitlines()
    return session


@pytest.mark.parametrize("templates", [False, True], ids=["teams", "templates"])
@pytest.mark.parametrize("name", ["transcript 1", "transcript 2"])
def test_blog_transcript(tmp_path: Path, name: str, templates: bool) -> None:
    workdir = copy_tinytodo(tmp_path / "tinytodo")
    if name == "transcript 2":
        policy = "\n".join(normalize(line) for line in sections()["admin policy"])
        path = policies_file(workdir, templates)
        path.write_text(path.read_text() + "\n" + policy + "\n")
    port = free_port()
    expected = expected_session(name, port)
    commands = [line[len(PROMPT) :] for line in expected if line.startswith(PROMPT)]
    actual = run_session(workdir, commands, port, templates)
    log = (workdir / "server.log").read_text()
    assert actual == expected, "server log:\n" + log
    for a, e in zip(actual, expected, strict=True):  # line by line, for a readable diff
        assert a == e


def test_fixture_is_verbatim_from_the_blog() -> None:
    blog = next((p for p in BLOG_CANDIDATES if p.exists()), None)
    if blog is None:
        pytest.skip("the blog post (shared/seed) is not on this machine")
    blog_lines = blog.read_text(encoding="utf-8").splitlines()
    for name, lines in sections().items():
        position = 0
        for line in lines:
            assert line in blog_lines[position:], (name, line)
            position = blog_lines.index(line, position) + 1


def test_admin_policy_in_fixture_is_the_blogs() -> None:
    text = " ".join(normalize(line) for line in sections()["admin policy"])
    assert text == 'permit( principal in Team::"admin", action, resource in Application::"TinyTodo");'
    assert 'principal in Team::"admin"' in ADMIN_POLICY


def _load_client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    workdir = copy_tinytodo(tmp_path / "client")
    spec = importlib.util.spec_from_file_location("tinytodo_client", workdir / "tinytodo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_client_default_port_is_8080(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = _load_client(monkeypatch, tmp_path)
    monkeypatch.delenv("TINYTODO_PORT", raising=False)
    seen: list[list[str]] = []

    class FakeProc:
        pid = -1
        returncode = 3

        def __init__(self, cmd: list[str], **kwargs: Any) -> None:
            seen.append(cmd)

        def poll(self) -> int:
            return 3

    monkeypatch.setattr(client.subprocess, "Popen", FakeProc)
    client.start_server()
    cmd = seen[0]
    assert cmd[:3] == [sys.executable, "-m", "tinytodo_server"]
    assert cmd[cmd.index("--port") + 1] == "8080"
    out = capsys.readouterr().out
    assert out == "TinyTodo server failed to start on port 8080 (exit code 3)\n"


def test_client_guards_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The messages of upstream's client for commands outside the blog's transcripts."""
    workdir = copy_tinytodo(tmp_path / "tinytodo")
    port = free_port()
    commands = [
        "get_lists()",
        "start_server()",
        "start_server()",
        "get_lists()",
        "set_user(andrew)",
        "create_list('foo')",
        "create_list('bar')",
        "get_lists()",
        "create_task(0, 'bar')",
        "toggle_task(0, 5)",
        "change_task_description(0, 1, 'baz')",
        "get_list(0)",
        "share_list(0, emina, read_only=False)",
        "get_list(9)",
        "share_list(0, Team('nobody'))",
        "set_user(emina)",
        "create_task(0, 'by emina')",
        "delete_list(0)",
        "share_list(0, emina, True)",
        "unshare_list(0, emina, read_only=False)",
        "set_user(andrew)",
        "unshare_list(0, emina, read_only=False)",
        "set_user(emina)",
        "delete_task(0, 1)",
        "get_lists()",
        "stop_server()",
        "get_list(0)",
    ]
    session = run_session(workdir, commands, port, templates=False)
    output = [line for line in session if not line.startswith(PROMPT)]
    assert output == [
        "No server running! Use `start_server()`!",
        f"TinyTodo server started on port {port}",
        "Server is already running",
        "No user set! Use `set_user()`",
        "User is now andrew",
        "Created list ID 0",
        "Created list ID 3",
        "Lists: foo,bar",
        "Created task on list ID 0",
        "No such task id 5 on list 0",
        "Description Updated",
        "=== foo ===",
        "List ID: 0",
        'Owner: User::"andrew"',
        "Tasks:",
        "1. [ ] baz",
        "Shared list ID 0 with emina as editor",
        'Error: No Such Entity: List::"9"',
        'Error: No Such Entity: Team::"nobody"',
        "User is now emina",
        "Created task on list ID 0",
        "Access denied. User emina is not authorized to delete list on [0]",
        "Access denied. User emina is not authorized to share list on [0, emina, True]",
        "Access denied. User emina is not authorized to unshare list on [0, emina]",
        "User is now andrew",
        "Unshared edit permissions on list ID 0 with emina",
        "User is now emina",
        "Access denied. User emina is not authorized to Delete Task on [0, 1]",
        "No lists for emina",
        f"TinyTodo server stopped on port {port}",
        "No server running! Use `start_server()`!",
    ]


def test_client_reports_a_server_that_cannot_start(tmp_path: Path) -> None:
    import socket

    workdir = copy_tinytodo(tmp_path / "tinytodo")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        session = run_session(workdir, ["start_server()", "get_lists()"], port, templates=False)
    output = [line for line in session if not line.startswith(PROMPT)]
    assert output[0].startswith(f"TinyTodo server failed to start on port {port} (exit code ")
    assert output[1] == "No server running! Use `start_server()`!"
    log = (workdir / "server.log").read_text()
    assert f"port {port} on 127.0.0.1 is already in use" in log and "TINYTODO_PORT" in log


def test_demo_fails_loudly_when_the_port_is_taken() -> None:
    """scripts/walkthrough.py (what demo.sh runs) exits non-zero with the server's own
    one-line reason, naming TINYTODO_PORT, instead of printing "No server running!"."""
    import os
    import socket
    import subprocess
    import sys

    from .helpers import REPO

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = dict(os.environ, TINYTODO_PORT=str(port))
        done = subprocess.run(
            [sys.executable, str(REPO / "scripts" / "walkthrough.py")],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 1
    assert "No server running" not in done.stdout
    assert f"error: port {port} on 127.0.0.1 is already in use" in done.stderr
    assert "TINYTODO_PORT" in done.stderr
