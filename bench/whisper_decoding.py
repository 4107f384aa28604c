"""Compare Whisper decoding settings (beam, bias) on an espeak-ng set: accuracy, confidence, latency.

Moved here from ``tests/voice/bench_whisper.py``; the measurements quoted beside
``kanavat.voice.whisper.Decoding`` were made with it. Takes minutes. From the repository root:

    python -m bench.whisper_decoding [--beams 1 5] [--bias hotwords prompt]

Each configuration hears the same answers through the full recogniser (segmenter included);
configurations are interleaved per answer, so other load on the machine hits them alike.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from bench.speech import Clip, answer, chunks
from kanavat.voice.models import assemble_whisper_base
from kanavat.voice.recognise import Transcript
from kanavat.voice.whisper import Decoding, WhisperEngine, words_of

QUESTIONS = {
    "yes-no": ["kyllä", "ei", "en osaa sanoa"],
    "scale": ["yksi", "kaksi", "kolme", "neljä", "viisi"],
    "who": ["kotihoito", "omainen", "naapuri"],
    "command": ["toista", "lopeta"],
}
VOICES = [("fi", 140), ("fi+m3", 120), ("fi+f2", 170), ("fi", 160)]
# Answers outside the question's list: these should score low.
WRONG = [
    ("yes-no", "kolme"),
    ("scale", "naapuri"),
    ("who", "kyllä"),
    ("yes-no", "auto"),
    ("scale", "talo"),
    ("who", "perjantai"),
]
ACCEPT = 0.6  # the dialog's default confirm_below
NOISY = [("yes-no", "kyllä"), ("scale", "kolme"), ("who", "omainen"), ("scale", "neljä")]


def items() -> list[tuple[str, Clip, bool]]:
    """(question, clip, the answer is in the list)."""
    found = [
        (q, Clip(w, v, s), True) for q, words in QUESTIONS.items() for w in words for v, s in VOICES
    ]
    found += [(q, Clip(w, v, s), False) for q, w in WRONG for v, s in VOICES[:2]]
    found += [(q, Clip(w, "fi", 140, noise=0.08), True) for q, w in NOISY]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beams", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--bias", nargs="+", default=["hotwords", "prompt"])
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()

    engine = WhisperEngine("fi", assemble_whisper_base(), cpu_threads=args.threads)
    configs = [(bias, beam) for bias in args.bias for beam in args.beams]
    results: dict[tuple[str, int], list[tuple[bool, bool, float, float]]] = {c: [] for c in configs}
    for n, (question, clip, in_list) in enumerate(items()):
        order = configs if n % 2 == 0 else configs[::-1]
        for bias, beam in order:
            engine.decoding = Decoding(beam_size=beam, bias=bias)  # type: ignore[arg-type]
            recogniser = engine.recogniser(QUESTIONS[question])
            got: Transcript | None = None
            latency = float("nan")  # the feed() that ended the answer: what the caller waits
            for chunk in chunks(answer(clip)):
                started = time.perf_counter()
                events = recogniser.feed(chunk)
                for event in events:
                    if isinstance(event, Transcript):
                        got, latency = event, time.perf_counter() - started
            if got is None:
                started = time.perf_counter()
                got = recogniser.finish()
                latency = time.perf_counter() - started
            right = got is not None and " ".join(words_of(got.text)) == clip.text
            confidence = got.confidence if got else 0.0
            results[(bias, beam)].append((in_list, right, confidence, latency))

    for (bias, beam), rows in results.items():
        listed = [r for r in rows if r[0]]
        right = [r[2] for r in listed if r[1]]
        wrong = [r[2] for r in rows if not r[1]]
        accepted_right = sum(c >= ACCEPT for c in right)
        accepted_wrong = sum(c >= ACCEPT for c in wrong)
        print(
            f"{bias:9} beam {beam}: right {len(right)}/{len(listed)}; "
            f"confidence>=0.6 accepts {accepted_right}/{len(right)} right, "
            f"{accepted_wrong}/{len(wrong)} wrong or out of list; "
            f"confidence right p10/p50 {np.percentile(right, 10):.2f}/"
            f"{np.percentile(right, 50):.2f}, wrong p50/p90 {np.percentile(wrong, 50):.2f}/"
            f"{np.percentile(wrong, 90):.2f}; "
            f"latency p50 {np.nanpercentile([r[3] for r in rows], 50):.2f} s "
            f"p95 {np.nanpercentile([r[3] for r in rows], 95):.2f} s"
        )


if __name__ == "__main__":
    main()
