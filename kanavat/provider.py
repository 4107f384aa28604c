"""Outbound Twilio REST calls: send SMS, place, update and hang up calls.

Uses the official ``twilio`` library's asyncio client, so production, rehearsal and tests
run the same requests; only the base URL differs (``api_base`` points at the local emulator).
It knows nothing of campaigns, respondents or the store: callers pass numbers and URLs and
get sids back, or a typed ``ProviderError`` carrying Twilio's error code.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Protocol
from urllib.parse import quote_plus, urlencode, urlsplit, urlunsplit

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from yarl import URL

from kanavat.privacy import guard

log = logging.getLogger("kanavat.provider")

# Twilio error codes the callers act on (https://www.twilio.com/docs/errors/<code>).
OPTED_OUT = 21610  # recipient replied STOP: never retry, mark the contact opted out
INVALID_NUMBER = 21211  # 'To' is not a valid phone number: fix the contact list
TOO_MANY_REQUESTS = 20429  # REST concurrency limit: safe to retry with backoff

MAX_REMEMBERED = 100_000  # numbers the guard passed, kept per provider (then forgotten)
MachineDetection = Literal["Enable", "DetectMessageEnd"]


class ProviderError(Exception):
    """A refused or failed provider request; ``code`` is Twilio's, ``status`` the HTTP status.

    ``status`` is 0 when the provider could not be reached at all.
    """

    def __init__(self, code: int | None, status: int, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.code = code
        self.status = status
        self.message = message

    @property
    def opted_out(self) -> bool:
        return self.code == OPTED_OUT

    @property
    def invalid_number(self) -> bool:
        return self.code == INVALID_NUMBER

    @property
    def retryable(self) -> bool:
        return self.status in (0, 429) or self.status >= 500 or self.code == TOO_MANY_REQUESTS


class OptedOut(ProviderError):
    """The recipient has opted out (21610); sending again will fail the same way."""


class InvalidNumber(ProviderError):
    """The recipient number is invalid (21211)."""


class ForbiddenNumber(InvalidNumber):
    """Refused before any request by the number guard (``kanavat/privacy/guard.py``): invalid,
    outside the allowed country codes, or premium-rate. Callers treat it as an invalid number."""


def check_number(to: str, allowed: tuple[int, ...] | list[int]) -> None:
    """The outbound number guard (issue 11): raise ForbiddenNumber unless ``to`` may be used."""
    refused = guard.refusal(to, allowed)
    if refused is not None:
        raise ForbiddenNumber(refused[0], 400, refused[1])


def _error(code: int | None, status: int, message: str) -> ProviderError:
    cls = {OPTED_OUT: OptedOut, INVALID_NUMBER: InvalidNumber}.get(code or 0, ProviderError)
    return cls(code, status, message)


@dataclass(frozen=True)
class MessageResult:
    sid: str | None  # None and an unknown status only from a provider that misbehaves
    status: str | None
    num_segments: int | None = None


@dataclass(frozen=True)
class SentMessage:
    sid: str
    status: str | None
    body: str


@dataclass(frozen=True)
class CallResult:
    sid: str
    status: str


class Provider(Protocol):
    """What the dispatcher needs from a telephony provider."""

    async def send_sms(
        self, to: str, body: str, status_callback: str | None = None
    ) -> MessageResult: ...

    async def place_call(
        self, to: str, url: str, status_callback: str | None = None
    ) -> CallResult: ...

    async def hangup(self, call_sid: str) -> None: ...

    async def close(self) -> None: ...


def rewrite_url(url: str, api_base: str | None) -> str:
    """Point every ``*.twilio.com`` URL at ``api_base`` (scheme, host and port), path kept."""
    if not api_base:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host != "twilio.com" and not host.endswith(".twilio.com"):
        return url
    base = urlsplit(api_base)
    path = base.path.rstrip("/") + parts.path
    return urlunsplit((base.scheme, base.netloc, path, parts.query, parts.fragment))


@lru_cache(maxsize=256)
def _target(url: str, api_base: str | None) -> URL:
    """The URL a request goes to, parsed once (aiohttp parses a string on every request;
    every reply is posted to the same URL)."""
    return URL(rewrite_url(url, api_base))


# ``quote_plus`` as one table: every byte's form in a form body (unreserved bytes as they are,
# a space as ``+``, the rest ``%XX``), applied to a value's UTF-8 by ``str.translate``.
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
_FORM_BYTES = str.maketrans(
    {b: chr(b) if b in _UNRESERVED else "+" if b == 0x20 else f"%{b:02X}" for b in range(256)}
)


def form_quote(
    value: str | bytes, safe: str = "", encoding: str | None = None, errors: str | None = None
) -> str:
    """``quote_plus`` (``urlencode``'s ``quote_via``) in C: the standard one quotes a text
    with a Python call per byte, and a Finnish reply's body is mostly bytes it must quote
    (a tenth of a reply's REST call). The same output, byte for byte."""
    if safe or not isinstance(value, str):
        return quote_plus(value, safe, encoding, errors)  # type: ignore[arg-type]
    raw = value.encode(encoding or "utf-8", errors or "strict")
    return raw.decode("latin-1").translate(_FORM_BYTES)


def form_body(data: dict[str, object]) -> bytes:
    """The bytes aiohttp's ``FormData`` would make of the library's form, without it."""
    return urlencode(list(data.items()), doseq=True, quote_via=form_quote).encode()


@lru_cache(maxsize=8)
def _basic(user: str, password: str) -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


class RewritingHttpClient(AsyncTwilioHttpClient):
    """``AsyncTwilioHttpClient`` that can target a local base URL.

    Overriding the client rather than ``client.api.base_url`` covers every Twilio domain
    (and the absolute ``next_page_uri`` the library builds while paging). Basic auth is
    sent as a header we build: aiohttp 3.14 deprecates both ``BasicAuth`` and ``auth=``,
    which the library would otherwise trigger on every request. It opens an aiohttp
    session, so it must be created inside the running event loop.
    """

    def __init__(self, api_base: str | None = None, timeout: float | None = 30.0) -> None:
        super().__init__(timeout=timeout)
        self.api_base = api_base

    # The library formats every request's and response's headers for its INFO log whether
    # or not that log is on (``kanavat.logs`` keeps the ``twilio`` loggers at WARNING): a
    # tenth of a reply's cost. Formatted only when someone listens.
    def log_request(self, kwargs: dict[str, Any]) -> None:
        if self.logger.isEnabledFor(logging.INFO):
            super().log_request(kwargs)

    def log_response(self, status_code: int, response: Any) -> None:
        if self.logger.isEnabledFor(logging.INFO):
            super().log_response(status_code, response)

    async def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        headers = dict(headers or {})
        if auth is not None:
            headers["Authorization"] = _basic(auth[0], auth[1])
        body: dict[str, object] | bytes | None = data
        if isinstance(data, dict) and "Content-Type" in headers:
            body = form_body(data)
        return await super().request(
            method,
            _target(url, self.api_base),  # type: ignore[arg-type]
            params=params,
            data=body,  # type: ignore[arg-type]
            headers=headers,
            auth=None,
            timeout=timeout if timeout is not None else self.timeout,
            allow_redirects=allow_redirects,
        )


class TwilioProvider:
    """Twilio REST client for one account and caller id (the county's Twilio number).

    Create it anywhere; its HTTP session opens on first use inside the event loop.
    Use ``async with TwilioProvider(...)`` or call ``close()``.
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        caller_id: str,
        api_base: str | None = None,
        timeout: float = 30.0,
        allowed_country_codes: tuple[int, ...] | list[int] = guard.DEFAULT_COUNTRY_CODES,
    ) -> None:
        self.account_sid = account_sid
        # The number guard's last line: nothing is sent or dialled outside these (issue 11).
        self.allowed_country_codes = tuple(allowed_country_codes)
        self.caller_id = caller_id
        self.api_base = api_base
        self._auth_token = auth_token
        self._timeout = timeout
        self._http: RewritingHttpClient | None = None
        self._client: Client | None = None
        self._allowed: set[str] = set()  # numbers the guard passed (a resident gets several)

    def _rest(self) -> Client:
        if self._client is None:
            asyncio.get_running_loop()  # fail early and clearly outside a loop
            self._http = RewritingHttpClient(self.api_base, timeout=self._timeout)
            self._client = Client(self.account_sid, self._auth_token, http_client=self._http)
        return self._client

    async def __aenter__(self) -> TwilioProvider:
        self._rest()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = None
        self._client = None

    async def send_sms(
        self, to: str, body: str, status_callback: str | None = None
    ) -> MessageResult:
        self.check(to)  # number guard, before any request
        kwargs: dict[str, object] = {"to": to, "from_": self.caller_id, "body": body}
        if status_callback:
            kwargs["status_callback"] = status_callback
        msg = await self._call(self._rest().messages.create_async(**kwargs))
        segments = int(msg.num_segments) if msg.num_segments not in (None, "") else None
        log.debug("provider.sms.created sid=%s status=%s", msg.sid, msg.status)
        return MessageResult(msg.sid, msg.status, segments)

    def check(self, to: str) -> None:
        """The number guard (raises :class:`ForbiddenNumber`), remembering the numbers it
        passed: a resident answering a questionnaire gets a reply per answer, and parsing the
        number is a fifth of a send. A refusal is never remembered (it is logged each time)."""
        if to in self._allowed:
            return
        check_number(to, self.allowed_country_codes)
        if len(self._allowed) >= MAX_REMEMBERED:
            self._allowed.clear()
        self._allowed.add(to)

    async def place_call(
        self,
        to: str,
        url: str | None = None,
        status_callback: str | None = None,
        *,
        twiml: str | None = None,
        status_callback_events: tuple[str, ...] = ("initiated", "ringing", "answered", "completed"),
        machine_detection: MachineDetection | None = None,
        async_amd: bool = False,
        async_amd_status_callback: str | None = None,
        machine_detection_timeout: int | None = None,
        timeout: int | None = None,
    ) -> CallResult:
        """Start an outbound call whose TwiML comes from ``url`` (or inline ``twiml``)."""
        self.check(to)  # number guard, before any request
        kwargs: dict[str, object] = {"to": to, "from_": self.caller_id}
        if url:
            kwargs["url"] = url
        if twiml:
            kwargs["twiml"] = twiml
        if status_callback:
            kwargs["status_callback"] = status_callback
            kwargs["status_callback_event"] = list(status_callback_events)
        if machine_detection:
            kwargs["machine_detection"] = machine_detection
            if machine_detection_timeout is not None:
                kwargs["machine_detection_timeout"] = machine_detection_timeout
            if async_amd:
                # String-typed in the API definition: the library sends it verbatim.
                kwargs["async_amd"] = "true"
                if async_amd_status_callback:
                    kwargs["async_amd_status_callback"] = async_amd_status_callback
        if timeout is not None:
            kwargs["timeout"] = timeout
        call = await self._call(self._rest().calls.create_async(**kwargs))
        log.info("provider.call.created sid=%s status=%s", call.sid, call.status)
        return CallResult(call.sid, call.status)

    async def update_call(
        self, call_sid: str, *, twiml: str | None = None, url: str | None = None
    ) -> CallResult:
        """Replace the TwiML a live call is running (e.g. to leave a media stream)."""
        kwargs: dict[str, object] = {}
        if twiml:
            kwargs["twiml"] = twiml
        if url:
            kwargs["url"] = url
        call = await self._call(self._rest().calls(call_sid).update_async(**kwargs))
        return CallResult(call.sid, call.status)

    async def hangup(self, call_sid: str) -> None:
        """End a call in any state (Twilio cancels it if it was not answered yet)."""
        await self._call(self._rest().calls(call_sid).update_async(status="completed"))
        log.info("provider.call.hangup sid=%s", call_sid)

    async def fetch_message(self, sid: str) -> MessageResult:
        msg = await self._call(self._rest().messages(sid).fetch_async())
        return MessageResult(msg.sid, msg.status, int(msg.num_segments or 0))

    async def messages_to(self, to: str, limit: int = 20) -> list[SentMessage]:
        """The latest messages to ``to`` (newest first): a restarted sender's look at what
        already left before it died."""
        found = await self._call(self._rest().messages.list_async(to=to, limit=limit))
        return [SentMessage(m.sid, m.status, m.body or "") for m in found]

    async def calls_to(self, to: str, limit: int = 20) -> list[str]:
        """The sids of the latest calls to ``to``: a restarted scheduler's look at a call
        placed just before it died."""
        found = await self._call(self._rest().calls.list_async(to=to, limit=limit))
        return [c.sid for c in found]

    async def fetch_call(self, sid: str) -> CallResult:
        call = await self._call(self._rest().calls(sid).fetch_async())
        return CallResult(call.sid, call.status)

    @staticmethod
    async def _call(awaitable):  # type: ignore[no-untyped-def]
        try:
            return await awaitable
        except TwilioRestException as exc:
            log.warning("provider.error status=%s code=%s", exc.status, exc.code)
            raise _error(exc.code, int(exc.status), str(exc.msg)) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("provider.unreachable error=%s", type(exc).__name__)
            raise ProviderError(None, 0, f"provider unreachable: {type(exc).__name__}") from exc
