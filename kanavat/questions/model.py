"""Questionnaire model: question types, options, per-language texts and skip logic.

Validated with pydantic so that every problem in an official's TOML is reported at once,
with its key path. The model is frozen: one questionnaire object is shared by all sessions.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

QUESTION_TYPES = ("yesno", "scale", "choice", "number", "text", "nps")
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
KEY_PATTERN = r"^[0-9]$"

LocalText = dict[str, str]
"""A text per language code, e.g. ``{"fi": "Kiitos", "sv": "Tack"}``."""

WhenValue = str | int | bool | list[str | int | bool]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(Model):
    id: str = Field(pattern=ID_PATTERN)
    key: str | None = Field(default=None, pattern=KEY_PATTERN)
    label: LocalText
    synonyms: dict[str, list[str]] = Field(default_factory=dict)


class QuestionBase(Model):
    id: str = Field(pattern=ID_PATTERN)
    text: LocalText
    help: LocalText | None = None
    when: dict[str, WhenValue] | None = None
    """Ask only if every named earlier answer has the given value (or one of a list)."""

    @property
    def audio_key(self) -> str:
        """What names this question's recorded options and confirmations (``option.KEY.x``)."""
        return self.id

    def spoken(self, language: str) -> list[tuple[str, str]]:
        """(recording key, text) of what a call says to ask this question: one recording of
        the whole text; a question built from pieces recorded apart says them one by one."""
        return [(f"question.{self.id}", self.text[language])]


class YesNoQuestion(QuestionBase):
    type: Literal["yesno"]


class ScaleQuestion(QuestionBase):
    type: Literal["scale"]
    min: int = Field(default=1, ge=0, le=10)
    max: int = Field(default=5, ge=1, le=10)
    min_label: LocalText | None = None
    max_label: LocalText | None = None

    @model_validator(mode="after")
    def _range(self) -> ScaleQuestion:
        if self.max <= self.min:
            raise ValueError(f"max ({self.max}) must be greater than min ({self.min})")
        return self


class NpsQuestion(ScaleQuestion):
    """ "How likely would you recommend ...", 0 to 10, as THL's national customer feedback asks
    after a service event; reports give its Net Promoter Score (9-10 minus 0-6). On the keypad
    it is keyed like a number (digits, then #), since 10 takes two keys."""

    type: Literal["nps"]  # type: ignore[assignment]
    min: int = Field(default=0, ge=0, le=0)
    max: int = Field(default=10, ge=10, le=10)


class ChoiceQuestion(QuestionBase):
    type: Literal["choice"]
    options: list[Option] = Field(min_length=2, max_length=9)

    @field_validator("options")
    @classmethod
    def _unique(cls, options: list[Option]) -> list[Option]:
        ids = [o.id for o in options]
        if len(set(ids)) != len(ids):
            raise ValueError(f"option ids must be unique, got {ids}")
        keys = [o.key for o in options if o.key is not None]
        if len(set(keys)) != len(keys):
            raise ValueError(f"option keys must be unique, got {keys}")
        return options

    def keyed_options(self) -> list[tuple[str, Option]]:
        """Each option with its keypad key: the configured one, else its position (1, 2, ...)."""
        return [(o.key or str(i), o) for i, o in enumerate(self.options, start=1)]


class NumberQuestion(QuestionBase):
    type: Literal["number"]
    min: int = 0
    max: int = 999
    unit: LocalText | None = None

    @model_validator(mode="after")
    def _range(self) -> NumberQuestion:
        if self.max <= self.min:
            raise ValueError(f"max ({self.max}) must be greater than min ({self.min})")
        return self


class TextQuestion(QuestionBase):
    type: Literal["text"]
    max_length: int = Field(default=1000, ge=1, le=2000)


Question = Annotated[
    YesNoQuestion | ScaleQuestion | NpsQuestion | ChoiceQuestion | NumberQuestion | TextQuestion,
    Field(discriminator="type"),
]


class Questionnaire(Model):
    id: str = Field(default="", pattern=r"^$|" + ID_PATTERN)
    title: LocalText
    intro: LocalText
    outro: LocalText
    questions: list[Question] = Field(min_length=1)
    confirm_below: float = Field(default=0.6, ge=0, le=1)
    """Spoken answers recognised with less confidence than this are confirmed first."""

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def index(self, question_id: str) -> int:
        for i, q in enumerate(self.questions):
            if q.id == question_id:
                return i
        raise KeyError(question_id)


def valid_values(question: Question) -> list[str | int] | None:
    """The closed set of values a question can take, or None for open ones."""
    if isinstance(question, YesNoQuestion):
        return ["yes", "no"]
    if isinstance(question, ScaleQuestion):
        return list(range(question.min, question.max + 1))
    if isinstance(question, ChoiceQuestion):
        return [o.id for o in question.options]
    return None


def is_asked(question: Question, answers: dict[str, object]) -> bool:
    """Skip logic: every ``when`` condition must hold on the answers given so far."""
    if not question.when:
        return True
    for other, wanted in question.when.items():
        given = answers.get(other)
        options = wanted if isinstance(wanted, list) else [wanted]
        if not any(_same(given, w) for w in options):
            return False
    return True


def _same(given: object, wanted: str | int | bool) -> bool:
    if isinstance(wanted, bool):
        return given == ("yes" if wanted else "no")
    return given == wanted
