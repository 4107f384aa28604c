"""How often, read as a count: "joka päivä" answers "on how many days last week?" as 7.

A number question counts days when its unit is a day word ("päivää", "dagar"), and asks about
a period when its text names one ("viime viikolla", "förra veckan"), both by the lexicon's
``period_words`` compared by morphology (baseform or stem), not by lists of inflected forms.
A count over the question's own period ("kerran viikossa" to a question about a week) is
that count; "every day" over a week is its seven days. Other periods stay no answer
(``normalise`` says ``other_period``): "kerran kuussa" is no count of days last week.
"""

from __future__ import annotations

from kanavat.questions.cleaning import clean, tokens_of
from kanavat.questions.lexicon import Lexicon
from kanavat.questions.memo import memo
from kanavat.questions.model import NumberQuestion, Question, ScaleQuestion
from kanavat.questions.morphology import word_keys

DAILY = "daily"
# Days in a period that has a fixed number of them; months and years vary, so "every day"
# over a month is left unread rather than guessed.
DAYS_IN = {"weekly": 7}


def _period_keys(lex: Lexicon) -> dict[str, frozenset[str]]:
    return memo("period-keys", lex, lex, lambda: _keys_of_periods(lex))


def _keys_of_periods(lex: Lexicon) -> dict[str, frozenset[str]]:
    found: dict[str, frozenset[str]] = {}
    for period, words in lex.period_words.items():
        keys: set[str] = set()
        for word in words:
            keys |= word_keys(clean(word), lex.language, lex.stemmer)
        found[period] = frozenset(keys)
    return found


def _periods_named(text: str, lex: Lexicon) -> set[str]:
    periods = _period_keys(lex)
    found: set[str] = set()
    for token in tokens_of(text):
        keys = word_keys(token, lex.language, lex.stemmer)
        found |= {p for p, pk in periods.items() if keys & pk}
    return found


def counted_unit(question: Question, lex: Lexicon) -> set[str]:
    """The periods the question's unit names: {"daily"} when it counts days."""
    if not isinstance(question, NumberQuestion) or not question.unit:
        return set()
    unit = question.unit.get(lex.language, "")
    return memo("unit-periods", question, lex, lambda: _periods_named(unit, lex))


def asked_periods(question: Question, lex: Lexicon) -> set[str]:
    """The periods the question's text is about, the counted unit aside: "Montako päivää viime
    viikolla" is about a week (it counts days)."""
    if not isinstance(question, NumberQuestion | ScaleQuestion):
        return set()
    text = question.text.get(lex.language, "")
    named = memo("asked-periods", question, lex, lambda: _periods_named(text, lex))
    return named - counted_unit(question, lex)


def days_every_day(question: Question, lex: Lexicon) -> int | None:
    """What "every day" counts to on this question: the days in its period when it counts
    days over a period of fixed length (7 for a week), else None."""
    if DAILY not in counted_unit(question, lex):
        return None
    lengths = {DAYS_IN[p] for p in asked_periods(question, lex) if p in DAYS_IN}
    return lengths.pop() if len(lengths) == 1 else None


# Meanings that say how often without a count: no number of days, however it is read.
VAGUE = ("rarely", "sometimes", "often", "always")


def vague_frequency(tokens: list[str], lex: Lexicon) -> bool:
    """Does the answer say how often only vaguely ("ibland", "oftast", "joskus")? Compared by
    morphology, so inflected and compound-free forms of the lexicon's words count."""
    keys = [word_keys(t, lex.language, lex.stemmer) for t in tokens]
    for meaning in VAGUE:
        for phrase in lex.meanings.get(meaning, ()):
            words = [word_keys(w, lex.language, lex.stemmer) for w in clean(phrase).split()]
            n = len(words)
            for start in range(len(tokens) - n + 1):
                if all(keys[start + i] & words[i] for i in range(n)):
                    return True
    return False
