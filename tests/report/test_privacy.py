"""No phone numbers in any output, and free text cannot inject markup."""

from __future__ import annotations

import re

import pytest

from kanavat.report import csv_out, html, json_out

from . import fixture


@pytest.fixture(scope="module")
def outputs(sampled) -> dict[str, str]:
    import io

    out = io.StringIO()
    csv_out.write(out, sampled)
    return {"html": html.render(sampled), "json": json_out.dumps(sampled), "csv": out.getvalue()}


def test_no_contact_phone_numbers_anywhere(world, outputs):
    known = {p[1:] for p in world.truth.phones} | {"0" + p[4:] for p in world.truth.phones}
    for name, text in outputs.items():
        runs = set(re.findall(r"\d{9,}", re.sub(r"(?<=\d)[ -](?=\d)", "", text)))
        assert not runs & known, name
        assert not any(p in text for p in world.truth.phones), name
        assert not re.search(r"\+358\s?\d{6,}", text), name


def test_phone_number_in_free_text_is_redacted(outputs):
    for name, text in outputs.items():
        assert "040 765 4321" not in text, name
        assert "0407654321" not in text
    assert "numeroon [poistettu]" in outputs["html"]


def test_personal_names_in_free_text_are_redacted(outputs):
    """The free-text list goes through the same redaction as theme quotes: names too."""
    for name, text in outputs.items():
        assert "Sari" not in text and "Lindqvist" not in text, name
    assert "Hoitaja [poistettu] [poistettu] auttoi" in outputs["html"]


def test_script_answer_is_escaped(outputs):
    page = outputs["html"]
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;lainaus&quot;" in page
    # JSON keeps the text as given (a dashboard must escape it), but as a JSON string.
    assert fixture.HOSTILE.replace('"', '\\"') in outputs["json"]


def test_hostile_labels_in_svg_are_escaped():
    from kanavat.report.svg import Bar, bar_chart

    svg = bar_chart([Bar("<b>x</b>", 0.5, "50 % (10)")], title='"><script>')
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;b&gt;x&lt;/b&gt;" in svg
