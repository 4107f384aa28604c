"""Fast feedback: a service event (a visit, a call to the service line) puts its resident on an
event-triggered campaign, whose short questionnaire is sent a ``delay`` after the event.

Events come from the county's own systems over ``POST /api/events`` or from the command line
(``kanavat event``); both go through ``trigger``. The request body::

    {"campaign": "palaute-terveysasema", "phone": "040 123 4567", "unit": "Keskustan terveysasema",
     "attributes": {"service": "vastaanotto"}, "language": "fi", "id": "visit-88123"}

``campaign`` and ``phone`` are required; ``id`` (optional) makes a retried POST harmless. The
phone is validated like an import (E.164, allowed country codes); an unknown number becomes a
contact without a group; an opted-out number is never enrolled; a contact is invited at most
once per ``cooldown`` days. The event's attributes (``unit`` among them) are stored on the
contact's campaign row and, through a trigger in the store, on the session that answers it,
so a report can compare units and years. Quiet hours are the dispatcher's: the contact is due
at event time + delay and the dispatcher waits for the next window if that falls outside.

The bearer token comes from ``KANAVAT_EVENTS_TOKEN``; without one every request is refused.
Phone numbers, attributes and tokens are never logged.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from kanavat import durations, inbound, optouts
from kanavat.appkeys import CONFIG, STORE
from kanavat.config import Config
from kanavat.contacts import InvalidPhone, normalise_phone, upsert_contact
from kanavat.outreach import campaigns, queue
from kanavat.store import Store, iso

log = logging.getLogger("kanavat.outreach.triggers")
TOKEN_ENV = "KANAVAT_EVENTS_TOKEN"
MAX_EVENT_BYTES = 16 * 1024  # an event is a few hundred bytes; anything larger is a mistake
MAX_ATTRIBUTES = 20
MAX_KEY = 40
MAX_VALUE = 200
FIELDS = ("campaign", "phone", "unit", "attributes", "language", "id")


class EventRejected(ValueError):
    """The caller's mistake: ``field`` names what to fix; ``status`` is the HTTP answer."""

    def __init__(self, field: str | None, message: str, status: int = 400):
        self.field = field
        self.message = message
        self.status = status
        super().__init__(f"{field}: {message}" if field else message)


@dataclass(frozen=True)
class EventResult:
    status: str
    """``scheduled``, ``cooldown``, ``opted_out``, ``already_due`` or ``duplicate``."""
    respondent: str | None = None
    due_at: str | None = None
    next_allowed_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def check_attributes(attributes: Any, field: str = "attributes") -> dict[str, str]:
    """A flat object of short names to short values; numbers and booleans become text."""
    if attributes is None:
        return {}
    if not isinstance(attributes, dict):
        raise EventRejected(field, "must be an object of names to values")
    if len(attributes) > MAX_ATTRIBUTES:
        raise EventRejected(field, f"at most {MAX_ATTRIBUTES} attributes")
    out: dict[str, str] = {}
    for key, value in attributes.items():
        if not key or len(key) > MAX_KEY:
            raise EventRejected(field, f"a name must have 1 to {MAX_KEY} characters")
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, int | float):
            value = str(value)
        if not isinstance(value, str):
            raise EventRejected(f"{field}.{key}", "must be text, a number or true/false")
        if len(value) > MAX_VALUE:
            raise EventRejected(f"{field}.{key}", f"at most {MAX_VALUE} characters")
        out[key] = value
    return out


def trigger(
    store: Store,
    config: Config,
    campaign_id: str,
    phone: str,
    attributes: dict[str, str] | None = None,
    *,
    language: str | None = None,
    external_id: str | None = None,
    source: str = "api",
) -> EventResult:
    """Store the event, then enrol its contact on the campaign unless cooldown or an opt-out
    forbids it. Raises EventRejected for anything the caller must fix."""
    campaign = config.campaigns.get(campaign_id)
    if campaign is None or campaign.trigger != "event":
        known = sorted(c for c, k in config.campaigns.items() if k.trigger == "event")
        what = "no campaign" if campaign is None else "not an event-triggered campaign:"
        raise EventRejected(
            "campaign",
            f"{what} '{campaign_id}'; event campaigns: {', '.join(known) or 'none'}",
        )
    try:
        number = normalise_phone(phone, config.privacy.allowed_country_codes)
    except InvalidPhone as exc:
        raise EventRejected("phone", str(exc)) from None
    if language is not None and language not in config.county.languages:
        raise EventRejected(
            "language", f"'{language}' is not one of {', '.join(config.county.languages)}"
        )
    attributes = check_attributes(attributes)
    if campaigns.status(store, campaign_id) is None:
        campaigns.sync(store, config)
    now = store.clock()
    is_open, why = campaigns.is_open(config, store, campaign_id, now)
    if not is_open:
        raise EventRejected("campaign", f"'{campaign_id}' takes no events now: {why}", 409)
    payload = {"campaign": campaign_id, "phone": number, "attributes": attributes}
    recorded = inbound.record(store, source, "service_event", external_id, payload)
    if recorded.handled:
        return EventResult("duplicate")
    with store.transaction():
        result = _enrol(store, config, campaign_id, number, attributes, language, now)
        if result.status == "scheduled" and campaigns.status(store, campaign_id) == "scheduled":
            # An event campaign has no audience to start: its first event starts it.
            campaigns.set_status(store, campaign_id, "running")
        inbound.finish(store, recorded.id, result.status)
    log.info(
        "events.%s campaign=%s respondent=%s source=%s",
        result.status,
        campaign_id,
        result.respondent,
        source,
    )
    return result


def _enrol(
    store: Store,
    config: Config,
    campaign_id: str,
    phone: str,
    attributes: dict[str, str],
    language: str | None,
    now: datetime,
) -> EventResult:
    campaign = config.campaign(campaign_id)
    if optouts.is_opted_out(store, phone):
        return EventResult("opted_out")
    contact = store.one("SELECT id FROM contacts WHERE phone = ?", [phone])
    if contact is None:
        upsert_contact(store, phone, language or config.default_language, {}, None)
        contact = store.one("SELECT id FROM contacts WHERE phone = ?", [phone])
    assert contact is not None
    contact_id = contact["id"]
    respondent = store.pseudonym(campaign_id, f"contact:{contact_id}")
    row = queue.entry(store, campaign_id, contact_id)
    if row is not None and row["enrolled_at"]:
        allowed = datetime.fromisoformat(row["enrolled_at"]) + timedelta(days=campaign.cooldown)
        if now < allowed:
            return EventResult("cooldown", respondent, next_allowed_at=iso(allowed))
        if row["disposition"] == "pending" and row["next_due_at"] is not None:
            return EventResult("already_due", respondent, due_at=row["next_due_at"])
    due = iso(now + durations.parse_one(campaign.delay))
    queue.enrol_again(store, campaign_id, contact_id, due_at=due, attributes=attributes)
    return EventResult("scheduled", respondent, due_at=due)


# -- POST /api/events ----------------------------------------------------------------------


def events_token(env: dict[str, str] | None = None) -> str | None:
    env = dict(os.environ) if env is None else env
    return env.get(TOKEN_ENV) or None


def authorised(header: str | None, token: str | None) -> bool:
    """``Bearer <token>``, compared in constant time; no configured token lets nobody in."""
    if not header or not token:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def _error(status: int, message: str, field: str | None = None) -> web.Response:
    return web.json_response({"error": message, "field": field}, status=status)


def parse_body(body: bytes) -> dict[str, Any]:
    """The request's fields, checked for shape; EventRejected names the field at fault."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EventRejected(None, f"the body is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise EventRejected(None, "the body must be a JSON object")
    for key in data:
        if key not in FIELDS:
            raise EventRejected(key, f"unknown field; expected {', '.join(FIELDS)}")
    for key in ("campaign", "phone"):
        if data.get(key) in (None, ""):
            raise EventRejected(key, "missing")
    for key in ("campaign", "phone", "unit", "language", "id"):
        if key in data and not isinstance(data[key], str):
            raise EventRejected(key, "must be a string")
        if key in data and len(data[key]) > MAX_VALUE:
            raise EventRejected(key, f"at most {MAX_VALUE} characters")
    attributes = check_attributes(data.get("attributes"))
    if data.get("unit"):
        attributes["unit"] = data["unit"]
    return {**data, "attributes": attributes}


async def post_event(request: web.Request) -> web.Response:
    if not authorised(request.headers.get("Authorization"), events_token()):
        log.warning("events.unauthorised")
        return web.json_response(
            {"error": "missing or wrong bearer token", "field": None},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="kanavat events"'},
        )
    if request.content_length is not None and request.content_length > MAX_EVENT_BYTES:
        return _error(413, f"an event is at most {MAX_EVENT_BYTES} bytes")
    body = await request.read()
    if len(body) > MAX_EVENT_BYTES:
        return _error(413, f"an event is at most {MAX_EVENT_BYTES} bytes")
    try:
        data = parse_body(body)
        result = trigger(
            request.app[STORE],
            request.app[CONFIG],
            data["campaign"],
            data["phone"],
            data["attributes"],
            language=data.get("language"),
            external_id=data.get("id"),
        )
    except EventRejected as exc:
        log.info("events.rejected field=%s status=%s", exc.field, exc.status)
        return _error(exc.status, exc.message, exc.field)
    return web.json_response(result.to_json(), status=202 if result.status == "scheduled" else 200)


def add_routes(app: web.Application) -> None:
    """Mount ``POST /api/events``; the app must hold CONFIG and STORE (as server.py's does)."""
    app.router.add_post("/api/events", post_event)
