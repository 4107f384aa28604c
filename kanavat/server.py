"""The kanavat service: one aiohttp application mounting every channel's routes.

``create_app`` is synchronous and pure; every resource opens and closes in a cleanup
context, in order: the store, then Twilio (or the local emulator standing in for it), then
the dispatcher. Cleanup contexts unwind in reverse, so the dispatcher stops before the store
closes and in-flight work ends with the store consistent.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import uvloop
from aiohttp import WSCloseCode, web

from kanavat import __version__, workers
from kanavat.appkeys import (
    AUTH_TOKEN,
    CONFIG,
    CONVERSATIONS,
    DISPATCHER,
    EMULATOR,
    EMULATOR_URL,
    PROVIDER,
    SENDER,
    STORE,
    TURN_BATCHES,
    TURNS,
    WEBSOCKETS,
)
from kanavat.channels import ADAPTERS, turn_channels
from kanavat.checkpoints import Checkpointer
from kanavat.config import Config
from kanavat.conversations import Conversations
from kanavat.errors import errors
from kanavat.loop import public as public_page
from kanavat.loop.tell import NoticeLane
from kanavat.outreach import campaigns, triggers
from kanavat.outreach.dispatch import Dispatcher
from kanavat.provider import TwilioProvider
from kanavat.proxy import real_ip
from kanavat.report import routes as report_routes
from kanavat.sender import SWEEP_EVERY, Sender
from kanavat.sms.send import SmsSender
from kanavat.store import Clock, Store
from kanavat.turn.batch import TurnBatches
from kanavat.turn.context import Context
from kanavat.turn.entry import Turns
from kanavat.voice import stream as voice_stream
from kanavat.webhooks import twilio_signature

log = logging.getLogger("kanavat.server")
MAX_REQUEST_BYTES = 1024 * 1024
EMULATOR_NUMBER = "+358451234567"
YOUNG_GC_THRESHOLD = 10_000  # net new objects between young collections (Python's: 700)


@dataclass(frozen=True)
class Options:
    emulator_port: int | None = None  # None: the public_url's port + 1
    dispatch_interval: float = 1.0  # the scheduler's tick, in real seconds
    emulator_speed: float = 1.0
    clock: Clock | None = None  # the store's and scheduler's time (None: the wall clock)
    # SQLite: no other server had the store at start (``backup.serving``), so what it holds
    # in flight is a dead process's, recovered at once. Else the scheduler's leader does.
    alone: bool = True
    started: Callable[[], None] | None = None  # recovered: the next server may start


def create_app(config: Config, options: Options = Options()) -> web.Application:
    app = web.Application(
        client_max_size=MAX_REQUEST_BYTES, middlewares=[real_ip, errors, twilio_signature]
    )
    app[CONFIG] = config
    app[WEBSOCKETS] = set()
    app.cleanup_ctx.append(_store_ctx)
    app.cleanup_ctx.append(_twilio_ctx(options))
    app.cleanup_ctx.append(_outbox_ctx(options))
    app.cleanup_ctx.append(_voice_ctx)
    app.cleanup_ctx.append(_dispatcher_ctx(options))
    app.router.add_get("/healthz", healthz)
    for adapter in ADAPTERS:
        adapter.mount(app)
    app.add_routes(report_routes.routes(config, store=lambda: app[STORE]))
    triggers.add_routes(app)
    public_page.add_routes(app)
    app.on_shutdown.append(_close_websockets)
    return app


def _daily_purge(store: Store, config: Config) -> None:
    """Retention: phone numbers and raw data of ended campaigns go after retention_days."""
    from kanavat.privacy.purge import purge

    report = purge(store, config, store.clock())
    log.info(
        "privacy.purge.done campaigns=%d phones=%d events=%d recordings=%d",
        len(report.campaigns),
        report.phones,
        report.events,
        report.recordings,
    )


async def _daily_embeddings(store: Store, config: Config) -> None:
    """Free-text themes (issue 21): new answers embedded once and kept, for reports to read."""
    from kanavat.themes import stored

    made = await stored.embed_daily(store, config)
    log.info("themes.embeddings.done answers=%d", made)


async def healthz(request: web.Request) -> web.Response:
    store = request.app[STORE]
    return web.json_response(
        {
            "status": "ok",
            "version": __version__,
            "schema": store.schema_version,
            "worker": request.app[TURNS].worker.id,
            "round_trips": store.round_trips,
            "twilio": "emulator" if request.app[CONFIG].twilio is None else "twilio",
        }
    )


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    store = Store(config.database, secret=config.server.secret)
    campaigns.sync(store, config)
    app[STORE] = store
    conversations = Conversations(config, store)
    app[CONVERSATIONS] = conversations
    worker = workers.register(store)
    app[TURNS] = Turns(
        Context(config, store, conversations), turn_channels(config.server.sms_replies), worker
    )
    app[TURN_BATCHES] = TurnBatches(app[TURNS])
    log.info("store.opened schema=%s", store.schema_version)
    beating = asyncio.get_running_loop().create_task(_beat_forever(store, worker))
    # SQLite's checkpoints (copy the log into the file, fsync) off the event loop.
    checkpoints = None if store.is_postgres else Checkpointer(store)
    if checkpoints is not None:
        checkpoints.start()
    yield
    beating.cancel()
    await asyncio.gather(beating, return_exceptions=True)
    if checkpoints is not None:
        checkpoints.stop()
    with contextlib.suppress(Exception):  # a store gone: the others find the worker stale
        workers.retire(store, worker)
    store.close()
    log.info("store.closed")


async def _beat_forever(store: Store, worker: workers.Worker) -> None:
    """This worker's heartbeat (``kanavat/workers.py``): the others leave what it holds."""
    while True:
        await asyncio.sleep(workers.BEAT)
        try:
            workers.beat(store, worker)
        except Exception as exc:
            log.warning("worker.beat.failed reason=%s", type(exc).__name__)


def _twilio_ctx(options: Options):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        config = app[CONFIG]
        async with contextlib.AsyncExitStack() as stack:
            if config.twilio is not None:
                app[AUTH_TOKEN] = config.twilio.auth_token
                provider = TwilioProvider(
                    config.twilio.account_sid,
                    config.twilio.auth_token,
                    config.twilio.caller_id,
                    config.twilio.api_base,
                    allowed_country_codes=config.privacy.allowed_country_codes,
                )
                log.info("twilio.provider mode=twilio")
            else:
                from kanavat.emulator import EmulatorSettings, running_emulator

                account_sid = "AC" + secrets.token_hex(16)
                token = secrets.token_hex(16)
                public = config.server.public_url
                port = options.emulator_port or ((urlsplit(public).port or 80) + 1)
                settings = EmulatorSettings(
                    account_sid=account_sid,
                    auth_token=token,
                    phone_number=EMULATOR_NUMBER,
                    sms_url=f"{public}/twilio/sms",
                    voice_url=f"{public}/twilio/voice",
                    speed=options.emulator_speed,
                )
                emulator = await stack.enter_async_context(
                    running_emulator(settings, host="127.0.0.1", port=port)
                )
                app[AUTH_TOKEN] = token
                app[EMULATOR_URL] = emulator.base_url
                app[EMULATOR] = emulator
                provider = TwilioProvider(
                    account_sid,
                    token,
                    EMULATOR_NUMBER,
                    emulator.base_url,
                    allowed_country_codes=config.privacy.allowed_country_codes,
                )
                log.info("twilio.provider mode=emulator url=%s", emulator.base_url)
            stack.push_async_callback(provider.close)
            app[PROVIDER] = provider
            app[SENDER] = Sender(config, app[STORE], provider)
            yield

    return ctx


def _outbox_ctx(options: Options):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        """Before any request: handle what a previous process stored and never handled, and
        deliver what it queued and never sent; then keep doing so every few seconds."""
        turns, sender = app[TURNS], app[SENDER]
        # First what a dead process left mid-call (the turns below write rows ``sending``
        # too), if no other server can be sending them: on SQLite the first server to start
        # (``backup.serving``). Else the scheduler's leader takes those older than a request.
        if options.alone and not app[STORE].is_postgres:
            await sender.recover()
        if options.started is not None:  # the next server sharing the store may start
            options.started()
        # What a dead worker held (this one's predecessor, on this machine, is known dead at
        # once) or nobody holds; never what a live worker is handling (turn/entry.py).
        for reply in turns.sweep():
            sender.kick(reply.outbox, claimed=reply.claimed)
        await sender.sweep(settle=timedelta(0))
        task = asyncio.get_running_loop().create_task(_sweep_forever(turns, sender))
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await sender.stop()

    return ctx


async def _sweep_forever(turns: Turns, sender: Sender) -> None:
    while True:
        await asyncio.sleep(SWEEP_EVERY)
        try:
            for reply in turns.sweep():
                sender.kick(reply.outbox, claimed=reply.claimed)
            await sender.sweep()
        except Exception:
            log.exception("outbox.sweep.failed")


async def _voice_ctx(app: web.Application) -> AsyncIterator[None]:
    """Speech models load once, off the event loop; a language whose model fails to load
    still takes calls, with the keypad (said in the log, and by ``kanavat check``)."""
    from kanavat.voice.engines import SpeechEngines, load_engine, speech_threads
    from kanavat.voice.prompts import PromptLibrary

    config = app[CONFIG]
    loaded = {}
    threads = speech_threads(config.server.workers_per_machine)
    for language, speech in config.speech.items():
        path = config.resolve(speech.model)
        try:
            loaded[language] = await asyncio.to_thread(
                load_engine, speech.engine, language, path, threads
            )
            log.info(
                "voice.engine.ready lang=%s engine=%s threads=%s",
                language,
                speech.engine,
                getattr(loaded[language], "cpu_threads", 1),
            )
        except Exception as exc:
            log.warning(
                "voice.engine.unavailable lang=%s engine=%s reason=%s keypad_only=true",
                language,
                speech.engine,
                type(exc).__name__,
            )
    for language in config.county.languages:
        if language not in loaded:
            log.info("voice.keypad_only lang=%s", language)
    engines = SpeechEngines(loaded)
    # KANAVAT_PROMPT_CACHE: where placeholder renderings are kept (content-addressed, shareable).
    prompts = PromptLibrary(
        config.resolve(config.server.voices),
        config.county.languages,
        cache_dir=os.environ.get("KANAVAT_PROMPT_CACHE") or None,
    )
    prompts.prewarm(config)
    app[voice_stream.VOICE_KEYS] = voice_stream.VoiceServices(engines, prompts)
    yield
    prompts.close()
    await asyncio.to_thread(engines.close)


def _dispatcher_ctx(options: Options):
    """The scheduler (kanavat/outreach/scheduler.py): reconcile what a previous process left, then
    tick every ``options.dispatch_interval`` seconds by ``options.clock``'s time. With several
    workers sharing the store it leads in one of them (``leader.py``) and waits in the
    others."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        from kanavat.outreach.scheduler import Scheduler

        store = app[STORE]
        if options.clock is not None:
            store.clock = options.clock  # one time for the store, dispatcher and scheduler
        sms = SmsSender(app[CONFIG], store, app[PROVIDER], outbox=app[SENDER])
        dispatcher = Dispatcher(app[CONFIG], store, app[CONVERSATIONS], sms)
        dispatcher.notices = NoticeLane(app[CONFIG], store, app[SENDER])
        app[DISPATCHER] = dispatcher
        scheduler = Scheduler(
            app[CONFIG],
            store,
            dispatcher,
            tick=options.dispatch_interval,
            daily=[_daily_purge, _daily_embeddings],
            leader_jobs=[app[SENDER].recover_stranded],
            # The notices lane runs in the leader: its claims are the last leader's.
            taking_lead=[dispatcher.notices.recover],
        )
        await scheduler.start()
        yield
        await scheduler.stop()

    return ctx


async def _close_websockets(app: web.Application) -> None:
    for ws in set(app[WEBSOCKETS]):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")


async def _tune_gc(app: web.Application) -> None:
    """The cyclic garbage collector, for a server. What start-up built (configuration,
    questionnaires, speech models, prompts) lives as long as the process: frozen out of its
    sight (``gc.freeze``), so a full collection walks only what requests made since (it
    had walked the whole heap: pauses up to ~60 ms for every request in flight, the SMS
    p99). And a young collection only after 10,000 net new objects, not 700: requests'
    objects are freed by reference counting as they end, and at load the bursts of a group
    of turns had set off a young collection every few dozen milliseconds (a twentieth of
    the server's CPU) that found nearly nothing."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])
    log.info("server.heap_frozen objects=%s", gc.get_freeze_count())


def serve(config: Config, host: str, port: int, options: Options = Options()) -> None:
    """Run until SIGINT/SIGTERM; aiohttp lets in-flight requests finish, then unwinds.
    On uvloop: its event loop and sockets in C take a tenth off every request."""
    app = create_app(config, options)
    app.on_startup.append(_tune_gc)  # after every cleanup context has started
    web.run_app(
        app,
        host=host,
        port=port,
        print=None,
        access_log=None,
        shutdown_timeout=10,
        loop=uvloop.new_event_loop(),
        # Several servers on one machine share the port: the kernel spreads connections.
        reuse_port=config.server.workers_per_machine > 1,
    )
