"""Theme labels from baseforms, and what a quote may not contain."""

from __future__ import annotations

from kanavat.privacy.redact import redact
from kanavat.themes.words import baseform, characteristic_words

R = "[poistettu]"


def test_finnish_words_count_under_their_baseform_swedish_under_their_stem():
    assert baseform("puhelinjonoissa", "fi") == "puhelinjono"
    assert baseform("kotihoitajat", "fi") == "kotihoitaja"
    assert baseform("telefonköerna", "sv") == baseform("telefonköer", "sv") == "telefonkö"
    assert baseform("bussarna", "sv") == baseform("bussen", "sv") == "buss"


def test_words_are_weighed_against_the_other_themes():
    queues = [
        ("Puhelinjonot ovat pitkät palvelussa", "fi"),
        ("puhelinjonossa odotin tunnin, huono palvelu", "fi"),
        ("Telefonkön är lång", "sv"),
        ("telefonkön var lång igen", "sv"),
    ]
    buses = [
        ("Bussi ei kulje, huono palvelu", "fi"),
        ("bussit kulkevat harvoin palvelu", "fi"),
        ("ingen buss på söndagar", "sv"),
        ("bussen går sällan", "sv"),
    ]
    q, b = characteristic_words([queues, buses])
    assert "puhelinjono" in q and "palvelu" not in q[:2], q
    assert "bussi" in b


def test_a_word_of_one_answer_only_is_not_a_label():
    (words,) = characteristic_words([[("Virtanen soitti jonosta", "fi"), ("jono on pitkä", "fi")]])
    assert "jono" in words and all("virtanen" not in w.lower() for w in words)


def test_contact_details_and_names_are_redacted():
    text = (
        "Hoitaja Matti oli ihana. Soittakaa 040 123 4567 tai maija.k@example.fi, t. maija korhonen"
    )
    out = redact(text, R)
    for gone in ("Matti", "040 123 4567", "maija.k@example.fi", "maija", "korhonen"):
        assert gone not in out, gone
    assert out.startswith("Hoitaja [poistettu] oli ihana.")


def test_swedish_and_foreign_names_inside_a_sentence_are_redacted():
    assert redact("Jag ringde till Karin Lindqvist igår", R) == f"Jag ringde till {R} {R} igår"


def test_place_names_and_common_words_stay():
    text = "Kela-taksi ei tullut Tampereelle ja Puhelinjonot ovat pitkät"
    assert redact(text, R) == text
