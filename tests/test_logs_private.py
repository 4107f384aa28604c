"""No phone number and no answer text in any log line during a full emulator SMS campaign.

Every logger (kanavat, the emulator, aiohttp, the twilio library) is captured at DEBUG with
no redaction filter: ``logs.RedactPhones`` is a safety net, and this test proves the code does
not need it. Then every resident's number (E.164 and local forms) and every answer text given
is searched for. Digits such as "4" are not searchable; the words and free texts are.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import phonenumbers
import pytest
from harness import running_server

from kanavat.sms import render

RESIDENTS = {
    "+358401100001": "fi",
    "+358401100002": "sv",
    "+358401100003": "en",
    "+358501100004": "fi",
    "+358451100005": "sv",
}
# What each resident sends, in order (words for the scale and yes/no, so they can be found).
ANSWERS = {
    "fi": ["neljä", "kyllä", "taksi", "seitsemän", "Hissi Kalliolan terveysasemalla on rikki"],
    "sv": ["fyra", "ja", "trappor", "tolv", "Färdtjänsten i Granbacka kommer alltid sent"],
    "en": ["three", "nope", "no", "eleven", "Ramps at the Mäkelä library are too steep"],
}
STOPPER = "+358401100006"  # opts out halfway with "lopeta"


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = f"{record.name} {record.getMessage()}"
        if record.exc_info:
            line += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(line)


@pytest.fixture
def captured() -> Iterator[Capture]:
    capture = Capture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(old_level)


def phone_forms(e164: str) -> set[str]:
    number = phonenumbers.parse(e164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    digits = re.sub(r"\D", "", national)
    return {e164, e164[1:], national, international, digits, digits[1:], "%2B" + e164[1:]}


async def test_no_numbers_or_answers_in_logs(tmp_path: Path, captured: Capture) -> None:
    async with running_server(tmp_path) as srv:
        srv.import_contacts({**RESIDENTS, STOPPER: "fi"})
        srv.start_campaign()
        given: list[str] = []
        for phone, language in [*RESIDENTS.items(), (STOPPER, "fi")]:
            handset = srv.emulator.handset(phone)
            await handset.wait_for_message(10)
            answers = ANSWERS[language] if phone != STOPPER else ["viisi", "lopeta"]
            for text in answers:
                assert (await handset.send_sms(text)).status == 200
                given.append(text)
                reply = await handset.wait_for_message(10)
            await handset.resend_last()
        await srv.idle()
        assert reply.body  # the last resident got the opt-out confirmation
        exported = srv.export()
        await srv.post_twilio("/twilio/sms", [("From", STOPPER), ("Body", "kolme")])  # no sid

    free_texts = [row["raw"] for row in exported if row["question"] == "parannus"]
    assert len(free_texts) == len(RESIDENTS) and len(captured.lines) > 200
    log = "\n".join(captured.lines)
    for event in ("sms.inbound.handled", "sms.status", "dispatch.sms.invited", "kanavat.emulator"):
        assert event in log, f"capture missed {event}"  # the capture really sees everything
    for phone in [*RESIDENTS, STOPPER]:
        for form in phone_forms(phone):
            assert form not in log, f"phone number form {form!r} in the logs"
    for text in {t for t in given if len(t) >= 4} | set(free_texts):
        for variant in {text, render.plain(text), text.lower()}:
            assert not re.search(rf"(?<!\w){re.escape(variant)}(?!\w)", log, re.I), (
                f"answer text {variant!r} in the logs"
            )


async def test_no_numbers_or_answers_in_voice_and_chat_logs(
    tmp_path: Path, captured: Capture
) -> None:
    """A keypad call and a chat with a free-text answer and a data request (issue 11)."""
    import aiohttp
    from privacy.conftest import always_open

    from kanavat.emulator import Press, Wait

    caller, words = "+358401100011", "Skeittipuisto Kalliolan koulun viereen"
    async with running_server(tmp_path, config_text=always_open()) as srv:
        srv.import_contacts({caller: "fi"}, group="ikaihmiset")
        handset = srv.emulator.handset(caller)
        handset.set_behaviour(script=[Wait("question.arki"), Press("4"), Wait(), Press("2")])
        srv.start_campaign("vanhukset-2027")
        srv.start_campaign("nuoret-2027")
        call = await handset.wait_for_call(15)
        await call.wait_ended(60)
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            await (await http.get(f"{srv.base_url}/chat/nuoret-2027")).release()
            url = f"{srv.base_url}/chat/nuoret-2027/ws"
            async with http.ws_connect(url, origin=srv.base_url) as ws:
                frames = [
                    {"type": "hello", "lang": "fi"},
                    {"type": "start", "id": "a1"},
                    {"type": "text", "id": "a2", "text": "15"},
                    {"type": "text", "id": "a3", "text": "TIETONI"},
                    {"type": "text", "id": "a4", "text": words},
                ]
                for frame in frames:
                    await ws.send_json(frame)
                    while (await ws.receive_json(timeout=5))["type"] == "typing":
                        pass
    log = "\n".join(captured.lines)
    assert "voice.twiml" in log and "chat.ws.handled" in log
    for form in phone_forms(caller):
        assert form not in log, f"phone number form {form!r} in the logs"
    assert not re.search(re.escape(words), log, re.I)


def test_a_tracebacks_own_text_is_masked_too() -> None:
    """``log.exception`` prints the exception's message after the record's: a number in it
    (a provider's refusal quoting the 'To') is masked like one in the message."""
    import io
    import logging

    from kanavat import logs

    root = logging.getLogger()
    kept = (root.handlers[:], root.level)
    buffer = io.StringIO()
    logs.setup("INFO", buffer)
    try:
        raise ValueError("The 'To' number +358401234567 is not a valid phone number")
    except ValueError:
        logging.getLogger("kanavat.test").exception("tell.failed notice=%s", 3)
    finally:
        root.handlers[:] = kept[0]
        root.setLevel(kept[1])
    written = buffer.getvalue()
    assert "tell.failed notice=3" in written and "Traceback" in written
    assert "+358401234567" not in written and "[phone]" in written


def test_dates_stay_and_numbers_go() -> None:
    from kanavat.logs import mask_phones

    line = "report.built campaign=x from=2026-12-04 16:44:47 to=2026-12-31 phone=040 123 4567"
    assert mask_phones(line) == (
        "report.built campaign=x from=2026-12-04 16:44:47 to=2026-12-31 phone=[phone]"
    )
    assert mask_phones("+358401234567 and 0401234567") == "[phone] and [phone]"
