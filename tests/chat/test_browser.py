"""End to end in a real headless Chromium: the chat page against the real server.

Two young people answer the whole questionnaire: one in Finnish on a phone-sized screen
(buttons, typing, the keyboard only for one answer, a reload mid-way, a dropped connection),
one in Swedish on a laptop (switching language from the page). Their answers are then read
back with ``kanavat export``. Screenshots go to /tmp/chat-*.png; axe-core checks the page.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from browser import ARGS, CHROMIUM
from click.testing import CliRunner

from kanavat.appkeys import WEBSOCKETS
from kanavat.cli import main as kanavat_cli

from .conftest import CAMPAIGN, ChatServer

playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium"),
]
SERIOUS = ("serious", "critical")


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    async with playwright_api.async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        await b.close()


async def axe_problems(page) -> list[str]:
    """axe-core's serious and critical violations, as readable lines; all others printed."""
    results = await Axe().run(page)
    found = results.response["violations"]
    for v in found:
        print(f"axe: {v['id']} ({v['impact']}) x{len(v['nodes'])}: {v['help']}")
    return [f"{v['id']} ({v['impact']})" for v in found if v["impact"] in SERIOUS]


def bot_texts(page):
    return page.locator("#log .msg.bot p:not(.hint)")


async def wait_for_bot(page, text: str) -> None:
    await bot_texts(page).filter(has_text=text).last.wait_for(timeout=10_000)


async def quick(page, title: str):
    button = page.locator("#quick button", has_text=title)
    await button.first.wait_for(timeout=10_000)
    return button.first


async def test_young_people_answer_in_finnish_and_swedish(chat_server: ChatServer, browser) -> None:
    url = f"{chat_server.base_url}/chat/{CAMPAIGN}"

    # -- Finnish, on a phone ------------------------------------------------------------
    phone = await browser.new_context(
        viewport={"width": 360, "height": 740}, locale="fi-FI", device_scale_factor=2
    )
    page = await phone.new_page()
    await page.goto(url)
    assert await page.get_attribute("html", "lang") == "fi"
    await page.get_by_text("Vastaat nimettömästi").wait_for()
    await page.get_by_role("button", name="Aloita", exact=True).wait_for()
    assert await axe_problems(page) == []
    await page.screenshot(path="/tmp/chat-welcome-360x740.png")
    await page.get_by_role("button", name="Aloita", exact=True).click()
    await page.locator("#typing").wait_for(state="visible")  # "Kysely kirjoittaa…"
    await wait_for_bot(page, "Kuinka vanha olet?")
    await page.get_by_label("Kirjoita vastauksesi").fill("15")
    await page.keyboard.press("Enter")
    await wait_for_bot(page, "Miten voit tällä hetkellä?")
    await (await quick(page, "5")).wait_for()
    assert await page.locator("#quick button").all_inner_texts() == ["1", "2", "3", "4", "5"]
    box = await page.locator("#quick button").first.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44  # tap targets
    await page.screenshot(path="/tmp/chat-360x740.png")
    assert await axe_problems(page) == []
    await (await quick(page, "4")).click()
    await wait_for_bot(page, "Onko sinulla harrastus")

    # A reload mid-way: the same question again, nothing lost.
    await page.reload()
    await wait_for_bot(page, "Jatketaan siitä, mihin jäimme.")
    await wait_for_bot(page, "Onko sinulla harrastus")
    await quick(page, "Kyllä")

    # A dropped connection: the page reconnects and stays on the question, no duplicate.
    asked = await bot_texts(page).filter(has_text="Onko sinulla harrastus").count()
    for ws in list(chat_server.app[WEBSOCKETS]):
        await ws.close()
    await page.get_by_text("Yhteys palasi.").wait_for(timeout=10_000)
    assert await bot_texts(page).filter(has_text="Onko sinulla harrastus").count() == asked

    # Keyboard only: Tab to "Ei" and press Enter.
    await page.locator("#quick button").first.focus()
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Ei"
    await page.keyboard.press("Enter")
    await wait_for_bot(page, "Mikä on suurin syy")
    # Focus followed the conversation to the new quick replies.
    assert await page.evaluate("document.activeElement.closest('#quick') !== null")
    await (await quick(page, "Liian pitkä matka")).click()
    await wait_for_bot(page, "Mitä nuorisovaltuuston pitäisi viedä eteenpäin?")
    message = "Lisää <b>skeittipaikkoja</b> & iltabusseja"
    await page.get_by_label("Kirjoita vastauksesi").fill(message)
    await page.get_by_role("button", name="Lähetä").click()
    await wait_for_bot(page, "Kiitos! Vastauksesi menevät nuorisovaltuustolle.")
    mine = page.locator("#log .msg.me p").last
    assert await mine.inner_text() == message  # shown as text, never as markup
    assert await page.locator("#log b").count() == 0
    await page.screenshot(path="/tmp/chat-done-360x740.png")
    # Finished, the visitor can still ask what is kept about them (issue 11).
    await page.get_by_label("Kirjoita vastauksesi").fill("tietoni")
    await page.keyboard.press("Enter")
    await wait_for_bot(page, "Nämä tiedot")
    await wait_for_bot(page, "Vastauksesi: Liian pitkä matka")
    await page.set_viewport_size({"width": 320, "height": 640})  # the narrowest phones
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320
    await phone.close()

    # -- Swedish, on a laptop, switching language on the page ------------------------------
    laptop = await browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="en-GB", reduced_motion="reduce"
    )
    page = await laptop.new_page()
    await page.goto(url)
    assert await page.get_attribute("html", "lang") == "en"
    await page.get_by_role("link", name="svenska").click()
    await page.get_by_role("button", name="Börja", exact=True).wait_for()
    assert await page.get_attribute("html", "lang") == "sv"
    await page.get_by_role("button", name="Börja", exact=True).click()
    await wait_for_bot(page, "Hur gammal är du?")
    await page.get_by_label("Skriv ditt svar").fill("sjutton")
    await page.keyboard.press("Enter")
    await (await quick(page, "2")).click()
    await wait_for_bot(page, "Har du en hobby")
    await quick(page, "Nej")
    await page.screenshot(path="/tmp/chat-1280x800.png")
    assert await axe_problems(page) == []
    await (await quick(page, "Ja")).click()  # a hobby: the question about why not is skipped
    await wait_for_bot(page, "Vad borde ungdomsfullmäktige driva?")
    await page.get_by_label("Skriv ditt svar").fill("Fler fritidsgårdar")
    await page.keyboard.press("Enter")
    await wait_for_bot(page, "Tack! Dina svar går till ungdomsfullmäktige.")
    await page.reload()  # finished is finished
    await wait_for_bot(page, "Du har redan svarat på den här enkäten.")
    await laptop.close()

    # -- the answers, as an official exports them -----------------------------------------
    result = CliRunner().invoke(
        kanavat_cli,
        ["export", CAMPAIGN, "--format", "jsonl", "--config", str(chat_server.config_path)],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert {row["channel"] for row in rows} == {"chat"}
    by_language = {
        lang: [(r["question"], r["input_kind"], r["value"]) for r in rows if r["language"] == lang]
        for lang in ("fi", "sv")
    }
    assert by_language["fi"] == [
        ("ika", "text", 15),
        ("vointi", "button", 4),
        ("harrastus", "button", "no"),
        ("harrastus_este", "button", "matka"),
        ("viesti", "text", message),
    ]
    assert by_language["sv"] == [
        ("ika", "text", 17),
        ("vointi", "button", 2),
        ("harrastus", "button", "yes"),
        ("viesti", "text", "Fler fritidsgårdar"),
    ]
    assert len({r["respondent"] for r in rows}) == 2
    assert Path("/tmp/chat-360x740.png").stat().st_size > 10_000


async def test_stop_and_start_over_ask_first(chat_server: ChatServer, browser) -> None:
    context = await browser.new_context(
        viewport={"width": 360, "height": 740}, locale="en-GB", reduced_motion="reduce"
    )
    page = await context.new_page()
    await page.goto(f"{chat_server.base_url}/chat/{CAMPAIGN}")
    await page.get_by_role("button", name="Start", exact=True).click()
    await wait_for_bot(page, "How old are you?")
    await page.get_by_label("Type your answer").fill("16")
    await page.keyboard.press("Enter")
    await quick(page, "3")
    await page.get_by_role("button", name="Stop", exact=True).click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_text("Stop now?").wait_for()
    await page.keyboard.press("Escape")  # cancelled: nothing happens
    await quick(page, "3")
    await page.get_by_role("button", name="Stop", exact=True).click()
    await dialog.get_by_role("button", name="Yes, stop").click()
    await wait_for_bot(page, "we will stop")
    assert len(chat_server.store.query("SELECT * FROM answers")) == 1  # kept
    await page.get_by_role("button", name="Start over", exact=True).click()
    await dialog.get_by_role("button", name="Yes, start over").click()
    # "How old are you?" is on the page already from the first round: wait for the server.
    for _ in range(100):
        if not chat_server.store.query("SELECT * FROM answers"):
            break
        await asyncio.sleep(0.05)
    assert chat_server.store.query("SELECT * FROM answers") == []  # withdrawn
    assert await page.locator("#log .msg.me").count() == 0  # a clean slate on screen too
    await context.close()
