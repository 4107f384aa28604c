"""Checks across a configuration's sections: references, translations, skip logic, models.

``config.loads`` runs them once the sections validate (``cross_check``), or on what does
validate when some sections fail (``partial_cross_check``), so an official sees every
problem at once. Warnings do not stop loading.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ValidationError

from kanavat import tomlpos
from kanavat.config import (
    _QUESTION,
    Campaign,
    Config,
    County,
    Privacy,
    Problem,
    Server,
    dotted,
)
from kanavat.conversation import settings as conversation_settings
from kanavat.loop.settings import unknown_campaigns
from kanavat.questions.lexicon import has_language
from kanavat.questions.model import (
    ChoiceQuestion,
    Questionnaire,
    ScaleQuestion,
    TextQuestion,
    YesNoQuestion,
    valid_values,
)
from kanavat.voice.models import missing_model_hint


def cross_check(
    config: Config,
    name: str = "config.toml",
    lines: dict | None = None,
    known_questionnaires: set[str] | None = None,
) -> list[Problem]:
    """Checks across sections: references, translations, skip logic. Warnings don't stop loading."""
    lines = lines or {}
    problems: list[Problem] = []

    def add(path: tuple, message: str, severity: Literal["error", "warning"] = "error") -> None:
        problems.append(
            Problem(name, dotted(path), message, tomlpos.line_of(lines, path), severity)
        )

    languages = config.county.languages
    for qid, qn in config.questionnaires.items():
        base = ("questionnaires", qid)
        for field in ("title", "intro", "outro"):
            _translations(getattr(qn, field), languages, (*base, field), add)
        seen: dict[str, int] = {}
        for i, q in enumerate(qn.questions):
            qpath = (*base, "questions", i)
            if q.id in seen:
                add(
                    (*qpath, "id"), f"duplicate question id '{q.id}' (also questions[{seen[q.id]}])"
                )
            _translations(q.text, languages, (*qpath, "text"), add)
            if q.help:
                _translations(q.help, languages, (*qpath, "help"), add)
            if isinstance(q, ChoiceQuestion):
                for j, option in enumerate(q.options):
                    _translations(option.label, languages, (*qpath, "options", j, "label"), add)
            for other, wanted in (q.when or {}).items():
                if other not in seen:
                    where = (
                        "a later question"
                        if any(x.id == other for x in qn.questions)
                        else "no question"
                    )
                    add(
                        (*qpath, "when", other),
                        f"'{other}' is {where}; skip logic may only look back",
                    )
                    continue
                target = qn.questions[seen[other]]
                allowed = valid_values(target)
                for w in wanted if isinstance(wanted, list) else [wanted]:
                    if isinstance(w, bool) and isinstance(target, YesNoQuestion):
                        continue
                    if allowed is not None and w not in allowed:
                        add(
                            (*qpath, "when", other),
                            f"'{w}' can never be an answer to '{other}'; expected one of "
                            f"{', '.join(map(str, allowed))}",
                        )
            seen[q.id] = i
            if isinstance(q, ScaleQuestion) and q.type == "scale" and q.max - q.min > 9:
                add((*qpath, "max"), "a scale must fit on the keypad (at most 10 points)")
    for cid, campaign in config.campaigns.items():
        base = ("campaigns", cid)
        known_ids = (
            known_questionnaires if known_questionnaires is not None else set(config.questionnaires)
        )
        if campaign.questionnaire not in known_ids:
            known = ", ".join(sorted(known_ids))
            add(
                (*base, "questionnaire"),
                f"unknown questionnaire '{campaign.questionnaire}'; known: {known}",
            )
        needs_audience = campaign.trigger == "schedule" and any(
            c in ("voice", "sms") for c in campaign.channels
        )
        if needs_audience and campaign.audience is None:
            add(
                (*base, "audience"),
                'missing: a voice or SMS campaign needs an audience, e.g. { group = "ikaihmiset" }',
            )
        if campaign.start and campaign.end and campaign.end <= campaign.start:
            add((*base, "end"), "must be after start")
    conversation_settings.check(
        config.conversations,
        {cid: c.conversation for cid, c in config.campaigns.items()},
        languages,
        add,
    )
    voice = any("voice" in c.channels for c in config.campaigns.values())
    for lang in languages if voice else []:
        if lang not in config.speech:
            add(
                ("speech", lang),
                f"no speech model for '{lang}': calls in this language use the keypad only",
                "warning",
            )
    for lang, speech in config.speech.items():
        if not config.resolve(speech.model).exists():
            add(
                ("speech", lang, "model"),
                f"model not found at {config.resolve(speech.model)}; "
                "calls in this language use the keypad only" + missing_model_hint(speech.engine),
                "warning",
            )
    for path, message in unknown_campaigns(config.public, config.campaigns):
        add(path, message)
    return problems


def partial_cross_check(raw: dict, name: str, lines: dict) -> list[Problem]:
    """When some sections fail, still cross-check the ones that validate: every problem at once."""
    try:
        county = County.model_validate(raw.get("county"))
    except ValidationError:
        languages = [
            lang
            for lang in (raw.get("county") or {}).get("languages", ["fi"])
            if has_language(lang)
        ]
        county = County(name="?", languages=languages or ["fi"])
    questionnaires: dict[str, Questionnaire] = {}
    for qid, data in (raw.get("questionnaires") or {}).items():
        try:
            questionnaires[qid] = Questionnaire.model_validate(data)
        except ValidationError:
            if isinstance(data, dict):
                questionnaires[qid] = partial_questionnaire(data, county.languages)
    campaigns: dict[str, Campaign] = {}
    for cid, data in (raw.get("campaigns") or {}).items():
        try:
            campaigns[cid] = Campaign.model_validate(data)
        except ValidationError:
            if isinstance(data, dict) and isinstance(data.get("questionnaire"), str):
                # Still say whether it names a known questionnaire; its own errors are reported.
                campaigns[cid] = Campaign.model_construct(
                    questionnaire=data["questionnaire"],
                    channels=[],
                    trigger="event",
                    audience=None,
                    start=None,
                    end=None,
                )
    partial = Config.model_construct(
        county=county,
        server=Server(),
        twilio=None,
        speech={},
        privacy=Privacy(),
        questionnaires=questionnaires,
        campaigns=campaigns,
        conversations=conversation_settings.partial(raw.get("conversations")),
        path=None,
    )
    known = set(raw.get("questionnaires") or {})
    found = cross_check(partial, name, lines, known_questionnaires=known)
    return [p for p in found if p.severity == "error"]


def partial_questionnaire(data: dict, languages: list[str]) -> Questionnaire:
    """A questionnaire with its invalid parts replaced by neutral stand-ins, so that the valid
    questions' translations and skip logic are still checked, at their own indices."""
    stand_in = dict.fromkeys(languages, "?")

    def text(value: object) -> dict[str, str]:
        ok = isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
        return value if ok else stand_in  # type: ignore[return-value]

    questions = []
    raw_questions = data.get("questions")
    for i, q in enumerate(raw_questions if isinstance(raw_questions, list) else []):
        try:
            questions.append(_QUESTION.validate_python(q))
        except ValidationError:
            qid = q.get("id") if isinstance(q, dict) and isinstance(q.get("id"), str) else f"?{i}"
            questions.append(TextQuestion.model_construct(id=qid, type="text", text=stand_in))
    return Questionnaire.model_construct(
        id=str(data.get("id", "")),
        title=text(data.get("title")),
        intro=text(data.get("intro")),
        outro=text(data.get("outro")),
        questions=questions,
    )


def _translations(text: dict[str, str], languages: list[str], path: tuple, add) -> None:
    missing = [lang for lang in languages if not text.get(lang, "").strip()]
    if missing:
        add(path, f"missing translation for {', '.join(missing)}")
