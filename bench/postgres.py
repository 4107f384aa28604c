"""PostgreSQL and several workers: SMS answers/s on PostgreSQL against SQLite, and concurrent
Finnish (Whisper) calls with one ``kanavat serve`` worker against two on one PostgreSQL.

A throwaway PostgreSQL cluster (Debian's package, ``bench.pg_cluster``) runs beside the
servers on this machine. SMS: the ``sms`` area's "answers" traffic (the whole path: event,
dialog, answer, next question sent through the emulator) once on a SQLite store and once on a
PostgreSQL one. Calls: the ``whisper`` area's streams, spread evenly over the workers (as a
load balancer spreads Media Streams), at rising concurrency; the figure is the most calls
whose turn p95 stays under 1.5 s, with one worker and with two, and their ratio. On a
machine with two cores two workers share the same cores (``[server] workers_per_machine``
gives each half of them for speech): the ratio says what a second process buys here, not
on a second machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import sms, voice
from bench.common import Server
from bench.pg_cluster import PostgresServer
from kanavat.voice.engines import speech_threads

TURN_P95_MS = 1500.0


def run(quick: bool, workdir: Path) -> dict[str, Any]:
    cluster = PostgresServer(count_statements=True).start()
    try:
        out: dict[str, Any] = {"sms": _sms(quick, workdir, cluster)}
        levels = [1, 2] if quick else [1, 2, 4, 5, 6, 7, 8, 10, 12]
        duration = 10.0 if quick else 40.0
        calls = {str(n): _calls(n, levels, duration, workdir, cluster) for n in (1, 2)}
        out["whisper"] = calls
        one, two = (_sustained(calls[n]["levels"]) for n in ("1", "2"))
        out["sustained_calls"] = {"1 worker": one, "2 workers": two}
        out["ratio"] = (two / one) if one else None
        print(f"  calls at turn p95 < 1.5 s: 1 worker {one}, 2 workers {two}", flush=True)
        return out
    finally:
        cluster.stop()


def _sms(quick: bool, workdir: Path, cluster: PostgresServer) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for name, database in (("sqlite", None), ("postgresql", cluster.fresh_database())):
        folder = workdir / f"sms-{name}"
        folder.mkdir()
        print(f"  sms answers on {name}", flush=True)
        counts = (lambda url=database: cluster.counts(url)) if database else None
        found = sms.run(quick, folder, database=database, scenarios=("answers",), counts=counts)
        rows[name] = found["rows"]
    best = {k: max(r["per_second"] for r in v) for k, v in rows.items()}
    ratio = best["postgresql"] / best["sqlite"] if best["sqlite"] else None
    print(f"  sms answers/s: sqlite {best['sqlite']:.0f}, postgresql {best['postgresql']:.0f}")
    return {"rows": rows, "answers_per_second": best, "postgresql_to_sqlite": ratio}


def _calls(
    workers: int, levels: list[int], duration: float, workdir: Path, cluster: PostgresServer
) -> dict[str, Any]:
    setup = voice.Setup.of("whisper")
    url = cluster.fresh_database()
    text = setup.config_text("http://127.0.0.1:9")
    assert 'database = "kanavat.db"' in text
    text = text.replace('database = "kanavat.db"', f'database = "{url}"')
    # The workers share this machine's cores: each decodes on its share of them, so one
    # worker and two use the same cores for speech (and two do not put 2 x 2 CTranslate2
    # threads on two cores).
    text = text.replace('database = "', f'workers_per_machine = {workers}\ndatabase = "', 1)
    folder = workdir / f"whisper-{workers}"
    folder.mkdir()
    first = Server(folder, text, log_level="INFO")
    servers = [first]
    for n in range(1, workers):  # same config (public URL, store) and token, its own port
        (folder / f"w{n}").mkdir()
        other = Server(folder / f"w{n}", text, log_level="INFO")
        other.config_path = first.config_path
        other.token = first.token
        servers.append(other)
    answers = voice.answer_files(setup, folder)
    rows = []
    try:
        for server in servers:
            server.start()
        for calls in levels:
            level = voice.run_level(first, setup, answers, calls, duration, workers=servers)
            row = level.row()
            rows.append(row)
            print(f"  whisper, {workers} worker(s), {calls} calls: p95 {row['p95_ms']:.0f} ms")
            if row["p95_ms"] > 2 * TURN_P95_MS and calls > 1:
                break
    finally:
        for server in servers:
            server.stop()
    return {"workers": workers, "speech_threads": speech_threads(workers), "levels": rows}


def _sustained(rows: list[dict[str, Any]]) -> int:
    """The most calls whose turn p95 stayed under 1.5 s (0: not even one)."""
    held = [r["calls"] for r in rows if r["p95_ms"] == r["p95_ms"] and r["p95_ms"] < TURN_P95_MS]
    return max(held, default=0)
