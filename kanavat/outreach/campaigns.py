"""Campaign rows in the store, kept in step with the configuration, and their lifecycle."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from kanavat.config import Config
from kanavat.store import Store

Status = Literal["scheduled", "running", "paused", "finished"]


def sync(store: Store, config: Config) -> None:
    """Make sure every configured campaign has its row; officials' status changes are kept."""
    now = store.now()
    with store.transaction():
        for cid, campaign in config.campaigns.items():
            store.execute(
                "INSERT INTO campaigns(id, questionnaire, council, status, updated_at) "
                "VALUES (?, ?, ?, 'scheduled', ?) ON CONFLICT(id) DO UPDATE SET "
                "questionnaire = excluded.questionnaire, council = excluded.council",
                [cid, campaign.questionnaire, campaign.council, now],
            )


def status(store: Store, campaign_id: str) -> Status | None:
    row = store.one("SELECT status FROM campaigns WHERE id = ?", [campaign_id])
    return row["status"] if row else None


def is_open(
    config: Config, store: Store, campaign_id: str, now: datetime
) -> tuple[bool, str | None]:
    """Whether anyone with the link may answer now, and if not why: ``not_started``, ``ended``,
    ``paused`` or ``finished``. For channels without an audience (chat), where nobody is
    contacted and the window alone decides.

    ``running`` means an official started it (perhaps early), so it is open until ``end``;
    ``scheduled`` opens between ``start`` and ``end``. The configured times are naive, in the
    county's timezone; an aware ``now`` is converted to it, a naive one is taken as local.
    """
    campaign = config.campaign(campaign_id)
    zone = ZoneInfo(config.county.timezone)

    def local(moment: datetime) -> datetime:
        return moment.astimezone(zone).replace(tzinfo=None) if moment.tzinfo else moment

    now = local(now)
    current = status(store, campaign_id) or "scheduled"
    if current in ("paused", "finished"):
        return False, current
    if campaign.end is not None and now >= local(campaign.end):
        return False, "ended"
    if current == "scheduled" and campaign.start is not None and now < local(campaign.start):
        return False, "not_started"
    return True, None


def set_status(store: Store, campaign_id: str, new: Status) -> None:
    now = store.now()
    started = ", started_at = coalesce(started_at, ?)" if new == "running" else ""
    finished = ", finished_at = ?" if new == "finished" else ""
    params: list = [new, now]
    if started:
        params.append(now)
    if finished:
        params.append(now)
    store.execute(
        f"UPDATE campaigns SET status = ?, updated_at = ?{started}{finished} WHERE id = ?",
        [*params, campaign_id],
    )
    store.audit("campaign.status", campaign=campaign_id, status=new)
