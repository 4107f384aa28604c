"""The audio of a statement a resident said by phone: kept only with ``[privacy]
store_recordings`` on.

The statement is transcribed locally and the text goes to the moderators; the audio is never
even buffered unless the county keeps call audio. Then it is written, as the call heard it
(8 kHz mu-law WAV), to ``<config folder>/recordings/<campaign>/statements/<statement id>.wav``,
named by the statement, never by its author, and retention deletes it with the campaign's
folder (``kanavat.privacy.purge``). A statement that repeats one already in the pool keeps no
audio: the audio would say someone else's statement. The only module that writes these files.
"""

from __future__ import annotations

import logging
from pathlib import Path

from kanavat.config import Config
from kanavat.conversation import statements
from kanavat.store import Store
from kanavat.voice import audio

log = logging.getLogger("kanavat.conversation.recordings")
FOLDER = "statements"
MAX_SECONDS = 120  # an own statement is one sentence; a bound on memory
MAX_BYTES = MAX_SECONDS * audio.SAMPLE_RATE  # one mu-law byte a sample


def wanted(config: Config) -> bool:
    return config.privacy.store_recordings


def path(config: Config, campaign_id: str, statement_id: int) -> Path:
    from kanavat.privacy.purge import recordings_dir

    return recordings_dir(config) / campaign_id / FOLDER / f"{int(statement_id)}.wav"


def keep(config: Config, store: Store, campaign_id: str, text: str, ulaw: bytes) -> Path | None:
    """Write the audio of the statement just submitted with ``text``; None when recordings are
    not kept, there is no audio, or the text matched a statement already in the pool."""
    if not wanted(config) or not ulaw:
        return None
    found = statements.by_text(store, campaign_id, text)
    if found is None or found.origin != "resident" or found.channel != "voice":
        return None
    out = path(config, campaign_id, found.id)
    if out.exists():  # the same words said before: the first saying stays
        return None
    seconds = audio.keep_ulaw(out, ulaw[:MAX_BYTES])
    log.info("conversation.recording.kept statement=%s seconds=%d", found.id, seconds)
    return out
