"""One rehearsal: the real server in-process, the emulator accelerated, a population acting.

``Rehearsal`` prepares its folder (a config copy and a fresh store), imports the generated
population exactly as ``kanavat contacts import`` does, starts the app with the production
factory on the config's port, gives every resident's handset its behaviour, starts the
campaigns and waits until the store is quiet: nobody due within the rehearsal's time, no call
or text on the way, no resident about to reply, every chat visitor gone. The server keeps
running until ``close`` (``kanavat demo`` leaves it up for a person to try).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from kanavat import attempts, contacts
from kanavat import config as configuration
from kanavat.appkeys import EMULATOR, STORE
from kanavat.outreach import audience, campaigns, triggers
from kanavat.outreach.reach import Reach, reach
from kanavat.questions.model import Question
from kanavat.server import Options, create_app
from kanavat.simulate import chat, conversation, population, rehearsal, sms, voice
from kanavat.simulate.population import Resident
from kanavat.simulate.speech import Speaker
from kanavat.store import Store, iso

log = logging.getLogger("kanavat.simulate")
QUIET_SECONDS = 1.5  # the store must stay quiet this long: webhooks may still be on the way
CHAT_GAP = 0.15  # seconds between chat visitors arriving
# Real seconds a rehearsal may take beyond its plan's timeout (start-up, settling, reports):
# its clock starts far enough before now that even the longest run stays in the past.
REHEARSAL_MARGIN = 120.0


@dataclass
class Plan:
    """What to rehearse: ``source`` config, campaigns (None: all), population and pace."""

    source: Path | None
    folder: Path
    campaign_ids: list[str] | None = None
    respondents: int = 60
    seed: int = 2027
    speed: float = 20.0  # emulator: a 60 s call plays in 3 s
    clock_rate: float = 7200.0  # the store's clock: two hours of retries and reminders a second
    timeout: float = 600.0  # real seconds; what is still due after it is reported pending
    port: int = 8080  # preferred; another free pair is taken if it is busy
    speech: bool = True
    event_volume: int = 1  # residents of an event-triggered campaign, times its channel share
    conversation_volume: int = 1  # residents of a conversation campaign, the same way


class RehearsalClock:
    """The store's and scheduler's time, running ``rate`` times faster than the wall clock.

    Retries hours apart, reminders a day later and fallbacks to the next channel all happen
    within a minute or two. The rehearsal is played ``lead`` before now, so that when
    ``kanavat demo`` hands the server to a person, ``slow_down`` can return to the real time
    without stamping anything ahead of the rehearsal's own records (or, if the rehearsal ran
    past now, keeps real pace from where it got to)."""

    def __init__(self, rate: float, lead: timedelta) -> None:
        self.rate = rate
        self._base = datetime.now(UTC) - lead
        self._mono = time.monotonic()

    def __call__(self) -> datetime:
        return self._base + timedelta(seconds=(time.monotonic() - self._mono) * self.rate)

    def slow_down(self, rate: float = 1.0) -> None:
        self._base, self._mono = max(self(), datetime.now(UTC)), time.monotonic()
        self.rate = rate


@dataclass
class Result:
    rows: list[Reach]
    seconds: float
    residents: list[Resident]
    speech_note: str
    timed_out: bool
    tally: Counter[str] = field(default_factory=Counter)
    loop: Any = None  # kanavat.simulate.loop.LoopSummary, once the loop is closed


def whisper_model() -> tuple[Path | None, str]:
    """The packaged Whisper base model if installed, and a sentence saying so."""
    from kanavat.voice.models import ModelNotInstalled, assemble_whisper_base

    try:
        return assemble_whisper_base(), "speech: Finnish answers through Whisper base"
    except (ModelNotInstalled, OSError) as exc:
        return None, f"speech: none, keypad only ({exc})"


class Rehearsal:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.config: configuration.Config | None = None
        self.residents: list[Resident] = []
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._app: web.Application | None = None
        self._tasks: list[asyncio.Task] = []
        self._busy = 0
        self.tally: Counter[str] = Counter()
        self.speech_note = ""
        self.latent_groups: dict[str, int] = {}  # conversation residents' built-in groups
        lead = timedelta(seconds=plan.clock_rate * (plan.timeout + REHEARSAL_MARGIN))
        self.clock = RehearsalClock(plan.clock_rate, lead)

    # -- setting up ----------------------------------------------------------------------

    def prepare(self) -> configuration.Config:
        """Folder, config copy, population; synchronous, nothing is running yet."""
        plan = self.plan
        try:
            source = configuration.load(plan.source)
        except configuration.ConfigError as exc:
            raise rehearsal.RehearsalError(f"the configuration has errors:\n{exc}") from None
        ids = plan.campaign_ids or list(source.campaigns)
        for cid in ids:
            try:
                source.campaign(cid)
            except configuration.UnknownName as exc:
                raise rehearsal.RehearsalError(str(exc)) from None
        if not ids:
            raise rehearsal.RehearsalError("the configuration has no campaigns to rehearse")
        model, self.speech_note = whisper_model() if plan.speech else (None, "speech: off")
        rehearsal.prepare_folder(plan.folder)
        self.port = rehearsal.free_port_pair(plan.port)
        path = rehearsal.write_config(source, plan.folder, self.port, model, now=self.clock())
        config = configuration.load(path)
        self.config = config
        self.residents = population.generate(
            config, ids, plan.respondents, plan.seed, plan.event_volume, plan.conversation_volume
        )
        store = Store(config.database, secret=config.server.secret)
        try:
            campaigns.sync(store, config)
            for group in sorted({r.group for r in self.residents if r.group}):
                csv_path = plan.folder / "population" / f"{group}.csv"
                population.write_csv(self.residents, group, csv_path)
                contacts.import_csv(
                    store,
                    csv_path,
                    group,
                    config.county.languages,
                    config.privacy.allowed_country_codes,
                )
        finally:
            store.close()
        return config

    async def start(self) -> None:
        """The app on the config's port, with the emulator accelerated beside it."""
        assert self.config is not None
        self._app = create_app(
            self.config,
            Options(
                emulator_port=self.port + 1,
                dispatch_interval=0.2,
                emulator_speed=self.plan.speed,
                clock=self.clock,
            ),
        )
        self._runner = web.AppRunner(self._app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    @property
    def store(self) -> Store:
        assert self._app is not None
        return self._app[STORE]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def emulator_url(self) -> str:
        return f"http://127.0.0.1:{self.port + 1}"

    def speech_languages(self) -> set[str]:
        from kanavat.voice.stream import VOICE_KEYS

        assert self._app is not None and self.config is not None
        engines = self._app[VOICE_KEYS].engines  # type: ignore[attr-defined]
        return {lang for lang in self.config.county.languages if engines.engine_for(lang)}

    # -- the run -------------------------------------------------------------------------

    async def run(self, progress: Callable[[int, int, Counter[str]], None]) -> Result:
        """Act out the population until the store is quiet (or the timeout); the reach."""
        assert self._app is not None and self.config is not None
        config, plan = self.config, self.plan
        started = time.monotonic()
        rng = random.Random(plan.seed + 1)
        questions = {
            cid: {q.id: q for q in config.questionnaire_of(cid).questions}
            for cid in {r.campaign_id for r in self.residents}
        }
        catalogs, self.latent_groups = conversation.prepare(
            self.store, config, self.residents, questions, rng
        )
        speaker = await self._speaker(questions)
        emulator = self._app[EMULATOR]
        questionnaires = {**catalogs, **config.questionnaires}  # a conversation's first
        visitors = [r for r in self.residents if r.phone is None]
        for r in self.residents:
            if r.phone is None:
                continue
            handset = emulator.handset(r.phone)  # type: ignore[attr-defined]
            own_speaker = speaker if speaker and r.language in speaker[1] else None
            handset.set_behaviour(
                script=voice.call_script(
                    r, questions[r.campaign_id], own_speaker and own_speaker[0], self._count
                ),
                **voice.outcome_behaviour(r, first_call=True),
            )
            sub = random.Random(rng.random())
            self._spawn(
                sms.converse(
                    handset,
                    r,
                    questionnaires,
                    sub,
                    self._mark_busy,
                    3600 / self.clock.rate,
                    self._count,
                )
            )
            self._spawn(voice.watch_calls(handset, r))
        ids = sorted({r.campaign_id for r in self.residents})
        for cid in ids:
            audience.enrol(self.store, config, cid)
            campaigns.set_status(self.store, cid, "running")
        for r in self.residents:  # fast feedback: each resident's service event
            if config.campaign(r.campaign_id).trigger == "event" and r.phone:
                triggers.trigger(
                    self.store, config, r.campaign_id, r.phone, r.attributes,
                    language=r.language, source="rehearsal",
                )  # fmt: skip
        chats = [
            asyncio.create_task(
                self._visit(r, i, questions[r.campaign_id], random.Random(rng.random()))
            )
            for i, r in enumerate(visitors)
        ]
        deadline = started + plan.timeout
        quiet_since: float | None = None
        timed_out = False
        while True:
            await asyncio.sleep(0.25)
            now = time.monotonic()
            settled = self._settled(ids) + sum(t.done() for t in chats)
            progress(settled, len(self.residents), self.tally)
            if now > deadline:
                timed_out = True
                break
            if all(t.done() for t in chats) and self._quiet(ids, deadline - now):
                quiet_since = quiet_since or now
                if now - quiet_since >= QUIET_SECONDS:
                    break
            else:
                quiet_since = None
        for task in chats:
            task.cancel()
        rows = reach(self.store, config, ids)
        return Result(
            rows,
            time.monotonic() - started,
            self.residents,
            self.speech_note,
            timed_out,
            self.tally,
        )

    async def _speaker(self, questions: dict[str, dict[str, Question]]):
        """espeak-ng clips for every speaking resident, made before the calls start."""
        from kanavat.simulate import answers
        from kanavat.simulate.population import phrases

        languages = self.speech_languages()
        speaker = Speaker()
        if not languages:
            return None
        if not speaker.available:
            self.speech_note += "; espeak-ng missing: speaking residents use the keypad"
            return None
        wanted: set[tuple[str, str]] = set()
        for r in self.residents:
            if r.phone and r.persona.speaks and r.language in languages:
                wanted.add((phrases()[r.language]["repeat"], r.language))
                wanted.add((voice.stop_word(r.language), r.language))
                for q in questions[r.campaign_id].values():
                    words = answers.spoken(q, r.answers.get(q.id), r.language)
                    if words:
                        wanted.add((words, r.language))
        await asyncio.gather(*(asyncio.to_thread(speaker.clip, w, lang) for w, lang in wanted))
        return speaker, languages

    async def _visit(self, r: Resident, index: int, questions: dict[str, Question], rng) -> None:
        await asyncio.sleep(index * CHAT_GAP)
        try:
            how = await chat.visit(
                self.base_url, r.campaign_id, r, questions, rng, index, self._count
            )
        except Exception as exc:  # one visitor's trouble must not end the rehearsal
            how = f"failed {type(exc).__name__}"
        self._count(f"chat.ended.{how.split()[0]}")

    def _spawn(self, coro) -> None:
        self._tasks.append(asyncio.create_task(coro))

    def _count(self, event: str) -> None:
        self.tally[event] += 1

    def _mark_busy(self, delta: int) -> None:
        self._busy += delta

    def _settled(self, ids: list[str]) -> int:
        marks = ",".join("?" * len(ids))
        row = self.store.one(
            f"SELECT count(*) AS n FROM campaign_contacts WHERE campaign_id IN ({marks}) "
            "AND disposition != 'pending'",
            ids,
        )
        return int(row["n"]) if row else 0

    def _quiet(self, ids: list[str], remaining: float) -> bool:
        """Nothing due within the rehearsal's time, nothing on the way, nobody replying."""
        if self._busy:
            return False
        store = self.store
        horizon = iso(store.clock() + timedelta(seconds=max(0.0, remaining) * self.clock.rate))
        marks = ",".join("?" * len(ids))
        checks = [
            (
                f"SELECT 1 FROM campaign_contacts WHERE campaign_id IN ({marks}) AND "
                "disposition = 'pending' AND next_due_at IS NOT NULL AND next_due_at <= ?",
                [*ids, horizon],
            ),
            ("SELECT 1 FROM sessions WHERE channel = 'voice' AND status = 'active'", []),
        ]
        if attempts.any_live(store) or attempts.any_in_flight(store):
            return False
        return all(store.one(sql + " LIMIT 1", params) is None for sql, params in checks)

    # -- ending --------------------------------------------------------------------------

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self._app = None
