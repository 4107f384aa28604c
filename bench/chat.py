"""Chat: many visitors answering the youth campaign over the page's websocket at once.

``kanavat serve`` runs the example config (the ``nuoret-2027`` chat campaign, opened for the
run); two ``bench.chat_load`` processes connect the visitors. Each answers every 2-4 s
(a quick person tapping buttons), so 1,000 visitors send about 330 frames a second.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bench.common import EXAMPLE_CONFIG, Server, Window, load_average, pct, run_generators

CAMPAIGN = "nuoret-2027"


def config_text() -> str:
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    section = text.index(f"[campaigns.{CAMPAIGN}]")
    head, tail = text[:section], text[section:]
    tail = re.sub(r"^start = .*$", "start = 2020-01-01T00:00:00", tail, count=1, flags=re.M)
    tail = re.sub(r"^end = .*$", "end = 2040-12-31T23:00:00", tail, count=1, flags=re.M)
    return head + tail


def level(server: Server, visitors: int, duration: float) -> dict[str, Any]:
    url = server.base_url.replace("http", "ws") + f"/chat/{CAMPAIGN}/ws"
    specs = []
    for g in range(2):
        spec = {
            "url": url,
            "origin": server.base_url,
            "visitors": visitors // 2,
            "subnet": g,
            "ramp": min(10.0, duration / 3),
            "think": [2.0, 4.0],
            "duration": duration,
        }
        path = server.workdir / f"chat-{visitors}-{g}.json"
        path.write_text(json.dumps(spec))
        specs.append(["bench.chat_load", str(path)])
    load = load_average()
    window = Window(server.stat)
    results = run_generators(specs, timeout=duration + 90)
    cores = window.cores()
    latencies = [x for r in results for x in r["ms"]]
    reasons: dict[str, int] = {}
    for r in results:
        for k, v in r["reasons"].items():
            reasons[k] = reasons.get(k, 0) + v
    return {
        "visitors": visitors,
        "connected": sum(r["connected"] for r in results),
        "failed": sum(r["failed"] for r in results),
        "reasons": reasons,
        "replies": len(latencies),
        "per_second": len(latencies) / duration,
        "p50_ms": pct(latencies, 50),
        "p99_ms": pct(latencies, 99),
        "server_cores": cores,
        "rss_mb": server.stat.rss_mb(),
        "load_at_start": load,
    }


def run(quick: bool, workdir: Path) -> dict[str, Any]:
    server = Server(workdir, config_text(), log_level="INFO")
    duration = 8.0 if quick else 30.0
    rows = []
    with server:
        for visitors in (500,) if quick else (100, 1000, 1500):
            row = level(server, visitors, duration)
            rows.append(row)
            print(
                f"  chat {visitors} visitors: {row['connected']} connected, {row['failed']} "
                f"failed {row['reasons']}, {row['per_second']:.0f} replies/s, p50 "
                f"{row['p50_ms']:.1f} ms p99 {row['p99_ms']:.1f} ms, server "
                f"{row['server_cores']:.2f} cores, {row['rss_mb']:.0f} MB",
                flush=True,
            )
    return {"rows": rows, "duration": duration}
