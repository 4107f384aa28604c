"""``kanavat person show|forget PHONE`` and ``kanavat purge``: residents' requests by letter or
phone, and retention by hand. Thin over ``data``, ``erase`` and ``purge``.

Registered in ``kanavat/cli.py`` with ``main.add_command(person)`` and
``main.add_command(purge)``; that module's helpers are imported inside the commands, since it
imports this one.
"""

from __future__ import annotations

from pathlib import Path

import click

from kanavat.cliutil import config_option
from kanavat.privacy import data, erase
from kanavat.privacy import purge as purge_mod
from kanavat.store import utc_now

_config = config_option


def _phone(raw: str) -> str:
    from kanavat.contacts import InvalidPhone, normalise_phone

    try:
        return normalise_phone(raw, None)
    except InvalidPhone as exc:
        raise click.BadParameter(f"{exc}; write it as +358401234567 or 040 123 4567") from None


@click.group()
def person() -> None:
    """A resident's data: show it or erase it, for a request by letter or phone."""


@person.command("show")
@click.argument("phone")
@click.option("--lang", default=None, help="Language of the listing (default: the county's first).")
@_config
def person_show(phone: str, lang: str | None, config_path: Path | None) -> None:
    """Show what the county holds about a phone number: contact details, campaigns with the
    answers given, an opt-out. The same text a resident gets by texting TIETONI.

    Example: kanavat person show "040 123 4567" --lang sv
    """
    from kanavat.cliutil import load_config, open_store

    config = load_config(config_path)
    language = lang or config.default_language
    if language not in data.LANGUAGES:
        raise click.BadParameter(f"no texts for '{language}'; use one of fi, sv, en")
    number = _phone(phone)
    store = open_store(config)
    try:
        held = data.holdings(store, config, data.Person(phone=number), language)
        store.audit("privacy.show", source="cli", found=not held.empty)
    finally:
        store.close()
    click.echo("\n".join(data.describe(config, held, language)))


@person.command("forget")
@click.argument("phone")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_config
def person_forget(phone: str, yes: bool, config_path: Path | None) -> None:
    """Erase a resident's data, as [privacy] erasure says (delete or anonymise): their answers,
    their number, attributes and groups. An opt-out is kept. Cannot be undone.

    Example: kanavat person forget +358401234567 --yes
    """
    from kanavat.cliutil import load_config, open_store

    config = load_config(config_path)
    number = _phone(phone)
    store = open_store(config)
    try:
        held = data.holdings(store, config, data.Person(phone=number))
        if held.empty:
            click.echo("nothing is held about this number; nothing was erased")
            return
        answers = sum(len(c.answers) for c in held.campaigns)
        summary = f"{len(held.campaigns)} campaign(s), {answers} answer(s)"
        if not yes:
            click.confirm(
                f"Erase ({config.privacy.erasure}) {summary} and the number? This cannot be undone",
                abort=True,
            )
        report = erase.erase(store, config, data.Person(phone=number), "cli")
    finally:
        store.close()
    click.echo(
        f"erased ({report.mode}): {report.sessions} session(s), {report.answers_deleted} "
        f"answer(s) deleted, {report.answers_kept} kept anonymously, "
        f"{report.events_scrubbed} stored message(s) scrubbed"
    )


@click.command()
@_config
def purge(config_path: Path | None) -> None:
    """Delete phone numbers, raw audio and stored message contents [privacy] retention_days
    after each campaign ended. Reports keep working: answers stay, pseudonymous. The
    scheduler runs this daily; run it by hand after changing retention_days.

    Example: kanavat purge --config /etc/kanavat/config.toml
    """
    from kanavat.cliutil import load_config, open_store

    config = load_config(config_path)
    store = open_store(config)
    try:
        report = purge_mod.purge(store, config, utc_now())
    finally:
        store.close()
    click.echo(
        f"retention {config.privacy.retention_days} days (before {report.cutoff}): "
        f"{len(report.campaigns)} campaign(s) past it, {report.phones} phone number(s) deleted, "
        f"{report.events} stored message(s) scrubbed, {report.recordings} recording(s) deleted"
    )
