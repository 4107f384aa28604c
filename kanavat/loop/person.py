"""Which rows are one resident's: the WHERE clause the loop's owners share for a data
request, an erasure and retention (a resident is known by contact, number or chat visitor)."""

from __future__ import annotations

from typing import Any


def where_person(
    contact_id: int | None, phone: str | None, visitor: str | None
) -> tuple[str, list[Any]]:
    """``("contact_id = ? OR phone = ?", [7, "+358..."])`` for what is known of the resident
    (any of the three); ``("", [])`` when nothing is, so the caller touches no row."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in (("contact_id", contact_id), ("phone", phone), ("visitor", visitor)):
        if value is not None and value != "":
            where.append(f"{column} = ?")
            params.append(value)
    return " OR ".join(where), params
