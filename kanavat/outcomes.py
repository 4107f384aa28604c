"""What happens to a contact after an attempt: retry later, fall back to the next channel, or
a final AAPOR disposition. The store holds the result, so the dispatcher just picks due rows."""

from __future__ import annotations

import logging

from kanavat import durations
from kanavat.config import Config
from kanavat.store import Store, iso

log = logging.getLogger("kanavat.outcomes")


def retry_or_give_up(
    store: Store, config: Config, campaign_id: str, contact_id: int, reason: str
) -> str:
    """After a failed contact attempt (busy, no answer, a machine): schedule the next step."""
    campaign = config.campaigns.get(campaign_id)
    row = store.one(
        "SELECT attempts, channel_index, disposition FROM campaign_contacts "
        "WHERE campaign_id = ? AND contact_id = ?",
        [campaign_id, contact_id],
    )
    if campaign is None or row is None or row["disposition"] not in ("pending", "partial"):
        return "ignored"
    retries = durations.parse(campaign.retries)
    tried_on_channel = store.one(
        "SELECT count(*) AS n FROM attempts WHERE campaign_id = ? AND contact_id = ? AND channel = ?",
        [
            campaign_id,
            contact_id,
            campaign.channels[min(row["channel_index"], len(campaign.channels) - 1)],
        ],
    )["n"]  # type: ignore[index]
    now = store.clock()
    if tried_on_channel <= len(retries):
        due, outcome = now + retries[tried_on_channel - 1], "retry"
        index = row["channel_index"]
    elif row["channel_index"] + 1 < len(campaign.channels):
        due, outcome = now + durations.parse_one(campaign.fallback_after), "fallback"
        index = row["channel_index"] + 1
    else:
        store.execute(
            "UPDATE campaign_contacts SET disposition = 'non_contact', next_due_at = NULL, "
            "lease_until = NULL, updated_at = ? WHERE campaign_id = ? AND contact_id = ?",
            [iso(now), campaign_id, contact_id],
        )
        log.info("outcome.exhausted campaign=%s reason=%s", campaign_id, reason)
        return "non_contact"
    store.execute(
        "UPDATE campaign_contacts SET next_due_at = ?, channel_index = ?, lease_until = NULL, "
        "updated_at = ? WHERE campaign_id = ? AND contact_id = ?",
        [iso(due), index, iso(now), campaign_id, contact_id],
    )
    log.info("outcome.%s campaign=%s reason=%s", outcome, campaign_id, reason)
    return outcome
