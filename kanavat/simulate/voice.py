"""A virtual resident on the phone: reacts to what the server plays, as a person would.

The emulator echoes a mark when a prompt has played; its name is the prompt's key
(``question.arki``, ``reprompt.arki~2``, ``confirm.arki~3``, ``outro~5``). The resident
answers the question it just heard by keypad or, if it speaks and the server has a speech
model for its language, with espeak-ng words; its quirk plays out once: silence first,
``*`` (or "toista") for a repeat, a wrong key, a hang-up after two answers, or straight away.
How the phone answers (busy once, a machine, never) is the handset's behaviour; a watcher
changes it after the first call, so retries find the resident in.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from kanavat.emulator import Handset, Line
from kanavat.questions.model import Question
from kanavat.simulate import answers
from kanavat.simulate.population import Resident, phrases
from kanavat.simulate.speech import Speaker

MARK_TIMEOUT = 300.0  # emulated seconds without a prompt: the resident gives up and hangs up


def call_script(
    resident: Resident,
    questions: dict[str, Question],
    speaker: Speaker | None,
    on_event: Callable[[str], None] = lambda _: None,
) -> Callable[[Line], Awaitable[None]]:
    """The resident's behaviour on every call it answers (``HandsetBehaviour.script``).
    ``speaker`` None: keypad only. ``on_event`` hears what happened, for the run's tally."""
    persona = resident.persona

    def speech_for(question: Question) -> bytes | None:
        if speaker is None or not persona.speaks:
            return None
        words = answers.spoken(question, resident.answers.get(question.id), resident.language)
        return speaker.clip(words, resident.language) if words else None

    async def script(line: Line) -> None:
        quirk_left = persona.quirk != "none"
        answered = 0
        while True:
            try:
                mark = await line.wait_mark(timeout=MARK_TIMEOUT)
            except TimeoutError:
                await line.hangup()
                return
            base = mark.split("~")[0]
            kind, _, qid = base.partition(".")
            if kind == "outro" or base.startswith("voice."):
                return  # the server says goodbye and hangs up
            if kind == "confirm":
                await line.press("1")  # "yes, that's what I said"
                continue
            if kind not in ("question", "reprompt") or qid not in questions:
                continue
            question = questions[qid]
            if quirk_left:
                quirk_left = False
                if await _quirk(line, persona.quirk, resident, question, speaker, answered):
                    on_event(f"voice.{persona.quirk}")
                    if persona.quirk == "refuses":
                        return
                    continue
                # "stops" hangs up after two answers; a wrong key waits for a closed question
                quirk_left = persona.quirk in ("stops", "wrong_first")
            # Asked again after a miss, a speaker does what the prompt says: the keypad.
            clip = speech_for(question) if kind == "question" else None
            if clip is not None:
                await line.say(clip)
                on_event("voice.speech")
            else:
                digits = answers.keypad(question, resident.answers.get(question.id))
                if digits is None:
                    continue  # free text without words: silence, the dialog moves on
                await line.press(digits)
                on_event("voice.keypad")
            answered += 1

    return script


async def _quirk(
    line: Line,
    quirk: str,
    resident: Resident,
    question: Question,
    speaker: Speaker | None,
    answered: int,
) -> bool:
    """Act out the quirk on this question; True if it replaced the answer."""
    speaks = speaker is not None and resident.persona.speaks
    if quirk == "hesitates":
        return True  # silence: the question is asked again after the listening timeout
    if quirk == "repeats":
        if speaks:
            await line.say(speaker.clip(phrases()[resident.language]["repeat"], resident.language))  # type: ignore[union-attr]
        else:
            await line.press("*")
        return True
    if quirk == "wrong_first" and question.type in ("scale", "yesno", "choice"):
        await line.press("9")
        return True
    if quirk == "refuses" or (quirk == "stops" and answered >= 2):
        if speaks:  # "lopeta": the session ends here, a refusal or a break-off
            await line.say(speaker.clip(stop_word(resident.language), resident.language))  # type: ignore[union-attr]
        else:  # the keypad has no "stop": put the phone down (the county calls back later)
            await line.hangup()
        return True
    return False


def stop_word(language: str) -> str:
    return str(phrases()[language]["stop"]).lower()


def outcome_behaviour(resident: Resident, first_call: bool) -> dict[str, str]:
    """The handset's answer behaviour for the resident's habit, before/after the first call."""
    habit = resident.persona.call
    if habit == "no_answer":
        return {"call_outcome": "no-answer", "answered_by": "human"}
    if habit == "voicemail" or (habit == "voicemail_once" and first_call):
        return {"call_outcome": "answer", "answered_by": "machine"}
    if habit == "busy_once" and first_call:
        return {"call_outcome": "busy", "answered_by": "human"}
    return {"call_outcome": "answer", "answered_by": "human"}


async def watch_calls(handset: Handset, resident: Resident) -> None:
    """After the first call ends, a resident who was busy or out answers the next ones."""
    if resident.persona.call not in ("busy_once", "voicemail_once"):
        return
    log = await handset.wait_for_call(timeout=3600)
    with contextlib.suppress(TimeoutError):
        await log.wait_ended(timeout=600)
    handset.set_behaviour(**outcome_behaviour(resident, first_call=False))
    await asyncio.sleep(0)
