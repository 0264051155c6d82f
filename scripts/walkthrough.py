"""The blog post's TinyTodo walkthrough, run for real against a fresh data directory.

Copies the ``tinytodo/`` folder to a new temporary directory, feeds the blog's
first session to ``python -i tinytodo.py``, then appends the administrator
policy to that copy's ``policies.cedar`` (as the post tells the reader to) and
feeds the second session. Prints both sessions as they would appear on a
terminal. Every line of output comes from the client and server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROMPT = ">>> "

SESSION_1 = [
    "start_server()",
    "set_user(andrew)",
    "get_lists()",
    'create_list("Cedar blog post")',
    "get_list(0)",
    'create_task(0,"Draft the post")',
    'create_task(0,"Revise and polish")',
    "get_list(0)",
    "toggle_task(0,1)",
    "get_list(0)",
    "share_list(0,interns,read_only=True)",
    "set_user(aaron)",
    "get_list(0)",
    "toggle_task(0,2)",
    "set_user(kesha)",
    "get_list(0)",
    "stop_server()",
]
ADMIN_POLICY = """
permit(
principal in Team::"admin",
action,
resource in Application::"TinyTodo");
"""
SESSION_2 = [
    "start_server()",
    "set_user(andrew)",
    'create_list("Cedar blog post")',
    "set_user(emina)",
    "get_list(0)",
    "delete_list(0)",
    "stop_server()",
]


def run_session(workdir: Path, commands: list[str]) -> str:
    """Run the client interactively; rebuild the screen from its prompts and output."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", TINYTODO_SERVER_LOG=str(workdir / "server.log"))
    proc = subprocess.run(
        [sys.executable, "-i", "tinytodo.py"],
        cwd=workdir,
        env=env,
        input="".join(c + "\n" for c in commands),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
        check=False,
    )
    chunks = proc.stdout.split(PROMPT)
    screen = ["> python -i tinytodo.py"]
    for command, chunk in zip(commands, chunks[1:], strict=False):
        screen.append(PROMPT + command)
        screen.extend(chunk.rstrip("\n").splitlines())
    if proc.returncode != 0 or len(chunks) != len(commands) + 2:
        screen.append(f"[the client exited with status {proc.returncode}; output was:]\n{proc.stdout}")
    return "\n".join(screen)


def started(workdir: Path, screen: str) -> bool:
    """Whether the session's server came up; if not, say why on stderr (the server's own
    error, e.g. the port is taken, naming TINYTODO_PORT)."""
    lines = screen.splitlines()
    if len(lines) > 2 and lines[2].startswith("TinyTodo server started on port"):
        return True
    log = workdir / "server.log"
    detail = log.read_text(errors="replace").strip() if log.exists() else "(no server output)"
    print(
        f"demo: error: the TinyTodo server did not start: {lines[2] if len(lines) > 2 else screen}",
        file=sys.stderr,
    )
    print(detail, file=sys.stderr)
    return False


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="tinytodo-") as tmp:
        workdir = Path(tmp) / "tinytodo"
        shutil.copytree(REPO / "tinytodo", workdir, ignore=shutil.ignore_patterns("__pycache__"))
        print(f"# fresh data directory: {workdir}\n")
        screen = run_session(workdir, SESSION_1)
        if not started(workdir, screen):
            return 1
        print(screen)
        policies = workdir / "policies.cedar"
        policies.write_text(policies.read_text() + ADMIN_POLICY)
        print("\n# appended the administrator policy to policies.cedar:" + ADMIN_POLICY)
        screen = run_session(workdir, SESSION_2)
        if not started(workdir, screen):
            return 1
        print(screen)
    return 0


if __name__ == "__main__":
    sys.exit(main())
