"""``kanavat campaign sample`` and ``kanavat event``: thin commands over ``kanavat.outreach.sampling``
and ``kanavat.outreach.triggers``. Register with ``campaign.add_command(sample)`` and
``main.add_command(event)``. Neither prints a phone number."""

from __future__ import annotations

from pathlib import Path

import click

from kanavat import config as configuration
from kanavat.cliutil import config_option, load_config, open_store
from kanavat.outreach import campaigns, sampling, triggers


@click.command("sample")
@click.argument("campaign_id", metavar="CAMPAIGN")
@config_option
def sample(campaign_id: str, config_path: Path | None) -> None:
    """Show a sampled campaign's strata: pool, draw, replacements, completes against target.

    Before the campaign starts this previews the allocation; ``kanavat campaign start`` draws
    the sample and records it. Columns: the pool of each stratum, how many were drawn, how
    many of its reserve stood in for unreachable contacts (and how many are left), completes
    against the stratum's target, and whether the stratum is closed because it was met.

    Example: kanavat campaign sample asukaskysely-2027
    """
    config = load_config(config_path)
    try:
        c = config.campaign(campaign_id)
    except configuration.UnknownName as exc:
        raise click.ClickException(str(exc)) from None
    if c.audience is None or c.audience.sample is None:
        raise click.ClickException(
            f"campaign '{campaign_id}' takes its whole audience; a sample needs e.g. "
            'audience = { group = "asukaspooli", sample = 600, stratify = ["age_group"], seed = 1 }'
        )
    store = open_store(config)
    try:
        s = sampling.summary(store, config, campaign_id)
    except sampling.SampleError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    seed = "chosen at the draw" if s.seed < 0 else str(s.seed)
    click.echo(
        f"{campaign_id}: sample of {s.size} from group '{s.group}' (pool {s.pool}), "
        f"stratified by {', '.join(s.stratify) or 'nothing'}, seed {seed}"
    )
    click.echo(f"drawn {s.drawn_at}" if s.drawn_at else "not drawn yet: allocation preview")
    header = ("stratum", "pool", "drawn", "replaced", "reserve left", "completes", "status")
    rows = [
        (
            st.stratum or "(none)",
            str(st.pool),
            str(st.allocation),
            str(st.replacements),
            f"{st.reserve_left}/{st.reserve}",
            f"{st.completes}/{st.target}",
            "closed" if st.closed else "open",
        )
        for st in s.strata
    ]
    totals = (
        "total",
        str(sum(st.pool for st in s.strata)),
        str(sum(st.allocation for st in s.strata)),
        str(sum(st.replacements for st in s.strata)),
        f"{sum(st.reserve_left for st in s.strata)}/{sum(st.reserve for st in s.strata)}",
        f"{sum(st.completes for st in s.strata)}/{sum(st.target for st in s.strata)}",
        f"{sum(st.closed for st in s.strata)} closed",
    )
    widths = [max(len(r[i]) for r in [header, *rows, totals]) for i in range(len(header))]
    for r in [header, *rows, totals]:
        cells = [r[0].ljust(widths[0])] + [
            v.rjust(w) for v, w in zip(r[1:], widths[1:], strict=True)
        ]
        click.echo("  ".join(cells).rstrip())


@click.command("event")
@click.argument("campaign_id", metavar="CAMPAIGN")
@click.argument("phone")
@click.option(
    "--attr",
    "attrs",
    multiple=True,
    metavar="NAME=VALUE",
    help="An attribute of the service event, e.g. unit=...; repeatable.",
)
@click.option("--lang", "language", default=None, help="Language for a new contact (fi, sv...).")
@config_option
def event(
    campaign_id: str,
    phone: str,
    attrs: tuple[str, ...],
    language: str | None,
    config_path: Path | None,
) -> None:
    """Record a service event: its resident gets the campaign's questionnaire after the delay.

    The same as ``POST /api/events``: the number is validated like an import, an opted-out
    number is never enrolled, and nobody is asked twice within the campaign's cooldown.

    Example: kanavat event palaute-terveysasema 0401234567 --attr unit="Keskustan terveysasema"
    """
    config = load_config(config_path)
    attributes: dict[str, str] = {}
    for item in attrs:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"'{item}' is not NAME=VALUE", param_hint="--attr")
        attributes[name.strip()] = value.strip()
    store = open_store(config)
    try:
        campaigns.sync(store, config)
        result = triggers.trigger(
            store, config, campaign_id, phone, attributes, language=language, source="cli"
        )
    except triggers.EventRejected as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    if result.status == "scheduled":
        click.echo(f"{campaign_id}: scheduled {result.respondent}, due {result.due_at}")
    elif result.status == "cooldown":
        click.echo(
            f"{campaign_id}: not sent: {result.respondent} was asked recently; "
            f"next possible {result.next_allowed_at}"
        )
    elif result.status == "already_due":
        click.echo(f"{campaign_id}: {result.respondent} is already due {result.due_at}")
    else:
        click.echo(f"{campaign_id}: not sent ({result.status.replace('_', ' ')})")
