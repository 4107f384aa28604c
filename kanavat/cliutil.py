"""What every ``kanavat`` command shares: the ``--config`` option, loading the configuration
and the store, and turning an unknown name into a message that says what exists.

Separate from ``cli.py`` so that channel modules (voice, chat, report, privacy, sampling) can
define their own commands without importing the main command, which imports them.
"""

from __future__ import annotations

from pathlib import Path

import click

from kanavat import config as configuration
from kanavat.questions.model import Question, Questionnaire
from kanavat.store import Store

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Configuration file (default: ./config.toml, then $KANAVAT_CONFIG).",
)


def load_config(path: Path | None) -> configuration.Config:
    try:
        return configuration.load(path)
    except configuration.ConfigError as exc:
        raise click.ClickException(f"the configuration has errors:\n{exc}") from None


def open_store(config: configuration.Config) -> Store:
    from kanavat.dialect import StoreUnavailable

    try:
        return Store(config.database, secret=config.server.secret)
    except StoreUnavailable as exc:
        raise click.ClickException(str(exc)) from None


def campaign_or_fail(config: configuration.Config, campaign: str) -> configuration.Campaign:
    try:
        return config.campaign(campaign)
    except configuration.UnknownName as exc:
        raise click.ClickException(str(exc)) from None


def question_or_fail(questionnaire: Questionnaire, question: str) -> Question:
    try:
        return questionnaire.question(question)
    except KeyError:
        known = ", ".join(x.id for x in questionnaire.questions)
        raise click.ClickException(
            f"no question '{question}' in '{questionnaire.id}'; known: {known}"
        ) from None


def language_or_fail(config: configuration.Config, language: str | None) -> str:
    """The given language, or the county's first; one the county does not use is an error."""
    language = language or config.default_language
    if language not in config.county.languages:
        raise click.ClickException(
            f"language '{language}' is not one of {', '.join(config.county.languages)}"
        )
    return language
