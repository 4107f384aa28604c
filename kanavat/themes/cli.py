"""``kanavat themes CAMPAIGN QUESTION ...``: officials look at, name, merge, split and seed the
themes of a free-text question. Registered in ``kanavat/cli.py``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from kanavat.cliutil import campaign_or_fail, config_option, load_config, open_store

QUOTES = 2
"""Representative answers listed per theme of at least ``min_cell`` people."""


@click.group(
    invoke_without_command=True,
    # `kanavat themes C Q --config F` and `... list --config F` both work: the group reads
    # --config wherever it stands and leaves the sub-commands' own options to them.
    context_settings={"allow_interspersed_args": True, "ignore_unknown_options": True},
)
@click.argument("campaign")
@click.argument("question")
@config_option
@click.pass_context
def themes(ctx: click.Context, campaign: str, question: str, config_path: Path | None) -> None:
    """Themes of a free-text question's answers, found on this server (no answer leaves it).

    Without a sub-command, lists them (as `list`). Themes an official named or seeded persist:
    later answers are assigned to them, and what fits none is proposed as new-1, new-2, ...

    Example: kanavat themes vanhukset-2027 parannettavaa list
    """
    ctx.obj = {"campaign": campaign, "question": question, "config_path": config_path}
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_themes, config_path=config_path)


@contextmanager
def _session(
    ctx: click.Context, config_path: Path | None = None, *, analysed: bool = True
) -> Iterator[dict[str, Any]]:
    from kanavat.themes import commands

    obj = ctx.obj
    config = load_config(config_path or obj["config_path"])
    campaign_or_fail(config, obj["campaign"])
    store = open_store(config)
    try:
        commands.check_question(config, obj["campaign"], obj["question"])
        analysis = (
            commands.current(store, config, obj["campaign"], obj["question"]) if analysed else None
        )
        yield {**obj, "config": config, "store": store, "analysis": analysis}
    except commands.ThemeError as e:
        raise click.ClickException(str(e)) from None
    finally:
        store.close()


def _fail_on_theme_errors(fn: Any) -> Any:
    from functools import wraps

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from kanavat.themes import commands, named

        try:
            return fn(*args, **kwargs)
        except commands.ThemeError as e:
            raise click.ClickException(str(e)) from None
        except named.ThemeNameTaken as e:
            raise click.ClickException(
                f"another theme of this question is already called '{e}'; choose another name"
            ) from None

    return wrapper


@themes.command("list")
@config_option
@click.pass_context
def list_themes(ctx: click.Context, config_path: Path | None = None) -> None:
    """List the themes: id, name (or "proposed"), answers, share, characteristic words, and
    for themes of at least [privacy] min_cell people two redacted example answers.

    Example: kanavat themes vanhukset-2027 parannettavaa list
    """
    from kanavat.privacy.redact import redact
    from kanavat.report.texts import texts

    with _session(ctx, config_path) as s:
        analysis, k = s["analysis"], s["config"].privacy.min_cell
        total = len(analysis.answers)
        click.echo(f"{s['campaign']} / {s['question']}: {total} free-text answers")
        if not total:
            return
        replacement = texts(s["config"].default_language)["redacted"]
        for t in analysis.themes:
            share = len(t.members) / total
            title = t.name if t.named else "(proposed)"
            click.echo(f"\n{t.id:>7}  {title}: {len(t.members)} answers ({share:.0%})")
            click.echo(f"         words: {', '.join(t.words) or '-'}")
            if len(t.members) >= k:
                quotes = dict.fromkeys(
                    redact(analysis.answers[i].text, replacement) for i in t.members
                )
                for quote in list(quotes)[:QUOTES]:
                    click.echo(f'         "{quote}"')
        click.echo(f"\nin no theme: {len(analysis.strays)} answers")


@themes.command("name")
@click.argument("theme_id", metavar="ID")
@click.argument("name")
@config_option
@click.pass_context
@_fail_on_theme_errors
def name_theme(ctx: click.Context, theme_id: str, name: str, config_path: Path | None) -> None:
    """Name a proposed theme (new-N), which makes it official, or rename a named one.

    Example: kanavat themes vanhukset-2027 parannettavaa name new-2 "Puhelinjonot"
    """
    from kanavat.themes import commands

    with _session(ctx, config_path) as s:
        stored = commands.name(
            s["store"], s["analysis"], s["campaign"], s["question"], theme_id, name
        )
    click.echo(f"theme {stored}: {name}")


@themes.command("merge")
@click.argument("theme_ids", nargs=-1, required=True, metavar="ID ID...")
@click.option(
    "--name", "name", default=None, help="The merged theme's name (default: the first name)."
)
@config_option
@click.pass_context
@_fail_on_theme_errors
def merge_themes(
    ctx: click.Context, theme_ids: tuple[str, ...], name: str | None, config_path: Path | None
) -> None:
    """Merge two or more themes into one named theme.

    Example: kanavat themes vanhukset-2027 parannettavaa merge 3 new-5 --name "Kuljetukset"
    """
    from kanavat.themes import commands

    with _session(ctx, config_path) as s:
        stored = commands.merge(
            s["store"], s["analysis"], s["campaign"], s["question"], list(theme_ids), name
        )
    click.echo(f"merged {', '.join(theme_ids)} into theme {stored}")


@themes.command("split")
@click.argument("theme_id", metavar="ID")
@click.option("--parts", default=2, show_default=True, help="How many themes to split it into.")
@config_option
@click.pass_context
@_fail_on_theme_errors
def split_theme(ctx: click.Context, theme_id: str, parts: int, config_path: Path | None) -> None:
    """Split a theme into named parts ("NAME (1)", "NAME (2)"); rename them after `list`.

    Example: kanavat themes vanhukset-2027 parannettavaa split 3 --parts 2
    """
    from kanavat.themes import commands

    with _session(ctx, config_path) as s:
        stored = commands.split(
            s["store"], s["analysis"], s["campaign"], s["question"], theme_id, parts
        )
    click.echo(f"split {theme_id} into themes {', '.join(str(x) for x in stored)}")


@themes.command("seed")
@click.argument("name")
@click.option(
    "--example",
    "-e",
    "examples",
    multiple=True,
    required=True,
    help="An example answer of this theme (repeatable; three work well).",
)
@config_option
@click.pass_context
@_fail_on_theme_errors
def seed_theme(
    ctx: click.Context, name: str, examples: tuple[str, ...], config_path: Path | None
) -> None:
    """Seed a theme with a name and a few example answers: answers like them are assigned to
    it, and new themes are proposed for what fits no seeded one.

    Example: kanavat themes vanhukset-2027 parannettavaa seed "Puhelinjonot" -e "jonotin tunnin" -e "kukaan ei vastaa puhelimeen" -e "telefonkön är lång"
    """
    from kanavat.themes import commands

    with _session(ctx, config_path, analysed=False) as s:
        stored = commands.seed(s["store"], s["campaign"], s["question"], name, examples)
    click.echo(f"theme {stored}: {name} ({len(examples)} examples)")


@themes.command("forget")
@click.argument("theme_id", metavar="ID")
@config_option
@click.pass_context
@_fail_on_theme_errors
def forget_theme(ctx: click.Context, theme_id: str, config_path: Path | None) -> None:
    """Forget a named theme: its answers are proposed afresh.

    Example: kanavat themes vanhukset-2027 parannettavaa forget 3
    """
    from kanavat.themes import commands

    with _session(ctx, config_path) as s:
        commands.forget(s["store"], s["analysis"], theme_id)
    click.echo(f"theme {theme_id} forgotten")
