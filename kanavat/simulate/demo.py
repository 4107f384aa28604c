"""``kanavat demo``: the rehearsal of the example county, its reports, and the server left up.

The way a newcomer sees the whole system: residents answer over voice, SMS and chat, the
councils' HTML reports are written (``kanavat.report.render``, as ``kanavat report`` does),
and the server keeps running with the emulator so the chat can be tried in a browser. The
store's clock is slowed back to real time first, so a person's chat is not hurried along.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from pathlib import Path

from rich.console import Console

from kanavat.chat.cli import chat_link
from kanavat.report.render import render
from kanavat.simulate.cli import prepared, print_summary, rehearse
from kanavat.simulate.loop import print_loop
from kanavat.simulate.rehearsal import LOG_NAME
from kanavat.simulate.runner import Plan, Rehearsal


def write_reports(rehearsal: Rehearsal, folder: Path) -> dict[str, Path]:
    """Every rehearsed campaign's council report as HTML in ``folder``."""
    assert rehearsal.config is not None
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for cid in sorted({r.campaign_id for r in rehearsal.residents}):
        html = render(rehearsal.store, rehearsal.config, cid, "html", now=rehearsal.clock())
        path = folder / f"{cid}.html"
        path.write_text(html, encoding="utf-8")
        paths[cid] = path
    return paths


async def run_demo(plan: Plan, console: Console, serve: bool = True) -> None:
    rehearsal = prepared(plan)
    try:
        started = time.monotonic()
        result = await rehearse(rehearsal, console)
        rehearsal.clock.slow_down()
        simulated = time.monotonic() - started
        print_summary(console, result)
        assert result.loop is not None
        print_loop(console, result.loop)
        reports = write_reports(rehearsal, plan.folder / "reports")
        config = rehearsal.config
        assert config is not None
        console.print(f"\nsimulated part: {simulated:.0f} s (server start, rehearsal, reach)")
        console.print("council reports (open in a browser):")
        for cid, path in reports.items():
            console.print(f"  {config.campaign(cid).council:<18} {path.resolve().as_uri()}")
        from kanavat.themes.commands import overview

        console.print("themes of the free-text answers (kanavat themes CAMPAIGN QUESTION):")
        for line in overview(rehearsal.store, config, list(reports)):
            console.print(f"  {line}", markup=False)
        for cid, campaign in config.campaigns.items():
            if "chat" in campaign.channels:
                link = chat_link(config, cid, None, plan.folder / "qr" / f"{cid}.png")
                console.print(f"chat ({cid}): {link.url}   QR code: {link.qr_path}")
        console.print(f"public page: {rehearsal.base_url}/julkinen (?lang=sv, ?lang=en)")
        console.print(
            f"Twilio emulator (handsets, calls, texts): {rehearsal.emulator_url}/_emulator"
        )
        console.print(f"server log: {plan.folder / LOG_NAME}")
        config_path = plan.folder / "config.toml"
        console.print(
            f"try: kanavat campaign status vanhukset-2027 --config {config_path}\n"
            f"     kanavat export nuoret-2027 --config {config_path}\n"
            f"     kanavat themes vanhukset-2027 terveiset list --config {config_path}"
        )
        if not serve:
            return
        console.print("\nThe server is running; open the chat link above. Ctrl-C stops it.")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):  # also when started in the background
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        console.print("stopping...")
    finally:
        await rehearsal.close()
