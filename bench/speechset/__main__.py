"""List the broad set and render it into the cache: ``python -m bench.speechset``.

python -m bench.speechset                 # both languages, both parts: counts, render
python -m bench.speechset --lang fi --part dev --list
python -m bench.speechset --write /tmp/set --lang fi --part dev   # WAVs to listen to
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import soundfile

from bench.speechset.clips import PARTS, cache_dir, render, speech_set
from bench.speechset.synth import RATE


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.speechset")
    parser.add_argument("--lang", choices=("fi", "sv"), action="append")
    parser.add_argument("--part", choices=PARTS, action="append")
    parser.add_argument("--list", action="store_true", help="print every clip, render none")
    parser.add_argument("--write", type=Path, help="also write each clip as a WAV here")
    args = parser.parse_args()
    print(f"cache: {cache_dir()}")
    for lang in args.lang or ["fi", "sv"]:
        for part in args.part or PARTS:
            clips = speech_set(lang, part)
            print(f"{lang} {part}: {len(clips)} clips")
            for name, key in (
                ("voice", lambda c: c.voice.label),
                ("form", lambda c: c.form),
                ("line", lambda c: c.line),
                ("rate", lambda c: c.rate_band),
                ("hesitation", lambda c: c.hesitation),
            ):
                counts = Counter(key(c) for c in clips)
                print(f"  {name}: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())))
            if args.list:
                for c in clips:
                    print(f"  {c.id} {c.question} '{c.spoken}' -> {c.value!r} [{c.label}]")
                continue
            started = time.monotonic()
            for c in clips:
                heard = render(c)
                if args.write:
                    args.write.mkdir(parents=True, exist_ok=True)
                    soundfile.write(str(args.write / f"{c.id}.wav"), heard.pcm, RATE)
            print(f"  rendered in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
