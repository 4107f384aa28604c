"""Chat routes: the page, its static files, its websocket and the Rasa REST endpoint.

The page is served by kanavat itself from ``static/`` (no build step, no CDN): one HTML
template filled in here with escaped texts, one CSS and one JS file. Its own texts come from
``texts/<lang>.toml``; the questions from the configuration. The visitor's anonymous id lives
in an HttpOnly cookie set with the page, so a returning visitor continues their session.
"""

from __future__ import annotations

import html
import json
from functools import cache
from pathlib import Path
from string import Template
from urllib.parse import quote

from aiohttp import web

from kanavat import __version__
from kanavat.appkeys import CONFIG, STORE
from kanavat.chat import rasa, visits, ws
from kanavat.chat.language import choose, texts
from kanavat.chat.limits import MAX_MESSAGE_CHARS
from kanavat.config import Config
from kanavat.outreach import campaigns

STATIC = Path(__file__).parent / "static"
VISITOR_COOKIE = ws.VISITOR_COOKIE
LANG_COOKIE = "kanavat_lang"
COOKIE_DAYS = 120  # a campaign runs weeks; a visitor returning within its window continues
# Everything the page needs comes from kanavat; inline JSON data is not script (not executed).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def add_routes(app: web.Application) -> None:
    """Mount the chat page, its websocket and the Rasa REST endpoint on the app."""
    ws.setup(app)
    app.router.add_static("/chat/static", STATIC, append_version=False)
    app.router.add_get("/chat/{campaign}", page)
    app.router.add_get("/chat/{campaign}/ws", ws.handle)
    app.router.add_get("/webhooks/rest/", rasa.health)
    app.router.add_post("/webhooks/rest/webhook", rasa.webhook)


@cache
def _template(name: str) -> Template:
    return Template((STATIC / name).read_text(encoding="utf-8"))


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _script_json(data: object) -> str:
    """JSON safe inside a <script type="application/json"> element (no "</script>" break-out)."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _language(request: web.Request, config: Config) -> str:
    return choose(
        config.county.languages,
        request.query.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("Accept-Language"),
    )


async def page(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    campaign_id = request.match_info["campaign"]
    language = _language(request, config)
    if not ws.chat_campaign(config, campaign_id):
        return _not_found(language)
    store = request.app[STORE]
    is_open, reason = campaigns.is_open(config, store, campaign_id, store.clock())
    closed = "" if is_open else ws.closed_text(config, campaign_id, reason or "ended", language)
    body = _render(config, campaign_id, language, closed)
    response = web.Response(text=body, content_type="text/html", headers=SECURITY_HEADERS)
    secure = config.server.public_url.startswith("https://")
    cookie = {
        "max_age": COOKIE_DAYS * 86400,
        "path": "/",
        "httponly": True,
        "samesite": "Lax",
        "secure": secure,
    }
    if not visits.is_visitor(request.cookies.get(VISITOR_COOKIE)):
        response.set_cookie(VISITOR_COOKIE, visits.new_visitor(), **cookie)
    if request.cookies.get(LANG_COOKIE) != language:
        response.set_cookie(LANG_COOKIE, language, **cookie)
    return response


def _render(config: Config, campaign_id: str, language: str, closed: str) -> str:
    t = texts(language)
    campaign = config.campaign(campaign_id)
    questionnaire = config.questionnaires[campaign.questionnaire]
    titles = (
        config.conversations[campaign.conversation].title  # a conversation (issue 20)
        if campaign.conversation
        else questionnaire.title
    )
    title = titles.get(language) or next(iter(titles.values()))
    links = []
    for code in config.county.languages:
        name = texts(code)["language_name"]
        current = ' aria-current="true"' if code == language else ""
        href = f"?lang={quote(code)}"
        links.append(
            f'<a href="{_e(href)}" lang="{_e(code)}" hreflang="{_e(code)}"{current}>{_e(name)}</a>'
        )
    client = {
        "campaign": campaign_id,
        "lang": language,
        "ws": f"/chat/{quote(campaign_id)}/ws",
        "max": MAX_MESSAGE_CHARS,
        "closed": closed or None,
        "texts": {
            k: t[k]
            for k in (
                "typing",
                "bot",
                "you",
                "connecting",
                "reconnecting",
                "reconnected",
                "restart_confirm",
                "restart_yes",
                "stop_confirm",
                "stop_yes",
                "cancel",
                "done",
                "too_long",
                "rate_limited",
                "bad_message",
                "error",
            )
        },
    }
    return _template("chat.html").substitute(
        lang=_e(language),
        page_title=_e(t["page_title"].format(title=title)),
        title=_e(title),
        intro=_e(questionnaire.intro.get(language, "")),
        anonymous=_e(t["anonymous"]),
        suggest_hint=_e(t["suggest_hint"]),
        language_label=_e(t["language_label"]),
        languages="\n        ".join(links),
        start=_e(t["start"]),
        restart=_e(t["restart"]),
        stop=_e(t["stop"]),
        send=_e(t["send"]),
        input_label=_e(t["input_label"]),
        placeholder=_e(t["placeholder"]),
        typing=_e(t["typing"]),
        bot=_e(t["bot"]),
        log_label=_e(t["log_label"]),
        quick_replies=_e(t["quick_replies"]),
        noscript=_e(t["noscript"]),
        closed=_e(closed),
        closed_hidden="" if closed else "hidden",
        max=MAX_MESSAGE_CHARS,
        version=_e(__version__),
        config=_script_json(client),
    )


def _not_found(language: str) -> web.Response:
    t = texts(language)["not_found"]
    body = _template("not_found.html").substitute(
        lang=_e(language), title=_e(t["title"]), text=_e(t["text"]), version=_e(__version__)
    )
    return web.Response(status=404, text=body, content_type="text/html", headers=SECURITY_HEADERS)
