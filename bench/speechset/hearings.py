"""How the hearings-agree thresholds were chosen (issue 16), reproducibly.

Each clip goes through the call path (``hear_line``, as ``accuracy.py``); its final Whisper
transcript, with every hearing's n-best list, is then re-read under a grid of thresholds for
``kanavat.questions.hypotheses.agreed``: the share of all hypotheses that must read the value
and the share of the probability they must hold. Per cell: answers the rule takes without
asking that are right, and that are wrong (would be misfiled). The product's thresholds were
chosen on the development part; the held-out part was run once afterwards, to check.

    python -m bench.speechset.hearings --lang fi --part dev --every 2
    python -m bench.speechset.hearings --lang fi --part held_out --every 2
"""

from __future__ import annotations

import argparse
import threading
from dataclasses import replace
from typing import Any

from bench.speechset.clips import render, speech_set
from bench.whisper_accuracy import _engine, _questionnaire, hear_line

HYPOTHESES = (0.5, 0.6, 0.7, 0.8)
PROBABILITY = (0.8, 0.9, 0.95)


def transcripts(lang: str, part: str, every: int) -> list[dict[str, Any]]:
    """Each clip's final transcript (with its hearings), question and expected value."""
    from kanavat.voice import whisper

    engine = _engine(lang)
    config, q = _questionnaire()
    seen: list[Any] = []
    lock = threading.Lock()
    original = whisper.WhisperEngine.transcribe

    def keep(self, pcm, expected):  # type: ignore[no-untyped-def]
        found = original(self, pcm, expected)
        with lock:
            seen.append(found)
        return found

    whisper.WhisperEngine.transcribe = keep  # type: ignore[method-assign]
    rows = []
    try:
        for clip in list(speech_set(lang, part))[::every]:
            seen.clear()
            heard = render(clip)
            question = q.question(clip.question)
            h = hear_line(
                engine, config, q, question, lang, heard.pcm, heard.speech_end, clip.value, False
            )
            final = [t for t in seen if t is not None and t.text.strip() == h.transcript.strip()]
            rows.append(
                {"clip": clip, "question": question, "transcript": final[-1] if final else None}
            )
    finally:
        whisper.WhisperEngine.transcribe = original  # type: ignore[method-assign]
        engine.close()
    return rows


def grid(lang: str, rows: list[dict[str, Any]], threshold: float = 0.6) -> dict[str, Any]:
    from kanavat.questions.hypotheses import agreed
    from kanavat.questions.normalise import Input, normalise
    from kanavat.voice.recognise import spoken

    cells: dict[tuple[float, float], list[int]] = {}
    before = 0
    for row in rows:
        t, question, value = row["transcript"], row["question"], row["clip"].value
        if t is None:
            continue
        given = spoken(t, threshold)
        base = normalise(question, replace(given, hearings=()), lang)
        if base.kind == "answer" and base.confidence >= threshold and base.value == value:
            before += 1
        reading = normalise(question, replace(given, hearings=(), confidence=None), lang)

        def read(text: str, question=question):  # type: ignore[no-untyped-def]
            return normalise(question, Input("text", text), lang)  # its words only

        for h in HYPOTHESES:
            for p in PROBABILITY:
                got = agreed(reading, base, given.hearings, read, h, p)
                cell = cells.setdefault((h, p), [0, 0])
                if got.reason == "hearings agree" and got.confidence >= threshold:
                    cell[0 if got.value == value else 1] += 1
    return {"n": len(rows), "accepted_before": before, "cells": cells}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.speechset.hearings")
    parser.add_argument("--lang", choices=("fi", "sv"), default="fi")
    parser.add_argument("--part", choices=("dev", "held_out"), default="dev")
    parser.add_argument("--every", type=int, default=2, help="every Nth clip of the part")
    args = parser.parse_args()
    found = grid(args.lang, transcripts(args.lang, args.part, args.every))
    n = found["n"]
    print(f"{args.lang} {args.part}, every {args.every}: {n} clips; accepted right without the")
    print(f"rule {found['accepted_before']} ({found['accepted_before'] / n:.0%})")
    print("hypotheses  probability  taken by the rule: right / wrong")
    for (h, p), (right, wrong) in sorted(found["cells"].items()):
        print(f"  {h:>8.0%}  {p:>11.0%}  {right:>5} / {wrong}")


if __name__ == "__main__":
    main()
