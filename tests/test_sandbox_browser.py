"""The sandbox page in a real browser: headless Chromium (Debian's `chromium`, no browser download) driven
by Playwright walks the main path and saves the screenshots the README shows (docs/img/).

Skipped when Chromium or Playwright is missing, unless ATTACHE_REQUIRE_BROWSER=1 (CI sets it): then it
fails."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from aiohttp import web

from bot.sandbox.session import Sandbox
from bot.sandbox.web import make_app

CHROMIUM = os.environ.get("ATTACHE_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[1] / "docs" / "img"
ZONE = "Europe/Paris"  # the browser's zone: Discord timestamps render in it
TITLE = "Night buses for shift workers across the border"


def _browser_missing() -> str | None:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    return None


@pytest.fixture
def require_browser() -> None:
    missing = _browser_missing()
    if missing is None:
        return
    if os.environ.get("ATTACHE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"ATTACHE_REQUIRE_BROWSER=1 but {missing}")
    pytest.skip(missing)


@pytest_asyncio.fixture
async def page_url(tmp_path: Path) -> AsyncIterator[str]:
    sandbox = Sandbox(db_path=tmp_path / "sandbox.db")
    await sandbox.start()
    runner = web.AppRunner(make_app(sandbox), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        await runner.cleanup()
        await sandbox.stop()


async def test_main_path_in_chromium(require_browser: None, page_url: str) -> None:
    from playwright.async_api import async_playwright, expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=20_000)  # a loaded CI machine: the bot answers within seconds, not instantly
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            context = await browser.new_context(
                viewport={"width": 1366, "height": 820}, timezone_id=ZONE, locale="en-GB"
            )
            page = await context.new_page()
            page.set_default_timeout(20_000)
            await page.goto(page_url)
            await expect(page.locator("#guild-name")).to_have_text("City Diplomacy Network (sandbox)")

            # a liaison shares a practice: "/" → the command → its options (the bot's autocomplete) → the form
            await page.get_by_label("Act as").select_option(label="Sofia Ramirez (liaison, San Diego)")
            composer = page.get_by_label("Message, or / for a command")
            await composer.fill("/practice sha")
            await expect(page.get_by_role("option", name="/practice share")).to_be_visible()
            await composer.press("Enter")
            await page.locator("#opt-city").fill("San D")
            suggestion = page.locator("#ac-city option").first
            await expect(suggestion).to_have_attribute("value", "San Diego, California, US")
            await page.locator("#opt-city").fill("San Diego, California, US")  # the bot gets the city's id
            await page.locator("#opt-topic").fill("economy")
            await page.get_by_role("button", name="Send").click()
            dialog = page.get_by_role("dialog")
            await expect(dialog).to_be_visible()
            await dialog.get_by_label("Title").fill(TITLE)
            await dialog.locator("#m-summary").fill(
                "Shift workers could not get home after midnight; two cities ran a joint night bus line."
            )
            await dialog.locator("#m-approach").fill(
                "Both transit agencies share the route, fares and timetable."
            )
            await page.screenshot(path=str(SHOTS / "sandbox-share-modal.png"))
            await dialog.get_by_role("button", name="Submit").click()
            await expect(page.locator("li.msg.ephemeral").last).to_contain_text("Only you can see this")

            # the moderator approves from the review card
            await page.get_by_label("Act as").select_option(label="Mo Moderator (moderator)")
            await page.get_by_role("button", name="# review").click()
            card = page.locator("li.msg", has_text=TITLE).last
            await expect(card).to_be_visible()
            await page.screenshot(path=str(SHOTS / "sandbox-review.png"))
            await card.get_by_role("button", name="Approve").click()
            await page.get_by_role("button", name="# announcements").click()
            await expect(page.locator("li.msg", has_text=f"New practice: {TITLE}")).to_be_visible()

            # anyone finds it
            await page.get_by_label("Act as").select_option(label="Nia Newcomer (newcomer)")
            await page.get_by_role("button", name="# general").click()
            await composer.fill("/practice search")
            await composer.press("Enter")
            await page.locator("#opt-query").fill("night buses")
            await page.get_by_role("button", name="Send").click()
            found = page.locator("li.msg.ephemeral", has_text="Night buses")
            await expect(found).to_be_visible()
            await page.screenshot(path=str(SHOTS / "sandbox-search.png"))

            # Going on the sample roundtable's card
            await page.get_by_role("button", name="# announcements").click()
            rt_card = page.locator("li.msg", has_text="Climate adaptation peer exchange").first
            await rt_card.get_by_role("button", name="Going", exact=True).click()
            await expect(page.locator("li.msg.ephemeral", has_text="You're going")).to_be_visible()
            await expect(rt_card).to_contain_text("Going 4")

            # move the clock to ten minutes before the meeting: the reminders fire
            now = datetime.fromisoformat(str(await page.locator("#clock-now").get_attribute("datetime")))
            start = (now + timedelta(days=2)).replace(hour=14, minute=0, second=0, microsecond=0)
            local = (start - timedelta(minutes=10)).astimezone(ZoneInfo(ZONE))
            await page.locator("#clock-date").fill(local.strftime("%Y-%m-%dT%H:%M"))
            await page.get_by_role("button", name="Go", exact=True).click()
            reminder = page.locator("li.msg", has_text="⏰").filter(has_text="in 10 minutes").last
            await expect(reminder).to_be_visible()
            await expect(reminder).to_contain_text("@Nia Newcomer")
            await page.screenshot(path=str(SHOTS / "sandbox-reminder.png"))

            # the reminder DM, in the member's direct messages
            await page.get_by_label("Act as").select_option(label="Sofia Ramirez (liaison, San Diego)")
            await page.get_by_role("button", name="✉ Attaché (direct messages)").click()
            await expect(page.locator("li.msg", has_text="Reminder").first).to_be_visible()
            await expect(page.locator("#violations")).to_be_hidden()
        finally:
            await browser.close()
