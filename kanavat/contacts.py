"""Contacts: importing a county's list of residents from CSV, and finding a campaign's audience.

An import is all or nothing: every rejected row is reported with its line and reason, and
unless the official asks to skip them, nothing is stored. Re-importing the same file changes
nothing (phone numbers are the identity, normalised to E.164).
"""

from __future__ import annotations

import csv
import functools
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers

from kanavat.store import Store

DEFAULT_REGION = "FI"


class ImportRejected(Exception):
    def __init__(self, report: ImportReport):
        self.report = report
        super().__init__(f"{len(report.rejected)} rows rejected; nothing was imported")


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


class InvalidPhone(ValueError):
    pass


def normalise_phone(
    raw: str, allowed_country_codes: list[int] | None = None, region: str = DEFAULT_REGION
) -> str:
    """E.164 for a valid number in an allowed country; InvalidPhone saying why otherwise."""
    allowed = tuple(allowed_country_codes) if allowed_country_codes else ()
    return _normalised(raw, allowed, region)


@functools.lru_cache(maxsize=65536)
def _normalised(raw: str, allowed_country_codes: tuple[int, ...], region: str) -> str:
    # Every inbound SMS carries its sender's number: parsed once per number, not per message.
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("phone is empty")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not a valid phone number")
    if allowed_country_codes and number.country_code not in allowed_country_codes:
        allowed = ", ".join(f"+{c}" for c in allowed_country_codes)
        raise InvalidPhone(
            f"country code +{number.country_code} is not allowed (allowed: {allowed})"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def read_rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and rows with their line numbers; ``,`` or ``;`` separated (Excel in Finland uses ``;``)."""
    text = path.read_text(encoding="utf-8-sig")
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return [], []
    rows = []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            rows.append(
                (line, {"__error__": f"expected {len(header)} columns, found {len(values)}"})
            )
            continue
        rows.append((line, {h: v.strip() for h, v in zip(header, values, strict=True)}))
    return header, rows


def import_csv(
    store: Store,
    path: Path,
    group: str,
    languages: list[str],
    allowed_country_codes: list[int],
    skip_invalid: bool = False,
) -> ImportReport:
    header, rows = read_rows(path)
    report = ImportReport()
    if "phone" not in header:
        report.rejected.append((1, "the header has no 'phone' column"))
        raise ImportRejected(report)
    valid: list[tuple[str, str, dict[str, str]]] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        if "__error__" in row:
            report.rejected.append((line, row["__error__"]))
            continue
        try:
            phone = normalise_phone(row["phone"], allowed_country_codes)
        except InvalidPhone as exc:
            report.rejected.append((line, str(exc)))
            continue
        language = (row.get("language") or languages[0]).lower()
        if language not in languages:
            report.rejected.append(
                (line, f"language '{language}' is not one of {', '.join(languages)}")
            )
            continue
        if phone in seen:
            report.rejected.append((line, f"the same phone number as line {seen[phone]}"))
            continue
        seen[phone] = line
        attributes = {k: v for k, v in row.items() if k not in ("phone", "language") and v != ""}
        valid.append((phone, language, attributes))
    if report.rejected and not skip_invalid:
        raise ImportRejected(report)
    with store.transaction():
        for phone, language, attributes in valid:
            outcome = upsert_contact(store, phone, language, attributes, group)
            setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def upsert_contact(
    store: Store, phone: str, language: str, attributes: dict[str, str], group: str | None
) -> str:
    """Insert or merge one contact; returns 'added', 'updated' or 'unchanged'."""
    now = store.now()
    row = store.one("SELECT id, language, attributes FROM contacts WHERE phone = ?", [phone])
    if row is None:
        cur = store.execute(
            "INSERT INTO contacts(phone, language, attributes, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [phone, language, json.dumps(attributes, ensure_ascii=False), now, now],
        )
        contact_id, outcome = cur.lastrowid, "added"
    else:
        contact_id = row["id"]
        merged = {**json.loads(row["attributes"]), **attributes}
        changed = merged != json.loads(row["attributes"]) or language != row["language"]
        if changed:
            store.execute(
                "UPDATE contacts SET language = ?, attributes = ?, updated_at = ? WHERE id = ?",
                [language, json.dumps(merged, ensure_ascii=False), now, contact_id],
            )
        outcome = "updated" if changed else "unchanged"
    if group:
        cur = store.execute(
            "INSERT INTO contact_groups(contact_id, group_name) VALUES (?, ?) "
            "ON CONFLICT DO NOTHING",
            [contact_id, group],
        )
        if cur.rowcount and outcome == "unchanged":
            outcome = "updated"
    return outcome


def group_size(store: Store, group: str) -> int:
    row = store.one(
        "SELECT count(*) AS n FROM contact_groups g JOIN contacts c ON c.id = g.contact_id "
        "WHERE g.group_name = ? AND c.phone IS NOT NULL",
        [group],
    )
    return row["n"] if row else 0


def groups(store: Store) -> dict[str, int]:
    rows = store.query(
        "SELECT group_name, count(*) AS n FROM contact_groups GROUP BY group_name ORDER BY 1"
    )
    return {r["group_name"]: r["n"] for r in rows}


def by_phone(store: Store, phone: str) -> dict[str, Any] | None:
    """The contact with this (normalised) number: its id and language, or None."""
    return store.one("SELECT id, language FROM contacts WHERE phone = ?", [phone])


def phone_of(store: Store, contact_id: int) -> str | None:
    row = store.one("SELECT phone FROM contacts WHERE id = ?", [contact_id])
    return row["phone"] if row else None


def erase(store: Store, contact_id: int) -> None:
    """A resident's erasure: number, attributes and groups gone; the row stays as a tombstone
    because other rows refer to its id."""
    now = store.now()
    store.execute("DELETE FROM contact_groups WHERE contact_id = ?", [contact_id])
    store.execute(
        "UPDATE contacts SET phone = NULL, attributes = '{}', erased_at = ?, updated_at = ? "
        "WHERE id = ?",
        [now, now, contact_id],
    )


def drop_number(store: Store, contact_id: int) -> None:
    """Retention: the number goes; attributes stay for the reports of campaigns still kept."""
    store.execute(
        "UPDATE contacts SET phone = NULL, updated_at = ? WHERE id = ?", [store.now(), contact_id]
    )
