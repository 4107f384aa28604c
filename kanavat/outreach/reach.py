"""A campaign's reach from the store: how many were contacted, reached and answered, by channel.

Shared by ``kanavat simulate`` (its closing summary) and anything else that reports progress
(``kanavat campaign status``). Each contact is counted once, under the channel of its latest
attempt (or the channel it waits for, if never attempted), so a campaign's channel rows add
up to its contacts. Chat campaigns have visitors instead of contacts: one per session.

Columns: ``attempted`` (at least one call or text), ``reached`` (a person took part: answered
something, or ended the conversation themselves), then the outcome: ``completed``,
``partial``, ``refused`` (hung up, stopped or opted out without answering), ``unreachable``
(never reached after every retry and channel, or not eligible) and ``pending`` (not final:
waiting for a retry, a reply, or the end of a call).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields

from kanavat.config import Config
from kanavat.store import Store

OUTCOME = {
    "complete": "completed",
    "partial": "partial",
    "refusal": "refused",
    "non_contact": "unreachable",
    "not_eligible": "unreachable",
    "unknown": "unreachable",
    "other": "unreachable",
    "pending": "pending",
}


@dataclass
class Reach:
    campaign_id: str
    channel: str
    contacts: int = 0
    attempted: int = 0
    reached: int = 0
    completed: int = 0
    partial: int = 0
    refused: int = 0
    unreachable: int = 0
    pending: int = 0

    def to_json(self) -> dict[str, object]:
        return asdict(self)


TOOK_PART = (
    "(s.status IN ('completed', 'stopped') "
    "OR EXISTS (SELECT 1 FROM answers x WHERE x.session_id = s.id))"
)
"""The one definition of *reached*, as SQL over a session ``s``: the person took part in the
conversation on that channel (answered something, finished, or ended it themselves). A text
or call that was never answered does not reach anyone. ``campaign status``, ``simulate`` and
the council report all count with it."""


COUNTS = tuple(f.name for f in fields(Reach) if f.type in (int, "int"))


def reach(store: Store, config: Config, campaign_ids: Iterable[str] | None = None) -> list[Reach]:
    """One row per campaign and channel, in the configured channel order."""
    out: list[Reach] = []
    for cid in campaign_ids if campaign_ids is not None else config.campaigns:
        campaign = config.campaign(cid)
        rows = {ch: Reach(cid, ch) for ch in campaign.channels}
        if campaign.audience is None and campaign.trigger != "event":
            _visitors(store, cid, rows)
        else:
            _contacts(store, cid, campaign.channels, rows)
        out.extend(rows.values())
    return out


def total(rows: Iterable[Reach], campaign_id: str) -> Reach:
    """The campaign's rows added up (channel ``*``)."""
    sum_row = Reach(campaign_id, "*")
    for row in rows:
        if row.campaign_id == campaign_id:
            for name in COUNTS:
                setattr(sum_row, name, getattr(sum_row, name) + getattr(row, name))
    return sum_row


def _contacts(store: Store, cid: str, channels: list[str], rows: dict[str, Reach]) -> None:
    for r in store.query(
        "SELECT cc.disposition, cc.channel_index, "
        "(SELECT a.channel FROM attempts a WHERE a.campaign_id = cc.campaign_id "
        " AND a.contact_id = cc.contact_id ORDER BY a.id DESC LIMIT 1) AS last_channel, "
        "EXISTS (SELECT 1 FROM attempts a WHERE a.campaign_id = cc.campaign_id "
        " AND a.contact_id = cc.contact_id) AS attempted, "
        "EXISTS (SELECT 1 FROM sessions s WHERE s.campaign_id = cc.campaign_id "
        f" AND s.contact_id = cc.contact_id AND {TOOK_PART}) AS reached "
        "FROM campaign_contacts cc WHERE cc.campaign_id = ?",
        [cid],
    ):
        channel = r["last_channel"] or channels[min(r["channel_index"], len(channels) - 1)]
        row = rows.setdefault(channel, Reach(cid, channel))
        row.contacts += 1
        row.attempted += int(bool(r["attempted"]))
        row.reached += int(bool(r["reached"]))
        outcome = OUTCOME.get(r["disposition"], "unreachable")
        setattr(row, outcome, getattr(row, outcome) + 1)


def _visitors(store: Store, cid: str, rows: dict[str, Reach]) -> None:
    """Link campaigns: every session a visitor started is one contact, attempted by them."""
    for r in store.query(
        "SELECT s.channel, s.status, "
        "(SELECT count(*) FROM answers x WHERE x.session_id = s.id) AS answered, "
        f"{TOOK_PART} AS took_part "
        "FROM sessions s WHERE s.campaign_id = ? AND s.status != 'restarted'",
        [cid],
    ):
        row = rows.setdefault(r["channel"], Reach(cid, r["channel"]))
        row.contacts += 1
        row.attempted += 1
        row.reached += int(bool(r["took_part"]))
        if r["status"] == "completed":
            row.completed += 1
        elif r["answered"] > 0:
            row.partial += 1
        elif r["status"] == "stopped":
            row.refused += 1
        else:
            row.pending += 1
