"""The dialog engine: one conversation state machine for every channel.

``start`` opens a session, ``advance`` takes one resident input and returns a :class:`Step`
(the new state, the prompts to deliver, the answer to store now, whether it is over), and
``resume`` picks a stored session up again. The state is plain JSON-able data kept in the store
between turns, so a session survives restarts. The engine knows nothing of phones or HTTP; the
only thing it knows of the medium is whether hints are read ("Vastaa numerolla 1–5") or heard
("Sano numero tai paina ...").
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from kanavat.questions.lexicon import Lexicon, lexicon, texts
from kanavat.questions.model import (
    ChoiceQuestion,
    NumberQuestion,
    Question,
    Questionnaire,
    ScaleQuestion,
    TextQuestion,
    YesNoQuestion,
    is_asked,
    valid_values,
)
from kanavat.questions.normalise import (
    DONT_KNOW,
    SKIP,
    Input,
    Result,
    answer_among_hypotheses,
    no_match,
    normalise,
)
from kanavat.questions.phrases import listen_for

Medium = Literal["text", "voice"]
MAX_REPROMPTS = 2  # the dialog issue: at most two reprompts, then the question is unanswered
DONT_KNOW_SPOKEN_MIN = 0.8  # a spoken "don't know" is kept unasked only this sure (see below)


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    key: str | None = None


@dataclass(frozen=True)
class Part:
    """One piece of a prompt; ``key`` names its recorded audio in ``voices/<lang>/``."""

    key: str
    text: str


@dataclass(frozen=True)
class Prompt:
    key: str
    text: str
    parts: tuple[Part, ...]
    expects: Literal["answer", "confirm", "none"] = "none"
    question_id: str | None = None
    hint: str = ""
    options: tuple[Choice, ...] = ()
    listen_for: tuple[str, ...] = ()
    keypad: Literal["none", "single", "digits"] = "none"
    free_text: bool = False


@dataclass(frozen=True)
class Answer:
    question_id: str
    value: Any
    raw: str
    input_kind: str
    confidence: float
    status: Literal["answered", "dont_know", "skipped", "unanswered"]
    confirmed: bool = False


@dataclass
class State:
    questionnaire: str
    language: str
    medium: Medium = "text"
    current: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    misses: int = 0
    pending: dict[str, Any] | None = None
    status: Literal["active", "completed", "stopped"] = "active"

    def to_json(self) -> dict[str, Any]:
        """The state's fields for ``json.dumps``: plain values already (``asdict`` would
        deep-copy them all, a tenth of an SMS turn); the dicts are the state's own."""
        return dict(vars(self))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> State:
        return cls(**data)


@dataclass(frozen=True)
class Step:
    state: State
    prompts: tuple[Prompt, ...]
    answer: Answer | None = None
    event: str = ""
    result: Result | None = None

    @property
    def done(self) -> bool:
        return self.state.status != "active"


# -- public API ---------------------------------------------------------------------------


def start(q: Questionnaire, language: str, medium: Medium = "text") -> Step:
    state = State(questionnaire=q.id, language=language, medium=medium)
    intro = Prompt("intro", q.intro[language], (Part("intro", q.intro[language]),))
    return _next_question(q, state, (intro,), event="started")


def resume(q: Questionnaire, state: State) -> Step:
    """Where a returning resident left off: a short note, then the open question again."""
    t = texts(state.language)["reply"]
    if state.status != "active":
        return Step(state, (_say("reply.already_done", t["already_done"]),), event="already_done")
    note = _say("reply.resume", t["resume"])
    if state.current is None:
        return _next_question(q, state, (note,), event="resumed")
    return Step(state, (note, current_prompt(q, state)), event="resumed")


def current_prompt(q: Questionnaire, state: State) -> Prompt:
    if state.current is None:
        raise ValueError("no open question")
    question = q.question(state.current)
    if state.pending is not None:
        return _confirm_prompt(question, state)
    return question_prompt(question, state.language, state.medium)


def advance(
    q: Questionnaire,
    state: State,
    given: Input,
    lex: Lexicon | None = None,
    confirm_below: float | None = None,
) -> Step:
    if state.status != "active" or state.current is None:
        t = texts(state.language)["reply"]
        return Step(state, (_say("reply.already_done", t["already_done"]),), event="already_done")
    lex = lex or lexicon(state.language)
    question = q.question(state.current)
    if state.pending is not None:
        return _confirming(q, state, question, given, lex)
    result = normalise(question, given, state.language, lex)
    threshold = q.confirm_below if confirm_below is None else confirm_below
    if result.kind == "command" and given.kind == "speech" and result.confidence < threshold:
        # A doubtful spoken command may be a misheard answer ("neljä" as "en halua"): ask
        # about the answer the other hypotheses hold; a doubtful stop never ends the call.
        result = answer_among_hypotheses(question, given, state.language, lex) or result
        if result.kind == "command" and result.value == "stop":
            return _missed(q, state, question, no_match("not_understood"), given)
    if result.kind == "command":
        return _command(q, state, question, str(result.value), result)
    if result.kind == "no_match":
        return _missed(q, state, question, result, given)
    if needs_confirmation(question, given, result, threshold):
        pending = {
            "value": result.value,
            "raw": result.heard or given.raw,
            "confidence": result.confidence,
            "input_kind": given.kind,
        }
        new = replace(state, pending=pending)
        return Step(new, (_confirm_prompt(question, new),), event="confirm", result=result)
    raw = result.heard or given.raw
    answer = _answer(question, result.value, raw, given.kind, result.confidence)
    return _record(q, state, answer, result=result)


# -- prompts ------------------------------------------------------------------------------


def question_prompt(
    question: Question, language: str, medium: Medium, lead: tuple[Part, ...] = ()
) -> Prompt:
    t = texts(language)
    text = question.text[language]
    fmt = _format_args(question)
    hint_text = t["hint"]["text"][question.type].format(**fmt)
    hint_voice = t["hint"]["voice"][question.type].format(**fmt)
    options = _choices(question, language)
    parts = [*lead, *(Part(key, said) for key, said in question.spoken(language))]
    if medium == "voice":
        parts.append(Part(f"hint.voice.{question.type}", hint_voice))
        if isinstance(question, ChoiceQuestion):
            for choice in options:
                line = t["hint"]["voice"]["option"].format(label=choice.label, key=choice.key)
                parts.append(Part(f"option.{question.audio_key}.{choice.value}", line))
    hint = hint_voice if medium == "voice" else hint_text
    if isinstance(question, ChoiceQuestion) and medium == "text":
        lines = [t["option_line"].format(key=c.key, label=c.label) for c in options]
        hint = "\n".join([hint_text, *lines])
    return Prompt(
        key=f"question.{question.id}",
        text=text,
        parts=tuple(parts),
        expects="answer",
        question_id=question.id,
        hint=hint,
        options=options,
        listen_for=()
        if isinstance(question, TextQuestion)
        else tuple(listen_for(question, language)),
        keypad=_keypad(question),
        free_text=isinstance(question, TextQuestion),
    )


def value_label(question: Question, value: Any, language: str) -> str:
    t = texts(language)
    if value == DONT_KNOW:
        return t["dont_know"]
    if value == SKIP:
        return t["skip"]
    if isinstance(question, YesNoQuestion):
        return t["yes"] if value == "yes" else t["no"]
    if isinstance(question, ChoiceQuestion):
        for option in question.options:
            if option.id == value:
                return option.label[language]
    return str(value)


def _choices(question: Question, language: str) -> tuple[Choice, ...]:
    t = texts(language)
    if isinstance(question, YesNoQuestion):
        return (Choice("yes", t["yes"], "1"), Choice("no", t["no"], "2"))
    if isinstance(question, ScaleQuestion):
        return tuple(
            Choice(str(v), str(v), str(v) if v < 10 else None)
            for v in range(question.min, question.max + 1)
        )
    if isinstance(question, ChoiceQuestion):
        return tuple(Choice(o.id, o.label[language], key) for key, o in question.keyed_options())
    return ()


def _keypad(question: Question) -> Literal["none", "single", "digits"]:
    if isinstance(question, NumberQuestion) or question.type == "nps":
        return "digits"
    if isinstance(question, TextQuestion):
        return "none"
    return "single"


def _format_args(question: Question) -> dict[str, Any]:
    if isinstance(question, ScaleQuestion | NumberQuestion):
        return {"min": question.min, "max": question.max}
    return {}


def _say(key: str, text: str) -> Prompt:
    return Prompt(key, text, (Part(key, text),))


def _confirm_prompt(question: Question, state: State) -> Prompt:
    assert state.pending is not None
    t = texts(state.language)
    label = value_label(question, state.pending["value"], state.language)
    text = t["reply"]["confirm"].format(value=label)
    hint = t["reply"]["confirm_hint_voice" if state.medium == "voice" else "confirm_hint_text"]
    parts = [Part(f"confirm.{question.audio_key}.{state.pending['value']}", text)]
    if state.medium == "voice":
        parts.append(Part("reply.confirm_hint_voice", hint))
    yes_no = lexicon(state.language)
    return Prompt(
        key=f"confirm.{question.id}",
        text=text,
        parts=tuple(parts),
        expects="confirm",
        question_id=question.id,
        hint=hint,
        options=(Choice("yes", t["yes"], "1"), Choice("no", t["no"], "2")),
        listen_for=tuple(
            dict.fromkeys(
                [
                    *yes_no.yes,
                    *yes_no.no,
                    *yes_no.commands.get("repeat", ()),
                    *yes_no.commands.get("stop", ()),
                ]
            )
        ),
        keypad="single",
    )


# -- transitions --------------------------------------------------------------------------


def _next_question(
    q: Questionnaire,
    state: State,
    lead: tuple[Prompt, ...],
    event: str,
    answer: Answer | None = None,
    result: Result | None = None,
) -> Step:
    position = -1 if state.current is None else q.index(state.current)
    for question in q.questions[position + 1 :]:
        if is_asked(question, state.answers):
            new = replace(state, current=question.id, misses=0, pending=None)
            prompt = question_prompt(question, state.language, state.medium)
            return Step(new, (*lead, prompt), answer, event, result)
    outro = q.outro[state.language]
    new = replace(state, current=None, misses=0, pending=None, status="completed")
    return Step(
        new,
        (*lead, _say("outro", outro)),
        answer,
        "completed" if event != "started" else event,
        result,
    )


def _answer(
    question: Question, value: Any, raw: str, kind: str, confidence: float, confirmed: bool = False
) -> Answer:
    status = (
        {DONT_KNOW: "dont_know", SKIP: "skipped"}.get(value, "answered")
        if isinstance(value, str)
        else "answered"
    )
    return Answer(question.id, value, raw, kind, confidence, status, confirmed)  # type: ignore[arg-type]


def _record(
    q: Questionnaire,
    state: State,
    answer: Answer,
    lead: tuple[Prompt, ...] = (),
    result: Result | None = None,
) -> Step:
    answers = {**state.answers, answer.question_id: answer.value}
    new = replace(state, answers=answers)
    return _next_question(q, new, lead, event="answered", answer=answer, result=result)


def needs_confirmation(question: Question, given: Input, result: Result, threshold: float) -> bool:
    """Is this answer asked about ("Vastasit kolme, pitääkö paikkansa?") before it is kept?

    Spoken answers to closed questions below the threshold, "don't know" included (it may
    be a quiet "nolla"), and a value read from a near miss or a lower hypothesis always,
    whatever the county's threshold. A value read into words rather than said ("melko
    hyvin" as 4 of 5) is asked about on every channel.
    """
    if result.kind != "answer" or isinstance(question, TextQuestion):
        return False
    if result.reason == "interpreted":
        return True
    if given.kind == "speech" and result.value == DONT_KNOW:
        # Whisper writes its bias phrase "en osaa sanoa" for a quiet "nolla" or a hesitant
        # "en minä ... saa" at 0.65-0.67 (speech set, dev); said, it heard 0.83 and up.
        threshold = max(threshold, DONT_KNOW_SPOKEN_MIN)
    return given.kind == "speech" and (
        result.confidence < threshold or result.reason in ("closest", "n-best")
    )


def _command(
    q: Questionnaire, state: State, question: Question, command: str, result: Result
) -> Step:
    t = texts(state.language)["reply"]
    if command == "stop":
        new = replace(state, status="stopped", pending=None)
        return Step(new, (_say("reply.stopped", t["stopped"]),), event="stopped", result=result)
    if command == "help":
        key = "help_voice" if state.medium == "voice" else "help"
        return Step(
            state,
            (_say(f"reply.{key}", t[key]), current_prompt(q, state)),
            event="help",
            result=result,
        )
    return Step(state, (current_prompt(q, state),), event="repeat", result=result)


def _missed(
    q: Questionnaire, state: State, question: Question, result: Result, given: Input
) -> Step:
    t = texts(state.language)["reply"]
    misses = state.misses + 1
    if misses > MAX_REPROMPTS:
        unanswered = Answer(question.id, None, given.raw, given.kind, 0.0, "unanswered")
        answers = {**state.answers, question.id: None}
        new = replace(state, answers=answers, misses=0)
        lead = (_say("reply.moving_on", t["moving_on"]),)
        return _next_question(q, new, lead, event="unanswered", answer=unanswered, result=result)
    reason = result.reason or "no_match"
    key = {
        "no_input": "no_input",
        "out_of_range": "out_of_range",
        "ambiguous": "ambiguous",
        "too_long": "too_long",
    }.get(reason, "no_match")
    message = t[key].format(**_format_args(question))
    new = replace(state, misses=misses)
    prompt = question_prompt(
        question,
        state.language,
        state.medium,
        lead=(Part(reply_key(key, question, texts(state.language)), message),),
    )
    # The reprompt leads with why, then the hint (SMS) or the question with keypad options (voice).
    reprompt = replace(
        prompt,
        key=f"reprompt.{question.id}",
        text=message if state.medium == "text" else " ".join(p.text for p in prompt.parts),
    )
    return Step(new, (reprompt,), event="no_match", result=result)


def _confirming(
    q: Questionnaire, state: State, question: Question, given: Input, lex: Lexicon
) -> Step:
    assert state.pending is not None
    yes_no = YesNoQuestion(id="confirm", type="yesno", text={state.language: ""})
    # The reply is read from what was heard best, never from lower hypotheses or a near
    # miss: a "yes" that files the answer must have been said.
    result = normalise(yes_no, replace(given, alternatives=()), state.language, lex)
    if result.reason == "closest":
        result = no_match("not_understood")
    if result.kind == "command":
        if result.value == "stop":
            return _command(q, state, question, "stop", result)
        return Step(state, (_confirm_prompt(question, state),), event="repeat", result=result)
    if result.kind == "answer" and result.value == "yes":
        p = state.pending
        answer = _answer(
            question, p["value"], p["raw"], p["input_kind"], p["confidence"], confirmed=True
        )
        return _record(q, replace(state, pending=None), answer, result=result)
    # "No", or no clear yes: ask the question again, and a second miss falls back to the keypad.
    cleared = replace(state, pending=None)
    return _missed(q, cleared, question, Result("no_match", None, 0.0, "not_confirmed"), given)


def all_parts(q: Questionnaire, language: str, medium: Medium = "voice") -> list[Part]:
    """Every prompt piece this questionnaire can say in a language, each once: what a county
    records (or renders as placeholders) for ``voices/<lang>/``."""
    t = texts(language)
    parts: dict[str, Part] = {}

    def add(*items: Part) -> None:
        for p in items:
            parts.setdefault(p.key, p)

    add(Part("intro", q.intro[language]), Part("outro", q.outro[language]))
    for question in q.questions:
        add(*question_prompt(question, language, medium).parts)
        for value in valid_values_for_confirm(question):
            state = State(q.id, language, medium, question.id, pending={"value": value})
            add(*_confirm_prompt(question, state).parts)
    for key in (
        "no_match",
        "no_input",
        "out_of_range",
        "ambiguous",
        "too_long",
        "moving_on",
        "stopped",
        "resume",
        "already_done",
        "help",
        "help_voice",
    ):
        text = t["reply"][key]
        if "{min}" in text:
            continue  # said with its question's range: see below
        add(Part(f"reply.{key}", text))
    for question in q.questions:
        if isinstance(question, ScaleQuestion | NumberQuestion):
            text = t["reply"]["out_of_range"].format(**_format_args(question))
            add(Part(reply_key("out_of_range", question, t), text))
    if medium == "voice":
        add(Part("reply.confirm_hint_voice", t["reply"]["confirm_hint_voice"]))
    return list(parts.values())


def reply_key(key: str, question: Question, t: dict) -> str:
    """Audio key of a reply; one that names the question's range is recorded per question."""
    return f"reply.{key}.{question.id}" if "{" in t["reply"][key] else f"reply.{key}"


def system_parts(language: str) -> list[Part]:
    """What a call may say outside any questionnaire: to a machine, to an unknown caller."""
    voice = texts(language)["voice"]
    return [Part(f"voice.{key}", text) for key, text in voice.items()]


def valid_values_for_confirm(question: Question) -> list[Any]:
    """Values a spoken answer may need confirming for (closed questions and numbers; a number's
    confirmations are recorded for its first hundred values at most)."""
    if isinstance(question, TextQuestion):
        return []
    values = valid_values(question)
    if values is None:  # a number question: open above, so bounded here
        assert isinstance(question, NumberQuestion)
        values = list(range(question.min, min(question.max, question.min + 100) + 1))
    return [*values, DONT_KNOW, SKIP]
