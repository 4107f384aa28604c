"""Outbound text messages the dispatcher sends itself (invitations, reminders).

Each is an outbound row (``kanavat/attempts.py``) before the provider is called, so a crash
mid-send leaves a trace (``sending``, settled with its attempt at start-up) instead of a gap,
and delivery callbacks find their row by sid. Replies to residents go through the outbox
instead (``kanavat/turn.py`` queues them, ``kanavat/sender.py`` delivers them).
"""

from __future__ import annotations

import logging

from kanavat import attempts
from kanavat.config import Config
from kanavat.provider import TwilioProvider, check_number
from kanavat.questions.dialog import Prompt
from kanavat.questions.lexicon import texts
from kanavat.sender import Sender
from kanavat.sms import render
from kanavat.store import Store

log = logging.getLogger("kanavat.sms")


class SmsSender:
    def __init__(
        self,
        config: Config,
        store: Store,
        provider: TwilioProvider,
        outbox: Sender | None = None,
    ):
        self.config = config
        self.store = store
        self.provider = provider
        self.outbox = outbox or Sender(config, store, provider)

    async def send_prompts(
        self,
        to: str,
        prompts: tuple[Prompt, ...],
        language: str,
        *,
        campaign_id: str | None,
        contact_id: int | None,
        session_id: int | None,
        purpose: str,
        attempt_id: int | None = None,
    ) -> list[str]:
        footer = texts(language)["sms"]["stop_hint"] if purpose == "invitation" else None
        return await self.send_texts(
            to,
            render.messages(prompts, footer),
            campaign_id=campaign_id,
            contact_id=contact_id,
            session_id=session_id,
            purpose=purpose,
            attempt_id=attempt_id,
        )

    async def send_texts(
        self,
        to: str,
        bodies: list[str],
        *,
        campaign_id: str | None,
        contact_id: int | None,
        session_id: int | None,
        purpose: str,
        attempt_id: int | None = None,
    ) -> list[str]:
        """Write the messages (``sending``: delivered here, at once) and send them; their
        sids, or the provider's refusal raised (``OptedOut``, ``InvalidNumber``, ...)."""
        # Number guard (issue 11): the county's allowed country codes, never premium numbers.
        check_number(to, self.config.privacy.allowed_country_codes)
        messages = [
            attempts.Outgoing(
                "sms",
                body,
                purpose,
                to=to,
                campaign_id=campaign_id,
                contact_id=contact_id,
                session_id=session_id,
                attempt_id=attempt_id,
                segments=render.segments(body),
            )
            for body in bodies
        ]
        with self.store.transaction():
            ids = attempts.enqueue(self.store, messages, status=attempts.OutboundStatus.SENDING)
        sids = await self.outbox.send_now(ids)
        log.info("sms.sent campaign=%s purpose=%s messages=%s", campaign_id, purpose, len(sids))
        return sids
