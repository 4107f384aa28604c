"""The sender takes the turns' replies kicked in one pass of the loop together (one read of
their rows, ``Sender.kick``), and still sends each turn's rows once and in order, and none
that an erasure abandoned between the turn's commit and the read. Against the emulator as
Twilio over real HTTP."""

from __future__ import annotations

import secrets

import pytest

from kanavat import attempts
from kanavat.attempts import OutboundStatus, Outgoing
from kanavat.config import Config
from kanavat.emulator import EmulatorSettings, running_emulator
from kanavat.provider import TwilioProvider
from kanavat.sender import Sender
from kanavat.store import Store

pytestmark = pytest.mark.both_backends

ACCOUNT = "AC" + "1" * 32
TOKEN = secrets.token_hex(16)
NUMBER = "+358451234567"
FIRST, SECOND = "+358401000101", "+358401000102"


def replies(store: Store, to: str, *bodies: str) -> list[int]:
    """A turn's replies as the turn writes them on this store (claimed, or pending)."""
    return attempts.enqueue(
        store,
        [Outgoing("sms", body, "reply", to=to) for body in bodies],
        status=attempts.to_send(store),
    )


async def test_turns_kicked_together_are_each_sent_once_in_order(
    store: Store, example_config: Config
) -> None:
    # Nobody takes the status callbacks here: the emulator's posts fail, which it allows.
    settings = EmulatorSettings(ACCOUNT, TOKEN, NUMBER, sms_url="http://127.0.0.1:9/sms")
    async with (
        running_emulator(settings) as emu,
        TwilioProvider(ACCOUNT, TOKEN, NUMBER, api_base=emu.base_url) as provider,
    ):
        sender = Sender(example_config, store, provider)
        first = replies(store, FIRST, "Kysymys 2", "Kysymys 3")
        second = replies(store, SECOND, "Kysymys 5")
        (erased,) = replies(store, SECOND, "Tämä ei lähde")
        attempts.failed(store, erased, None, status=OutboundStatus.ERROR)  # gone before the read
        sender.kick(first)
        sender.kick([*second, erased])  # the same pass of the loop: one read of the rows
        await sender.idle()
        first_got = [(await emu.handset(FIRST).wait_for_message(10)).body for _ in range(2)]
        second_got = (await emu.handset(SECOND).wait_for_message(10)).body
        assert first_got == ["Kysymys 2", "Kysymys 3"] and second_got == "Kysymys 5"
        assert len(emu.handset(FIRST).inbox) == 2 and len(emu.handset(SECOND).inbox) == 1
        rows = store.query("SELECT id, sid FROM outbound ORDER BY id")
        assert all(r["sid"] for r in rows if r["id"] != erased)
        assert not any(r["sid"] for r in rows if r["id"] == erased)
