"""Build a campaign report as one plain dict: the JSON output, and what HTML and CSV render.

Suppression happens here, once, so no output format can show a number another one hides.
The dict's shape is the stable, versioned schema in ``docs/report-schema.md`` and
``kanavat/report/schema.json``; change it only by bumping ``SCHEMA_VERSION``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from kanavat.config import Config
from kanavat.loop import report as loop_report
from kanavat.report import data as report_data
from kanavat.report import stats
from kanavat.report.data import (
    AnswerRow,
    CampaignData,
    ChannelReach,
    ContactCell,
    TextAnswers,
    load,
)
from kanavat.report.disclosure import Ledger
from kanavat.report.questions import Context, build_question
from kanavat.report.texts import report_language, texts
from kanavat.report.themes import build_themes, too_many_to_theme
from kanavat.store import Store, iso, utc_now
from kanavat.themes import named

SCHEMA_VERSION = "1.3"
DEFAULT_BREAKDOWNS = ("unit", "age_group", "municipality", "language", "channel")
"""Shown when the campaign has them (a fast-feedback campaign's service units first)."""
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
    stream: bool = False,
) -> dict[str, Any]:
    """The report of one campaign, optionally with another run of the same questions beside it.

    With ``stream`` a free-text question's listed answers are read from ``store`` while the
    report is written (``render``), so the store must stay open until then; without, the
    report is a self-contained dict.

    Raises ``kanavat.config.UnknownName`` for an unknown campaign.
    """
    language = report_language(language or config.default_language)
    breakdowns = list(by) if by else list(DEFAULT_BREAKDOWNS)
    report = _campaign_report(
        config,
        load(store, config, campaign_id),
        language,
        breakdowns,
        now or utc_now(),
        store,
        stream=stream,
    )
    if compare:
        other = _campaign_report(
            config,
            load(store, config, compare),
            language,
            breakdowns,
            now or utc_now(),
            store,
            stream=stream,
        )
        attach_comparison(report, other)
    return report


def _campaign_report(
    config: Config,
    data: CampaignData,
    language: str,
    breakdowns: list[str],
    now: datetime,
    store: Store | None = None,
    *,
    stream: bool = False,
) -> dict[str, Any]:
    campaign = config.campaign(data.campaign_id)
    questionnaire = config.questionnaire_of(data.campaign_id)
    k = config.privacy.min_cell
    ledger = Ledger(k)
    profiles = data.profiles  # an aggregated answer row's "respondent" is its profile
    sample = _sample(config, data, ledger)
    pool = data.pool if sample and sample["weighted"] else None

    def stratum_of(respondent: str) -> str | None:
        profile = profiles.get(respondent)
        return profile.stratum if profile else None

    def group_of(attribute: str, a: AnswerRow) -> str | None:
        if attribute == "channel":
            return a.channel
        if attribute == "language":
            return a.language
        profile = profiles.get(a.respondent)
        if profile is None:
            return None
        if attribute == "stratum":
            return profile.stratum
        return profile.attributes.get(attribute)

    stratify = list(campaign.audience.stratify) if campaign.audience else []
    ctx = Context(
        language=language,
        min_cell=k,
        pool=pool,
        stratum_of=stratum_of,
        group_of=group_of,
        breakdowns=breakdowns,
        universe=_universe(breakdowns, data, stratify),
        stratify=stratify,
        redacted=texts(language)["redacted"],
    )
    by_question: dict[str, list[AnswerRow]] = {}
    for a in data.answers:
        by_question.setdefault(a.question, []).append(a)
    report = {
        "schema": "kanavat-report",
        "version": SCHEMA_VERSION,
        "generated_at": iso(now),
        "language": language,
        "campaign": {
            "id": data.campaign_id,
            "county": config.county.name,
            "timezone": config.county.timezone,
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
        "respondents": ledger.cell(RESPONDENTS, data.respondents, total=True),
        "reach": _reach(campaign.channels, data, ledger),
        "sample": sample,
        "input_kinds": _input_kinds(data.answers, campaign.channels, ledger),
        "breakdowns": breakdowns,
        "questions": [
            build_question(
                q, i, by_question.get(q.id, []), ctx, ledger, data.texts.get(q.id), stream=stream
            )
            for i, q in enumerate(questionnaire.questions, start=1)
        ],
        "comparison": None,
        "closing_loop": loop_report.section(data.loop, ledger),
    }
    people: dict[str, dict[str, str]] | None = None
    for q in report["questions"]:
        if q["type"] == "text":  # free-text themes (issue 21), under the same ledger
            written = data.texts.get(q["id"]) or TextAnswers.of(by_question.get(q["id"], []))
            if too_many_to_theme(q["id"], written.count):
                q["themes"] = None
                continue
            rows = list(written.rows())
            saved = named.load(store, data.campaign_id, q["id"]) if store is not None else []
            if people is None:
                people = report_data.people(store, data.campaign_id) if store is not None else {}
            q["themes"] = build_themes(
                q["id"], rows, saved, ctx, ledger, people, store, data.campaign_id
            )
    if campaign.conversation and store is not None:  # issue 20: opinion groups, same control
        from kanavat.report import conversation

        report["conversation"] = conversation.section(
            store, config, data.campaign_id, language, breakdowns, ledger
        )
    ledger.apply()
    reach = report["reach"]
    if reach["kind"] == "contacts":  # e stays a plain number, as in version 1.0
        reach["e_range"] = reach["e"].get("range")
        reach["e"] = reach["e"]["value"]
    return report


RESPONDENTS = ("respondents",)
RATES = ("RR1", "RR2", "RR3", "COOP1", "REF1")


def _universe(breakdowns: list[str], data: CampaignData, stratify: list[str]) -> list[str]:
    """Every attribute any ``--by`` variant of this report could break answers down by: the
    suppression is decided over all of them, so that no two variants together say more than
    one of them."""
    out = list(dict.fromkeys([*DEFAULT_BREAKDOWNS, *breakdowns]))
    for p in data.profiles.values():
        for name in p.attributes:
            if name not in out:
                out.append(name)
    if stratify and "stratum" not in out:
        out.append("stratum")
    return out


def _reach(channels: Iterable[str], data: CampaignData, ledger: Ledger) -> dict[str, Any]:
    if not data.has_contacts:
        return _chat_reach(data, ledger)
    columns = ("contacted", "reached", "completed")
    nobody = ChannelReach(0, 0, 0, 0)
    table: dict[str, dict[str, int]] = {}
    for ch in channels:
        r = data.reach.get(ch, nobody)
        table[ch] = {"contacted": r.contacted, "reached": r.reached, "completed": r.completed}
    dispositions: dict[str, int] = dict.fromkeys((*stats.DISPOSITIONS, "pending"), 0)
    for c in data.contacts:
        key = c.disposition if c.disposition in dispositions else "other"
        dispositions[key] += c.n
    everyone = data.reach.get(None, nobody)
    table[TOTAL] = {
        "contacted": everyone.contacted,
        "reached": everyone.reached,
        "completed": dispositions["complete"],
    }

    def key(row: str, column: str) -> tuple[str, ...]:
        # The total of completes is the dispositions' "complete": one count, one key.
        if (row, column) == (TOTAL, "completed"):
            return ("disposition", "complete")
        return ("reach", row, column)

    # A person tried on two channels counts in both rows, so the total is not always the
    # sum; protecting the columns as if it were only hides more, never less.
    out_rows = []
    for r in table:
        if r == TOTAL:
            continue
        row: dict[str, Any] = {"channel": r}
        for c in columns:
            row[c] = ledger.cell(key(r, c), table[r][c])
        out_rows.append(row)
    total = {c: ledger.cell(key(TOTAL, c), table[TOTAL][c], total=True) for c in columns}
    for c in columns:
        ledger.line([key(r, c) for r in table if r != TOTAL], key(TOTAL, c))
    d_keys = {d: ("disposition", d) for d in dispositions}
    d_cells = {d: ledger.cell(d_keys[d], n) for d, n in dispositions.items()}
    d_cells["total"] = ledger.cell(
        ("disposition", TOTAL), sum(c.n for c in data.contacts), total=True
    )
    ledger.line(d_keys.values(), ("disposition", TOTAL))
    pending_attempted = sum(
        c.n for c in data.contacts if c.disposition == "pending" and c.attempted
    )
    parts = {d: (d_keys[d], n) for d, n in dispositions.items() if d != "pending"}
    parts["pending_attempted"] = (d_keys["pending"], pending_attempted)
    parts["pending_fresh"] = (d_keys["pending"], dispositions["pending"] - pending_attempted)
    rates = stats.rates(_outcomes(counts_of(parts)))
    out_rates: dict[str, dict[str, Any]] = {}
    for name in (*RATES, "e"):
        out_rates[name] = {"value": rates[name], "suppressed": False}
        ledger.rate(
            out_rates[name],
            lambda counts, name=name: stats.rates(_outcomes(counts))[name],
            parts,
            ("disposition", TOTAL),
        )
    e = out_rates.pop("e")
    return {
        "kind": "contacts",
        "by_channel": out_rows,
        "total": total,
        "dispositions": d_cells,
        "pending_as": {
            "attempted": "non_contact",
            "not_attempted": "unknown",
        },
        "rates": out_rates,
        "e": e,
    }


def _outcomes(counts: dict[str, int]) -> stats.Outcomes:
    """AAPOR outcome codes from disposition counts, pending split by whether it was tried."""
    return stats.Outcomes(
        I=counts.get("complete", 0),
        P=counts.get("partial", 0),
        R=counts.get("refusal", 0),
        NC=counts.get("non_contact", 0) + counts.get("pending_attempted", 0),
        O=counts.get("other", 0),
        U=counts.get("unknown", 0) + counts.get("pending_fresh", 0),
        NE=counts.get("not_eligible", 0),
    )


def _chat_reach(data: CampaignData, ledger: Ledger) -> dict[str, Any]:
    """Anonymous chat visitors have no contact list, so there is no AAPOR denominator: the
    report counts sessions started and completed instead of response rates."""
    everyone = data.reach.get(None, ChannelReach(0, 0, 0, 0))
    values = {"started": everyone.started, "completed": everyone.completed}
    values["not_completed"] = values["started"] - values["completed"]
    cells = {c: ledger.cell(("sessions", c), v, total=c == "started") for c, v in values.items()}
    ledger.line([("sessions", "completed"), ("sessions", "not_completed")], ("sessions", "started"))
    return {"kind": "sessions", "sessions": cells}


def _sample(config: Config, data: CampaignData, ledger: Ledger) -> dict[str, Any] | None:
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
        "sampled": sum(c.n for c in data.contacts),
        "weighted": weighted,
        "method": "post-stratification" if weighted else None,
        "strata": [],
    }
    if not audience.stratify:
        return out
    strata: dict[str, list[ContactCell]] = {}
    for c in data.contacts:
        strata.setdefault(c.stratum or "", []).append(c)
    respondents = {h: sum(c.n for c in cs if c.answered) for h, cs in strata.items()}
    weights = stats.stratum_weights(data.pool, respondents)
    keys = {h: ("stratum", h) for h in sorted(set(data.pool) | set(strata))}
    names = (*stats.DISPOSITIONS, "pending")
    for h, key in keys.items():
        cs = strata.get(h, [])
        row: dict[str, Any] = {
            "stratum": h,
            "values": dict(zip(audience.stratify, h.split("|"), strict=False)),
            "pool": data.pool.get(h, 0),
            "sampled": sum(c.n for c in cs),
            "respondents": ledger.cell(key, respondents.get(h, 0)),
            "rr1": None,
            "rr1_range": None,
            "weight": weights.get(h),
        }
        ledger.derive(row, ("weight",), (key, RESPONDENTS), mark=False)
        _stratum_rr1(row, cs, names, ledger)
        out["strata"].append(row)
    # Each stratum's dispositions add up to the report's: one protection for both.
    for d in names:
        ledger.line([("stratum", h, d) for h in keys], ("disposition", d))
    out["respondents"] = {}
    ledger.count(RESPONDENTS, sum(respondents.values()), out["respondents"], total=True)
    ledger.line(keys.values(), RESPONDENTS)
    return out


def _stratum_rr1(row: dict[str, Any], cs: list[ContactCell], names, ledger: Ledger) -> None:
    """A stratum's RR1 is a rate of its own dispositions (not shown, but a reader who knows
    the rate and the stratum's size can solve for them): they are counts of the ledger, in a
    line with the stratum's size and with the report's dispositions, and the RR1 is exact only
    when none of them is hidden; else it is given as the range the published counts allow."""
    h = row["stratum"]
    counts = dict.fromkeys(names, 0)
    for c in cs:
        counts[c.disposition if c.disposition in counts else "other"] += c.n
    keys = {d: ("stratum", h, d) for d in names}
    for d, n in counts.items():
        ledger.count(keys[d], n)
    size = ("stratum", h, "sampled")
    ledger.count(size, row["sampled"], total=True)
    ledger.line(keys.values(), size)
    pending_attempted = sum(c.n for c in cs if c.disposition == "pending" and c.attempted)
    parts = {d: (keys[d], n) for d, n in counts.items() if d != "pending"}
    parts["pending_attempted"] = (keys["pending"], pending_attempted)
    parts["pending_fresh"] = (keys["pending"], counts["pending"] - pending_attempted)
    rr1: dict[str, Any] = {"value": stats.rates(_outcomes(counts_of(parts)))["RR1"]}
    ledger.rate(rr1, lambda c: stats.rates(_outcomes(c))["RR1"], parts, size)
    # A stratum whose respondents are hidden shows no RR1 (its completes are among them).
    ledger.derive(rr1, ("value",), (("stratum", h), RESPONDENTS), mark=False)

    def publish() -> None:
        row["rr1"] = rr1["value"]
        row["rr1_range"] = rr1.get("range") if rr1["value"] is None else None

    ledger.then(publish)


def counts_of(parts: dict[str, tuple[Any, int]]) -> dict[str, int]:
    return {name: v for name, (_, v) in parts.items()}


def _input_kinds(answers: list[AnswerRow], channels: Iterable[str], ledger: Ledger) -> dict:
    """How answers were given, per channel, and how many spoken answers were confirmed."""
    # One pass over the answers: (kind, channel, confirmed) -> answers.
    tally: Counter[tuple[str, str, bool]] = Counter()
    for a in answers:
        if a.status != "unanswered" and a.input_kind in INPUT_KINDS:
            tally[(a.input_kind, a.channel, a.confirmed)] += a.n
    channels = list(channels)

    def key(kind: str, channel: str) -> tuple[str, str, str]:
        return ("input", kind, channel)

    rows = []
    for kind in INPUT_KINDS:
        counts = {ch: tally[(kind, ch, True)] + tally[(kind, ch, False)] for ch in channels}
        rows.append(
            {
                "kind": kind,
                "total": ledger.cell(key(kind, TOTAL), sum(counts.values()), total=True),
                "by_channel": {ch: ledger.cell(key(kind, ch), counts[ch]) for ch in channels},
            }
        )
        ledger.line([key(kind, ch) for ch in channels], key(kind, TOTAL))
    for ch in channels:
        per_channel = sum(tally[(kind, ch, c)] for kind in INPUT_KINDS for c in (True, False))
        ledger.count(key(TOTAL, ch), per_channel, total=True)
        ledger.line([key(kind, ch) for kind in INPUT_KINDS], key(TOTAL, ch))
    total = ledger.cell(key(TOTAL, TOTAL), sum(tally.values()), total=True)
    ledger.line([key(kind, TOTAL) for kind in INPUT_KINDS], key(TOTAL, TOTAL))
    ledger.line([key(TOTAL, ch) for ch in channels], key(TOTAL, TOTAL))
    speech = sum(n for (kind, _, _), n in tally.items() if kind == "speech")
    confirmed = sum(n for (kind, _, c), n in tally.items() if kind == "speech" and c)
    s_confirmed = ledger.cell(("speech", "confirmed"), confirmed)
    s_not = ledger.cell(("speech", "not_confirmed"), speech - confirmed)
    ledger.line([("speech", "confirmed"), ("speech", "not_confirmed")], key("speech", TOTAL))
    return {
        "by_kind": rows,
        "total": total,
        "speech_confirmed": s_confirmed,
        "speech_not_confirmed": s_not,
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
        if q.get("nps") is not None:
            q["compare"] = {"nps": _nps_change(q["nps"], o.get("nps") or {})}
        mean, other_mean = q.get("mean"), o.get("mean")
        q["compare"] = (q.get("compare") or {}) | {
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


def _nps_change(this: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """The other run's NPS, the change in points and its 95 % interval (square-and-add of
    the two intervals, as for shares); clear when the interval excludes zero."""
    out: dict[str, Any] = {
        "other": other.get("value"),
        "other_ci": other.get("ci"),
        "change": None,
        "change_ci": None,
        "clear": None,
    }
    a, b = this.get("value"), other.get("value")
    if a is None or b is None:
        return out
    out["change"] = a - b
    if this.get("ci") and other.get("ci"):
        (la, ua), (lb, ub) = this["ci"], other["ci"]
        low = a - b - math.sqrt((a - la) ** 2 + (ub - b) ** 2)
        high = a - b + math.sqrt((ua - a) ** 2 + (b - lb) ** 2)
        out["change_ci"] = [low, high]
        out["clear"] = low > 0 or high < 0
    return out
