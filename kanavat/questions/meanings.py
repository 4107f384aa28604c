"""Options heard by meaning: an option labelled "omainen" also hears "vaimo", "mies", "tytär".

The lexicon's ``[meanings]`` tables group words of one meaning (kin, neighbours and friends,
home care, how often). An option belongs to a meaning when its label or one of its synonyms
is one of the meaning's words, compared by morphology (baseform or stem), so an official
writes "viikoittain" once and residents may say "kerran viikossa" or "joka viikko". When two
options of a question share a meaning, neither hears its extra words: that would be a guess.
"""

from __future__ import annotations

from kanavat.questions.lexicon import Lexicon
from kanavat.questions.memo import memo
from kanavat.questions.model import ChoiceQuestion
from kanavat.questions.morphology import word_keys


def phrase_keys(phrase: str, lex: Lexicon) -> tuple[frozenset[str], ...]:
    """Each word's keys (itself, baseforms, stem): two phrases mean the same when all meet."""
    return tuple(word_keys(w, lex.language, lex.stemmer) for w in phrase.casefold().split())


def same_phrase(a: str, b: str, lex: Lexicon) -> bool:
    ka, kb = phrase_keys(a, lex), phrase_keys(b, lex)
    return len(ka) == len(kb) and all(x & y for x, y in zip(ka, kb, strict=True))


def option_meanings(question: ChoiceQuestion, lex: Lexicon) -> dict[str, tuple[str, ...]]:
    """Option id -> the meaning names it belongs to, each meaning owned by one option only."""
    return memo("meanings", question, lex, lambda: _option_meanings(question, lex))


def _option_meanings(question: ChoiceQuestion, lex: Lexicon) -> dict[str, tuple[str, ...]]:
    owners: dict[str, list[str]] = {}
    for option in question.options:
        words = [option.label.get(lex.language, ""), *option.synonyms.get(lex.language, [])]
        words = [w for w in words if w]
        for meaning, members in lex.meanings.items():
            if any(same_phrase(w, m, lex) for w in words for m in members):
                owners.setdefault(meaning, []).append(option.id)
    found: dict[str, tuple[str, ...]] = {}
    for meaning, ids in owners.items():
        if len(ids) == 1:
            found[ids[0]] = (*found.get(ids[0], ()), meaning)
    return found


def meaning_phrases(question: ChoiceQuestion, lex: Lexicon) -> list[tuple[str, str]]:
    """(option id, phrase) for every word an option hears by its meanings."""
    out: list[tuple[str, str]] = []
    for option_id, meanings in option_meanings(question, lex).items():
        for meaning in meanings:
            out += [(option_id, phrase) for phrase in lex.meanings[meaning]]
    return out
