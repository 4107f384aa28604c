"""Per-language answer lexicons and system texts, loaded from the data files beside this module.

A language is usable when kanavat has its lexicon (what residents say) and its texts (what
kanavat says); counties add one by dropping ``lexicon/<code>.toml`` and ``texts/<code>.toml``
files here or in a directory named by ``KANAVAT_LEXICON_PATH``. Extra synonyms, for example
from Rasa NLU YAML, are merged with :func:`Lexicon.extended`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent


class UnknownLanguage(LookupError):
    pass


@dataclass(frozen=True)
class Lexicon:
    language: str
    yes: tuple[str, ...]
    no: tuple[str, ...]
    dont_know: tuple[str, ...]
    skip: tuple[str, ...]
    filler: frozenset[str]
    commands: dict[str, tuple[str, ...]]
    numbers: dict[str, int]
    multipliers: dict[str, int] = field(default_factory=dict)
    teen_suffix: str | None = None
    stemmer: str | None = None
    negations: frozenset[str] = frozenset()
    """Words that deny the number right after them: "en yhtenäkään", "not one", "inte en"."""
    fractions: frozenset[str] = frozenset()
    """Words that make a number not whole: "kolme ja puoli" is no scale point."""
    extra_synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Option id (or yes/no) -> more phrases, merged from outside (Rasa NLU YAML)."""
    meanings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Meaning -> words of it ("kin": tytär, vaimo, mies...; "weekly": kerran viikossa...).
    An option whose label or synonyms hold one of them hears them all (see meanings.py)."""
    periods: tuple[str, ...] = ()
    period_words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Period -> the words it is named by ("weekly": viikko): a number question's period is
    read from its text by them (see frequency.py)."""
    """Meanings that are periods ("weekly"): a count over another period than the question's
    ("kaksi kertaa viikossa" to "montako kertaa kuukaudessa") is not its answer."""
    hedges: tuple[str, ...] = ()
    """Words that hedge a number ("ehkä kolme", "kanske tre"): listed with the numbers for
    recognisers, so "kanske tre" is not forced onto "kan inte säga". Also in ``filler``."""
    filled_pause_order: tuple[str, ...] = ()
    """ "Öö", "tota", "öh": hesitations (and how a recogniser writes them), never an answer;
    the typical ones first."""
    or_words: frozenset[str] = frozenset()
    """ "Tai", "eller", "or": a negation's reach ends there ("får eller inte" is both)."""
    yes_alone: frozenset[str] = frozenset()
    """Words that are yes only as the whole answer: "nog" (Finland Swedish); "nog nej" is no."""
    echo_verbs: frozenset[str] = frozenset()
    """Verbs that echo any yes/no question: "det gör jag" answers "Får du hjälp?"."""
    scale_poles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Pole meaning -> words ("good": hyvin, hyvä...): a scale's end labels name the poles."""
    degrees: dict[str, frozenset[str]] = field(default_factory=dict)
    """"extreme" (tosi, erittäin), "moderate" (melko, aika): words that place a pole word."""
    middle: tuple[str, ...] = ()
    """Words for a scale's middle ("kohtalaisesti", "siinä ja siinä")."""
    once: tuple[str, ...] = ()
    """ "Kerran", "en gång", "once": 1 on a number question, no option key elsewhere."""
    count_words: frozenset[str] = frozenset()
    """Words that make a number a count ("kaksi kertaa viikossa"), never an option's key."""
    articles: frozenset[str] = frozenset()
    """Number words that are also articles ("en granne"): a number only with no noun after."""

    @property
    def filled_pauses(self) -> frozenset[str]:
        return frozenset(self.filled_pause_order)

    def extended(self, synonyms: dict[str, list[str]]) -> Lexicon:
        merged = {k: tuple(v) for k, v in self.extra_synonyms.items()}
        for key, words in synonyms.items():
            merged[key] = tuple(dict.fromkeys([*merged.get(key, ()), *words]))
        return replace(self, extra_synonyms=merged)


def _search_dirs(kind: str) -> list[Path]:
    dirs = []
    extra = os.environ.get("KANAVAT_LEXICON_PATH")
    if extra:
        dirs += [Path(p) / kind for p in extra.split(os.pathsep) if p]
    dirs.append(HERE / kind)
    return dirs


def _find(kind: str, language: str) -> Path:
    for d in _search_dirs(kind):
        path = d / f"{language}.toml"
        if path.is_file():
            return path
    raise UnknownLanguage(f"no {kind} for language '{language}'")


def available_languages() -> list[str]:
    found: set[str] = set()
    for d in _search_dirs("lexicon"):
        found |= {p.stem for p in d.glob("*.toml")}
    return sorted(lang for lang in found if has_language(lang))


def has_language(language: str) -> bool:
    try:
        _find("lexicon", language)
        _find("texts", language)
    except UnknownLanguage:
        return False
    return True


@cache
def lexicon(language: str) -> Lexicon:
    data = tomllib.loads(_find("lexicon", language).read_text(encoding="utf-8"))
    parts = data.get("number_parts", {})
    scale = data.get("scale", {})
    return Lexicon(
        language=language,
        yes=tuple(data.get("yes", ())),
        no=tuple(data.get("no", ())),
        dont_know=tuple(data.get("dont_know", ())),
        skip=tuple(data.get("skip", ())),
        filler=frozenset(data.get("filler", ())),
        commands={k: tuple(v) for k, v in data.get("commands", {}).items()},
        numbers={str(k): int(v) for k, v in data.get("numbers", {}).items()},
        multipliers={str(k): int(v) for k, v in parts.get("multipliers", {}).items()},
        teen_suffix=parts.get("teen_suffix"),
        stemmer=data.get("stemmer"),
        negations=frozenset(data.get("negations", ())),
        fractions=frozenset(data.get("fractions", ())),
        meanings={k: tuple(v) for k, v in data.get("meanings", {}).items()},
        periods=tuple(data.get("periods", ())),
        period_words={k: tuple(v) for k, v in data.get("period_words", {}).items()},
        hedges=tuple(data.get("hedges", ())),
        or_words=frozenset(data.get("or_words", ())),
        filled_pause_order=tuple(data.get("filled_pauses", ())),
        yes_alone=frozenset(data.get("yes_alone", ())),
        echo_verbs=frozenset(data.get("echo_verbs", ())),
        scale_poles={k: tuple(v) for k, v in scale.get("poles", {}).items()},
        degrees={k: frozenset(scale.get(k, ())) for k in ("extreme", "moderate")},
        middle=tuple(scale.get("middle", ())),
        once=tuple(data.get("once", ())),
        count_words=frozenset(data.get("count_words", ())),
        articles=frozenset(data.get("articles", ())),
    )


@cache
def texts(language: str) -> dict:
    """System texts (hints, confirmations, help) as nested dicts, e.g. ``texts("fi")["reply"]``."""
    return tomllib.loads(_find("texts", language).read_text(encoding="utf-8"))
