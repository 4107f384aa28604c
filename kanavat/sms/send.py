"""Outbound text messages: every send is recorded first, then handed to the provider.

A message row exists before the provider is called, so a crash mid-send leaves a trace
(status ``sending``) instead of a silent gap, and delivery callbacks find their row by sid.
"""

from __future__ import annotations

import logging

from kanavat.config import Config
from kanavat.provider import (
    InvalidNumber,
    OptedOut,
    ProviderError,
    TwilioProvider,
    check_number,
)
from kanavat.questions.dialog import Prompt
from kanavat.questions.lexicon import texts
from kanavat.sms import render
from kanavat.store import Store

log = logging.getLogger("kanavat.sms")


class SmsSender:
    def __init__(self, config: Config, store: Store, provider: TwilioProvider):
        self.config = config
        self.store = store
        self.provider = provider

    @property
    def status_callback(self) -> str:
        return f"{self.config.server.public_url}/twilio/sms/status"

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
        # Number guard (issue 11): the county's allowed country codes, never premium numbers.
        check_number(to, self.config.privacy.allowed_country_codes)
        sids: list[str] = []
        for body in bodies:
            now = self.store.now()
            cur = self.store.execute(
                "INSERT INTO outbound(channel, campaign_id, contact_id, session_id, attempt_id, purpose, "
                "status, segments, created_at, updated_at) VALUES ('sms', ?, ?, ?, ?, ?, 'sending', ?, ?, ?)",
                [
                    campaign_id,
                    contact_id,
                    session_id,
                    attempt_id,
                    purpose,
                    render.segments(body),
                    now,
                    now,
                ],
            )
            row_id = cur.lastrowid
            try:
                result = await self.provider.send_sms(to, body, self.status_callback)
            except OptedOut:
                self._failed(row_id, 21610)
                self.store.opt_out(to, "provider-21610")
                log.info("sms.send.opted_out campaign=%s outbound=%s", campaign_id, row_id)
                raise
            except InvalidNumber:
                self._failed(row_id, 21211)
                raise
            except ProviderError as exc:
                self._failed(row_id, exc.code)
                log.warning(
                    "sms.send.failed campaign=%s outbound=%s code=%s", campaign_id, row_id, exc.code
                )
                raise
            self.store.execute(
                "UPDATE outbound SET sid = ?, status = ?, updated_at = ? WHERE id = ?",
                [result.sid, result.status, self.store.now(), row_id],
            )
            log.info(
                "sms.sent campaign=%s sid=%s purpose=%s segments=%s",
                campaign_id,
                result.sid,
                purpose,
                render.segments(body),
            )
            sids.append(result.sid)
        return sids

    def _failed(self, row_id: int | None, code: int | None) -> None:
        self.store.execute(
            "UPDATE outbound SET status = 'failed', error_code = ?, updated_at = ? WHERE id = ?",
            [code, self.store.now(), row_id],
        )
