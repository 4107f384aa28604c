"""The emulator's state: one Twilio account with its messages, calls and virtual handsets.

Routes (REST, control API) and the Python API both act on this object, so a rehearsal
driven by curl and a test driven from Python see the same world. Everything it posts to
the server is signed exactly as Twilio signs (twilio-protocol.md §7).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import ssl
from collections.abc import Coroutine, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp

from ..signing import SIGNATURE_HEADER, sign
from .settings import EmulatorSettings, HandsetBehaviour

if TYPE_CHECKING:
    from .calls import CallRecord
    from .handset import Handset
    from .messages import MessageRecord

log = logging.getLogger("kanavat.emulator")

USER_AGENT = "TwilioProxy/1.1"  # what Twilio's webhook requests announce


@dataclasses.dataclass(frozen=True)
class WebhookReply:
    status: int
    text: str
    content_type: str


class Emulator:
    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.messages: dict[str, MessageRecord] = {}
        self.calls: dict[str, CallRecord] = {}
        self.handsets: dict[str, Handset] = {}
        self.behaviours: dict[str, HandsetBehaviour] = {}
        # (resident number, Twilio number) pairs blocked by a STOP keyword (§3).
        self.blocked: set[tuple[str, str]] = set()
        self.session: aiohttp.ClientSession | None = None
        self.base_url: str | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        connector = None
        if self.settings.ca_file:
            trusted = ssl.create_default_context(cafile=self.settings.ca_file)
            connector = aiohttp.TCPConnector(ssl=trusted)
        self.session = aiohttp.ClientSession(
            headers={"User-Agent": USER_AGENT}, connector=connector
        )

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.session is not None:
            await self.session.close()
        self.session = None

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("emulator.task-failed task=%s", task.get_name(), exc_info=task.exception())

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.settings.speed)

    async def idle(self, timeout: float = 10.0) -> None:
        """Wait until no message or call is in flight (useful at the end of a test)."""
        async with asyncio.timeout(timeout):
            while any(not t.done() for t in self._tasks):
                await asyncio.sleep(0.01)

    # -- handsets ----------------------------------------------------------------------

    def handset(self, number: str) -> Handset:
        from .handset import Handset

        if number not in self.handsets:
            self.handsets[number] = Handset(self, number)
        return self.handsets[number]

    def behaviour(self, number: str) -> HandsetBehaviour:
        return self.behaviours.get(number, self.settings.default_behaviour)

    def set_behaviour(self, number: str, **changes: Any) -> HandsetBehaviour:
        self.behaviours[number] = dataclasses.replace(self.behaviour(number), **changes)
        self.handset(number)
        return self.behaviours[number]

    def reset(self) -> None:
        """Forget every message, call, handset and block (not running tasks)."""
        self.messages.clear()
        self.calls.clear()
        self.handsets.clear()
        self.behaviours.clear()
        self.blocked.clear()

    # -- webhooks ----------------------------------------------------------------------

    def signed_request(
        self, url: str, params: Iterable[tuple[str, str]], method: str = "POST"
    ) -> tuple[str, list[tuple[str, str]], dict[str, str]]:
        """``(url, form, headers)`` for a webhook: GET moves params into the signed query."""
        form = list(params)
        if method.upper() == "GET":
            parts = urlsplit(url)
            query = "&".join(q for q in (parts.query, urlencode(form)) if q)
            url, form = urlunsplit(parts._replace(query=query)), []
        headers = {SIGNATURE_HEADER: sign(self.settings.auth_token, url, form)}
        return url, form, headers

    async def post_form(
        self, url: str, params: Iterable[tuple[str, str]], method: str = "POST"
    ) -> WebhookReply:
        """Send a signed webhook; network failures come back as status 0 (Twilio logs 11200)."""
        url, form, headers = self.signed_request(url, params, method)
        return await self.send_signed(url, form, headers, method)

    async def send_signed(
        self, url: str, form: list[tuple[str, str]], headers: dict[str, str], method: str = "POST"
    ) -> WebhookReply:
        assert self.session is not None, "emulator not started"
        timeout = aiohttp.ClientTimeout(total=self.settings.webhook_timeout)
        try:
            if method.upper() == "GET":
                request = self.session.get(url, headers=headers, timeout=timeout)
            else:
                headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
                body = urlencode(form)
                request = self.session.post(url, data=body, headers=headers, timeout=timeout)
            async with request as resp:
                text = await resp.text()
                return WebhookReply(resp.status, text, resp.content_type)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("emulator.webhook-failed error=%s", type(exc).__name__)
            return WebhookReply(0, "", "")
