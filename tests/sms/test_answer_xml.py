"""The TwiML answer carrying a turn's replies: ``answer.messages_xml`` writes what the
``twilio`` library's ``MessagingResponse`` writes, byte for byte, for any text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st
from twilio.twiml.messaging_response import MessagingResponse

from kanavat.sms.answer import messages_xml

# Lone surrogates cannot be written by either. Bodies are never empty (the turn sends none).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)))
MESSAGE = st.tuples(TEXT.filter(bool), TEXT, TEXT)


def by_library(messages: list[tuple[str, str, str]]) -> str:
    response = MessagingResponse()
    for body, to, action in messages:
        response.message(body, to=to, action=action)
    return str(response)


@given(st.lists(MESSAGE, max_size=3))
def test_writes_what_the_twilio_library_writes(messages: list[tuple[str, str, str]]) -> None:
    assert messages_xml(messages) == by_library(messages)


def test_a_finnish_reply_with_markup_characters_reads_back() -> None:
    body = 'Kysymys 2/5: Onko kotihoito "hyvää" <1–5> & ruotsiksi "bra"? Vastaa numerolla.'
    action = 'https://kunta.example/twilio/sms/status?row=12&x="1"\n'
    answer = messages_xml([(body, "+358401234567", action)])
    assert answer == by_library([(body, "+358401234567", action)])
    (message,) = ET.fromstring(answer.split("?>", 1)[1]).iter("Message")
    assert (message.text, message.get("to"), message.get("action")) == (
        body,
        "+358401234567",
        action,
    )


def test_an_answer_with_nothing_to_send_is_an_empty_response() -> None:
    assert messages_xml([]) == by_library([])
