"""One turn of a conversation, with its I/O: load the session, run the engine, store the result.

Channels get this object (as Rasa's channels get ``on_new_message``) and never touch the
engine or the store themselves. Each answer and the new state are written in one transaction,
so an answer is kept the moment it is given and a restart resumes exactly where it stopped.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from kanavat import locks
from kanavat.config import Config
from kanavat.conversation import turn as conversation_turn
from kanavat.outreach import queue
from kanavat.questions import dialog
from kanavat.questions.dialog import Prompt, State, Step
from kanavat.questions.lexicon import Lexicon
from kanavat.questions.model import Questionnaire
from kanavat.questions.normalise import Input
from kanavat.store import Store

Channel = Literal["voice", "sms", "chat"]


@dataclass(frozen=True)
class Turn:
    session_id: int
    respondent: str
    language: str
    prompts: tuple[Prompt, ...]
    done: bool
    event: str
    answer: dialog.Answer | None = None


class SessionNotFound(LookupError):
    pass


class Conversations:
    def __init__(self, config: Config, store: Store):
        self.config = config
        self.store = store

    # -- finding and opening sessions ------------------------------------------------------

    def latest_session(
        self, campaign_id: str, *, contact_id: int | None = None, visitor_id: str | None = None
    ) -> dict[str, Any] | None:
        if contact_id is not None:
            where, key = "contact_id = ?", contact_id
        elif visitor_id is not None:
            where, key = "visitor_id = ?", visitor_id
        else:
            raise ValueError("a session belongs to a contact or a visitor")
        return self.store.one(
            f"SELECT * FROM sessions WHERE campaign_id = ? AND {where} "
            "AND status != 'restarted' ORDER BY id DESC LIMIT 1",
            [campaign_id, key],
        )

    def open_text_session(self, contact_id: int) -> dict[str, Any] | None:
        """The contact's conversation by text: the most recent one still open (one step in
        the ``sessions_open`` index: every inbound text asks)."""
        return self.store.one(
            "SELECT * FROM sessions WHERE contact_id = ? AND channel = 'sms' "
            "AND status = 'active' ORDER BY updated_at DESC, id DESC LIMIT 1",
            [contact_id],
        )

    def stop_all(self, contact_id: int) -> None:
        """End every open session of a contact (an opt-out)."""
        for row in self.store.query(
            "SELECT id FROM sessions WHERE contact_id = ? AND status = 'active'", [contact_id]
        ):
            self.stop(row["id"])

    def last_answer(self, session_id: int) -> dict[str, Any] | None:
        return self.store.one(
            "SELECT raw, answered_at FROM answers WHERE session_id = ? ORDER BY id DESC LIMIT 1",
            [session_id],
        )

    def begin(
        self,
        campaign_id: str,
        channel: Channel,
        language: str,
        *,
        contact_id: int | None = None,
        visitor_id: str | None = None,
    ) -> Turn:
        """Start a session, or resume the open one (whatever channel it was started on)."""
        name = locks.of_identity(contact_id, visitor_id, f"campaign:{campaign_id}")
        with self.store.transaction(name):
            return self._begin(campaign_id, channel, language, contact_id, visitor_id)

    def _begin(
        self,
        campaign_id: str,
        channel: Channel,
        language: str,
        contact_id: int | None,
        visitor_id: str | None,
    ) -> Turn:
        existing = self.latest_session(campaign_id, contact_id=contact_id, visitor_id=visitor_id)
        if existing is not None and self._enrolled_again(existing):
            existing = None  # a later service event: a new round of fast feedback
        questionnaire = self.config.questionnaire_of(campaign_id)
        medium = "voice" if channel == "voice" else "text"
        if existing is not None:
            state = State.from_json(json.loads(existing["state"]))
            if state.medium != medium or existing["channel"] != channel:
                state.medium = medium
                self.store.execute(
                    "UPDATE sessions SET channel = ?, state = ?, updated_at = ? WHERE id = ?",
                    [channel, json.dumps(state.to_json()), self.store.now(), existing["id"]],
                )
            step = dialog.resume(self._questionnaire(state.questionnaire), state)
            return self._turn(existing["id"], existing["respondent"], step)
        language = (
            language if language in self.config.county.languages else self.config.default_language
        )
        identity = f"contact:{contact_id}" if contact_id is not None else f"visitor:{visitor_id}"
        respondent = self.store.pseudonym(campaign_id, identity)
        questionnaire = (
            conversation_turn.for_new_session(self.config, self.store, campaign_id, respondent)
            or questionnaire
        )
        step = dialog.start(questionnaire, language, medium)
        now = self.store.now()
        with self.store.transaction():
            cur = self.store.execute(
                "INSERT INTO sessions(campaign_id, respondent, contact_id, visitor_id, channel, language, "
                "state, status, started_at, updated_at, attributes) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT cc.attributes FROM campaign_contacts cc "
                "WHERE cc.campaign_id = ? AND cc.contact_id = ?))",
                [
                    campaign_id,
                    respondent,
                    contact_id,
                    visitor_id,
                    channel,
                    language,
                    json.dumps(step.state.to_json()),
                    step.state.status,
                    now,
                    now,
                    campaign_id,  # the enrolment's attributes: the visit this round is about
                    contact_id,
                ],
            )
            session_id = int(cur.lastrowid)  # type: ignore[arg-type]
        return self._turn(session_id, respondent, step)

    def _enrolled_again(self, session: dict[str, Any]) -> bool:
        """An event campaign may enrol the same person again after its cooldown: a session
        that ended before that enrolment belongs to the previous round."""
        if session["status"] == "active" or session["contact_id"] is None:
            return False
        row = queue.entry(self.store, session["campaign_id"], session["contact_id"])
        enrolled = row.get("enrolled_at") if row else None
        return bool(enrolled) and enrolled > session["updated_at"]

    def restart(self, session_id: int) -> Turn:
        """Start over: the old session's answers are withdrawn and a fresh session begins."""
        row = self._session(session_id)
        with self.store.transaction():
            self.store.execute("DELETE FROM answers WHERE session_id = ?", [session_id])
            self.store.execute(
                "UPDATE sessions SET status = 'restarted', updated_at = ? WHERE id = ?",
                [self.store.now(), session_id],
            )
        return self.begin(
            row["campaign_id"],
            row["channel"],
            row["language"],
            contact_id=row["contact_id"],
            visitor_id=row["visitor_id"],
        )

    def current(self, session_id: int) -> Turn:
        """The prompt the resident is at (after a reconnect), without changing anything."""
        row = self._session(session_id)
        state = State.from_json(json.loads(row["state"]))
        questionnaire = self._questionnaire(state.questionnaire)
        return self._turn(session_id, row["respondent"], dialog.resume(questionnaire, state))

    def state(self, session_id: int) -> State:
        return State.from_json(json.loads(self._session(session_id)["state"]))

    def session(self, session_id: int) -> dict[str, Any]:
        return self._session(session_id)

    # -- a turn ----------------------------------------------------------------------------

    def take(
        self,
        session_id: int,
        given: Input,
        *,
        confirm_below: float | None = None,
        lex: Lexicon | None = None,
        resident: str | None = None,
        session: dict[str, Any] | None = None,
    ) -> Turn:
        """Advance the session by one input; the answer and state are stored atomically.

        ``lex`` replaces the language's lexicon for this turn (the chat channel passes one
        extended with a county's Rasa NLU synonyms); None is the built-in one. ``resident``:
        the session's lock name (``kanavat.locks``) if the caller knows it (a text turn,
        from its contact), saving a look-up; ``session``: its row, if the caller read it in
        this transaction under that lock (it stays true), saving another.
        """
        with self.store.transaction(resident or locks.of_session(self.store, session_id)):
            row = session if session is not None else self._session(session_id)
            state = State.from_json(json.loads(row["state"]))
            questionnaire = self._questionnaire(state.questionnaire)
            step = dialog.advance(questionnaire, state, given, lex=lex, confirm_below=confirm_below)
            now = self.store.now()
            if step.answer is not None and not conversation_turn.take_answer(
                self.config, self.store, row, step.answer
            ):
                self._store_answer(row, step.answer, now)
            state_json = json.dumps(step.state.to_json())
            if step.state.status == row["status"]:
                # Most turns: ``status`` left out, or SQLite rewrites its entry in the four
                # indexes that hold it (a random page of each, in every commit's log).
                self.store.write(
                    "UPDATE sessions SET state = ?, updated_at = ? WHERE id = ?",
                    [state_json, now, session_id],
                )
            else:
                self.store.write(
                    "UPDATE sessions SET state = ?, status = ?, updated_at = ? WHERE id = ?",
                    [state_json, step.state.status, now, session_id],
                )
            if step.done and row["contact_id"] is not None:
                self._dispose(row, step)
        return self._turn(session_id, row["respondent"], step)

    def stop(self, session_id: int) -> Turn:
        """End a session at the resident's wish (an opt-out, a hang-up): what was answered stays."""
        with self.store.transaction(locks.of_session(self.store, session_id)):
            row = self._session(session_id)
            state = State.from_json(json.loads(row["state"]))
            if state.status == "active":
                state.status = "stopped"
                state.pending = None
                self.store.execute(
                    "UPDATE sessions SET state = ?, status = 'stopped', updated_at = ? WHERE id = ?",
                    [json.dumps(state.to_json()), self.store.now(), session_id],
                )
                if row["contact_id"] is not None:
                    self._dispose(row, Step(state, ()))
        return Turn(session_id, row["respondent"], state.language, (), True, "stopped")

    def _store_answer(self, row: dict[str, Any], answer: dialog.Answer, now: str) -> None:
        value = None if answer.value is None else json.dumps(answer.value, ensure_ascii=False)
        self.store.write(
            "INSERT INTO answers(session_id, campaign_id, question, respondent, channel, language, "
            "input_kind, raw, value, confidence, confirmed, status, answered_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(session_id, question) DO UPDATE SET input_kind = excluded.input_kind, "
            "raw = excluded.raw, value = excluded.value, confidence = excluded.confidence, "
            "confirmed = excluded.confirmed, status = excluded.status, answered_at = excluded.answered_at, "
            "channel = excluded.channel",
            [
                row["id"],
                row["campaign_id"],
                answer.question_id,
                row["respondent"],
                row["channel"],
                row["language"],
                answer.input_kind,
                answer.raw,
                value,
                answer.confidence,
                int(answer.confirmed),
                answer.status,
                now,
            ],
        )

    def _dispose(self, row: dict[str, Any], step: Step) -> None:
        """AAPOR disposition of the contact once the conversation is over."""
        if step.state.status == "completed":
            disposition = "complete"
        else:
            answered = any(v is not None for v in step.state.answers.values())
            disposition = "partial" if answered else "refusal"
        queue.finalise(self.store, row["campaign_id"], row["contact_id"], disposition)
        if disposition == "complete":  # a sampled stratum may have met its quota now
            from kanavat.outreach import sampling

            sampling.on_final(
                self.store, self.config, row["campaign_id"], row["contact_id"], disposition
            )

    def _questionnaire(self, questionnaire_id: str) -> Questionnaire:
        """A session's questionnaire: from the config, or a conversation round (issue 20)."""
        found = conversation_turn.resolve(self.config, self.store, questionnaire_id)
        return found or self.config.questionnaires[questionnaire_id]

    def _session(self, session_id: int) -> dict[str, Any]:
        row = self.store.one("SELECT * FROM sessions WHERE id = ?", [session_id])
        if row is None:
            raise SessionNotFound(session_id)
        return row

    @staticmethod
    def _turn(session_id: int, respondent: str, step: Step) -> Turn:
        return Turn(
            session_id,
            respondent,
            step.state.language,
            step.prompts,
            step.done,
            step.event,
            step.answer,
        )


# -- writes other parts ask for (this module owns sessions and answers) -------------------


def restart_unseen(store: Store, campaign_id: str, contact_id: int) -> None:
    """An invitation that never left: the resident's active session, if nothing was answered
    or sent in it, starts afresh at their next message (nobody saw "let's continue")."""
    store.execute(
        "UPDATE sessions SET status = 'restarted', updated_at = ? WHERE campaign_id = ? "
        "AND contact_id = ? AND status = 'active' AND NOT EXISTS (SELECT 1 FROM "
        "answers WHERE session_id = sessions.id) AND NOT EXISTS (SELECT 1 FROM "
        "outbound o WHERE o.session_id = sessions.id AND o.sid IS NOT NULL)",
        [store.now(), campaign_id, contact_id],
    )


def erase_session(
    store: Store, session: dict[str, Any], free_text: set[str], mode: str
) -> tuple[int, int]:
    """A resident's erasure of one session: ``delete`` drops it and its answers; ``anonymise``
    keeps closed answers under a fresh random respondent (nothing links it to anyone), drops
    raw words and the free-text answers (``free_text``: those questions' ids). Returns
    (answers deleted, answers kept)."""
    sid = session["id"]
    answers = store.query("SELECT id, question FROM answers WHERE session_id = ?", [sid])
    if mode == "delete":
        store.execute("DELETE FROM answers WHERE session_id = ?", [sid])
        store.execute("DELETE FROM sessions WHERE id = ?", [sid])
        return len(answers), 0
    gone = [a["id"] for a in answers if a["question"] in free_text]
    for answer_id in gone:
        store.execute("DELETE FROM answers WHERE id = ?", [answer_id])
    stranger = "x" + secrets.token_hex(6)  # unlinkable: random, not derived from anything
    store.execute(
        "UPDATE answers SET raw = NULL, respondent = ? WHERE session_id = ?", [stranger, sid]
    )
    state = json.loads(session["state"] or "{}")
    status = session["status"] if session["status"] != "active" else "stopped"
    stub = {
        "questionnaire": state.get("questionnaire", ""),
        "language": state.get("language", session["language"]),
        "medium": state.get("medium", "text"),
        "current": None,
        "answers": {},
        "misses": 0,
        "pending": None,
        "status": status if status in ("completed", "stopped") else "stopped",
    }
    store.execute(
        "UPDATE sessions SET contact_id = NULL, visitor_id = NULL, respondent = ?, state = ?, "
        "status = ?, updated_at = ? WHERE id = ?",
        [stranger, json.dumps(stub), status, store.now(), sid],
    )
    return len(gone), len(answers) - len(gone)
