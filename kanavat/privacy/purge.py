"""Retention: phone numbers and raw inputs go a set number of days after a campaign ends.

``[privacy] retention_days`` after a campaign's end (the configured ``end`` or the moment an
official finished it, whichever came first), its contacts' phone numbers are deleted, unless
the contact is still on a campaign that has not reached its own retention date. Stored inbound
events older than the retention period lose their personal fields (``scrub.py``), as do the
events of residents' data requests and of their replies' delivery callbacks, which need not
wait. Raw call audio, if ``[privacy] store_recordings`` ever kept any, goes with the campaign.

Reports survive: answers stay, under their pseudonyms. Opt-outs stay: they are the record
that a number must not be contacted. Contacts on no campaign are the county's own list and are
left alone.

The scheduler runs :func:`purge` daily; ``kanavat purge`` runs it by hand.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from kanavat import contacts
from kanavat.config import Config
from kanavat.loop import recordings as suggestion_audio
from kanavat.loop import suggestions
from kanavat.privacy import scrub
from kanavat.store import Store, iso

log = logging.getLogger("kanavat.privacy.purge")
RECORDINGS = "recordings"  # <config folder>/recordings/<campaign>/..., only if ever turned on


@dataclass(frozen=True)
class PurgeReport:
    cutoff: str
    campaigns: tuple[str, ...]
    """Campaigns past their retention date."""
    phones: int
    events: int
    recordings: int
    suggestions: int = 0
    """Suggestions older than retention that lost the number or visitor to answer them by."""


def campaign_end(store: Store, config: Config, campaign_id: str) -> datetime | None:
    """When the campaign ended (UTC), or None if it has not: the configured end or the moment
    it was finished, whichever came first."""
    ends: list[datetime] = []
    campaign = config.campaigns.get(campaign_id)
    if campaign is not None and campaign.end is not None:
        end = campaign.end
        if end.tzinfo is None:
            end = end.replace(tzinfo=ZoneInfo(config.county.timezone))
        ends.append(end.astimezone(UTC))
    row = store.one("SELECT finished_at FROM campaigns WHERE id = ?", [campaign_id])
    if row and row["finished_at"]:
        ends.append(datetime.fromisoformat(row["finished_at"].replace("Z", "+00:00")))
    return min(ends) if ends else None


def recordings_dir(config: Config) -> Path:
    return config.resolve(RECORDINGS)


def purge(store: Store, config: Config, now: datetime) -> PurgeReport:
    """Delete what retention allows no longer to keep; safe to run at any time, any number of
    times. ``now`` is aware (the scheduler's clock)."""
    cutoff = now - timedelta(days=config.privacy.retention_days)
    known = {r["id"] for r in store.query("SELECT id FROM campaigns")} | set(config.campaigns)
    expired = sorted(
        cid for cid in known if (end := campaign_end(store, config, cid)) and end <= cutoff
    )
    scrub.secure(store)
    with store.transaction():
        phones = _expired_phones(store, expired)
        events = 0
        for contact_id, phone in phones:
            events += scrub.scrub_phone_events(store, phone)
            contacts.drop_number(store, contact_id)
        events += scrub.scrub_events(store, "received_at < ?", [iso(cutoff)])
        events += scrub.scrub_events(store, "outcome LIKE 'privacy.%'", [])
        events += scrub.scrub_events(
            store,
            "channel = 'sms' AND kind = 'status' AND EXISTS (SELECT 1 FROM outbound o "
            "WHERE o.purpose = 'privacy' AND o.sid IS NOT NULL "
            "AND events.external_id LIKE o.sid || ':%')",
            [],
        )
        recordings = _delete_recordings(config, expired)
        # A suggestion belongs to no campaign: its way back to the writer lasts retention_days.
        expired_suggestions = suggestions.expire(store, iso(cutoff))
        recordings += suggestion_audio.expire(config, store, iso(cutoff))
        store.audit(
            "privacy.purge",
            cutoff=iso(cutoff),
            campaigns=expired,
            phones=len(phones),
            events=events,
            recordings=recordings,
            suggestions=expired_suggestions,
        )
    scrub.flush(store)
    log.info(
        "privacy.purged campaigns=%s phones=%s events=%s recordings=%s",
        len(expired),
        len(phones),
        events,
        recordings,
    )
    return PurgeReport(
        iso(cutoff), tuple(expired), len(phones), events, recordings, expired_suggestions
    )


def _expired_phones(store: Store, expired: list[str]) -> list[tuple[int, str]]:
    """Contacts with a number whose every campaign is past retention."""
    if not expired:
        return []
    marks = ",".join("?" * len(expired))
    rows = store.query(
        "SELECT c.id, c.phone FROM contacts c WHERE c.phone IS NOT NULL "
        "AND EXISTS (SELECT 1 FROM campaign_contacts cc WHERE cc.contact_id = c.id) "
        "AND NOT EXISTS (SELECT 1 FROM campaign_contacts cc WHERE cc.contact_id = c.id "
        f"AND cc.campaign_id NOT IN ({marks}))",
        expired,
    )
    return [(r["id"], r["phone"]) for r in rows]


def _delete_recordings(config: Config, expired: list[str]) -> int:
    base = recordings_dir(config)
    count = 0
    for campaign_id in expired:
        folder = base / campaign_id
        if folder.is_dir() and folder.resolve().parent == base.resolve():
            count += sum(1 for p in folder.rglob("*") if p.is_file())
            shutil.rmtree(folder)
    return count
