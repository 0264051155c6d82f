"""TinyTodo command-line client. Use it interactively::

    python -i tinytodo.py
    >>> start_server()
    TinyTodo server started on port 8080
    >>> set_user(andrew)
    User is now andrew
    >>> create_list("Cedar blog post")
    Created list ID 0

Commands: start_server(port=8080), stop_server(), set_user(user), get_lists(),
create_list(name), get_list(list_id), create_task(list_id, name),
toggle_task(list_id, task_no), change_task_description(list_id, task_no, text),
delete_task(list_id, task_no), share_list(list_id, user_or_team, read_only=True),
unshare_list(list_id, user_or_team, read_only=True), delete_list(list_id).
Users: emina, aaron, andrew, kesha. Teams: admin, interns, temp.

``start_server()`` runs the Python server (``python -m tinytodo_server``) in
the current directory, which must hold policies.cedar, tinytodo.cedarschema,
entities.json and credentials.json. ``set_user(andrew)`` logs in as andrew (at the
next command) with his demo password, ``andrew-tinytodo-demo`` (see README.md), or
with ``set_user(andrew, password="...")``, or the environment variable
TINYTODO_PASSWORD_ANDREW. Environment variables: TINYTODO_PORT (default port),
TINYTODO_DB (database), TINYTODO_TEMPLATES=1 (template mode), TINYTODO_LOG
(server log level, default warning), TINYTODO_SERVER_LOG (a file for the
server's log instead of this terminal).
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import IO, Any

import httpx

DEFAULT_PORT = 8080
START_TIMEOUT = 30.0


# -- Cedar entities ------------------------------------------------------------------------


class Entity:
    type = "Entity"

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.euid()

    def __str__(self) -> str:
        return self.name

    def euid(self) -> str:
        return '{}::"{}"'.format(self.type, self.name.replace("\\", "\\\\").replace('"', '\\"'))


class User(Entity):
    type = "User"


class Team(Entity):
    type = "Team"


class List(Entity):
    """A list, from its number (``0``) or its uid text (``'List::"0"'``)."""

    type = "List"

    def __init__(self, x: int | str) -> None:
        super().__init__(parse_euid(x, self.type) if isinstance(x, str) else str(x))


def parse_euid(euid: str, expected_type: str) -> str:
    typ, sep, rest = euid.partition("::")
    if not sep or len(rest) < 2 or rest[0] != '"' or rest[-1] != '"':
        if euid.isdigit():
            return euid
        raise ValueError(f"Failed to parse euid: {euid}")
    if typ != expected_type:
        raise ValueError(f"Expected type: {expected_type}, got {typ}")
    return rest[1:-1]


users = ["emina", "aaron", "andrew", "kesha"]
[emina, aaron, andrew, kesha] = [User(user) for user in users]
teams = ["admin", "interns", "temp"]
[admin, interns, temp] = [Team(team) for team in teams]
current_user: User | None = None


# -- the server process -------------------------------------------------------------------


class LoginFailed(Exception):
    pass


class Server:
    def __init__(self, port: int, proc: subprocess.Popen[bytes], log_file: IO[bytes] | None) -> None:
        self.port = port
        self.proc = proc
        self.log_file = log_file
        self.client = httpx.Client(base_url=self.url(), timeout=30.0)
        self.tokens: dict[str, str] = {}

    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def login(self, user: User) -> str:
        """A bearer token for ``user`` (logging in with the user's password once)."""
        token = self.tokens.get(user.euid())
        if token is None:
            resp = self.client.post("/api/login", json={"uid": user.euid(), "password": password_of(user)})
            body = resp.json() if resp.headers.get("content-type", "").startswith("application/json") else {}
            if resp.status_code != 200 or "token" not in body:
                raise LoginFailed(f"login failed for {user}: {body.get('error', resp.text)}")
            token = self.tokens[user.euid()] = str(body["token"])
        return token

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """An API call as the current user; logs in again once if the token expired."""
        user = current_user
        assert user is not None
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self.login(user)}"}
            resp = self.client.request(method, path, headers=headers, **kwargs)
            if resp.status_code != 401 or attempt:
                return resp
            self.tokens.pop(user.euid(), None)
        return resp

    def get(self, path: str, params: dict[str, str]) -> httpx.Response:
        return self.call("GET", path, params=params)

    def post(self, path: str, data: Any) -> httpx.Response:
        return self.call("POST", path, json=data)

    def delete(self, path: str, data: Any) -> httpx.Response:
        return self.call("DELETE", path, json=data)

    def stopped(self) -> bool:
        return self.proc.poll() is not None

    def kill(self) -> None:
        self.client.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log_file is not None:
            self.log_file.close()


class StoppedServer:
    def stopped(self) -> bool:
        return True

    def kill(self) -> None:
        pass


server: Server | StoppedServer = StoppedServer()


def running_server() -> Server:
    """The running server: ``web_req`` checks there is one before any API call."""
    if not isinstance(server, Server):
        raise RuntimeError("no server running")
    return server


def _wait_until_up(proc: subprocess.Popen[bytes], port: int) -> bool:
    """Until the server we started answers on the port (or exits, or time runs out)."""
    deadline = time.monotonic() + START_TIMEOUT
    with httpx.Client(timeout=0.5) as probe:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return False
            try:
                resp = probe.get(f"http://localhost:{port}/health")
                if resp.status_code == 200 and resp.json().get("pid") == proc.pid:
                    return True
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.05)
    return False


# Start the TinyTodo server
def start_server(port: int | None = None) -> None:
    global server
    if not server.stopped():
        print("Server is already running")
        return
    if port is None:
        port = int(os.environ.get("TINYTODO_PORT") or DEFAULT_PORT)
    cmd = [
        sys.executable,
        "-m",
        "tinytodo_server",
        "--port",
        str(port),
        "--log-level",
        os.environ.get("TINYTODO_LOG", "warning"),
    ]
    log_path = os.environ.get("TINYTODO_SERVER_LOG")
    log_file = open(log_path, "ab") if log_path else None  # noqa: SIM115
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file)
    if not _wait_until_up(proc, port):
        if proc.poll() is None:
            proc.terminate()
            proc.wait()
        if log_file is not None:
            log_file.close()
        print(f"TinyTodo server failed to start on port {port} (exit code {proc.returncode})")
        return
    server = Server(port, proc, log_file)
    print(f"TinyTodo server started on port {port}")


# Stop the TinyTodo server
def stop_server() -> None:
    global server
    if isinstance(server, Server):
        port = server.port
        server.kill()
        server = StoppedServer()
        print(f"TinyTodo server stopped on port {port}")


# Ensure the server gets stopped at process exit
atexit.register(stop_server)


passwords: dict[str, str] = {}


def password_of(user: User) -> str:
    """The password given to ``set_user``, else TINYTODO_PASSWORD_<NAME>, else the demo one."""
    env = os.environ.get(f"TINYTODO_PASSWORD_{user.name.upper()}")
    return passwords.get(user.euid()) or env or f"{user.name}-tinytodo-demo"


# Set the current user
def set_user(user: User | str, password: str | None = None) -> None:
    global current_user
    current_user = user if isinstance(user, User) else User(str(user))
    if password is not None:
        passwords[current_user.euid()] = password
        if isinstance(server, Server):
            server.tokens.pop(current_user.euid(), None)
    print(f"User is now {current_user}")


# -- API calls ------------------------------------------------------------------------------


class AuthException(Exception):
    def __init__(self, resp: httpx.Response) -> None:
        self.resp = resp


class NoSuchTaskException(Exception):
    def __init__(self, lst: List, task_no: int) -> None:
        self.lst = lst
        self.task_no = task_no

    def __str__(self) -> str:
        return f"No such task id {self.task_no} on list {self.lst}"


Printer = Callable[[Any], str]


def web_req(name: str) -> Callable[[Callable[..., tuple[httpx.Response, Printer]]], Callable[..., None]]:
    """Wrap an API call: guards, then print its result, a denial or an error."""

    def decorator(func: Callable[..., tuple[httpx.Response, Printer]]) -> Callable[..., None]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> None:
            if not isinstance(server, Server) or server.stopped():
                print("No server running! Use `start_server()`!")
                return
            if current_user is None:
                print("No user set! Use `set_user()`")
                return
            try:
                resp, f = func(current_user, *args, **kwargs)
                process_response(name, resp, f, args)
            except AuthException as e:
                process_response(name, e.resp, lambda _: "Unreachable", args)
            except NoSuchTaskException as e:
                print(e)
            except LoginFailed as e:
                print(f"Error: {e}")
            except httpx.HTTPError as e:
                print(f"Error: cannot reach the TinyTodo server at {server.url()}: {e}")

        return wrapper

    return decorator


def process_response(name: str, resp: httpx.Response, f: Printer, args: tuple[Any, ...]) -> None:
    try:
        body = json.loads(resp.text)
    except ValueError:
        body = None
    if is_error(body):
        if resp.status_code == 200 and is_authz_denied(body):
            shown = ", ".join(map(str, args))
            print(f"Access denied. User {current_user} is not authorized to {name} on [{shown}]")
        else:
            print("Error: {}".format(body["error"]))
    elif resp.status_code == 200:
        print(f(body))
    else:
        print(f"HTTP Error. Status: {resp.status_code}, body: {resp.text}")


def is_error(body: Any) -> bool:
    return isinstance(body, dict) and "error" in body


def is_authz_denied(body: Any) -> bool:
    return is_error(body) and body["error"] == "Authorization Denied"


def _list_number(euid: str) -> tuple[int, int | str]:
    name = parse_euid(euid, "List")
    return (0, int(name)) if name.isdigit() else (1, name)


@web_req("Get Lists")
def get_lists(user: User) -> tuple[httpx.Response, Printer]:
    srv = running_server()
    resp = srv.get("/api/lists/get", {})
    pages: list[dict[str, Any]] = []
    while resp.status_code == 200 and "next" in resp.links and isinstance(resp.json(), list):
        pages += resp.json()
        resp = srv.client.request(
            "GET", resp.links["next"]["url"], headers={"Authorization": f"Bearer {srv.login(user)}"}
        )

    def show(lists: list[dict[str, Any]]) -> str:
        lists = pages + lists
        if not lists:
            return f"No lists for {user}"
        lists = sorted(lists, key=lambda lst: _list_number(lst["uid"]))
        return "Lists: {}".format(",".join(lst["name"] for lst in lists))

    return resp, show


@web_req("Create List")
def create_list(user: User, name: str) -> tuple[httpx.Response, Printer]:
    data = {"name": name}
    return running_server().post("/api/list/create", data), lambda x: f"Created list ID {List(x)}"


@web_req("Get List")
def get_list(user: User, list_id: int | str) -> tuple[httpx.Response, Printer]:
    lst = List(list_id)
    return get_list_inner(user, lst), display_list(lst)


def get_list_inner(user: User, lst: List) -> httpx.Response:
    return running_server().get("/api/list/get", {"list": lst.euid()})


def get_list_data(user: User, lst: List) -> dict[str, Any]:
    resp = get_list_inner(user, lst)
    try:
        body = json.loads(resp.text)
    except ValueError:
        raise AuthException(resp) from None
    if resp.status_code != 200 or not isinstance(body, dict) or "error" in body:
        raise AuthException(resp)
    data: dict[str, Any] = body
    return data


def display_list(lst: List) -> Printer:
    def show(obj: dict[str, Any]) -> str:
        tasks = sorted(obj["tasks"], key=lambda task: task["id"])
        lines = [
            "=== {} ===".format(obj["name"]),
            f"List ID: {lst}",
            "Owner: {}".format(obj["owner"]),
            "Tasks:",
        ]
        lines += [display_task(i + 1, task) for i, task in enumerate(tasks)]
        return "\n".join(lines)

    return show


def display_task(index: int, task: dict[str, Any]) -> str:
    box = "[ ]" if task["state"] == "Unchecked" else "[X]"
    return f"{index}. {box} {task['name']}"


@web_req("Create Task")
def create_task(user: User, list_id: int | str, name: str) -> tuple[httpx.Response, Printer]:
    lst = List(list_id)
    data = {"list": lst.euid(), "name": name}
    return running_server().post("/api/task/create", data), lambda _: f"Created task on list ID {lst}"


def find_task(user: User, lst: List, task_no: int) -> dict[str, Any]:
    """The task at 1-based position ``task_no`` (tasks ordered by id)."""
    tasks = sorted(get_list_data(user, lst)["tasks"], key=lambda task: task["id"])
    if not isinstance(task_no, int) or not 1 <= task_no <= len(tasks):
        raise NoSuchTaskException(lst, task_no)
    task: dict[str, Any] = tasks[task_no - 1]
    return task


@web_req("Toggle Task")
def toggle_task(user: User, list_id: int | str, task_no: int) -> tuple[httpx.Response, Printer]:
    lst = List(list_id)
    task = find_task(user, lst, task_no)
    data = {"list": lst.euid(), "task": task["id"], "toggle": True}  # flipped on the server, atomically
    return running_server().post("/api/task/update", data), lambda _: f"Toggled task on list ID {lst}"


@web_req("Change Task Description")
def change_task_description(
    user: User, list_id: int | str, task_no: int, desc: str
) -> tuple[httpx.Response, Printer]:
    lst = List(list_id)
    task = find_task(user, lst, task_no)
    data = {"list": lst.euid(), "task": task["id"], "name": desc}
    return running_server().post("/api/task/update", data), lambda _: "Description Updated"


@web_req("Delete Task")
def delete_task(user: User, list_id: int | str, task_no: int) -> tuple[httpx.Response, Printer]:
    lst = List(list_id)
    task = find_task(user, lst, task_no)
    data = {"list": lst.euid(), "task": task["id"]}
    return running_server().delete("/api/task/delete", data), lambda _: "Task Deleted"


@web_req("delete list")
def delete_list(user: User, list_id: int | str) -> tuple[httpx.Response, Printer]:
    data = {"list": List(list_id).euid()}
    return running_server().delete("/api/list/delete", data), lambda _: "List Deleted"


@web_req("share list")
def share_list(
    user: User, list_id: int | str, share_with: Entity, read_only: bool = True
) -> tuple[httpx.Response, Printer]:
    lst = List(list_id)
    data = {"list": lst.euid(), "role": "Reader" if read_only else "Editor", "share_with": share_with.euid()}
    role = "reader" if read_only else "editor"
    resp = running_server().post("/api/share", data)
    return resp, lambda _: f"Shared list ID {lst} with {share_with} as {role}"


@web_req("unshare list")
def unshare_list(
    user: User, list_id: int | str, unshare_with: Entity, read_only: bool = True
) -> tuple[httpx.Response, Printer]:
    lst = List(list_id)
    data = {
        "list": lst.euid(),
        "role": "Reader" if read_only else "Editor",
        "unshare_with": unshare_with.euid(),
    }
    what = "read" if read_only else "edit"
    resp = running_server().delete("/api/share", data)
    return resp, lambda _: f"Unshared {what} permissions on list ID {lst} with {unshare_with}"
