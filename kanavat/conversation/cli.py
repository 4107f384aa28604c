"""``kanavat statements`` (moderation) and ``kanavat conversation`` (opinion groups) commands."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import click

from kanavat import config as configuration
from kanavat.cliutil import campaign_or_fail, config_option, load_config, open_store
from kanavat.conversation import groups, statements
from kanavat.conversation.settings import Conversation
from kanavat.store import Store


def conversation_or_fail(config: configuration.Config, campaign_id: str) -> Conversation:
    campaign = campaign_or_fail(config, campaign_id)
    if campaign.conversation is None:
        conversational = [c for c, v in config.campaigns.items() if v.conversation] or ["none"]
        raise click.ClickException(
            f"campaign '{campaign_id}' is not a conversation; conversations: "
            + ", ".join(conversational)
        )
    return config.conversations[campaign.conversation]


def prepared(config: configuration.Config, campaign_id: str) -> Store:
    """The store with the campaign's seed statements in place."""
    conversation = conversation_or_fail(config, campaign_id)
    store = open_store(config)
    statements.sync_seeds(store, campaign_id, conversation.seeds())
    return store


@click.group("statements")
def statements_group() -> None:
    """Moderate a conversation's statements: residents' own enter only when accepted."""


@statements_group.command("list")
@click.argument("campaign")
@click.option(
    "--status",
    type=click.Choice([*statements.STATUSES, "all"]),
    default="all",
    show_default=True,
)
@click.option("--lang", default=None, help="Language to show (default: the county's first).")
@config_option
def statements_list(campaign: str, status: str, lang: str | None, config_path: Path | None) -> None:
    """List a conversation's statements: id, status, origin, channel, text.

    Residents' statements carry no author: nobody can tell who wrote one.

    Example: kanavat statements list keskustelu-2027 --status pending
    """
    config = load_config(config_path)
    store = prepared(config, campaign)
    language = lang or config.default_language
    try:
        chosen = None if status == "all" else status
        found = statements.listing(store, campaign, chosen)  # type: ignore[arg-type]
        for s in found:
            click.echo(
                f"{s.id:>5}  {s.status:<9} {s.origin:<9} {s.channel or '-':<6} {s.text(language)}"
            )
        click.echo(f"{len(found)} statements", err=True)
    finally:
        store.close()


def _moderate(campaign: str, ids: tuple[int, ...], status: str, config_path: Path | None) -> None:
    config = load_config(config_path)
    store = prepared(config, campaign)
    try:
        for statement_id in ids:
            try:
                statements.moderate(store, campaign, statement_id, status)  # type: ignore[arg-type]
            except statements.UnknownStatement as exc:
                raise click.ClickException(f"{exc}; see kanavat statements list") from None
            click.echo(f"{statement_id}: {status}")
    finally:
        store.close()


@statements_group.command("accept")
@click.argument("campaign")
@click.argument("ids", nargs=-1, type=int, required=True)
@config_option
def statements_accept(campaign: str, ids: tuple[int, ...], config_path: Path | None) -> None:
    """Accept statements into the pool residents vote on.

    Example: kanavat statements accept keskustelu-2027 12 14
    """
    _moderate(campaign, ids, "accepted", config_path)


@statements_group.command("reject")
@click.argument("campaign")
@click.argument("ids", nargs=-1, type=int, required=True)
@config_option
def statements_reject(campaign: str, ids: tuple[int, ...], config_path: Path | None) -> None:
    """Reject statements: they are never offered, and their votes no longer count.

    Example: kanavat statements reject keskustelu-2027 13
    """
    _moderate(campaign, ids, "rejected", config_path)


@statements_group.command("edit")
@click.argument("campaign")
@click.argument("statement_id", metavar="ID", type=int)
@click.argument("text")
@click.option("--lang", default=None, help="Language of the text (default: the county's first).")
@config_option
def statements_edit(
    campaign: str, statement_id: int, text: str, lang: str | None, config_path: Path | None
) -> None:
    """Reword a statement (a typo, a name taken out); it keeps its id and its votes.

    Example: kanavat statements edit keskustelu-2027 12 "Terveysasemalle pitää päästä viikossa."
    """
    config = load_config(config_path)
    language = lang or config.default_language
    if language not in config.county.languages:
        raise click.ClickException(
            f"unknown language '{language}'; the county's: {', '.join(config.county.languages)}"
        )
    store = prepared(config, campaign)
    try:
        statements.edit(store, campaign, statement_id, language, text)
    except statements.UnknownStatement as exc:
        raise click.ClickException(f"{exc}; see kanavat statements list") from None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    click.echo(f"{statement_id}: edited")


@click.group("conversation")
def conversation_group() -> None:
    """A conversation's opinion groups."""


@conversation_group.command("groups")
@click.argument("campaign")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "table"]), default="csv", show_default=True
)
@config_option
def conversation_groups(campaign: str, fmt: str, config_path: Path | None) -> None:
    """Each participant's opinion group by pseudonym (as in kanavat export).

    Columns: respondent, group (A-E; empty for participants with too few votes to be placed,
    or when the votes show no groups). Recomputes the groups first if votes arrived since.

    Example: kanavat conversation groups keskustelu-2027 --format csv > ryhmat.csv
    """
    config = load_config(config_path)
    store = prepared(config, campaign)
    try:
        snapshot = groups.update_if_stale(store, campaign)
        voters = sorted(groups.votes.latest_channel(store, campaign))
    finally:
        store.close()
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["respondent", "group"])
        for respondent in voters:
            writer.writerow([respondent, snapshot.members.get(respondent, "")])
    else:
        sizes = {
            g: list(snapshot.members.values()).count(g)
            for g in sorted(set(snapshot.members.values()))
        }
        click.echo(f"{len(voters)} participants, {snapshot.k} opinion groups: {sizes or 'none'}")
