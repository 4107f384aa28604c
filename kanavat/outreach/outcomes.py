"""What happens to a contact after an attempt: retry later, fall back to the next channel, or
a final AAPOR disposition. The store holds the result, so the dispatcher just picks due rows.

The dispositions are the queue's (``kanavat.outreach.queue.Disposition``, AAPOR's codes in
the store's words); this module decides which one a contact earns, the queue writes it.

A retry is scheduled only for a contact that is waiting for the outcome of an attempt
(``next_due_at IS NULL``), so the same outcome reported twice (a status callback and a
hang-up, or a reconcile after a restart) schedules one retry, not two.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from kanavat import durations
from kanavat.attempts import AttemptStatus
from kanavat.config import Config
from kanavat.outreach import campaigns, queue, sampling, windows
from kanavat.store import Store, iso

log = logging.getLogger("kanavat.outreach.outcomes")

SHIFT = timedelta(hours=3)  # a later retry moves this far off an hour already tried
NOT_TRIED = (AttemptStatus.ABANDONED,)  # never reached the provider (see scheduler.reconcile)
FINAL_HOOKED = ("not_eligible", "refusal", "non_contact")


def channel_of(config: Config, campaign_id: str, channel_index: int) -> str:
    channels = config.campaigns[campaign_id].channels
    return channels[min(channel_index, len(channels) - 1)]


def retry_or_give_up(
    store: Store, config: Config, campaign_id: str, contact_id: int, reason: str
) -> str:
    """After a failed voice attempt (busy, no answer, failed, a machine, a dropped call):
    schedule a retry, the next channel, or a final disposition. Returns which."""
    campaign = config.campaigns.get(campaign_id)
    row = queue.entry(store, campaign_id, contact_id)
    if campaign is None or row is None or row["disposition"] != "pending":
        return "ignored"
    if row["next_due_at"] is not None:
        return "ignored"  # already scheduled by an earlier report of the same attempt
    channel = channel_of(config, campaign_id, row["channel_index"])
    tried = _tried(store, campaign_id, contact_id, channel)
    retries = durations.parse(campaign.retries) if channel == "voice" else []
    now = store.clock()
    if tried == 0:  # nothing reached the provider on this channel yet: the step is still due
        return _schedule(store, campaign_id, contact_id, row["channel_index"], now, "due", reason)
    if tried <= len(retries):
        due = retry_time(store, config, campaign_id, contact_id, channel, now + retries[tried - 1])
        return _schedule(store, campaign_id, contact_id, row["channel_index"], due, "retry", reason)
    return next_channel_or_final(store, config, campaign_id, contact_id, reason)


def next_channel_or_final(
    store: Store, config: Config, campaign_id: str, contact_id: int, reason: str
) -> str:
    """The current channel is used up: the next one after ``fallback_after``, or final."""
    campaign = config.campaigns[campaign_id]
    row = queue.entry(store, campaign_id, contact_id)
    assert row is not None
    index = row["channel_index"] + 1
    while index < len(campaign.channels) and campaign.channels[index] == "chat":
        index += 1  # chat has nobody to contact: residents come by link
    if index < len(campaign.channels):
        channel = campaign.channels[index]
        due = store.clock() + durations.parse_one(campaign.fallback_after)
        due = windows.next_opening(config, campaign_id, channel, due)
        return _schedule(store, campaign_id, contact_id, index, due, "fallback", reason)
    return exhaust(store, config, campaign_id, contact_id, reason)


def exhaust(
    store: Store,
    config: Config,
    campaign_id: str,
    contact_id: int,
    reason: str,
    *,
    replace: bool = True,
) -> str:
    """Every channel tried: a reached resident with answers is a partial, one reached without
    answers a break-off (refusal); otherwise a non-contact (replaced from the sample's
    reserve unless ``replace`` is False: nobody is drawn for a campaign that has ended)."""
    session = store.one(
        "SELECT s.id, s.channel, (SELECT count(*) FROM answers a WHERE a.session_id = s.id) AS n "
        "FROM sessions s WHERE s.campaign_id = ? AND s.contact_id = ? AND s.status = 'active' "
        "ORDER BY s.id DESC LIMIT 1",
        [campaign_id, contact_id],
    )
    if session is not None and (session["n"] or session["channel"] == "voice"):
        # Heard on the phone, or some answers given: a break-off, kept with what was said.
        from kanavat.conversations import Conversations

        Conversations(config, store).stop(session["id"])
        disposition = "partial" if session["n"] else "refusal"
        log.info("outcome.breakoff campaign=%s reason=%s", campaign_id, reason)
        return disposition
    if replace:
        finish(store, config, campaign_id, contact_id, "non_contact")
    else:
        queue.finalise(store, campaign_id, contact_id, "non_contact")
    log.info("outcome.exhausted campaign=%s reason=%s", campaign_id, reason)
    return "non_contact"


def retry_time(
    store: Store, config: Config, campaign_id: str, contact_id: int, channel: str, at: datetime
) -> datetime:
    """The first opening at or after ``at`` whose hour of day was not tried yet (people are
    home at different hours: a retry a day later at the same hour would likely miss again)."""
    zone = ZoneInfo(config.county.timezone)
    tried_hours = {
        datetime.fromisoformat(r["created_at"]).astimezone(zone).hour
        for r in store.query(
            "SELECT created_at FROM attempts WHERE campaign_id = ? AND contact_id = ? "
            "AND channel = ?",
            [campaign_id, contact_id, channel],
        )
    }
    first = windows.next_opening(config, campaign_id, channel, at)
    candidate = first
    for _ in range(3):
        if candidate.astimezone(zone).hour not in tried_hours:
            return candidate
        candidate = windows.next_opening(config, campaign_id, channel, candidate + SHIFT)
    return first


def finish(
    store: Store, config: Config, campaign_id: str, contact_id: int, disposition: str
) -> None:
    """Set a final disposition, and tell sampling so it may draw a replacement."""
    queue.finalise(store, campaign_id, contact_id, disposition)
    if disposition in FINAL_HOOKED:
        on_final(store, config, campaign_id, contact_id, disposition)


def on_final(
    store: Store, config: Config, campaign_id: str, contact_id: int, disposition: str
) -> None:
    """Sampling's replacement for an unreachable contact; its failure is logged and never
    undoes the disposition."""
    try:
        sampling.on_final(store, config, campaign_id, contact_id, disposition)
    except Exception:
        log.exception("outcome.on_final_failed campaign=%s", campaign_id)


def stratum_closed(store: Store, config: Config, campaign_id: str, stratum: str | None) -> bool:
    """Whether the contact's sampled stratum has met its quota."""
    return stratum is not None and sampling.stratum_closed(store, campaign_id, stratum)


def sweep_samples(store: Store, config: Config) -> None:
    """``sampling.sweep`` for every live sampled campaign: the safety net that replaces
    unreachable contacts and closes strata whose quota a completion met."""
    for row in store.query("SELECT id FROM campaigns WHERE status IN ('running', 'paused')"):
        campaign = config.campaigns.get(row["id"])
        if campaign is None or campaign.audience is None or campaign.audience.sample is None:
            continue
        try:
            sampling.sweep(store, config, row["id"])
        except Exception:
            log.exception("outcome.sample_sweep_failed campaign=%s", row["id"])


def finish_campaign(store: Store, config: Config, campaign_id: str) -> int:
    """The campaign has ended: it is marked finished and every resident still pending gets
    a final disposition, in one transaction (a crash leaves both done or neither). Returns
    how many residents were settled."""
    with store.transaction():
        campaigns.set_status(store, campaign_id, "finished")
        return settle(store, config, campaign_id)


def settle(store: Store, config: Config, campaign_id: str) -> int:
    """Final dispositions for a finished campaign's pending residents: the attempted ones
    as if their channels were used up, the others ``unknown``. Nobody is replaced."""
    with store.transaction():
        rows = queue.pending(store, campaign_id)
        for r in rows:
            if r["attempts"] and campaign_id in config.campaigns:
                exhaust(
                    store, config, campaign_id, r["contact_id"], "campaign_ended", replace=False
                )
            else:
                queue.finalise(store, campaign_id, r["contact_id"], "unknown")
    return len(rows)


def settle_finished(store: Store, config: Config) -> int:
    """At start-up: settle the pending residents of campaigns already finished (a finish
    made before that was one transaction, or residents enrolled after it)."""
    settled = 0
    for campaign_id in queue.unsettled_finished(store):
        n = settle(store, config, campaign_id)
        log.info("campaign.settled campaign=%s settled=%s", campaign_id, n)
        settled += n
    return settled


def _schedule(
    store: Store,
    campaign_id: str,
    contact_id: int,
    index: int,
    due: datetime,
    outcome: str,
    reason: str,
) -> str:
    queue.schedule(store, campaign_id, contact_id, iso(due), index)
    log.info("outcome.%s campaign=%s reason=%s", outcome, campaign_id, reason)
    return outcome


def _tried(store: Store, campaign_id: str, contact_id: int, channel: str) -> int:
    marks = ",".join("?" * len(NOT_TRIED))
    row = store.one(
        "SELECT count(*) AS n FROM attempts WHERE campaign_id = ? AND contact_id = ? "
        f"AND channel = ? AND status NOT IN ({marks})",
        [campaign_id, contact_id, channel, *NOT_TRIED],
    )
    return int(row["n"]) if row else 0
