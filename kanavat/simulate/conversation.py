"""A rehearsal of a conversation campaign (issue 20): residents in latent opinion groups.

Each conversation campaign's residents belong to one of three latent groups; every seed
statement has a stance per group (agree, disagree, or split), so the groups the conversation
math finds, and the report's representative and consensus statements, can be compared with
what the rehearsal built in. Some residents add a statement of their own. The residents then
act out their votes as any answer: by keypad or speech on the phone, in their own words by
text message, with buttons or typing in the chat.

The statements offered are the server's choice (Polis priority), so each resident's intended
answers hold a vote for every statement, keyed as the server asks them (``statement-ID``).
"""

from __future__ import annotations

import random
from typing import Any

from kanavat.config import Config
from kanavat.conversation import questionnaire as composed
from kanavat.conversation import statements
from kanavat.questions.model import Question, Questionnaire
from kanavat.simulate.population import Resident, phrases
from kanavat.store import Store

LATENT_GROUPS = 3
LEANS = {"agree": (0.85, 0.1, 0.05), "disagree": (0.1, 0.85, 0.05), "split": (0.45, 0.45, 0.1)}
ADDS_STATEMENT = 0.15


def _stances(keys: list[str], rng: random.Random) -> dict[str, tuple[str, ...]]:
    """Per seed statement, each latent group's lean: the first is shared by all, the rest divide."""
    found: dict[str, tuple[str, ...]] = {}
    for n, key in enumerate(keys):
        if n == 0:
            found[key] = ("agree",) * LATENT_GROUPS
            continue
        while True:
            stance = tuple(rng.choice(["agree", "disagree", "split"]) for _ in range(LATENT_GROUPS))
            if len(set(stance)) > 1:
                break
        found[key] = stance
    return found


def prepare(
    store: Store,
    config: Config,
    residents: list[Resident],
    questions: dict[str, dict[str, Question]],
    rng: random.Random,
) -> tuple[dict[str, Questionnaire], dict[str, int]]:
    """Give the conversation campaigns' residents their votes and the questions they may hear;
    returns the questionnaires an SMS resident recognises a statement by, and each resident's
    latent group (by resident key)."""
    catalogs: dict[str, Questionnaire] = {}
    latent: dict[str, int] = {}
    for cid in sorted({r.campaign_id for r in residents}):
        name = config.campaign(cid).conversation
        if name is None:
            continue
        conversation = config.conversations[name]
        statements.sync_seeds(store, cid, conversation.seeds())
        pool = statements.listing(store, cid, "accepted")
        stance = _stances([s.seed_key or str(s.id) for s in pool], rng)
        languages = config.county.languages
        offered = {s.id: composed.vote_question(s, 1, 1, languages) for s in pool}
        by_text = {  # the statement alone: an SMS holds it after "Väite 3, yhteensä 8:"
            f"{composed.STATEMENT}{s.id}": offered[s.id].model_copy(
                update={"text": {lang: s.text(lang) for lang in languages}}
            )
            for s in pool
        }
        questions[cid].update({q.id: q for q in offered.values()})
        own = composed.compose(
            store,
            composed.session_id_for(cid, []),
            conversation,
            config.questionnaire_of(cid),
            languages,
        )
        questions[cid].update({q.id: q for q in own.questions})
        catalogs[f"{composed.PREFIX}{cid}"] = own.model_copy(
            update={"questions": [*by_text.values(), *own.questions]}
        )
        for r in residents:
            if r.campaign_id != cid:
                continue
            group = rng.randrange(LATENT_GROUPS)
            latent[r.key] = group
            r.answers.update(_votes(pool, stance, group, rng))
            adds = rng.random() < ADDS_STATEMENT
            r.answers[composed.OFFER] = "yes" if adds else "no"
            r.answers[composed.OWN] = (
                rng.choice(phrases()[r.language]["free_text"]) if adds else None
            )
    return catalogs, latent


def _votes(
    pool: list, stance: dict[str, tuple[str, ...]], group: int, rng: random.Random
) -> dict[str, Any]:
    found = {}
    for s in pool:
        lean = LEANS[stance[s.seed_key or str(s.id)][group]]
        found[f"{composed.STATEMENT}{s.id}"] = rng.choices(
            ["agree", "disagree", "pass"], weights=lean
        )[0]
    return found


def summary(
    store: Store, config: Config, residents: list[Resident], latent: dict[str, int]
) -> list[str]:
    """Per conversation campaign: votes, residents' statements, the groups found, and how well
    they recover the rehearsal's latent groups (adjusted Rand index over residents with a phone
    who were grouped; chat visitors' pseudonyms are the server's own)."""
    from sklearn.metrics import adjusted_rand_score

    from kanavat.conversation import groups, votes

    lines = []
    for cid in sorted({r.campaign_id for r in residents if r.key in latent}):
        snapshot = groups.update_if_stale(store, cid)
        truth, found = [], []
        for r in residents:
            if r.campaign_id != cid or r.key not in latent or not r.phone:
                continue
            row = store.one("SELECT id FROM contacts WHERE phone = ?", [r.phone])
            respondent = store.pseudonym(cid, f"contact:{row['id']}") if row else None
            if respondent in snapshot.members:
                truth.append(latent[r.key])
                found.append(snapshot.members[respondent])
        pending = len(statements.listing(store, cid, "pending"))
        agreement = f"{adjusted_rand_score(truth, found):.2f}" if len(truth) > 1 else "n/a"
        lines.append(
            f"conversation {cid}: {votes.count(store, cid)} votes, {pending} residents' statements "
            f"waiting for moderation; {snapshot.k} opinion groups found (built in: {LATENT_GROUPS}); "
            f"adjusted Rand index against the built-in groups {agreement} over {len(truth)} grouped residents"
        )
    return lines
