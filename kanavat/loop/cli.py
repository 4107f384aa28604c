"""``kanavat outcome add|list|show|release|publish`` and ``kanavat suggestions
list|route|answer|close``: thin over ``outcomes``, ``holds``, ``notices`` and ``suggestions``.
Registered in ``kanavat/cli.py``."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import click

from kanavat.cliutil import config_option, load_config, open_store
from kanavat.loop import holds, notices, outcomes, suggestions
from kanavat.loop.texts import outcome_message


@click.group()
def outcome() -> None:
    """What came of a campaign: record a decision, told to everyone who took part."""


TOML_KEYS = {
    "key",
    "decided_by",
    "decided_on",
    "minutes",
    "question",
    "theme",
    "text",
    "public",
    "wait_for_recording",
    "hold_calls",
}


def _calls_wait(wait_for_recording: bool | None, hold_calls: bool) -> str | None:
    """An outcome's ``calls_wait`` from its options (None: the county's setting)."""
    if hold_calls and wait_for_recording:
        raise click.UsageError(
            "choose one: --hold-calls (until `kanavat outcome release`) or --wait-for-recording"
        )
    if hold_calls:
        return outcomes.CALLS_HELD
    if wait_for_recording is None:
        return None
    return outcomes.CALLS_WAIT_RECORDING if wait_for_recording else outcomes.CALLS_AT_ONCE


def _flag(path: Path, i: int, entry: dict[str, Any], key: str) -> bool | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, bool):
        raise click.ClickException(
            f"{path}: outcome {i}: {key} must be true or false, not {value!r}"
        )
    return value


def _from_toml(path: Path, campaign: str, calls_wait: str | None) -> list[outcomes.Outcome]:
    """``[[outcome]]`` entries; ``calls_wait`` (the command's options) for those that say
    nothing of their calls."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise click.ClickException(f"{path}: cannot read: {exc}") from None
    entries = raw.get("outcome")
    if not isinstance(entries, list) or not entries:
        raise click.ClickException(f"{path}: no [[outcome]] entries")
    out = []
    for i, e in enumerate(entries, start=1):
        unknown = set(e) - TOML_KEYS
        if unknown:
            raise click.ClickException(
                f"{path}: outcome {i}: unknown key {sorted(unknown)[0]}; "
                f"known: {', '.join(sorted(TOML_KEYS))}"
            )
        missing = [k for k in ("decided_by", "decided_on", "text") if k not in e]
        if missing or not isinstance(e.get("text"), dict):
            raise click.ClickException(
                f"{path}: outcome {i} needs decided_by, decided_on and text = {{ fi = ... }}"
            )
        wait, hold = _flag(path, i, e, "wait_for_recording"), _flag(path, i, e, "hold_calls")
        if hold and wait:
            raise click.ClickException(
                f"{path}: outcome {i}: choose one of hold_calls and wait_for_recording"
            )
        own = _calls_wait(wait, bool(hold))
        out.append(
            outcomes.Outcome(
                campaign,
                str(e["decided_by"]),
                str(e["decided_on"]),
                {k: str(v) for k, v in e["text"].items()},
                e.get("minutes"),
                e.get("question"),
                e.get("theme"),
                bool(e.get("public", True)),
                f"{campaign}:{e.get('key') or i}",
                own if own is not None else calls_wait,
            )
        )
    return out


@outcome.command("add")
@click.argument("campaign")
@click.option("--body", "decided_by", help="The council or board that decided (its name).")
@click.option("--date", "decided_on", help="When it decided (YYYY-MM-DD).")
@click.option("--fi", "text_fi", help="What was decided or will change, in Finnish.")
@click.option("--sv", "text_sv", help="The same in Swedish.")
@click.option("--en", "text_en", help="The same in English.")
@click.option("--minutes", help="A link to the minutes (https://...).")
@click.option("--question", help="The question it answers (default: the whole campaign).")
@click.option("--theme", help="The theme it answers, in officials' words.")
@click.option("--private", is_flag=True, help="Tell participants, but leave off the public page.")
@click.option(
    "--wait-for-recording/--no-wait-for-recording",
    default=None,
    help="Calls wait for the message's recording in each resident's language and start by "
    "themselves once it is built in (`kanavat voices build`); default: [outcomes] "
    "calls_wait_for_recording. Texts and chat go out at once.",
)
@click.option(
    "--hold-calls",
    is_flag=True,
    help="Hold the calls until `kanavat outcome release ID`. Texts and chat go out at once.",
)
@click.option(
    "--from",
    "from_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Read [[outcome]] entries from a TOML file instead (each recorded once).",
)
@config_option
def outcome_add(
    campaign: str,
    decided_by: str | None,
    decided_on: str | None,
    text_fi: str | None,
    text_sv: str | None,
    text_en: str | None,
    minutes: str | None,
    question: str | None,
    theme: str | None,
    private: bool,
    wait_for_recording: bool | None,
    hold_calls: bool,
    from_file: Path | None,
    config_path: Path | None,
) -> None:
    """Record a council's or board's response to CAMPAIGN. Everyone who took part and has
    not opted out or been erased is told once, in their channel and language, within the
    campaign's hours (the server sends them, paced like invitations).

    Residents told by phone hear voices/<lang>/outcome.<ID>.wav: with --wait-for-recording
    (or the county's [outcomes] calls_wait_for_recording) their calls wait until it is
    recorded and built in; the command says where each recording goes.

    Example: kanavat outcome add vanhukset-2027 --body Vanhusneuvosto --date 2027-05-14
    --fi "Kotihoidon iltakäynnit lisääntyvät syksyllä." --minutes https://example.fi/pk/12
    """
    config = load_config(config_path)
    calls_wait = _calls_wait(wait_for_recording, hold_calls)
    if from_file is not None:
        given = _from_toml(from_file, campaign, calls_wait)
    else:
        texts = {k: v for k, v in (("fi", text_fi), ("sv", text_sv), ("en", text_en)) if v}
        if not decided_by or not decided_on or not texts:
            raise click.UsageError("give --body, --date and --fi (or --from FILE.toml)")
        given = [
            outcomes.Outcome(
                campaign,
                decided_by,
                decided_on,
                texts,
                minutes,
                question,
                theme,
                not private,
                calls_wait=calls_wait,
            )
        ]
    store = open_store(config)
    try:
        for item in given:
            try:
                outcome_id, told, new = outcomes.add(store, config, item)
            except outcomes.OutcomeError as exc:
                raise click.ClickException(str(exc)) from None
            verb = "recorded" if new else "already recorded"
            click.echo(f"outcome {outcome_id} {verb}: {told} residents to tell")
            _warn_untranslated(config.county.languages, item)
            _echo_waiting(holds.waiting(config, store, outcome_id), outcome_id)
    finally:
        store.close()


def _warn_untranslated(languages: list[str], item: outcomes.Outcome) -> None:
    """A county language without a text hears another's words in its own call's frame."""
    fallback = next(iter(item.texts))
    for language in languages:
        if language not in item.texts:
            click.echo(
                f"  warning: no {holds.language_name(language)} text: residents who speak "
                f"{holds.language_name(language)} are told the "
                f"{holds.language_name(fallback)} one (give --{language}, or {language} in the file)",
                err=True,
            )


def _echo_waiting(waits: list[holds.Waiting], outcome_id: int, indent: str = "  ") -> None:
    for wait in waits:
        click.echo(f"{indent}{wait.why}")
    if any(w.calls_wait == outcomes.CALLS_WAIT_RECORDING and not w.recorded for w in waits):
        click.echo(
            f"{indent}(texts and chat go out at once; `kanavat outcome release {outcome_id}` "
            "starts the calls now, with a placeholder voice where nothing is recorded)"
        )


def _waiting_json(waits: list[holds.Waiting]) -> list[dict[str, Any]]:
    return [
        {
            "language": w.language,
            "residents": w.residents,
            "waits_for": "recording"
            if w.calls_wait == outcomes.CALLS_WAIT_RECORDING
            else "release",
            "recording": str(w.place),
            "recorded": w.recorded,
            "why": w.why,
        }
        for w in waits
    ]


def _counts_line(told: dict[str, dict[str, int]]) -> str:
    return ", ".join(
        f"{ch} {'/'.join(f'{s} {n}' for s, n in sorted(by.items()))}"
        for ch, by in sorted(told.items())
    )


CALLS_SAID = {
    outcomes.CALLS_AT_ONCE: "at once",
    outcomes.CALLS_WAIT_RECORDING: "wait for the message's recording in each language",
    outcomes.CALLS_HELD: "held until `kanavat outcome release`",
    outcomes.CALLS_RELEASED: "released by an official",
}


@outcome.command("list")
@click.argument("campaign", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per outcome.")
@config_option
def outcome_list(campaign: str | None, as_json: bool, config_path: Path | None) -> None:
    """Outcomes recorded, with how many residents were told, by channel, and what calls
    wait for (a language's recording, or a release).

    Example: kanavat outcome list vanhukset-2027
    """
    config = load_config(config_path)
    store = open_store(config)
    try:
        prompts = holds.library(config)
        for outcome_id, o in outcomes.listed(store, campaign):
            told = notices.counts(store, "outcome", [outcome_id])
            waits = holds.waiting(config, store, outcome_id, prompts)
            if as_json:
                click.echo(json.dumps(_as_dict(outcome_id, o, told, waits), ensure_ascii=False))
                continue
            click.echo(
                f"{outcome_id}  {o.campaign_id}  {o.decided_on}  {o.decided_by}  "
                f"{'public' if o.public else 'private'}  {_counts_line(told) or 'nobody to tell'}"
            )
            _echo_waiting(waits, outcome_id, indent="    ")
    finally:
        store.close()


def _as_dict(
    outcome_id: int,
    o: outcomes.Outcome,
    told: dict[str, dict[str, int]],
    waits: list[holds.Waiting],
) -> dict[str, Any]:
    return {
        "id": outcome_id,
        "campaign": o.campaign_id,
        "decided_by": o.decided_by,
        "decided_on": o.decided_on,
        "question": o.question,
        "theme": o.theme,
        "public": o.public,
        "calls_wait": o.calls_wait,
        "notices": told,
        "waiting": _waiting_json(waits),
    }


@outcome.command("show")
@click.argument("outcome_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="One JSON object, its texts included.")
@config_option
def outcome_show(outcome_id: int, as_json: bool, config_path: Path | None) -> None:
    """One outcome whole: what was decided, by whom, its texts, who was told by channel,
    and what its calls wait for and how to end the wait.

    Example: kanavat outcome show 3
    """
    config = load_config(config_path)
    store = open_store(config)
    try:
        o = outcomes.get(store, outcome_id)
        if o is None:
            raise click.ClickException(f"no outcome {outcome_id}; see `kanavat outcome list`")
        told = notices.counts(store, "outcome", [outcome_id])
        waits = holds.waiting(config, store, outcome_id)
        by_phone = [lang for ref, lang in notices.told_by_phone(store) if ref == outcome_id]
    finally:
        store.close()
    said = {lang: outcome_message(config, o, lang, "voice") for lang in by_phone}
    if as_json:
        out = _as_dict(outcome_id, o, told, waits)
        out |= {"texts": o.texts, "minutes": o.minutes_url, "call_says": said}
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    about = f"question {o.question}" if o.question else "the whole campaign"
    if o.theme:
        about += f", theme {o.theme}"
    click.echo(f"outcome {outcome_id}: {o.campaign_id} ({about})")
    click.echo(f"decided by {o.decided_by} on {o.decided_on}")
    if o.minutes_url:
        click.echo(f"minutes: {o.minutes_url}")
    click.echo(f"public page: {'shown' if o.public else 'not shown'}")
    click.echo(f"calls: {CALLS_SAID.get(o.calls_wait or '', o.calls_wait)}")
    for language, text in o.texts.items():
        click.echo(f"{language}: {text}")
    click.echo(f"told: {_counts_line(told) or 'nobody to tell'}")
    for language, words in said.items():
        place = holds.recording_place(config, outcome_id, language)
        click.echo(f"the call says in {holds.language_name(language)} (recorded as {place}):")
        click.echo(f"    {words}")
    if waits:
        click.echo("waiting:")
        _echo_waiting(waits, outcome_id)


@outcome.command("release")
@click.argument("outcome_id", type=int)
@config_option
def outcome_release(outcome_id: int, config_path: Path | None) -> None:
    """Start an outcome's waiting calls now: those held with --hold-calls, and those still
    waiting for a recording (a language not recorded hears the espeak-ng placeholder).
    The running server places them within the campaign's call hours.

    Example: kanavat outcome release 3
    """
    config = load_config(config_path)
    store = open_store(config)
    try:
        prompts = holds.library(config)
        unrecorded = [
            holds.language_name(w.language)
            for w in holds.waiting(config, store, outcome_id, prompts)
            if not w.recorded
        ]
        try:
            started = holds.release(store, outcome_id)
        except outcomes.OutcomeError as exc:
            raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    click.echo(f"outcome {outcome_id}: {started} calls released")
    if unrecorded:
        click.echo(f"  not recorded, said by a placeholder voice: {', '.join(unrecorded)}")


# -- suggestions -----------------------------------------------------------------------------


@click.group("suggestions")
def suggestions_group() -> None:
    """Residents' suggestions (EHDOTUS / FÖRSLAG / IDEA): list, route, answer, close."""


def _run(config_path: Path | None, action: Any) -> Any:
    config = load_config(config_path)
    store = open_store(config)
    try:
        return action(config, store)
    except suggestions.SuggestionError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()


@suggestions_group.command("list")
@click.option("--status", type=click.Choice(suggestions.STATUSES), help="Only these.")
@click.option("--queue", help="Only this queue.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per suggestion.")
@config_option
def suggestions_list(
    status: str | None, queue: str | None, as_json: bool, config_path: Path | None
) -> None:
    """Suggestions with their text, queue, theme and status (the text is personal data:
    for the officials handling it). Numbers are never shown.

    Example: kanavat suggestions list --status new
    """

    def show(config: Any, store: Any) -> None:
        for r in suggestions.listed(store, status=status, queue=queue):
            row = {k: r[k] for k in ("id", "channel", "language", "status", "queue", "theme")}
            row |= {"received": r["created_at"], "text": r["text"], "answer": r["answer"]}
            if as_json:
                click.echo(json.dumps(row, ensure_ascii=False))
            else:
                click.echo(
                    f"#{r['id']} [{r['status']}] {r['created_at'][:16]} {r['channel']}/"
                    f"{r['language']} queue={r['queue'] or '-'} theme={r['theme'] or '-'}\n"
                    f"    {r['text'] if r['text'] is not None else '(erased)'}"
                )

    _run(config_path, show)


@suggestions_group.command("route")
@click.argument("suggestion_id", type=int)
@click.argument("queue")
@click.option("--theme", help="Its theme, for reports (e.g. liikenne, kotihoito).")
@config_option
def suggestions_route(
    suggestion_id: int, queue: str, theme: str | None, config_path: Path | None
) -> None:
    """Send a suggestion to the queue of the council or service it concerns.

    Example: kanavat suggestions route 12 vanhusneuvosto --theme kotihoito
    """

    def route(config: Any, store: Any) -> None:
        queues = config.suggestions.queues
        if queues and queue not in queues:
            raise click.ClickException(
                f"no queue '{queue}'; known: {', '.join(sorted(queues))} ([suggestions] queues)"
            )
        suggestions.route(store, suggestion_id, queue, theme)
        click.echo(f"suggestion {suggestion_id} routed to {queue}")

    _run(config_path, route)


@suggestions_group.command("answer")
@click.argument("suggestion_id", type=int)
@click.argument("text")
@config_option
def suggestions_answer(suggestion_id: int, text: str, config_path: Path | None) -> None:
    """Answer a suggestion: its writer is told in the channel it came by (a text, a call,
    the chat page), once, by the running server.

    Example: kanavat suggestions answer 12 "Penkit tulevat toukokuussa."
    """

    def answer(config: Any, store: Any) -> None:
        told = suggestions.answer(store, suggestion_id, text)
        where = "its writer will be told" if told else "nobody can be told (erased)"
        click.echo(f"suggestion {suggestion_id} answered: {where}")

    _run(config_path, answer)


@suggestions_group.command("close")
@click.argument("suggestion_id", type=int)
@config_option
def suggestions_close(suggestion_id: int, config_path: Path | None) -> None:
    """Close a suggestion (handled, or not one to answer).

    Example: kanavat suggestions close 12
    """

    def close(config: Any, store: Any) -> None:
        suggestions.close(store, suggestion_id)
        click.echo(f"suggestion {suggestion_id} closed")

    _run(config_path, close)


@outcome.command("publish")
@click.argument("outcome_id", type=int)
@click.option("--hide", is_flag=True, help="Take it off the public page instead.")
@config_option
def outcome_publish(outcome_id: int, hide: bool, config_path: Path | None) -> None:
    """Show an outcome on the public page (/julkinen), or take it off with --hide. Telling
    the participants does not depend on it.

    Example: kanavat outcome publish 3 --hide
    """
    config = load_config(config_path)
    store = open_store(config)
    try:
        if not outcomes.set_public(store, outcome_id, not hide):
            raise click.ClickException(f"no outcome {outcome_id}; see `kanavat outcome list`")
        store.audit("outcome.publish", outcome=outcome_id, public=not hide)
    finally:
        store.close()
    click.echo(f"outcome {outcome_id} {'hidden from' if hide else 'shown on'} the public page")
