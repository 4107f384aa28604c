"""The broad set heard through the call path, beside faster-whisper's plain ``transcribe``.

Each clip goes through ``bench.whisper_accuracy.hear_line``: the real Whisper recogniser of
the clip's language with the question's ``listen_for`` bias, fed 100 ms at a time, the
stream's rule, the call's confirmation threshold, the normaliser and ``dialog.advance``
(unpaced: outcomes only, no latency). The baseline is what a user would otherwise pick:
``WhisperModel.transcribe`` (same model, language fixed, otherwise its defaults) on the
whole clip, its text and confidence (``confidence_from`` of its scores) through the same
normaliser and dialog rule. Development and held-out parts are reported side by side.

    python -m bench.speechset.accuracy --lang fi --part dev --quick    # while tuning
    python -m bench --only speechset                                   # RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Iterable
from typing import Any

from bench.common import load_average
from bench.speechset.clips import PARTS, SpeechClip, cache_dir, quick, render, speech_set
from bench.whisper_accuracy import OUTCOMES, _engine, _questionnaire, decide, hear_line

DIMENSIONS = ("question", "voice", "form", "line", "rate", "hesitation")
# Plain transcribe pads every answer to 30 s and retries at higher temperatures: about
# 2.4 s per clip against 0.6 s for the call path on this machine, so it hears every 4th
# clip of a full run (the quick subset), and the ratio compares the two on those clips.
BASELINE_EVERY = 4


def _dimension(clip: SpeechClip, dim: str) -> str:
    return {
        "question": clip.question,
        "voice": clip.voice.label,
        "form": clip.form,
        "line": clip.line,
        "rate": clip.rate_band,
        "hesitation": clip.hesitation,
    }[dim]


class Baseline:
    """faster-whisper's ``transcribe`` as documented, on the same model files."""

    def __init__(self, lang: str, engine: Any) -> None:
        from faster_whisper import WhisperModel

        self.lang = lang
        threads = min(4, os.cpu_count() or 1)  # as the engine's default
        self.model = WhisperModel(
            str(engine.model_path), device="cpu", compute_type="int8", cpu_threads=threads,
            local_files_only=True,
        )  # fmt: skip

    def transcript(self, pcm):
        from kanavat.voice.recognise import Transcript
        from kanavat.voice.whisper import confidence_from, to_whisper_rate

        segments, _ = self.model.transcribe(to_whisper_rate(pcm), language=self.lang)
        segments = list(segments)
        text = " ".join(s.text.strip() for s in segments).strip()
        if not text:
            return None
        logprob = sum(s.avg_logprob for s in segments) / len(segments)
        no_speech = max(s.no_speech_prob for s in segments)
        return Transcript(text, confidence_from(logprob, no_speech))


def hear_all(
    lang: str,
    clips: Iterable[SpeechClip],
    baseline_every: int | None = BASELINE_EVERY,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """One row per clip: its labels, the call path's outcome, and on every
    ``baseline_every``-th clip the baseline's (None: no baseline)."""
    engine = _engine(lang)
    config, q = _questionnaire()
    base = Baseline(lang, engine) if baseline_every else None
    rows = []
    clips = list(clips)
    started = time.monotonic()
    for n, clip in enumerate(clips):
        heard = render(clip)
        question = q.question(clip.question)
        h = hear_line(
            engine, config, q, question, lang, heard.pcm, heard.speech_end, clip.value, paced=False
        )
        row: dict[str, Any] = {
            "id": clip.id,
            "part": clip.part,
            **{d: _dimension(clip, d) for d in DIMENSIONS},
            "said": clip.spoken,
            "label": clip.label,
            "value": clip.value,
            "outcome": h.outcome,
            "heard": h.transcript,
            "confidence": round(h.confidence, 3),
            "detail": h.detail,
        }
        if base is not None and baseline_every and n % baseline_every == 0:
            b = decide(engine, config, q, question, lang, base.transcript(heard.pcm), clip.value)
            row |= {"base_outcome": b.outcome, "base_heard": b.transcript}
        rows.append(row)
        if progress and (n + 1) % 25 == 0:
            print(f"    {n + 1}/{len(clips)} ({time.monotonic() - started:.0f} s)", flush=True)
    engine.close()
    return rows


def tally(rows: list[dict[str, Any]], key: str = "outcome") -> dict[str, Any]:
    """Counts of each outcome and the shares the goals are stated in (over the rows that
    have ``key``)."""
    rows = [r for r in rows if key in r]
    counts = dict.fromkeys(OUTCOMES, 0)
    for r in rows:
        counts[r[key]] += 1
    n = len(rows)
    right = counts["accepted_right"] + counts["confirmed_right"]
    return {
        "n": n,
        **counts,
        "right": right / n if n else float("nan"),
        "accepted": counts["accepted_right"] / n if n else float("nan"),
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals and per-category tallies; ``paired`` is the call path on the clips the
    baseline also heard, which is what the ratio compares."""
    baseline = any("base_outcome" in r for r in rows)
    out: dict[str, Any] = {"total": tally(rows), "by": {}}
    if baseline:
        out["baseline"] = tally(rows, "base_outcome")
        out["paired"] = tally([r for r in rows if "base_outcome" in r])
    for dim in DIMENSIONS:
        groups: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            groups.setdefault(r[dim], []).append(r)
        out["by"][dim] = {k: _group(g, baseline) for k, g in sorted(groups.items())}
    wrong = [r for r in rows if r["outcome"] not in ("accepted_right", "confirmed_right")]
    out["misfiled"] = [_line(r) for r in rows if r["outcome"] == "misfiled"]
    out["failures"] = [_line(r) for r in wrong][:40]
    return out


def _group(rows: list[dict[str, Any]], baseline: bool) -> dict[str, Any]:
    out = {"call": tally(rows)}
    if baseline:
        out["baseline"] = tally(rows, "base_outcome")
        out["paired"] = tally([r for r in rows if "base_outcome" in r])
    return out


def _line(r: dict[str, Any]) -> str:
    return (
        f"{r['id']} {r['question']}: said '{r['said']}' ({r['form']}; {r['label']}) heard "
        f"'{r['heard']}' conf {r['confidence']:.2f} -> {r['outcome']}"
    )


def run(
    quick_pass: bool,
    langs: Iterable[str] = ("fi", "sv"),
    parts: Iterable[str] = PARTS,
    baseline: bool = True,
) -> dict[str, Any]:
    """Figures per language and part, for ``bench/RESULTS.md``; per-clip rows are written to
    the cache folder (``last-run-<lang>-<part>.json``) for whoever tunes on dev."""
    found: dict[str, Any] = {"load_at_start": load_average(), "quick": quick_pass}
    for lang in langs:
        for part in parts:
            clips = speech_set(lang, part)
            clips = quick(clips) if quick_pass else list(clips)
            print(f"  {lang} {part}: {len(clips)} clips", flush=True)
            started = time.monotonic()
            every = (1 if quick_pass else BASELINE_EVERY) if baseline else None
            rows = hear_all(lang, clips, every, progress=True)
            summary = summarise(rows)
            summary["seconds"] = time.monotonic() - started
            found[f"{lang}/{part}"] = summary
            path = cache_dir() / f"last-run-{lang}-{part}{'-quick' if quick_pass else ''}.json"
            path.write_text(json.dumps(rows, indent=0, ensure_ascii=False), encoding="utf-8")
            _print(lang, part, summary)
    return found


def _print(lang: str, part: str, s: dict[str, Any]) -> None:
    t = s["total"]
    line = (
        f"  {lang} {part}: {t['n']} clips, right or confirmed right {t['right']:.0%}, "
        f"accepted right {t['accepted']:.0%}, misfiled {t['misfiled']}, "
        f"not understood {t['not_understood']}, confirmed wrong {t['confirmed_wrong']}"
    )
    if "baseline" in s:
        b, p = s["baseline"], s["paired"]
        line += (
            f"; on the {b['n']} clips plain transcribe also heard: call path {p['right']:.0%}"
            f" / {p['accepted']:.0%}, plain {b['right']:.0%} / {b['accepted']:.0%} "
            f"/ {b['misfiled']} misfiled"
        )
    print(line + f" ({s['seconds']:.0f} s)", flush=True)
    for dim, groups in s["by"].items():
        cells = ", ".join(
            f"{k} {g['call']['right']:.0%}/{g['call']['accepted']:.0%}"
            + (f"/{g['call']['misfiled']}m" if g["call"]["misfiled"] else "")
            for k, g in groups.items()
        )
        print(f"    {dim}: {cells}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.speechset.accuracy")
    parser.add_argument("--lang", choices=("fi", "sv"), action="append")
    parser.add_argument("--part", choices=PARTS, action="append")
    parser.add_argument("--quick", action="store_true", help="every 4th clip")
    parser.add_argument("--no-baseline", action="store_true", help="skip plain transcribe")
    args = parser.parse_args()
    run(args.quick, args.lang or ["fi", "sv"], args.part or PARTS, not args.no_baseline)


if __name__ == "__main__":
    main()
