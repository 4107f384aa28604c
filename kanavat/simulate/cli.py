"""``kanavat simulate`` and ``kanavat demo``: rehearsals of the county's campaigns.

Registered in ``kanavat/cli.py`` with ``main.add_command(simulate)`` and
``main.add_command(demo)``. Kept free of imports from ``kanavat.cli`` (no import cycle).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kanavat import logs
from kanavat.outreach.reach import COUNTS, total
from kanavat.simulate import conversation
from kanavat.simulate.rehearsal import LOG_NAME, RehearsalError
from kanavat.simulate.runner import Plan, Rehearsal, Result


def console() -> Console:
    """Rich output; wide enough for the reach table when not on a terminal (CI, a log)."""
    return Console() if sys.stdout.isatty() else Console(width=140)


CONFIG_HELP = "The county's configuration (default: ./config.toml, then $KANAVAT_CONFIG)."


def _options(default_respondents: int):
    def wrap(f):
        for option in reversed(
            [
                click.option(
                    "--respondents",
                    type=click.IntRange(1, 2000),
                    default=default_respondents,
                    show_default=True,
                    help="How many virtual residents, shared among the campaigns.",
                ),
                click.option(
                    "--seed",
                    type=int,
                    default=2027,
                    show_default=True,
                    help="Seed of the population and its behaviour: the same seed, the same residents.",
                ),
                click.option(
                    "--dir",
                    "folder",
                    type=click.Path(file_okay=False, path_type=Path),
                    default=Path("demo"),
                    show_default=True,
                    help="The rehearsal's folder: its config copy, store and reports (wiped and rebuilt).",
                ),
                click.option(
                    "--port",
                    type=int,
                    default=8080,
                    show_default=True,
                    help="Preferred server port (the emulator takes the next); another free pair if busy.",
                ),
                click.option(
                    "--pace",
                    type=click.FloatRange(0.01, 100),
                    default=2.0,
                    show_default=True,
                    help="Hours of the campaign's schedule (retries, reminders, fallbacks) per real second.",
                ),
                click.option(
                    "--speech/--no-speech",
                    default=True,
                    show_default=True,
                    help="Let some residents speak (needs espeak-ng and the speech extra: make demo).",
                ),
                click.option(
                    "--config",
                    "config_path",
                    type=click.Path(dir_okay=False, path_type=Path),
                    default=None,
                    help=CONFIG_HELP,
                ),
            ]
        ):
            f = option(f)
        return f

    return wrap


@click.command()
@click.option(
    "--campaign",
    "campaign_ids",
    multiple=True,
    metavar="ID",
    help="Rehearse this campaign (repeatable); default: every campaign.",
)
@_options(60)
@click.option(
    "--timeout",
    type=float,
    default=600,
    show_default=True,
    help="Real seconds at most; what is still due then is reported pending.",
)
@click.option(
    "--summary-json",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the reach summary as JSON to this file.",
)
def simulate(
    campaign_ids: tuple[str, ...],
    respondents: int,
    seed: int,
    folder: Path,
    port: int,
    pace: float,
    speech: bool,
    config_path: Path | None,
    timeout: float,
    summary_json: Path | None,
) -> None:
    """Rehearse campaigns with a simulated population, through the real server and emulator.

    Virtual residents answer by speech or keypad, hesitate, ask for a repeat, give wrong
    answers, stop, miss calls, let a machine answer, reply to texts late or never, and open
    the chat. The store's clock runs two hours a second, so retries, reminders and fallbacks
    of the county's own schedule happen within minutes. Prints the reach per campaign and
    channel. Runs on a copy of the configuration in --dir with its own store: the county's
    real store is never touched.

    Example: kanavat simulate --campaign vanhukset-2027 --respondents 30 --seed 7
    """
    out = console()
    plan = Plan(
        config_path,
        folder,
        list(campaign_ids) or None,
        respondents,
        seed,
        timeout=timeout,
        port=port,
        speech=speech,
        clock_rate=pace * 3600,
    )
    result = asyncio.run(_simulate(plan, out))
    print_summary(out, result)
    if result.loop is not None:
        from kanavat.simulate.loop import print_loop

        print_loop(out, result.loop)
    if summary_json:
        summary_json.write_text(
            json.dumps([r.to_json() for r in result.rows], indent=2) + "\n", encoding="utf-8"
        )


async def _simulate(plan: Plan, console: Console) -> Result:
    rehearsal = prepared(plan)
    try:
        return await rehearse(rehearsal, console)
    finally:
        await rehearsal.close()


def prepared(plan: Plan) -> Rehearsal:
    """A rehearsal's folder, config copy and store made, its server log opened (a plan that
    cannot run is the command's error)."""
    rehearsal = Rehearsal(plan)
    try:
        rehearsal.prepare()
    except RehearsalError as exc:
        raise click.ClickException(str(exc)) from None
    logs.setup_file(plan.folder / LOG_NAME)
    return rehearsal


async def rehearse(rehearsal: Rehearsal, console: Console) -> Result:
    """Start the server and emulator, run the residents to the end, then close the loop
    (``result.loop``: what came of the campaigns, told to those who took part)."""
    await rehearsal.start()
    result = await _run(rehearsal, console)
    from kanavat.simulate.loop import close_the_loop

    result.loop = await close_the_loop(rehearsal, rehearsal.plan.seed)
    return result


async def _run(rehearsal: Rehearsal, console: Console) -> Result:
    console.print(
        f"rehearsal in {rehearsal.plan.folder}/ on {rehearsal.base_url}; {rehearsal.speech_note}"
        f" (server log: {rehearsal.plan.folder / LOG_NAME})"
    )
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[doing]}"),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("residents settled", total=len(rehearsal.residents), doing="")

        def progress(settled: int, count: int, tally) -> None:
            calls = sum(v for k, v in tally.items() if k.startswith("voice."))
            texts = sum(v for k, v in tally.items() if k.startswith("sms."))
            chats = sum(v for k, v in tally.items() if k.startswith("chat.ended"))
            bar.update(
                task, completed=settled, doing=f"{calls} spoken/keyed, {texts} texts, {chats} chats"
            )

        result = await rehearsal.run(progress)
    assert rehearsal.config is not None
    for line in conversation.summary(
        rehearsal.store, rehearsal.config, rehearsal.residents, rehearsal.latent_groups
    ):
        console.print(line)
    return result


def print_summary(console: Console, result: Result) -> None:
    table = Table(title="Reach per campaign and channel")
    table.add_column("campaign")
    table.add_column("channel")
    for name in COUNTS:
        table.add_column(name, justify="right")
    for cid in dict.fromkeys(r.campaign_id for r in result.rows):
        for row in [r for r in result.rows if r.campaign_id == cid] + [total(result.rows, cid)]:
            style = "bold" if row.channel == "*" else None
            table.add_row(
                cid,
                "all" if row.channel == "*" else row.channel,
                *(str(getattr(row, n)) for n in COUNTS),
                style=style,
            )
    console.print(table)
    note = "timed out: " if result.timed_out else ""
    console.print(
        f"{note}{len(result.residents)} residents in {result.seconds:.0f} s. Pending: waiting for a "
        "reply, or a retry/reminder due later than the rehearsal's end. Every contact counts "
        "once, under the channel of its latest attempt."
    )


@click.command()
@_options(320)
@click.option(
    "--no-serve", is_flag=True, help="Stop after the reports instead of leaving the server running."
)
def demo(
    respondents: int,
    seed: int,
    folder: Path,
    port: int,
    pace: float,
    speech: bool,
    config_path: Path | None,
    no_serve: bool,
) -> None:
    """See the whole system work: a simulated county answers, councils get their reports.

    Creates a demo store in --dir, imports a generated population for the example county,
    rehearses every campaign over voice, SMS and chat, writes each council's HTML report,
    then leaves the server and its Twilio emulator running for you to try the chat in a
    browser (Ctrl-C stops it). No credentials, no network.

    Example: make demo (installs what it needs, then runs kanavat demo)
    """
    from kanavat.simulate.demo import run_demo
    from kanavat.simulate.population import CONVERSATION_VOLUME, EVENT_VOLUME

    out = console()
    plan = Plan(
        config_path,
        folder,
        None,
        respondents,
        seed,
        port=port,
        speech=speech,
        clock_rate=pace * 3600,
        event_volume=EVENT_VOLUME,
        conversation_volume=CONVERSATION_VOLUME,
    )
    try:
        asyncio.run(run_demo(plan, out, serve=not no_serve))
    except KeyboardInterrupt:
        out.print("stopped.")
