"""Reports: time to build a campaign's report from 1,000,000 stored answers.

The store is filled directly (it is the input, not what is measured) with a campaign as a
county runs it, not a flattering one: the example ``palvelut`` questionnaire (a scale, yes/no,
a choice asked of the "yes" half, a number, free text) put to a disproportionate stratified
sample (``audience.sample`` and ``stratify = ["age_group", "municipality"]``: the oldest
over-sampled, so every share is post-stratified) of a disability-service register whose
contacts carry an age group, a municipality (one tiny island among twelve) and the service
they use (260 profiles), in Finnish, Swedish and English. Contacts have attempts (one to
three), dispositions of every kind, SMS first and calls second; 2 % restarted a session and
2 % answered a text and then a call (the latest answer counts); about a third wrote a
suggestion, nearly all different, some naming a person or giving a phone number (redacted).
The report is asked with ``--by age_group municipality service language channel``.

Then ``build_report`` (the data behind every format, free-text lists read as they are
written, as ``render`` does) and the full HTML report (built and rendered: what an official
waits for; the issue's target is under 5 s) are timed in a fresh process each: wall and CPU
seconds (CPU seconds are the figure that means something on a busy machine), peak resident
memory and the memory the process had before (imports, the store opened).

Memory should stay flat as answers grow (counts are made in SQL, free text is streamed): the
full run also measures a 200,000-answer store and records how much more the HTML report's
peak grows than its answers (``peak_growth_mb``: the 1,000,000-answer peak less the
200,000-answer one; only the HTML text itself, its free-text list, should grow).
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

CAMPAIGN = "vammaispalvelut-otos-2027"
GROUP = "palvelunkayttajat"
BY = ("age_group", "municipality", "service", "language", "channel")
"""The breakdowns asked for (``kanavat report ... --by``): every attribute the contacts carry."""

AGE_GROUPS = {"18-39": 0.20, "40-64": 0.30, "65-74": 0.22, "75-84": 0.18, "85+": 0.10}
SAMPLE_FRACTION = {"18-39": 0.5, "40-64": 0.5, "65-74": 0.6, "75-84": 0.8, "85+": 0.9}
"""Disproportionate: the oldest are over-sampled, so answers are weighted back."""
MUNICIPALITIES = {f"Kunta {n}": 1 / (n + 1) for n in range(1, 13)} | {"Pikkusaari": 0.003}
"""Twelve municipalities of falling size and one tiny island (its cells are suppressed)."""
SERVICES = {"kuljetuspalvelu": 0.45, "henkilökohtainen apu": 0.25, "asumispalvelu": 0.15,
            "päivätoiminta": 0.15}  # fmt: skip
LANGUAGES = {"fi": 0.86, "sv": 0.11, "en": 0.03}
DISPOSITIONS = {"complete": 0.70, "partial": 0.05, "refusal": 0.06, "non_contact": 0.11,
                "pending": 0.03, "other": 0.01, "unknown": 0.02, "not_eligible": 0.02}  # fmt: skip
OPENINGS = ["", "Mielestäni ", "Ehdottomasti ", "Toivoisin että ", "Kiitos, mutta ",
            "Tärkeintä on ", "Jag tycker att ", "Ensin ", "Ehkä ", "Kyllä "]  # fmt: skip
TOPICS = ["kuljetuspalvelun tilaaminen", "taksin odotusaika", "neuvonta puhelimessa",
          "verkkoasiointi", "terveysaseman ovet", "hissit", "tulkkipalvelu", "ajanvaraus",
          "apuvälineiden saanti", "henkilökohtaisen avustajan tunnit", "päätösten odotus",
          "palveluohjaus", "esteetön wc", "pysäköinti", "kirjeiden selkokieli",
          "päivätoiminnan kuljetus", "omaishoidon vapaat", "asumisyksikön henkilökunta"]  # fmt: skip
VERBS = ["pitäisi parantaa", "on liian hidas", "toimii huonosti", "on hyvä, mutta kallis",
         "pitää saada kuntoon", "on vaikea", "vaatii lisää resursseja", "on sekava"]  # fmt: skip
NAMES = ["Hoitaja Sari auttoi paljon.", "Kiitos Mikko Virtaselle.",
         "Soittakaa minulle 040 765 4321.", "Anna Lindqvist neuvoi hyvin."]  # fmt: skip

BENCH_CAMPAIGN = f"""
[campaigns.{CAMPAIGN}]
questionnaire = "palvelut"
council = "vammaisneuvosto"
channels = ["sms", "voice"]
audience = {{ group = "{GROUP}", sample = SAMPLE, stratify = ["age_group", "municipality"], seed = 7 }}
start = 2027-02-01T09:00:00
end = 2027-02-14T21:00:00
"""


def _pick(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), list(shares.values()))[0]


def _text(rng: random.Random) -> str:
    """A resident's suggestion: mostly different from everyone else's, some with a name or a
    phone number (redacted in the report)."""
    text = f"{rng.choice(OPENINGS)}{rng.choice(TOPICS)} {rng.choice(VERBS)}."
    if rng.random() < 0.5:
        text += f" Myös {rng.choice(TOPICS)} {rng.choice(VERBS)}, {rng.randint(2, 40)} kertaa."
    if rng.random() < 0.05:
        text += " " + rng.choice(NAMES)
    return text[0].upper() + text[1:]


def fill(config_path: Path, answers: int) -> int:
    """Put about ``answers`` answers in the store of a stratified sample of disability-service
    users (see the module's docstring); returns how many were written."""
    from kanavat import config as configuration
    from kanavat.outreach import campaigns
    from kanavat.store import Store

    config = configuration.load(config_path, env={})
    store = Store(config.database, secret=config.server.secret)
    campaigns.sync(store, config)
    rng = random.Random(12)
    now = "2027-02-03T10:00:00+00:00"
    sampled = round(answers / ANSWERS_PER_CONTACT)
    pool_size = round(sampled / sum(AGE_GROUPS[a] * f for a, f in SAMPLE_FRACTION.items()))
    db = store.db.conn  # bulk loading: executemany on the connection itself
    people = []
    for n in range(1, pool_size + 1):
        age = _pick(rng, AGE_GROUPS)
        attrs = {"age_group": age, "municipality": _pick(rng, MUNICIPALITIES),
                 "service": _pick(rng, SERVICES)}  # fmt: skip
        people.append((n, _pick(rng, LANGUAGES), attrs))
    with store.transaction():
        db.executemany(
            "INSERT INTO contacts(id, phone, language, attributes, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            ((n, f"+35840{n:07d}", lang, json.dumps(a, ensure_ascii=False), now, now)
             for n, lang, a in people),
        )  # fmt: skip
        db.executemany(
            "INSERT INTO contact_groups(contact_id, group_name) VALUES (?, ?)",
            ((n, GROUP) for n, _, _ in people),
        )
        chosen = [p for p in people if rng.random() < SAMPLE_FRACTION[p[2]["age_group"]]]
        enrolled = []
        for n, language, attrs in chosen:
            disposition = _pick(rng, DISPOSITIONS)
            attempts = 0 if disposition == "pending" and rng.random() < 0.5 else rng.randint(1, 3)
            stratum = f"{attrs['age_group']}|{attrs['municipality']}"
            enrolled.append((n, language, attrs, disposition, attempts, stratum))
        db.executemany(
            "INSERT INTO campaign_contacts(campaign_id, contact_id, respondent, stratum, "
            "disposition, attempts, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((CAMPAIGN, n, f"r{n:012d}", stratum, disposition, attempts, now)
             for n, _, _, disposition, attempts, stratum in enrolled),
        )  # fmt: skip
        db.executemany(
            "INSERT INTO attempts(campaign_id, contact_id, channel, status, created_at, "
            "updated_at) VALUES (?, ?, ?, 'completed', ?, ?)",
            ((CAMPAIGN, n, "sms" if i == 0 else rng.choice(["sms", "voice"]), now, now)
             for n, _, _, _, attempts, _ in enrolled for i in range(attempts)),
        )  # fmt: skip
        written, SESSION_IDS[0] = 0, 0
        for start in range(0, len(enrolled), 20_000):  # a chunk at a time: memory stays small
            sessions: list[tuple[Any, ...]] = []
            answer_rows: list[tuple[Any, ...]] = []
            for n, language, attrs, disposition, _, _ in enrolled[start : start + 20_000]:
                _respondent(sessions, answer_rows, rng, n, language, attrs, disposition, now)
            db.executemany(
                "INSERT INTO sessions(id, campaign_id, respondent, contact_id, channel, "
                "language, state, status, started_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, '{}', ?, ?, ?)",
                sessions,
            )
            db.executemany(
                "INSERT INTO answers(session_id, campaign_id, question, respondent, channel, "
                "language, input_kind, raw, value, confidence, confirmed, status, answered_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                answer_rows,
            )
            written += len(answer_rows)
    store.close()
    return written


ANSWERS_PER_CONTACT = 3.2
"""Answers per sampled contact, as ``_answers`` and the dispositions make them."""


def _answers(rng: random.Random, age: str) -> list[tuple[str, Any]]:
    """One resident's answers; older people find services harder to reach."""
    older = {"18-39": 0.0, "40-64": 0.2, "65-74": 0.5, "75-84": 0.9, "85+": 1.3}[age]
    out: list[tuple[str, Any]] = []
    if rng.random() < 0.03:
        out.append(("asiointi", "dont_know"))
    else:
        out.append(("asiointi", min(5, max(1, round(rng.gauss(3.6 - older, 1.0))))))
    yes = rng.random() < 0.3 + 0.2 * older
    out.append(("esteet", "yes" if yes else "no"))
    if yes:
        out.append(("este_mika", rng.choices(["kulkeminen", "tilat", "tieto", "digi", "muu"],
                                             [4, 2, 2, 1 + 2 * older, 1])[0]))  # fmt: skip
    out.append(("kuljetus", max(0, min(60, round(rng.expovariate(1 / (4 + 6 * older)))))))
    out.append(("parannus", _text(rng) if rng.random() < 0.35 else None))
    return out


def _respondent(sessions, answer_rows, rng, contact, language, attrs, disposition, now) -> None:
    """A sampled contact's sessions and answers: most take part once; some restart, or leave
    a text unanswered and are asked again by phone (the latest answer counts)."""
    if disposition not in ("complete", "partial", "refusal"):
        return
    channel = "sms" if rng.random() < 0.7 else "voice"
    status = "completed" if disposition == "complete" else "stopped"
    given = _answers(rng, attrs["age_group"]) if disposition != "refusal" else []
    if disposition == "partial":
        given = given[: rng.randint(1, 2)]
    r = rng.random()
    if r < 0.02 and given:  # restarted: its answers were given again in the next session
        _session(sessions, answer_rows, rng, contact, "sms", language, "restarted", given[:1], now)
    elif r < 0.04 and given:  # an earlier answer by text, then a call asks again
        earlier = [(q, _answers(rng, attrs["age_group"])[0][1]) for q, _ in given[:1]]
        _session(sessions, answer_rows, rng, contact, "sms", language, "stopped", earlier,
                 "2027-02-02T10:00:00+00:00")  # fmt: skip
        channel = "voice"
    _session(sessions, answer_rows, rng, contact, channel, language, status, given, now)


SESSION_IDS = [0]
"""The last session id written (sessions are written a chunk at a time)."""


def _session(sessions, answer_rows, rng, contact, channel, language, status, given, at) -> None:
    session = (sessions[-1][0] if sessions else SESSION_IDS[0]) + 1
    SESSION_IDS[0] = session
    respondent = f"r{contact:012d}"
    sessions.append((session, CAMPAIGN, respondent, contact, channel, language, status, at, at))
    for question, value in given:
        kind, confidence, confirmed = "text", None, 0
        if channel == "voice":
            if question != "parannus" and rng.random() < 0.3:
                kind, confidence = "keypad", 1.0
            else:
                kind, confidence = "speech", round(rng.uniform(0.35, 0.99), 3)
                confirmed = int(confidence < 0.6)
        answer_status = ("skipped" if value is None
                         else "dont_know" if value == "dont_know" else "answered")  # fmt: skip
        raw = None if value is None else value if isinstance(value, str) else str(value)
        answer_rows.append(
            (session, CAMPAIGN, question, respondent, channel, language, kind, raw,
             json.dumps(value, ensure_ascii=False), confidence, confirmed, answer_status, at)
        )  # fmt: skip


def timed(config_path: Path, what: str) -> dict[str, Any]:
    """Build (or render) the report in a fresh process: seconds (wall and CPU), peak resident
    memory and the memory the process had before. CPU seconds mean something on a busy
    machine; wall seconds only on an idle one."""
    code = f"""
import json, resource, sys, time
from pathlib import Path


def peak_mb():
    # This process's own high-water mark: ru_maxrss would carry over the parent's (the
    # process that filled the store) across fork and exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


from kanavat import config as configuration
from kanavat.store import Store
from kanavat.report.build import build_report
from kanavat.report.render import render
from kanavat.report import json_out
config = configuration.load({str(config_path)!r}, env={{}})
store = Store(config.database, secret=config.server.secret)
base = peak_mb()
t, cpu = time.perf_counter(), time.process_time()
if {what!r} == "build":
    out = build_report(store, config, {CAMPAIGN!r}, by={list(BY)!r}, stream=True)
    size = len(json_out.dumps(out))
else:
    size = len(render(store, config, {CAMPAIGN!r}, "html", by={list(BY)!r}))
print(json.dumps({{"seconds": time.perf_counter() - t, "cpu_seconds": time.process_time() - cpu,
    "bytes": size, "peak_mb": peak_mb(), "base_mb": base}}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=900
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def prepare(workdir: Path, answers: int) -> tuple[Path, int]:
    """A config with the bench's campaign and a store of about ``answers`` answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "config.toml"
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    sample = round(answers / ANSWERS_PER_CONTACT)
    config_path.write_text(text + BENCH_CAMPAIGN.replace("SAMPLE", str(sample)), encoding="utf-8")
    return config_path, fill(config_path, answers)


def measure(workdir: Path, answers: int) -> dict[str, Any]:
    """Fill a store of ``answers`` in ``workdir`` and time its report."""
    started = time.perf_counter()
    config_path, written = prepare(workdir, answers)
    fill_s = time.perf_counter() - started
    load = load_average()
    build = timed(config_path, "build")
    html = timed(config_path, "html")
    print(
        f"  reports {written} answers: build {build['seconds']:.2f} s "
        f"({build['cpu_seconds']:.2f} CPU-s, peak {build['peak_mb']:.0f} MB), full HTML report "
        f"{html['seconds']:.2f} s ({html['cpu_seconds']:.2f} CPU-s, peak {html['peak_mb']:.0f} "
        f"MB, {html['base_mb']:.0f} MB before); fill {fill_s:.0f} s",
        flush=True,
    )
    return {"answers": written, "build": build, "html": html, "load_at_start": load}


def run(quick: bool, workdir: Path) -> dict[str, Any]:
    small = measure(workdir / "small", 200_000)
    if quick:
        return small | {"target_s": 5.0, "by": list(BY)}
    full = measure(workdir / "full", 1_000_000)
    growth = full["html"]["peak_mb"] - small["html"]["peak_mb"]
    print(f"  reports peak growth 200,000 -> 1,000,000 answers: {growth:.0f} MB", flush=True)
    return full | {"target_s": 5.0, "by": list(BY), "small": small, "peak_growth_mb": growth}
