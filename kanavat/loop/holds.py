"""Outcome calls that wait: for the message's recording in each resident's language, or for
an official's release (issue 23).

A county that records its messages (``[outcomes] calls_wait_for_recording``, or ``kanavat
outcome add --wait-for-recording``) has the residents it tells by phone hear an official's
voice, not espeak-ng: an outcome's calls are ``held`` notices until its recording,
``voices/<lang>/outcome.<id>.wav``, is built in with ``kanavat voices build``. The server's
notice lane then starts them by itself (:func:`sweep`), language by language, with no other
command; with ``[outcomes] calls_wait_days`` a language still not recorded by then is told
with the placeholder voice. ``--hold-calls`` holds them until ``kanavat outcome release``,
which also starts calls still waiting for a recording (a language not recorded then hears the
placeholder).
Texts and chat notices are never held. :func:`waiting` says what waits and why, for
``kanavat outcome list|show`` and ``add``.

Writes nothing itself: ``campaign_outcomes`` through ``outcomes``, ``notices`` through
``notices``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from kanavat.config import Config
from kanavat.loop import notices, outcomes
from kanavat.loop.outcomes import Outcome, OutcomeError
from kanavat.loop.texts import outcome_part
from kanavat.store import Store
from kanavat.voice.prompts import AUDIO_SUFFIXES, PromptLibrary

log = logging.getLogger("kanavat.loop.holds")
LANGUAGE_NAMES = {"fi": "Finnish", "sv": "Swedish", "en": "English"}


def language_name(language: str) -> str:
    return LANGUAGE_NAMES.get(language, language)


def library(config: Config) -> PromptLibrary:
    """The prompt library's view of what is recorded (renders nothing: no espeak-ng)."""
    return PromptLibrary.from_config(config, espeak=None)


def recording_place(config: Config, outcome_id: int, language: str) -> Path:
    """Where an outcome's recording in ``language`` goes (as ``kanavat voices`` lists it)."""
    return config.resolve(config.server.voices) / language / f"outcome.{outcome_id}.wav"


def recorded(
    config: Config, prompts: PromptLibrary, outcome_id: int, outcome: Outcome, language: str
) -> bool:
    """Whether the call would play a person's recording of the message as it reads now."""
    return prompts.recorded(language, outcome_part(config, outcome_id, outcome, language))


def deadline(config: Config, outcome: Outcome) -> datetime | None:
    """When calls still waiting for a recording go with the placeholder (``calls_wait_days``
    after the outcome was added); None: they wait until recorded or released."""
    days = config.outcomes.calls_wait_days
    if days is None or outcome.calls_wait != outcomes.CALLS_WAIT_RECORDING:
        return None
    if not outcome.created_at:
        return None
    return datetime.fromisoformat(outcome.created_at) + timedelta(days=days)


@dataclass(frozen=True)
class Waiting:
    """An outcome's calls in one language, held, and why."""

    outcome_id: int
    language: str
    residents: int
    calls_wait: str  # outcomes.CALLS_WAIT_RECORDING or outcomes.CALLS_HELD
    place: Path  # where the recording goes
    found: Path | None  # a file in its place (maybe not yet built in)
    recorded: bool  # built in: the running server starts the calls at its next round
    until: str | None = None  # "28.5.2027 14:00": then they go with the placeholder voice

    @property
    def why(self) -> str:
        """What an official reads: "calls to 2 residents wait for the Swedish recording: ..."."""
        calls = f"calls to {self.residents} resident{'s' if self.residents != 1 else ''}"
        name = language_name(self.language)
        if self.calls_wait == outcomes.CALLS_HELD:
            return f"{calls} ({name}) held until `kanavat outcome release {self.outcome_id}`"
        if self.recorded:
            return f"{calls}: the {name} recording is in; the server starts them"
        until = f" (until {self.until}, then with a placeholder voice)" if self.until else ""
        if self.found is not None:
            return (
                f"{calls} wait for the {name} recording{until}: {self.found} is there, "
                "run `kanavat voices build`"
            )
        return (
            f"{calls} wait for the {name} recording{until}: record {self.place}, then run "
            "`kanavat voices build`"
        )


def waiting(
    config: Config, store: Store, outcome_id: int, prompts: PromptLibrary | None = None
) -> list[Waiting]:
    """The outcome's held calls by language, with why each waits (empty: none waits)."""
    held = notices.held_calls(store, outcome_id)
    outcome = outcomes.get(store, outcome_id) if held else None
    if outcome is None:
        return []
    prompts = prompts or library(config)
    ends = deadline(config, outcome)
    zone = ZoneInfo(config.county.timezone)
    local = ends.astimezone(zone) if ends else None
    until = f"{local.day}.{local.month}.{local.year} {local:%H:%M}" if local else None
    out = []
    for (_, language), residents in held.items():
        place = recording_place(config, outcome_id, language)
        found = next(
            (f for f in (place.with_suffix(s) for s in AUDIO_SUFFIXES) if f.is_file()), None
        )
        out.append(
            Waiting(
                outcome_id,
                language,
                residents,
                outcome.calls_wait or outcomes.CALLS_HELD,
                place,
                found,
                recorded(config, prompts, outcome_id, outcome, language),
                until,
            )
        )
    return out


def sweep(config: Config, store: Store, prompts: PromptLibrary) -> int:
    """Start the held calls of every outcome waiting for a recording that is now built in,
    language by language, or whose wait is over (``calls_wait_days``); the notice lane runs
    this. How many calls were started."""
    started = 0
    now = store.clock()
    for (outcome_id, language), _ in notices.held_calls(store).items():
        outcome = outcomes.get(store, outcome_id)
        if outcome is None or outcome.calls_wait != outcomes.CALLS_WAIT_RECORDING:
            continue
        if recorded(config, prompts, outcome_id, outcome, language):
            because = "recorded"
        elif (ends := deadline(config, outcome)) is not None and now >= ends:
            because = "waited"
        else:
            continue
        with store.transaction():
            n = notices.unhold(store, outcome_id, language)
            store.audit(
                "outcome.calls_start", outcome=outcome_id, language=language, calls=n, why=because
            )
        log.info(
            "loop.holds.started outcome=%s lang=%s calls=%d why=%s",
            outcome_id,
            language,
            n,
            because,
        )
        started += n
    return started


def release(store: Store, outcome_id: int) -> int:
    """An official starts an outcome's waiting calls now: how many. Raises
    :class:`OutcomeError` for no such outcome, or one whose calls were not waiting."""
    with store.transaction():
        outcome = outcomes.get(store, outcome_id)
        if outcome is None:
            raise OutcomeError(f"no outcome {outcome_id}; see `kanavat outcome list`")
        waited = outcomes.calls_released(store, outcome_id)
        if waited is None:
            released = outcome.calls_wait == outcomes.CALLS_RELEASED
            said = "were released already" if released else "never waited"
            raise OutcomeError(f"outcome {outcome_id}'s calls {said}: nothing to release")
        started = notices.unhold(store, outcome_id)
        store.audit("outcome.release", outcome=outcome_id, calls=started, waited=waited)
    log.info("loop.holds.released outcome=%s calls=%d", outcome_id, started)
    return started
