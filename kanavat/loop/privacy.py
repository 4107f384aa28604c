"""Suggestions and notices under TIETONI / POISTA: what a data request lists of them, and
what an erasure removes (called by ``kanavat/privacy/data.py`` and ``erase.py``)."""

from __future__ import annotations

from typing import Any

from kanavat.config import Config
from kanavat.loop import notices, recordings, suggestions
from kanavat.loop.texts import campaign_title, day, texts
from kanavat.store import Store


def held(
    store: Store, contact_id: int | None, phone: str | None, visitor: str | None
) -> dict[str, tuple[dict[str, Any], ...]]:
    """The person's suggestions and the notices told to them."""
    mine = suggestions.of_person(store, contact_id=contact_id, phone=phone, visitor=visitor)
    told: list[dict[str, Any]] = []
    if contact_id is not None or visitor:
        where = "contact_id = ?" if contact_id is not None else "visitor = ?"
        told = store.query(
            f"SELECT kind, campaign_id, told_at FROM notices WHERE {where} AND status = 'told' "
            "AND kind = 'outcome' ORDER BY id",
            [contact_id if contact_id is not None else visitor],
        )
    return {
        "suggestions": tuple(s for s in mine if s["text"] is not None),
        "told": tuple(told),
    }


def describe(
    config: Config,
    mine: tuple[dict[str, Any], ...],
    told: tuple[dict[str, Any], ...],
    language: str,
) -> list[str]:
    t = texts(language)
    out = []
    for s in mine:
        out.append(
            t["privacy"]["suggestion"].format(
                date=day(s["created_at"], language), text=s["text"], status=t["status"][s["status"]]
            )
        )
        if recordings.kept(config, s["id"]):
            out.append(t["privacy"]["recording"])
    out += [
        t["privacy"]["outcome"].format(
            title=campaign_title(config, n["campaign_id"], language),
            date=day(n["told_at"], language),
        )
        for n in told
        if n["told_at"]
    ]
    return out


def forget(
    store: Store, config: Config, contact_id: int | None, phone: str | None, visitor: str | None
) -> bool:
    """Erase the person's suggestions (their audio too, if any was kept) and stop every
    notice to them; whether any existed. Joins the erasure's transaction."""
    mine = suggestions.of_person(store, contact_id=contact_id, phone=phone, visitor=visitor)
    recordings.discard(config, (s["id"] for s in mine))
    erased = suggestions.forget(store, contact_id=contact_id, phone=phone, visitor=visitor)
    stopped = notices.forget(store, contact_id=contact_id, phone=phone, visitor=visitor)
    return bool(erased or stopped)
