"""Small pieces without a server: language choice, NLU parsing, limits, the link command."""

from __future__ import annotations

import struct
from pathlib import Path

import click
import pytest
import segno
from click.testing import CliRunner

from kanavat.chat import nlu
from kanavat.chat.cli import chat
from kanavat.chat.language import accepted, choose
from kanavat.chat.limits import RateLimit
from kanavat.questions.model import ChoiceQuestion, Option
from kanavat.questions.normalise import Input, normalise

HERE = Path(__file__).parent


@pytest.mark.parametrize(
    ("asked", "remembered", "header", "expected"),
    [
        ("sv", "fi", "en", "sv"),
        (None, "en", "sv", "en"),
        (None, None, "de-DE,sv;q=0.7,en;q=0.8", "en"),
        (None, None, "sv-FI", "sv"),
        ("de", None, None, "fi"),
        (None, None, "*", "fi"),
        (None, None, "en;q=0", "fi"),
    ],
)
def test_language_choice(asked, remembered, header, expected) -> None:
    assert choose(["fi", "sv", "en"], asked, remembered, header) == expected


def test_accept_language_order() -> None:
    assert accepted("en;q=0.5, fi-FI, sv;q=0.9, fi;q=0.1") == ["fi", "sv", "en"]


def test_nlu_yaml_intents_and_synonyms() -> None:
    parsed = nlu.parse((HERE / "nlu" / "nuorten_aani.fi.yml").read_text(encoding="utf-8"))
    assert parsed == {
        "yes": ["joo", "jep", "totta kai"],
        "no": ["ei oo", "nope"],
        "hinta": ["ei oo rahaa", "liian kallis"],
        "aika": ["ei ehdi"],
    }
    with pytest.raises(nlu.NluError):
        nlu.parse("nlu: {broken")


def test_nlu_synonyms_reach_the_normaliser(tmp_path: Path) -> None:
    (tmp_path / "nlu").mkdir()
    (tmp_path / "nlu" / "q.fi.yml").write_text(
        'version: "3.1"\nnlu:\n- synonym: matka\n  examples: |\n    - ei kulje bussit\n',
        encoding="utf-8",
    )
    question = ChoiceQuestion(
        id="este",
        type="choice",
        text={"fi": "Miksi?"},
        options=[
            Option(id="hinta", label={"fi": "hinta"}),
            Option(id="matka", label={"fi": "matka"}),
        ],
    )
    lex = nlu.lexicon_for(tmp_path, "q", "fi")
    assert lex is not None
    assert normalise(question, Input("text", "ei kulje bussit"), "fi", lex).value == "matka"
    assert normalise(question, Input("text", "ei kulje bussit"), "fi").kind == "no_match"
    assert nlu.lexicon_for(tmp_path, "q", "sv") is None


def test_rasa_intent_messages() -> None:
    assert nlu.intent_value("/affirm") == "yes"
    assert nlu.intent_value('/hinta{"x": 1}') == "hinta"
    assert nlu.intent_value("/restart") == "/restart"
    assert nlu.intent_value("joo") is None


def test_rate_limit_refills() -> None:
    now = [0.0]
    limit = RateLimit(per_minute=60, burst=2, clock=lambda: now[0])
    assert [limit.allow("a") for _ in range(3)] == [True, True, False]
    assert limit.allow("b")
    now[0] += 1.0
    assert limit.allow("a") and not limit.allow("a")


def test_chat_link_prints_the_link_and_writes_a_qr_code(config_copy: Path) -> None:
    group = click.Group(commands={"chat": chat})
    result = CliRunner().invoke(
        group, ["chat", "link", "nuoret-2027", "--lang", "sv", "--config", str(config_copy)]
    )
    assert result.exit_code == 0, result.output
    url, png = result.output.splitlines()
    assert url == "http://127.0.0.1:8080/chat/nuoret-2027?lang=sv"
    assert Path(png) == config_copy.parent / "qr" / "nuoret-2027-sv.png"
    head = Path(png).read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])  # the IHDR chunk comes first
    assert width == height >= 300  # 12 px a module: crisp when printed on a poster
    assert segno.make(url, error="m", boost_error=False).version >= 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["vanhukset-2027"], "is not on chat"),
        (["ei-ole"], "ei-ole"),
        (["nuoret-2027", "--lang", "de"], "language 'de' is not one of the county's"),
    ],
)
def test_chat_link_mistakes(config_copy: Path, args: list[str], message: str) -> None:
    group = click.Group(commands={"chat": chat})
    result = CliRunner().invoke(group, ["chat", "link", *args, "--config", str(config_copy)])
    assert result.exit_code == 1
    assert message in result.output
