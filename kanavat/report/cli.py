"""``kanavat report``: a campaign's council report as HTML, JSON or CSV.

Registered in ``kanavat/cli.py`` with ``main.add_command(report)``; the helpers of that module
are imported inside the command, since it imports this one.
"""

from __future__ import annotations

from pathlib import Path

import click

from kanavat.cliutil import config_option
from kanavat.report.build import DEFAULT_BREAKDOWNS


@click.command()
@click.argument("campaign")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "json", "csv"]),
    default="html",
    show_default=True,
    help="html: the printable council report; json: for dashboards (docs/report-schema.md); "
    "csv: one row per number.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of standard output.",
)
@click.option(
    "--by",
    "by",
    multiple=True,
    metavar="ATTRIBUTE",
    help="Break answers down by this contact attribute (or channel, language, stratum); "
    f"repeatable. Default: {', '.join(DEFAULT_BREAKDOWNS)}.",
)
@click.option(
    "--compare",
    default=None,
    metavar="OTHER_CAMPAIGN",
    help="Show another run of the same questionnaire beside this one, with the change.",
)
@click.option("--lang", default=None, help="Report language (default: the county's first).")
@config_option
def report(
    campaign: str,
    fmt: str,
    output: Path | None,
    by: tuple[str, ...],
    compare: str | None,
    lang: str | None,
    config_path: Path | None,
) -> None:
    """Report what a campaign's residents said, for the council.

    Reach and AAPOR response rates, each question's answers with charts, breakdowns by
    contact attribute and channel, weighting for stratified samples, and free-text answers.
    Any number about fewer than [privacy] min_cell respondents is hidden in every format.

    Example: kanavat report vanhukset-2027 --format html --output raportti.html
    """
    from kanavat.cliutil import campaign_or_fail, load_config, open_store
    from kanavat.report.render import render

    config = load_config(config_path)
    campaign_or_fail(config, campaign)
    if compare:
        campaign_or_fail(config, compare)
        if config.campaign(compare).questionnaire != config.campaign(campaign).questionnaire:
            raise click.ClickException(
                f"'{compare}' asks questionnaire '{config.campaign(compare).questionnaire}', "
                f"'{campaign}' asks '{config.campaign(campaign).questionnaire}'; compare runs "
                "of the same questionnaire"
            )
    if lang and lang not in config.county.languages:
        raise click.ClickException(
            f"language '{lang}' is not one of {', '.join(config.county.languages)}"
        )
    store = open_store(config)
    try:
        text = render(store, config, campaign, fmt, language=lang, by=by or None, compare=compare)
    finally:
        store.close()
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"report of {campaign} written to {output}", err=True)
    else:
        click.echo(text, nl=False)
