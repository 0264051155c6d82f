"""Shared helpers for the TinyTodo tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
TINYTODO_DIR = REPO / "tinytodo"
TINYTODO_FILES = (
    "tinytodo.py",
    "policies.cedar",
    "policies-templates.cedar",
    "tinytodo.cedarschema",
    "tinytodo-templates.cedarschema",
    "entities.json",
    "credentials.json",
)

# Policy 4 of upstream's policies.cedar, as the blog post asks to append it.
ADMIN_POLICY = """
// Policy 4: Admins can perform any action on any resource
@id("admin-omnipotence")
permit (
    principal in Team::"admin",
    action,
    resource in Application::"TinyTodo"
);
"""

MODES = ("teams", "templates")


def policies_file(workdir: Path, templates: bool) -> Path:
    return workdir / ("policies-templates.cedar" if templates else "policies.cedar")


def copy_tinytodo(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in TINYTODO_FILES:
        shutil.copy(TINYTODO_DIR / name, dest / name)
    return dest


def append_admin_policy(workdir: Path, templates: bool = False) -> None:
    path = policies_file(workdir, templates)
    path.write_text(path.read_text() + ADMIN_POLICY)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def U(name: str) -> str:
    return f'User::"{name}"'


def T(name: str) -> str:
    return f'Team::"{name}"'


def L(list_id: int | str) -> str:
    return f'List::"{list_id}"'


def target(who: str) -> str:
    """``"interns"``-style names: teams admin/interns/temp, else a user; full uids pass."""
    if "::" in who:
        return who
    return T(who) if who in ("admin", "interns", "temp") else U(who)


DENIED = {"error": "Authorization Denied"}


def demo_password(who: str) -> str:
    return f"{who}-tinytodo-demo"


class Api:
    """The HTTP API through any httpx client (a TestClient or a real connection), logged
    in as each demo user on first use (their demo passwords)."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    def login(self, who: str, password: str | None = None) -> httpx.Response:
        body = {"uid": U(who), "password": demo_password(who) if password is None else password}
        return self.client.post("/api/login", json=body)

    def token(self, who: str) -> str:
        if who not in self.tokens:
            resp = self.login(who)
            assert resp.status_code == 200, resp.text
            self.tokens[who] = resp.json()["token"]
        return self.tokens[who]

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(who)}"}

    def get(self, who: str, path: str, params: dict[str, str]) -> httpx.Response:
        return self.client.get(path, params=params, headers=self.headers(who))

    def send(self, who: str, method: str, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.client.request(method, path, json=body, headers=self.headers(who))

    def get_list(self, who: str, lst: int | str) -> httpx.Response:
        return self.get(who, "/api/list/get", {"uid": U(who), "list": L(lst)})

    def get_lists(self, who: str, **params: str) -> httpx.Response:
        return self.get(who, "/api/lists/get", {"uid": U(who), **params})

    def all_lists(self, who: str, limit: int = 100) -> list[Any]:
        """Every page of get_lists, following the ``Link: rel="next"`` headers."""
        resp = self.get_lists(who, limit=str(limit))
        found: list[Any] = []
        while True:
            found += self.ok(resp)
            if "next" not in resp.links:
                return found
            resp = self.client.get(resp.links["next"]["url"], headers=self.headers(who))

    def create_list(self, who: str, name: str) -> httpx.Response:
        return self.send(who, "POST", "/api/list/create", {"uid": U(who), "name": name})

    def update_list(self, who: str, lst: int | str, name: str) -> httpx.Response:
        return self.send(who, "POST", "/api/list/update", {"uid": U(who), "list": L(lst), "name": name})

    def delete_list(self, who: str, lst: int | str) -> httpx.Response:
        return self.send(who, "DELETE", "/api/list/delete", {"uid": U(who), "list": L(lst)})

    def create_task(self, who: str, lst: int | str, name: str) -> httpx.Response:
        return self.send(who, "POST", "/api/task/create", {"uid": U(who), "list": L(lst), "name": name})

    def update_task(
        self,
        who: str,
        lst: int | str,
        task: int,
        name: str | None = None,
        state: str | None = None,
    ) -> httpx.Response:
        body: dict[str, Any] = {"uid": U(who), "list": L(lst), "task": task}
        if name is not None:
            body["name"] = name
        if state is not None:
            body["state"] = state
        return self.send(who, "POST", "/api/task/update", body)

    def toggle_task(self, who: str, lst: int | str, task: int) -> httpx.Response:
        return self.send(who, "POST", "/api/task/update", {"list": L(lst), "task": task, "toggle": True})

    def delete_task(self, who: str, lst: int | str, task: int) -> httpx.Response:
        return self.send(who, "DELETE", "/api/task/delete", {"uid": U(who), "list": L(lst), "task": task})

    def share(self, who: str, lst: int | str, with_: str, role: str = "Reader") -> httpx.Response:
        body = {"uid": U(who), "list": L(lst), "share_with": target(with_), "role": role}
        return self.send(who, "POST", "/api/share", body)

    def unshare(self, who: str, lst: int | str, with_: str, role: str = "Reader") -> httpx.Response:
        body = {"uid": U(who), "list": L(lst), "unshare_with": target(with_), "role": role}
        return self.send(who, "DELETE", "/api/share", body)

    # -- conveniences: assert success and return the JSON ---------------------------------

    def ok(self, resp: httpx.Response) -> Any:
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert not (isinstance(body, dict) and "error" in body), body
        return body

    def new_list(self, who: str, name: str) -> str:
        uid = self.ok(self.create_list(who, name))
        assert uid.startswith('List::"')
        return str(uid[len('List::"') : -1])


class ServerProcess:
    """``python -m tinytodo_server`` in a working directory, logging to a file."""

    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        db: str | None = None,
        templates: bool = False,
        extra: tuple[str, ...] = (),
        log_name: str = "server.log",
    ) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.db = db
        self.templates = templates
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / log_name

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        cmd = [
            sys.executable,
            "-m",
            "tinytodo_server",
            "--port",
            str(self.port),
            "--log-level",
            "info",
            *self.extra,
        ]
        if self.db:
            cmd += ["--db", self.db]
        if self.templates:
            cmd.append("--templates")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TINYTODO_")}
        log = open(self.log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            cmd, cwd=self.workdir, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                resp = httpx.get(f"{self.url}/health", timeout=1.0)
                if resp.status_code == 200 and resp.json()["pid"] == self.proc.pid:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"server did not come up:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def api(self) -> Api:
        return Api(httpx.Client(base_url=self.url, timeout=30.0))
