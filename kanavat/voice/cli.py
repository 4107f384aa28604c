"""``kanavat voices`` (prompt recordings) and ``kanavat speech`` (try a recording): thin click
commands over ``kanavat.voice.prompts`` and ``kanavat.voice.engines``.

Registered in ``kanavat/cli.py`` with ``main.add_command(voices)`` and
``main.add_command(speech)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from kanavat import config as configuration
from kanavat.cliutil import config_option, language_or_fail, load_config, question_or_fail
from kanavat.questions.dialog import needs_confirmation, question_prompt
from kanavat.questions.normalise import Input, normalise
from kanavat.voice import prompt_check
from kanavat.voice import prompts as prompts_mod
from kanavat.voice.decision import decided_by
from kanavat.voice.models import missing_model_hint
from kanavat.voice.recognise import confirm_threshold, spoken

lang_option = click.option(
    "--lang",
    "languages",
    multiple=True,
    help="Only this language (repeatable; default: every county language).",
)


def _languages(config: configuration.Config, languages: tuple[str, ...]) -> list[str]:
    unknown = [lang for lang in languages if lang not in config.county.languages]
    if unknown:
        raise click.ClickException(
            f"language {', '.join(unknown)} is not one of {', '.join(config.county.languages)}"
        )
    return list(languages) or list(config.county.languages)


def _print_report(report: prompt_check.Report, voices_dir: Path, verbose: bool) -> None:
    for p in report.errors:
        click.echo(f"error: {voices_dir / p.file}: {p.message}", err=True)
    for p in report.warnings:
        click.echo(f"warning: {voices_dir / p.file}: {p.message}", err=True)
    if verbose:
        for p in report.notes:
            click.echo(f"note: {voices_dir / p.file}: {p.message}", err=True)
    elif report.notes:
        click.echo(
            f"note: {len(report.notes)} recordings are not at 8000 Hz and are converted when "
            "loaded (fine; --verbose lists them)",
            err=True,
        )


def _summary(report: prompt_check.Report) -> str:
    missing = report.wanted - report.recorded - report.placeholders
    return (
        f"{report.wanted} prompts: {report.recorded} recorded, {report.placeholders} "
        f"placeholders, {missing} missing or broken; {len(report.errors)} errors, "
        f"{len(report.warnings)} warnings"
    )


def _outcomes(config: configuration.Config, languages: list[str]) -> list[tuple[str, Any, str]]:
    """Each outcome told by phone, from the store (none before the store exists): recorded
    like any prompt, as voices/<lang>/outcome.<id>.wav."""
    from kanavat.dialect import StoreUnavailable
    from kanavat.loop.texts import outcomes_to_record
    from kanavat.store import Store

    if not config.server.is_postgres and not config.database_path.is_file():
        return []
    try:
        store = Store(config.database, secret=config.server.secret)
    except StoreUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    try:
        return outcomes_to_record(config, store, languages)
    finally:
        store.close()


def _calls_to_start(config: configuration.Config) -> list[str]:
    """What outcome calls waited for a recording now built in: the running server starts
    them within seconds (``kanavat.loop.holds``), so the official hears the build worked."""
    from kanavat.loop import holds, notices
    from kanavat.store import Store

    if not config.server.is_postgres and not config.database_path.is_file():
        return []
    store = Store(config.database, secret=config.server.secret)
    try:
        prompts = holds.library(config)
        lines = []
        for outcome_id in sorted({ref for ref, _ in notices.held_calls(store)}):
            for wait in holds.waiting(config, store, outcome_id, prompts):
                if wait.recorded and wait.calls_wait == "recording":
                    lines.append(
                        f"outcome {outcome_id}: the {holds.language_name(wait.language)} "
                        f"recording is in: calls to {wait.residents} waiting "
                        f"resident{'s' if wait.residents != 1 else ''} start (the running "
                        "server places them within call hours)"
                    )
        return lines
    finally:
        store.close()


@click.group()
def voices() -> None:
    """Recorded prompts in the voices folder: check them, render placeholders."""


@voices.command("check")
@config_option
@lang_option
@click.option("--verbose", "-v", is_flag=True, help="Also list each recording that is converted.")
def voices_check(config_path: Path | None, languages: tuple[str, ...], verbose: bool) -> None:
    """List missing, unreadable and outdated prompt audio for the config's phone campaigns.

    Errors (exit 1): a prompt with nothing to play, an unreadable or empty file, a sample rate
    below 8000 Hz, a recording whose text the config has since changed. Warnings (exit 0):
    placeholders that still need a person's recording, files the manifest does not know.

    Example: kanavat voices check --config config.toml
    """
    config = load_config(config_path)
    langs = _languages(config, languages)
    voices_dir = config.resolve(config.server.voices)
    report = prompt_check.check(config, langs, _outcomes(config, langs))
    _print_report(report, voices_dir, verbose)
    click.echo(f"{voices_dir}: {_summary(report)}")
    if report.errors:
        raise SystemExit(1)


@voices.command("build")
@config_option
@lang_option
@click.option("--force", is_flag=True, help="Render every placeholder again (recordings are kept).")
@click.option("--verbose", "-v", is_flag=True, help="Also list each recording that is converted.")
def voices_build(
    config_path: Path | None, languages: tuple[str, ...], force: bool, verbose: bool
) -> None:
    """Render espeak-ng placeholders for prompts with no recording, and update the manifest.

    New recordings put in place of a placeholder (voices/fi/question.arki.wav beside
    question.arki.placeholder.wav) are taken to say the config's current text and marked
    recorded. Recordings are never overwritten. Exits 1 if problems remain.

    Example: kanavat voices build --config config.toml --lang fi
    """
    config = load_config(config_path)
    langs = _languages(config, languages)
    voices_dir = config.resolve(config.server.voices)
    if prompts_mod.find_espeak() is None:
        raise click.ClickException(
            "espeak-ng is not installed, so no placeholders can be rendered; install it "
            "(apt-get install espeak-ng) or record the prompts"
        )
    try:
        report = prompt_check.build(config, langs, force=force, extra=_outcomes(config, langs))
    except prompts_mod.ManifestError as exc:
        raise click.ClickException(
            f"{exc}\nFix it, or pass --force to rebuild the manifest from the files"
        ) from None
    except prompts_mod.RenderError as exc:
        raise click.ClickException(str(exc)) from None
    _print_report(report, voices_dir, verbose)
    click.echo(
        f"{voices_dir}: {report.rendered} placeholders rendered, {report.added} recordings "
        f"added, {report.removed} placeholders removed; {_summary(report)}"
    )
    for line in _calls_to_start(config):
        click.echo(line)
    if report.errors:
        raise SystemExit(1)


@click.group()
def speech() -> None:
    """Local speech recognition: try a recording against a question."""


@speech.command("try")
@click.argument("campaign")
@click.argument("question")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--lang", default=None, help="Language spoken (default: the county's first).")
@config_option
def speech_try(
    campaign: str, question: str, file: Path, lang: str | None, config_path: Path | None
) -> None:
    """Recognise a recording as a call would hear it, and show how the question understands it.

    FILE is any audio soundfile reads (WAV, FLAC, OGG; any rate); it goes through the telephone
    path (8 kHz, mu-law) and the language's engine ([speech.<lang>]: vosk or whisper), then the
    normaliser. Prints one JSON object: transcript, engine, heard_confidence, suspect,
    alternatives (the engine's n-best list), the normaliser's value, confidence, kind and
    reason, read_from (the hypothesis the value was read from, if not the transcript),
    whether the call would ask to confirm, and decided_by: the rule that chose, the engine's
    own steps (a hesitation held, the answer heard after it) and every hypothesis with what
    the normaliser reads in it and its weight.
    Exits 1 if the recording gives no answer.

    Example: kanavat speech try vanhukset-2027 apu kylla.wav --lang fi
    """
    from kanavat.voice.engines import EngineError, load_engine, recognise_file

    config = load_config(config_path)
    try:
        questionnaire = config.questionnaire_of(campaign)
    except configuration.UnknownName as exc:
        raise click.ClickException(str(exc)) from None
    q = question_or_fail(questionnaire, question)
    language = language_or_fail(config, lang)
    spec = config.speech.get(language)
    if spec is None:
        raise click.ClickException(
            f"no speech model for '{language}': calls in this language use the keypad only. "
            f"Add [speech.{language}] with engine and model to the config to recognise speech"
        )
    model = config.resolve(spec.model)
    if not model.exists():
        raise click.ClickException(
            f"speech model for '{language}' not found at {model}: calls in this language use "
            "the keypad only" + missing_model_hint(spec.engine)
        )
    heard = prompt_check.inspect(file)  # before the model loads (seconds): fail fast
    if heard.error or heard.frames == 0:
        raise click.ClickException(f"cannot read {file} as audio: {heard.error or 'empty'}")
    try:
        engine = load_engine(spec.engine, language, model)
    except EngineError as exc:
        raise click.ClickException(f"{exc}; calls in this language use the keypad only") from None
    prompt = question_prompt(q, language, "voice")
    expected = None if prompt.free_text else list(prompt.listen_for)
    try:
        transcript = recognise_file(engine, file, expected)
    except (RuntimeError, OSError, ValueError) as exc:  # soundfile: unreadable or not audio
        raise click.ClickException(f"cannot read {file} as audio: {exc}") from None
    threshold = confirm_threshold(spec.confirm_below, engine, questionnaire.confirm_below)
    given = Input("timeout", "") if transcript is None else spoken(transcript, threshold)
    result = normalise(q, given, language)
    would_confirm = needs_confirmation(q, given, result, threshold)
    out = {
        "transcript": transcript.text if transcript else None,
        "engine": spec.engine,
        "heard_confidence": transcript.confidence if transcript else None,
        "suspect": list(transcript.suspect) if transcript else [],
        # The engine's n-best list (Whisper), and the one the value was read from if not the
        # transcript: why a misheard answer still found its value, or a wrong one.
        "alternatives": [list(a) for a in transcript.alternatives[:5]] if transcript else [],
        **result.as_dict(),
        "read_from": result.heard,
        "would_confirm": would_confirm,
        "decided_by": decided_by(q, transcript, given, result, language),
    }
    click.echo(json.dumps(out, ensure_ascii=False))
    raise SystemExit(1 if result.kind == "no_match" else 0)
