"""``kanavat chat``: the link and QR code of a chat campaign, for posters and school screens.

Registered in ``kanavat/cli.py`` with ``main.add_command(chat)``. Kept free of imports from
``kanavat.cli`` so that registration cannot become an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import click
import segno

from kanavat import config as configuration
from kanavat.cliutil import config_option


@dataclass(frozen=True)
class Link:
    url: str
    qr_path: Path


def chat_link(
    config: configuration.Config, campaign_id: str, language: str | None, output: Path | None
) -> Link:
    """The campaign's public chat address, and its QR code written as a PNG.

    The code uses error correction level M (15 %): it still scans from a poster with a crease
    or a sticker on it, at a size a phone reads across a classroom.
    """
    try:
        campaign = config.campaign(campaign_id)
    except configuration.UnknownName as exc:
        raise click.ClickException(str(exc)) from None
    if "chat" not in campaign.channels:
        raise click.ClickException(
            f"campaign '{campaign_id}' is not on chat (its channels: {', '.join(campaign.channels)}); "
            'add "chat" to its channels to give it a link'
        )
    if language is not None and language not in config.county.languages:
        raise click.ClickException(
            f"language '{language}' is not one of the county's: {', '.join(config.county.languages)}"
        )
    url = f"{config.server.public_url}/chat/{quote(campaign_id)}"
    if language:
        url += f"?lang={quote(language)}"
    suffix = f"-{language}" if language else ""
    path = output or config.base_dir / "qr" / f"{campaign_id}{suffix}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    segno.make(url, error="m", boost_error=False).save(str(path), scale=12, border=4)
    return Link(url, path)


@click.group()
def chat() -> None:
    """The web chat channel: links and QR codes for posters."""


@chat.command()
@click.argument("campaign", metavar="CAMPAIGN")
@click.option("--lang", "language", default=None, help="Open the chat in this language.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the QR code PNG (default: qr/CAMPAIGN[-LANG].png beside the config).",
)
@config_option
def link(
    campaign: str, language: str | None, output: Path | None, config_path: Path | None
) -> None:
    """Print a chat campaign's public link and write its QR code as a PNG.

    The link is on the configured server.public_url; anyone with it may answer while the
    campaign is open. Prints the link, then the path of the PNG.

    Example: kanavat chat link nuoret-2027 --lang sv
    """
    try:
        config = configuration.load(config_path)
    except configuration.ConfigError as exc:
        raise click.ClickException(f"the configuration has errors:\n{exc}") from None
    made = chat_link(config, campaign, language, output)
    click.echo(made.url)
    click.echo(str(made.qr_path))
