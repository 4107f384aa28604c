"""What happens to a contact after an attempt: retry later, fall back to the next channel, or
a final AAPOR disposition. The store holds the result, so the dispatcher just picks due rows.

Dispositions (AAPOR Standard Definitions, in the store's words): ``complete``, ``partial``
(some answers, then a break-off), ``refusal`` (an opt-out or a break-off before any answer),
``non_contact`` (attempts exhausted without reaching the resident), ``unknown`` (never
attempted before the campaign ended), ``not_eligible`` (an invalid number, a quota already
filled, someone already reached by the same questionnaire), ``other``.

A retry is scheduled only for a contact that is waiting for the outcome of an attempt
(``next_due_at IS NULL``), so the same outcome reported twice (a status callback and a
hang-up, or a reconcile after a restart) schedules one retry, not two.
"""

from __future__ import annotations

import importlib
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from kanavat import durations, windows
from kanavat.config import Config
from kanavat.store import Store, iso

log = logging.getLogger("kanavat.outcomes")

SHIFT = timedelta(hours=3)  # a later retry moves this far off an hour already tried
NOT_COUNTED = ("abandoned",)  # attempts that never reached the provider (see dispatch.reconcile)
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
    row = _row(store, campaign_id, contact_id)
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
    row = _row(store, campaign_id, contact_id)
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


def exhaust(store: Store, config: Config, campaign_id: str, contact_id: int, reason: str) -> str:
    """Every channel tried: a reached resident with answers is a partial, one reached without
    answers a break-off (refusal); otherwise a non-contact."""
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
    finish(store, config, campaign_id, contact_id, "non_contact")
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
    """Set a final disposition, and tell sampling (if present) so it may draw a replacement."""
    store.execute(
        "UPDATE campaign_contacts SET disposition = ?, next_due_at = NULL, lease_until = NULL, "
        "updated_at = ? WHERE campaign_id = ? AND contact_id = ?",
        [disposition, store.now(), campaign_id, contact_id],
    )
    if disposition in FINAL_HOOKED:
        on_final(store, config, campaign_id, contact_id, disposition)


def on_final(
    store: Store, config: Config, campaign_id: str, contact_id: int, disposition: str
) -> None:
    """``kanavat.sampling.on_final`` if that module exists (sample replacement); its failure
    is logged and never undoes the disposition."""
    hook = getattr(_sampling(), "on_final", None)
    if hook is None:
        return
    try:
        hook(store, config, campaign_id, contact_id, disposition)
    except Exception:
        log.exception("outcome.on_final_failed campaign=%s", campaign_id)


def stratum_closed(store: Store, config: Config, campaign_id: str, stratum: str | None) -> bool:
    """Whether sampling says this contact's stratum has met its quota (no such module: no)."""
    check = getattr(_sampling(), "stratum_closed", None)
    if check is None or stratum is None:
        return False
    try:
        return bool(check(store, campaign_id, stratum))
    except Exception:
        log.exception("outcome.stratum_check_failed campaign=%s", campaign_id)
        return False


def sweep_samples(store: Store, config: Config) -> None:
    """``kanavat.sampling.sweep`` for every live sampled campaign: the safety net that
    replaces unreachable contacts and closes strata whose quota a completion met (the
    completion itself is recorded by the conversation, which does not call the hook)."""
    sweep = getattr(_sampling(), "sweep", None)
    if sweep is None:
        return
    for row in store.query("SELECT id FROM campaigns WHERE status IN ('running', 'paused')"):
        campaign = config.campaigns.get(row["id"])
        if campaign is None or campaign.audience is None or campaign.audience.sample is None:
            continue
        try:
            sweep(store, config, row["id"])
        except Exception:
            log.exception("outcome.sample_sweep_failed campaign=%s", row["id"])


def _sampling():  # type: ignore[no-untyped-def]
    try:
        return importlib.import_module("kanavat.sampling")
    except ModuleNotFoundError:
        return None


def finish_campaign(store: Store, config: Config, campaign_id: str) -> int:
    """The campaign has ended: every contact still pending gets its final disposition.
    Returns how many were settled."""
    rows = store.query(
        "SELECT contact_id, attempts FROM campaign_contacts WHERE campaign_id = ? "
        "AND disposition = 'pending'",
        [campaign_id],
    )
    for r in rows:
        if r["attempts"]:
            exhaust(store, config, campaign_id, r["contact_id"], "campaign_ended")
        else:
            finish(store, config, campaign_id, r["contact_id"], "unknown")
    return len(rows)


def _schedule(
    store: Store,
    campaign_id: str,
    contact_id: int,
    index: int,
    due: datetime,
    outcome: str,
    reason: str,
) -> str:
    store.execute(
        "UPDATE campaign_contacts SET next_due_at = ?, channel_index = ?, lease_until = NULL, "
        "updated_at = ? WHERE campaign_id = ? AND contact_id = ?",
        [iso(due), index, store.now(), campaign_id, contact_id],
    )
    log.info("outcome.%s campaign=%s reason=%s", outcome, campaign_id, reason)
    return outcome


def _row(store: Store, campaign_id: str, contact_id: int) -> dict | None:
    return store.one(
        "SELECT attempts, channel_index, disposition, next_due_at, stratum FROM campaign_contacts "
        "WHERE campaign_id = ? AND contact_id = ?",
        [campaign_id, contact_id],
    )


def _tried(store: Store, campaign_id: str, contact_id: int, channel: str) -> int:
    marks = ",".join("?" * len(NOT_COUNTED))
    row = store.one(
        "SELECT count(*) AS n FROM attempts WHERE campaign_id = ? AND contact_id = ? "
        f"AND channel = ? AND status NOT IN ({marks})",
        [campaign_id, contact_id, channel, *NOT_COUNTED],
    )
    return int(row["n"]) if row else 0
