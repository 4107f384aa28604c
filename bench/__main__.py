"""Run the benchmarks: ``python -m bench`` (several minutes) or ``python -m bench --quick``.

Each area starts what it measures in its own processes on loopback (the real server with
``kanavat serve``, the emulator, load generators), bounded in count and time, and prints its
figures as it goes. The full run writes ``bench/RESULTS.md``; ``--quick`` (about a minute and
a half, smaller loads, for checking that the benchmarks work) writes
``bench/RESULTS-quick.md`` so that it never replaces the full figures. The load average is
recorded at the start of every measurement, and the full run measures the key voice and SMS
figures again at the end, since other work on the machine moves them.

Example: python -m bench --only sms,chat
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from bench import common, results

AREAS = (
    "reports",
    "dispatch",
    "sms",
    "chat",
    "vosk",
    "whisper",
    "accuracy",
    "speechset",
    "postgres",
    "themes",
    "polis",
)
HERE = Path(__file__).resolve().parent


def run_area(area: str, quick: bool, profile: bool) -> dict[str, Any]:
    with common.workdir(area) as tmp:
        if area == "reports":
            from bench import reports

            return reports.run(quick, tmp)
        if area == "dispatch":
            from bench import dispatch

            return dispatch.run(quick, tmp)
        if area == "sms":
            from bench import sms

            return sms.run_all(quick, tmp, profile=profile)
        if area == "chat":
            from bench import chat

            return chat.run(quick, tmp)
        if area == "vosk":
            from bench import voice

            levels = [1, 20] if quick else [1, 10, 30, 60, 90, 120, 160, 200]
            return voice.run("vosk", levels, 8 if quick else 30, tmp, profile=profile)
        if area == "whisper":
            from bench import voice

            levels = [1] if quick else [1, 2, 4, 6, 8, 10]
            return voice.run("whisper", levels, 10 if quick else 40, tmp, profile=profile)
        if area == "accuracy":
            from bench import whisper_accuracy

            return whisper_accuracy.run(quick)
        if area == "postgres":
            from bench import postgres

            return postgres.run(quick, tmp)
        if area == "speechset":
            from bench.speechset import accuracy

            return accuracy.run(quick)
        if area == "themes":
            from bench.themes import run

            return run.run(quick)
        if area == "polis":
            from bench.polis import accuracy as polis_accuracy

            return polis_accuracy.run(quick)
    raise ValueError(area)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short pass (about 90 s)")
    parser.add_argument("--only", default=",".join(AREAS), help=f"areas: {','.join(AREAS)}")
    parser.add_argument("--output", type=Path, help="where to write the results (markdown)")
    parser.add_argument("--no-profile", action="store_true", help="do not attach py-spy")
    parser.add_argument(
        "--render", type=Path, help="only rewrite the markdown from a run's saved .json"
    )
    args = parser.parse_args()
    if args.render:
        found = json.loads(args.render.read_text())
        args.render.with_suffix(".md").write_text(results.markdown(found), encoding="utf-8")
        return
    areas = [a.strip() for a in args.only.split(",") if a.strip()]
    unknown = sorted(set(areas) - set(AREAS))
    if unknown:
        parser.error(f"unknown area(s) {', '.join(unknown)}; expected some of {', '.join(AREAS)}")
    profile = not args.quick and not args.no_profile
    started = time.monotonic()
    found: dict[str, Any] = {
        "machine": common.machine(),
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_at_start": common.load_average(),
        "quick": args.quick,
    }
    print(f"{found['machine']}; load average {found['load_at_start']}", flush=True)
    for area in areas:
        print(f"[{area}]", flush=True)
        t = time.monotonic()
        try:
            found[area] = run_area(area, args.quick, profile)
        except Exception as exc:  # one broken area must not lose the others' figures
            found[area] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
            print(f"  {area} failed: {found[area]['error']}", flush=True)
        print(f"  ({time.monotonic() - t:.0f} s)", flush=True)
    if not args.quick and {"vosk", "sms"} <= set(areas):
        print("[again at the end]", flush=True)
        found["again"] = again(found)
    found["seconds"] = time.monotonic() - started
    output = args.output or HERE / ("RESULTS-quick.md" if args.quick else "RESULTS.md")
    saved = output.with_suffix(".json")
    if set(areas) != set(AREAS) and saved.exists():
        # A partial run replaces its areas' figures in the saved run and keeps the rest.
        previous = json.loads(saved.read_text())
        previous.setdefault("partial_reruns", []).append(
            {"areas": areas, "started": found["started"], "load_at_start": found["load_at_start"]}
        )
        found = {**previous, **{k: found[k] for k in [*areas, "again"] if k in found}}
        found["partial_reruns"] = previous["partial_reruns"]
    output.write_text(results.markdown(found), encoding="utf-8")
    saved.write_text(json.dumps(found, indent=1, default=str))
    print(f"written {output} ({found['seconds']:.0f} s in all)", flush=True)


def again(found: dict[str, Any]) -> dict[str, Any]:
    """The key figures once more, to show how much the machine's other load moved them."""
    from bench import sms, voice

    out: dict[str, Any] = {"load_at_start": common.load_average()}
    levels = [row["calls"] for row in found.get("vosk", {}).get("levels", [])]
    top = results.sustained(found.get("vosk", {}))
    with common.workdir("again-vosk") as tmp:
        picks = sorted({1, 10, top or 10} & set(levels or [1, 10]) | {1, 10})
        out["vosk"] = voice.run("vosk", picks, 30, tmp)
    with common.workdir("again-sms") as tmp:
        out["sms"] = sms.run(True, tmp)
    return out


if __name__ == "__main__":
    main()
