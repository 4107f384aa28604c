"""A conversation in the web chat, in a real headless Chromium against the real server: the
visitor votes with the quick-reply buttons and by typing, passes, and adds a statement."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import ARGS, CHROMIUM
from harness import running_server

from tests.conversation.conftest import CAMPAIGN, ROOT

playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium"),
]


async def test_a_chat_visitor_votes_with_buttons_and_adds_a_statement(tmp_path: Path) -> None:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    async with running_server(tmp_path, config_text=text) as srv:
        srv.start_campaign(CAMPAIGN)
        async with playwright_api.async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = await (
                await browser.new_context(viewport={"width": 360, "height": 740}, locale="fi-FI")
            ).new_page()
            await page.goto(f"{srv.base_url}/chat/{CAMPAIGN}")
            await page.get_by_text("Palvelut lähellä").first.wait_for()  # the conversation's title
            await page.get_by_role("button", name="Aloita", exact=True).click()
            bot = page.locator("#log .msg.bot p:not(.hint)")
            for number, choice in enumerate(
                ["Samaa mieltä", "Eri mieltä", "En osaa sanoa", "Samaa mieltä"], start=1
            ):
                await bot.filter(has_text=f"Väite {number}, yhteensä 8:").last.wait_for(
                    timeout=10_000
                )
                buttons = page.locator("#quick button")
                await buttons.first.wait_for(timeout=10_000)
                assert await buttons.all_inner_texts() == [
                    "Samaa mieltä",
                    "Eri mieltä",
                    "En osaa sanoa",
                ]
                await page.locator("#quick button", has_text=choice).first.click()
            box = page.get_by_label("Kirjoita vastauksesi")
            for number, typed in enumerate(["eri mieltä", "2", "ohita", "1"], start=5):
                await bot.filter(has_text=f"Väite {number}, yhteensä 8:").last.wait_for(
                    timeout=10_000
                )
                await box.fill(typed)
                await page.keyboard.press("Enter")
            await bot.filter(has_text="Haluatko lisätä oman väitteesi").last.wait_for(
                timeout=10_000
            )
            await page.locator("#quick button", has_text="Kyllä").first.click()
            await bot.filter(has_text="Kerro väitteesi").last.wait_for(timeout=10_000)
            await box.fill("Nuorisotila auki myös sunnuntaisin")
            await page.keyboard.press("Enter")
            await page.locator("#quick button").first.wait_for(timeout=10_000)  # the next question
            await page.screenshot(path="/tmp/chat-conversation-360x740.png")
            await browser.close()
        votes = srv.store.query(
            "SELECT vote, input_kind, channel FROM conversation_votes ORDER BY id"
        )
        pending = srv.store.query(
            "SELECT status, channel FROM conversation_statements WHERE origin = 'resident'"
        )
    assert [(v["vote"], v["input_kind"]) for v in votes] == [
        ("agree", "button"),
        ("disagree", "button"),
        ("pass", "button"),
        ("agree", "button"),
        ("disagree", "text"),
        ("disagree", "text"),
        ("pass", "text"),
        ("agree", "text"),
    ]
    assert {v["channel"] for v in votes} == {"chat"}
    assert pending == [{"status": "pending", "channel": "chat"}]
