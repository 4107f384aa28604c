"""Rasa NLU YAML as extra answer words: a county that has trained a Rasa bot keeps its examples.

Where: ``nlu/<questionnaire>.<lang>.yml`` (or ``.yaml``) beside ``config.toml``; Rasa keeps
one NLU project per language, so one file per language. What is read (Rasa 3 training data,
https://rasa.com/docs/rasa/training-data-format): ``nlu:`` entries with ``intent:`` or
``synonym:`` and an ``examples: |`` block of ``- example`` lines. Entity annotations
(``[mutsi](sukulainen)``) keep their text. Everything else (``regex:``, ``lookup:``,
responses, stories) is ignored, so a whole Rasa data file may be dropped in as it is.

An intent or synonym name is the answer it stands for: ``affirm``/``deny`` (Rasa's usual
names) and ``yes``/``no`` mean yes and no, ``dont_know`` and ``skip`` those, and any other
name an option id (``omainen``). Names that match no option simply never match.
Rasa clients also send intents directly as ``/affirm``; :func:`intent_value` reads those.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path

import yaml

from kanavat.questions.lexicon import Lexicon, lexicon

log = logging.getLogger("kanavat.chat.nlu")
INTENT_VALUES = {
    "affirm": "yes",
    "yes": "yes",
    "deny": "no",
    "no": "no",
    "dont_know": "dont_know",
    "skip": "skip",
}
INTENT_COMMANDS = {"restart": "restart", "stop": "stop", "repeat": "repeat", "help": "help"}
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
_INTENT = re.compile(r"^/([A-Za-z0-9_.-]{1,64})(\{.*\})?$", re.S)


class NluError(ValueError):
    pass


def path_for(base_dir: Path, questionnaire: str, language: str) -> Path | None:
    for suffix in ("yml", "yaml"):
        path = base_dir / "nlu" / f"{questionnaire}.{language}.{suffix}"
        if path.is_file():
            return path
    return None


def parse(text: str) -> dict[str, list[str]]:
    """Answer value -> example phrases, from one Rasa NLU YAML document."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise NluError(f"not YAML: {exc}") from None
    if not isinstance(data, dict):
        raise NluError("expected a mapping with an 'nlu' list")
    entries = data.get("nlu") or []
    if not isinstance(entries, list):
        raise NluError("'nlu' must be a list")
    out: dict[str, list[str]] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        name = entry.get("intent") or entry.get("synonym")
        if not isinstance(name, str) or not name.strip():
            continue
        value = INTENT_VALUES.get(name.strip(), name.strip())
        phrases = out.setdefault(value, [])
        for example in _examples(entry.get("examples")):
            if example not in phrases:
                phrases.append(example)
    return {k: v for k, v in out.items() if v}


def _examples(block: object) -> list[str]:
    if isinstance(block, list):  # the older list form, also accepted by Rasa
        lines = [str(item) for item in block]
    elif isinstance(block, str):
        lines = [line.strip() for line in block.splitlines()]
        lines = [line[1:].strip() for line in lines if line.startswith("-")]
    else:
        return []
    return [text for text in (_ANNOTATION.sub(r"\1", line).strip() for line in lines) if text]


@cache
def _load(path: Path, mtime_ns: int) -> dict[str, list[str]]:
    return parse(path.read_text(encoding="utf-8"))


def synonyms(base_dir: Path, questionnaire: str, language: str) -> dict[str, list[str]]:
    path = path_for(base_dir, questionnaire, language)
    if path is None:
        return {}
    try:
        return _load(path, path.stat().st_mtime_ns)
    except (OSError, NluError) as exc:
        # A broken file must not stop young people answering: the built-in words still work.
        log.warning("chat.nlu.unreadable file=%s reason=%s", path.name, exc)
        return {}


def lexicon_for(base_dir: Path, questionnaire: str, language: str) -> Lexicon | None:
    """The language's lexicon extended with the questionnaire's NLU file; None if it has none."""
    extra = synonyms(base_dir, questionnaire, language)
    return lexicon(language).extended(extra) if extra else None


def intent_value(message: str) -> str | None:
    """What a Rasa intent message (``/affirm``, ``/omainen{"x": 1}``) stands for as a button
    payload: a value, or a command as ``/stop``; None when the message is not an intent."""
    match = _INTENT.match(message.strip())
    if not match:
        return None
    name = match.group(1)
    if name in INTENT_COMMANDS:
        return f"/{INTENT_COMMANDS[name]}"
    return INTENT_VALUES.get(name, name)
