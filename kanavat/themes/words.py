"""Each theme's characteristic words: baseforms weighted against the other themes (c-TF-IDF).

Finnish words are reduced to their baseform by libvoikko ("puhelinjonoissa" -> puhelinjono),
falling back to Snowball's stem for words the dictionary does not know (SMS spellings);
Swedish and English words to their Snowball stem, shown as their commonest spelling. A word
scores by how often it occurs in a theme, times how rare it is across themes (BERTopic's
class-based TF-IDF), so words every theme has ("palvelu", "hyvä") sink.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import snowballstemmer

from kanavat.questions.morphology import finnish_analyses

WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
SNOWBALL = {"fi": "finnish", "sv": "swedish", "en": "english"}
_STOPWORDS_TEXT = """
    olla ei se tämä tuo joka mikä kuka minä sinä hän me te he mä sä mää sää ne nää
    ja tai mutta että kun jos niin nyt kyllä vaan vain vielä jo myös sitten siis tota
    no öö niinku mut ku et nii kyl ois olis oli oon oot ollu koko mitään
    jotain joku ihan tosi aivan sekä eikä koska kuin jotta
    vaikka mitä miten miksi missä mihin siellä täällä tässä siinä sinne tänne sieltä
    minun minulle minua meille meidän teidän heidän hänen sen sitä siitä sille siihen
    niitä niiden näitä ole ollut pitää pitäisi voisi voi saada saa tulla mennä tehdä
    och att det som för med till den har inte jag du han hon vi ni dom de man
    ett en på av är var om så men när kan ska skulle får blir bara också alla
    någon något nåt inget ingen mycket lite där här hur vad varför eller sen efter
    min mitt mina din ditt sin sitt vår våra vårt mig dig sig oss ju nog alltså eh
    int ja jo int nä fast bli vara har hade ha
    the and that this with for are was have not you they there been from about
    """
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
TOP = 5


@lru_cache(maxsize=50_000)
def _stem(word: str, stemmer: str) -> str:
    return snowballstemmer.stemmer(stemmer).stemWord(word)


@lru_cache(maxsize=50_000)
def baseform(word: str, language: str) -> str:
    """The form a word is counted under: a Finnish baseform, otherwise a Snowball stem."""
    word = word.lower()
    if language == "fi":
        for analysis in finnish_analyses(word):
            base = analysis.get("BASEFORM")
            if base and analysis.get("CLASS") not in ("etunimi", "sukunimi"):
                return base.lower()
    return _stem(word, SNOWBALL.get(language, "finnish"))


def terms(text: str, language: str) -> list[tuple[str, str]]:
    """(baseform, word as written) for each content word of an answer."""
    out = []
    for match in WORD.finditer(text):
        word = match.group(0).lower()
        if word in STOPWORDS:
            continue
        base = baseform(word, language)
        if base not in STOPWORDS:
            out.append((base, word))
    return out


def content(text: str, language: str) -> str:
    """An answer's content words as written, in order: what is embedded (see
    :mod:`kanavat.themes.embed`). Stopwords, fillers ("öö", "tota", "asså") and words of under
    three letters are left out; a text with no content word is kept whole."""
    return " ".join(word for _, word in terms(text, language)) or text


def characteristic_words(
    themes: Sequence[Sequence[tuple[str, str]]], *, top: int = TOP
) -> list[list[str]]:
    """For each theme (its answers as (text, language)), its ``top`` characteristic words,
    each occurring in at least two of its answers (one answer's words could identify it)."""
    counts: list[Counter[str]] = []
    answers_with: list[Counter[str]] = []
    spelling: dict[str, Counter[str]] = {}
    for answers in themes:
        c: Counter[str] = Counter()
        d: Counter[str] = Counter()
        for text, language in answers:
            found = terms(text, language)
            c.update(base for base, _ in found)
            d.update({base for base, _ in found})
            for base, word in found:
                spelling.setdefault(base, Counter())[word] += 1
        counts.append(c)
        answers_with.append(d)
    overall: Counter[str] = Counter()
    for c in counts:
        overall.update(c)
    average = sum(overall.values()) / max(len(counts), 1)
    out = []
    for c, d in zip(counts, answers_with, strict=True):
        size = sum(c.values()) or 1
        scored = [
            (count / size * math.log(1 + average / overall[base]), base)
            for base, count in c.items()
            if d[base] >= 2
        ]
        scored.sort(key=lambda sb: (-sb[0], sb[1]))
        out.append([_shown(base, spelling[base]) for _, base in scored[:top]])
    return out


def _shown(base: str, spellings: Counter[str]) -> str:
    """A Finnish baseform is a word; a Snowball stem is shown as its commonest spelling."""
    if base in spellings or finnish_analyses(base):
        return base
    return min(spellings.items(), key=lambda wc: (-wc[1], wc[0]))[0]
