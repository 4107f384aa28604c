"""Stratified random samples of a resident pool: the draw, replacements and quotas.

A county imports its resident pool as contacts (``kanavat contacts import``); a campaign with
``audience = { group = "asukaspooli", sample = 600, stratify = ["age_group", "municipality"],
seed = 2027 }`` contacts a sample whose strata are proportional to the pool, so councils hear
each age group and municipality in its share. The design lives in the store, not in memory:
who was drawn, in which stratum and at which place of the stratum's seeded order, who stood in
for whom, which strata are closed. The same seed over the same pool draws the same sample.

Each stratum gets its sample and behind it a reserve in the same random order. A drawn contact
who proves unreachable (an invalid number, an opt-out, attempts exhausted) is replaced by the
next reserve of the same stratum until the reserve is spent; refusals and break-offs are not
replaced (that would trade the reluctant for the willing). A stratum whose completes reach its
target is closed: its remaining pending contacts become ``quota_filled`` (AAPOR 4.80, not
eligible), which nothing dispatches or retries.

This module knows the store and the audience config; nothing of channels or providers.
"""

from __future__ import annotations

import json
import logging
import math
import random
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kanavat import locks, optouts
from kanavat.config import Audience, Config
from kanavat.outreach import queue
from kanavat.store import Store

log = logging.getLogger("kanavat.outreach.sampling")

STRATUM_SEPARATOR = "|"  # kanavat/report/data.py reads the same format
RESERVE_RATIO = 1.0
"""Reserve per stratum as a share of its allocation (capped by what the stratum has left)."""
UNREACHABLE = ("not_eligible", "non_contact")
"""Final dispositions that are replaced; a ``refusal`` is replaced only after an opt-out."""


class SampleError(ValueError):
    """A sample that cannot be drawn as configured; the message says what to change."""


@dataclass(frozen=True)
class StratumSummary:
    stratum: str
    pool: int
    allocation: int
    target: int
    reserve: int
    replacements: int
    skipped: int
    completes: int
    pending: int
    closed: bool

    @property
    def reserve_left(self) -> int:
        return self.reserve - self.replacements - self.skipped


@dataclass(frozen=True)
class SampleSummary:
    campaign_id: str
    group: str
    size: int
    seed: int
    stratify: list[str]
    pool: int
    drawn_at: str | None
    strata: list[StratumSummary]


def stratum_of(attributes: Mapping[str, Any], keys: list[str]) -> str:
    """The stratum label: the attribute values in ``stratify`` order, joined with ``|``."""
    return STRATUM_SEPARATOR.join(str(attributes.get(k, "")) for k in keys)


def allocate(pool: Mapping[str, int], size: int) -> dict[str, int]:
    """Proportional allocation by largest remainders (Hamilton's method).

    Each stratum gets the floor of its exact share ``size * N_h / N``; the seats left go to
    the largest remainders, ties to the larger stratum, then by label, so the result is
    exact, sums to ``size`` and never depends on dict order.
    """
    total = sum(pool.values())
    if size > total:
        raise SampleError(f"a sample of {size} is more than the pool of {total}")
    if total == 0:
        return {}
    shares = {h: (size * n // total, size * n % total) for h, n in pool.items()}
    out = {h: floor for h, (floor, _) in shares.items()}
    left = size - sum(out.values())
    by_remainder = sorted(pool, key=lambda h: (-shares[h][1], -pool[h], h))
    for h in by_remainder[:left]:
        out[h] += 1
    return out


def frame(store: Store, audience: Audience) -> dict[str, list[int]]:
    """Contacts of the audience group who can be contacted, by stratum, in id order."""
    strata: dict[str, list[int]] = {}
    for r in store.query(
        "SELECT c.id, c.attributes FROM contacts c JOIN contact_groups g ON g.contact_id = c.id "
        "WHERE g.group_name = ? AND c.phone IS NOT NULL "
        "AND c.phone NOT IN (SELECT phone FROM opt_outs) ORDER BY c.id",
        [audience.group],
    ):
        label = stratum_of(json.loads(r["attributes"] or "{}"), audience.stratify)
        strata.setdefault(label, []).append(r["id"])
    return strata


def seeded_order(members: list[int], seed: int, stratum: str) -> list[int]:
    """The stratum's random order: a function of the seed and the stratum alone."""
    order = sorted(members)
    random.Random(f"{seed}{STRATUM_SEPARATOR}{stratum}").shuffle(order)
    return order


def _audience(config: Config, campaign_id: str) -> Audience:
    audience = config.campaign(campaign_id).audience
    if audience is None or audience.sample is None:
        raise SampleError(f"campaign '{campaign_id}' has no sample in its audience")
    return audience


def draw(
    store: Store, config: Config, campaign_id: str, *, reserve_ratio: float = RESERVE_RATIO
) -> int:
    """Draw and record the campaign's sample once; returns its seed.

    Idempotent: a sample already drawn is kept (contacts imported later do not change it),
    but a configuration that no longer matches it is an error rather than a silent redraw.
    """
    audience = _audience(config, campaign_id)
    with store.transaction():
        existing = store.one("SELECT * FROM samples WHERE campaign_id = ?", [campaign_id])
        if existing is not None:
            _check_unchanged(existing, audience, campaign_id)
            return int(existing["seed"])
        seed = audience.seed if audience.seed is not None else secrets.randbelow(2**31)
        strata = frame(store, audience)
        pool = {h: len(ids) for h, ids in strata.items()}
        assert audience.sample is not None
        try:
            allocation = allocate(pool, audience.sample)
        except SampleError:
            raise SampleError(
                f"campaigns.{campaign_id}.audience.sample: {audience.sample} is more than the "
                f"{sum(pool.values())} contacts of group '{audience.group}' who can be contacted"
            ) from None
        now = store.now()
        store.execute(
            "INSERT INTO samples(campaign_id, group_name, size, stratify, seed, pool, drawn_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                campaign_id,
                audience.group,
                audience.sample,
                json.dumps(audience.stratify),
                seed,
                sum(pool.values()),
                now,
            ],
        )
        for h in sorted(strata):
            n = allocation[h]
            reserve = min(math.ceil(n * reserve_ratio), pool[h] - n)
            store.execute(
                "INSERT INTO sample_strata(campaign_id, stratum, pool, allocation, target, reserve) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [campaign_id, h, pool[h], n, n, reserve],
            )
            order = seeded_order(strata[h], seed, h)
            store.executemany(
                "INSERT INTO sample_draws(campaign_id, contact_id, stratum, rank, role) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (campaign_id, cid, h, rank, "sample" if rank < n else "reserve")
                    for rank, cid in enumerate(order[: n + reserve])
                ],
            )
        store.audit("sample.drawn", campaign=campaign_id, size=audience.sample, seed=seed)
    log.info(
        "sample.drawn campaign=%s size=%s strata=%s pool=%s",
        campaign_id,
        audience.sample,
        len(strata),
        sum(pool.values()),
    )
    return seed


def _check_unchanged(existing: dict[str, Any], audience: Audience, campaign_id: str) -> None:
    drawn = {
        "group": existing["group_name"],
        "sample": existing["size"],
        "stratify": json.loads(existing["stratify"]),
    }
    wanted = {"group": audience.group, "sample": audience.sample, "stratify": audience.stratify}
    if audience.seed is not None:
        drawn["seed"], wanted["seed"] = existing["seed"], audience.seed
    changed = [k for k in drawn if drawn[k] != wanted[k]]
    if changed:
        raise SampleError(
            f"campaigns.{campaign_id}.audience: the sample was drawn on {existing['drawn_at']} "
            f"with {', '.join(f'{k} = {drawn[k]!r}' for k in changed)}; a drawn sample is "
            "fixed: restore those values, or run the new design as a new campaign"
        )


def enrol_sample(store: Store, config: Config, campaign_id: str, due_at: str) -> int:
    """Draw if needed, then put every drawn contact not yet on the campaign on it, due at
    ``due_at``; returns how many were added. Replacements are enrolled as they are made."""
    draw(store, config, campaign_id)
    added = 0
    with store.transaction():
        for r in store.query(
            "SELECT d.contact_id, d.stratum FROM sample_draws d JOIN contacts c "
            "ON c.id = d.contact_id WHERE d.campaign_id = ? AND d.role = 'sample' "
            "AND d.enrolled_at IS NULL AND c.phone IS NOT NULL "
            "AND c.phone NOT IN (SELECT phone FROM opt_outs) ORDER BY d.stratum, d.rank",
            [campaign_id],
        ):
            added += _enrol(store, campaign_id, r["contact_id"], r["stratum"], due_at)
    return added


def _enrol(store: Store, campaign_id: str, contact_id: int, stratum: str, due_at: str) -> int:
    added = queue.enrol(store, campaign_id, contact_id, due_at=due_at, stratum=stratum)
    store.execute(
        "UPDATE sample_draws SET enrolled_at = ? WHERE campaign_id = ? AND contact_id = ?",
        [store.now(), campaign_id, contact_id],
    )
    return int(added)


# -- after a contact's outcome is final ------------------------------------------------------


def on_final(
    store: Store, config: Config, campaign_id: str, contact_id: int, disposition: str
) -> int | None:
    """Call when a contact reaches a final disposition; returns the replacement's contact id.

    An unreachable contact is replaced from its stratum's reserve; a complete may close its
    stratum. Safe to call twice and for contacts of unsampled campaigns (it does nothing).
    """
    with store.transaction(locks.sample(campaign_id)):
        row = store.one(
            "SELECT d.stratum, d.replaced_by, cc.disposition, c.phone FROM sample_draws d "
            "JOIN campaign_contacts cc ON cc.campaign_id = d.campaign_id "
            "AND cc.contact_id = d.contact_id JOIN contacts c ON c.id = d.contact_id "
            "WHERE d.campaign_id = ? AND d.contact_id = ?",
            [campaign_id, contact_id],
        )
        if row is None:
            return None
        if row["disposition"] != "pending":
            disposition = row["disposition"]
        if disposition == "complete":
            close_if_met(store, campaign_id, row["stratum"])
            return None
        if row["replaced_by"] is not None or not _unreachable(store, disposition, row["phone"]):
            return None
        return _replace(store, campaign_id, contact_id, row["stratum"])


def _unreachable(store: Store, disposition: str, phone: str | None) -> bool:
    if disposition in UNREACHABLE:
        return True
    return disposition == "refusal" and (phone is None or optouts.is_opted_out(store, phone))


def _replace(store: Store, campaign_id: str, contact_id: int, stratum: str) -> int | None:
    if stratum_closed(store, campaign_id, stratum):
        return None
    for r in store.query(
        "SELECT d.contact_id, c.phone FROM sample_draws d JOIN contacts c ON c.id = d.contact_id "
        "WHERE d.campaign_id = ? AND d.stratum = ? AND d.role = 'reserve' "
        "AND d.enrolled_at IS NULL AND d.skipped IS NULL ORDER BY d.rank",
        [campaign_id, stratum],
    ):
        reason = (
            "erased"
            if r["phone"] is None
            else ("opted_out" if optouts.is_opted_out(store, r["phone"]) else None)
        )
        if reason:
            store.execute(
                "UPDATE sample_draws SET skipped = ? WHERE campaign_id = ? AND contact_id = ?",
                [reason, campaign_id, r["contact_id"]],
            )
            continue
        _enrol(store, campaign_id, r["contact_id"], stratum, store.now())
        store.execute(
            "UPDATE sample_draws SET replaces = ? WHERE campaign_id = ? AND contact_id = ?",
            [contact_id, campaign_id, r["contact_id"]],
        )
        store.execute(
            "UPDATE sample_draws SET replaced_by = ? WHERE campaign_id = ? AND contact_id = ?",
            [r["contact_id"], campaign_id, contact_id],
        )
        log.info("sample.replaced campaign=%s contact=%s", campaign_id, contact_id)
        return int(r["contact_id"])
    log.info("sample.reserve_spent campaign=%s contact=%s", campaign_id, contact_id)
    return None


def stratum_closed(store: Store, campaign_id: str, stratum: str) -> bool:
    row = store.one(
        "SELECT closed_at FROM sample_strata WHERE campaign_id = ? AND stratum = ?",
        [campaign_id, stratum],
    )
    return bool(row and row["closed_at"])


def close_if_met(store: Store, campaign_id: str, stratum: str) -> bool:
    """Close the stratum if its completes reached its target; True if it is (now) closed."""
    with store.transaction(locks.sample(campaign_id)):
        row = store.one(
            "SELECT s.target, s.closed_at, (SELECT count(*) FROM campaign_contacts cc "
            "WHERE cc.campaign_id = s.campaign_id AND cc.stratum = s.stratum "
            "AND cc.disposition = 'complete') AS completes FROM sample_strata s "
            "WHERE s.campaign_id = ? AND s.stratum = ?",
            [campaign_id, stratum],
        )
        if row is None:
            return False
        if row["closed_at"]:
            return True
        if row["completes"] < row["target"]:
            return False
        now = store.now()
        store.execute(
            "UPDATE sample_strata SET closed_at = ? WHERE campaign_id = ? AND stratum = ?",
            [now, campaign_id, stratum],
        )
        stopped = queue.fill_quota(store, campaign_id, stratum)
        store.audit("sample.stratum_closed", campaign=campaign_id, stopped=stopped)
    log.info("sample.stratum_closed campaign=%s stopped=%s", campaign_id, stopped)
    return True


def sweep(store: Store, config: Config, campaign_id: str) -> int:
    """Reconcile the whole sample with the store: replace every unreachable contact not yet
    replaced and close every stratum that met its target. Idempotent, so a scheduler may run
    it on a timer as a safety net for hooks that were missed; returns replacements made."""
    replaced = 0
    for r in store.query(
        "SELECT d.contact_id, cc.disposition FROM sample_draws d JOIN campaign_contacts cc "
        "ON cc.campaign_id = d.campaign_id AND cc.contact_id = d.contact_id "
        "WHERE d.campaign_id = ? AND d.replaced_by IS NULL "
        "AND cc.disposition IN ('not_eligible', 'non_contact', 'refusal') ORDER BY d.rank",
        [campaign_id],
    ):
        if on_final(store, config, campaign_id, r["contact_id"], r["disposition"]) is not None:
            replaced += 1
    for s in store.query("SELECT stratum FROM sample_strata WHERE campaign_id = ?", [campaign_id]):
        close_if_met(store, campaign_id, s["stratum"])
    return replaced


# -- what an official sees ---------------------------------------------------------------


def summary(store: Store, config: Config, campaign_id: str) -> SampleSummary:
    """The recorded draw, or a preview of its allocation if it has not been drawn yet."""
    audience = _audience(config, campaign_id)
    head = store.one("SELECT * FROM samples WHERE campaign_id = ?", [campaign_id])
    if head is None:
        pool = {h: len(ids) for h, ids in frame(store, audience).items()}
        assert audience.sample is not None
        allocation = allocate(pool, min(audience.sample, sum(pool.values())))
        strata = [
            StratumSummary(h, pool[h], allocation[h], allocation[h], 0, 0, 0, 0, 0, False)
            for h in sorted(pool)
        ]
        return SampleSummary(
            campaign_id,
            audience.group,
            audience.sample,
            audience.seed if audience.seed is not None else -1,
            audience.stratify,
            sum(pool.values()),
            None,
            strata,
        )
    rows = store.query(
        "SELECT s.stratum, s.pool, s.allocation, s.target, s.reserve, s.closed_at, "
        "(SELECT count(*) FROM sample_draws d WHERE d.campaign_id = s.campaign_id "
        " AND d.stratum = s.stratum AND d.replaces IS NOT NULL) AS replacements, "
        "(SELECT count(*) FROM sample_draws d WHERE d.campaign_id = s.campaign_id "
        " AND d.stratum = s.stratum AND d.skipped IS NOT NULL) AS skipped, "
        "(SELECT count(*) FROM campaign_contacts cc WHERE cc.campaign_id = s.campaign_id "
        " AND cc.stratum = s.stratum AND cc.disposition = 'complete') AS completes, "
        "(SELECT count(*) FROM campaign_contacts cc WHERE cc.campaign_id = s.campaign_id "
        " AND cc.stratum = s.stratum AND cc.disposition = 'pending') AS pending "
        "FROM sample_strata s WHERE s.campaign_id = ? ORDER BY s.stratum",
        [campaign_id],
    )
    strata = [
        StratumSummary(
            r["stratum"],
            r["pool"],
            r["allocation"],
            r["target"],
            r["reserve"],
            r["replacements"],
            r["skipped"],
            r["completes"],
            r["pending"],
            bool(r["closed_at"]),
        )
        for r in rows
    ]
    return SampleSummary(
        campaign_id,
        head["group_name"],
        head["size"],
        head["seed"],
        json.loads(head["stratify"]),
        head["pool"],
        head["drawn_at"],
        strata,
    )
