"""A conversation's part of the council report (issue 20): its opinion groups, what each group
stands for, what unites them, and how channels and resident groups spread over them.

Every count goes through the report's one disclosure-control pass (``disclosure.Ledger``): group
sizes, each group's agree / disagree / pass counts on a statement (people: one latest vote each)
with their shares derived from them, and the spread tables with their row and column totals, so
a small group or a small cell is hidden as everywhere else in the report. Statements appear as
accepted by a moderator, never with an author. Reads the last opinion-group update (the job's),
recomputing it first if votes arrived since (a report is an official's request, not a turn).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from kanavat.config import Config
from kanavat.conversation import groups, statements, votes
from kanavat.report.disclosure import Ledger
from kanavat.store import Store

VOTE_KINDS = ("agree", "disagree", "pass")
NO_GROUP = "-"
SPREAD = ("channel", "language", "group")  # then each contact attribute the report breaks down by


def _latest_votes(store: Store, campaign_id: str, pool: set[int]) -> dict[tuple[str, int], str]:
    latest: dict[tuple[str, int], str] = {}
    for v in votes.all_votes(store, campaign_id):
        if v.statement_id in pool:
            latest[(v.respondent, v.statement_id)] = v.vote
    return latest


def _people(store: Store, campaign_id: str) -> dict[str, dict[str, str]]:
    """Respondent -> language, contact group and contact attributes (as the sessions know them)."""
    found: dict[str, dict[str, str]] = {}
    for row in store.query(
        "SELECT s.respondent, s.language, c.attributes, "
        "(SELECT min(g.group_name) FROM contact_groups g WHERE g.contact_id = s.contact_id) AS grp "
        "FROM sessions s LEFT JOIN contacts c ON c.id = s.contact_id WHERE s.campaign_id = ?",
        [campaign_id],
    ):
        attributes = json.loads(row["attributes"]) if row["attributes"] else {}
        found[row["respondent"]] = {
            **{k: str(v) for k, v in attributes.items()},
            "language": row["language"],
            "group": row["grp"] or "",
        }
    return found


def section(
    store: Store,
    config: Config,
    campaign_id: str,
    language: str,
    breakdowns: list[str],
    ledger: Ledger,
) -> dict[str, Any] | None:
    campaign = config.campaign(campaign_id)
    if campaign.conversation is None:
        return None
    conversation = config.conversations[campaign.conversation]
    statements.sync_seeds(store, campaign_id, conversation.seeds())
    snapshot = groups.update_if_stale(store, campaign_id)
    pool = {s.id: s for s in statements.listing(store, campaign_id, "accepted")}
    latest = _latest_votes(store, campaign_id, set(pool))
    voters = sorted({r for r, _ in latest})
    members = {r: snapshot.members[r] for r in voters if r in snapshot.members}
    labels = sorted(set(members.values()))
    base = ("conversation", campaign_id)
    out: dict[str, Any] = {
        "title": conversation.title.get(language) or next(iter(conversation.title.values())),
        "statements": len(pool),
        "votes": len(latest),
        "participants": ledger.cell((*base, "participants"), len(voters), total=True),
        "grouped": ledger.cell((*base, "grouped"), len(members)),
        "groups": [],
    }
    sizes = Counter(members.values())
    for label in labels:
        out["groups"].append(
            {"label": label, "size": ledger.cell((*base, "group", label), sizes[label])}
        )
    if labels:
        ledger.line([(*base, "group", g) for g in labels], (*base, "grouped"))

    def shares(group: str, statement: int) -> dict[str, Any]:
        """A group's (or everyone's, ``*``) agree / disagree / pass on a statement."""
        who = [r for r in voters if group == "*" or members.get(r) == group]
        counted = Counter(latest[(r, statement)] for r in who if (r, statement) in latest)
        seen_key = (*base, "seen", group, statement)
        cell: dict[str, Any] = {"seen": ledger.cell(seen_key, sum(counted.values()), total=True)}
        keys = []
        for kind in VOTE_KINDS:
            key = (*base, "vote", group, statement, kind)
            keys.append(key)
            seen = sum(counted.values())
            cell[kind] = ledger.cell(key, counted[kind])
            cell[kind]["share"] = counted[kind] / seen if seen else None
            ledger.derive(cell[kind], ["share"], [key, seen_key])
        ledger.line(keys, seen_key)
        return cell

    def statement_text(statement: int) -> str:
        return pool[statement].text(language) if statement in pool else ""

    out["representative"] = [
        {
            "group": label,
            "statements": [
                {
                    "statement": item["statement"],
                    "text": statement_text(item["statement"]),
                    "direction": item["direction"],
                    "significant": item["significant"],
                    "votes": shares(label, item["statement"]),
                }
                for item in snapshot.representative.get(label, [])
                if item["statement"] in pool
            ],
        }
        for label in labels
    ]
    out["consensus"] = [
        {
            "statement": item["statement"],
            "text": statement_text(item["statement"]),
            "direction": item["direction"],
            "groups": {g: shares(g, item["statement"]) for g in (labels or ["*"])},
        }
        for item in snapshot.consensus
        if item["statement"] in pool
    ]
    out["spread"] = _spread(store, campaign_id, members, labels, breakdowns, ledger, base)
    return out


def _spread(
    store: Store,
    campaign_id: str,
    members: dict[str, str],
    labels: list[str],
    breakdowns: list[str],
    ledger: Ledger,
    base: tuple[str, ...],
) -> list[dict[str, Any]]:
    """Each channel's and resident group's people over the opinion groups (grouped people only)."""
    if not labels:
        return []
    channel_of = votes.latest_channel(store, campaign_id)
    people = _people(store, campaign_id)
    attributes = [*SPREAD, *(b for b in breakdowns if b not in SPREAD and b != "unit")]
    tables = []
    for attribute in attributes:

        def value_of(respondent: str, attribute: str = attribute) -> str:
            if attribute == "channel":
                return channel_of.get(respondent, "")
            return people.get(respondent, {}).get(attribute, "")

        values = sorted({value_of(r) for r in members})
        if values == [""] and attribute not in ("channel", "language"):
            continue  # nobody has this attribute
        rows = []
        for value in values:
            row_keys = []
            row: dict[str, Any] = {"value": value or None, "groups": {}}
            for label in labels:
                key = (*base, "spread", attribute, value, label)
                count = sum(1 for r, g in members.items() if g == label and value_of(r) == value)
                row["groups"][label] = ledger.cell(key, count)
                row_keys.append(key)
            total_key = (*base, "spread", attribute, value, "*")
            row["total"] = ledger.cell(
                total_key, sum(c["count"] for c in row["groups"].values()), total=True
            )
            ledger.line(row_keys, total_key)
            rows.append(row)
        for label in labels:
            ledger.line(
                [(*base, "spread", attribute, v, label) for v in values], (*base, "group", label)
            )
        tables.append({"by": attribute, "rows": rows})
    return tables
