"""Closing the loop in the council report: how many participants were told what came of the
campaign, by channel, and the council's suggestions by status and theme.

Counts only (no text, no numbers); every count is a cell of the report's disclosure ledger,
so a small one is suppressed like any other, and a total does not give it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kanavat.config import Config
from kanavat.loop import notices, outcomes, suggestions
from kanavat.store import Store

TOLD_STATES = ("told", "waiting", "not_told")
WAITING = (notices.PENDING, notices.QUEUED, notices.CALLING, notices.HELD)


@dataclass(frozen=True)
class LoopCounts:
    """What the report reads from the store (``report/data.py`` loads it)."""

    outcomes: int = 0
    told: dict[str, dict[str, int]] = field(default_factory=dict)  # channel -> state -> n
    queue: str | None = None
    by_status: dict[str, int] = field(default_factory=dict)
    by_theme: dict[str, int] = field(default_factory=dict)


def load(store: Store, config: Config, campaign_id: str) -> LoopCounts:
    ids = [i for i, _ in outcomes.listed(store, campaign_id)]
    told: dict[str, dict[str, int]] = {}
    for channel, by in notices.counts(store, "outcome", ids).items():
        row = told.setdefault(channel, dict.fromkeys(TOLD_STATES, 0))
        for status, n in by.items():
            state = (
                "told" if status == notices.TOLD else "waiting" if status in WAITING else "not_told"
            )
            row[state] += n
    queue = config.campaign(campaign_id).council
    counted = suggestions.counts(store, queue)
    return LoopCounts(len(ids), told, queue, counted["status"], counted["theme"])


def section(counts: LoopCounts, ledger: Any) -> dict[str, Any]:
    """The report's ``closing_loop`` object, its counts registered with ``ledger``."""
    by_channel = []
    totals = dict.fromkeys(TOLD_STATES, 0)
    for channel, row in sorted(counts.told.items()):
        shown: dict[str, Any] = {"channel": channel}
        for state in TOLD_STATES:
            shown[state] = ledger.cell(("loop", "told", channel, state), row[state])
            totals[state] += row[state]
        by_channel.append(shown)
    total = {s: ledger.cell(("loop", "told", "*", s), n, total=True) for s, n in totals.items()}
    for state in TOLD_STATES:
        parts = [("loop", "told", ch, state) for ch in counts.told]
        if parts:
            ledger.line(parts, ("loop", "told", "*", state))
    status = {s: ledger.cell(("loop", "suggestions", s), n) for s, n in counts.by_status.items()}
    all_suggestions = sum(counts.by_status.values())
    status_total = ledger.cell(("loop", "suggestions", "*"), all_suggestions, total=True)
    if counts.by_status:
        ledger.line(
            [("loop", "suggestions", s) for s in counts.by_status], ("loop", "suggestions", "*")
        )
    themes = [
        {"theme": theme, **ledger.cell(("loop", "theme", theme), n)}
        for theme, n in sorted(counts.by_theme.items())
    ]
    return {
        "outcomes": counts.outcomes,
        "told": {"by_channel": by_channel, "total": total},
        "suggestions": {
            "queue": counts.queue,
            "by_status": status,
            "total": status_total,
            "by_theme": themes,
        },
    }
