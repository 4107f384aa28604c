"""Answer export for officials: one row per answer given, pseudonymous respondents only."""

from __future__ import annotations

import csv
import heapq
import json
from collections.abc import Iterator
from typing import IO, Any

from kanavat.store import Store

COLUMNS = (
    "campaign",
    "question",
    "respondent",
    "channel",
    "language",
    "input_kind",
    "raw",
    "value",
    "confidence",
    "answered_at",
)


def rows(store: Store, campaign_id: str) -> Iterator[dict[str, Any]]:
    """Answers, and a conversation's votes (question = the statement id, value = agree,
    disagree or pass), in the order they were given."""
    from kanavat.conversation import votes

    yield from heapq.merge(
        _answers(store, campaign_id),
        votes.export_rows(store, campaign_id),
        key=lambda row: row["answered_at"],
    )


def _answers(store: Store, campaign_id: str) -> Iterator[dict[str, Any]]:
    """Answers in the order they were given; unanswered questions are not answers."""
    for r in store.query(
        "SELECT campaign_id AS campaign, question, respondent, channel, language, input_kind, raw, "
        "value, confidence, answered_at FROM answers WHERE campaign_id = ? AND status != 'unanswered' "
        "ORDER BY answered_at, id",
        [campaign_id],
    ):
        r["value"] = json.loads(r["value"]) if r["value"] is not None else None
        if r["confidence"] is not None:
            r["confidence"] = round(r["confidence"], 3)
        yield r


def write_csv(out: IO[str], items: Iterator[dict[str, Any]]) -> int:
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for item in items:
        writer.writerow({k: "" if item[k] is None else item[k] for k in COLUMNS})
        count += 1
    return count


def write_jsonl(out: IO[str], items: Iterator[dict[str, Any]]) -> int:
    count = 0
    for item in items:
        out.write(json.dumps({k: item[k] for k in COLUMNS}, ensure_ascii=False) + "\n")
        count += 1
    return count
