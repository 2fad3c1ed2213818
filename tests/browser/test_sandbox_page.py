"""The sandbox chat page in a real browser: Debian's Chromium driven by Playwright.

A customer reports a P1 incident through the form card, the on-call engineer acknowledges the
page from a phone-sized screen, and the customer's thread shows who is working on it. The
whole path is real: the page posts through the sandbox, the sandbox signs and delivers the
webhooks, the bot answers through its outbox, the page follows the change feed.

Screenshots land in tests/browser/artefacts/ (BROWSER_ARTEFACTS overrides). With
UPDATE_README_SCREENSHOT=1 the incident screenshot also replaces tests/browser/sandbox.png,
the picture the README shows.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from bot.config import load_settings
from sandbox import assets, launch
from sandbox.demo import ANNA_EMAIL, ERIK_EMAIL

pytestmark = pytest.mark.browser

HERE = Path(__file__).resolve().parent
ARTEFACTS = Path(os.environ.get("BROWSER_ARTEFACTS") or HERE / "artefacts")
README_SCREENSHOT = HERE / "sandbox.png"
WAIT_MS = 20_000
PHONE = {"width": 390, "height": 844}
REFUSAL_LOG = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")
# As root and without a display, Chromium needs --no-sandbox; the rest keeps it off the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _chromium() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (make test installs it)"
)
if _chromium() is None:
    pytest.skip(
        "no Chromium on this machine: .ci/run installs Debian's chromium package; set CHROMIUM to use another",
        allow_module_level=True,
    )
expect = playwright_api.expect


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    if not assets.present():
        pytest.fail("the Adaptive Cards renderer is not installed: run `python -m sandbox.assets` (make does)")
    cwd = tmp_path_factory.mktemp("sandbox")
    environ = {"BOT_PORT": "0", "BOT_HOST": "127.0.0.1", "LOG_LEVEL": "WARNING"}
    settings = launch.sandbox_settings(load_settings(environ, cwd=cwd), explicit_database=False, cwd=cwd, reset=True)
    stack = launch.start_sandbox(settings, state_file=cwd / launch.SANDBOX_STATE)
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, sandbox, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    # A refused API call (4xx) is logged by Chromium as well as shown on the page; anything else is a fault.
    tab.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type}: {message.text}")
            if message.type == "error" and not REFUSAL_LOG.match(message.text)
            else None
        ),
    )
    tab.goto(f"{sandbox.server.url}/")
    expect(tab.get_by_test_id("connection")).to_have_text("live", timeout=WAIT_MS)
    yield tab
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTEFACTS / f"{request.node.name}-last.png"))
    context.close()
    assert problems == []


def _shot(tab, name: str) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    tab.screenshot(path=str(path))
    return path


def _open_space(tab, text: str) -> None:
    """Pick a space by (part of) its name, in the side list or, on a phone, the picker."""
    picker = tab.get_by_test_id("space-select")
    if picker.is_visible():
        picker.select_option(picker.locator("option", has_text=text).get_attribute("value"))
    else:
        tab.get_by_test_id("space").filter(has_text=text).click()
    expect(tab.get_by_test_id("space-title")).to_contain_text(text)


def _post(tab, text: str) -> None:
    tab.get_by_test_id("composer-text").fill(text)
    tab.get_by_test_id("send").click()
    expect(tab.get_by_test_id("composer-text")).to_have_value("", timeout=WAIT_MS)


def test_a_customer_reports_a_p1_and_the_engineer_acknowledges_from_a_phone(page, sandbox):
    page.get_by_test_id("post-as").select_option(ANNA_EMAIL)
    _open_space(page, "Acme Logistics")
    _post(page, "@Bot /incident")

    form = page.get_by_test_id("message").filter(has_text="Report an incident").last
    expect(form.get_by_test_id("card")).to_be_visible(timeout=WAIT_MS)
    form.get_by_role("combobox", name=re.compile("^Service")).select_option("M2M")
    form.get_by_role("textbox", name=re.compile("^Title")).fill("No data from 40 smart meters in Utrecht")
    form.get_by_role("combobox", name=re.compile("^Requested priority")).select_option("P1")
    form.get_by_role("textbox", name=re.compile("^Phone")).fill("+31 6 1234 5678")  # a P1 request is called back
    form.get_by_role("button", name="Submit").click()

    # The confirmation is the root of the ticket's thread; the clock follows inside it.
    thread = page.get_by_test_id("thread").filter(has_text="incident registered")
    expect(thread).to_contain_text(
        re.compile(r"INC-\d{4} — incident registered: No data from 40 smart meters"), timeout=WAIT_MS
    )
    number = re.search(r"INC-\d{4}", thread.get_by_test_id("content").first.inner_text()).group(0)
    expect(thread.locator(".replies")).to_contain_text(f"{number} — new", timeout=WAIT_MS)
    expect(thread).to_contain_text("call the service desk now")
    thread.scroll_into_view_if_needed()
    incident = _shot(page, "1-customer-incident-thread")
    if os.environ.get("UPDATE_README_SCREENSHOT") == "1":
        shutil.copyfile(incident, README_SCREENSHOT)

    # The on-call engineer, on a phone: the page card in the 1:1 space.
    page.set_viewport_size(PHONE)
    page.get_by_test_id("post-as").select_option(ERIK_EMAIL)
    _open_space(page, "Erik Visser")
    page_card = page.get_by_test_id("message").filter(has_text=f"P1 page (#1) {number}")
    expect(page_card.get_by_test_id("card")).to_contain_text(f"P1 · {number}", timeout=WAIT_MS)
    acknowledge = page_card.get_by_role("button", name="Acknowledge")
    expect(acknowledge).to_be_in_viewport()
    box = acknowledge.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], "the button must fit the phone's width"
    _shot(page, "2-engineer-page-on-phone")
    acknowledge.click()
    expect(page.get_by_test_id("messages")).to_contain_text(f"You acknowledged {number}", timeout=WAIT_MS)
    _shot(page, "3-engineer-acknowledged")

    # Back in the customer's space, the thread says who is on it.
    _open_space(page, "Acme Logistics")
    replies = page.get_by_test_id("thread").filter(has_text="incident registered").locator(".replies")
    expect(replies).to_contain_text(f"{number}: Erik Visser is working on it", timeout=WAIT_MS)
    _shot(page, "4-customer-thread-updated")

    # The customer answers in the ticket's thread, from the phone.
    page.get_by_test_id("post-as").select_option(ANNA_EMAIL)
    page.get_by_test_id("thread").filter(has_text="incident registered").get_by_test_id("reply").first.click()
    expect(page.locator("#reply-to")).to_be_visible()
    _post(page, "The meters in Utrecht report again since 04:50.")
    expect(replies.get_by_test_id("message").last).to_contain_text(
        "The meters in Utrecht report again", timeout=WAIT_MS
    )
    assert replies.get_by_test_id("message").last.get_attribute("data-author") == ANNA_EMAIL


def test_edits_show_as_edited_and_deletions_disappear_without_reloading(page, sandbox):
    state = sandbox.sandbox_state
    page.get_by_test_id("post-as").select_option(ANNA_EMAIL)
    _open_space(page, "Polder Energy")  # Anna is not a member: the page says so and offers a member
    expect(page.get_by_test_id("composer-note")).to_contain_text("Anna de Vries is not a member of this space")
    expect(page.get_by_test_id("composer-text")).to_be_disabled()
    page.get_by_test_id("switch-person").click()
    expect(page.get_by_test_id("post-as")).to_have_value("bram@polder-energy.example")

    _post(
        page,
        "Meter **7** is back, see https://status.example and call [+31 88 1200 043](tel:+31881200043)\n- one\n- two",
    )
    mine = page.get_by_test_id("message").filter(has_text="Meter 7 is back")
    expect(mine.locator("strong")).to_have_text("7", timeout=WAIT_MS)
    expect(mine.locator('a[href="tel:+31881200043"]')).to_have_text("+31 88 1200 043")
    expect(mine.locator('a[href="https://status.example"]')).to_be_visible()
    expect(mine.locator("li")).to_have_text(["one", "two"])

    message_id = mine.get_attribute("data-message-id")
    state.update_message(
        "bram@polder-energy.example",
        message_id,
        room_id=state.messages[message_id]["roomId"],
        text=None,
        markdown="Meter 7 is back after all",
    )
    edited = page.locator(f'[data-message-id="{message_id}"]')
    expect(edited.get_by_test_id("content")).to_have_text("Meter 7 is back after all", timeout=WAIT_MS)
    expect(edited.get_by_test_id("edited")).to_be_visible()

    state.delete_message("bram@polder-energy.example", message_id)
    expect(edited).to_have_count(0, timeout=WAIT_MS)


def test_a_refused_post_is_shown_and_nothing_is_sent(page, sandbox):
    state = sandbox.sandbox_state
    before = len(state.messages)
    page.get_by_test_id("post-as").select_option(ANNA_EMAIL)
    _open_space(page, "Acme Logistics")
    page.get_by_test_id("composer-text").fill("x" * 7440)
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("composer-error")).to_contain_text("maximum of 7439 bytes", timeout=WAIT_MS)
    assert len(state.messages) == before


def test_a_file_on_a_message_is_offered_for_download(page, sandbox, tmp_path):
    from webexpythonsdk import WebexAPI

    from sandbox.demo import BOT_TOKEN

    state = sandbox.sandbox_state
    report = tmp_path / "report-2026-11.csv"
    report.write_bytes(b"organisation;tickets\nAcme;3\n")
    bot = WebexAPI(access_token=BOT_TOKEN, base_url=f"{sandbox.server.url}/v1/", wait_on_rate_limit=False)
    room_id = next(r["id"] for r in state.rooms.values() if r["title"].startswith("Acme Logistics"))
    bot.messages.create(roomId=room_id, markdown="The month's report", files=[str(report)])
    page.get_by_test_id("post-as").select_option(ANNA_EMAIL)
    _open_space(page, "Acme Logistics")
    link = page.get_by_test_id("message").filter(has_text="The month's report").get_by_test_id("file")
    expect(link).to_have_text("report-2026-11.csv (28 B)", timeout=WAIT_MS)
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "report-2026-11.csv"
    assert Path(download.value.path()).read_bytes() == report.read_bytes()
