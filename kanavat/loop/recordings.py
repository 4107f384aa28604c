"""The audio of a suggestion said by phone: kept only when ``[privacy] store_recordings`` is on.

The caller's side of the suggestion line is transcribed locally and the audio dropped, unless
the county keeps call audio: then it is written, as the call heard it (8 kHz mu-law WAV), to
``<config folder>/recordings/_suggestions/<suggestion id>.wav`` (beside the campaigns'
folders; no campaign id starts with ``_``). A data request lists it, an erasure deletes it with
the suggestion's text, and retention deletes it with the way back to the writer
(``retention_days``). The only module that writes or deletes these files.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from kanavat.config import Config
from kanavat.store import Store
from kanavat.voice import audio

log = logging.getLogger("kanavat.loop.recordings")
FOLDER = "_suggestions"
MAX_SECONDS = 180  # a suggestion line caller is let go long before; a bound on memory
MAX_BYTES = MAX_SECONDS * audio.SAMPLE_RATE  # one mu-law byte a sample


def folder(config: Config) -> Path:
    from kanavat.privacy.purge import recordings_dir  # purge imports this module's callers

    return recordings_dir(config) / FOLDER


def path(config: Config, suggestion_id: int) -> Path:
    return folder(config) / f"{int(suggestion_id)}.wav"


def wanted(config: Config) -> bool:
    """Whether a suggestion call's audio is to be kept at all (else it is never buffered)."""
    return config.privacy.store_recordings


def keep(config: Config, suggestion_id: int, ulaw: bytes) -> Path | None:
    """Write the caller's audio of a suggestion (atomically, private to the server's user);
    None when recordings are not kept or there is no audio."""
    if not wanted(config) or not ulaw:
        return None
    out = path(config, suggestion_id)
    seconds = audio.keep_ulaw(out, ulaw[:MAX_BYTES])
    log.info("loop.recording.kept suggestion=%s seconds=%d", suggestion_id, seconds)
    return out


def kept(config: Config, suggestion_id: int) -> bool:
    return path(config, suggestion_id).is_file()


def discard(config: Config, suggestion_ids: Iterable[int]) -> int:
    """Delete these suggestions' audio (erasure, retention); how many files there were."""
    count = 0
    for suggestion_id in suggestion_ids:
        file = path(config, suggestion_id)
        if file.is_file():
            file.unlink()
            count += 1
    return count


def expire(config: Config, store: Store, before: str) -> int:
    """Retention: the audio of suggestions made before ``before`` (ISO UTC) goes."""
    if not folder(config).is_dir():
        return 0
    rows = store.query(
        "SELECT id FROM suggestions WHERE channel = 'voice' AND created_at < ?", [before]
    )
    return discard(config, (r["id"] for r in rows))
