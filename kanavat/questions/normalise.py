"""Answer normalisation: any resident input (typed text, keypad digits, a chat button, a speech
transcript with its confidence) becomes a value of the question, a command, or a no-match with
a reason. Ambiguous or out-of-range input is a no-match, never a guess.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

from rapidfuzz import fuzz

from kanavat.questions.cleaning import clean, tokens_of
from kanavat.questions.closest import closest_answer
from kanavat.questions.echo import echo_spans, is_negation
from kanavat.questions.frequency import DAILY, asked_periods, days_every_day, vague_frequency
from kanavat.questions.hypotheses import agreed, by_hypotheses
from kanavat.questions.keys import button, keypad
from kanavat.questions.lexicon import Lexicon, lexicon
from kanavat.questions.memo import memo
from kanavat.questions.model import (
    ChoiceQuestion,
    NumberQuestion,
    Question,
    ScaleQuestion,
    TextQuestion,
    YesNoQuestion,
)
from kanavat.questions.morphology import word_keys
from kanavat.questions.numerals import joins, number_word
from kanavat.questions.phrases import (
    DONT_KNOW,
    SKIP,
    Value,
    listen_for,
    phrase_table,
)
from kanavat.questions.result import COMMANDS, Input, InputKind, Result, ResultKind, no_match

# Input and Result live in ``result.py`` (the normaliser's parts share them); callers import
# them from here as before.
__all__ = [
    "COMMANDS",
    "DONT_KNOW",
    "SKIP",
    "Input",
    "InputKind",
    "Result",
    "ResultKind",
    "Value",
    "answer_among_hypotheses",
    "clean",
    "expected_phrases",
    "no_match",
    "normalise",
]

FUZZY_MIN = 85  # rapidfuzz ratio for a typo to count ("kotihoto" ~ "kotihoito")
FUZZY_MIN_LENGTH = 5  # shorter words must match exactly: "ei" is not a typo of "en"
KEY_MIN_LENGTH = 3  # shorter words match only themselves, not by a shared baseform or stem


def normalise(
    question: Question, given: Input, language: str, lex: Lexicon | None = None
) -> Result:
    lex = lex or lexicon(language)
    if given.kind == "timeout":
        return no_match("no_input")
    if given.kind == "keypad":
        return keypad(question, given.raw.strip())
    if given.kind == "button":
        result = button(question, given.raw.strip())
        if result is not None:
            return result
    if given.kind != "speech":
        return _words(question, given.raw, lex)
    closed = not isinstance(question, TextQuestion)
    read = _reader(question, lex)
    result = read(given.raw)
    if closed and len(given.alternatives) > 1:
        result = by_hypotheses(result, given.alternatives, read)
    if result.kind != "no_match":
        heard = 1.0 if given.confidence is None else max(0.0, min(1.0, given.confidence))
        reading, result = result, replace(result, confidence=result.confidence * heard)
        if closed and given.hearings:
            # By their words only: a closest-answer guess is no hearing of the answer.
            words = partial(_words, question, lex=lex)
            result = agreed(reading, result, given.hearings, words)
    return result


# -- words ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Match:
    category: str  # command, dont_know, skip, yes, no, option, meaning, scale, number, negated
    value: Value
    start: int
    end: int
    quality: float


# Typos are forgiven for the question's own labels and the lexicon's short lists, not for the
# large tables read by meaning: "varmaan" is no typo of "varsin", nor "tuttu" of "tutti".
_NO_TYPOS = frozenset({"scale", "meaning", "period", "once"})
INTERPRETED = 0.7  # a scale word read into a point ("melko hyvin" = 4): asked about first
MEANING_QUALITY = 0.9  # an option heard by its meaning ("vaimolta" for "omainen")
# At equal length and quality the question's own answers win over numbers, numbers over
# "don't know" and skip, those over commands: "nej tack" on a yes/no question is no, not stop.
_PRIORITY = {"command": 3, DONT_KNOW: 2, SKIP: 2, "number": 1, "negated": 1}


def _words(question: Question, raw: str, lex: Lexicon) -> Result:
    text = raw.strip()
    if not clean(text):
        return no_match("empty")
    tokens = tokens_of(text)
    if isinstance(question, TextQuestion):
        return _free_text(question, text, tokens, lex)
    keys = [word_keys(t, lex.language, lex.stemmer) for t in tokens]
    found = _drop_articles_and_counts(
        question, _candidates(question, tokens, keys, lex), tokens, keys, lex
    )
    matches = _select(found)
    if any(m.category == "negated" for m in matches):
        return no_match("negated")  # "en yhtenäkään päivänä" is not 1; zero phrases are data
    commands = [m for m in matches if m.category == "command"]
    specials = [m for m in matches if m.category in (DONT_KNOW, SKIP)]
    answers = _answers(question, matches)
    if isinstance(answers, Result):
        return answers
    distinct = {v for v, _, _ in answers}
    fraction = any(t in lex.fractions for t in tokens)
    if distinct and fraction and isinstance(question, ScaleQuestion | NumberQuestion):
        return no_match("not_whole")  # "kolme ja puoli" is neither 3 nor 4
    if len(distinct) > 1 or (distinct and specials):
        return no_match("ambiguous")
    if distinct:
        # A command word inside an answer is part of the answer ("grannen hjälper").
        matches = [m for m in matches if m.category != "command"]
        commands = []
    if len({m.value for m in commands}) > 1 or (commands and specials):
        return no_match("ambiguous")
    used = {i for m in matches for i in range(m.start, m.end)}
    ignorable = _ignorable(question, lex)
    leftover = [i for i, t in enumerate(tokens) if i not in used and not (keys[i] & ignorable)]
    unused = [t for i, t in enumerate(tokens) if i not in used]
    if distinct and distinct != {"no"} and any(is_negation(t, lex) for t in unused):
        return no_match("negated")  # "en kolme", "int naapuri", "ej ja": never a positive value
    if (
        distinct
        and not isinstance(question, YesNoQuestion)
        and _other_period(question, matches, lex)
    ):
        return no_match("other_period")  # "kaksi kertaa viikossa" to "how many a month"
    penalty = 0.85 if leftover else 1.0
    if distinct:
        value = distinct.pop()
        said = [(q, c) for v, q, c in answers if v == value]
        quality = min(q for q, _ in said)
        if isinstance(question, ScaleQuestion | NumberQuestion):
            assert isinstance(value, int)
            if not question.min <= value <= question.max:
                return no_match("out_of_range")
        read = {c for _, c in said}
        if read <= {"scale"} or (leftover and read <= {"scale", "scale_label", "meaning"}):
            # A reading ("melko hyvin" = 4), or a word read by meaning among other words
            # ("hyvää päivää", "en man från kommunen"): asked about, not kept outright.
            return Result("answer", value, min(quality, INTERPRETED) * penalty, "interpreted")
        return Result("answer", value, quality * penalty)
    if commands:
        # Only a message that is the command: an inflected command word ("hjälper") in a
        # sentence is somebody's answer, not a request.
        inexact = min(m.quality for m in commands) < 1.0
        if (leftover and inexact) or len(leftover) > 2:
            return no_match("not_understood")
        return Result("command", commands[0].value, commands[0].quality * penalty)
    if specials:
        return Result("answer", specials[0].category, specials[0].quality * penalty)
    alone = {t for i, t in enumerate(tokens) if i not in used}
    if (
        isinstance(question, YesNoQuestion)
        and alone & lex.yes_alone
        and alone <= lex.yes_alone | lex.filler
    ):
        return Result("answer", "yes", 1.0)  # "nog": a yes said alone
    if isinstance(question, NumberQuestion) and vague_frequency(tokens, lex):
        return no_match("not_a_count")  # "ibland", "oftast": how often, but no number
    return no_match("not_understood")


def _ignorable(question: Question, lex: Lexicon) -> frozenset[str]:
    """Keys of words that carry no answer: filler (by baseform: "luulisin" is "luulla"), the
    question's own unit, and count words ("kertaa")."""
    return memo("ignorable", question, lex, lambda: _ignorable_keys(question, lex))


def _ignorable_keys(question: Question, lex: Lexicon) -> frozenset[str]:
    words = {*lex.filler, *_unit_words(question, lex.language), *lex.count_words}
    keys: set[str] = set()
    for word in words:
        if " " not in word:
            keys |= word_keys(word, lex.language, lex.stemmer)
    return frozenset(keys)


def _unit_words(question: Question, language: str) -> frozenset[str]:
    """ "7 kertaa" answers "how many times": the question's own unit is no extra word."""
    if isinstance(question, NumberQuestion) and question.unit and language in question.unit:
        return frozenset(clean(question.unit[language]).split())
    return frozenset()


def _drop_articles_and_counts(
    question: Question,
    matches: list[_Match],
    tokens: list[str],
    keys: list[frozenset[str]],
    lex: Lexicon,
) -> list[_Match]:
    """Numbers that are not answers: an article before a noun ("en granne" is no 1); and as
    the key of an option or of yes/no, a count ("två gånger i veckan" is no option 2), a zero
    word ("aldrig") or an article word at all ("en" is as likely "a" as "one": say "ettan")."""
    counts = frozenset().union(*(word_keys(w, lex.language, lex.stemmer) for w in lex.count_words))
    said = {  # words of a command or "don't know": after them "en" is a number, not an article
        i
        for m in matches
        if m.category in ("command", DONT_KNOW, SKIP)
        for i in range(m.start, m.end)
    }
    ignorable = _ignorable(question, lex)
    periods = {m.start for m in matches if m.category == "period"}  # "kahdessa viikossa"
    out = []
    for m in matches:
        if m.category == "number" and (m.value == 0 or m.end - m.start == 1):
            nxt = keys[m.end] if m.end < len(tokens) else None
            is_count = nxt is not None and (bool(nxt & counts) or m.end in periods)
            noun = (  # "en granne", "en dag"; not "en eller två", "en upprepa", "en tack"
                nxt is not None
                and not is_count
                and m.end not in said
                and not nxt & ignorable
                and number_word(tokens[m.end], nxt, lex) is None
            )
            if tokens[m.start] in lex.articles and (noun or _numeral_noun(m, tokens, keys, lex)):
                continue
            if isinstance(question, ChoiceQuestion | YesNoQuestion) and (
                is_count
                or (m.value == 0 and not tokens[m.start].isdigit())
                or tokens[m.start] in lex.articles
            ):
                continue
        out.append(m)
    return out


def _counts_before(
    period: _Match, found: list[_Match], keys: list[frozenset[str]], lex: Lexicon
) -> list[_Match]:
    """Numbers counting the period: right before it, or before a count word right before it
    ("kaksi kertaa päivässä"); "toista päivittäin" holds no count."""
    count_keys = _count_keys(lex)

    def counts(m: _Match) -> bool:
        if m.category != "number":
            return False
        if m.end == period.start:
            return m.quality == 1.0  # a number by baseform alone ("toista": 2, or repeat)
        return m.end + 1 == period.start and bool(keys[m.end] & count_keys)

    return [m for m in found if counts(m)]


def _count_keys(lex: Lexicon) -> frozenset[str]:
    return memo(
        "count-keys",
        lex,
        lex,
        lambda: frozenset().union(
            *(word_keys(w, lex.language, lex.stemmer) for w in lex.count_words)
        ),
    )


def _numeral_noun(m: _Match, tokens: list[str], keys: list[frozenset[str]], lex: Lexicon) -> bool:
    """An article before a numeral noun: "en trea" is a three, not 1 and 3."""
    if m.end >= len(tokens):
        return False
    after = number_word(tokens[m.end], keys[m.end], lex)
    return after is not None and not joins(m.value, after[0])  # type: ignore[arg-type]


def _other_period(question: Question, matches: list[_Match], lex: Lexicon) -> bool:
    """Does the answer count over a period ("viikossa") the question does not ask about?"""
    if not isinstance(question, NumberQuestion | ScaleQuestion):
        return False
    said = {m.value for m in matches if m.category == "period"}
    if not said:
        return False
    text = question.text.get(lex.language, "")
    asked = memo("periods", question, lex, lambda: _periods_of(text, lex))
    return bool(said - asked - asked_periods(question, lex))


def _periods_of(text: str, lex: Lexicon) -> set[Value]:
    tokens = tokens_of(text)
    keys = [word_keys(t, lex.language, lex.stemmer) for t in tokens]
    return {m.value for m in _period_matches(tokens, keys, lex)}


def _period_matches(tokens: list[str], keys: list[frozenset[str]], lex: Lexicon) -> list[_Match]:
    """Periods said word for word ("viikossa", "i veckan"): by baseform "15 vuotta" would be
    "vuodessa" and by stem "years" "yearly", and a count's period is in its case."""
    table = memo("period-table", lex, lex, lambda: _compile(_period_table(lex), lex))
    return [m for m in _phrase_matches(table, tokens, keys) if m.quality == 1.0]


def _period_table(lex: Lexicon) -> list[tuple[str, Value, str]]:
    return [("period", p, phrase) for p in lex.periods for phrase in lex.meanings.get(p, ())]


def _free_text(question: TextQuestion, text: str, tokens: list[str], lex: Lexicon) -> Result:
    joined = " ".join(tokens)
    for kind, value, phrases in memo("free-text", lex, lex, lambda: _whole_messages(lex)):
        if joined in phrases:
            return Result(kind, value, 1.0)
    if len(text) > question.max_length:
        return no_match("too_long")
    return Result("answer", " ".join(text.split()), 1.0)


def _whole_messages(lex: Lexicon) -> list[tuple[ResultKind, str, frozenset[str]]]:
    """What a whole free-text message may be instead of an answer, in the order it is
    tried: each command, then "don't know" and skip; their phrases cleaned once."""
    found: list[tuple[ResultKind, str, frozenset[str]]] = [
        ("command", command, frozenset(clean(p) for p in phrases))
        for command, phrases in lex.commands.items()
    ]
    for special, phrases in ((DONT_KNOW, lex.dont_know), (SKIP, lex.skip)):
        found.append(("answer", special, frozenset(clean(p) for p in phrases)))
    return found


def _answers(question: Question, matches: list[_Match]) -> list[tuple[Value, float, str]] | Result:
    """(value, quality, category) of every answer heard."""
    if isinstance(question, YesNoQuestion):
        found = [
            (m.category, m.quality, m.category) for m in matches if m.category in ("yes", "no")
        ]
        found += [
            ({1: "yes", 2: "no"}[m.value], m.quality, "number")  # type: ignore[index]
            for m in matches
            if m.category == "number" and m.value in (1, 2)
        ]
        return found
    if isinstance(question, ScaleQuestion | NumberQuestion):
        return [
            (m.value, m.quality, m.category)
            for m in matches
            if m.category in ("number", "scale", "scale_label")
        ]
    if isinstance(question, ChoiceQuestion):
        keys = {key: option.id for key, option in question.keyed_options()}
        found = [
            (m.value, m.quality, m.category) for m in matches if m.category in ("option", "meaning")
        ]
        for m in matches:
            if m.category == "number":
                if str(m.value) not in keys:
                    return no_match("unknown_key")
                found.append((keys[str(m.value)], m.quality, "number"))
        return found
    return []


def _candidates(
    question: Question, tokens: list[str], keys: list[frozenset[str]], lex: Lexicon
) -> list[_Match]:
    table = memo("table", question, lex, lambda: _compile(phrase_table(question, lex), lex))
    found = _phrase_matches(table, tokens, keys)
    found = [
        replace(m, quality=min(m.quality, MEANING_QUALITY)) if m.category == "meaning" else m
        for m in found
        if m.category != "once" or m.quality == 1.0  # "kertaa" is no "kerran" by baseform
    ]
    found = [replace(m, category="number") if m.category == "once" else m for m in found]
    found += [
        _Match(c, c, s, e, 1.0) for c, s, e in echo_spans(question, tokens, lex.language, lex)
    ]
    periods = _period_matches(tokens, keys, lex)
    in_periods = {i for m in periods for i in range(m.start, m.end)}
    # A period word is no number by its baseform: "kuussa" (a month) is not "kuusi" (six).
    found += [m for m in _numbers(tokens, keys, lex) if m.start not in in_periods]
    every_day = days_every_day(question, lex)
    if every_day is not None:  # "joka päivä" to "on how many days last week": 7
        for period in [m for m in periods if m.value == DAILY]:
            counts = _counts_before(period, found, keys, lex)
            if any(m.value != 1 for m in counts):
                continue  # "kaksi kertaa päivässä": a count over another period
            # "kerran päivässä" (once a day) is every day too: the count is part of it.
            found = [m for m in found if m not in counts]
            start = min([period.start, *(m.start for m in counts)])
            found.append(replace(period, category="number", value=every_day, start=start))
            periods = [m for m in periods if m is not period]
    return found + periods


_Entry = tuple[str, Value, tuple[str, ...], tuple[frozenset[str], ...], bool]


class _Compiled:
    """A phrase table's entries (category, value, words, their keys, typos forgiven), in
    table order, indexed by what their first word can be matched by (``_word_match``'s
    rules): itself, a key it shares with the message's word (both ``KEY_MIN_LENGTH``
    letters or more), or a typo (both long enough, typos forgiven). Most messages are a
    word or two and most phrases cannot begin at any of them: only those that can are
    tried (``candidates``), in table order."""

    def __init__(self, entries: list[_Entry]):
        self.entries = entries
        self._by_word: dict[str, list[int]] = {}
        self._by_key: dict[str, list[int]] = {}
        self._typos: list[int] = []
        for i, (_, _, words, keys, fuzzy) in enumerate(entries):
            self._by_word.setdefault(words[0], []).append(i)
            if len(words[0]) >= KEY_MIN_LENGTH:
                for key in keys[0]:
                    self._by_key.setdefault(key, []).append(i)
            if fuzzy and len(words[0]) >= FUZZY_MIN_LENGTH:
                self._typos.append(i)

    def candidates(self, tokens: list[str], keys: list[frozenset[str]]) -> list[tuple[int, int]]:
        """(entry, start) pairs whose first word may match the token at ``start`` and whose
        words fit in the message, in the order the table and the message give them."""
        found: set[tuple[int, int]] = set()
        for start, token in enumerate(tokens):
            room = len(tokens) - start
            indices = list(self._by_word.get(token, ()))
            if len(token) >= KEY_MIN_LENGTH:
                for key in keys[start]:
                    indices += self._by_key.get(key, ())
            if len(token) >= FUZZY_MIN_LENGTH:
                indices += self._typos
            found.update((i, start) for i in indices if len(self.entries[i][2]) <= room)
        return sorted(found)


def _compile(table: list[tuple[str, Value, str]], lex: Lexicon) -> _Compiled:
    """Each phrase's cleaned words and their keys, worked out once per question."""
    out: list[_Entry] = []
    for category, value, phrase in table:
        words = tuple(clean(phrase).split())
        if words:
            keys = tuple(word_keys(w, lex.language, lex.stemmer) for w in words)
            out.append((category, value, words, keys, category not in _NO_TYPOS))
    return _Compiled(out)


def _phrase_matches(
    table: _Compiled, tokens: list[str], keys: list[frozenset[str]]
) -> list[_Match]:
    found: list[_Match] = []
    for index, start in table.candidates(tokens, keys):
        category, value, words, phrase_keys, fuzzy = table.entries[index]
        quality = 1.0
        for offset in range(len(words)):
            q = _word_match(
                tokens[start + offset],
                keys[start + offset],
                words[offset],
                phrase_keys[offset],
                fuzzy,
            )
            if q == 0:
                break
            quality = min(quality, q)
        else:
            found.append(_Match(category, value, start, start + len(words), quality))
    return found


def _word_match(
    token: str, token_keys: frozenset[str], word: str, keys: frozenset[str], fuzzy: bool = True
) -> float:
    if token == word:
        return 1.0
    if len(token) < KEY_MIN_LENGTH or len(word) < KEY_MIN_LENGTH:
        return 0.0
    if token_keys & keys:
        return 0.95
    if fuzzy and len(token) >= FUZZY_MIN_LENGTH and len(word) >= FUZZY_MIN_LENGTH:
        best = max(fuzz.ratio(a, b) for a in token_keys for b in keys)
        if best >= FUZZY_MIN:
            return 0.8
    return 0.0


def _select(matches: list[_Match]) -> list[_Match]:
    """Keep non-overlapping matches, longest first ("en osaa sanoa" beats "en"); at equal
    length the question's own answers first. A period phrase ("viikossa") overlaps freely:
    it qualifies a count, it is no answer of its own."""
    periods = [m for m in matches if m.category == "period"]
    chosen: list[_Match] = []
    taken: set[int] = set()
    ranked = sorted(
        (m for m in matches if m.category != "period"),
        key=lambda m: (-(m.end - m.start), -m.quality, _PRIORITY.get(m.category, 0), m.start),
    )
    for m in ranked:
        span = set(range(m.start, m.end))
        if span & taken:
            continue
        chosen.append(m)
        taken |= span
    return sorted(chosen + periods, key=lambda m: m.start)


# -- numbers --------------------------------------------------------------------------------


def _numbers(tokens: list[str], keys: list[frozenset[str]], lex: Lexicon) -> list[_Match]:
    """Digits and number words, compounds merged: "twenty five", "kaksikymmentäviisi" = 25."""
    singles: list[tuple[int, int, float]] = []  # (index, value, quality)
    negated: list[_Match] = []
    for i, token in enumerate(tokens):
        value = number_word(token, keys[i], lex)
        if value is None:
            continue
        if i and is_negation(tokens[i - 1], lex):
            negated.append(_Match("negated", value[0], i, i + 1, value[1]))
        else:
            singles.append((i, value[0], value[1]))
    merged: list[_Match] = []
    for index, value, quality in singles:
        last = merged[-1] if merged else None
        if last and last.end == index and isinstance(last.value, int) and joins(last.value, value):
            merged[-1] = _Match(
                "number", last.value + value, last.start, index + 1, min(last.quality, quality)
            )
        else:
            merged.append(_Match("number", value, index, index + 1, quality))
    # Each part of a compound stays a candidate too: where a longer phrase takes one part
    # ("twenty one more time"), the other is still heard (and makes it no command).
    parts = [_Match("number", v, i, i + 1, q) for i, v, q in singles]
    return merged + [p for p in parts if p not in merged] + negated


def _closest(question: Question, raw: str, lex: Lexicon) -> Result | None:
    found = closest_answer(question, raw, lex)
    return None if found is None else Result("answer", found[0], found[1], "closest")


def answer_among_hypotheses(
    question: Question, given: Input, language: str, lex: Lexicon | None = None
) -> Result | None:
    """The answer the engine's n-best list weighs most, commands left out, to be asked about.

    For a command heard doubtfully: "neljä" misheard as "en halua" (stop) usually leaves
    "neljä" among the hypotheses, and asking about it beats acting on the doubtful command.
    """
    if given.kind != "speech" or isinstance(question, TextQuestion) or len(given.alternatives) < 2:
        return None
    lex = lex or lexicon(language)
    found = by_hypotheses(
        no_match("not_understood"), given.alternatives, _reader(question, lex), False
    )
    return found if found.kind == "answer" else None


def _reader(question: Question, lex: Lexicon) -> Callable[[str], Result]:
    """How a spoken text is read: by its words, else (closed questions) the closest answer."""
    closed = not isinstance(question, TextQuestion)

    def read(text: str) -> Result:
        found = _words(question, text, lex)
        if closed and found.kind == "no_match" and found.reason == "not_understood":
            found = _closest(question, text, lex) or found
        return found

    return read


def expected_phrases(question: Question, language: str, lex: Lexicon | None = None) -> list[str]:
    """The flat list a recogniser listens for: :func:`kanavat.questions.phrases.listen_for`
    (kept under its old name; the per-value table is ``phrases.expected_phrases``)."""
    return listen_for(question, language, lex)
