"""An SMS campaign of 56 residents, end to end: real server, real HTTP, signed webhooks.

Contacts are imported and the campaign started with the ``kanavat`` commands; the dispatcher
texts everyone; each virtual resident (an emulator handset) follows its own script of right
and wrong answers, "toista", duplicated webhooks and opt-outs, reading every reply before
answering. Halfway through, the server is stopped and a new one started on the same database
and ports. ``kanavat export`` must then show exactly the answers given, once each.

The emulator's handsets are lost with the restart, so the test keeps its own record of what
every resident sent and received.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from harness import SMS_CAMPAIGN, Server, running_server

from kanavat import config as configuration
from kanavat.questions.lexicon import texts
from kanavat.questions.model import Questionnaire, is_asked
from kanavat.sms import render

pytestmark = pytest.mark.both_backends

RESIDENTS = 56
LANGUAGES = ("fi", "sv", "en")
WAIT = 10.0  # seconds for any one reply; they take about 0.05 s

YES = {"fi": "kyllä", "sv": "ja", "en": "yes"}
NO = {"fi": "ei", "sv": "nej", "en": "no"}
THREE = {"fi": "kolme", "sv": "tre", "en": "three"}
REPEAT = {"fi": "toista", "sv": "upprepa", "en": "repeat"}
WRONG = {"scale": "9", "yesno": "banaani", "choice": "banaani", "number": "xyz"}
OPT_OUT = ["STOP", "lopeta", " Lopeta! ", "SLUTA", "unsubscribe", "Cancel.", "end", "QUIT"]
CHOICES = ["kulkeminen", "tilat", "tieto", "digi", "muu"]


@dataclass
class Step:
    send: str
    expect: str | None  # a part of the one reply; None: no reply at all
    answer: tuple[str, Any] | None = None  # (question, value) this step records
    duplicate: bool = False  # Twilio delivers this webhook twice
    opt_out: bool = False


@dataclass
class Resident:
    number: str
    language: str
    steps: list[Step]
    done: int = 0  # steps taken
    sent: list[tuple[str, str]] = field(default_factory=list)  # (sid, body) as delivered
    received: list[str] = field(default_factory=list)

    @property
    def answers(self) -> dict[str, Any]:
        return dict(s.answer for s in self.steps if s.answer is not None)

    @property
    def opted_out(self) -> bool:
        return any(s.opt_out for s in self.steps)


def said(text: str) -> str:
    """A text as the SMS channel renders it."""
    return render.plain(text.strip())


def script(q: Questionnaire, language: str, rng: random.Random, n: int) -> list[Step]:
    t = texts(language)
    steps: list[Step] = []
    answers: dict[str, Any] = {}
    stop_before = rng.choice([None, None, None, None, 1, 2, 3])
    for index, question in enumerate(q.questions):
        if not is_asked(question, answers):
            continue
        text = said(question.text[language])
        if stop_before == index:
            word = OPT_OUT[n % len(OPT_OUT)]
            local = word.strip(" !.").upper() in ("LOPETA", "SLUTA")
            expect = said(t["sms"]["opted_out"]) if local else None
            steps.append(Step(word, expect, opt_out=True))
            return steps
        if question.type in WRONG and rng.random() < 0.35:
            key = "out_of_range" if question.type == "scale" else "no_match"
            reply = t["reply"][key].format(min=1, max=5)
            steps.append(Step(WRONG[question.type], said(reply)))
        if rng.random() < 0.25:
            steps.append(Step(REPEAT[language], text))
        raw, value = answer_for(question.type, question.id, language, rng, n)
        answers[question.id] = value
        following = next_question(q, question.id, answers)
        expect = said(following.text[language]) if following else said(q.outro[language])
        steps.append(Step(raw, expect, (question.id, value), duplicate=rng.random() < 0.3))
    return steps


def answer_for(kind: str, qid: str, language: str, rng: random.Random, n: int) -> tuple[str, Any]:
    if kind == "scale":
        if rng.random() < 0.3:
            return THREE[language], 3
        v = rng.randint(1, 5)
        return str(v), v
    if kind == "yesno":
        yes = rng.random() < 0.6
        return (YES if yes else NO)[language], "yes" if yes else "no"
    if kind == "choice":
        k = rng.randint(1, 5)
        return str(k), CHOICES[k - 1]
    if kind == "number":
        v = rng.randint(0, 40)
        return str(v), v
    text = f"Asukas {n}: enemmän esteettömiä reittejä ja selkeämpää tietoa, kiitos."
    return text, text


def next_question(q: Questionnaire, after: str, answers: dict[str, Any]) -> Any:
    for question in q.questions[q.index(after) + 1 :]:
        if is_asked(question, answers):
            return question
    return None


def residents(config: configuration.Config) -> list[Resident]:
    q = config.questionnaire_of(SMS_CAMPAIGN)
    rng = random.Random(2027)
    out = []
    for n in range(RESIDENTS):
        language = LANGUAGES[n % len(LANGUAGES)]
        out.append(Resident(f"+3584010{n + 1:05d}", language, script(q, language, rng, n)))
    return out


# -- driving a resident ---------------------------------------------------------------------


async def reply_to(srv: Server, r: Resident, expect: str | None) -> None:
    handset = srv.emulator.handset(r.number)
    if expect is None:
        return
    message = await handset.wait_for_message(WAIT)
    r.received.append(message.body)
    assert expect in message.body, f"{r.number} step {r.done}: {message.body!r} lacks {expect!r}"


async def invitation(srv: Server, r: Resident, q: Questionnaire) -> None:
    message = await srv.emulator.handset(r.number).wait_for_message(3 * WAIT)
    r.received.append(message.body)
    assert said(q.intro[r.language]) in message.body
    assert said(q.questions[0].text[r.language]) in message.body


async def play(srv: Server, r: Resident, until: int) -> None:
    """Take the resident's steps up to ``until``, each after the previous reply arrived."""
    handset = srv.emulator.handset(r.number)
    while r.done < min(until, len(r.steps)):
        step = r.steps[r.done]
        result = await handset.send_sms(step.send)
        assert result.status == 200
        r.sent.append((result.sid, step.send))
        if step.duplicate:
            again = await handset.resend_last()
            assert (again.sid, again.status) == (result.sid, 200)
        await reply_to(srv, r, step.expect)
        r.done += 1


# -- the test -------------------------------------------------------------------------------


async def test_campaign_of_56_through_restart(tmp_path: Path, database: str) -> None:
    async with running_server(tmp_path, database=database) as srv:
        config = srv.config
        q = config.questionnaire_of(SMS_CAMPAIGN)
        people = residents(config)
        srv.import_contacts({r.number: r.language for r in people})
        srv.start_campaign()

        await asyncio.gather(*(invitation(srv, r, q) for r in people))
        halfway = [len(r.steps) // 2 for r in people]
        await asyncio.gather(*(play(srv, r, h) for r, h in zip(people, halfway, strict=True)))

        await srv.idle()
        await srv.restart()  # new app, new emulator: same database and ports

        # A webhook Twilio retries across the restart: acknowledged, not processed again.
        retried = next(r for r in people if r.sent and not r.opted_out and r.done < len(r.steps))
        sid, body = retried.sent[-1]
        form = [("MessageSid", sid), ("SmsSid", sid), ("From", retried.number), ("Body", body)]
        form += [("To", "+358451234567"), ("AccountSid", "AC" + "0" * 32)]
        assert (await srv.post_twilio("/twilio/sms", form))[0] == 200

        await asyncio.gather(*(play(srv, r, len(r.steps)) for r in people))
        await srv.idle()

        # Nobody got a message they did not expect after the restart (nor the duplicate's).
        for r in people:
            inbox = srv.emulator.handset(r.number).inbox
            expected_after = sum(1 for s in r.steps[halfway[people.index(r)] :] if s.expect)
            assert len(inbox) == expected_after, (r.number, [m.body for m in inbox])

        store = srv.store
        assert store.integrity_ok()
        # Everyone was invited exactly once, restart or not.
        invites = store.query(
            "SELECT contact_id, count(*) AS n FROM outbound WHERE purpose = 'invitation' "
            "GROUP BY contact_id"
        )
        assert len(invites) == RESIDENTS and {row["n"] for row in invites} == {1}
        assert store.one("SELECT count(*) AS n FROM attempts") == {"n": RESIDENTS}

        # Every delivery callback landed: nothing sent is left in an intermediate state.
        statuses = {row["status"] for row in store.query("SELECT status FROM outbound")}
        assert statuses <= {"delivered", "failed"}, statuses

        # Dispositions: the campaign ran to completion.
        want = {r.number: "refusal" if r.opted_out else "complete" for r in people}
        want.update({r.number: "partial" for r in people if r.opted_out and r.answers})
        got = {
            row["phone"]: row["disposition"]
            for row in store.query(
                "SELECT c.phone, cc.disposition FROM campaign_contacts cc "
                "JOIN contacts c ON c.id = cc.contact_id"
            )
        }
        assert got == want
        opted = {row["phone"] for row in store.query("SELECT phone FROM opt_outs")}
        assert opted == {r.number for r in people if r.opted_out}

        exported = srv.export()
        respondents = {
            row["phone"]: row["respondent"]
            for row in store.query(
                "SELECT c.phone, cc.respondent FROM campaign_contacts cc "
                "JOIN contacts c ON c.id = cc.contact_id"
            )
        }

    # Exactly the answers given, once each, raw text and value.
    expected = sorted(
        (respondents[r.number], qid, value, r.language)
        for r in people
        for qid, value in r.answers.items()
    )
    actual = sorted(
        (row["respondent"], row["question"], row["value"], row["language"]) for row in exported
    )
    assert actual == expected
    raw_given = {
        (respondents[r.number], s.answer[0]): s.send for r in people for s in r.steps if s.answer
    }
    assert {(row["respondent"], row["question"]): row["raw"] for row in exported} == raw_given
    assert {row["channel"] for row in exported} == {"sms"}
    assert sum(len(r.steps) for r in people) > 250
    assert sum(1 for r in people if r.opted_out) >= 5
    assert sum(1 for r in people for s in r.steps if s.duplicate) >= 20
    assert sum(1 for r in people for s in r.steps if s.send in REPEAT.values()) >= 10


async def one_resident(srv: Server, number: str = "+358401000001") -> Any:
    srv.import_contacts({number: "fi"})
    srv.start_campaign()
    handset = srv.emulator.handset(number)
    await handset.wait_for_message(WAIT)
    return handset


async def test_same_reply_to_consecutive_questions_is_an_answer(
    tmp_path: Path, database: str
) -> None:
    """ "2" for the biggest barrier, then "2" times a month: both are answers."""
    async with running_server(tmp_path, database=database) as srv:
        q = srv.config.questionnaire_of(SMS_CAMPAIGN)
        handset = await one_resident(srv)
        for send, then in [("4", "esteet"), ("kyllä", "este_mika"), ("2", "kuljetus")]:
            await handset.send_sms(send)
            assert said(q.question(then).text["fi"]) in (await handset.wait_for_message(WAIT)).body
        await handset.send_sms("2")
        assert (
            said(q.question("parannus").text["fi"]) in (await handset.wait_for_message(WAIT)).body
        )
        values = {row["question"]: row["value"] for row in srv.export()}
    assert values == {"asiointi": 4, "esteet": "yes", "este_mika": "tilat", "kuljetus": 2}


async def test_answer_sent_twice_at_once_counts_once(tmp_path: Path, database: str) -> None:
    """A double send (two sids, same text) never records the answer twice.

    If the copy arrives before the next question went out it is ignored; after that, it is
    taken as the resident's answer to the next question (here a no-match for yes/no, so the
    resident is asked again): never dropped once the resident may have seen the question.
    """
    async with running_server(tmp_path, database=database) as srv:
        q = srv.config.questionnaire_of(SMS_CAMPAIGN)
        handset = await one_resident(srv)
        first, second = await asyncio.gather(handset.send_sms("4"), handset.send_sms("4"))
        assert first.sid != second.sid and first.status == second.status == 200
        assert said(q.question("esteet").text["fi"]) in (await handset.wait_for_message(WAIT)).body
        await srv.idle()
        events = srv.store.query("SELECT outcome FROM events WHERE kind = 'inbound' ORDER BY id")
        first_outcome, second_outcome = (e["outcome"] for e in events)
        assert first_outcome == "answered"
        assert second_outcome in ("ignored:repeated_reply", "no_match")
        assert len(handset.inbox) == (3 if second_outcome == "no_match" else 2)
        assert [(r["question"], r["value"]) for r in srv.export()] == [("asiointi", 4)]
