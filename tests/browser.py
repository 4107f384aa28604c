"""How the tests start Debian's Chromium: Playwright cannot download a browser here, and without
the background-networking flags Chromium keeps dialling out of a closed network."""

from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
