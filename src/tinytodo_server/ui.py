"""The web UI: server-rendered pages over the same commands as the JSON API.

=========================================  ===========================================
Page or form post                          What it does
=========================================  ===========================================
GET  ``/``                                 to ``/lists``, or ``/login`` when logged out
GET  ``/login``, POST ``/login``           the login form; a session cookie on success
POST ``/logout``                           forget the session cookie
GET  ``/lists``                            my lists and lists shared with me (paged)
POST ``/lists``                            create a list
GET  ``/lists/{id}``                       a list: its tasks, its shares, the controls
POST ``/lists/{id}/rename``, ``/delete``   rename or delete the list
POST ``/lists/{id}/tasks``                 add a task
POST ``/lists/{id}/tasks/{n}/toggle``      check or uncheck a task (``/rename``, ``/delete``)
POST ``/lists/{id}/share``, ``/unshare``   share with a user or team as reader or editor
=========================================  ===========================================

Cedar decides what each user sees: a page shows a control only when a permission query
(:meth:`TinyTodo.list_page`, :meth:`TinyTodo.lists_page`) says the user may take
that action, and every form post runs the same command as the API, which authorizes it
again, so a hidden control is never the only protection. After a post the browser is
redirected to the page to show (post/redirect/get); errors are pages that say what went
wrong in words (denied, not found, invalid input), with the matching HTTP status.

Security: the session is the API's signed, expiring token in a cookie (``HttpOnly``,
``SameSite=Strict``; ``Secure`` with the ``__Host-`` prefix over HTTPS); every form
carries a CSRF token bound to the session (an HMAC of it), the login form one bound to a
one-time cookie; a post another site started (``Sec-Fetch-Site``, ``Origin``) is refused;
pages carry a strict Content-Security-Policy (scripts and styles from this server only, no
inline code, no framing) and are not cached. The pages work without JavaScript;
``tinytodo.js`` asks before deleting and puts the focus back on the task just changed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from cedarlang import EntityUid

from .auth import AuthError
from .core import AppError, AuthDenied, NoSuchEntity, TinyTodo, Unauthenticated
from .inputs import FORM, BadRequest, Fields, Forbidden, Security, WebLimits, parse_form, read_body, shown
from .model import LIST_TYPE, TEAM_TYPE, USER_TYPE

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
STATIC_FILES = {
    "tinytodo.css": "text/css; charset=utf-8",
    "tinytodo.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
SESSION_COOKIE = "tinytodo_session"
LOGIN_NONCE = re.compile(r"[A-Za-z0-9_-]{32}")
SESSION_ENDED = "Your session has ended: log in again."
EXPIRED_FORM = "the form has expired or did not come from this site: reload the page and try again"
LOGIN_COOKIE = "tinytodo_login"

# What a page says after a form post succeeded (``?done=...``; a fixed set, no user text).
DONE = {
    "list-created": "List created.",
    "list-renamed": "List renamed.",
    "list-deleted": "List deleted.",
    "task-added": "Task added.",
    "task-toggled": "Task updated.",
    "task-renamed": "Task renamed.",
    "task-deleted": "Task deleted.",
    "shared": "List shared.",
    "unshared": "Sharing stopped.",
}

# What a denied form post tried to do, in words ("You may not ...").
DENIED = {
    "create": "create lists",
    "lists": "see lists",
    "view": "see this list",
    "rename": "rename this list",
    "delete": "delete this list",
    "add": "add tasks to this list",
    "toggle": "check or uncheck tasks of this list",
    "rename-task": "rename tasks of this list",
    "delete-task": "delete tasks of this list",
    "share": "change whom this list is shared with",
}


ERROR_HEADINGS = {
    401: "Log in again",
    403: "Not allowed",
    404: "Not found",
    405: "Not found",
    500: "Something went wrong",
}


@dataclass(frozen=True)
class UiConfig:
    secure_cookies: bool | None = None
    """``Secure`` cookies: always, never, or (``None``) when the request came over HTTPS
    (behind a TLS proxy, run uvicorn with ``--proxy-headers`` or set this)."""
    page_size: int = 50
    share_suggestions: int = 500
    """Users and teams suggested in the share form."""


@dataclass(frozen=True)
class Session:
    user: EntityUid
    token: str


def _template_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tinytodo_server", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["quote"] = lambda text: quote(str(text), safe="")
    return env


def _static_files() -> dict[str, tuple[bytes, str]]:
    folder = resources.files("tinytodo_server") / "static"
    return {name: ((folder / name).read_bytes(), media) for name, media in STATIC_FILES.items()}


class WebUi:
    """The pages, bound to the application's commands and credentials."""

    def __init__(self, core: TinyTodo, security: Security, limits: WebLimits, config: UiConfig) -> None:
        self.core = core
        self.security = security
        self.limits = limits
        self.config = config
        self.env = _template_environment()
        self.static = _static_files()

    def routes(self) -> list[Route]:
        post = ["POST"]
        task = "/lists/{list}/tasks/{task}"
        return [
            Route("/", self.home, methods=["GET"]),
            Route("/login", self.login_page, methods=["GET"]),
            Route("/login", self.login, methods=post),
            Route("/logout", self.logout, methods=post),
            Route("/lists", self.lists_page, methods=["GET"]),
            Route("/lists", self._form(self._create_list, "create"), methods=post),
            Route("/lists/{list}", self.list_page, methods=["GET"]),
            Route("/lists/{list}/rename", self._form(self._rename_list, "rename"), methods=post),
            Route("/lists/{list}/delete", self._form(self._delete_list, "delete"), methods=post),
            Route("/lists/{list}/tasks", self._form(self._add_task, "add"), methods=post),
            Route(f"{task}/toggle", self._form(self._toggle, "toggle"), methods=post),
            Route(
                "/lists/{list}/tasks/{task}/rename",
                self._form(self._rename_task, "rename-task"),
                methods=post,
            ),
            Route(
                "/lists/{list}/tasks/{task}/delete",
                self._form(self._delete_task, "delete-task"),
                methods=post,
            ),
            Route("/lists/{list}/share", self._form(self._share, "share"), methods=post),
            Route("/lists/{list}/unshare", self._form(self._unshare, "share"), methods=post),
            Route("/static/{name}", self.static_file, methods=["GET"]),
        ]

    # -- responses ---------------------------------------------------------------------

    def _render(self, request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
        session: Session | None = values.pop("session", None)
        html = self.env.get_template(template).render(
            user=session.user.id if session else None,
            csrf=self._csrf(session) if session else "",
            done=DONE.get(request.query_params.get("done", "")) if status_code == 200 else None,
            max_text=self.limits.max_text,
            **values,
        )
        return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)

    def _redirect(self, url: str) -> Response:
        return RedirectResponse(url, status_code=303, headers=PAGE_HEADERS)

    def http_error(self, request: Request, status: int) -> Response:
        """A page for a path or method no route serves, or an unexpected error."""
        messages = {404: "There is no such page.", 405: "That page cannot be used that way."}
        message = messages.get(status, "Something went wrong on the server (it is logged): try again.")
        return self._error(request, self._session(request), status, message)

    def _error(self, request: Request, session: Session | None, status: int, message: str) -> Response:
        heading = ERROR_HEADINGS.get(status, "That did not work")
        list_id = request.path_params.get("list")
        back = None  # after a mistake in one of a list's forms, back to that list
        if session is not None and list_id is not None and status not in (403, 404):
            back = _list_url(EntityUid(LIST_TYPE, str(list_id)))
        return self._render(
            request, "error.html", status, session=session, heading=heading, message=message, back=back
        )

    # -- sessions and CSRF -------------------------------------------------------------------

    def _secure(self, request: Request) -> bool:
        configured = self.config.secure_cookies
        return request.url.scheme == "https" if configured is None else configured

    def _cookie(self, request: Request, name: str) -> str:
        return f"__Host-{name}" if self._secure(request) else name

    def _set_cookie(self, request: Request, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            self._cookie(request, name),
            value,
            max_age=max_age,
            path="/",
            secure=self._secure(request),
            httponly=True,
            samesite="strict",
        )

    def _forget_cookie(self, request: Request, response: Response, name: str) -> None:
        self._set_cookie(request, response, name, "", 0)

    def _session(self, request: Request) -> Session | None:
        token = request.cookies.get(self._cookie(request, SESSION_COOKIE))
        if not token or len(token) > 4096:
            return None
        try:
            return Session(self.security.tokens.subject(token), token)
        except AuthError:
            return None

    def _mac(self, purpose: str, value: str) -> str:
        message = f"{purpose}\x00{value}".encode()
        return hmac.new(self.security.tokens.secret, message, hashlib.sha256).hexdigest()

    def _csrf(self, session: Session) -> str:
        return self._mac("csrf", session.token)

    def _check_origin(self, request: Request) -> None:
        """Refuse a post that another site started (a CSRF attempt, or a page framed elsewhere)."""
        site = request.headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            raise Forbidden("this form was sent from another site")
        origin = request.headers.get("origin")
        if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
            raise Forbidden("this form was sent from another site")

    @staticmethod
    def _check_token(fields: Fields, expected: str) -> None:
        given = fields.string("csrf", 128) if fields.has("csrf") else ""
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Forbidden(EXPIRED_FORM)

    async def _read_form(self, request: Request) -> Fields:
        self._check_origin(request)
        return parse_form(await read_body(request, self.limits, FORM), self.limits)

    # -- pages ----------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        return self._redirect("/lists" if self._session(request) else "/login")

    async def login_page(self, request: Request) -> Response:
        if self._session(request):
            return self._redirect("/lists")
        return self._login_form(request, 200, None)

    def _login_form(self, request: Request, status: int, message: str | None, user: str = "") -> Response:
        # One nonce per browser (kept while it lasts), so two login tabs both work.
        nonce = request.cookies.get(self._cookie(request, LOGIN_COOKIE), "")
        if not LOGIN_NONCE.fullmatch(nonce):
            nonce = secrets.token_urlsafe(24)
        response = self._render(
            request, "login.html", status, login_csrf=self._mac("login", nonce), message=message, name=user
        )
        self._set_cookie(request, response, LOGIN_COOKIE, nonce, 3600)
        return response

    async def login(self, request: Request) -> Response:
        try:
            fields = await self._read_form(request)
            nonce = request.cookies.get(self._cookie(request, LOGIN_COOKIE), "")
            if not LOGIN_NONCE.fullmatch(nonce):  # no cookie: no token can match
                raise Forbidden(EXPIRED_FORM)
            self._check_token(fields, self._mac("login", nonce))
            name = fields.string("user", self.limits.max_uid).strip()
            password = fields.string("password", self.limits.max_text)
            user = EntityUid(USER_TYPE, name)
            if not name or not await run_in_threadpool(self.security.verify_password, user, password):
                return self._login_form(request, 401, "Wrong user name or password.", name)
        except AppError as err:
            return self._error(request, None, err.status, err.message)
        request.scope["tinytodo.user"] = str(user)
        response = self._redirect("/lists")
        ttl = int(self.security.tokens.ttl)
        self._set_cookie(request, response, SESSION_COOKIE, self.security.tokens.issue(user), ttl)
        self._forget_cookie(request, response, LOGIN_COOKIE)
        return response

    async def logout(self, request: Request) -> Response:
        session = self._session(request)
        if session is not None:
            try:
                self._check_token(await self._read_form(request), self._csrf(session))
            except AppError as err:
                return self._error(request, session, err.status, err.message)
        response = self._redirect("/login")
        self._forget_cookie(request, response, SESSION_COOKIE)
        return response

    async def lists_page(self, request: Request) -> Response:
        session = self._session(request)
        if session is None:
            return self._redirect("/login")
        after = request.query_params.get("after")
        if after is not None and (len(after) > self.limits.max_uid or "\x00" in after):
            return self._error(request, session, 400, "That page does not exist.")

        def work() -> Response:
            lists, next_after, actions = self.core.lists_page(session.user, after, self.config.page_size)
            next_page = "/lists?" + urlencode({"after": next_after}) if next_after is not None else None
            return self._render(
                request,
                "lists.html",
                session=session,
                title="My lists",
                mine=[lst for lst in lists if lst.owner == session.user],
                shared=[lst for lst in lists if lst.owner != session.user],
                can_create="CreateList" in actions,
                next_page=next_page,
            )

        return await self._run(request, session, "lists", work)

    async def list_page(self, request: Request) -> Response:
        session = self._session(request)
        if session is None:
            return self._redirect("/login")

        def work() -> Response:
            page = self.core.list_page(session.user, self._list_uid(request))
            users: list[EntityUid] = []
            teams: list[EntityUid] = []
            if "EditShare" in page.actions:
                users, teams = self.core.share_targets(self.config.share_suggestions)
            return self._render(
                request,
                "list.html",
                session=session,
                title=page.list.name,
                page=page,
                can=page.actions,
                users=[u.id for u in users],
                teams=[t.id for t in teams],
            )

        return await self._run(request, session, "view", work)

    async def static_file(self, request: Request) -> Response:
        found = self.static.get(request.path_params["name"])
        if found is None:
            return Response("Not Found", 404, media_type="text/plain")
        body, media_type = found
        headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=300"}
        return Response(body, media_type=media_type, headers=headers)

    # -- form posts ---------------------------------------------------------------------------

    def _form(
        self, command: Callable[[Request, Session, Fields], str], what: str
    ) -> Callable[[Request], Awaitable[Response]]:
        """A form post: check the session, the form's origin and CSRF token, then run
        ``command`` (which returns where to go next) off the event loop."""

        async def endpoint(request: Request) -> Response:
            session = self._session(request)
            if session is None:
                return self._error(request, None, 401, SESSION_ENDED)
            try:
                fields = await self._read_form(request)
                self._check_token(fields, self._csrf(session))
            except AppError as err:
                return self._error(request, session, err.status, err.message)
            return await self._run(
                request, session, what, lambda: self._redirect(command(request, session, fields))
            )

        return endpoint

    async def _run(
        self, request: Request, session: Session, what: str, work: Callable[[], Response]
    ) -> Response:
        request.scope["tinytodo.user"] = str(session.user)
        try:
            return await run_in_threadpool(work)
        except Unauthenticated:
            return self._error(request, None, 401, SESSION_ENDED)
        except AuthDenied:
            return self._error(
                request, session, 403, f"You may not {DENIED[what]}: the policies do not allow it."
            )
        except AppError as err:
            if err.status == 404:
                return self._error(request, session, 404, _not_found(err))
            return self._error(request, session, err.status, err.message)

    def _list_uid(self, request: Request) -> EntityUid:
        list_id = str(request.path_params["list"])
        if len(list_id) > self.limits.max_uid or "\x00" in list_id:
            raise NoSuchEntity(EntityUid(LIST_TYPE, list_id[:40].replace("\x00", "")))
        return EntityUid(LIST_TYPE, list_id)

    @staticmethod
    def _task_id(request: Request) -> int:
        text = str(request.path_params["task"])
        if not (text.isascii() and text.isdigit()) or len(text) > 18:
            raise AppError("There is no such task.", 404)
        return int(text)

    def _create_list(self, request: Request, session: Session, f: Fields) -> str:
        uid = self.core.create_list(session.user, _name(f))
        return _list_url(uid, "list-created", "new-task")

    def _rename_list(self, request: Request, session: Session, f: Fields) -> str:
        uid = self._list_uid(request)
        self.core.update_list(session.user, uid, _name(f))
        return _list_url(uid, "list-renamed")

    def _delete_list(self, request: Request, session: Session, f: Fields) -> str:
        self.core.delete_list(session.user, self._list_uid(request))
        return "/lists?done=list-deleted"

    def _add_task(self, request: Request, session: Session, f: Fields) -> str:
        uid = self._list_uid(request)
        self.core.create_task(session.user, uid, _name(f))
        return _list_url(uid, "task-added", "new-task")  # ready for the next task

    def _toggle(self, request: Request, session: Session, f: Fields) -> str:
        uid, task = self._list_uid(request), self._task_id(request)
        self.core.update_task(session.user, uid, task, toggle=True)
        return _list_url(uid, "task-toggled", f"task-{task}")

    def _rename_task(self, request: Request, session: Session, f: Fields) -> str:
        uid, task = self._list_uid(request), self._task_id(request)
        self.core.update_task(session.user, uid, task, name=_name(f))
        return _list_url(uid, "task-renamed", f"task-{task}")

    def _delete_task(self, request: Request, session: Session, f: Fields) -> str:
        uid, task = self._list_uid(request), self._task_id(request)
        self.core.delete_task(session.user, uid, task)
        return _list_url(uid, "task-deleted")

    def _share(self, request: Request, session: Session, f: Fields) -> str:
        uid = self._list_uid(request)
        kind = f.string("kind", 8)
        if kind not in (USER_TYPE, TEAM_TYPE):
            raise BadRequest("Share with a user or a team.")
        name = f.string("name", self.limits.max_uid).strip()
        if not name:
            raise BadRequest(f"Name the {kind.lower()} to share with.")
        self.core.share(session.user, uid, EntityUid(kind, name), f.role())
        return _list_url(uid, "shared", "sharing")

    def _unshare(self, request: Request, session: Session, f: Fields) -> str:
        uid = self._list_uid(request)
        self.core.unshare(session.user, uid, f.user_or_team("target"), f.role())
        return _list_url(uid, "unshared", "sharing")


def _name(f: Fields) -> str:
    name = f.text("name").strip()
    if not name:
        raise BadRequest("The name cannot be empty.")
    return name


def _list_url(uid: EntityUid, done: str | None = None, fragment: str | None = None) -> str:
    """The list's page; ``done`` names the message it shows (:data:`DONE`), ``fragment``
    where the focus goes."""
    url = f"/lists/{quote(uid.id, safe='')}"
    if done is not None:
        url += f"?done={done}"
    return url + (f"#{fragment}" if fragment else "")


def _not_found(err: AppError) -> str:
    if not isinstance(err, NoSuchEntity):
        return "There is no such task (it may have been deleted)."
    if err.uid.type == LIST_TYPE:
        return "There is no such list (it may have been deleted)."
    return f"There is no {err.uid.type.lower()} named {shown(err.uid.id)}."
