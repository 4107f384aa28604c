"""The ``[conversations.ID]`` config section and its checks (issue 20).

A conversation campaign is a campaign with ``conversation = "ID"``: it keeps everything a
questionnaire campaign has (its questionnaire, channels, windows, retries, fallback, audience and
samples, privacy, reports) and adds a round of statements to vote on. Example::

    [conversations.palvelut]
    title = { fi = "...", sv = "...", en = "..." }
    intro = { fi = "...", sv = "...", en = "..." }   # the topic, read before the first statement
    offered = 8            # statements one resident is offered (phone calls are short: 7-10)
    moderation = true      # residents' own statements wait for a moderator
    own_statements = true  # residents may add statements
    [[conversations.palvelut.statements]]
    id = "bussit"
    text = { fi = "...", sv = "...", en = "..." }

Seed statements' prompts are recorded like questionnaire prompts (``statement.ID`` in the voices
manifest) or spoken by espeak-ng placeholders until recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kanavat.questions.model import ID_PATTERN, LocalText

MIN_VOTES_TO_GROUP = 7  # Polis groups only participants with at least this many votes
Add = Callable[..., None]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeedStatement(Section):
    id: str = Field(pattern=ID_PATTERN)
    text: LocalText


class Conversation(Section):
    title: LocalText
    intro: LocalText
    statements: list[SeedStatement] = Field(min_length=1)
    offered: int = Field(default=8, ge=1, le=50)
    moderation: bool = True
    own_statements: bool = True

    def seeds(self) -> dict[str, dict[str, str]]:
        return {s.id: dict(s.text) for s in self.statements}


def partial(raw: object) -> dict[str, Conversation]:
    """For a config with errors elsewhere: every entry, valid or not, so that campaigns naming
    one are not also told it is unknown (its own errors are reported by validation)."""
    found: dict[str, Conversation] = {}
    for name, data in (raw if isinstance(raw, dict) else {}).items():
        try:
            found[name] = Conversation.model_validate(data)
        except ValidationError:
            # A stand-in marked by title None: only its name is used (for references).
            found[name] = Conversation.model_construct(title=None, intro=None, statements=[])
    return found


def check(
    conversations: dict[str, Conversation],
    campaigns: dict[str, str | None],
    languages: list[str],
    add: Add,
) -> None:
    """Cross-checks: campaign references, a text in every county language, unique ids, and a
    warning when a resident could not be grouped."""
    for cid, conversation in campaigns.items():
        if conversation is not None and conversation not in conversations:
            known = ", ".join(sorted(conversations)) or "none"
            add(
                ("campaigns", cid, "conversation"),
                f"unknown conversation '{conversation}'; known: {known}",
            )
    for name, conversation in conversations.items():
        if conversation.title is None:  # invalid: validation reports its errors
            continue
        base = ("conversations", name)
        for field in ("title", "intro"):
            _translated(getattr(conversation, field), languages, (*base, field), add)
        seen: dict[str, int] = {}
        for i, statement in enumerate(conversation.statements):
            path = (*base, "statements", i)
            if statement.id in seen:
                add(
                    (*path, "id"),
                    f"duplicate statement id '{statement.id}' (also statements[{seen[statement.id]}])",
                )
            seen[statement.id] = i
            _translated(statement.text, languages, (*path, "text"), add)
        if conversation.offered < MIN_VOTES_TO_GROUP:
            add(
                (*base, "offered"),
                f"residents offered fewer than {MIN_VOTES_TO_GROUP} statements are never placed "
                "in an opinion group",
                "warning",
            )
        if len(conversation.statements) < MIN_VOTES_TO_GROUP:
            add(
                (*base, "statements"),
                f"fewer than {MIN_VOTES_TO_GROUP} seed statements: nobody can be grouped until "
                "residents' statements are accepted",
                "warning",
            )


def _translated(text: dict[str, str], languages: list[str], path: tuple, add: Add) -> None:
    missing = [lang for lang in languages if not text.get(lang, "").strip()]
    if missing:
        add(path, f"missing translation for {', '.join(missing)}")


Kind = Literal["questionnaire", "conversation"]
