"""Closing the loop in a rehearsal (``kanavat simulate`` and ``kanavat demo``).

After the campaigns, each rehearsed campaign's council records what came of it (an outcome
in every county language), a few residents text a suggestion with their language's keyword,
officials route and answer them, and the server tells everyone in their channel: texts
through the outbox, calls that play the message (the virtual resident listens, then presses
a key), chat visitors at their next visit (they stay waiting in a rehearsal). Calls that
wait for the message's recording (``[outcomes] calls_wait_for_recording``) are released, as
an official would who has no recording: a rehearsal has nobody to record it. Returns what
was told, by channel, and the suggestions by status.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

from kanavat import attempts
from kanavat.appkeys import EMULATOR
from kanavat.emulator import Press, Wait
from kanavat.loop import holds, notices, outcomes, suggestions
from kanavat.loop.texts import texts as loop_texts
from kanavat.simulate.runner import Rehearsal

DECIDED = {
    "fi": "Neuvosto kävi vastaukset läpi ja esittää muutoksia palveluihin syksyllä.",
    "sv": "Rådet gick igenom svaren och föreslår ändringar i tjänsterna i höst.",
    "en": "The council went through the answers and proposes changes to services this autumn.",
}
IDEAS = {
    "fi": "lisää penkkejä terveysaseman pihalle",
    "sv": "fler bänkar vid hälsostationen",
    "en": "more benches outside the health centre",
}
ANSWER = "Kiitos! Penkit lisätään keväällä. / Tack! Bänkarna kommer i vår. / Thank you! Benches are added in spring."
SUGGESTERS = 5
SETTLE_SECONDS = 120.0


@dataclass
class LoopSummary:
    outcomes: int = 0
    released: int = 0  # calls that waited for a recording, released (placeholder voice)
    told: dict[str, dict[str, int]] = field(default_factory=dict)
    suggestions: dict[str, int] = field(default_factory=dict)
    timed_out: bool = False


async def close_the_loop(rehearsal: Rehearsal, seed: int) -> LoopSummary:
    config, store = rehearsal.config, rehearsal.store
    assert config is not None and rehearsal._app is not None
    emulator = rehearsal._app[EMULATOR]
    rng = random.Random(seed)
    phones = [r for r in rehearsal.residents if r.phone]
    for r in phones:  # a notice call: listen to the message, then any key ends it
        emulator.handset(r.phone).set_behaviour(  # type: ignore[attr-defined]
            call_outcome="answer", answered_by="human", script=[Wait(), Press("9"), Wait()]
        )
    ids = sorted({r.campaign_id for r in rehearsal.residents})
    langs = {lang: DECIDED.get(lang, DECIDED["en"]) for lang in config.county.languages}
    outcome_ids = []
    released = 0
    for cid in ids:
        outcome = outcomes.Outcome(
            cid, config.campaign(cid).council, store.now()[:10], langs, source=f"rehearsal:{cid}"
        )
        outcome_id, _, _ = outcomes.add(store, config, outcome)
        outcome_ids.append(outcome_id)
        if holds.waiting(config, store, outcome_id):
            released += holds.release(store, outcome_id)
    suggesters = rng.sample(phones, min(SUGGESTERS, len(phones)))
    for r in suggesters:
        keyword = loop_texts(r.language)["words"]["suggest"][0]
        idea = IDEAS.get(r.language, IDEAS["en"])
        await emulator.handset(r.phone).send_sms(f"{keyword} {idea}")  # type: ignore[attr-defined]
    queues = list(config.suggestions.queues) or ["kirjaamo"]
    for row in suggestions.listed(store, status="new"):
        suggestions.route(store, row["id"], rng.choice(queues), rng.choice(["liikenne", "tilat"]))
        suggestions.answer(store, row["id"], ANSWER)
    timed_out = not await _settled(rehearsal, SETTLE_SECONDS)
    return LoopSummary(
        len(outcome_ids),
        released,
        notices.counts(store, "outcome", outcome_ids),
        suggestions.counts(store)["status"],
        timed_out,
    )


async def _settled(rehearsal: Rehearsal, seconds: float) -> bool:
    """Every text and call notice told or given up, nothing on the way; False at the timeout."""
    store = rehearsal.store
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        open_ = store.one(
            "SELECT 1 AS x FROM notices WHERE channel != 'chat' AND status IN (?, ?) LIMIT 1",
            [notices.PENDING, notices.CALLING],
        )
        if open_ is None and not attempts.any_in_flight(store) and not attempts.any_live(store):
            return True
    return False


def print_loop(console, summary: LoopSummary) -> None:  # type: ignore[no-untyped-def]
    console.print(f"\nwhat came of it: {summary.outcomes} outcomes recorded; residents told:")
    if summary.released:
        console.print(
            f"  ({summary.released} calls waited for the message's recording; with none in a "
            "rehearsal they were released: `kanavat outcome release`)"
        )
    for channel, by in sorted(summary.told.items()):
        parts = ", ".join(f"{status} {n}" for status, n in sorted(by.items()))
        note = " (shown at their next visit)" if channel == "chat" else ""
        console.print(f"  {channel:<6} {parts}{note}")
    parts = ", ".join(f"{s} {n}" for s, n in summary.suggestions.items())
    console.print(f"suggestions: {parts}")
    if summary.timed_out:
        console.print("  (some notices were still on their way when the rehearsal ended)")
