"""Who a campaign reaches: its configured group (or a sample of it) put on the queue when
the campaign starts. Event-triggered campaigns enrol one resident at a time instead
(``triggers``)."""

from __future__ import annotations

import json

from kanavat.config import Config
from kanavat.outreach import queue, sampling
from kanavat.store import Store


def enrol(store: Store, config: Config, campaign_id: str, due_at: str | None = None) -> int:
    """Put the campaign's audience on it, due now; returns how many contacts were added.

    The whole group, or with ``sample`` set a stratified sample drawn once and recorded
    (``kanavat.outreach.sampling``). With ``stratify`` each contact's stratum is stored, for the
    report's weights. Event-triggered campaigns enrol contacts one event at a time
    (``kanavat.outreach.triggers``), never a whole group. Opted-out numbers are never enrolled.
    Idempotent: contacts already on the campaign keep their place and state.
    """
    campaign = config.campaign(campaign_id)
    audience = campaign.audience
    if audience is None or campaign.trigger == "event":
        return 0
    due = due_at or store.now()
    if audience.sample is not None:
        return sampling.enrol_sample(store, config, campaign_id, due)
    added = 0
    with store.transaction():
        rows = store.query(
            "SELECT c.id, c.attributes FROM contacts c JOIN contact_groups g "
            "ON g.contact_id = c.id WHERE g.group_name = ? AND c.phone IS NOT NULL "
            "AND c.phone NOT IN (SELECT phone FROM opt_outs) ORDER BY c.id",
            [audience.group],
        )
        for row in rows:
            stratum = (
                sampling.stratum_of(json.loads(row["attributes"] or "{}"), audience.stratify)
                if audience.stratify
                else None
            )
            added += queue.enrol(store, campaign_id, row["id"], due_at=due, stratum=stratum)
    return added
