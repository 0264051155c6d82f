"""The web UI in a real headless Chromium (Debian's ``chromium``, driven by Playwright; no
browser is downloaded): the blog's story through the browser, screenshots of every page
(``test-artifacts/tinytodo-ui/*.png``) and an axe-core accessibility check of each page.

A real server process (``python -m tinytodo_server``, uvicorn) serves a private copy of
``tinytodo/``; appending the blog's admin policy to its ``policies.cedar`` is picked up
by the server's file watcher, as in the blog post.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.skips import chromium_path, requires_service

from .helpers import REPO, ServerProcess, append_admin_policy, copy_tinytodo, demo_password

pytestmark = requires_service("chromium")

ARTIFACTS = REPO / "test-artifacts" / "tinytodo-ui"
# What the machine's closed network needs (no background connections, no first-run work).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BAD_IMPACTS = {"serious", "critical"}
LIST = "Cedar blog post"
TASKS = ("Draft the post", "Ask for a review")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(copy_tinytodo(tmp_path / "tinytodo")).start()
    try:
        yield proc
    finally:
        proc.stop()


class Audit:
    """Screenshots and axe-core results of every page a test visits."""

    def __init__(self, name: str) -> None:
        self.folder = ARTIFACTS
        self.folder.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.results: dict[str, dict[str, Any]] = {}
        self.axe = Axe()

    def check(self, page: Page, shot: str) -> None:
        page.screenshot(path=str(self.folder / f"{shot}.png"), full_page=True)
        response = self.axe.run(page).response
        violations = response["violations"]
        self.results[shot] = {
            "url": page.url,
            "violations": {v["id"]: v["impact"] for v in violations},
            "passes": len(response.get("passes", [])),
        }
        bad = [f"{v['id']} ({v['impact']}): {v['help']}" for v in violations if v["impact"] in BAD_IMPACTS]
        assert not bad, f"{shot}: accessibility violations:\n" + "\n".join(bad)

    def write(self) -> None:
        path = self.folder / f"{self.name}-axe.json"
        path.write_text(json.dumps(self.results, indent=2, sort_keys=True) + "\n")


def new_user(browser: Browser, server: ServerProcess, **options: Any) -> tuple[BrowserContext, Page]:
    context = browser.new_context(base_url=server.url, **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("dialog", lambda dialog: dialog.accept())  # the "delete this list?" question
    return context, page


def log_in(page: Page, who: str) -> None:
    """With the keyboard only: the user field has the focus, Tab to the password, Enter."""
    page.goto("/")
    expect(page).to_have_url("/login")
    expect(page.get_by_label("User name")).to_be_focused()
    page.keyboard.type(who)
    page.keyboard.press("Tab")
    page.keyboard.type(demo_password(who))
    page.keyboard.press("Enter")
    expect(page).to_have_url("/lists")
    expect(page.get_by_text(f"Signed in as {who}")).to_be_visible()


def test_the_blog_story_in_chromium(browser: Browser, server: ServerProcess) -> None:
    audit = Audit("story")
    try:
        _story(browser, server, audit)
    finally:
        audit.write()


def _story(browser: Browser, server: ServerProcess, audit: Audit) -> None:
    # andrew creates a list, adds tasks, checks one off and shares it read-only with interns.
    context, andrew = new_user(browser, server)
    andrew.goto("/login")
    audit.check(andrew, "01-login")
    field = andrew.get_by_label("User name").bounding_box()
    assert field is not None and field["height"] < 60, f"the user name field is {field} (too tall)"
    log_in(andrew, "andrew")
    audit.check(andrew, "02-lists-empty")
    andrew.get_by_label("New list").fill(LIST)
    andrew.get_by_role("button", name="Create list").click()
    expect(andrew.get_by_role("heading", level=1)).to_have_text(LIST)
    expect(andrew.get_by_label("New task")).to_be_focused()  # a new list: type its first task
    for task in TASKS:
        andrew.keyboard.type(task)
        andrew.keyboard.press("Enter")
        expect(andrew.get_by_text(task, exact=True)).to_be_visible()
        expect(andrew.get_by_role("status")).to_have_text("Task added.")
        expect(andrew.get_by_label("New task")).to_be_focused()  # ready for the next one
    done = andrew.get_by_role("button", name=f"Done: {TASKS[0]}")
    done.focus()
    andrew.keyboard.press("Space")  # keyboard use: toggle with the space bar
    expect(andrew.get_by_role("button", name=f"Done: {TASKS[0]}")).to_have_attribute("aria-pressed", "true")
    expect(andrew.get_by_role("button", name=f"Done: {TASKS[0]}")).to_be_focused()  # focus kept
    name_field = andrew.get_by_label("Name", exact=True)
    andrew.get_by_label("Kind").select_option("User")
    expect(name_field).to_have_attribute("list", "share-User")  # suggests users only
    assert andrew.locator("#share-User option").evaluate_all("os => os.map(o => o.value)") == [
        "aaron",
        "andrew",
        "emina",
        "kesha",
    ]
    andrew.get_by_label("Kind").select_option("Team")
    expect(name_field).to_have_attribute("list", "share-Team")
    andrew.get_by_label("Name", exact=True).fill("interns")
    andrew.get_by_label("Role").select_option("Reader")
    andrew.get_by_role("button", name="Share", exact=True).click()
    expect(andrew.get_by_text("team interns can read")).to_be_visible()
    # The focus is not left on "Stop sharing", where a second Enter would undo the share.
    expect(andrew.get_by_role("button", name="Stop sharing with team interns as reader")).not_to_be_focused()
    audit.check(andrew, "03-list-owner")
    andrew.goto("/lists")
    expect(andrew.get_by_role("link", name=LIST)).to_be_visible()
    audit.check(andrew, "04-lists-owner")
    list_url = "/lists/0"

    # aaron (an intern) sees it, with no edit controls; a forced edit is refused.
    _, aaron = new_user(browser, server)
    log_in(aaron, "aaron")
    shared = aaron.get_by_role("region", name="Shared with me")
    expect(shared.get_by_role("link", name=LIST)).to_be_visible()
    audit.check(aaron, "05-lists-reader")
    shared.get_by_role("link", name=LIST).click()
    expect(aaron.get_by_role("heading", level=1)).to_have_text(LIST)
    for task in TASKS:
        expect(aaron.get_by_text(task, exact=True)).to_be_visible()
    for name in ("Rename list", "Delete list", "Add task", "Share", f"Done: {TASKS[0]}", "Rename task"):
        expect(aaron.get_by_role("button", name=name, exact=True)).to_have_count(0)
    expect(aaron.locator("details.task-edit")).to_have_count(0)  # no rename/delete task controls
    expect(aaron.locator("form")).to_have_count(1)  # only "Log out"
    audit.check(aaron, "06-list-reader")
    csrf = aaron.locator('input[name="csrf"]').first.get_attribute("value")
    forced = aaron.request.post(
        f"{list_url}/rename", form={"csrf": csrf or "", "name": "renamed by aaron"}, max_redirects=0
    )
    assert forced.status == 403, forced.text()
    assert "You may not rename this list: the policies do not allow it." in forced.text()
    aaron.reload()
    expect(aaron.get_by_role("heading", level=1)).to_have_text(LIST)

    # kesha does not see it.
    _, kesha = new_user(browser, server)
    log_in(kesha, "kesha")
    expect(kesha.get_by_role("link", name=LIST)).to_have_count(0)
    response = kesha.goto(list_url)
    assert response is not None and response.status == 403
    expect(kesha.get_by_role("alert")).to_have_text(
        "You may not see this list: the policies do not allow it."
    )
    audit.check(kesha, "07-denied")

    # emina: denied, until the admin policy is appended to policies.cedar; then she deletes it.
    _, emina = new_user(browser, server)
    log_in(emina, "emina")
    response = emina.goto(list_url)
    assert response is not None and response.status == 403
    append_admin_policy(server.workdir)
    deadline = time.monotonic() + 20
    while response is not None and response.status == 403 and time.monotonic() < deadline:
        time.sleep(0.5)  # the server polls the file every second
        response = emina.goto(list_url)
    assert response is not None and response.status == 200, "the admin policy was not picked up"
    expect(emina.get_by_role("button", name="Delete list")).to_be_visible()
    audit.check(emina, "08-list-admin")
    emina.get_by_role("button", name="Delete list").click()
    expect(emina).to_have_url("/lists?done=list-deleted")
    expect(emina.get_by_role("status")).to_have_text("List deleted.")
    response = andrew.goto(list_url)
    assert response is not None and response.status == 404
    expect(andrew.get_by_role("alert")).to_have_text("There is no such list (it may have been deleted).")
    audit.check(andrew, "09-not-found")
    context.close()


def test_phone_sized_screen(browser: Browser, server: ServerProcess) -> None:
    audit = Audit("phone")
    try:
        _, page = new_user(browser, server, viewport={"width": 375, "height": 740}, is_mobile=True)
        log_in(page, "andrew")
        page.get_by_label("New list").fill("Groceries for the team offsite, a rather long list name")
        page.get_by_role("button", name="Create list").click()
        page.get_by_label("New task").fill("A task with a long name that has to wrap on a small screen")
        page.get_by_role("button", name="Add task").click()
        page.locator("details.task-edit summary").click()  # open the task's rename/delete controls
        expect(page.get_by_role("button", name="Rename task")).to_be_visible()
        audit.check(page, "10-phone-list")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than the screen"
    finally:
        audit.write()


def test_the_accessibility_check_finds_a_planted_violation(browser: Browser) -> None:
    """The check above can fail: a page with an unlabelled field and a low-contrast text."""
    page = browser.new_page()
    page.set_content(
        '<html lang="en"><title>planted</title><main><input id="x">'
        '<p style="color:#eee;background:#fff">faint</p></main></html>'
    )
    audit = Audit("planted")
    with pytest.raises(AssertionError, match=r"label \(critical\)") as failed:
        audit.check(page, "planted")
    assert "color-contrast (serious)" in str(failed.value)
    page.close()
