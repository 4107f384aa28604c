"""Theme labels from baseforms, and what a quote may not contain."""

from __future__ import annotations

import numpy as np
import pytest

from kanavat.privacy.redact import redact
from kanavat.themes.embed import _plain, embed
from kanavat.themes.words import baseform, characteristic_words, content

R = "[poistettu]"


def test_finnish_words_count_under_their_baseform_swedish_under_their_stem():
    assert baseform("puhelinjonoissa", "fi") == "puhelinjono"
    assert baseform("kotihoitajat", "fi") == "kotihoitaja"
    assert baseform("telefonköerna", "sv") == baseform("telefonköer", "sv") == "telefonkö"
    assert baseform("bussarna", "sv") == baseform("bussen", "sv") == "buss"


def test_what_is_embedded_beside_the_text_is_its_content_words():
    said = "öö mä haluisin sanoa että puhelinjonot on liian pitkiä"
    assert content(said, "fi") == "haluisin sanoa puhelinjonot liian pitkiä"
    assert (
        content("eh jag ville säga att det tar så länge i kön", "sv") == "ville säga tar länge kön"
    )
    # An answer of stopwords only is embedded as it is, not as nothing.
    assert content("no se on niin", "fi") == "no se on niin"


def test_an_answer_is_embedded_from_its_whole_text_and_its_content_words():
    said = ["öö mä haluisin sanoa että puhelinjonot on liian pitkiä", "ok"]
    both = embed(said, ["fi", "fi"])
    assert np.allclose(np.linalg.norm(both, axis=1), 1, atol=1e-5)
    whole, words = _plain([said[0]])[0], _plain([content(said[0], "fi")])[0]
    assert float(whole @ words) < 0.99  # two different vectors ...
    summed = whole + words
    assert np.allclose(both[0], summed / np.linalg.norm(summed), atol=1e-5)  # ... added
    # With no stopword to drop, the text and its content words are one: E5's own vector.
    assert np.allclose(_plain(["ok"])[0], both[1], atol=1e-5)
    with pytest.raises(ValueError, match="2 texts but 1 languages"):
        embed(said, ["fi"])


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
