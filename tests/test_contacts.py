"""Contact import from CSV: all or nothing, every bad row named, re-import changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kanavat.contacts import (
    ImportRejected,
    InvalidPhone,
    group_size,
    groups,
    import_csv,
    normalise_phone,
)
from kanavat.store import Store

pytestmark = pytest.mark.both_backends

LANGS = ["fi", "sv", "en"]


def write(tmp_path: Path, text: str, name: str = "contacts.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def do_import(store: Store, path: Path, group: str = "ikaihmiset", skip: bool = False):
    return import_csv(store, path, group, LANGS, [358], skip_invalid=skip)


def contacts(store: Store) -> list[dict]:
    return store.query("SELECT phone, language, attributes FROM contacts ORDER BY phone")


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("040 123 4567", "+358401234567"),
        ("+358 40 123 4567", "+358401234567"),
        ("0401234567", "+358401234567"),
        ("00358401234567", "+358401234567"),
        ("(09) 310 1691", "+35893101691"),
    ],
)
def test_normalise_phone(raw: str, e164: str) -> None:
    assert normalise_phone(raw, [358]) == e164


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "phone is empty"),
        ("puhelin", "not a phone number"),
        ("040 12", "not a valid phone number"),
        ("+46 70 123 45 67", "country code +46 is not allowed (allowed: +358)"),
    ],
)
def test_invalid_phone(raw: str, reason: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        normalise_phone(raw, [358])
    assert str(caught.value) == reason


def test_import(store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "phone,language,age_group,municipality\n"
        "040 123 4567,fi,75-84,Kuopio\n"
        "+358 50 765 4321,SV,85+,Vaasa\n"
        "045 111 2222,,65-74,\n",
    )
    report = do_import(store, path)
    assert (report.added, report.updated, report.unchanged, report.rejected) == (3, 0, 0, [])
    assert contacts(store) == [
        {
            "phone": "+358401234567",
            "language": "fi",
            "attributes": json.dumps({"age_group": "75-84", "municipality": "Kuopio"}),
        },
        {
            "phone": "+358451112222",
            "language": "fi",
            "attributes": json.dumps({"age_group": "65-74"}),
        },
        {
            "phone": "+358507654321",
            "language": "sv",
            "attributes": json.dumps({"age_group": "85+", "municipality": "Vaasa"}),
        },
    ]
    assert group_size(store, "ikaihmiset") == 3


BAD = (
    "phone,language,age_group\n"
    "040 123 4567,fi,75-84\n"  # 2: fine
    "040 12,fi,75-84\n"  # 3: too short
    "+46 70 123 45 67,sv,65-74\n"  # 4: Sweden
    "050 765 4321,de,85+\n"  # 5: no such language
    "+358401234567,fi,75-84\n"  # 6: line 2 again
    "045 111 2222,fi\n"  # 7: a column short
    "\n"  # blank lines are ignored
    "045 333 4444,en,65-74\n"  # 9: fine
)


def test_bad_rows_are_all_reported_and_nothing_is_imported(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ImportRejected) as caught:
        do_import(store, write(tmp_path, BAD))
    assert caught.value.report.rejected == [
        (3, "not a valid phone number"),
        (4, "country code +46 is not allowed (allowed: +358)"),
        (5, "language 'de' is not one of fi, sv, en"),
        (6, "the same phone number as line 2"),
        (7, "expected 3 columns, found 2"),
    ]
    assert contacts(store) == [] and groups(store) == {}


def test_skip_invalid_imports_the_rest(store: Store, tmp_path: Path) -> None:
    report = do_import(store, write(tmp_path, BAD), skip=True)
    assert report.added == 2 and len(report.rejected) == 5
    assert [c["phone"] for c in contacts(store)] == ["+358401234567", "+358453334444"]


def test_missing_phone_column(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ImportRejected) as caught:
        do_import(store, write(tmp_path, "puhelin,kieli\n0401234567,fi\n"))
    assert caught.value.report.rejected == [(1, "the header has no 'phone' column")]


def test_excel_style_semicolons_and_bom(store: Store, tmp_path: Path) -> None:
    text = "Phone;Language;Kunta\r\n040 123 4567;fi;Kuopio, keskusta\r\n050 765 4321;sv;Vaasa\r\n"
    report = do_import(store, write(tmp_path, text, encoding="utf-8-sig"))
    assert report.added == 2
    attributes = json.loads(contacts(store)[0]["attributes"])
    assert attributes == {"kunta": "Kuopio, keskusta"}
    assert (tmp_path / "contacts.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_reimport_is_idempotent_and_merges(store: Store, tmp_path: Path) -> None:
    first = write(tmp_path, "phone,age_group\n0401234567,75-84\n0507654321,85+\n")
    assert do_import(store, first).added == 2
    again = do_import(store, first)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    before = contacts(store)
    assert do_import(store, first).unchanged == 2 and contacts(store) == before
    more = write(tmp_path, "phone,municipality\n0401234567,Kuopio\n", name="more.csv")
    merged = do_import(store, more)
    assert (merged.added, merged.updated) == (0, 1)
    attributes = json.loads(contacts(store)[0]["attributes"])
    assert attributes == {"age_group": "75-84", "municipality": "Kuopio"}
    other_group = do_import(store, first, group="palvelunkayttajat")
    assert other_group.updated == 2
    assert groups(store) == {"ikaihmiset": 2, "palvelunkayttajat": 2}
    assert store.one("SELECT count(*) AS n FROM contacts")["n"] == 2


def test_empty_file(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ImportRejected):
        do_import(store, write(tmp_path, ""))
