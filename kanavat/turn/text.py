"""A text message from a phone number (SMS): the policy, in order.

1. A sender that is no phone number is ignored.
2. An opt-out keyword opts the number out, ends its sessions, and is confirmed once (not when
   Twilio's Advanced Opt-Out has replied already).
3. A data request (TIETONI, POISTA + KYLLÄ) is answered, even for a number that opted out.
4. An opted-out number's other texts are ignored; a suggestion (EHDOTUS ...) is recorded and
   acknowledged; an unknown number is told so.
5. The contact's open conversation takes the text; a too long or empty text gets a hint, and
   the previous answer sent twice before the next question left is dropped.
"""

from __future__ import annotations

from kanavat import attempts, contacts, inbound, locks, optouts
from kanavat.contacts import InvalidPhone, normalise_phone
from kanavat.conversations import Conversations
from kanavat.loop import policy as loop_policy
from kanavat.privacy import commands as privacy_commands
from kanavat.privacy.data import Person
from kanavat.questions.lexicon import texts
from kanavat.questions.normalise import Input, clean
from kanavat.turn.context import Context
from kanavat.turn.message import Message, Result, Said

MAX_BODY = 1600  # Twilio's limit for one message body


def handle(ctx: Context, message: Message, event_id: int) -> Result:
    store = ctx.store
    try:
        phone = normalise_phone(message.phone or "", None)
    except InvalidPhone:
        return Result("ignored:bad_sender")
    contact = contacts.by_phone(store, phone)
    if contact is None:
        return _handle(ctx, message, event_id, phone, None)
    # The resident's lock, as every other work on this contact takes it (the turn holds the
    # number's): sent with the next statement, no round trip of its own.
    with store.transaction(locks.contact(int(contact["id"]))):
        return _handle(ctx, message, event_id, phone, contact)


def _handle(
    ctx: Context, message: Message, event_id: int, phone: str, contact: dict | None
) -> Result:
    store, config, conversations = ctx.store, ctx.config, ctx.conversations
    body = message.text
    contact_id = contact["id"] if contact else None
    language = contact["language"] if contact else config.default_language
    t = texts(language)["sms"]

    def say(text: str, purpose: str, session: dict | None = None) -> Said:
        return Said(
            purpose,
            language,
            paragraphs=(text,),
            to=phone,
            campaign_id=session["campaign_id"] if session else None,
            contact_id=contact_id,
            session_id=session["id"] if session else None,
        )

    if optouts.keyword(body):
        new = optouts.opt_out(store, phone, optouts.KEYWORD)
        if contact_id is not None:
            conversations.stop_all(contact_id)
        store.audit("opt_out", channel="sms", contact=contact_id)
        # Confirm once. OptOutType means Twilio's Advanced Opt-Out has already replied; where
        # Twilio's default keyword handling blocked the number itself (not verified for +358
        # long codes, twilio-protocol.md §3) our reply fails with 21610, which is expected.
        confirm = (
            (say(t["opted_out"], "opt_out"),) if new and not message.provider_opted_out else ()
        )
        return Result("opted_out" if new else "opted_out_again", confirm)
    # Before the opt-out check: a resident who opted out may still see or erase their data.
    asked = privacy_commands.respond(store, config, Person(phone=phone), body)
    if asked is not None:
        said = Said("privacy", asked.language, paragraphs=asked.paragraphs, to=phone)
        return Result(asked.outcome, (said,))
    if optouts.is_opted_out(store, phone):
        return Result("ignored:opted_out")
    suggested = loop_policy.text_message(ctx, message, event_id, phone, contact)
    if suggested is not None:  # EHDOTUS / FÖRSLAG / IDEA, from anyone, any day (issue 23)
        return suggested
    if contact_id is None:
        return Result("unknown_sender", (say(t["unknown_sender"], "unknown_sender"),))
    session = conversations.open_text_session(contact_id)
    if session is None:
        return Result("ignored:no_open_session")
    if len(body) > MAX_BODY:
        return Result("too_long", (say(t["too_long"], "hint", session),))
    if not clean(body):
        return Result("empty", (say(t["no_text"], "hint", session),))
    if _is_echo(ctx, conversations, session["id"], body, event_id):
        return Result("ignored:repeated_reply")
    turn = conversations.take(
        session["id"], Input("text", body), resident=locks.contact(contact_id), session=session
    )
    reply = Said(
        "reply",
        turn.language,
        prompts=turn.prompts,
        to=phone,
        campaign_id=session["campaign_id"],
        contact_id=contact_id,
        session_id=session["id"],
    )
    return Result(turn.event, (reply,), turn)


def _is_echo(
    ctx: Context, conversations: Conversations, session_id: int, body: str, event_id: int
) -> bool:
    """A text identical to the previous answer that arrived before the next question was sent
    is that answer sent twice (a double tap, a phone's resend: new sids), not an answer to a
    question the resident had not seen. Arriving after it went out, it is an answer: the same
    reply to two questions in a row ("2", "2") is common and must never be dropped."""
    last = conversations.last_answer(session_id)
    if not last or clean(last["raw"] or "") != clean(body):
        return False
    arrived = inbound.received_at(ctx.store, event_id)
    asked = attempts.first_sent_since(ctx.store, session_id, last["answered_at"])
    return arrived is not None and (asked is None or arrived < asked)
