"""Counts from id lists: one index scan lists each group's ids as one text (``id_list`` of
the store's dialect), and numpy counts them, where SQL would join or sort a row per answer,
session or contact (SQLite has no hash aggregation: a GROUP BY over a join sorts).

Queries and counting only, for ``kanavat.report.data``; the results are what the plain SQL
would give, in its order (``tests/report/test_counting_paths.py`` checks them row by row).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kanavat.outreach.reach import TOOK_PART
from kanavat.store import Store


def among(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Which of ``values`` are in ``sorted_set`` (sorted: searched, not sorted again)."""
    if not len(sorted_set):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[at] == values


def distinct(ordered: np.ndarray) -> int:
    """How many different values a sorted array holds."""
    return int(len(ordered) > 0) + int(np.count_nonzero(ordered[1:] != ordered[:-1]))


def ids_of(text: str | None) -> np.ndarray:
    """An ``id_list`` as an array of ids."""
    if not text:
        return np.zeros(0, dtype=np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")


def by_profile(
    store: Store,
    campaign_id: str,
    picked: str,
    which: str,
    marks: str,
    text_ids: list[str],
    several: tuple[str, list[Any]] | None,
) -> list[tuple[Any, ...]]:
    """Closed answers of everyone with one session, counted by ``picked``, value and profile
    (contact attributes, event attributes, stratum), as the joined GROUP BY would give them
    (and in its order), from two index scans: each counted session's profile, and each
    answer group's sessions. ``several``: SQL of the sessions left to the latest-answer
    query and its arguments, if any."""
    multi, several_args = several or ("", [])
    ids = store.backend.id_list
    profiles = store.execute(
        f"SELECT c.attributes, cc.attributes, cc.stratum, {ids('s.id')} FROM sessions s "
        "LEFT JOIN campaign_contacts cc ON cc.campaign_id = s.campaign_id "
        "AND cc.contact_id = s.contact_id LEFT JOIN contacts c ON c.id = s.contact_id "
        "WHERE s.campaign_id = ? AND s.status != 'restarted' "
        f"{f'AND s.id NOT IN ({multi}) ' if several else ''}GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        [campaign_id, *several_args],
    ).fetchall()
    sessions = [ids_of(listed) for *_, listed in profiles]
    low = min((int(s.min()) for s in sessions if len(s)), default=0)
    top = max((int(s.max()) for s in sessions if len(s)), default=-1)
    # Session id - low -> profile; the last slot (-1) stands for any session not counted here.
    profile_at = np.full(max(top - low, -1) + 2, -1, dtype=np.int32)
    for k, listed in enumerate(sessions):
        profile_at[listed - low] = k
    beyond = len(profile_at) - 1
    columns = [tuple(p[:3]) for p in profiles]
    out: list[tuple[Any, ...]] = []
    # In the index's order, as the joined GROUP BY gave them (SQLite): the answer's columns,
    # then each profile in the order of its columns.
    for *key, listed in store.execute(
        f"SELECT {picked}, a.value, {ids('a.session_id')} FROM answers a "
        f"WHERE a.campaign_id = ? AND a.question {which} ({marks}) GROUP BY 1, 2, 3, 4, 5, 6, 7",
        [campaign_id, *text_ids],
    ):
        at = ids_of(listed) - low
        found = profile_at[np.where((at >= 0) & (at < beyond), at, beyond)]
        counts = np.bincount(found[found >= 0], minlength=len(profiles)).tolist()
        out += [(*key, *columns[k], n) for k, n in enumerate(counts) if n]
    return out


def contacts_reach(store: Store, campaign_id: str, channels: list[str]) -> list[int]:
    """As the sums of ``data._reach``'s query over contacts' sessions: everyone's took part,
    completed and started, then each channel's."""
    kinds = len(channels) + 1  # the last: a channel the campaign no longer has
    which = " ".join(f"WHEN ? THEN {i}" for i in range(len(channels)))
    code = (
        f"s.contact_id * {4 * kinds} + 4 * (CASE s.channel {which} ELSE {kinds - 1} END) "
        f"+ CASE WHEN {TOOK_PART} THEN 2 ELSE 0 END "
        "+ CASE WHEN s.status = 'completed' THEN 1 ELSE 0 END"
    )
    codes = ids_of(
        store.execute(
            f"SELECT {store.backend.id_list(code)} FROM sessions s WHERE s.campaign_id = ? "
            "AND s.status != 'restarted' AND s.contact_id IS NOT NULL",
            [*channels, campaign_id],
        ).fetchone()[0]
    )
    person, rest = np.divmod(np.sort(codes), 4 * kinds)  # in person order
    channel, took_part, completed = rest // 4, (rest & 2) > 0, (rest & 1) > 0

    def people(mask: np.ndarray) -> int:
        return distinct(person[mask])

    everyone = np.ones(len(codes), dtype=bool)
    out = [people(took_part), people(completed), people(everyone)]
    for i in range(len(channels)):
        on = channel == i
        out += [people(on & took_part), people(on & completed), people(on)]
    return out


def contacted(store: Store, campaign_id: str, channels: list[str]) -> dict[str, int]:
    """Channel -> the campaign's contacts with an attempt on it, each once: every attempt
    listed as one number (contact and channel) in one index scan, counted with numpy."""
    ids = store.backend.id_list
    kinds = len(channels) + 1  # the last: a channel the campaign no longer has
    which = " ".join(f"WHEN ? THEN {i}" for i in range(len(channels)))
    code = f"a.contact_id * {kinds} + CASE a.channel {which} ELSE {kinds - 1} END"
    tried = np.sort(
        ids_of(
            store.execute(
                f"SELECT {ids(code)} FROM attempts a WHERE a.campaign_id = ?",
                [*channels, campaign_id],
            ).fetchone()[0]
        )
    )
    tried = tried[np.concatenate(([True], tried[1:] != tried[:-1]))] if len(tried) else tried
    enrolled = np.sort(
        ids_of(
            store.execute(
                f"SELECT {ids('cc.contact_id')} FROM campaign_contacts cc WHERE cc.campaign_id = ?",
                [campaign_id],
            ).fetchone()[0]
        )
    )
    tried = tried[among(tried // kinds, enrolled)]
    return {ch: int(np.count_nonzero(tried % kinds == i)) for i, ch in enumerate(channels)}
