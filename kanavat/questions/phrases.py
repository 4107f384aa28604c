"""What a resident may say to a question: the phrase table the normaliser matches against,
and the same table per value for recognisers that pick among candidates.

``expected_phrases(question, language)`` is the public view: for each value of a closed
question, the phrases that mean it (labels, synonyms, words of the option's meaning such as
"vaimo" for "omainen" or "kerran viikossa" for "viikoittain", number words and colloquial
numerals in range, scale words, echoes of a yes/no question's verb, hedged numbers).
``listen_for`` is the flat, ordered list a recogniser's grammar or bias takes; it leaves
meaning and scale words out (a bias holds only its first phrases), and the article "en" as a
key of yes/no or an option.
"""

from __future__ import annotations

from kanavat.questions.cleaning import clean
from kanavat.questions.echo import echo_phrases
from kanavat.questions.frequency import DAILY, days_every_day
from kanavat.questions.lexicon import Lexicon, lexicon
from kanavat.questions.meanings import meaning_phrases
from kanavat.questions.memo import memo
from kanavat.questions.model import (
    ChoiceQuestion,
    NumberQuestion,
    Question,
    ScaleQuestion,
    TextQuestion,
    YesNoQuestion,
)
from kanavat.questions.scale_words import scale_phrases

DONT_KNOW = "dont_know"
SKIP = "skip"
Value = str | int | None


def phrase_table(question: Question, lex: Lexicon) -> list[tuple[str, Value, str]]:
    """(category, value, phrase) for everything this question can hear, besides numbers.

    Categories: command, dont_know, skip, yes, no, option (label or synonym), meaning (a word
    of the option's meaning), scale (a scale word read into a point), scale_label (the
    scale's own end label), number (a number phrase of several words: "ei yhtään"), once
    ("kerran": 1 on a number question, matched word for word).
    """
    out: list[tuple[str, Value, str]] = []
    for command, phrases in lex.commands.items():
        out += [("command", command, p) for p in phrases]
    out += [(DONT_KNOW, DONT_KNOW, p) for p in lex.dont_know]
    out += [(SKIP, SKIP, p) for p in lex.skip]
    if isinstance(question, YesNoQuestion):
        out += [("yes", "yes", p) for p in (*lex.yes, *lex.extra_synonyms.get("yes", ()))]
        out += [("no", "no", p) for p in (*lex.no, *lex.extra_synonyms.get("no", ()))]
    if isinstance(question, ChoiceQuestion):
        for option in question.options:
            words = [option.label.get(lex.language, "")]
            words += option.synonyms.get(lex.language, [])
            words += lex.extra_synonyms.get(option.id, ())
            out += [("option", option.id, w) for w in words if w]
        out += [("meaning", option_id, p) for option_id, p in meaning_phrases(question, lex)]
    if isinstance(question, ScaleQuestion):
        for s in scale_phrases(question, lex.language, lex):
            out.append(("scale_label" if s.label else "scale", s.value, s.phrase))
    if isinstance(question, NumberQuestion):
        out += [("once", 1, p) for p in lex.once]
    if not isinstance(question, YesNoQuestion):  # "ei yhtään" on a yes/no question is "ei"
        out += [("number", v, w) for w, v in lex.numbers.items() if " " in w]
    return out


def _numbers_for(question: Question, lex: Lexicon) -> list[tuple[str, int]]:
    """Number words (colloquial numerals included) that answer the question, as (word, n)."""
    items = sorted(lex.numbers.items(), key=lambda kv: kv[1])
    if isinstance(question, ScaleQuestion | NumberQuestion):
        return [(w, v) for w, v in items if question.min <= v <= question.max]
    if isinstance(question, YesNoQuestion):
        # Keys 1 and 2, as single words: several-word numbers are not read on yes/no, nor
        # an article ("en" is as likely "a" as "one").
        return [
            (w, v)
            for w, v in lex.numbers.items()
            if v in (1, 2) and " " not in w and w not in lex.articles
        ]
    if isinstance(question, ChoiceQuestion):
        # Option numbers only: "yhdeksän" listed for a four-option question only invites a
        # recogniser to hear it (Whisper did, for "naapuri").
        count = len(question.options)
        return [(w, v) for w, v in lex.numbers.items() if 1 <= v <= count and w not in lex.articles]
    return []


def expected_phrases(
    question: Question, language: str, lex: Lexicon | None = None
) -> dict[Value, list[str]]:
    """Per value of a closed question, the phrases a resident may say for it, cleaned.

    Values are the question's own (``"yes"``/``"no"``, option ids, scale points; a number
    question's values in range) plus ``"dont_know"`` and ``"skip"``; commands are in
    :func:`command_phrases`. For a yes/no question and a choice question the keypad-style
    numbers are listed under the value they select ("yksi" under ``"yes"``, "kolmonen" under
    the third option); a yes/no question also lists echoes of its verb ("saan", "en saa").
    Phrases are most typical first (label, synonyms, meaning words, then numbers, then
    scale words written with the label's own word: "melko hyvin", not every synonym of
    "hyvin", though the normaliser understands those too), and last a number hedged
    ("ehkä kolme", "kanske tre", so that a recogniser choosing among candidates does not
    force "kanske tre" onto "kan inte säga"). A free-text question has none.
    """
    lex = lex or lexicon(language)
    if isinstance(question, TextQuestion):
        return {}
    out: dict[Value, list[str]] = {}

    def add(value: Value, phrase: str) -> None:
        cleaned = clean(phrase)
        if cleaned and cleaned not in out.setdefault(value, []):
            out[value].append(cleaned)

    table = phrase_table(question, lex)
    if isinstance(question, ScaleQuestion):
        for v in range(question.min, question.max + 1):
            add(v, str(v))
    for category, value, phrase in table:
        if category in ("yes", "no", "option", "meaning", "scale_label"):
            add(value, phrase)
    keys: dict[str, Value] = {}
    if isinstance(question, YesNoQuestion):
        keys = {"1": "yes", "2": "no"}
    if isinstance(question, ChoiceQuestion):
        keys = {key: option.id for key, option in question.keyed_options()}
    for word, number in _numbers_for(question, lex):
        if keys:
            if str(number) in keys:
                add(keys[str(number)], word)
        else:
            add(number, word)
    if isinstance(question, YesNoQuestion):
        for word in sorted(lex.yes_alone):
            add("yes", word)
    for verdict, echoes in echo_phrases(question, language, lex).items():
        for phrase in echoes:
            add(verdict, phrase)
    typical = {
        (s.value, s.phrase)
        for s in (
            scale_phrases(question, language, lex) if isinstance(question, ScaleQuestion) else []
        )
        if s.typical
    }
    for category, value, phrase in table:
        if (category == "scale" and (value, phrase) in typical) or (
            category in ("number", "once")
            and isinstance(question, NumberQuestion | ScaleQuestion)
            and isinstance(value, int)
            and question.min <= value <= question.max
        ):
            add(value, phrase)
    every_day = days_every_day(question, lex)
    if every_day is not None and question.min <= every_day <= question.max:  # type: ignore[union-attr]
        for phrase in lex.meanings.get(DAILY, ()):  # "joka päivä" for 7 days of a week
            add(every_day, phrase)
    if isinstance(question, ScaleQuestion | NumberQuestion):
        # A hedged number ("kanske tre") beside "kan inte säga": a recogniser choosing among
        # candidates should not force one onto the other.
        for value in [v for v in out if isinstance(v, int)]:
            word = next((p for p in out[value] if not p.isdigit()), None)
            if word is not None and " " not in word:
                for hedge in lex.hedges:
                    add(value, f"{hedge} {word}")
    for category, value, phrase in table:
        if category in (DONT_KNOW, SKIP):
            add(value, phrase)
    return out


def command_phrases(language: str, lex: Lexicon | None = None) -> dict[str, list[str]]:
    """Per command (repeat, stop, help), the phrases that say it on their own."""
    lex = lex or lexicon(language)
    return {c: list(dict.fromkeys(clean(p) for p in ps)) for c, ps in lex.commands.items()}


def listen_for(question: Question, language: str, lex: Lexicon | None = None) -> list[str]:
    """Words worth listening for, most likely first: the question's own answers (numbers in
    range, yes/no, option labels and synonyms), then "don't know" and skip, then commands.

    Vosk turns the whole list into a grammar; Whisper takes it as a bias, where only the
    first phrases fit, so the order matters. Meaning words and scale words are left out here
    (they would crowd a bias); :func:`expected_phrases` has them per value."""
    lex = lex or lexicon(language)
    return list(memo("listen_for", question, lex, lambda: _listen_for(question, lex)))


def _listen_for(question: Question, lex: Lexicon) -> tuple[str, ...]:
    everything = phrase_table(question, lex)
    answers = [clean(p) for category, _, p in everything if category in ("yes", "no", "option")]
    specials = [clean(p) for category, _, p in everything if category in (DONT_KNOW, SKIP)]
    commands = [clean(p) for category, _, p in everything if category == "command"]
    numbers = [w for w, _ in _numbers_for(question, lex)]
    if isinstance(question, ScaleQuestion | NumberQuestion):
        ordered = numbers + answers
    else:
        ordered = answers + numbers
    return tuple(dict.fromkeys(p for p in [*ordered, *specials, *commands] if p))
