"""Dispatcher: planning a 100,000-contact campaign, then sending at the provider's rate.

Planning is what ``kanavat campaign start`` does (sync, enrol the audience due now, mark it
running), timed in a fresh process with its peak memory, at 10,000 and 100,000 contacts so
the growth shows. Dispatching is the real server's dispatcher against the emulator (its own
process) with the county's ``messages_per_second`` set to ``RATE``: the invitations sent per
second are counted in the store each second, and the server's resident memory is sampled.
A voice campaign runs at the same time (``VOICE_CONTACTS`` residents, ``CALL_RATE`` calls a
second, the county's ``max_concurrent_calls`` lines): its calls must go out beside the texts,
not after them, so the calls placed and the most live at once are counted too.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import (
    EXAMPLE_CONFIG,
    ROOT,
    EmulatorProcess,
    Server,
    Window,
    free_port,
    load_average,
    twilio_section,
)

CAMPAIGN = "vammaispalvelut-2027"
GROUP = "palvelunkayttajat"
RATE = 50
VOICE = "vanhukset-2027"
VOICE_GROUP = "ikaihmiset"
VOICE_CONTACTS = 200
CALL_RATE = 5


def config_text() -> str:
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    text = re.sub(r"^messages_per_second = \d+", f"messages_per_second = {RATE}", text, flags=re.M)
    text = re.sub(r"^calls_per_second = \d+", f"calls_per_second = {CALL_RATE}", text, flags=re.M)
    text = re.sub(r"^sms_hours = .*$", 'sms_hours = ["mon-sun 00:00-24:00"]', text, flags=re.M)
    text = re.sub(r"^call_hours = .*$", 'call_hours = ["mon-sun 00:00-24:00"]', text, flags=re.M)
    text = re.sub(r"^holidays = true", "holidays = false", text, flags=re.M)
    for campaign in (CAMPAIGN, VOICE):
        section = text.index(f"[campaigns.{campaign}]")
        head, tail = text[:section], text[section:]
        tail = re.sub(r"^start = .*$", "start = 2020-01-01T00:00:00", tail, count=1, flags=re.M)
        tail = re.sub(r"^end = .*$", "end = 2040-12-31T23:00:00", tail, count=1, flags=re.M)
        text = head + tail
    return text


def add_contacts(config_path: Path, count: int, group: str = GROUP, first: int = 1) -> None:
    from kanavat import config as configuration
    from kanavat.store import Store

    config = configuration.load(config_path, env={"KANAVAT_BENCH_TWILIO_TOKEN": "x" * 32})
    store = Store(config.database, secret=config.server.secret)
    now = store.now()
    with store.transaction():
        store.db.conn.executemany(
            "INSERT INTO contacts(id, phone, language, created_at, updated_at) VALUES (?, ?, 'fi', ?, ?)",
            ((n, f"+35840{n:07d}", now, now) for n in range(first, first + count)),
        )
        store.db.conn.executemany(
            "INSERT INTO contact_groups(contact_id, group_name) VALUES (?, ?)",
            ((n, group) for n in range(first, first + count)),
        )
    store.close()


PLAN = """
import json, time
from kanavat import config as configuration
from kanavat.outreach import audience, campaigns
from kanavat.store import Store
config = configuration.load({path!r}, env={{"KANAVAT_BENCH_TWILIO_TOKEN": "x" * 32}})
store = Store(config.database, secret=config.server.secret)
from bench.common import own_peak_mb
base = own_peak_mb()
t = time.perf_counter()
campaigns.sync(store, config)
added = audience.enrol(store, config, {campaign!r})
campaigns.set_status(store, {campaign!r}, "running")
print(json.dumps({{"seconds": time.perf_counter() - t, "added": added,
    "peak_mb": own_peak_mb(), "base_mb": base}}))
"""


def plan(workdir: Path, contacts: int) -> dict[str, Any]:
    folder = workdir / f"plan-{contacts}"
    folder.mkdir()
    path = folder / "config.toml"
    path.write_text(
        config_text().replace("[server]", twilio_section("http://127.0.0.1:9") + "\n[server]", 1)
    )
    add_contacts(path, contacts)
    code = PLAN.format(path=str(path), campaign=CAMPAIGN)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return {"contacts": contacts, **json.loads(out.stdout.strip().splitlines()[-1])}


def counts(server: Server) -> tuple[int, int, int]:
    """Invitations sent, calls placed, calls live now."""
    from kanavat.attempts import LIVE_SQL
    from kanavat.store import Store

    config = server.config()
    store = Store(config.database, secret=config.server.secret)
    try:
        row = store.one(
            "SELECT (SELECT count(*) FROM outbound WHERE purpose = 'invitation') AS texts, "
            "(SELECT count(*) FROM attempts WHERE channel = 'voice' AND provider_sid IS NOT NULL) "
            "AS calls, (SELECT count(*) FROM attempts WHERE channel = 'voice' "
            f"AND status IN {LIVE_SQL}) AS live"
        )
        assert row is not None
        return int(row["texts"]), int(row["calls"]), int(row["live"])
    finally:
        store.close()


def dispatch(workdir: Path, contacts: int, seconds: float) -> dict[str, Any]:
    folder = workdir / "dispatch"
    folder.mkdir()
    emu_port = free_port()
    text = config_text().replace(
        "[server]", twilio_section(f"http://127.0.0.1:{emu_port}") + "\n[server]", 1
    )
    server = Server(folder, text, log_level="INFO")
    add_contacts(server.config_path, contacts)
    add_contacts(server.config_path, VOICE_CONTACTS, VOICE_GROUP, contacts + 1)
    env = server.env
    for campaign in (CAMPAIGN, VOICE):  # the texts are due first
        code = PLAN.format(path=str(server.config_path), campaign=campaign)
        subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, cwd=ROOT, env=env
        )
    load = load_average()
    with EmulatorProcess(server.token, server.base_url, emu_port), server:
        window = Window(server.stat)
        samples = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            time.sleep(1.0)
            texts, calls, live = counts(server)
            samples.append((time.monotonic() - t0, texts, server.stat.rss_mb(), calls, live))
        cores = window.cores()
    steady = [s for s in samples if s[0] >= 3]  # after the first batches are claimed
    rate = (steady[-1][1] - steady[0][1]) / (steady[-1][0] - steady[0][0]) if len(steady) > 1 else 0
    rss = [s[2] for s in samples]
    return {
        "contacts": contacts,
        "configured_rate": RATE,
        "rate": rate,
        "sent": samples[-1][1] if samples else 0,
        "calls_placed": samples[-1][3] if samples else 0,
        "calls_first_at_s": next((s[0] for s in samples if s[3]), None),
        "calls_live_max": max((s[4] for s in samples), default=0),
        "configured_call_rate": CALL_RATE,
        "rss_first_mb": rss[0] if rss else 0,
        "rss_last_mb": rss[-1] if rss else 0,
        "rss_max_mb": max(rss) if rss else 0,
        "server_cores": cores,
        "load_at_start": load,
    }


def run(quick: bool, workdir: Path) -> dict[str, Any]:
    load = load_average()
    plans = [plan(workdir, n) for n in ((100_000,) if quick else (10_000, 100_000))]
    for p in plans:
        print(
            f"  dispatch: planning {p['contacts']} contacts {p['seconds']:.2f} s, peak "
            f"{p['peak_mb']:.0f} MB (after opening the store {p['base_mb']:.0f} MB)",
            flush=True,
        )
    d = dispatch(workdir, 100_000, 8 if quick else 30)
    print(
        f"  dispatch: {d['rate']:.1f}/s sent (configured {RATE}/s), server RSS "
        f"{d['rss_first_mb']:.0f} -> {d['rss_last_mb']:.0f} MB, {d['server_cores']:.2f} cores",
        flush=True,
    )
    print(
        f"  dispatch: meanwhile {d['calls_placed']} calls placed (first within "
        f"{d['calls_first_at_s']} s, configured {CALL_RATE}/s), at most {d['calls_live_max']} "
        "live at once",
        flush=True,
    )
    return {"plans": plans, "dispatch": d, "load_at_start": load}
