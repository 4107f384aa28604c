"""Configuration: ``config.toml`` loaded with tomllib, validated fully at start-up.

Every problem is reported at once with its place (file, line where known, key path) and what
was expected. ``"env:NAME"`` values are read from the environment and ``"cred:NAME"`` values
from systemd's ``$CREDENTIALS_DIRECTORY``, so secrets never live in the file. Nothing past
this module sees a raw config dict.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from kanavat import tomlpos
from kanavat.conversation import settings as conversation_settings
from kanavat.loop.settings import Outcomes, Public, Suggestions
from kanavat.questions.lexicon import has_language
from kanavat.questions.model import (
    ID_PATTERN,
    KEY_PATTERN,
    QUESTION_TYPES,
    Question,
    Questionnaire,
)

CHANNELS = ("voice", "sms", "chat")
_QUESTION: TypeAdapter[Question] = TypeAdapter(Question)
ACCOUNT_SID_PATTERN = r"^AC[0-9a-fA-F]{32}$"
PHONE_PATTERN = r"^\+[1-9]\d{6,14}$"
SECRET_KEYS = {("twilio", "auth_token"), ("server", "secret"), ("server", "officials_token")}
HOURS_PATTERN = re.compile(
    r"^(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))? "
    r"([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$"
)
DURATION_PATTERN = re.compile(r"^(\d+(s|min|m|h|d|w))(\s+\d+(s|min|m|h|d|w))*$")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_hours(windows: list[str] | None) -> list[str] | None:
    for w in windows or []:
        if not HOURS_PATTERN.match(w):
            raise ValueError(
                f'\'{w}\' is not a time window; write e.g. "mon-fri 10:00-18:00" or "sat 10:00-14:00"'
            )
    return windows


def _check_durations(value: str | None) -> str | None:
    if value is not None and not DURATION_PATTERN.match(value.strip()):
        raise ValueError(f'\'{value}\' is not a duration list; write e.g. "2h 1d" or "30min"')
    return value


class Pacing(Model):
    """When and how fast a campaign may contact people; county level, overridable per campaign."""

    call_hours: list[str] | None = None
    sms_hours: list[str] | None = None
    holidays: bool | None = None
    max_concurrent_calls: int | None = Field(default=None, ge=1, le=1000)
    calls_per_second: float | None = Field(default=None, gt=0, le=100)
    messages_per_second: float | None = Field(default=None, gt=0, le=1000)

    _hours = field_validator("call_hours", "sms_hours")(_check_hours)


class County(Pacing):
    name: str = Field(min_length=1)
    timezone: str = "Europe/Helsinki"
    languages: list[str] = Field(default_factory=lambda: ["fi", "sv"], min_length=1)
    phone: str | None = None
    """The number residents can call back or ask about the survey (said in messages)."""

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone '{value}'; expected e.g. 'Europe/Helsinki'"
            ) from None
        return value

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        missing = [lang for lang in value if not has_language(lang)]
        if missing:
            raise ValueError(
                f"no lexicon for {', '.join(missing)}; add kanavat/questions/lexicon/<code>.toml "
                "and texts/<code>.toml (see README, 'Adding a language')"
            )
        if len(set(value)) != len(value):
            raise ValueError("languages must not repeat")
        return value


class Server(Model):
    public_url: str = "http://127.0.0.1:8080"
    database: str = "kanavat.db"
    secret: str | None = None
    """Key for pseudonyms (HMAC); from the environment. Absent: a random key kept in the store."""
    officials_token: str | None = None
    voices: str = "voices"
    workers_per_machine: int = Field(default=1, ge=1, le=64)
    """``kanavat serve`` processes sharing this machine's cores (several workers on one
    PostgreSQL): each gives speech recognition cores / this many threads, so two workers on
    two cores decode on one thread each instead of four threads fighting for two cores."""
    sms_replies: Literal["rest", "twiml"] = "rest"
    """How a turn's SMS replies leave: ``rest``, each by a REST call after the turn's commit;
    ``twiml``, as ``<Message>`` verbs in the webhook's answer (no REST call, the resident
    has them a round trip sooner; the server's CPU per answer a fifth less)."""

    @field_validator("database")
    @classmethod
    def _database(cls, value: str) -> str:
        """A SQLite file's path, or a PostgreSQL URL with a host and a database name."""
        if "://" not in value:
            if not value.strip():
                raise ValueError("give a SQLite file (kanavat.db) or a postgresql:// URL")
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("postgresql", "postgres"):
            raise ValueError(
                f"'{parts.scheme}://' is not a database kanavat speaks: give a SQLite file "
                "(kanavat.db) or postgresql://USER@HOST:5432/DBNAME"
            )
        try:
            parts.port  # noqa: B018  (raises on a port that is not a number)
        except ValueError:
            raise ValueError("the PostgreSQL URL's port is not a number") from None
        if not parts.hostname or not parts.path.strip("/"):
            raise ValueError(
                "a PostgreSQL URL needs a host and a database name: "
                "postgresql://USER@HOST:5432/DBNAME"
            )
        return value

    @property
    def is_postgres(self) -> bool:
        return "://" in self.database

    @field_validator("public_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+(/[^\s]*)?$", value):
            raise ValueError(f"'{value}' is not an http(s) URL")
        return value.rstrip("/")


class Twilio(Model):
    account_sid: str = Field(pattern=ACCOUNT_SID_PATTERN)
    auth_token: str = Field(min_length=8)
    caller_id: str = Field(pattern=PHONE_PATTERN)
    api_base: str | None = None


class Speech(Model):
    engine: Literal["vosk", "whisper"]
    model: str
    confirm_below: float | None = Field(default=None, ge=0, le=1)


class Audience(Model):
    group: str = Field(min_length=1)
    sample: int | None = Field(default=None, ge=1)
    stratify: list[str] = Field(default_factory=list)
    seed: int | None = None


class Campaign(Pacing):
    questionnaire: str
    council: str = Field(min_length=1)
    channels: list[Literal["voice", "sms", "chat"]] = Field(min_length=1)
    audience: Audience | None = None
    start: datetime | None = None
    end: datetime | None = None
    retries: str = "2h 1d"
    fallback_after: str = "1d"
    reminder_after: str = "1d"
    """SMS: one reminder to a contact who has not replied this long after the invitation."""
    trigger: Literal["schedule", "event"] = "schedule"
    delay: str = "30min"
    cooldown: int = Field(default=30, ge=0)
    listen_timeout: float = Field(default=6.0, ge=1, le=30)
    """Seconds a call waits for an answer after a prompt: generous for elderly listeners."""
    conversation: str | None = None
    """A conversation campaign (issue 20): the ``[conversations]`` entry whose statements it adds."""

    _durations = field_validator("retries", "fallback_after", "reminder_after", "delay")(
        _check_durations
    )

    @field_validator("channels")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a channel must not repeat")
        return value


class Privacy(Model):
    min_cell: int = Field(default=5, ge=1)
    retention_days: int = Field(default=90, ge=0)
    erasure: Literal["delete", "anonymise"] = "anonymise"
    allowed_country_codes: list[int] = Field(default_factory=lambda: [358])
    store_recordings: bool = False


class Config(Model):
    county: County
    server: Server = Server()
    twilio: Twilio | None = None
    speech: dict[str, Speech] = Field(default_factory=dict)
    privacy: Privacy = Privacy()
    questionnaires: dict[str, Questionnaire] = Field(min_length=1)
    campaigns: dict[str, Campaign] = Field(default_factory=dict)
    outcomes: Outcomes = Outcomes()  # issue 23: kanavat/loop/settings.py
    suggestions: Suggestions = Suggestions()
    public: Public = Public()
    conversations: dict[str, conversation_settings.Conversation] = Field(default_factory=dict)
    path: Path | None = Field(default=None, exclude=True)

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def resolve(self, value: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    @property
    def database_path(self) -> Path:
        """The SQLite store's file (only for a SQLite store: see ``database``)."""
        if self.server.is_postgres:
            raise ValueError("[server] database is a PostgreSQL URL, not a SQLite file")
        return self.resolve(self.server.database)

    @property
    def database(self) -> str:
        """Where the store is, as ``Store`` takes it: a SQLite file's path or the URL."""
        if self.server.is_postgres:
            return self.server.database
        return str(self.database_path)

    @property
    def default_language(self) -> str:
        return self.county.languages[0]

    def campaign(self, campaign_id: str) -> Campaign:
        try:
            return self.campaigns[campaign_id]
        except KeyError:
            known = ", ".join(sorted(self.campaigns)) or "none"
            raise UnknownName(f"no campaign '{campaign_id}'; known: {known}") from None

    def questionnaire_of(self, campaign_id: str) -> Questionnaire:
        return self.questionnaires[self.campaign(campaign_id).questionnaire]


class UnknownName(LookupError):
    pass


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    message: str
    line: int | None = None
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def default_config_path() -> Path:
    local = Path("config.toml")
    if local.is_file():
        return local
    env = os.environ.get("KANAVAT_CONFIG")
    return Path(env) if env else local


def load(path: str | Path | None = None, env: dict[str, str] | None = None) -> Config:
    """Read, resolve ``env:`` values and validate; raise ConfigError listing every problem."""
    path = Path(path) if path else default_config_path()
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [Problem(name, "", "file not found; pass --config PATH or set KANAVAT_CONFIG")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(name, "", f"cannot read: {exc}")]) from None
    return loads(text, name=name, path=path.resolve(), env=env)


def loads(
    text: str,
    *,
    name: str = "config.toml",
    path: Path | None = None,
    env: dict[str, str] | None = None,
) -> Config:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        raise ConfigError(
            [Problem(name, "", f"not valid TOML: {_toml_reason(exc)}", line)]
        ) from None
    lines = tomlpos.line_index(text)
    problems: list[Problem] = []
    raw = _resolve_env(raw, (), env if env is not None else dict(os.environ), problems, name, lines)
    for qid, questionnaire in (raw.get("questionnaires") or {}).items():
        if isinstance(questionnaire, dict):
            questionnaire.setdefault("id", qid)
    env_paths = {p.path for p in problems}
    config: Config | None = None
    try:
        config = Config.model_validate({**raw, "path": path})
    except ValidationError as exc:
        found = [_from_pydantic(e, name, lines) for e in exc.errors()]
        problems += [p for p in found if p.path not in env_paths]
    if config is not None:
        problems += cross_check(config, name, lines)
    else:
        problems += _partial_cross_check(raw, name, lines)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ConfigError(sorted(errors, key=lambda p: (p.line or 0, p.path)))
    assert config is not None
    return config


def _toml_reason(exc: Exception) -> str:
    return re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))


def _line_from_message(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


def _resolve_env(
    value: Any, path: tuple, env: dict[str, str], problems: list[Problem], name: str, lines: dict
) -> Any:
    if isinstance(value, dict):
        return {
            k: _resolve_env(v, (*path, k), env, problems, name, lines) for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            _resolve_env(v, (*path, i), env, problems, name, lines) for i, v in enumerate(value)
        ]
    if isinstance(value, str) and value.startswith("env:"):
        var = value[4:]
        if var not in env or env[var] == "":
            problems.append(
                Problem(
                    name,
                    dotted(path),
                    f"environment variable {var} is not set",
                    tomlpos.line_of(lines, path),
                )
            )
            return value
        return env[var]
    if isinstance(value, str) and value.startswith("cred:"):
        secret, problem = read_credential(value[5:], env)
        if problem:
            problems.append(Problem(name, dotted(path), problem, tomlpos.line_of(lines, path)))
            return value
        return secret
    if path == ("server", "database") and isinstance(value, str) and _has_password(value):
        problems.append(
            Problem(
                name,
                dotted(path),
                "a database password must not be in the file: write "
                '"env:KANAVAT_DATABASE" (the whole URL) or use ~/.pgpass',
                tomlpos.line_of(lines, path),
            )
        )
    if path in SECRET_KEYS and isinstance(value, str):
        problems.append(
            Problem(
                name,
                dotted(path),
                'secrets must come from the environment: write "env:NAME", not the value',
                tomlpos.line_of(lines, path),
            )
        )
    return value


def _has_password(location: str) -> bool:
    try:
        return "://" in location and bool(urlsplit(location).password)
    except ValueError:
        return False


def read_credential(name: str, env: dict[str, str]) -> tuple[str, str | None]:
    """A systemd credential (``LoadCredential=NAME:...``): ``$CREDENTIALS_DIRECTORY/NAME``,
    without its trailing newline. Returns ``(value, problem)``."""
    if not name or "/" in name or name in (".", ".."):
        return "", f"'{name}' is not a credential name"
    directory = env.get("CREDENTIALS_DIRECTORY")
    if not directory:
        return "", (
            f"credential {name}: CREDENTIALS_DIRECTORY is not set "
            f"(run under systemd with LoadCredential={name}:FILE, or use env:NAME)"
        )
    try:
        secret = (Path(directory) / name).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError:
        return (
            "",
            f"credential {name} is not in $CREDENTIALS_DIRECTORY (LoadCredential={name}:FILE)",
        )
    if not secret:
        return "", f"credential {name} is empty"
    return secret, None


def dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_FOLD = str.maketrans({"ä": "a", "ö": "o", "å": "a", "é": "e", "ü": "u", " ": "_"})


def suggested_id(given: str) -> str:
    """The id an official probably meant: lower case, Finnish and Swedish letters folded."""
    folded = given.strip().lower().translate(_FOLD)
    kept = "".join(c for c in folded if c.isascii() and (c.isalnum() or c in "_-"))
    return kept.lstrip("_-")[:64] or "q1"


def pattern_hint(given: str, pattern: str) -> str:
    """Say which form a value must have (and, for an id, suggest one), not just that it differs."""
    if pattern.endswith(ID_PATTERN):
        return (
            f"'{given}' is not a valid id: use lower-case letters a-z, digits, _ and - (at most "
            f"64, starting with a letter or digit); for example '{suggested_id(given)}'"
        )
    forms = {
        ACCOUNT_SID_PATTERN: "'AC' followed by 32 hexadecimal digits, as Twilio's console shows it",
        PHONE_PATTERN: "an international number with its country code, e.g. '+358401234567'",
        KEY_PATTERN: "a single keypad digit 0-9",
    }
    form = forms.get(pattern, f"text matching {pattern}")
    return f"'{given}' does not have the expected form: {form}"


def _from_pydantic(error: dict, name: str, lines: dict) -> Problem:
    loc = list(error["loc"])
    # A discriminated union puts the tag in the path (questions.2.scale.min): drop it.
    loc = [
        p
        for i, p in enumerate(loc)
        if not (p in QUESTION_TYPES and i and isinstance(loc[i - 1], int))
    ]
    kind = error["type"]
    if kind == "union_tag_invalid":
        given = error.get("ctx", {}).get("tag")
        loc.append("type")
        message = f"unknown type '{given}'; expected one of {', '.join(QUESTION_TYPES)}"
    elif kind == "union_tag_not_found":
        loc.append("type")
        message = f"missing; expected one of {', '.join(QUESTION_TYPES)}"
    elif kind == "missing":
        message = "missing"
    elif kind == "extra_forbidden":
        message = "unknown key (a typo?)"
    elif kind == "literal_error":
        message = f"'{error.get('input')}' is not allowed; expected {error['ctx']['expected']}"
    elif kind == "string_pattern_mismatch":
        message = pattern_hint(str(error.get("input")), error.get("ctx", {}).get("pattern", ""))
    else:
        message = error["msg"].removeprefix("Value error, ")
    tpath = tuple(loc)
    return Problem(name, dotted(tpath), message, tomlpos.line_of(lines, tpath))


def cross_check(
    config: Config,
    name: str = "config.toml",
    lines: dict | None = None,
    known_questionnaires: set[str] | None = None,
) -> list[Problem]:
    """Checks across sections (``kanavat/config_checks.py``). Warnings don't stop loading."""
    from kanavat import config_checks  # it reads this module's models

    return config_checks.cross_check(config, name, lines, known_questionnaires)


def _partial_cross_check(raw: dict, name: str, lines: dict) -> list[Problem]:
    from kanavat import config_checks

    return config_checks.partial_cross_check(raw, name, lines)


def check(
    path: str | Path | None = None, env: dict[str, str] | None = None
) -> tuple[Config | None, list[Problem]]:
    """Load for ``kanavat check``: the config (if it loads) and every error and warning."""
    try:
        config = load(path, env)
    except ConfigError as exc:
        return None, exc.problems
    text = config.path.read_text(encoding="utf-8") if config.path else ""
    warnings = [
        p
        for p in cross_check(config, str(config.path), tomlpos.line_index(text))
        if p.severity == "warning"
    ]
    return config, warnings
