"""The campaign scheduler inside ``kanavat serve``: APScheduler (asyncio) runs the ticks.

Each tick moves campaigns through their lifecycle by ``start``/``end`` (scheduled → running
→ finished; ``paused`` only by an official), runs the daily jobs once per local day, and
lets the dispatcher contact whoever is due. Every decision is read from the store at each
tick, so ``kanavat campaign pause`` from another process takes effect at the next tick and a
restart picks up exactly where the last process stopped: nothing lives only in memory.

On start-up, before the first tick, ``reconcile`` settles what a killed process left
behind: attempts in ``sending`` (did the provider get them?), calls whose final status was
never heard, and contacts left waiting for an outcome that will never come. Live calls are
re-checked with the provider every few ticks, since a status callback that arrived while the
server was down is not sent again.

With several workers sharing one store (PostgreSQL, or one machine's SQLite), all of this (ticks, daily jobs,
reconciling, dispatch) runs in one of them, the leader (``leader.py``): the others wait and
one takes over at its next tick after the leader dies, first reconciling what it left, as a
start-up would. Webhooks, Media Streams and chat sockets are taken by every worker.

Time comes from the store's clock (injectable: tests freeze it, ``kanavat simulate``
accelerates it); the tick interval is real seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from kanavat import attempts, conversations
from kanavat.attempts import AttemptStatus as S
from kanavat.config import Config
from kanavat.leader import Leadership
from kanavat.outreach import audience, campaigns, outcomes, queue
from kanavat.outreach.dispatch import LANES, Dispatcher
from kanavat.provider import ProviderError
from kanavat.store import Store, iso

log = logging.getLogger("kanavat.outreach.scheduler")

DailyJob = Callable[[Store, Config], object | Awaitable[object]]
LeaderJob = Callable[[], Awaitable[object]]
DAILY_HOUR = 3  # local time: the quietest hour for purges and reports
RECONCILE_EVERY = 20  # ticks between checks of live calls with the provider
OPINION_GROUPS_EVERY = 30.0  # seconds between conversations' opinion-group updates
HANDED_OVER_PASSES = 3  # passes of the loop in which a job's run just handed over ends


class Scheduler:
    """Ticks: the lifecycle, the ``daily`` jobs (e.g. privacy's purge, run once a day after
    03:00 county time), periodic reconciling, and one dispatch lane per channel, each its own
    task so calls and texts never wait for each other."""

    def __init__(
        self,
        config: Config,
        store: Store,
        dispatcher: Dispatcher,
        tick: float = 1.0,
        daily: Sequence[DailyJob] = (),
        leader_jobs: Sequence[LeaderJob] = (),
        taking_lead: Sequence[LeaderJob] = (),
    ):
        """``leader_jobs`` run when this process takes the lead and every few ticks after;
        ``taking_lead`` only when it takes the lead, first: the last leader's claims are then
        a dead process's (or, on PostgreSQL, of one that lost its connection and stepped
        down: its batch in flight is the known gap, as for the dispatcher's leases)."""
        self.config = config
        self.store = store
        self.dispatcher = dispatcher
        self.tick_seconds = tick
        self.daily = tuple(daily)
        self.leader_jobs = tuple(leader_jobs)
        self.taking_lead = tuple(taking_lead)
        self.leadership = Leadership(store)
        self._aps = AsyncIOScheduler(timezone=UTC)
        self._ticks = 0
        self._running: asyncio.Task | None = None
        self._lanes: dict[str, asyncio.Task] = {}
        self._stopped = False

    async def start(self) -> None:
        if self.leadership.check():
            await self._take_lead()
        else:
            log.info("scheduler.standby")
        self._aps.add_job(
            self._kick,
            "interval",
            seconds=self.tick_seconds,
            id="tick",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
            misfire_grace_time=None,
        )
        if any(c.conversation for c in self.config.campaigns.values()):
            self._aps.add_job(
                self._opinion_groups,
                "interval",
                seconds=OPINION_GROUPS_EVERY,
                id="opinion-groups",
                max_instances=1,
                coalesce=True,
            )
        self._aps.start()
        log.info("scheduler.started tick=%s", self.tick_seconds)

    async def _opinion_groups(self) -> None:
        """Conversations' opinion groups, recomputed off the event loop when votes arrived
        (issue 20: a job, never inside a resident's turn)."""
        from kanavat.conversation import groups

        try:
            count = await asyncio.to_thread(groups.update_all, self.store, self.config)
            if count:
                log.info("conversation.groups.updated campaigns=%s", count)
        except Exception:
            log.exception("conversation.groups.failed")

    async def stop(self, grace: float = 15.0) -> None:
        """Stop ticking. The contact being made is finished (its provider request answered and
        recorded), the rest of the batch is left to its leases; after ``grace`` seconds the
        tick is cancelled, as a crash would end it (restart-safe either way)."""
        self.dispatcher.stopping = True
        self._stopped = True  # a tick handed over as APScheduler stops returns at once
        await shut_down(self._aps)
        tasks = {t for t in (self._running, *self._lanes.values()) if t and not t.done()}
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace)
            for task in late:
                task.cancel()
            for task in late:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self.leadership.release()
        log.info("scheduler.stopped")

    async def _take_lead(self) -> None:
        """Lead from now: settle what the last leader (or process) left, as at start-up."""
        log.info("scheduler.leading")
        await self._leader_jobs(self.taking_lead)
        await reconcile(self.store, self.config, self.dispatcher, startup=True)
        await self._leader_jobs()

    async def _leader_jobs(self, jobs: Sequence[LeaderJob] | None = None) -> None:
        for job in self.leader_jobs if jobs is None else jobs:
            try:
                await job()
            except Exception:
                log.exception("scheduler.leader_job.failed job=%s", getattr(job, "__name__", job))

    async def _kick(self) -> None:
        """The APScheduler job: start a tick unless one is still running. The tick is our own
        task, since APScheduler cancels a running job at shutdown and we want it to finish."""
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self.tick())

    async def tick(self) -> None:
        try:
            was_leading = self.leadership.leading
            if not self.leadership.check() or self._stopped:
                if was_leading:
                    log.warning("scheduler.stepped_down")
                return
            if not was_leading:
                await self._take_lead()
            self._ticks += 1
            lifecycle(self.store, self.config)
            await run_daily(self.store, self.config, self.daily)
            if self._ticks % RECONCILE_EVERY == 0:
                await reconcile(self.store, self.config, self.dispatcher, startup=False)
                await self._leader_jobs()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("scheduler.tick.failed")
        if self.dispatcher.stopping:
            return
        for lane in LANES:  # a lane still draining a long batch is left to it
            task = self._lanes.get(lane)
            if task is None or task.done():
                self._lanes[lane] = asyncio.create_task(self.dispatcher.drain(lane))


async def shut_down(aps: AsyncIOScheduler) -> None:
    """Stop APScheduler without cancelling a run it has just handed to the event loop: its
    shutdown cancels such a run and logs the cancellation as a failed job, with a traceback.
    Paused first, the runs already handed over end in a pass or two of the loop (a job here
    only starts a task)."""
    aps.pause()
    for _ in range(HANDED_OVER_PASSES):
        await asyncio.sleep(0)
    aps.shutdown(wait=False)


def _aware(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def lifecycle(store: Store, config: Config) -> None:
    """Campaigns start at ``start`` and finish at ``end`` (county time); an official's
    ``campaign start`` before ``start`` keeps it running, ``pause`` keeps it paused."""
    now = store.clock()
    zone = ZoneInfo(config.county.timezone)
    for cid, campaign in config.campaigns.items():
        status = campaigns.status(store, cid)
        if status is None or status == "finished":
            continue
        ended = campaign.end is not None and now >= _aware(campaign.end, zone)
        if ended:
            settled = outcomes.finish_campaign(store, config, cid)
            log.info("campaign.finished campaign=%s settled=%s", cid, settled)
        elif status == "scheduled" and campaign.start and now >= _aware(campaign.start, zone):
            added = audience.enrol(store, config, cid)
            campaigns.set_status(store, cid, "running")
            log.info("campaign.started campaign=%s enrolled=%s", cid, added)


async def run_daily(store: Store, config: Config, jobs: Sequence[DailyJob]) -> None:
    """The daily ``jobs``, once per local date, at the first tick after DAILY_HOUR."""
    local = store.clock().astimezone(ZoneInfo(config.county.timezone))
    today = local.date().isoformat()
    if local.hour < DAILY_HOUR or store.setting("scheduler.daily") == today:
        return
    store.set_setting("scheduler.daily", today)
    for job in jobs:
        try:
            result = job(store, config)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("scheduler.daily.failed job=%s", getattr(job, "__name__", job))


async def reconcile(store: Store, config: Config, dispatcher: Dispatcher, startup: bool) -> None:
    """Settle attempts whose outcome was lost. ``startup``: also attempts left in ``sending``
    (only then: while running, ``sending`` is an attempt this process is making)."""
    provider = dispatcher.provider
    if startup:
        # Only the leader claims: any lease is a dead process's (or the last leader's), and
        # its contacts are due.
        queue.release_all(store)
        outcomes.settle_finished(store, config)
        await _reconcile_sending(store, config, provider)
    placed = attempts.in_sql(s for s in attempts.LIVE if s != S.SENDING)
    for a in store.query(
        "SELECT id, campaign_id, contact_id, provider_sid FROM attempts WHERE channel = 'voice' "
        f"AND provider_sid IS NOT NULL AND status IN {placed}"
    ):
        try:
            result = await provider.fetch_call(a["provider_sid"])
            status = result.status
        except ProviderError as exc:
            if exc.status != 404:
                continue  # the provider is unreachable: ask again later
            status = S.FAILED  # the provider never heard of it (a restarted emulator)
        if status not in attempts.FINAL_CALL:
            continue
        attempts.set_attempt(store, a["id"], status)
        outcomes.retry_or_give_up(store, config, a["campaign_id"], a["contact_id"], "reconciled")
    _reconcile_waiting(store, config)
    outcomes.sweep_samples(store, config)


async def _reconcile_sending(store: Store, config: Config, provider) -> None:  # type: ignore[no-untyped-def]
    """An attempt in ``sending`` died between writing its row and hearing the provider's
    answer. If the provider has a message or call to that number that the store does not
    know, it went out: it is adopted. If not, it never left: abandoned (not counted), and the
    same step is due again at once."""
    for a in store.query(
        "SELECT a.id, a.campaign_id, a.contact_id, a.channel, a.provider_sid, c.phone "
        "FROM attempts a JOIN contacts c ON c.id = a.contact_id WHERE a.status = ?",
        [S.SENDING],
    ):
        try:
            if a["channel"] == "voice" and a["provider_sid"]:
                # The call's own webhook named it (another worker took its TwiML request
                # while the process that placed it was dying): it went out.
                sid = a["provider_sid"]
            elif a["channel"] == "voice":
                sid = await _unknown_call_to(store, provider, a["phone"], a["id"])
            else:
                sid = await _unknown_text_to(store, provider, a["phone"], a["id"])
        except ProviderError:
            continue  # the provider is unreachable: settled at the next start
        if sid is not None:
            if a["channel"] == "voice":  # its callbacks may have moved it on meanwhile
                attempts.call_placed(store, a["id"], sid, S.QUEUED)
            else:
                attempts.set_attempt(store, a["id"], S.UNCONFIRMED, provider_sid=sid)
            log.info("reconcile.%s.adopted attempt=%s", a["channel"], a["id"])
            continue
        with store.transaction():
            now = attempts.attempt(store, a["id"])
            if now is None or now["status"] != S.SENDING or now["provider_sid"]:
                continue  # a webhook about it came meanwhile (another worker): it went out
            attempts.set_attempt(store, a["id"], S.ABANDONED)
            attempts.abandon_unsent(store, a["id"])
            if a["channel"] == "sms":  # nobody saw the invitation: a fresh start
                conversations.restart_unseen(store, a["campaign_id"], a["contact_id"])
            queue.untake(store, a["campaign_id"], a["contact_id"], store.now())
        log.info("reconcile.%s.abandoned attempt=%s", a["channel"], a["id"])


async def _unknown_call_to(  # type: ignore[no-untyped-def]
    store: Store, provider, phone: str | None, attempt_id: int
) -> str | None:
    """A call to ``phone`` the provider has and our store does not (or knows as this very
    attempt, named by its webhook meanwhile): ours, placed just before the process died.
    (One contact has at most one live attempt, so it can be no other.)"""
    if not phone:
        return None
    for sid in await provider.calls_to(phone):
        known = attempts.attempt_by_sid(store, sid)
        if known is None or known["id"] == attempt_id:
            return sid
    return None


async def _unknown_text_to(
    store: Store, provider, phone: str | None, attempt_id: int
) -> str | None:  # type: ignore[no-untyped-def]
    """A message of this attempt that is known to have left, or one to ``phone`` that the
    provider has and our store does not."""
    known = attempts.sid_of_attempt(store, attempt_id)
    if known is not None:
        return known
    if not phone:
        return None
    for message in await provider.messages_to(phone):
        if not attempts.known_sid(store, message.sid):
            return message.sid
    return None


def _reconcile_waiting(store: Store, config: Config) -> None:
    """Pending contacts of live campaigns waiting for an outcome (no due time) that have no
    live attempt: their outcome was lost, so decide it now."""
    rows = store.query(
        "SELECT cc.campaign_id, cc.contact_id, cc.channel_index FROM campaign_contacts cc "
        "JOIN campaigns k ON k.id = cc.campaign_id WHERE k.status IN ('running', 'paused') "
        "AND cc.disposition = 'pending' AND cc.next_due_at IS NULL AND NOT EXISTS ("
        f"SELECT 1 FROM attempts a WHERE a.contact_id = cc.contact_id AND a.status IN {attempts.LIVE_SQL})"
    )
    for r in rows:
        cid = r["campaign_id"]
        if cid not in config.campaigns:
            continue
        if outcomes.channel_of(config, cid, r["channel_index"]) == "voice":
            outcomes.retry_or_give_up(store, config, cid, r["contact_id"], "reconciled")
        # An SMS step or an unstarted contact: let the dispatcher decide now.
        queue.postpone(store, cid, r["contact_id"], iso(store.clock()), only_waiting=True)
