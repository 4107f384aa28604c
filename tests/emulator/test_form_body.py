"""A REST call's form body: ``form_quote`` is ``quote_plus`` at C speed, byte for byte."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote_plus, urlencode

from hypothesis import given
from hypothesis import strategies as st

from kanavat.provider import form_body, form_quote

# Lone surrogates cannot be encoded (both raise); every other text must quote the same.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)))


@given(TEXT)
def test_quotes_any_text_as_quote_plus_does(value: str) -> None:
    assert form_quote(value) == quote_plus(value)


@given(st.dictionaries(TEXT, TEXT | st.lists(TEXT) | st.integers() | st.booleans()))
def test_a_form_is_encoded_as_urlencode_does(form: dict[str, object]) -> None:
    assert form_body(form) == urlencode(list(form.items()), doseq=True).encode()


def test_a_finnish_reply_round_trips() -> None:
    body = (
        "Kiitos! Kysymys 3/10: Miten arvioisit kotihoitoa 1–5? Vastaa numerolla (ä, ö, å, +, &, =)."
    )
    form = {"To": "+358401234567", "Body": body, "StatusCallbackEvent": ["initiated", "ringing"]}
    encoded = form_body(form).decode("ascii")
    assert encoded.startswith("To=%2B358401234567&Body=Kiitos%21+Kysymys+3%2F10")
    assert parse_qsl(encoded) == [
        ("To", "+358401234567"),
        ("Body", body),
        ("StatusCallbackEvent", "initiated"),
        ("StatusCallbackEvent", "ringing"),
    ]


def test_bytes_and_a_safe_set_go_to_the_standard_quoting() -> None:
    assert form_quote(b"a b/\xff") == quote_plus(b"a b/\xff")
    assert form_quote("a b/c", "/") == quote_plus("a b/c", "/")
