"""A conversation round as a questionnaire, so that every channel runs it through the one engine.

Each statement offered to a resident becomes a choice question (1 agree, 2 disagree, 3 pass;
spoken and written words in every language), numbered so the resident hears how many are
left; then, when residents may add statements, "would you like to add one?" and the statement
itself (free text: typed, or spoken and transcribed locally); then the campaign's own
questionnaire. The engine, the channels' rendering of prompts, keypad, confirmation, repeats
and stops are the questionnaires' own: a conversation adds no parallel path.

The statements chosen for a session are part of its questionnaire id
(``conversation:CAMPAIGN:12.5.3``), kept in the session's state, so a resumed session asks the
same ones. Texts of statements come from the store at every turn (a moderator's edit shows).
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from kanavat.conversation import groups, statements
from kanavat.conversation.settings import Conversation
from kanavat.questions.model import (
    ChoiceQuestion,
    LocalText,
    Option,
    Questionnaire,
    TextQuestion,
    YesNoQuestion,
)
from kanavat.store import Store

PREFIX = "conversation:"
STATEMENT = "statement-"
OFFER = "own-statement-offer"
OWN = "own-statement"
TEXTS = Path(__file__).parent / "texts"


@cache
def texts(language: str) -> dict[str, Any]:
    return tomllib.loads((TEXTS / f"{language}.toml").read_text(encoding="utf-8"))


def session_id_for(campaign_id: str, chosen: list[int]) -> str:
    return f"{PREFIX}{campaign_id}:{'.'.join(str(s) for s in chosen)}"


def parse(questionnaire_id: str) -> tuple[str, list[int]] | None:
    """(campaign, statement ids) of a conversation questionnaire id; None for any other id."""
    if not questionnaire_id.startswith(PREFIX):
        return None
    campaign_id, _, ids = questionnaire_id[len(PREFIX) :].rpartition(":")
    return campaign_id, [int(s) for s in ids.split(".") if s]


def statement_of(question_id: str) -> int | None:
    if question_id.startswith(STATEMENT) and question_id[len(STATEMENT) :].isdigit():
        return int(question_id[len(STATEMENT) :])
    return None


def choose(
    store: Store, campaign_id: str, respondent: str, offered: int, rng: np.random.Generator
) -> list[int]:
    """Up to ``offered`` statements this resident has not voted on, drawn one after another by
    Polis's priority (from the last group update; new statements get the novelty boost)."""
    chosen: list[int] = []
    for _ in range(offered):
        found = groups.next_statement(store, campaign_id, respondent, rng, exclude=set(chosen))
        if found is None:
            break
        chosen.append(found)
    return chosen


class StatementQuestion(ChoiceQuestion):
    """A vote on one statement. Its text is the counter and the statement together (what a
    message shows); a call says them as two recordings, ``counter.N.TOTAL`` and
    ``statement.KEY`` (a seed's id from the config, a resident's statement's number), and
    every statement's options are the same ``option.statement.agree`` recordings, so a county
    records each piece once (``kanavat voices build``), not once per session."""

    counter: LocalText
    statement: LocalText
    statement_key: str
    number: int
    total: int

    @property
    def audio_key(self) -> str:
        return "statement"

    def spoken(self, language: str) -> list[tuple[str, str]]:
        return [
            (f"counter.{self.number}.{self.total}", self.counter[language]),
            (f"statement.{self.statement_key}", self.statement[language]),
        ]


def vote_question(
    statement: statements.Statement, number: int, total: int, languages: list[str]
) -> StatementQuestion:
    return _vote_question(
        statement.id,
        statement.seed_key or str(statement.id),
        {lang: statement.text(lang) for lang in languages},
        number,
        total,
        languages,
    )


def _vote_question(
    statement_id: int | str,
    key: str,
    said: dict[str, str],
    number: int,
    total: int,
    languages: list[str],
) -> StatementQuestion:
    def options() -> list[Option]:
        return [
            Option(
                id=vote,
                key=key,
                label={lang: texts(lang)[vote] for lang in languages},
                synonyms={lang: list(texts(lang)[f"{vote}_synonyms"]) for lang in languages},
            )
            for vote, key in (("agree", "1"), ("disagree", "2"), ("pass", "3"))
        ]

    counter = {
        lang: texts(lang)["counter"].format(number=number, total=total) for lang in languages
    }
    return StatementQuestion(
        id=f"{STATEMENT}{statement_id}",
        type="choice",
        text={lang: f"{counter[lang]} {said[lang]}" for lang in languages},
        options=options(),
        counter=counter,
        statement=said,
        statement_key=key,
        number=number,
        total=total,
    )


def recordable(
    name: str, conversation: Conversation, base: Questionnaire, languages: list[str]
) -> Questionnaire:
    """Everything a call of this conversation says that the config knows, for the voices
    folder: the topic intro, every seed statement, the counters of a round of the seeds, the
    vote options, the offer to add a statement, then the campaign's questionnaire. Residents'
    accepted statements (and counters of a round of another length) are spoken by placeholders
    until recorded."""
    total = min(conversation.offered, len(conversation.statements))
    questions: list[Any] = [
        _vote_question(
            seed.id,
            seed.id,
            {lang: seed.text[lang] for lang in languages},
            i % total + 1,
            total,
            languages,
        )
        for i, seed in enumerate(conversation.statements)
    ]
    return _with(f"conversation.{name}", conversation, base, languages, questions)


def compose(
    store: Store,
    questionnaire_id: str,
    conversation: Conversation,
    base: Questionnaire,
    languages: list[str],
) -> Questionnaire:
    parsed = parse(questionnaire_id)
    if parsed is None:
        raise ValueError(f"not a conversation questionnaire: {questionnaire_id}")
    campaign_id, chosen = parsed
    questions: list[Any] = [
        vote_question(statements.get(store, campaign_id, s), n, len(chosen), languages)
        for n, s in enumerate(chosen, start=1)
    ]
    return _with(questionnaire_id, conversation, base, languages, questions)


def _with(
    questionnaire_id: str,
    conversation: Conversation,
    base: Questionnaire,
    languages: list[str],
    questions: list[Any],
) -> Questionnaire:
    """The statements' questions, the offer to add one's own, then the campaign's own."""
    if conversation.own_statements:
        questions.append(
            YesNoQuestion(
                id=OFFER, type="yesno", text={lang: texts(lang)["offer"] for lang in languages}
            )
        )
        questions.append(
            TextQuestion(
                id=OWN,
                type="text",
                max_length=statements.MAX_LENGTH,
                text={lang: texts(lang)["own"] for lang in languages},
                when={OFFER: "yes"},
            )
        )
    questions.extend(base.questions)
    intro = {lang: conversation.intro[lang] for lang in languages}
    # model_construct: the id carries the chosen statements and is no config id.
    return Questionnaire.model_construct(
        id=questionnaire_id,
        title=conversation.title,
        intro=intro,
        outro=base.outro,
        questions=questions,
        confirm_below=base.confirm_below,
    )
