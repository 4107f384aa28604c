"""Word forms for matching inflected answers: "naapurilta" finds the option "naapuri".

Finnish goes through libvoikko (a real morphological analyser with Debian's voikko-fi
dictionary) when it is installed, with Snowball's Finnish stemmer as the fallback and as a
second key; other languages use their Snowball stemmer. Every word maps to a small set of
keys; two words match when their key sets meet.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache

import snowballstemmer

log = logging.getLogger(__name__)
_voikko_lock = threading.Lock()
_voikko: object | None = None
_voikko_tried = False


def _analyser() -> object | None:
    """libvoikko's Finnish analyser, or None when the library or dictionary is missing."""
    global _voikko, _voikko_tried
    if _voikko_tried:
        return _voikko
    with _voikko_lock:
        if not _voikko_tried:
            _voikko = _open_voikko()
            _voikko_tried = True
    return _voikko


def _open_voikko() -> object | None:
    """Open the analyser only when a Finnish dictionary exists: a failed ``Voikko("fi")``
    leaves a half-made object whose ``__del__`` prints a traceback at exit."""
    hint = "install Debian's libvoikko1 and voikko-fi: sudo apt-get install libvoikko1 voikko-fi"
    try:
        import libvoikko

        if not any(d.language == "fi" for d in libvoikko.Voikko.listDicts()):
            log.warning("morphology.voikko.unavailable reason=no_finnish_dictionary hint=%r", hint)
            return None
        return libvoikko.Voikko("fi")
    except Exception as exc:  # the C library is not installed
        log.warning("morphology.voikko.unavailable reason=%s hint=%r", type(exc).__name__, hint)
        return None


def voikko_available() -> bool:
    return _analyser() is not None


@lru_cache(maxsize=64)
def _stemmer(name: str) -> snowballstemmer.Stemmer | None:
    try:
        return snowballstemmer.stemmer(name)
    except KeyError:
        return None


@lru_cache(maxsize=20_000)
def finnish_analyses(word: str) -> tuple[dict[str, str], ...]:
    """libvoikko's analyses of a Finnish word (BASEFORM, CLASS, KYSYMYSLIITE, ...); none
    without the analyser. Used to read a question's own verb ("Saatko" -> saada)."""
    analyser = _analyser()
    if analyser is None:
        return ()
    with _voikko_lock:  # libvoikko handles are not thread-safe
        found = analyser.analyze(word)  # type: ignore[attr-defined]
    return tuple(dict(a) for a in found)


@lru_cache(maxsize=100_000)
def word_keys(word: str, language: str, stemmer: str | None) -> frozenset[str]:
    """The word itself, its baseforms (Finnish) and its stem: the keys it is matched by."""
    keys = {word}
    if language == "fi":
        for a in finnish_analyses(word):
            base = a.get("BASEFORM")
            if base:
                keys.add(base.lower())
    if stemmer:
        s = _stemmer(stemmer)
        if s is not None:
            keys |= {s.stemWord(k) for k in list(keys)}
    return frozenset(keys)
