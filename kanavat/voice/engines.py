"""The speech engines a server runs: one per configured language, and the pool they decode in.

Loading a model takes seconds and hundreds of megabytes, so each language's engine is loaded
once at start and shared by every call. Decoding is CPU work that would stall every websocket
if it ran on the event loop, so it runs in one bounded thread pool sized to the cores (Vosk and
CTranslate2 release the GIL while decoding). Engine kinds are imported lazily by name: a server
without faster-whisper installed can still run Vosk, and this module knows no engine's details.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from kanavat.voice import audio
from kanavat.voice.recognise import SpeechEngine, Transcript

log = logging.getLogger(__name__)

T = TypeVar("T")

# kind -> "module:Class"; each class is built as Class(language, model_path).
ENGINE_KINDS: dict[str, str] = {
    "vosk": "kanavat.voice.vosk_engine:VoskEngine",
    "whisper": "kanavat.voice.whisper:WhisperEngine",
}


class EngineError(Exception):
    """A configured engine cannot be loaded (unknown kind, missing model, missing package)."""


def cpu_count() -> int:
    """Cores this process may use (the affinity mask in a container, not the host's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def speech_threads(workers_per_machine: int = 1) -> int:
    """The threads one worker's engine decodes on: its share of the cores (``[server]
    workers_per_machine`` processes share them), at most 4 (more does not help Whisper
    base), at least 1."""
    return max(1, min(4, cpu_count() // max(1, workers_per_machine)))


def load_engine(
    kind: str, language: str, model_path: str | Path, threads: int | None = None
) -> SpeechEngine:
    """Build one engine by kind name, importing its module only now. ``threads``: the
    cores an engine that decodes on several (Whisper's ``cpu_threads``) may use."""
    target = ENGINE_KINDS.get(kind)
    if target is None:
        raise EngineError(f"unknown speech engine {kind!r}; expected one of {sorted(ENGINE_KINDS)}")
    module_name, class_name = target.split(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except ImportError as exc:
        raise EngineError(f"speech engine {kind!r} is not installed: {exc}") from exc
    takes_threads = "cpu_threads" in inspect.signature(cls).parameters
    extra = {"cpu_threads": threads} if threads is not None and takes_threads else {}
    try:
        return cls(language, model_path, **extra)
    except (FileNotFoundError, OSError) as exc:
        raise EngineError(f"{kind} model for {language!r} not loaded: {exc}") from exc


class SpeechEngines:
    """Each configured language's engine, loaded once, and the pool every decode runs in.

    ``specs`` maps language to ``(kind, model_path)``, e.g. ``{"ko": ("vosk", path)}``.
    """

    def __init__(self, engines: Mapping[str, SpeechEngine], workers: int | None = None) -> None:
        self._engines = dict(engines)
        self.workers = workers or cpu_count()
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="speech")

    @classmethod
    def load(
        cls, specs: Mapping[str, tuple[str, str | Path]], workers: int | None = None
    ) -> SpeechEngines:
        """Load every configured engine now (blocking: seconds per model)."""
        engines: dict[str, SpeechEngine] = {}
        for language, (kind, path) in specs.items():
            started = time.monotonic()
            engines[language] = load_engine(kind, language, path)
            log.info(
                "voice.engine.loaded language=%s kind=%s ms=%d",
                language,
                kind,
                (time.monotonic() - started) * 1000,
            )
        return cls(engines, workers)

    @classmethod
    async def open(
        cls, specs: Mapping[str, tuple[str, str | Path]], workers: int | None = None
    ) -> SpeechEngines:
        """``load`` off the event loop, for an aiohttp ``cleanup_ctx``."""
        return await asyncio.to_thread(cls.load, specs, workers)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._engines)

    def engine_for(self, language: str) -> SpeechEngine | None:
        """The language's engine, or None: no model, so the caller answers with the keypad."""
        return self._engines.get(language)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking call (``feed``, ``finish``) in the pool and await its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args))

    def close(self) -> None:
        """Stop the pool; decodes already queued still finish. Engines with a pool of their
        own (Whisper's speculative decodes) stop theirs too."""
        self._pool.shutdown(wait=True, cancel_futures=False)
        for engine in self._engines.values():
            close = getattr(engine, "close", None)
            if callable(close):
                close()

    def __enter__(self) -> SpeechEngines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def recognise_file(
    engine: SpeechEngine, path: str | Path, expected: Sequence[str] | None
) -> Transcript | None:
    """Recognise a recording exactly as a call would hear it: for ``kanavat speech try``.

    Any file soundfile reads, at any rate, goes through the telephone path: resample to 8 kHz,
    mu-law encode and decode (the codec's loss is part of what the recogniser must cope with),
    20 ms frames, then ``finish``. Returns the first transcript, as the dialog would take it.
    """
    pcm = audio.telephone(audio.load_pcm(path))
    recogniser = engine.recogniser(expected)
    for start in range(0, len(pcm), audio.FRAME_SAMPLES):
        for event in recogniser.feed(pcm[start : start + audio.FRAME_SAMPLES]):
            if isinstance(event, Transcript):
                return event
    return recogniser.finish()
