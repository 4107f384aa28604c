"""A generated store for report tests: a stratified phone/SMS sample of older residents with
over 10,000 answers, an earlier census run of the same questionnaire, and an anonymous chat.

The generator keeps its own record of what it wrote (``Truth``), so tests can check the
report against numbers computed by a different route than the report's SQL. Answers depend on
age so that weighting visibly matters, and one tiny municipality (Pikkukylä) has exactly
three respondents, so its cells must be suppressed, along with a complement.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from kanavat import config as configuration
from kanavat.config import Config
from kanavat.store import Store

REPO = Path(__file__).resolve().parents[2]
SAMPLED = "vanhukset-otos-2027"
EARLIER = "vanhukset-2026"
CHAT = "nuoret-2027"
FEEDBACK = "palaute-2027"
"""The example config's fast-feedback campaign (an NPS question after a service event)."""
FEEDBACK_EARLIER = "palaute-2026"
UNITS = {"Keskustan terveysasema": 0.5, "Järvelän terveysasema": 0.3, "Suun terveydenhuolto": 0.2}
TINY_UNIT = "Saariston vastaanotto"
"""Three people gave feedback on it: its cells must be hidden."""
SMALL = "vanhukset-pieni-2027"
"""A small campaign: 24 residents, 23 answered everything and one refused."""
TINY = "Pikkukylä"
HOSTILE = "<script>alert('x')</script> & \"lainaus\""
PHONE_IN_TEXT = "Soittakaa minulle numeroon 040 765 4321, kiitos. Hoitaja Sari Lindqvist auttoi"
"""A phone number and a nurse's name (Finnish first name, Swedish surname): both redacted."""

EXTRA = f"""
[campaigns.{SAMPLED}]
questionnaire = "hyvinvointi"
council = "vanhusneuvosto"
channels = ["voice", "sms"]
audience = {{ group = "ikaihmiset", sample = 3800, stratify = ["age_group", "municipality"], seed = 7 }}
start = 2027-01-11T10:00:00
end = 2027-01-24T18:00:00

[campaigns.{FEEDBACK_EARLIER}]
questionnaire = "asiointipalaute"
council = "asiakasraati"
channels = ["sms"]
trigger = "event"
start = 2026-01-01T08:00:00
end = 2026-12-31T20:00:00

[campaigns.{SMALL}]
questionnaire = "hyvinvointi"
council = "vanhusneuvosto"
channels = ["voice", "sms"]
audience = {{ group = "ikaihmiset" }}
start = 2027-02-01T10:00:00
end = 2027-02-14T18:00:00

[campaigns.{EARLIER}]
questionnaire = "hyvinvointi"
council = "vanhusneuvosto"
channels = ["voice", "sms"]
audience = {{ group = "ikaihmiset" }}
start = 2026-01-12T10:00:00
end = 2026-01-25T18:00:00
"""

AGES = {"65-74": 0.45, "75-84": 0.35, "85+": 0.20}
SAMPLE_FRACTION = {"65-74": 0.4, "75-84": 0.75, "85+": 0.9}
MUNICIPALITIES = {"Keskusta": 0.40, "Esikylä": 0.30, "Rantala": 0.20, "Mäkelä": 0.095}
COMPLETE = {"65-74": 0.78, "75-84": 0.68, "85+": 0.52}
TEXTS = [
    "Kotihoito on ollut hyvää, kiitos.",
    "Bussi kulkee liian harvoin kylälle.",
    "Toivoisin enemmän kerhotoimintaa.",
    "Yksinäisyys vaivaa talvella.",
    "Hyvin menee!",
    "Terveyskeskukseen on vaikea saada aikaa.",
]


@dataclass
class Truth:
    """What the generator wrote, recorded independently of the store."""

    pool: dict[str, int] = field(default_factory=dict)
    """Stratum -> contacts in the group."""
    cases: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)
    """Campaign -> (stratum, disposition, attempts) per enrolled contact."""
    stratum_of: dict[str, str] = field(default_factory=dict)
    """Respondent pseudonym (any campaign) -> stratum."""
    municipality_of: dict[str, str] = field(default_factory=dict)
    unit_of: dict[str, str] = field(default_factory=dict)
    phones: list[str] = field(default_factory=list)
    answers: int = 0


def make_config(folder: Path) -> Config:
    text = (REPO / "config.toml").read_text("utf-8")
    text = text.replace('database = "kanavat.db"', f'database = "{folder / "report.db"}"')
    path = folder / "config.toml"
    path.write_text(text + EXTRA, encoding="utf-8")
    return configuration.loads(text + EXTRA, path=path, env={})


def generate(config: Config, seed: int = 2027) -> Truth:
    rng = random.Random(seed)
    store = Store(config.database_path, secret="report-tests")
    truth = Truth()
    now = "2027-01-20T12:00:00.000Z"
    conn = store.db.conn
    conn.execute("BEGIN")
    campaigns = (
        (SAMPLED, "running"),
        (EARLIER, "finished"),
        (CHAT, "running"),
        (SMALL, "finished"),
        (FEEDBACK, "running"),
        (FEEDBACK_EARLIER, "finished"),
    )
    for cid, status in campaigns:
        c = config.campaigns[cid]
        conn.execute(
            "INSERT INTO campaigns(id, questionnaire, council, status, updated_at) VALUES (?, ?, ?, ?, ?)",
            [cid, c.questionnaire, c.council, status, now],
        )
    contacts = _contacts(conn, rng, truth, now)
    sampled = _sample(rng, contacts)
    state = {"session": 0}
    for contact_id, attrs, language in sampled:
        _enrol(conn, store, rng, truth, SAMPLED, contact_id, attrs, language, now, state)
    for contact_id, attrs, language in rng.sample(contacts, 900):
        _enrol(conn, store, rng, truth, EARLIER, contact_id, attrs, language, now, state, shift=0.3)
    for i, (contact_id, attrs, language) in enumerate(rng.sample(contacts, 24)):
        disposition = "refusal" if i == 0 else "complete"
        _enrol(conn, store, rng, truth, SMALL, contact_id, attrs, language, now, state,
               disposition=disposition)  # fmt: skip
    _chat(conn, rng, truth, now, state)
    _feedback(conn, store, rng, truth, now, state)
    conn.execute("COMMIT")
    store.close()
    return truth


def _contacts(conn, rng: random.Random, truth: Truth, now: str) -> list[tuple[int, dict, str]]:
    out = []
    people = []
    for age, share in AGES.items():
        for municipality, mshare in MUNICIPALITIES.items():
            people += [(age, municipality)] * round(6000 * share * mshare)
    people += [("75-84", TINY)] * 8 + [("85+", TINY)] * 6
    for i, (age, municipality) in enumerate(people, start=1):
        phone = f"+35840{1000000 + i * 37:07d}"
        language = "sv" if rng.random() < 0.12 else "fi"
        attrs = {"age_group": age, "municipality": municipality}
        conn.execute(
            "INSERT INTO contacts(id, phone, language, attributes, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [i, phone, language, json.dumps(attrs, ensure_ascii=False), now, now],
        )
        conn.execute(
            "INSERT INTO contact_groups(contact_id, group_name) VALUES (?, 'ikaihmiset')", [i]
        )
        truth.phones.append(phone)
        stratum = f"{age}|{municipality}"
        truth.pool[stratum] = truth.pool.get(stratum, 0) + 1
        out.append((i, attrs, language))
    return out


def _sample(rng: random.Random, contacts: list) -> list:
    """Disproportionate stratified sample: the oldest are over-sampled, as councils ask."""
    by_stratum: dict[str, list] = {}
    for c in contacts:
        by_stratum.setdefault(f"{c[1]['age_group']}|{c[1]['municipality']}", []).append(c)
    chosen = []
    for stratum, members in sorted(by_stratum.items()):
        age = stratum.split("|")[0]
        n = len(members) if stratum.endswith(TINY) else round(len(members) * SAMPLE_FRACTION[age])
        chosen += rng.sample(members, n)
    return chosen


def _disposition(rng: random.Random, age: str, municipality: str, tiny_seen: list[int]) -> str:
    if municipality == TINY:
        # Exactly three respondents from the tiny municipality, everyone else refuses.
        tiny_seen[0] += 1
        return "complete" if tiny_seen[0] <= 3 else "refusal"
    x = rng.random()
    cut = COMPLETE[age]
    for disposition, p in (
        ("complete", cut),
        ("partial", 0.04),
        ("refusal", 0.08),
        ("pending", 0.01),
        ("other", 0.01),
        ("unknown", 0.015),
        ("not_eligible", 0.02),
    ):
        if x < p:
            return disposition
        x -= p
    return "non_contact"


def _enrol(
    conn, store, rng, truth, cid, contact_id, attrs, language, now, state, shift=0.0,
    disposition=None,
):  # fmt: skip
    age, municipality = attrs["age_group"], attrs["municipality"]
    stratum = f"{age}|{municipality}"
    tiny = state.setdefault(("tiny", cid), [0])
    disposition = disposition or _disposition(rng, age, municipality, tiny)
    attempts = 0 if disposition == "pending" and rng.random() < 0.5 else rng.randint(1, 3)
    respondent = store.pseudonym(cid, f"contact:{contact_id}")
    conn.execute(
        "INSERT INTO campaign_contacts(campaign_id, contact_id, respondent, stratum, disposition, "
        "attempts, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            cid,
            contact_id,
            respondent,
            stratum if cid == SAMPLED else None,
            disposition,
            attempts,
            now,
        ],
    )
    truth.cases.setdefault(cid, []).append((stratum, disposition, attempts))
    truth.stratum_of[respondent] = stratum
    truth.municipality_of[respondent] = municipality
    channel = "voice" if rng.random() < 0.8 else "sms"
    for _ in range(attempts):
        conn.execute(
            "INSERT INTO attempts(campaign_id, contact_id, channel, status, created_at, updated_at) "
            "VALUES (?, ?, ?, 'completed', ?, ?)",
            [cid, contact_id, channel, now, now],
        )
    if disposition not in ("complete", "partial", "refusal"):
        return
    state["session"] += 1
    session_id = state["session"]
    conn.execute(
        "INSERT INTO sessions(id, campaign_id, respondent, contact_id, channel, language, state, "
        "status, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, '{}', ?, ?, ?)",
        [
            session_id,
            cid,
            respondent,
            contact_id,
            channel,
            language,
            "completed" if disposition == "complete" else "stopped",
            now,
            now,
        ],
    )
    if disposition == "refusal":
        return
    answers = _answers(rng, age, shift)
    if disposition == "partial":
        answers = answers[: rng.randint(1, 2)]
    for i, (question, value, status) in enumerate(answers):
        kind, confidence, confirmed = "text", None, 0
        if channel == "voice":
            if question != "terveiset" and rng.random() < 0.3:
                kind, confidence = "keypad", 1.0
            else:
                kind = "speech"
                confidence = round(rng.uniform(0.35, 0.99), 3)
                confirmed = int(confidence < 0.6)
        raw = value if isinstance(value, str) else str(value)
        conn.execute(
            "INSERT INTO answers(session_id, campaign_id, question, respondent, channel, language, "
            "input_kind, raw, value, confidence, confirmed, status, answered_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                session_id,
                cid,
                question,
                respondent,
                channel,
                language,
                kind,
                raw,
                json.dumps(value, ensure_ascii=False),
                confidence,
                confirmed,
                status,
                f"2027-01-{12 + i % 10:02d}T10:{i:02d}:00.000Z",
            ],
        )
        truth.answers += 1


def _answers(rng: random.Random, age: str, shift: float) -> list[tuple[str, object, str]]:
    """One respondent's answers; older people report a harder everyday life."""
    older = {"65-74": 0.0, "75-84": 0.6, "85+": 1.3}[age] + shift
    out: list[tuple[str, object, str]] = []
    if rng.random() < 0.03:
        out.append(("arki", "dont_know", "dont_know"))
    else:
        score = round(rng.gauss(3.9 - older, 1.0))
        out.append(("arki", min(5, max(1, score)), "answered"))
    apu = "yes" if rng.random() < 0.55 + 0.15 * older else "no"
    out.append(("apu", apu, "answered"))
    if apu == "yes":
        who = rng.choices(["omainen", "naapuri", "kotihoito", "muu"], [5, 2, 2 + 2 * older, 1])[0]
        out.append(("apu_mista", who, "answered"))
    out.append(("yhteydet", max(0, min(7, round(rng.gauss(4.5 - older, 1.8)))), "answered"))
    r = rng.random()
    if r < 0.002:
        out.append(("terveiset", HOSTILE, "answered"))
    elif r < 0.004:
        out.append(("terveiset", PHONE_IN_TEXT, "answered"))
    elif r < 0.3:
        out.append(("terveiset", rng.choice(TEXTS), "answered"))
    else:
        out.append(("terveiset", "skip", "skipped"))
    return out


def _chat(conn, rng: random.Random, truth: Truth, now: str, state: dict) -> None:
    """Anonymous young visitors: sessions by visitor id, answers by button and text."""
    for v in range(260):
        state["session"] += 1
        sid = state["session"]
        done = rng.random() < 0.8
        respondent = f"rchat{v:05d}"
        conn.execute(
            "INSERT INTO sessions(id, campaign_id, respondent, visitor_id, channel, language, state, "
            "status, started_at, updated_at) VALUES (?, ?, ?, ?, 'chat', 'fi', '{}', ?, ?, ?)",
            [sid, CHAT, respondent, f"v{v}", "completed" if done else "stopped", now, now],
        )
        answers = [
            ("ika", rng.randint(13, 24), "text"),
            ("vointi", rng.randint(1, 5), "button"),
            ("harrastus", rng.choice(["yes", "no"]), "button"),
        ]
        if not done:
            answers = answers[:2]
        for question, value, kind in answers:
            conn.execute(
                "INSERT INTO answers(session_id, campaign_id, question, respondent, channel, "
                "language, input_kind, raw, value, confidence, confirmed, status, answered_at) "
                "VALUES (?, ?, ?, ?, 'chat', 'fi', ?, ?, ?, NULL, 0, 'answered', ?)",
                [sid, CHAT, question, respondent, kind, str(value), json.dumps(value), now],
            )
            truth.answers += 1


def _feedback(conn, store, rng: random.Random, truth: Truth, now: str, state: dict) -> None:
    """Service events at units, each followed by an NPS answer by text message; the earlier
    year scores lower at the health centres. Event attributes live on the enrolment row."""
    contact_id = 900_000
    for cid, shift in ((FEEDBACK, 0.0), (FEEDBACK_EARLIER, -1.2)):
        people = [u for u, share in UNITS.items() for _ in range(round(400 * share))]
        people += [TINY_UNIT] * 3
        for unit in people:
            contact_id += 1
            conn.execute(
                "INSERT INTO contacts(id, phone, language, attributes, created_at, updated_at) "
                "VALUES (?, ?, 'fi', '{}', ?, ?)",
                [contact_id, f"+35850{contact_id:07d}", now, now],
            )
            respondent = store.pseudonym(cid, f"contact:{contact_id}")
            score = min(10, max(0, round(rng.gauss(8.0 + shift, 2.0))))
            answered = rng.random() < 0.9 or unit == TINY_UNIT
            conn.execute(
                "INSERT INTO campaign_contacts(campaign_id, contact_id, respondent, disposition, "
                "attempts, updated_at, attributes) VALUES (?, ?, ?, ?, 1, ?, ?)",
                [
                    cid,
                    contact_id,
                    respondent,
                    "complete" if answered else "non_contact",
                    now,
                    json.dumps({"unit": unit}, ensure_ascii=False),
                ],
            )
            truth.unit_of[respondent] = unit
            conn.execute(
                "INSERT INTO attempts(campaign_id, contact_id, channel, status, created_at, "
                "updated_at) VALUES (?, ?, 'sms', 'completed', ?, ?)",
                [cid, contact_id, now, now],
            )
            state["session"] += 1
            sid = state["session"]
            conn.execute(
                "INSERT INTO sessions(id, campaign_id, respondent, contact_id, channel, language, "
                "state, status, started_at, updated_at) VALUES (?, ?, ?, ?, 'sms', 'fi', '{}', ?, ?, ?)",
                [sid, cid, respondent, contact_id, "completed" if answered else "active", now, now],
            )
            if not answered:
                continue
            for question, value, status in (
                ("suosittelu", score, "answered"),
                ("palaute_vapaa", "skip", "skipped"),
            ):
                conn.execute(
                    "INSERT INTO answers(session_id, campaign_id, question, respondent, channel, "
                    "language, input_kind, raw, value, confidence, confirmed, status, answered_at) "
                    "VALUES (?, ?, ?, ?, 'sms', 'fi', 'text', ?, ?, NULL, 0, ?, ?)",
                    [sid, cid, question, respondent, str(value), json.dumps(value), status, now],
                )
                truth.answers += 1
