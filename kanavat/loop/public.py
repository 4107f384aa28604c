"""The county's public page, ``/julkinen``: the campaigns officials chose (``[public]``), what
each asked, its results where published (the council report's figures, under the same
disclosure control: a hidden cell stays hidden), and what came of it.

Plain server-rendered HTML in Finnish, Swedish or English (``?lang=``), its CSS inline: no
script, no CDN, nothing fetched from elsewhere. Outcomes marked private are not shown.
"""

from __future__ import annotations

import asyncio
import time
from html import escape
from pathlib import Path
from typing import Any

from aiohttp import web

from kanavat.appkeys import CONFIG, STORE
from kanavat.config import Config
from kanavat.loop import outcomes
from kanavat.loop.texts import LANGUAGES, campaign_title, day, texts
from kanavat.report.build import build_report
from kanavat.store import Store

CSS = Path(__file__).with_name("public.css")
CACHE_SECONDS = 300.0  # a busy page is not rebuilt for every visitor
PAGES: web.AppKey[dict[str, tuple[tuple, float, str]]] = web.AppKey("public_pages")
"""Built pages per language, on the app (no state at module level)."""


def _version(store: Store) -> tuple:
    """What the page shows changes only with new answers or outcomes (or one's visibility):
    a page built for the same version is served again."""
    answers = store.one("SELECT count(*) AS n, max(id) AS m FROM answers") or {}
    shown = (
        store.one("SELECT count(*) AS n, max(id) AS m, sum(public) AS p FROM campaign_outcomes")
        or {}
    )
    return (*answers.values(), *shown.values())


def e(value: Any) -> str:
    return escape(str(value), quote=True)


def render(store: Store, config: Config, language: str) -> str:
    t = texts(language)["public"]
    county = config.county.name
    languages = [lang for lang in LANGUAGES if lang in config.county.languages]
    current = ' aria-current="true"'
    nav = "".join(
        f'<li><a href="?lang={lang}" lang="{lang}" hreflang="{lang}"'
        f"{current if lang == language else ''}>{e(NAMES[lang])}</a></li>"
        for lang in languages
    )
    intro = config.public.intro.get(language) or t["intro"]
    body = [_campaign(store, config, cid, language) for cid in config.public.campaigns]
    if not body:
        body = [f"<p>{e(t['none'])}</p>"]
    title = t["title"].format(county=county)
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}</title><style>{CSS.read_text('utf-8')}</style></head><body>"
        f'<a class="skip" href="#content">{e(t["skip"])}</a>'
        f"<header><h1>{e(title)}</h1>"
        f'<nav aria-label="{e(t["languages"])}"><ul>{nav}</ul></nav></header>'
        f'<main id="content" tabindex="-1"><p>{e(intro)}</p>{"".join(body)}</main>'
        f'<footer><p class="note">{e(t["suggest"])}</p></footer></body></html>'
    )


NAMES = {"fi": "Suomeksi", "sv": "På svenska", "en": "In English"}


def _campaign(store: Store, config: Config, campaign_id: str, language: str) -> str:
    t = texts(language)["public"]
    campaign = config.campaigns.get(campaign_id)
    if campaign is None:
        return ""
    questionnaire = config.questionnaires[campaign.questionnaire]
    period = " – ".join(day(d.isoformat(), language) for d in (campaign.start, campaign.end) if d)
    channels = ", ".join(t["channel"].get(ch, ch) for ch in campaign.channels)
    meta = [
        (t["council"], campaign.council),
        (t["period"], period or "–"),
        (t["channels"], channels),
    ]
    out = [
        f'<article aria-labelledby="c-{e(campaign_id)}">',
        f'<h2 id="c-{e(campaign_id)}">{e(campaign_title(config, campaign_id, language))}</h2>',
        '<dl class="meta">' + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in meta) + "</dl>",
        f"<h3>{e(t['happened'])}</h3>",
        _outcomes(store, config, campaign_id, language),
        f"<h3>{e(t['asked'])}</h3><ol>",
    ]
    out += [
        f"<li>{e(q.text.get(language) or next(iter(q.text.values())))}</li>"
        for q in questionnaire.questions
    ]
    out.append(f"</ol><h3>{e(t['results'])}</h3>")
    out.append(_results(store, config, campaign_id, language))
    out.append("</article>")
    return "".join(out)


def _outcomes(store: Store, config: Config, campaign_id: str, language: str) -> str:
    t = texts(language)["public"]
    shown = outcomes.listed(store, campaign_id, public_only=True)
    if not shown:
        return f"<p>{e(t['nothing_yet'])}</p>"
    questionnaire = config.questionnaire_of(campaign_id)
    out = []
    for _, o in shown:
        parts = [f"<p>{e(o.text_in(language))}</p>"]
        if o.question:
            q = next((q for q in questionnaire.questions if q.id == o.question), None)
            if q is not None:
                text = q.text.get(language) or o.question
                parts.insert(
                    0, f'<p class="note">{e(t["about_question"].format(question=text))}</p>'
                )
        by = t["decided"].format(body=o.decided_by, date=day(o.decided_on, language))
        link = f' · <a href="{e(o.minutes_url)}">{e(t["minutes"])}</a>' if o.minutes_url else ""
        parts.append(f'<p class="note">{e(by)}{link}</p>')
        out.append(f'<div class="happened">{"".join(parts)}</div>')
    return "".join(out)


def _results(store: Store, config: Config, campaign_id: str, language: str) -> str:
    t = texts(language)["public"]
    if campaign_id not in config.public.results:
        return f"<p>{e(t['no_results'])}</p>"
    report = build_report(store, config, campaign_id, language=language, by=["channel"])
    out = [f'<p class="note">{e(t["results_note"].format(k=config.privacy.min_cell))}</p>']
    for q in report["questions"]:
        categories = q.get("categories") or []
        if not categories:
            continue  # free text: quotes stay in the council's report
        n = q.get("n")
        caption = e(q["text"])
        if isinstance(n, int):
            caption += f' <span class="note">({e(t["answers"].format(n=n))})</span>'
        rows = []
        for c in categories:
            if c.get("suppressed") or c.get("share") is None:
                shown, bar = e(t["hidden"]), ""
            else:
                pct = round(100 * c["share"])
                shown = f"{pct} %"
                bar = f'<span class="bar" style="width:{max(pct, 1) * 0.6:.1f}%" aria-hidden="true"></span>'
            rows.append(
                f'<tr><th scope="row">{e(c["label"])}</th><td class="num">{bar}{shown}</td></tr>'
            )
        out.append(
            f'<table><caption>{caption}</caption><thead><tr><th scope="col">{e(t["answer"])}</th>'
            f'<th scope="col" class="num">{e(t["share"])}</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
    return "".join(out)


async def page(request: web.Request) -> web.Response:
    config: Config = request.app[CONFIG]
    asked = request.query.get("lang", "")
    language = asked if asked in LANGUAGES and asked in config.county.languages else None
    if asked and language is None:
        known = ", ".join(lang for lang in LANGUAGES if lang in config.county.languages)
        raise web.HTTPNotFound(text=f"no page in '{asked}'; try one of {known}")
    language = language or config.default_language
    store: Store = request.app[STORE]
    pages = request.app[PAGES]
    version = _version(store)
    cached = pages.get(language)
    if cached is None or cached[0] != version or time.monotonic() - cached[1] > CACHE_SECONDS:
        html = await asyncio.to_thread(render, store, config, language)
        pages[language] = (version, time.monotonic(), html)
    return web.Response(text=pages[language][2], content_type="text/html", charset="utf-8")


def add_routes(app: web.Application) -> None:
    app[PAGES] = {}
    app.router.add_get("/julkinen", page)
