"""A virtual resident's text messages: reads what arrived, replies in its own words.

The resident sees only its inbox, like a person: it finds which question a message asks by
the question's text (in its language), notices a confirmation or the closing thanks, and
answers the question it was last asked when a message only explains what went wrong. Its
habit decides when: promptly, late (hours later on the rehearsal clock), or never.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass

from kanavat.emulator import Handset
from kanavat.questions.lexicon import texts
from kanavat.questions.model import Question, Questionnaire
from kanavat.simulate import answers
from kanavat.simulate.population import Resident, phrases
from kanavat.sms.render import plain

LATE_HOURS = (2.0, 8.0)  # a late reply comes hours later, well before the day's reminder
PROMPT_HOURS = (0.05, 0.4)  # a prompt one within minutes


@dataclass
class Reading:
    """What a message means to the resident."""

    question: Question | None = None
    confirm: bool = False
    again: bool = False  # a reprompt: the last reply was not taken, say it again
    finished: bool = False


def read(body: str, questionnaire: Questionnaire, language: str) -> Reading:
    """Which question ``body`` asks (the last one it contains), or whether it confirms/ends."""
    found: tuple[int, Question] | None = None
    for q in questionnaire.questions:
        at = body.rfind(plain(q.text[language]).strip())
        if at >= 0 and (found is None or at > found[0]):
            found = (at, q)
    t = texts(language)
    ends = [plain(questionnaire.outro[language]), plain(t["reply"]["stopped"])]
    ends.append(plain(t["sms"]["opted_out"]))
    return Reading(
        question=found[1] if found else None,
        confirm=plain(t["reply"]["confirm_hint_text"]) in body,
        again=any(
            plain(t["reply"][key]).split("{")[0].strip() in body
            for key in ("no_match", "no_input", "out_of_range", "ambiguous", "too_long")
        ),
        finished=any(end.strip() and end.strip() in body for end in ends),
    )


async def converse(
    handset: Handset,
    resident: Resident,
    questionnaires: dict[str, Questionnaire],
    rng: random.Random,
    busy: Callable[[int], None],
    hour: float,
    on_event: Callable[[str], None] = lambda _: None,
) -> None:
    """React to every text until the conversation ends; runs until cancelled.

    ``hour`` is how many real seconds an hour of the rehearsal's clock lasts.
    ``busy(+1/-1)`` brackets the time between reading a message and replying, so the runner
    knows a reply is still coming."""
    persona = resident.persona
    words = phrases()[resident.language]
    last: Question | None = None
    quirk_left = persona.quirk != "none"
    answered = 0
    first_reply = True
    questionnaire: Questionnaire | None = None
    while True:
        message = await handset.wait_for_message(timeout=24 * 3600)
        if persona.sms == "never":
            continue
        busy(+1)
        try:
            questionnaire = questionnaire or _which(message.body, questionnaires, resident.language)
            if questionnaire is None:
                continue
            reading = read(message.body, questionnaire, resident.language)
            if reading.finished:
                continue
            if reading.question is not None:
                last = reading.question
            elif not (reading.confirm or (last is not None and reading.again)):
                continue  # nothing asked (an acknowledgement): wait for the question
            assert last is not None or reading.confirm
            late = first_reply and (persona.sms == "late" or persona.quirk == "hesitates")
            await asyncio.sleep(rng.uniform(*(LATE_HOURS if late else PROMPT_HOURS)) * hour)
            first_reply = False
            if reading.confirm:
                await handset.send_sms(words["yes"][0])
                continue
            assert last is not None
            value = resident.answers.get(last.id)
            if reading.question is None:  # asked again after a reply it didn't take: plainly
                await handset.send_sms(
                    answers.keypad(last, value) or answers.text(last, value, resident.language, rng)
                )
                continue
            reply = _quirk(persona.quirk, last, words, answered, rng) if quirk_left else None
            if reply is not None or persona.quirk not in ("stops", "wrong_first", "hesitates"):
                quirk_left = False
            if reply is not None:
                on_event(f"sms.{persona.quirk}")
                await handset.send_sms(reply)
                continue
            await handset.send_sms(answers.text(last, value, resident.language, rng))
            on_event("sms.answer")
            answered += 1
        finally:
            busy(-1)


def _quirk(quirk: str, question: Question, words: dict, answered: int, rng: random.Random):
    if quirk == "repeats":
        return words["repeat"]
    if quirk == "wrong_first" and question.type != "text":
        return rng.choice(words["confused"])
    if quirk == "refuses" or (quirk == "stops" and answered >= 2):
        return words["stop"]
    return None


def _which(
    body: str, questionnaires: dict[str, Questionnaire], language: str
) -> Questionnaire | None:
    """The questionnaire a message belongs to, by its introduction or a question's text."""
    for questionnaire in questionnaires.values():
        intro = plain(questionnaire.intro[language]).strip()
        if intro and intro[:40] in body:
            return questionnaire
        if read(body, questionnaire, language).question is not None:
            return questionnaire
    return None
