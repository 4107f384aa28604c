"""The ``kanavat`` command: thin click commands over the package's functions."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from kanavat import attempts
from kanavat import config as configuration
from kanavat import contacts as contacts_mod
from kanavat import export as export_mod
from kanavat.cliutil import (
    campaign_or_fail,
    config_option,
    language_or_fail,
    load_config,
    open_store,
    question_or_fail,
)
from kanavat.questions.normalise import Input, normalise
from kanavat.store import Store


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kanavat")
def main() -> None:
    """kanavat: questionnaire campaigns by phone, SMS and web chat for welfare counties."""


@main.command()
@click.option(
    "--deploy",
    is_flag=True,
    help="Also check what a production server needs: https public URL, secrets, speech "
    "models, recordings, a writable and recently backed-up store (docs/deploy.md).",
)
@config_option
def check(deploy: bool, config_path: Path | None) -> None:
    """Validate the configuration and report what would stop a campaign.

    Exits 1 if there are errors; warnings (a language without a speech model, an empty
    audience) are printed but do not fail. With --deploy, every finding also says its fix.

    Example: kanavat check --config config.toml
    """
    config, problems = configuration.check(config_path)
    errors = [p for p in problems if p.severity == "error"]
    for p in errors:
        click.echo(f"error: {p}", err=True)
    if config is None:
        raise SystemExit(1)
    warnings = [p for p in problems if p.severity == "warning"]
    if config.server.is_postgres or config.database_path.exists():
        store = open_store(config)
        for cid, campaign in config.campaigns.items():
            if campaign.audience and contacts_mod.group_size(store, campaign.audience.group) == 0:
                warnings.append(
                    configuration.Problem(
                        str(config.path),
                        f"campaigns.{cid}.audience",
                        f"group '{campaign.audience.group}' has no contacts yet; "
                        f"add them with: kanavat contacts import FILE.csv --group {campaign.audience.group}",
                        severity="warning",
                    )
                )
        store.close()
    for p in warnings:
        click.echo(f"warning: {p}", err=True)
    if deploy:
        _check_deploy(config)
    click.echo(
        f"{config.path}: OK: {len(config.questionnaires)} questionnaires, {len(config.campaigns)} "
        f"campaigns, languages {', '.join(config.county.languages)}"
        + (f", {len(warnings)} warnings" if warnings else "")
    )


def _check_deploy(config: configuration.Config) -> None:
    from kanavat import deploy_check

    found = deploy_check.findings(config)
    for finding in found:
        click.echo(str(finding), err=True)
    errors = sum(f.severity == "error" for f in found)
    if errors:
        raise click.ClickException(
            f"{config.path}: not ready to deploy: {errors} errors, {len(found) - errors} warnings"
        )
    click.echo(f"{config.path}: ready to deploy" + (f", {len(found)} warnings" if found else ""))


@main.command()
@click.argument("campaign")
@click.argument("question")
@click.argument("text")
@click.option("--lang", default=None, help="Language of the reply (default: the county's first).")
@click.option(
    "--kind",
    type=click.Choice(["text", "keypad", "button", "speech"]),
    default="text",
    show_default=True,
    help="How the reply was given.",
)
@click.option(
    "--confidence", type=float, default=None, help="Recogniser confidence for --kind speech."
)
@config_option
def answer(
    campaign: str,
    question: str,
    text: str,
    lang: str | None,
    kind: str,
    confidence: float | None,
    config_path: Path | None,
) -> None:
    """Show how a question understands a reply, as one JSON object.

    Exits 0 for an answer or a command, 1 for a no-match.

    Example: kanavat answer vanhukset-2027 apu_mista "tyttäreltä" --lang fi
    """
    config = load_config(config_path)
    campaign_or_fail(config, campaign)
    questionnaire = config.questionnaire_of(campaign)
    q = question_or_fail(questionnaire, question)
    language = language_or_fail(config, lang)
    result = normalise(q, Input(kind, text, confidence), language)  # type: ignore[arg-type]
    click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
    raise SystemExit(1 if result.kind == "no_match" else 0)


@main.group()
def contacts() -> None:
    """Residents to contact: import lists, see groups."""


@contacts.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--group", required=True, help="Group the contacts join, e.g. ikaihmiset.")
@click.option(
    "--skip-invalid", is_flag=True, help="Import the valid rows even if some are rejected."
)
@config_option
def contacts_import(file: Path, group: str, skip_invalid: bool, config_path: Path | None) -> None:
    """Import contacts from a CSV file with a header row.

    Column `phone` is required; `language` is optional (default: the county's first); every
    other column (age_group, municipality, ...) is kept as an attribute. Numbers are normalised
    to E.164. Re-importing the same file changes nothing. If any row is rejected, nothing is
    imported unless --skip-invalid is given.

    Example: kanavat contacts import ikaihmiset.csv --group ikaihmiset
    """
    config = load_config(config_path)
    store = open_store(config)
    try:
        report = contacts_mod.import_csv(
            store,
            file,
            group,
            config.county.languages,
            config.privacy.allowed_country_codes,
            skip_invalid,
        )
    except contacts_mod.ImportRejected as exc:
        for line, reason in exc.report.rejected:
            click.echo(f"{file}:{line}: {reason}", err=True)
        raise click.ClickException(
            f"{len(exc.report.rejected)} rows rejected; nothing was imported. Fix them, or pass "
            "--skip-invalid to import the rest."
        ) from None
    finally:
        store.close()
    for line, reason in report.rejected:
        click.echo(f"{file}:{line}: skipped: {reason}", err=True)
    click.echo(
        f"group {group}: {report.added} added, {report.updated} updated, "
        f"{report.unchanged} unchanged, {len(report.rejected)} skipped"
    )


@contacts.command("groups")
@config_option
def contacts_groups(config_path: Path | None) -> None:
    """List contact groups and their sizes.

    Example: kanavat contacts groups
    """
    config = load_config(config_path)
    store = open_store(config)
    for name, count in contacts_mod.groups(store).items():
        click.echo(f"{name}\t{count}")
    store.close()


@main.command()
@click.argument("campaign")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of standard output.",
)
@config_option
def export(campaign: str, fmt: str, output: Path | None, config_path: Path | None) -> None:
    """Export a campaign's answers, one row per answer, with pseudonymous respondents.

    Columns: campaign, question, respondent, channel, language, input_kind, raw, value,
    confidence, answered_at (ISO 8601 UTC).

    Example: kanavat export vanhukset-2027 --format csv --output vastaukset.csv
    """
    config = load_config(config_path)
    campaign_or_fail(config, campaign)
    store = open_store(config)
    writer = export_mod.write_csv if fmt == "csv" else export_mod.write_jsonl
    try:
        if output:
            with output.open("w", encoding="utf-8", newline="") as out:
                count = writer(out, export_mod.rows(store, campaign))
            click.echo(f"{count} answers written to {output}", err=True)
        else:
            writer(sys.stdout, export_mod.rows(store, campaign))
    finally:
        store.close()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=None, type=int, help="Port (default: the port of server.public_url)."
)
@click.option(
    "--emulator-port",
    default=None,
    type=int,
    help="Port of the local Twilio emulator when [twilio] is absent (default: port + 1).",
)
@click.option(
    "--log-level",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]),
)
@config_option
def serve(
    host: str, port: int | None, emulator_port: int | None, log_level: str, config_path: Path | None
) -> None:
    """Run the service: webhooks, chat, reports and the campaign dispatcher.

    Without a [twilio] section a local Twilio emulator starts beside it, so everything works
    with no credentials and no network. Stop with Ctrl-C (SIGINT) or SIGTERM.

    Example: kanavat serve --config config.toml
    """
    from urllib.parse import urlsplit

    from kanavat import logs, server

    logs.setup(log_level)
    config = load_config(config_path)
    port = port or urlsplit(config.server.public_url).port or 8080
    click.echo(
        f"kanavat serving on http://{host}:{port} (public URL {config.server.public_url})", err=True
    )
    from kanavat.backup import BackupError, serving

    try:
        if config.server.is_postgres:  # several workers may share it (docs/deploy.md)
            server.serve(config, host, port, server.Options(emulator_port=emulator_port))
            return
        shared = config.server.workers_per_machine > 1
        if shared and config.twilio is None:
            raise click.ClickException(
                "several servers on one SQLite store ([server] workers_per_machine > 1) need "
                "a [twilio] section: the built-in emulator is one per server"
            )
        config.database_path.parent.mkdir(parents=True, exist_ok=True)
        # One server per store, or several (workers_per_machine); restore refuses meanwhile.
        with serving(config.database_path, shared=shared) as hold:
            options = server.Options(
                emulator_port=emulator_port, alone=hold.alone, started=hold.started
            )
            server.serve(config, host, port, options)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None


@main.group()
def campaign() -> None:
    """Campaigns: list, start, pause, resume, status."""


@campaign.command("list")
@config_option
def campaign_list(config_path: Path | None) -> None:
    """List campaigns with their status and council.

    Example: kanavat campaign list
    """
    from kanavat.outreach import campaigns as campaigns_mod

    config = load_config(config_path)
    store = open_store(config)
    campaigns_mod.sync(store, config)
    for cid, c in config.campaigns.items():
        click.echo(
            f"{cid}\t{campaigns_mod.status(store, cid)}\t{c.council}\t{','.join(c.channels)}"
        )
    store.close()


@campaign.command("start")
@click.argument("campaign_id", metavar="CAMPAIGN")
@config_option
def campaign_start(campaign_id: str, config_path: Path | None) -> None:
    """Start a campaign now, before its configured start: its audience becomes due and the
    running server contacts them within seconds, inside the call and text hours.

    Running it again on a running campaign adds contacts who joined its group since.

    Example: kanavat campaign start vammaispalvelut-2027
    """
    from kanavat.outreach import audience
    from kanavat.outreach import campaigns as campaigns_mod

    config = load_config(config_path)
    campaign_or_fail(config, campaign_id)
    store = open_store(config)
    try:
        campaigns_mod.sync(store, config)
        _refuse_finished(store, campaign_id, "started")
        added = audience.enrol(store, config, campaign_id)
        campaigns_mod.set_status(store, campaign_id, "running")
    finally:
        store.close()
    click.echo(f"{campaign_id}: running; {added} contacts due now")


@campaign.command("pause")
@click.argument("campaign_id", metavar="CAMPAIGN")
@config_option
def campaign_pause(campaign_id: str, config_path: Path | None) -> None:
    """Pause a campaign: nobody new is contacted until it is resumed (calls already under
    way finish; replies to texts are still taken).

    Example: kanavat campaign pause vanhukset-2027
    """
    _set_status(campaign_id, "paused", config_path)


@campaign.command("resume")
@click.argument("campaign_id", metavar="CAMPAIGN")
@config_option
def campaign_resume(campaign_id: str, config_path: Path | None) -> None:
    """Resume a paused campaign: whoever became due meanwhile is contacted.

    Example: kanavat campaign resume vanhukset-2027
    """
    _set_status(campaign_id, "running", config_path)


def _refuse_finished(store: Store, campaign_id: str, verb: str) -> None:
    from kanavat.outreach import campaigns as campaigns_mod

    if campaigns_mod.status(store, campaign_id) == "finished":
        raise click.ClickException(
            f"{campaign_id} has finished and cannot be {verb}; every contact has its final "
            "disposition. To ask again, add a new campaign to the configuration."
        )


def _set_status(campaign_id: str, status: str, config_path: Path | None) -> None:
    from kanavat.outreach import campaigns as campaigns_mod

    config = load_config(config_path)
    campaign_or_fail(config, campaign_id)
    store = open_store(config)
    try:
        campaigns_mod.sync(store, config)
        _refuse_finished(store, campaign_id, "paused" if status == "paused" else "resumed")
        current = campaigns_mod.status(store, campaign_id)
        if status == "running" and current == "scheduled":
            raise click.ClickException(
                f"{campaign_id} has not started; start it with: kanavat campaign start {campaign_id}"
            )
        campaigns_mod.set_status(store, campaign_id, status)  # type: ignore[arg-type]
    finally:
        store.close()
    click.echo(f"{campaign_id}: {status}")


REACH_COLUMNS = (
    "contacts",
    "attempted",
    "reached",
    "completed",
    "partial",
    "refused",
    "unreachable",
    "pending",
)


@campaign.command("status")
@click.argument("campaign_id", metavar="CAMPAIGN")
@config_option
def campaign_status(campaign_id: str, config_path: Path | None) -> None:
    """Show a campaign's reach per channel and every contact's AAPOR disposition.

    Reach: contacts, attempted (called or texted at least once), reached (took part),
    completed, partial, refused (including opt-outs), unreachable (non-contact after every
    retry and channel, or not eligible), pending. Each contact counts under the channel of
    its latest attempt.

    Example: kanavat campaign status vanhukset-2027
    """
    from kanavat.outreach import campaigns as campaigns_mod
    from kanavat.outreach import reach as reach_mod

    config = load_config(config_path)
    c = campaign_or_fail(config, campaign_id)
    store = open_store(config)
    try:
        campaigns_mod.sync(store, config)
        status = campaigns_mod.status(store, campaign_id)
        window = f"{c.start or '-'} .. {c.end or '-'}".replace("T", " ")
        click.echo(f"{campaign_id}: {status} ({window}, {', '.join(c.channels)})")
        rows = reach_mod.reach(store, config, [campaign_id])
        rows.append(reach_mod.total(rows, campaign_id))
        click.echo("  " + f"{'channel':<9}" + "".join(f"{h:>12}" for h in REACH_COLUMNS))
        for row in rows:
            name = "all" if row.channel == "*" else row.channel
            values = "".join(f"{getattr(row, h):>12}" for h in REACH_COLUMNS)
            click.echo(f"  {name:<9}{values}")
        click.echo("  dispositions (AAPOR):")
        for row in store.query(
            "SELECT disposition, count(*) AS n FROM campaign_contacts WHERE campaign_id = ? "
            "GROUP BY disposition ORDER BY disposition",
            [campaign_id],
        ):
            click.echo(f"    {row['disposition']:<14}{row['n']:>7}")
        live = {"n": attempts.live_count(store, campaign_id)}
        due = store.one(
            "SELECT count(*) AS n, min(next_due_at) AS next FROM campaign_contacts "
            "WHERE campaign_id = ? AND disposition = 'pending' AND next_due_at IS NOT NULL",
            [campaign_id],
        )
        click.echo(
            f"  live attempts {live['n'] if live else 0}; "
            f"{due['n'] if due else 0} waiting, next due {(due or {}).get('next') or '-'} (UTC)"
        )
    finally:
        store.close()


def _register_channel_commands() -> None:
    """Commands that live beside their channel: voices, speech (voice), chat, report."""
    from kanavat.backup_cli import store
    from kanavat.chat.cli import chat
    from kanavat.conversation.cli import conversation_group, statements_group
    from kanavat.loop.cli import outcome, suggestions_group
    from kanavat.outreach.commands import event, sample
    from kanavat.privacy.cli import person, purge
    from kanavat.report.cli import report
    from kanavat.simulate.cli import demo, simulate
    from kanavat.themes.cli import themes
    from kanavat.voice.cli import speech, voices

    main.add_command(voices)
    main.add_command(speech)
    main.add_command(report)
    main.add_command(chat)
    main.add_command(person)
    main.add_command(purge)
    main.add_command(event)
    campaign.add_command(sample)
    main.add_command(simulate)
    main.add_command(demo)
    main.add_command(themes)
    main.add_command(store)
    main.add_command(outcome)
    main.add_command(suggestions_group)
    main.add_command(statements_group)
    main.add_command(conversation_group)


_register_channel_commands()
