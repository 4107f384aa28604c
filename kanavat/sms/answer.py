"""A turn's SMS replies in the webhook's answer (``[server] sms_replies = "twiml"``).

The turn writes its replies as outbox rows, ``sending`` (claimed by this request), in its
commit, as ever. Instead of a REST call for each after the commit, the webhook answers with
them as TwiML ``<Message>`` verbs, and Twilio sends them to the resident: no REST call (a
fifth of an answer's server CPU), and the next question arrives a round trip sooner. Each
verb's ``action`` (where Twilio posts its delivery callbacks) is the status callback URL
naming the row, so the first callback gives the row its sid (``attempts.handed_over``);
from then on it is tracked by sid, as a REST call's row.

An answer that never reaches Twilio (the process died after the commit, the connection
broke) leaves its rows ``sending`` without a sid: recovered as a REST call's that died
(``Sender.recover``): adopted if the provider has the message, otherwise sent by REST. A
retried webhook (its event handled) gets an empty answer, as with REST: the first answer's
messages may be out, and a lost one is recovered.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from kanavat import attempts
from kanavat.provider import ForbiddenNumber, TwilioProvider
from kanavat.store import Store

log = logging.getLogger("kanavat.sms")

# The answer's XML is written as the ``twilio`` library's ``MessagingResponse`` writes it
# (attributes sorted, ElementTree's escaping), byte for byte: ``tests/sms/test_answer_xml.py``
# holds the two equal for any text. The library builds an element tree per answer and
# serialises it, 16 µs; this takes 4.
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\r": "&#13;",
        "\n": "&#10;",
        "\t": "&#09;",
    }
)
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def messages_xml(messages: Sequence[tuple[str, str, str]]) -> str:
    """A messaging TwiML answer with a ``<Message to= action=>`` per ``(body, to, action)``."""
    if not messages:
        return _DECLARATION + "<Response />"
    verbs = "".join(
        f'<Message action="{action.translate(_ATTRIBUTE)}" to="{to.translate(_ATTRIBUTE)}">'
        f"{body.translate(_TEXT)}</Message>"
        for body, to, action in messages
    )
    return f"{_DECLARATION}<Response>{verbs}</Response>"


def twiml(store: Store, provider: TwilioProvider, status_url: str, row_ids: Sequence[int]) -> str:
    """The answer carrying a turn's reply rows (claimed as written), in order. The number
    guard refuses as before a REST call: that row is failed, and left out."""
    messages: list[tuple[str, str, str]] = []
    for row in attempts.claimed(store, row_ids):
        to, body = row["to_number"], row["body"]
        if not to or not body:
            attempts.failed(store, row["id"], None, status=attempts.OutboundStatus.ERROR)
            log.warning("sms.answer.error outbound=%s reason=nothing_to_send", row["id"])
            continue
        try:
            provider.check(to)
        except ForbiddenNumber as exc:
            attempts.failed(store, row["id"], exc.code)
            log.warning("sms.answer.refused outbound=%s code=%s", row["id"], exc.code)
            continue
        messages.append((body, to, f"{status_url}?row={row['id']}"))
    return messages_xml(messages)
