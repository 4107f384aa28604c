"""Where a conversation meets a resident's turn (``kanavat/conversations.py`` calls these).

Choosing the statements for a new session, finding a session's questionnaire again, and taking
the answers that belong to the conversation tables: a vote (a pass, "en osaa sanoa" and "ohita"
included; an unanswered statement is no vote) or the resident's own statement (stored with no
link to its author, pending moderation unless the conversation has moderation off). Those
answers go to their owners, in the turn's transaction, instead of the answers table.
"""

from __future__ import annotations

import contextlib
import hashlib

import numpy as np

from kanavat.config import Config
from kanavat.conversation import questionnaire as composed
from kanavat.conversation import statements, votes
from kanavat.questions.dialog import Answer
from kanavat.questions.model import Questionnaire
from kanavat.questions.normalise import DONT_KNOW, SKIP
from kanavat.store import Store


def _rng(respondent: str) -> np.random.Generator:
    return np.random.default_rng(int.from_bytes(hashlib.sha256(respondent.encode()).digest()[:8]))


def for_new_session(
    config: Config, store: Store, campaign_id: str, respondent: str
) -> Questionnaire | None:
    """The questionnaire of a new session: None when the campaign is no conversation."""
    name = config.campaign(campaign_id).conversation
    if name is None:
        return None
    conversation = config.conversations[name]
    statements.sync_seeds(store, campaign_id, conversation.seeds())
    chosen = composed.choose(store, campaign_id, respondent, conversation.offered, _rng(respondent))
    return resolve(config, store, composed.session_id_for(campaign_id, chosen))


def resolve(config: Config, store: Store, questionnaire_id: str) -> Questionnaire | None:
    """A conversation session's questionnaire; None for a questionnaire id from the config."""
    parsed = composed.parse(questionnaire_id)
    if parsed is None:
        return None
    campaign = config.campaign(parsed[0])
    assert campaign.conversation is not None
    return composed.compose(
        store,
        questionnaire_id,
        config.conversations[campaign.conversation],
        config.questionnaires[campaign.questionnaire],
        config.county.languages,
    )


def take_answer(config: Config, store: Store, session: dict, answer: Answer) -> bool:
    """Store a conversation answer with its owner; False when it is an ordinary answer."""
    campaign_id = session["campaign_id"]
    statement = composed.statement_of(answer.question_id)
    if statement is not None:
        vote = {DONT_KNOW: "pass", SKIP: "pass"}.get(answer.value, answer.value)
        if answer.status != "unanswered" and vote in votes.VOTES:
            votes.record(
                store,
                campaign_id,
                statement,
                session["respondent"],
                vote,
                session["channel"],
                language=session["language"],
                input_kind=answer.input_kind,
                confidence=answer.confidence,
            )
        return True
    if answer.question_id == composed.OFFER:
        return True
    if answer.question_id == composed.OWN:
        text = answer.value if isinstance(answer.value, str) else ""
        if answer.status == "answered" and text not in (DONT_KNOW, SKIP) and text.strip():
            name = config.campaign(campaign_id).conversation
            assert name is not None
            # Empty or too long after cleaning: the engine's limits already told the resident.
            with contextlib.suppress(ValueError):
                statements.submit(
                    store,
                    campaign_id,
                    text,
                    session["language"],
                    session["channel"],
                    config.conversations[name].moderation,
                )
        return True
    return False
