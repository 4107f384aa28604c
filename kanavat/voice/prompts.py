"""Recorded prompts: which audio file says which prompt part, and placeholders until it exists.

Every piece a call can say is a ``Part(key, text)`` (``kanavat.questions.dialog``). The county
records each as ``voices/<lang>/<key>.wav`` (any rate >= 8 kHz, any format soundfile reads);
``voices/manifest.toml`` says what each file says (its text, the questionnaire, question or
option it belongs to, recorded or placeholder). A part is played from the file whose manifest
entry has the same language, key *and text*, so a prompt whose wording changed in the config
is never played from an old recording: until it is re-recorded, an espeak-ng placeholder
(slow, for elderly listeners) says the new text, and ``kanavat voices check`` lists it.

A key that says different things in different questionnaires (``intro``, a question id used
twice) is recorded once per questionnaire, as ``voices/<lang>/<questionnaire>/<key>.wav``;
a key that says the same everywhere (``reply.no_match``, ``voice.machine``) is recorded once.
Placeholders are ``<key>.placeholder.wav`` (8 kHz mu-law), so a file listing shows what
still needs a person's voice, and git can ignore them.

``PromptLibrary`` is what the call code uses: ready 8 kHz mu-law bytes per part, converted once
and cached. ``check`` and ``build`` are what ``kanavat voices`` runs. Knows nothing of calls,
websockets or the store; logs keys and languages, never prompt texts.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import soundfile

from kanavat.loop.texts import call_parts
from kanavat.questions.dialog import Part, all_parts, system_parts
from kanavat.voice import audio

if TYPE_CHECKING:
    from kanavat.config import Config
    from kanavat.questions.model import Questionnaire

log = logging.getLogger(__name__)

MANIFEST = "manifest.toml"
MANIFEST_VERSION = 1
CACHE_DIR = ".cache"
PLACEHOLDER_SUFFIX = ".placeholder.wav"
# Recordings may be any of these; placeholders are always WAV.
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
SYSTEM = "system"
LOOP = "loop"  # what an outcome call or the suggestion line says around its message
# espeak-ng's default is 175 words a minute; elderly listeners on a phone line need slower.
PLACEHOLDER_WPM = 130
PLACEHOLDER_WORD_GAP = 2  # extra pause between words, in 10 ms units
# espeak-ng voice per county language; a code not listed is passed to espeak-ng as is.
ESPEAK_VOICES = {"fi": "fi", "sv": "sv", "en": "en-gb", "ko": "ko"}
RENDER_TIMEOUT_S = 60
# Anything below telephone rate loses what the caller must hear; above is converted on load.
MIN_RATE = audio.SAMPLE_RATE

Source = Literal["recorded", "placeholder"]
Severity = Literal["error", "warning", "note"]


def text_hash(text: str) -> str:
    """What a manifest stores to notice a changed text (NFC, outer spaces ignored)."""
    norm = unicodedata.normalize("NFC", text.strip())
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:16]


def espeak_voice(language: str) -> str:
    return ESPEAK_VOICES.get(language, language)


# -- what the config can say ----------------------------------------------------------------


@dataclass(frozen=True)
class Wanted:
    """One prompt the configuration can say, and where its recording belongs."""

    language: str
    key: str
    text: str
    belongs_to: tuple[str, ...]
    stem: str  # "fi/question.arki" or "fi/hyvinvointi/intro"; a suffix makes the file name

    @property
    def hash(self) -> str:
        return text_hash(self.text)

    @property
    def placeholder_file(self) -> str:
        return self.stem + PLACEHOLDER_SUFFIX

    @property
    def recording_file(self) -> str:
        return self.stem + ".wav"


def voice_questionnaires(config: Config) -> list[Questionnaire]:
    """Questionnaires some campaign may ask by phone (as first channel or as a fallback), and
    each conversation such a campaign holds, as far as the config knows it (its seeds)."""
    from kanavat.conversation.questionnaire import recordable

    by_phone = [c for c in config.campaigns.values() if "voice" in c.channels]
    ids = dict.fromkeys(c.questionnaire for c in by_phone)
    found = [config.questionnaires[i] for i in ids if i in config.questionnaires]
    for name in dict.fromkeys(c.conversation for c in by_phone if c.conversation):
        base = next(c.questionnaire for c in by_phone if c.conversation == name)
        if name in config.conversations and base in config.questionnaires:
            found.append(
                recordable(
                    name,
                    config.conversations[name],
                    config.questionnaires[base],
                    list(config.county.languages),
                )
            )
    return found


def _owner(qid: str, key: str) -> str:
    """``belongs_to`` for a questionnaire part: the questionnaire, question or option."""
    head, _, rest = key.partition(".")
    if head in ("question", "confirm") and rest:
        return f"{qid}/{rest.split('.')[0]}"
    if head == "option" and rest.count(".") == 1:
        return f"{qid}/{rest.replace('.', '/')}"
    if head == "statement" and rest:  # a conversation's seed statement
        return f"{qid}/{rest}"
    if head == "reply" and rest.count(".") == 1:  # a reply naming its question's range
        return f"{qid}/{rest.split('.')[1]}"
    return qid


def wanted_parts(
    config: Config,
    languages: Sequence[str] | None = None,
    extra: Iterable[tuple[str, Part, str]] = (),
) -> list[Wanted]:
    """Every prompt part the configuration's phone campaigns and the call itself can say,
    the calls of closing the loop (issue 23) included; ``extra`` adds (language, part,
    belongs_to) the store knows of, such as each outcome told by phone."""
    extra = list(extra)
    phone = bool(voice_questionnaires(config))
    out: list[Wanted] = []
    for lang in languages or config.county.languages:
        # key -> text -> owners, in the order the dialog says them
        by_key: dict[str, dict[str, list[str]]] = {}
        for q in voice_questionnaires(config):
            for part in all_parts(q, lang, "voice"):
                by_key.setdefault(part.key, {}).setdefault(part.text, []).append(
                    _owner(q.id, part.key)
                )
        for part in system_parts(lang):
            by_key.setdefault(part.key, {}).setdefault(part.text, []).append(SYSTEM)
        suggestion_line = config.suggestions.voice
        for part in call_parts(config, lang, outcomes=phone, suggestions=suggestion_line):
            by_key.setdefault(part.key, {}).setdefault(part.text, []).append(LOOP)
        for language, part, owner in extra:
            if language == lang:
                by_key.setdefault(part.key, {}).setdefault(part.text, []).append(owner)
        for key, texts in by_key.items():
            for text, owners in texts.items():
                folder = lang if len(texts) == 1 else f"{lang}/{owners[0].split('/')[0]}"
                out.append(Wanted(lang, key, text, tuple(dict.fromkeys(owners)), f"{folder}/{key}"))
    return out


# -- the manifest ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One audio file and what it says."""

    file: str  # relative to the voices folder, with forward slashes
    language: str
    key: str
    text: str
    belongs_to: tuple[str, ...]
    source: Source
    sample_rate: int
    text_sha256: str
    audio_sha256: str = ""  # recordings only: a changed file is a new recording


class ManifestError(Exception):
    """``manifest.toml`` cannot be read; the message says where."""


_ENTRY_FIELDS = ("file", "language", "key", "text", "belongs_to", "source", "sample_rate")

MANIFEST_HEADER = """\
# What each prompt recording in this folder says. Written by `kanavat voices build`;
# see README.md. One [[prompt]] per audio file:
#   file         the file, relative to this folder
#   text         what it says, word for word (the config's text when it was recorded)
#   belongs_to   questionnaire, questionnaire/question or questionnaire/question/option;
#                "system" for what a call says outside any questionnaire, "loop" for what
#                an outcome call or the suggestion line says, campaign/outcome.<id> for an
#                outcome told by phone
#   source       "recorded" (a person) or "placeholder" (espeak-ng; record it!)
#   sample_rate  of the file, in Hz (calls play 8000 Hz; others are converted)
#   text_sha256  of the text, so `kanavat voices check` notices when the config's text changes
#   audio_sha256 of a recording, so a re-recorded file is noticed by `kanavat voices build`
"""


def load_manifest(voices_dir: Path) -> dict[str, Entry]:
    """Entries by file; an absent manifest is an empty one (nothing recorded yet)."""
    path = voices_dir / MANIFEST
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read: {exc}") from None
    entries: dict[str, Entry] = {}
    for i, item in enumerate(raw.get("prompt", [])):
        missing = [f for f in _ENTRY_FIELDS if f not in item]
        if missing:
            raise ManifestError(f"{path}: prompt[{i}]: missing {', '.join(missing)}")
        if item["source"] not in ("recorded", "placeholder"):
            raise ManifestError(
                f"{path}: prompt[{i}].source: '{item['source']}'; expected recorded or placeholder"
            )
        belongs = item["belongs_to"]
        entries[item["file"]] = Entry(
            file=str(item["file"]),
            language=str(item["language"]),
            key=str(item["key"]),
            text=str(item["text"]),
            belongs_to=tuple(belongs) if isinstance(belongs, list) else (str(belongs),),
            source=item["source"],
            sample_rate=int(item["sample_rate"]),
            text_sha256=str(item.get("text_sha256", "")),
            audio_sha256=str(item.get("audio_sha256", "")),
        )
    return entries


def _toml_str(value: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes, \\uXXXX included).
    return json.dumps(value, ensure_ascii=False)


def dump_manifest(entries: Iterable[Entry]) -> str:
    """The manifest as TOML, sorted by file so rebuilding gives the same bytes."""
    lines = [MANIFEST_HEADER, f"version = {MANIFEST_VERSION}"]
    for e in sorted(entries, key=lambda e: e.file):
        lines += [
            "",
            "[[prompt]]",
            f"file = {_toml_str(e.file)}",
            f"language = {_toml_str(e.language)}",
            f"key = {_toml_str(e.key)}",
            f"text = {_toml_str(e.text)}",
            "belongs_to = [" + ", ".join(_toml_str(b) for b in e.belongs_to) + "]",
            f"source = {_toml_str(e.source)}",
            f"sample_rate = {e.sample_rate}",
            f"text_sha256 = {_toml_str(text_hash(e.text))}",
        ]
        if e.audio_sha256:
            lines.append(f"audio_sha256 = {_toml_str(e.audio_sha256)}")
    return "\n".join(lines) + "\n"


def save_manifest(voices_dir: Path, entries: Iterable[Entry]) -> None:
    _write_atomic(voices_dir / MANIFEST, dump_manifest(entries).encode("utf-8"))


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(tmp, 0o644)  # mkstemp makes it private; prompts are read by the server's user
    os.replace(tmp, path)


def _file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


# -- placeholders ---------------------------------------------------------------------------


class RenderError(Exception):
    """espeak-ng is missing or failed; the message says which."""


def find_espeak() -> str | None:
    return shutil.which("espeak-ng")


def render_placeholder(
    text: str, language: str, out: Path, espeak: str | None = None, wpm: int = PLACEHOLDER_WPM
) -> None:
    """Say ``text`` with espeak-ng, slowly, into ``out`` as an 8 kHz mu-law WAV (atomically).

    The text goes in on stdin, so a text starting with "-" is never read as an option.
    """
    espeak = espeak or find_espeak()
    if espeak is None:
        raise RenderError("espeak-ng is not installed (apt-get install espeak-ng)")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kanavat-espeak-") as tmp:
        raw = Path(tmp) / "raw.wav"
        args = [espeak, "-v", espeak_voice(language), "-s", str(wpm)]
        args += ["-g", str(PLACEHOLDER_WORD_GAP), "-b", "1", "-w", str(raw), "--stdin"]
        try:
            subprocess.run(
                args,
                input=text.encode("utf-8"),
                check=True,
                capture_output=True,
                timeout=RENDER_TIMEOUT_S,
            )
            pcm = audio.load_pcm(raw)
        except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
            raise RenderError(f"espeak-ng failed for {language}: {exc}") from exc
        if len(pcm) == 0:
            raise RenderError(f"espeak-ng said nothing for {language}")
        staged = Path(tmp) / "out.wav"
        soundfile.write(str(staged), pcm, audio.SAMPLE_RATE, subtype="ULAW", format="WAV")
        _write_atomic(out, staged.read_bytes())


def _default_cache(voices_dir: Path) -> Path:
    """``<voices>/.cache``, or a temporary folder when the voices folder is read-only (a
    deployment may mount it so): placeholders must still work."""
    existing = next((p for p in (voices_dir, *voices_dir.parents) if p.exists()), voices_dir)
    if os.access(existing, os.W_OK):
        return voices_dir / CACHE_DIR
    return (
        Path(tempfile.gettempdir())
        / "kanavat-prompts"
        / hashlib.sha256(str(voices_dir.resolve()).encode()).hexdigest()[:12]
    )


def _safe_name(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", key)


# -- the library the call code uses ----------------------------------------------------------


class PromptLibrary:
    """Prompt audio for calls: recorded files from the manifest, else espeak-ng placeholders.

    ``audio`` blocks (file conversion, maybe an espeak-ng run): call it from a thread, or use
    ``audio_async`` on the event loop. Converted audio is cached in memory by path and mtime
    (``audio.load_prompt_ulaw``), rendered placeholders on disk in ``<voices>/.cache/``, so a
    restart does not render again. The manifest is re-read when it changes, so recordings
    added with ``kanavat voices build`` are played without a restart.
    """

    def __init__(
        self,
        voices_dir: str | Path,
        languages: Sequence[str],
        *,
        espeak: str | Literal["auto"] | None = "auto",
        cache_dir: str | Path | None = None,
    ) -> None:
        self.voices_dir = Path(voices_dir)
        self.languages = tuple(languages)
        self.espeak = find_espeak() if espeak == "auto" else espeak
        self.cache_dir = Path(cache_dir) if cache_dir else _default_cache(self.voices_dir)
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._placeholders: set[tuple[str, str]] = set()
        self._render_locks: dict[Path, threading.Lock] = {}
        self._manifest_stamp: tuple[int, int] | None = None
        self._by_text: dict[tuple[str, str, str], Path] = {}
        self._by_key: dict[tuple[str, str], Source] = {}
        self._logged: set[tuple[str, str, str]] = set()
        self._tone = audio.ack_tone(ms=300, freq=440.0) + audio.ulaw_silence(200)

    @classmethod
    def from_config(cls, config: Config, **kwargs: object) -> PromptLibrary:
        return cls(config.resolve(config.server.voices), config.county.languages, **kwargs)  # type: ignore[arg-type]

    # public -------------------------------------------------------------------------------

    def audio(self, language: str, part: Part) -> bytes:
        """Ready 8 kHz mu-law bytes of ``part`` in ``language``; never raises for bad audio.

        Order: the manifest's file for this key and text; else a placeholder rendered now
        (cached); else, with no espeak-ng, a short tone, so the call goes on by keypad.
        """
        found = self._lookup(language, part)
        reason = "drift" if (language, part.key) in self._by_key else "missing"
        if found is not None and found[1] == "placeholder" and not found[0].exists():
            found = None  # `voices build` output is not committed: render it here instead
        if found is not None:
            path, source = found
            reason = "unreadable"
            try:
                data = audio.load_prompt_ulaw(path)
            except (OSError, RuntimeError, ValueError) as exc:  # soundfile's errors are these
                self._once("error", "voice.prompt.unreadable", language, part.key, type(exc))
            else:
                if source == "placeholder":
                    self._once(
                        "warning", "voice.prompt.placeholder", language, part.key, reason="built"
                    )
                if data:
                    return data
        return self._placeholder(language, part, reason)

    def recorded(self, language: str, part: Part) -> bool:
        """Whether ``part`` has a person's recording of its current text, built into the
        manifest and on disk (what ``audio`` then plays, not a placeholder)."""
        found = self._lookup(language, part)
        return found is not None and found[1] == "recorded" and found[0].is_file()

    async def audio_async(self, language: str, part: Part) -> bytes:
        """``audio`` off the event loop: a cold placeholder takes an espeak-ng run."""
        return await asyncio.to_thread(self.audio, language, part)

    def load_all(self, parts: Iterable[tuple[str, Part]]) -> int:
        """Load or render every (language, part) now; returns how many. Blocking."""
        count = 0
        for language, part in parts:
            if self._closing.is_set():
                break
            self.audio(language, part)
            count += 1
        return count

    def close(self) -> None:
        """Stop a running prewarm (the server is shutting down)."""
        self._closing.set()

    def prewarm(self, config: Config) -> threading.Thread:
        """Load or render every prompt of the config's phone campaigns in a background thread,
        so the first caller does not wait for espeak-ng. Returns the (daemon) thread."""
        items = [(w.language, Part(w.key, w.text)) for w in wanted_parts(config, self.languages)]

        def run() -> None:
            started = time.monotonic()
            try:
                count = self.load_all(items)
            except Exception:  # a background thread: log, never kill the server
                log.exception("voice.prompts.prewarm_failed")
                return
            ms = (time.monotonic() - started) * 1000
            if self._placeholders:
                # One line for the operator, not one per prompt: what to do about it.
                log.warning(
                    "voice.prompts.ready count=%d placeholders=%d ms=%d "
                    "hint='record them: kanavat voices check'",
                    count,
                    len(self._placeholders),
                    ms,
                )
            else:
                log.info("voice.prompts.ready count=%d ms=%d", count, ms)

        thread = threading.Thread(target=run, name="prompt-prewarm", daemon=True)
        thread.start()
        return thread

    # internals ----------------------------------------------------------------------------

    def _lookup(self, language: str, part: Part) -> tuple[Path, Source] | None:
        self._refresh()
        path = self._by_text.get((language, part.key, text_hash(part.text)))
        if path is None:
            return None
        return path, self._by_key_source(path)

    def _by_key_source(self, path: Path) -> Source:
        return "placeholder" if path.name.endswith(PLACEHOLDER_SUFFIX) else "recorded"

    def _refresh(self) -> None:
        """Re-read the manifest when its size or mtime changed (a build ran)."""
        manifest = self.voices_dir / MANIFEST
        try:
            st = manifest.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = (0, 0)
        with self._lock:
            if stamp == self._manifest_stamp:
                return
        try:
            entries = load_manifest(self.voices_dir)
        except ManifestError:
            self._once("error", "voice.prompt.manifest_unreadable", "-", MANIFEST)
            entries = {}
        by_text: dict[tuple[str, str, str], Path] = {}
        by_key: dict[tuple[str, str], Source] = {}
        # Recordings win over placeholders for the same text.
        for e in sorted(entries.values(), key=lambda e: e.source != "recorded"):
            by_text.setdefault((e.language, e.key, text_hash(e.text)), self.voices_dir / e.file)
            by_key.setdefault((e.language, e.key), e.source)
        with self._lock:
            self._by_text, self._by_key, self._manifest_stamp = by_text, by_key, stamp

    def _placeholder(self, language: str, part: Part, reason: str) -> bytes:
        settings = f"{espeak_voice(language)}|{PLACEHOLDER_WPM}|{PLACEHOLDER_WORD_GAP}"
        digest = text_hash(f"{settings}|{part.text}")
        path = self.cache_dir / language / f"{_safe_name(part.key)}.{digest}.wav"
        with self._lock:
            lock = self._render_locks.setdefault(path, threading.Lock())
        with lock:  # two calls wanting the same cold prompt render it once
            try:
                if not path.exists():
                    if self.espeak is None:
                        raise RenderError("espeak-ng is not installed")
                    self._ensure_cache_dir()
                    render_placeholder(part.text, language, path, self.espeak)
                data = audio.load_prompt_ulaw(path)
            except (RenderError, OSError, RuntimeError, ValueError) as exc:
                self._once("error", "voice.prompt.unavailable", language, part.key, type(exc))
                return self._tone
        self._once("warning", "voice.prompt.placeholder", language, part.key, reason=reason)
        return data

    def _ensure_cache_dir(self) -> None:
        if not self.cache_dir.is_dir():
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            (self.cache_dir / ".gitignore").write_text("# rendered placeholders\n*\n")

    def _once(
        self,
        level: Literal["warning", "error"],
        event: str,
        language: str,
        key: str,
        error: type | None = None,
        reason: str | None = None,
    ) -> None:
        """Log an event once per language and key: a campaign plays each prompt many times."""
        with self._lock:
            if (event, language, key) in self._logged:
                return
            self._logged.add((event, language, key))
        if event == "voice.prompt.placeholder":
            self._placeholders.add((language, key))  # summarised by prewarm; details at DEBUG
            log.debug("%s lang=%s key=%s reason=%s", event, language, key, reason)
            return
        fields = f"{event} lang={language} key={key}"
        if reason:
            fields += f" reason={reason}"
        if error is not None:
            fields += f" error={error.__name__}"
        (log.warning if level == "warning" else log.error)("%s", fields)
