"""The public page in headless Chromium at 360 px and 1280 px: fi, sv and en, the campaigns
officials chose, results only where published and with small cells hidden, public outcomes
only, nothing fetched from elsewhere, and no axe-core violations (axe from the local
axe-playwright-python package: nothing downloads)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from axe_playwright_python.async_playwright import Axe
from browser import ARGS, CHROMIUM
from harness import Server, free_port, write_config
from report import fixture

from kanavat import config as configuration

playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium"),
    # One server (its store holds the report tests' 10,000 answers) and one browser for both
    # widths: the pages only read.
    pytest.mark.asyncio(loop_scope="module"),
]
PUBLIC = f"""[public]
campaigns = ["{fixture.SAMPLED}", "{fixture.CHAT}", "{fixture.SMALL}"]
results = ["{fixture.SAMPLED}", "{fixture.CHAT}"]
"""
DECIDED = "Kotihoidon iltakäynnit lisääntyvät syksyllä."
PRIVATE = "Tämä päätös ei näy julkisesti."


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[object]:
    async with playwright_api.async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        await b.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    tmp_path = tmp_path_factory.mktemp("public")
    text = (fixture.REPO / "config.toml").read_text("utf-8") + fixture.EXTRA
    text = re.sub(r"(?ms)^\[public\]\n.*?(?=^\[|\Z)", "", text) + PUBLIC
    port = free_port()
    path = write_config(tmp_path, port, text=text)
    fixture.generate(configuration.load(path, env={}))
    srv = Server(path, port, free_port())
    await srv.start()
    srv.cli(
        "outcome",
        "add",
        fixture.SAMPLED,
        "--body",
        "Vanhusneuvosto",
        "--date",
        "2027-05-14",
        "--fi",
        DECIDED,
        "--sv",
        "Hemvårdens kvällsbesök ökar i höst.",
        "--en",
        "Evening home-care visits increase this autumn.",
        "--minutes",
        "https://example.fi/poytakirjat/12",
    )
    srv.cli(
        "outcome",
        "add",
        fixture.SAMPLED,
        "--body",
        "Aluehallitus",
        "--date",
        "2027-06-01",
        "--fi",
        PRIVATE,
        "--private",
    )
    try:
        yield srv
    finally:
        await srv.stop()


async def violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    found = (await Axe().run(page)).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} x{len(v['nodes'])}" for v in found]


@pytest.mark.parametrize("width", [360, 1280])
async def test_public_page_is_accessible_in_every_language(server: Server, browser, width) -> None:
    context = await browser.new_context(viewport={"width": width, "height": 900})
    page = await context.new_page()
    elsewhere: list[str] = []
    page.on(
        "request", lambda r: None if r.url.startswith(server.base_url) else elsewhere.append(r.url)
    )
    for language, heading, hidden in (
        ("fi", "mitä niistä seurasi", "piilotettu"),
        ("sv", "vad de ledde till", "dold"),
        ("en", "what came of them", "hidden"),
    ):
        response = await page.goto(f"{server.base_url}/julkinen?lang={language}")
        assert response is not None and response.status == 200
        assert await page.get_attribute("html", "lang") == language
        assert heading in await page.locator("h1").inner_text()
        assert await violations(page) == []
        body = await page.locator("main").inner_text()
        assert hidden in body  # the tiny municipality's shares stay hidden, as in the report
        assert PRIVATE not in body
        await page.screenshot(path=f"/tmp/public-{language}-{width}.png", full_page=True)
    await page.goto(f"{server.base_url}/julkinen")
    main = page.locator("main")
    assert DECIDED in await main.inner_text()
    assert await page.get_by_role("link", name="Pöytäkirja").get_attribute("href") == (
        "https://example.fi/poytakirjat/12"
    )
    small = page.locator("article", has_text="Tuloksia ei ole julkaistu.")
    assert await small.count() == 1  # shown, its results not published
    assert elsewhere == []
    await context.close()


async def test_public_page_unknown_language_is_a_clear_404(server: Server) -> None:
    status, text = await server.get("/julkinen?lang=de")
    assert status == 404 and "fi, sv, en" in text
    server.cli("outcome", "publish", "1", "--hide")
    status, text = await server.get("/julkinen")
    assert status == 200 and DECIDED not in text
    server.cli("outcome", "publish", "1")
    assert DECIDED in (await server.get("/julkinen?lang=fi"))[1]
