"""Whisper accuracy on the example campaign's closed questions, through the dialog's rule.

For every closed question of ``vanhukset-2027``'s questionnaire (``hyvinvointi`` in
config.toml) each answer is spoken by espeak-ng (voices fi, fi+m3, fi+f2 at speeds 120-170,
some with noise), taken through 8 kHz G.711 mu-law, and heard as a call hears it: the real
Whisper recogniser with the question's ``listen_for`` bias, fed 100 ms at a time as
``kanavat/voice/stream.py`` feeds it, the stream's rule for suspect transcripts, the call's
confirmation threshold, and the real normaliser and dialog (``dialog.advance``). Each answer
ends as one of:

- accepted right: stored as heard, and right;
- confirmed right: the dialog asks "did you say X?" and X is right (the resident says yes);
- confirmed wrong: asked about the wrong value (the resident says no and is asked again);
- not understood: a reprompt (no transcript, or nothing the normaliser could read);
- misfiled: a wrong value stored without confirmation, the one outcome that must not happen.

Latency here is the time from the last sample of speech to the answer being accepted (or
confirmed): the segmenter's silence wait, counted in audio, plus the wall time of the
``feed`` that ended the answer (the rest of a decode started speculatively in the silence,
or a whole one). Audio after the speech is fed in real time, as a call streams it. Concurrent calls are measured through the real server (``bench.voice``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench.common import EXAMPLE_CONFIG, load_average, pct
from bench.speech import Clip, chunks, silence, words

FEED = 800  # 100 ms, as the call feeds its recogniser (stream.FEED_FRAMES x 20 ms)
VOICES = [("fi", 120), ("fi+m3", 145), ("fi+f2", 170), ("fi", 155), ("fi+m3", 130)]
QUICK_VOICES = [("fi", 140)]
NOISE = 0.06
# A second set made the same way with other speeds and quieter noise. No setting was chosen
# on it (the slowed hearing's 0.85 was chosen on the first set), so it shows whether the
# figures hold beyond the answers they were tuned on.
HELD_OUT_VOICES = [("fi", 135), ("fi+m3", 160), ("fi+f2", 125), ("fi", 165), ("fi+m3", 150)]
HELD_OUT_NOISE = 0.04
# What a resident says for each value: the label and the usual spoken forms.
SPOKEN: dict[str, list[tuple[str, Any]]] = {
    "arki": [("yksi", 1), ("kaksi", 2), ("kolme", 3), ("neljä", 4), ("viisi", 5)],
    "apu": [("kyllä", "yes"), ("ei", "no"), ("joo", "yes"), ("en saa", "no")],
    "apu_mista": [
        ("omainen", "omainen"),
        ("tytär", "omainen"),
        ("naapuri", "naapuri"),
        ("ystävä", "naapuri"),
        ("kotihoito", "kotihoito"),
        ("joku muu", "muu"),
    ],
    "yhteydet": [
        ("nolla", 0),
        ("kaksi", 2),
        ("kolme", 3),
        ("viisi", 5),
        ("kuusi", 6),
        ("seitsemän", 7),
    ],
}
OUTCOMES = ("accepted_right", "confirmed_right", "confirmed_wrong", "not_understood", "misfiled")


@dataclass
class Heard:
    question: str
    kind: str
    said: str
    clip: Clip
    outcome: str
    transcript: str
    confidence: float
    latency: float  # seconds, end of speech to the dialog's step
    endpoint_wait: float  # of which: silence the segmenter waits for (audio seconds)


def _engine(lang: str = "fi"):
    from kanavat.voice.engines import load_engine
    from kanavat.voice.models import assemble_whisper_base

    return load_engine("whisper", lang, assemble_whisper_base())


def _questionnaire():
    from kanavat import config as configuration

    config = configuration.load(EXAMPLE_CONFIG, env={})
    return config, config.questionnaire_of("vanhukset-2027")


@dataclass
class Hearing:
    """How one answer on a line ended (see the outcomes above)."""

    outcome: str
    transcript: str
    confidence: float
    latency: float  # seconds, end of speech to the dialog's step
    endpoint_wait: float  # of which: silence the segmenter waits for (audio seconds)
    detail: dict[str, Any] = field(default_factory=dict)  # how the engine decided


def decide(engine, config, q, question, lang: str, transcript, value: Any) -> Hearing:
    """A transcript (or None) through the stream's rule, the call's confirmation threshold,
    the normaliser and ``dialog.advance``: the outcome, as the call would end it."""
    from kanavat.questions import dialog
    from kanavat.voice.recognise import confirm_threshold, spoken

    speech_cfg = config.speech.get(lang)
    configured = speech_cfg.confirm_below if speech_cfg else None
    threshold = confirm_threshold(configured, engine, q.confirm_below)  # as the call's
    state = dialog.State(q.id, lang, "voice", current=question.id)
    if transcript is None or not transcript.text.strip():
        return Hearing("not_understood", "", 0.0, 0.0, 0.0)
    given = spoken(transcript, threshold)  # as Call.heard takes it
    step = dialog.advance(q, state, given, confirm_below=threshold)
    if step.answer is not None and step.answer.question_id == question.id:
        outcome = "accepted_right" if step.answer.value == value else "misfiled"
    elif step.event == "confirm" and step.state.pending is not None:
        right = step.state.pending["value"] == value
        outcome = "confirmed_right" if right else "confirmed_wrong"
    else:
        outcome = "not_understood"
    detail = dict(transcript.detail)
    return Hearing(outcome, given.raw, given.confidence or 0.0, 0.0, 0.0, detail)


def hear_line(
    engine,
    config,
    q,
    question,
    lang: str,
    line: np.ndarray,
    speech_end: float,
    value: Any,
    paced: bool = True,
) -> Hearing:
    """One answer on a line (8 kHz int16: quiet, the words, quiet again; ``speech_end`` in
    seconds) through the recogniser fed 100 ms at a time, then :func:`decide`. ``paced``
    feeds the audio after the speech in real time, as a call streams it, so the latency is
    a call's; unpaced, the outcome is the same (a speculative decode is waited for) and the
    run is faster."""
    from kanavat.questions import dialog

    prompt = dialog.question_prompt(question, lang, "voice")
    recogniser = engine.recogniser(list(prompt.listen_for))
    transcript = None
    fed = 0
    decode = 0.0
    paced_from = None
    for chunk in chunks(line, FEED):
        if paced and fed / 8000 >= speech_end:
            # After the speech, in real time, as a call streams it: a speculative decode
            # started in the silence gets the head start it would have on a line.
            paced_from = paced_from or time.perf_counter() - fed / 8000
            time.sleep(max(0.0, paced_from + fed / 8000 - time.perf_counter()))
        started = time.perf_counter()
        events = recogniser.feed(chunk)
        spent = time.perf_counter() - started
        fed += len(chunk)
        found = [e for e in events if type(e).__name__ == "Transcript" and e.text.strip()]
        if found:
            transcript, decode = found[0], spent
            break
    if transcript is None:
        started = time.perf_counter()
        transcript = recogniser.finish()
        decode = time.perf_counter() - started
    recogniser.close()
    wait = max(0.0, fed / 8000 - speech_end)
    heard = decide(engine, config, q, question, lang, transcript, value)
    heard.latency, heard.endpoint_wait = wait + decode, wait
    return heard


def hear(engine, config, q, question, said: str, value: Any, clip: Clip) -> Heard:
    """One answer of the team's own set through recogniser, stream rule, normaliser, dialog."""
    said_pcm = words(clip)
    line = np.concatenate([silence(0.5), said_pcm, silence(2.5)])
    speech_end = (8000 * 0.5 + len(said_pcm)) / 8000
    h = hear_line(engine, config, q, question, "fi", line, speech_end, value)
    return Heard(
        question.id,
        question.type,
        said,
        clip,
        h.outcome,
        h.transcript,
        h.confidence,
        h.latency,
        h.endpoint_wait,
    )


def clips(
    quick: bool, voices: list[tuple[str, int]] | None = None, noise: float = NOISE
) -> list[tuple[str, str, Any, Clip]]:
    voices = voices or (QUICK_VOICES if quick else VOICES)
    found = []
    for qid, forms in SPOKEN.items():
        for n, (said, value) in enumerate(forms[:2] if quick else forms):
            for voice, speed in voices:
                found.append((qid, said, value, Clip(said, voice, speed)))
            if not quick and n % 2 == 0:  # some answers again with line noise
                voice, speed = voices[n % len(voices)]
                found.append((qid, said, value, Clip(said, voice, speed, noise=noise)))
    return found


def _totals(heard: list[Heard]) -> dict[str, int]:
    total = dict.fromkeys(OUTCOMES, 0)
    for h in heard:
        total[h.outcome] += 1
    return total


def run(quick: bool) -> dict[str, Any]:
    load = load_average()
    engine = _engine()
    config, q = _questionnaire()
    heard = []
    for qid, said, value, clip in clips(quick):
        heard.append(hear(engine, config, q, q.question(qid), said, value, clip))
    by_kind: dict[str, dict[str, int]] = {}
    for h in heard:
        counts = by_kind.setdefault(f"{h.question} ({h.kind})", dict.fromkeys(OUTCOMES, 0))
        counts[h.outcome] += 1
    total = _totals(heard)
    held_out = []
    if not quick:
        for qid, said, value, clip in clips(False, HELD_OUT_VOICES, HELD_OUT_NOISE):
            held_out.append(hear(engine, config, q, q.question(qid), said, value, clip))
    latencies = [h.latency for h in heard if h.outcome in ("accepted_right", "confirmed_right")]
    waits = [h.endpoint_wait for h in heard]
    return {
        "load_at_start": load,
        "by_question": by_kind,
        "total": total,
        "n": len(heard),
        "held_out": {"n": len(held_out), "total": _totals(held_out)} if held_out else {},
        "latency_p50": pct(latencies, 50),
        "latency_p95": pct(latencies, 95),
        "endpoint_wait_p50": pct(waits, 50),
        "decode_p50": pct([h.latency - h.endpoint_wait for h in heard], 50),
        "decode_p95": pct([h.latency - h.endpoint_wait for h in heard], 95),
        "failures": [
            f"{h.question}: said '{h.said}' ({h.clip.label}) heard '{h.transcript}' "
            f"conf {h.confidence:.2f} -> {h.outcome}"
            for h in heard
            if h.outcome not in ("accepted_right", "confirmed_right")
        ],
    }
