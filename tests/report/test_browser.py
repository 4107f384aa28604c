"""The HTML report rendered by headless Chromium: a real, non-blank page that prints on A4.

Screenshots are kept under /tmp for a person to look at; they are not committed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from browser import ARGS, CHROMIUM

from kanavat.report import html

from . import fixture
from .png import decode

pytestmark = pytest.mark.slow
SHOTS = Path("/tmp/kanavat-report")


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _shoot(browser, page_html: str, name: str) -> tuple[bytes, int]:
    SHOTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 900, "height": 1300})
    # Offline by construction: the page must need nothing from the network.
    page.route("**/*", lambda route: route.abort())
    page.set_content(page_html, wait_until="load")
    full = page.screenshot(full_page=True)
    (SHOTS / f"{name}-full.png").write_bytes(full)
    top = page.screenshot(clip={"x": 0, "y": 0, "width": 900, "height": 1300})
    (SHOTS / f"{name}.png").write_bytes(top)
    pdf = page.pdf(format="A4", print_background=True)
    (SHOTS / f"{name}.pdf").write_bytes(pdf)
    page.close()
    return top, pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")


def _check_not_blank(png: bytes) -> None:
    pixels = decode(png)
    assert pixels.shape[:2] == (1300, 900)
    assert tuple(pixels[2, 2, :3]) == (255, 255, 255), "the page background is white"
    rgb = pixels[:, :, :3].reshape(-1, 3)
    colours = np.unique(rgb.view(np.dtype((np.void, 3))))
    not_white = (rgb.min(axis=1) < 235).mean()
    assert len(colours) > 50, "a blank or flat page"
    assert not_white > 0.03, f"only {not_white:.1%} of the page is drawn"
    blue = ((rgb[:, 2] > 120) & (rgb[:, 0] < 60)).mean()
    assert blue > 0.001, "the report's blue headings and figures are missing"


def test_sampled_report_renders(browser, world):
    png, pages = _shoot(browser, html.render(world.report(compare=fixture.EARLIER)), "sampled-fi")
    _check_not_blank(png)
    assert 3 <= pages <= 40, pages


def test_swedish_and_chat_reports_render(browser, world):
    png, _ = _shoot(browser, html.render(world.report(language="sv")), "sampled-sv")
    _check_not_blank(png)
    png, _ = _shoot(browser, html.render(world.report(fixture.CHAT)), "chat-fi")
    _check_not_blank(png)
