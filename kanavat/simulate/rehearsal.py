"""The rehearsal's own copy of a county configuration, in a folder of its own.

A rehearsal must never touch the county's real store, so it runs on a copy of the config in
its folder (``demo/`` by default, git-ignored) with its own database, and with the changes a
rehearsal needs: the server on a free port, campaign windows open around the clock (the
rehearsal's clock runs an hour a second, so office hours would shut it most of the time),
no holidays, pacing raised, and campaigns running from now. Retries, reminders and
fallbacks keep the county's own delays: the accelerated clock makes them pass. The file is
edited line by line, so comments and layout stay as the county wrote them, then validated.
"""

from __future__ import annotations

import re
import shutil
import socket
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from kanavat import config as configuration

MARKER = ".kanavat-rehearsal"  # a folder holding this may be wiped and rebuilt
CAMPAIGN_DAYS = 365  # long enough for every retry, reminder and fallback of the rehearsal
OPEN_ALL_DAY = '["mon-sun 00:00-24:00"]'
DB_NAME = "kanavat.db"
LOG_NAME = "kanavat.log"  # the server's log during a rehearsal; the screen shows progress


class RehearsalError(Exception):
    """The rehearsal folder or configuration can't be prepared; the message says why."""


def free_port_pair(preferred: int = 8080) -> int:
    """``preferred`` if it and the next port (the emulator's) are free, else another pair."""
    candidates = [preferred] + [0] * 50
    for wanted in candidates:
        try:
            with socket.socket() as a:
                a.bind(("127.0.0.1", wanted))
                port = a.getsockname()[1]
                with socket.socket() as b:
                    b.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RehearsalError("no free pair of ports on 127.0.0.1")


def set_keys(text: str, section: str, values: dict[str, str | None]) -> str:
    """Set (or with None remove) one-line ``key = value`` entries of ``[section]``; the
    section is added at the end if missing. Values are TOML source text."""
    lines = text.splitlines()
    header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    start = next(
        (i for i, line in enumerate(lines) if (m := header.match(line)) and m.group(1) == section),
        None,
    )
    new = [f"{k} = {v}" for k, v in values.items() if v is not None]
    if new:
        new.insert(0, "# rehearsal values (kanavat simulate):")
    if start is None:
        return text.rstrip("\n") + f"\n\n[{section}]\n" + "\n".join(new) + "\n"
    end = next((i for i in range(start + 1, len(lines)) if header.match(lines[i])), len(lines))
    keys = re.compile(r"^\s*(" + "|".join(re.escape(k) for k in values) + r")\s*=")
    body = [line for line in lines[start + 1 : end] if not keys.match(line)]
    return "\n".join([*lines[: start + 1], *new, *body, *lines[end:]]) + "\n"


def drop_section(text: str, section: str) -> str:
    lines = text.splitlines()
    header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    out: list[str] = []
    skipping = False
    for line in lines:
        m = header.match(line)
        if m:
            skipping = m.group(1) == section
        if not skipping:
            out.append(line)
    return "\n".join(out) + "\n"


def prepare_folder(folder: Path) -> None:
    """Make ``folder`` an empty rehearsal folder; refuse one that holds anything else."""
    if folder.exists() and any(folder.iterdir()) and not (folder / MARKER).exists():
        raise RehearsalError(
            f"{folder} exists and is not a rehearsal folder (no {MARKER}); "
            "choose another --dir or empty it"
        )
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("made by kanavat simulate; safe to delete\n", encoding="utf-8")


def write_config(
    source: configuration.Config,
    folder: Path,
    port: int,
    whisper_model: Path | None,
    now: datetime | None = None,
) -> Path:
    """The rehearsal's config.toml in ``folder``; returns its path. ``whisper_model``: the
    model for every ``engine = "whisper"`` language (None drops those, keypad only)."""
    if source.path is None:
        raise RehearsalError("the source configuration has no file")
    text = source.path.read_text(encoding="utf-8")
    text = set_keys(
        text,
        "county",
        {
            "call_hours": OPEN_ALL_DAY,
            "sms_hours": OPEN_ALL_DAY,
            "holidays": "false",
            "max_concurrent_calls": "40",
            "calls_per_second": "20",
            "messages_per_second": "100",
        },
    )
    voices = source.resolve(source.server.voices).resolve()
    text = set_keys(
        text,
        "server",
        {
            "public_url": f'"http://127.0.0.1:{port}"',
            "database": f'"{DB_NAME}"',
            "voices": _toml_str(voices),
        },
    )
    for language, speech in source.speech.items():
        section = f"speech.{language}"
        if speech.engine == "whisper" and whisper_model is not None:
            text = set_keys(text, section, {"model": _toml_str(whisper_model)})
        elif speech.engine == "whisper":
            text = drop_section(text, section)
        else:
            text = set_keys(text, section, {"model": _toml_str(source.resolve(speech.model))})
    zone = ZoneInfo(source.county.timezone)
    local = (now or datetime.now(zone)).astimezone(zone).replace(tzinfo=None, microsecond=0)
    # A rehearsal played in the past still leaves its campaigns open from the real now on.
    until = max(local, datetime.now(zone).replace(tzinfo=None, microsecond=0))
    for cid in source.campaigns:
        text = set_keys(
            text,
            f"campaigns.{cid}",
            {
                "start": (local - timedelta(minutes=1)).isoformat(),
                "end": (until + timedelta(days=CAMPAIGN_DAYS)).isoformat(),
                "call_hours": None,
                "sms_hours": None,
                "holidays": None,
                "max_concurrent_calls": None,
                "calls_per_second": None,
                "messages_per_second": None,
            },
        )
    nlu = source.base_dir / "nlu"
    if nlu.is_dir():
        shutil.copytree(nlu, folder / "nlu")
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    try:
        configuration.load(path)
    except configuration.ConfigError as exc:
        raise RehearsalError(
            f"the rehearsal copy of the configuration has errors:\n{exc}"
        ) from None
    return path


def _toml_str(path: Path) -> str:
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'
