"""Closing the loop in the chat page, in headless Chromium against the real server: a young
person who answered sees what came of it at their next visit, once; one who erased their
answers sees nothing; a suggestion written in the chat is answered on the same page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from browser import ARGS, CHROMIUM
from harness import running_server

playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")
CHAT = "nuoret-2027"
DECIDED = "Nuorisotalo on auki myös sunnuntaisin."
ANSWER = "Iltavuoroja lisätään syksystä alkaen."


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    async with playwright_api.async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        await b.close()


async def say(page, text: str) -> None:  # type: ignore[no-untyped-def]
    await page.locator("#input").fill(text)
    await page.locator("#input").press("Enter")


async def bot(page, text: str) -> None:  # type: ignore[no-untyped-def]
    await page.locator("#log .msg", has_text=text).last.wait_for(timeout=10_000)


async def test_outcome_and_answer_shown_once_in_the_chat(tmp_path: Path, browser) -> None:
    async with running_server(tmp_path) as srv:
        srv.start_campaign(CHAT)
        url = f"{srv.base_url}/chat/{CHAT}"
        told = await browser.new_context(viewport={"width": 360, "height": 740}, locale="fi-FI")
        erased = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="fi-FI")
        pages = []
        for context in (told, erased):
            page = await context.new_page()
            await page.goto(url)
            await page.get_by_role("button", name="Aloita", exact=True).click()
            await bot(page, "Kuinka vanha olet?")
            await say(page, "16")
            await bot(page, "Miten voit")
            pages.append(page)
        page, gone = pages
        await say(page, "EHDOTUS lisää iltavuoroja nuorisotalolle")
        await bot(page, "Kiitos ehdotuksestasi")
        await say(gone, "POISTA")
        await bot(gone, "KYLLÄ")
        await say(gone, "kyllä")
        await bot(gone, "poistettu")
        out = srv.cli(
            "outcome",
            "add",
            CHAT,
            "--body",
            "Nuorisovaltuusto",
            "--date",
            "2027-04-20",
            "--fi",
            DECIDED,
        ).output
        assert "1 residents to tell" in out
        row = srv.store.one("SELECT id FROM suggestions")
        assert row is not None
        srv.cli("suggestions", "route", str(row["id"]), "nuorisovaltuusto")
        srv.cli("suggestions", "answer", str(row["id"]), ANSWER)
        await page.reload()
        await bot(page, DECIDED)
        await bot(page, ANSWER)
        assert await page.locator("#log .msg", has_text="Mitä vastauksistasi seurasi").count() == 1
        await page.reload()
        await bot(page, "Miten voit")
        assert await page.locator("#log .msg", has_text=DECIDED).count() == 0  # told once
        await gone.reload()
        await gone.get_by_role("button", name="Aloita", exact=True).wait_for()
        assert await gone.locator("#log .msg", has_text=DECIDED).count() == 0
        told_rows = srv.store.query("SELECT kind, status FROM notices ORDER BY id")
        assert told_rows == [
            {"kind": "outcome", "status": "told"},
            {"kind": "answer", "status": "told"},
        ]


async def test_a_suggestion_any_day_from_the_chat_page(tmp_path: Path, browser) -> None:
    """Before the survey opens, and when it is open but not begun, the page takes a
    suggestion (EHDOTUS ...): thanked at once, no survey begun, the answer shown next visit."""
    async with running_server(tmp_path) as srv:
        url = f"{srv.base_url}/chat/{CHAT}"  # not started: the survey is closed
        closed = await browser.new_context(viewport={"width": 360, "height": 740}, locale="fi-FI")
        page = await closed.new_page()
        await page.goto(url)
        await page.locator("#closed", has_text="ei ole vielä auki").wait_for()
        await page.locator("#suggest", has_text="EHDOTUS").wait_for()
        await say(page, "EHDOTUS kuntosali nuorisotalolle")
        await bot(page, "Kiitos ehdotuksestasi")
        assert await page.locator("#start").is_hidden()  # the survey stays closed
        await say(page, "TIETONI")  # a data request is taken any day too
        await bot(page, "Ehdotuksesi")  # "Ehdotuksesi 4.12.2026: "kuntosali ..." (tila: ...)"
        mine = await page.locator("#log .msg.bot", has_text="Ehdotuksesi").last.inner_text()
        assert "kuntosali nuorisotalolle" in mine
        await say(page, "moi")  # anything else waits for the survey
        await page.locator("#log .msg", has_text="ei ole vielä auki").wait_for()
        srv.start_campaign(CHAT)
        opened = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="fi-FI")
        other = await opened.new_page()
        await other.goto(url)
        await other.get_by_role("button", name="Aloita", exact=True).wait_for()
        await say(other, "EHDOTUS pidemmät aukioloajat")
        await bot(other, "Kiitos ehdotuksestasi")
        await other.get_by_role("button", name="Aloita", exact=True).wait_for()  # not begun
        rows = srv.store.query("SELECT id, channel, text FROM suggestions ORDER BY id")
        assert [(r["channel"], r["text"]) for r in rows] == [
            ("chat", "kuntosali nuorisotalolle"),
            ("chat", "pidemmät aukioloajat"),
        ]
        assert srv.count("SELECT id FROM sessions") == 0
        for row, answer in zip(
            rows, ("Kuntosali avataan maaliskuussa.", "Auki klo 21 asti."), strict=True
        ):
            srv.cli("suggestions", "route", str(row["id"]), "nuorisovaltuusto")
            srv.cli("suggestions", "answer", str(row["id"]), answer)
        await page.reload()
        await bot(page, "Kuntosali avataan maaliskuussa.")
        assert await page.locator("#log .msg", has_text="Auki klo 21 asti.").count() == 0
        await other.reload()
        await bot(other, "Auki klo 21 asti.")
        told = srv.store.query("SELECT kind, channel, status FROM notices ORDER BY id")
        assert told == [{"kind": "answer", "channel": "chat", "status": "told"}] * 2
