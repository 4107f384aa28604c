"""`kanavat voices check` and `build`: what the voices folder holds against what the config says.

Tooling for officials, separate from the prompt library the calls use (``prompts.py``):
missing, unreadable, wrong-rate or outdated recordings, and placeholders rendered for the rest.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import soundfile

from kanavat.voice import audio
from kanavat.voice.prompts import (
    AUDIO_SUFFIXES,
    CACHE_DIR,
    MANIFEST,
    MIN_RATE,
    PLACEHOLDER_SUFFIX,
    Entry,
    ManifestError,
    Severity,
    Wanted,
    _file_sha,
    find_espeak,
    load_manifest,
    render_placeholder,
    save_manifest,
    text_hash,
    wanted_parts,
)

if TYPE_CHECKING:
    from kanavat.config import Config
    from kanavat.questions.dialog import Part

# -- check and build: what `kanavat voices` runs ---------------------------------------------


@dataclass(frozen=True)
class Problem:
    severity: Severity
    file: str  # relative to the voices folder
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


@dataclass
class Report:
    """What ``check`` found, or what ``build`` did and what remains."""

    problems: list[Problem] = field(default_factory=list)
    wanted: int = 0
    recorded: int = 0
    placeholders: int = 0
    rendered: int = 0
    added: int = 0
    removed: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def notes(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "note"]


@dataclass(frozen=True)
class FileInfo:
    rate: int = 0
    frames: int = 0
    error: str = ""


def inspect(path: Path) -> FileInfo:
    """Header facts of an audio file, or why it cannot be read."""
    try:
        info = soundfile.info(str(path))
    except (OSError, RuntimeError, ValueError) as exc:  # LibsndfileError is a RuntimeError
        return FileInfo(error=str(exc).strip() or type(exc).__name__)
    return FileInfo(rate=int(info.samplerate), frames=int(info.frames))


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _audio_files(voices_dir: Path, languages: Sequence[str]) -> list[str]:
    """Every audio file under the languages' folders, relative, ``.cache`` excluded."""
    found = []
    for lang in languages:
        root = voices_dir / lang
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            if path.suffix.lower() in AUDIO_SUFFIXES and path.is_file():
                rel = path.relative_to(voices_dir).as_posix()
                if not rel.startswith(CACHE_DIR + "/"):
                    found.append(rel)
    return sorted(found)


def check(
    config: Config,
    languages: Sequence[str] | None = None,
    extra: Sequence[tuple[str, Part, str]] = (),
) -> Report:
    """Compare the voices folder with what the config can say; change nothing.

    Errors (exit 1): missing or unreadable audio, a rate below 8 kHz, an empty file, a
    recording whose text the config has changed, an unreadable manifest. Warnings: placeholders
    (still need a person's voice), files the manifest does not know, entries nothing uses.
    Notes: recordings not at 8 kHz (fine: converted when loaded).
    """
    voices_dir = config.resolve(config.server.voices)
    languages = list(languages or config.county.languages)
    report = Report()
    add = report.problems.append
    try:
        entries = load_manifest(voices_dir)
    except ManifestError as exc:
        add(
            Problem("error", MANIFEST, f"{exc}; fix it or delete it and run `kanavat voices build`")
        )
        return report
    entries = {f: e for f, e in entries.items() if e.language in languages}
    wanted = wanted_parts(config, languages, extra)
    report.wanted = len(wanted)
    by_text: dict[tuple[str, str, str], list[Entry]] = {}
    for e in entries.values():
        by_text.setdefault((e.language, e.key, text_hash(e.text)), []).append(e)
    wanted_texts = {(w.language, w.key, w.hash) for w in wanted}
    wanted_keys = {(w.language, w.key) for w in wanted}
    files = _audio_files(voices_dir, languages)
    infos = {f: inspect(voices_dir / f) for f in files}

    def playable(e: Entry) -> bool:
        info = infos.get(e.file)
        return info is not None and not info.error and info.frames > 0 and info.rate >= MIN_RATE

    # Each file the manifest lists: is it there, readable, telephone-worthy?
    for e in entries.values():
        info = infos.get(e.file)
        if info is None:
            if e.source == "placeholder":
                add(
                    Problem("error", e.file, "placeholder not rendered; run `kanavat voices build`")
                )
            else:
                add(Problem("error", e.file, f"missing recording of '{_short(e.text)}'"))
        elif info.error:
            add(Problem("error", e.file, f"unreadable: {info.error}; record it again"))
        elif info.frames == 0:
            add(Problem("error", e.file, "empty: no audio in the file; record it again"))
        elif info.rate < MIN_RATE:
            add(
                Problem(
                    "error",
                    e.file,
                    f"sample rate {info.rate} Hz is below the telephone's 8000 Hz; "
                    "record again at 8000 Hz or more (16000, 44100, 48000 are fine)",
                )
            )
        elif info.rate != audio.SAMPLE_RATE and e.source == "recorded":
            add(Problem("note", e.file, f"{info.rate} Hz, converted to 8000 Hz when loaded"))
        changed = (
            e.source == "recorded"
            and info is not None
            and not info.error
            and e.audio_sha256
            and e.audio_sha256 != _file_sha(voices_dir / e.file)
        )
        if changed:
            add(
                Problem(
                    "warning",
                    e.file,
                    "changed since the manifest was written (re-recorded?); run "
                    "`kanavat voices build` to take it as saying the config's text",
                )
            )
        if (e.language, e.key, text_hash(e.text)) not in wanted_texts:
            if (e.language, e.key) in wanted_keys:
                continue  # reported below as drift, where the new text is known
            add(Problem("warning", e.file, "not used by the config any more; delete it"))

    # Each prompt the config can say: is there something good to play?
    for w in wanted:
        mine = [e for e in by_text.get((w.language, w.key, w.hash), []) if playable(e)]
        recorded = [e for e in mine if e.source == "recorded"]
        if recorded:
            report.recorded += 1
            continue
        stale = [
            e
            for e in entries.values()
            if e.language == w.language
            and e.key == w.key
            and (e.language, e.key, text_hash(e.text)) not in wanted_texts
        ]
        stale_recordings = [e for e in stale if e.source == "recorded"]
        for e in stale_recordings:
            add(
                Problem(
                    "error",
                    e.file,
                    f"text changed in the config: the recording says '{_short(e.text)}', the "
                    f"config now says '{_short(w.text)}'; record it again and run "
                    "`kanavat voices build`",
                )
            )
        if mine:
            report.placeholders += 1
            add(
                Problem(
                    "warning",
                    mine[0].file,
                    f"placeholder (espeak-ng): needs a person's recording as {w.recording_file}",
                )
            )
            continue
        if stale and not stale_recordings:
            add(
                Problem(
                    "error",
                    stale[0].file,
                    "text changed in the config; run `kanavat voices build` to render the new text",
                )
            )
        elif not stale:
            broken = by_text.get((w.language, w.key, w.hash))
            if not broken:  # unreadable or missing listed files were reported above
                add(
                    Problem(
                        "error",
                        w.recording_file,
                        f"missing: nothing says '{_short(w.text)}'; record it or run "
                        "`kanavat voices build` for a placeholder",
                    )
                )

    # Audio files the manifest does not know: new recordings waiting for `build`, or strays.
    stems = {w.stem for w in wanted}
    for f in files:
        if f in entries:
            continue
        stem = f.removesuffix(PLACEHOLDER_SUFFIX).rsplit(".", 1)[0]
        if stem in stems and not f.endswith(PLACEHOLDER_SUFFIX):
            message = "new recording, not in the manifest yet; run `kanavat voices build`"
        else:
            message = "not in the manifest and not a prompt of this config; delete it"
        add(Problem("warning", f, message))
    report.problems.sort(key=lambda p: ({"error": 0, "warning": 1, "note": 2}[p.severity], p.file))
    return report


def build(
    config: Config,
    languages: Sequence[str] | None = None,
    *,
    force: bool = False,
    espeak: str | None = None,
    workers: int | None = None,
    extra: Sequence[tuple[str, Part, str]] = (),
) -> Report:
    """Bring the voices folder up to date with the config, then ``check`` it.

    New or re-recorded files at a prompt's place (``<stem>.wav``, ``.flac``, ``.ogg``) are
    taken to say the config's current text and marked recorded; their placeholders are
    deleted. Every prompt with nothing readable to play gets a placeholder (``--force``:
    every placeholder is rendered again). Placeholders nothing uses are deleted; recordings
    are never deleted or overwritten.
    """
    voices_dir = config.resolve(config.server.voices)
    languages = list(languages or config.county.languages)
    espeak = espeak or find_espeak()
    try:
        entries = load_manifest(voices_dir)
    except ManifestError:
        if not force:
            raise
        entries = {}
    wanted = wanted_parts(config, languages, extra)
    by_stem = {w.stem: w for w in wanted}
    files = set(_audio_files(voices_dir, languages))
    report = Report()

    # 1. Recordings: new, or changed since the manifest was written.
    for f in sorted(files):
        if f.endswith(PLACEHOLDER_SUFFIX):
            continue
        w = by_stem.get(f.rsplit(".", 1)[0])
        old = entries.get(f)
        info = inspect(voices_dir / f)
        if info.error:
            continue  # check reports it; nothing to learn from it
        sha = _file_sha(voices_dir / f)
        # Known and unchanged (or written by hand without a hash): keep what it says.
        if old is not None and (old.audio_sha256 in ("", sha) or w is None):
            if (old.sample_rate, old.audio_sha256) != (info.rate, sha):
                entries[f] = replace(old, sample_rate=info.rate, audio_sha256=sha)
            continue
        if w is None:
            continue  # a stray file: check says so
        entries[f] = Entry(
            f, w.language, w.key, w.text, w.belongs_to, "recorded", info.rate, w.hash, sha
        )
        report.added += 1

    # 2. Placeholders for whatever has no playable recording.
    def usable(e: Entry) -> bool:
        info = inspect(voices_dir / e.file)
        return not info.error and info.frames > 0 and info.rate >= MIN_RATE

    recorded = {
        (e.language, e.key, text_hash(e.text))
        for e in entries.values()
        if e.source == "recorded" and e.file in files and usable(e)
    }
    todo: list[Wanted] = []
    keep: set[str] = set()
    for w in wanted:
        if (w.language, w.key, w.hash) in recorded:
            continue
        keep.add(w.placeholder_file)
        current = entries.get(w.placeholder_file)
        fresh = (
            current is not None
            and text_hash(current.text) == w.hash
            and (voices_dir / w.placeholder_file).is_file()
            and usable(current)
        )
        if fresh and not force:
            if current.belongs_to != w.belongs_to:
                entries[w.placeholder_file] = replace(current, belongs_to=w.belongs_to)
            continue
        todo.append(w)

    def render(w: Wanted) -> Wanted:
        render_placeholder(w.text, w.language, voices_dir / w.placeholder_file, espeak)
        return w

    if todo:
        with ThreadPoolExecutor(max_workers=workers or min(4, os.cpu_count() or 1)) as pool:
            for w in pool.map(render, todo):
                entries[w.placeholder_file] = Entry(
                    w.placeholder_file,
                    w.language,
                    w.key,
                    w.text,
                    w.belongs_to,
                    "placeholder",
                    audio.SAMPLE_RATE,
                    w.hash,
                )
                report.rendered += 1

    # 3. Placeholders nothing needs any more (recorded since, or their text changed).
    for f, e in list(entries.items()):
        if e.source == "placeholder" and e.language in languages and f not in keep:
            (voices_dir / f).unlink(missing_ok=True)
            del entries[f]
            report.removed += 1

    save_manifest(voices_dir, entries.values())
    after = check(config, languages, extra)
    after.rendered, after.added, after.removed = report.rendered, report.added, report.removed
    return after
