"""Reports: time to build a campaign's report from 1,000,000 stored answers.

A store is filled directly (it is the input, not what is measured): 200,000 respondents of
the example SMS campaign (``palvelut``: scale, yes/no, a choice asked of the "yes" half,
a number, free text), about five answers each, spread over languages, channels and input
kinds. Then ``build_report`` (the data behind every format, free-text lists read as they
are written, as ``render`` does) and the full HTML report (built and rendered: what an
official waits for; the issue's target is under 5 s) are timed in a fresh process each, with
their peak memory and the memory the process had before (imports, the store opened).

The store's contacts have no attributes; the full run measures again with an age group and
a municipality on every contact (``with_attributes``: 65 profiles, counted with a join and a
sort instead of straight from the index).

Memory should stay flat as answers grow (counts are made in SQL, free text is streamed): the
full run also measures a 200,000-answer store and records how much more the HTML report's
peak grows than its answers (``peak_growth_mb``: the 1,000,000-answer peak less the
200,000-answer one; only the HTML text itself, 200,000 more list items, should grow).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import EXAMPLE_CONFIG, ROOT, load_average

CAMPAIGN = "vammaispalvelut-2027"


AGE_GROUPS = ("18-39", "40-64", "65-74", "75-84", "85+")
MUNICIPALITIES = tuple(f"Kunta {n}" for n in range(1, 14))


def fill(config_path: Path, answers: int, attributes: bool = False) -> int:
    """Put about ``answers`` answers in the store; returns how many were written. With
    ``attributes`` every contact has an age group and a municipality (65 profiles to break
    answers down by: the report counts them with a join and a sort)."""
    from kanavat import config as configuration
    from kanavat.outreach import campaigns
    from kanavat.store import Store

    config = configuration.load(config_path, env={})
    store = Store(config.database, secret=config.server.secret)
    campaigns.sync(store, config)
    rng = random.Random(12)
    now = "2027-02-03T10:00:00+00:00"
    respondents = answers // 5
    db = store.db.conn  # bulk loading: executemany on the connection itself
    written = 0
    with store.transaction():
        db.executemany(
            "INSERT INTO contacts(id, phone, language, attributes, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                (
                    n,
                    f"+35840{n:07d}",
                    rng.choice("ffffsse").replace("f", "fi").replace("s", "sv").replace("e", "en"),
                    json.dumps(
                        {
                            "age_group": AGE_GROUPS[n % len(AGE_GROUPS)],
                            "municipality": MUNICIPALITIES[n % len(MUNICIPALITIES)],
                        },
                        ensure_ascii=False,
                    )
                    if attributes
                    else "{}",
                    now,
                    now,
                )
                for n in range(1, respondents + 1)
            ),
        )
        db.executemany(
            "INSERT INTO campaign_contacts(campaign_id, contact_id, respondent, disposition, "
            "attempts, updated_at) VALUES (?, ?, ?, ?, 1, ?)",
            (
                (
                    CAMPAIGN,
                    n,
                    f"r{n:012d}",
                    rng.choice(["completed"] * 8 + ["partial", "refused"]),
                    now,
                )
                for n in range(1, respondents + 1)
            ),
        )
        db.executemany(
            "INSERT INTO sessions(id, campaign_id, respondent, contact_id, channel, language, "
            "state, status, started_at, updated_at) VALUES (?, ?, ?, ?, ?, 'fi', '{}', 'completed', ?, ?)",
            (
                (n, CAMPAIGN, f"r{n:012d}", n, rng.choice(["sms", "sms", "voice"]), now, now)
                for n in range(1, respondents + 1)
            ),
        )

        def rows():
            for n in range(1, respondents + 1):
                channel = "sms" if n % 3 else "voice"
                kind = "text" if channel == "sms" else rng.choice(["speech", "keypad"])
                yes = rng.random() < 0.4
                values: list[tuple[str, Any, str]] = [
                    ("asiointi", rng.randint(1, 5), kind),
                    ("esteet", "yes" if yes else "no", kind),
                    ("kuljetus", rng.randint(0, 12), kind),
                    (
                        "parannus",
                        "enemmän kuljetusta ja parempi neuvonta",
                        "text" if channel == "sms" else "speech",
                    ),
                ]
                if yes:
                    values.append(
                        (
                            "este_mika",
                            rng.choice(["kulkeminen", "tilat", "tieto", "digi", "muu"]),
                            kind,
                        )
                    )
                else:
                    values.append(("este_mika", None, kind))
                for question, value, k in values:
                    yield (
                        n, CAMPAIGN, question, f"r{n:012d}", channel, "fi", k, str(value),
                        json.dumps(value, ensure_ascii=False), 0.9, "answered" if value is not None else "skipped", now,
                    )  # fmt: skip

        cur = db.executemany(
            "INSERT INTO answers(session_id, campaign_id, question, respondent, channel, language, "
            "input_kind, raw, value, confidence, status, answered_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows(),
        )
        written = cur.rowcount
    store.close()
    return written


def timed(config_path: Path, what: str) -> dict[str, Any]:
    """Build (or render) the report in a fresh process: seconds and peak resident memory."""
    code = f"""
import json, resource, sys, time
from kanavat import config as configuration
from kanavat.store import Store
from kanavat.report.build import build_report
from kanavat.report.render import render
from kanavat.report import json_out
config = configuration.load({str(config_path)!r}, env={{}})
store = Store(config.database, secret=config.server.secret)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
if {what!r} == "build":
    out = build_report(store, config, {CAMPAIGN!r}, stream=True)
    size = len(json_out.dumps(out))
else:
    size = len(render(store, config, {CAMPAIGN!r}, "html"))
print(json.dumps({{"seconds": time.perf_counter() - t, "bytes": size,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "base_mb": base / 1024}}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(workdir: Path, answers: int, attributes: bool = False) -> dict[str, Any]:
    """Fill a store of ``answers`` in ``workdir`` and time its report."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "config.toml"
    config_path.write_text(EXAMPLE_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    started = time.perf_counter()
    written = fill(config_path, answers, attributes)
    fill_s = time.perf_counter() - started
    load = load_average()
    build = timed(config_path, "build")
    html = timed(config_path, "html")
    print(
        f"  reports {written} answers{' (contacts with attributes)' if attributes else ''}: build {build['seconds']:.2f} s (peak {build['peak_mb']:.0f}"
        f" MB), full HTML report {html['seconds']:.2f} s (peak {html['peak_mb']:.0f} MB, "
        f"{html['base_mb']:.0f} MB before); fill {fill_s:.0f} s",
        flush=True,
    )
    return {"answers": written, "build": build, "html": html, "load_at_start": load}


def run(quick: bool, workdir: Path) -> dict[str, Any]:
    small = measure(workdir / "small", 200_000)
    if quick:
        return small | {"target_s": 5.0}
    full = measure(workdir / "full", 1_000_000)
    growth = full["html"]["peak_mb"] - small["html"]["peak_mb"]
    print(f"  reports peak growth 200,000 -> 1,000,000 answers: {growth:.0f} MB", flush=True)
    profiled = measure(workdir / "attributes", 1_000_000, attributes=True)
    return full | {
        "target_s": 5.0,
        "small": small,
        "peak_growth_mb": growth,
        "with_attributes": profiled,
    }
