"""Build a campaign report as one plain dict: the JSON output, and what HTML and CSV render.

Suppression happens here, once, so no output format can show a number another one hides.
The dict's shape is the stable, versioned schema in ``docs/report-schema.md`` and
``kanavat/report/schema.json``; change it only by bumping ``SCHEMA_VERSION``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from kanavat.config import Config
from kanavat.report import stats, suppress
from kanavat.report.data import AnswerRow, CampaignData, load
from kanavat.report.questions import GIVEN, Context, build_question
from kanavat.report.texts import report_language, texts
from kanavat.store import Store, iso, utc_now

SCHEMA_VERSION = "1.0"
DEFAULT_BREAKDOWNS = ("age_group", "municipality", "language", "channel")
INPUT_KINDS = ("speech", "keypad", "text", "button")
TOTAL = "__total__"


def build_report(
    store: Store,
    config: Config,
    campaign_id: str,
    *,
    language: str | None = None,
    by: Iterable[str] | None = None,
    compare: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The report of one campaign, optionally with another run of the same questions beside it.

    Raises ``kanavat.config.UnknownName`` for an unknown campaign.
    """
    language = report_language(language or config.default_language)
    breakdowns = list(by) if by else list(DEFAULT_BREAKDOWNS)
    report = _campaign_report(
        config, load(store, config, campaign_id), language, breakdowns, now or utc_now()
    )
    if compare:
        other = _campaign_report(
            config, load(store, config, compare), language, breakdowns, now or utc_now()
        )
        attach_comparison(report, other)
    return report


def _campaign_report(
    config: Config, data: CampaignData, language: str, breakdowns: list[str], now: datetime
) -> dict[str, Any]:
    campaign = config.campaign(data.campaign_id)
    questionnaire = config.questionnaire_of(data.campaign_id)
    k = config.privacy.min_cell
    contacts = {c.respondent: c for c in data.contacts}
    sample = _sample(config, data, k)
    pool = data.pool if sample and sample["weighted"] else None

    def stratum_of(respondent: str) -> str | None:
        contact = contacts.get(respondent)
        return contact.stratum if contact else None

    def group_of(attribute: str, a: AnswerRow) -> str | None:
        if attribute == "channel":
            return a.channel
        if attribute == "language":
            return a.language
        contact = contacts.get(a.respondent)
        if contact is None:
            return None
        if attribute == "stratum":
            return contact.stratum
        return contact.attributes.get(attribute)

    ctx = Context(
        language=language,
        min_cell=k,
        pool=pool,
        stratum_of=stratum_of,
        group_of=group_of,
        breakdowns=breakdowns,
        redacted=texts(language)["redacted"],
    )
    by_question: dict[str, list[AnswerRow]] = {}
    for a in data.answers:
        by_question.setdefault(a.question, []).append(a)
    respondents = {a.respondent for a in data.answers if a.status in GIVEN}
    return {
        "schema": "kanavat-report",
        "version": SCHEMA_VERSION,
        "generated_at": iso(now),
        "language": language,
        "campaign": {
            "id": data.campaign_id,
            "county": config.county.name,
            "council": campaign.council,
            "questionnaire": questionnaire.id,
            "title": questionnaire.title.get(language) or next(iter(questionnaire.title.values())),
            "channels": list(campaign.channels),
            "start": campaign.start.isoformat() if campaign.start else None,
            "end": campaign.end.isoformat() if campaign.end else None,
            "status": data.status.get("status"),
            "started_at": data.status.get("started_at"),
            "finished_at": data.status.get("finished_at"),
        },
        "privacy": {"min_cell": k},
        "respondents": _cell(len(respondents), k),
        "reach": _reach(campaign.channels, data, k),
        "sample": sample,
        "input_kinds": _input_kinds(data.answers, campaign.channels, k),
        "breakdowns": breakdowns,
        "questions": [
            build_question(q, i, by_question.get(q.id, []), ctx)
            for i, q in enumerate(questionnaire.questions, start=1)
        ],
        "comparison": None,
    }


def _cell(count: int, k: int, hidden: bool | None = None) -> dict[str, Any]:
    hide = suppress.is_small(count, k) if hidden is None else hidden
    return {"count": None if hide else count, "suppressed": hide}


def _reach(channels: Iterable[str], data: CampaignData, k: int) -> dict[str, Any]:
    if not data.has_contacts:
        return _chat_reach(data, k)
    columns = ("contacted", "reached", "completed")
    table: dict[str, dict[str, int]] = {}
    for ch in channels:
        table[ch] = {
            "contacted": len(data.attempted.get(ch, ())),
            "reached": len({s.who for s in data.sessions if s.channel == ch}),
            "completed": len(
                {s.who for s in data.sessions if s.channel == ch and s.status == "completed"}
            ),
        }
    attempted = set().union(*data.attempted.values()) if data.attempted else set()
    attempted |= {c.respondent for c in data.contacts if c.attempts > 0}
    table[TOTAL] = {
        "contacted": len(attempted),
        "reached": len({s.who for s in data.sessions}),
        "completed": sum(1 for c in data.contacts if c.disposition == "complete"),
    }
    # A person tried on two channels counts in both rows, so the total is not always the
    # sum; protecting the columns as if it were only hides more, never less.
    cells = {(r, c): row[c] for r, row in table.items() for c in columns}
    lines = [[*((r, c) for r in table if r != TOTAL), (TOTAL, c)] for c in columns]
    hidden = suppress.protect(cells, lines, k, totals=[(TOTAL, c) for c in columns])
    dispositions: dict[str, int] = dict.fromkeys((*stats.DISPOSITIONS, "pending"), 0)
    for c in data.contacts:
        key = c.disposition if c.disposition in dispositions else "other"
        dispositions[key] += 1
    d_cells = {**dispositions, TOTAL: len(data.contacts)}
    d_hidden = suppress.protect(d_cells, [list(d_cells)], k, totals=[TOTAL])
    outcomes = stats.outcomes((c.disposition, c.attempts) for c in data.contacts)
    rates = stats.rates(outcomes)
    numerators = {
        "RR1": ("complete",),
        "RR2": ("complete", "partial"),
        "RR3": ("complete",),
        "COOP1": ("complete",),
        "REF1": ("refusal",),
    }
    return {
        "kind": "contacts",
        "by_channel": [
            {"channel": r, **{c: _cell(table[r][c], k, (r, c) in hidden) for c in columns}}
            for r in table
            if r != TOTAL
        ],
        "total": {c: _cell(table[TOTAL][c], k, (TOTAL, c) in hidden) for c in columns},
        "dispositions": {
            d: _cell(n, k, d in d_hidden) for d, n in dispositions.items() if d != TOTAL
        }
        | {"total": _cell(len(data.contacts), k, TOTAL in d_hidden)},
        "pending_as": {
            "attempted": "non_contact",
            "not_attempted": "unknown",
        },
        "rates": {
            name: {
                "value": None if any(n in d_hidden for n in numerators[name]) else rates[name],
                "suppressed": any(n in d_hidden for n in numerators[name]),
            }
            for name in numerators
        },
        "e": rates["e"],
    }


def _chat_reach(data: CampaignData, k: int) -> dict[str, Any]:
    """Anonymous chat visitors have no contact list, so there is no AAPOR denominator: the
    report counts sessions started and completed instead of response rates."""
    started = {s.who for s in data.sessions}
    completed = {s.who for s in data.sessions if s.status == "completed"}
    cells = {"started": len(started), "completed": len(completed)}
    cells["not_completed"] = cells["started"] - cells["completed"]
    hidden = suppress.protect(
        cells, [["completed", "not_completed", "started"]], k, totals=["started"]
    )
    return {"kind": "sessions", "sessions": {c: _cell(v, k, c in hidden) for c, v in cells.items()}}


def _sample(config: Config, data: CampaignData, k: int) -> dict[str, Any] | None:
    campaign = config.campaign(data.campaign_id)
    audience = campaign.audience
    if audience is None or audience.sample is None:
        return None
    weighted = bool(audience.stratify) and bool(data.pool)
    out: dict[str, Any] = {
        "design": "stratified" if audience.stratify else "simple",
        "group": audience.group,
        "size": audience.sample,
        "stratify": list(audience.stratify),
        "pool": sum(data.pool.values()) if data.pool else None,
        "sampled": len(data.contacts),
        "weighted": weighted,
        "method": "post-stratification" if weighted else None,
        "strata": [],
    }
    if not audience.stratify:
        return out
    answered = {a.respondent for a in data.answers if a.status in GIVEN}
    strata: dict[str, list] = {}
    for c in data.contacts:
        strata.setdefault(c.stratum or "", []).append(c)
    respondents = {h: sum(1 for c in cs if c.respondent in answered) for h, cs in strata.items()}
    weights = stats.stratum_weights(data.pool, respondents)
    cells = {h: n for h, n in respondents.items()} | {TOTAL: sum(respondents.values())}
    hidden = suppress.protect(cells, [list(cells)], k, totals=[TOTAL])
    for h in sorted(set(data.pool) | set(strata)):
        cs = strata.get(h, [])
        rr1 = stats.rates(stats.outcomes((c.disposition, c.attempts) for c in cs))["RR1"]
        hide = h in hidden
        out["strata"].append(
            {
                "stratum": h,
                "values": dict(zip(audience.stratify, h.split("|"), strict=False)),
                "pool": data.pool.get(h, 0),
                "sampled": len(cs),
                "respondents": _cell(respondents.get(h, 0), k, hide),
                "rr1": None if hide else rr1,
                "weight": None if hide else weights.get(h),
            }
        )
    out["respondents"] = _cell(cells[TOTAL], k, TOTAL in hidden)
    return out


def _input_kinds(answers: list[AnswerRow], channels: Iterable[str], k: int) -> dict[str, Any]:
    """How answers were given, per channel, and how many spoken answers were confirmed."""
    # One pass over the answers: (kind, channel, confirmed) -> answers.
    tally = Counter(
        (a.input_kind, a.channel, a.confirmed)
        for a in answers
        if a.status != "unanswered" and a.input_kind in INPUT_KINDS
    )
    used = sum(tally.values())
    channels = list(channels)
    rows = {
        kind: {ch: tally[(kind, ch, True)] + tally[(kind, ch, False)] for ch in channels}
        for kind in INPUT_KINDS
    }
    hidden = suppress.table(rows, k, small_rows_hidden=False)
    speech = sum(n for (kind, _, _), n in tally.items() if kind == "speech")
    confirmed = sum(n for (kind, _, c), n in tally.items() if kind == "speech" and c)
    s_cells = {
        "confirmed": confirmed,
        "not_confirmed": speech - confirmed,
        "speech": speech,
    }
    forced = ["speech"] if ("speech", TOTAL) in hidden else []
    s_hidden = suppress.protect(s_cells, [list(s_cells)], k, totals=["speech"], forced=forced)
    return {
        "by_kind": [
            {
                "kind": kind,
                "total": _cell(sum(rows[kind].values()), k, (kind, TOTAL) in hidden),
                "by_channel": {
                    ch: _cell(rows[kind][ch], k, (kind, ch) in hidden) for ch in channels
                },
            }
            for kind in INPUT_KINDS
        ],
        "total": _cell(used, k, (TOTAL, TOTAL) in hidden),
        "speech_confirmed": _cell(confirmed, k, "confirmed" in s_hidden),
        "speech_not_confirmed": _cell(speech - confirmed, k, "not_confirmed" in s_hidden),
    }


def attach_comparison(report: dict[str, Any], other: dict[str, Any]) -> None:
    """Put the other campaign's estimates beside each question answered in both, with the
    change in percentage points and its 95 % interval (Newcombe); a change is called clear
    when that interval excludes zero."""
    theirs = {q["id"]: q for q in other["questions"]}
    report["comparison"] = {
        "campaign": other["campaign"],
        "respondents": other["respondents"],
        "reach": {"rates": other["reach"].get("rates"), "kind": other["reach"]["kind"]},
        "sample": other["sample"],
    }
    for q in report["questions"]:
        o = theirs.get(q["id"])
        if o is None or o["type"] != q["type"] or "categories" not in q:
            q["compare"] = None
            continue
        o_cats = {c["value"]: c for c in o["categories"]}
        rows = []
        for c in q["categories"]:
            oc = o_cats.get(c["value"])
            row: dict[str, Any] = {
                "value": c["value"],
                "other_estimate": oc["estimate"] if oc else None,
                "other_ci": oc["ci"] if oc else None,
                "change": None,
                "change_ci": None,
                "clear": None,
            }
            if oc and c["estimate"] is not None and oc["estimate"] is not None:
                row["change"] = c["estimate"] - oc["estimate"]
                if c["ci"] and oc["ci"]:
                    interval = stats.difference_interval(
                        c["estimate"], tuple(c["ci"]), oc["estimate"], tuple(oc["ci"])
                    )
                    row["change_ci"] = list(interval)
                    row["clear"] = interval[0] > 0 or interval[1] < 0
            rows.append(row)
        mean, other_mean = q.get("mean"), o.get("mean")
        q["compare"] = {
            "n": o["n"],
            "categories": rows,
            "other_mean": other_mean,
            "mean_change": mean["estimate"] - other_mean["estimate"]
            if mean
            and other_mean
            and mean["estimate"] is not None
            and other_mean["estimate"] is not None
            else None,
        }
