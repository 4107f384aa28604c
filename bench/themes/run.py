"""``python -m bench --only themes``: accuracy on each corpus part, then the scale run."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from bench.common import load_average
from bench.themes import accuracy
from bench.themes.corpus import PARTS

SCALE = 10_000
QUICK_SCALE = 1_000


def run(quick: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in ("dev", "heldout", "heldout2", "heldout3"):
        if not PARTS[part].exists():
            continue
        out[part] = accuracy.run_part(part)
        f = out[part]["themes_found"]
        s = out[part]["seeded"]
        print(
            f"  {part}: ARI {f['ari']:.2f} purity {f['purity']:.2f} coverage {f['coverage']:.2f} "
            f"({f['themes']} themes); k-means ARI {out[part]['kmeans']['ari']:.2f}; "
            f"seeded {s['accuracy']:.0%}",
            flush=True,
        )
    n = QUICK_SCALE if quick else SCALE
    load = load_average()
    done = subprocess.run(
        [sys.executable, "-m", "bench.themes.scale", str(n)],
        capture_output=True,
        text=True,
        check=True,
    )
    out["scale"] = json.loads(done.stdout.strip().splitlines()[-1]) | {"load_at_start": load}
    sc = out["scale"]
    print(
        f"  {n} answers: {sc['total_seconds']:.0f} s ({sc['embed_seconds']:.0f} s embedding), "
        f"peak {sc['peak_rss_mb']:.0f} MB, load {load[0]:.2f}",
        flush=True,
    )
    return out
