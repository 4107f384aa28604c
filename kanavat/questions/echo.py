"""Answers that echo the question's verb: "Saatko apua?" "Saan." is yes, "En saa." is no.

Finnish answers a yes/no question by repeating its verb, so the verb is read from the
question's own text: libvoikko finds the word with the question clitic (-ko/-kö) and gives
its baseform ("Saatko" -> saada, "Käytkö" -> käydä); an answer word with that baseform is yes,
and no when a negation verb ("en", "ei") stands before it. Swedish and English questions put
the verb first ("Får du ...", "Do you ..."), matched by stem, and a pro-verb ("det gör jag",
"I do") echoes any question; a negation shortly after it ("jag får inte", "I don't") makes
it no, unless an "or" stands between ("får eller inte" is both).
"""

from __future__ import annotations

from functools import lru_cache

from kanavat.questions.lexicon import Lexicon
from kanavat.questions.model import Question, YesNoQuestion
from kanavat.questions.morphology import finnish_analyses, word_keys

NEGATION_CLASS = "kieltosana"  # voikko's class of "en", "et", "ei", "emme", "ette", "eivät"
NEGATION_REACH = 3  # words back from the verb a Finnish negation verb may stand


@lru_cache(maxsize=1024)
def _question_verbs(text: str, language: str, stemmer: str | None) -> frozenset[str]:
    words = [w.strip("?!.,:;\"'()") for w in text.casefold().split()]
    words = [w for w in words if w]
    if language == "fi":
        verbs: set[str] = set()
        for word in words:
            for a in finnish_analyses(word):
                if a.get("CLASS") == "teonsana" and a.get("KYSYMYSLIITE") == "true":
                    verbs.add(a.get("BASEFORM", "").lower())
        return frozenset(v for v in verbs if v)
    if not words:
        return frozenset()
    return word_keys(words[0], language, stemmer)


def _is_verb(token: str, verbs: frozenset[str], lex: Lexicon) -> bool:
    if lex.language == "fi":
        return any(
            a.get("CLASS") == "teonsana" and a.get("BASEFORM", "").lower() in verbs
            for a in finnish_analyses(token)
        )
    if token.endswith("n't"):  # "don't", "hasn't": the verb with its negation
        token = token[:-3]
    keys = word_keys(token, lex.language, lex.stemmer)
    return bool(keys & verbs) or token in lex.echo_verbs


def _first_person(token: str) -> bool:
    return any(
        a.get("CLASS") == "teonsana" and a.get("PERSON") == "1" for a in finnish_analyses(token)
    )


def is_negation(token: str, lex: Lexicon) -> bool:
    if token in lex.negations:
        return True
    if lex.language == "fi":
        return any(a.get("CLASS") == NEGATION_CLASS for a in finnish_analyses(token))
    return bool(word_keys(token, lex.language, lex.stemmer) & lex.negations)


def echo_spans(
    question: Question, tokens: list[str], language: str, lex: Lexicon
) -> list[tuple[str, int, int]]:
    """("yes" | "no", start, end) for each echo of the question's verb in the answer."""
    if not isinstance(question, YesNoQuestion):
        return []
    verbs = _question_verbs(question.text.get(language, ""), language, lex.stemmer)
    if not verbs and not lex.echo_verbs:
        return []
    spans: list[tuple[str, int, int]] = []
    for i, token in enumerate(tokens):
        if not _is_verb(token, verbs, lex):
            continue
        if language == "fi":  # "en saa", "en minä saa": the negation verb shortly before
            start = next(
                (
                    j
                    for j in range(i - 1, max(-1, i - 1 - NEGATION_REACH), -1)
                    if is_negation(tokens[j], lex)
                    and not any(t in lex.or_words for t in tokens[j:i])  # "ei tai saan"
                ),
                None,
            )
            if start is not None:
                spans.append(("no", start, i + 1))
            elif _first_person(token):  # "saan", "saamme"; not "saa nähdä" (we'll see)
                spans.append(("yes", i, i + 1))
        else:  # "jag får inte", "det gör jag inte": the negation shortly after, same clause
            end = i if is_negation(token, lex) else None  # "don't", "hasn't"
            for j in range(i + 1 if end is None else i, min(len(tokens), i + 1 + NEGATION_REACH)):
                if tokens[j] in lex.or_words:
                    break  # "får eller inte" is two answers
                if is_negation(tokens[j], lex):
                    end = j
                    break
            spans.append(("yes", i, i + 1) if end is None else ("no", i, end + 1))
    return spans


def _finnish_forms(text: str) -> list[tuple[str, str]]:
    """(first person "saan", connegative "saa") of a question's 2nd person verb ("Saatko"),
    each checked against the analyser; none for other persons."""
    forms: list[tuple[str, str]] = []
    for word in (w.strip("?!.,:;\"'()") for w in text.casefold().split()):
        for a in finnish_analyses(word):
            if a.get("CLASS") != "teonsana" or a.get("KYSYMYSLIITE") != "true":
                continue
            if a.get("PERSON") != "2" or a.get("NUMBER", "singular") != "singular":
                continue
            stem = word[:-2] if word.endswith(("ko", "kö")) else word
            if not stem.endswith("t"):
                continue
            first, negative = stem[:-1] + "n", stem[:-1]
            base = a.get("BASEFORM", "").lower()
            if any(
                b.get("BASEFORM", "").lower() == base and b.get("PERSON") == "1"
                for b in finnish_analyses(first)
            ):
                forms.append((first, negative))
    return list(dict.fromkeys(forms))


def echo_phrases(question: Question, language: str, lex: Lexicon) -> dict[str, list[str]]:
    """The echoes a resident may answer with, per "yes"/"no": "saan" / "en saa" to
    "Saatko apua?", "jag får" / "får inte" to "Får du hjälp?", "I do" / "I don't"."""
    if not isinstance(question, YesNoQuestion):
        return {}
    text = question.text.get(language, "")
    if language == "fi":
        forms = _finnish_forms(text)
        return {"yes": [f for f, _ in forms], "no": [f"en {n}" for _, n in forms]}
    words = text.casefold().split()
    verb = words[0].strip("?!.,:;\"'()") if words else ""
    yes: list[str] = []
    no: list[str] = []
    if language == "sv" and verb:
        yes += [verb, f"jag {verb}", "det gör jag"]
        no += [f"{verb} inte", f"jag {verb} inte", "det gör jag inte"]
    if language == "en" and verb in lex.echo_verbs:
        yes += [f"i {verb}"]
        no += [f"i {verb}n't", f"i {verb} not"]
    return {"yes": yes, "no": no} if yes else {}
