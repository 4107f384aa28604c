"""``kanavat check --deploy``: what a county's production server needs beyond a valid config.

Each finding says what is wrong and the command or setting that fixes it (docs/deploy.md has
the whole path): the public URL Twilio calls (https, a public host name, no port or path),
Twilio's credentials and kanavat's own secrets, a speech model for every language a phone
campaign speaks, recorded prompts, a writable store and a recent backup.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from kanavat import backup
from kanavat.config import Config

BACKUP_AGE = timedelta(hours=24)
EVENTS_TOKEN_ENV = "KANAVAT_EVENTS_TOKEN"  # kanavat/events.py
OFFICIALS_TOKEN_ENV = "KANAVAT_OFFICIALS_TOKEN"  # kanavat/report/routes.py


@dataclass(frozen=True)
class Finding:
    severity: Literal["error", "warning"]
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.what}; fix: {self.fix}"


def findings(
    config: Config, env: Mapping[str, str] | None = None, now: datetime | None = None
) -> list[Finding]:
    """Everything that stands between this config and a live county, errors first."""
    env = os.environ if env is None else env
    now = now or datetime.now(UTC)
    found = [
        *public_url(config),
        *secrets(config, env),
        *speech_models(config),
        *recordings(config),
        *store(config, now),
    ]
    return sorted(found, key=lambda f: f.severity != "error")


def public_url(config: Config) -> list[Finding]:
    url = config.server.public_url
    parts = urlsplit(url)
    host = parts.hostname or ""
    example = f'public_url = "https://{_example_host(host)}" in [server]'
    out = []
    if parts.scheme != "https":
        out.append(
            Finding(
                "error",
                f"server.public_url {url} is not https: Twilio must call kanavat over TLS, "
                "and signatures are checked over this exact URL",
                f"{example}, behind deploy/nginx/kanavat.conf",
            )
        )
    if _not_public(host):
        out.append(
            Finding(
                "error",
                f"server.public_url host {host} cannot be reached from Twilio",
                f"the county's DNS name for this server, e.g. {example}",
            )
        )
    if parts.port is not None:
        out.append(
            Finding(
                "warning",
                f"server.public_url has a port ({parts.port}): Twilio signs voice webhooks "
                "without it, and the nginx config listens on 443",
                f'{example} (no ":{parts.port}")',
            )
        )
    if parts.path not in ("", "/") or parts.query:
        out.append(
            Finding(
                "error",
                f"server.public_url has a path or query ({parts.path}{parts.query}): kanavat's "
                "routes (/twilio/..., /chat/...) live at the root of its host",
                f"{example}, a host name of its own",
            )
        )
    return out


def _example_host(host: str) -> str:
    return host if host and not _not_public(host) else "kanavat.example.fi"


def _not_public(host: str) -> bool:
    if host in ("", "localhost") or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." not in host
    return not address.is_global


def secrets(config: Config, env: Mapping[str, str]) -> list[Finding]:
    out = []
    if config.twilio is None:
        out.append(
            Finding(
                "error",
                "no [twilio] section: the local emulator would answer instead of Twilio",
                'add [twilio] account_sid = "env:TWILIO_ACCOUNT_SID", auth_token = '
                '"cred:twilio_auth_token", caller_id = the county\'s number (docs/deploy.md)',
            )
        )
    elif config.twilio.api_base:
        out.append(
            Finding(
                "warning",
                f"twilio.api_base sends REST calls to {config.twilio.api_base}, not to Twilio",
                "remove api_base unless a regional edge or a proxy is meant",
            )
        )
    if not config.server.secret:
        out.append(
            Finding(
                "error",
                "server.secret is not set: the pseudonym key exists only inside the store, "
                "so a lost store loses every pseudonym's link",
                'secret = "cred:kanavat_secret" in [server]; create it with '
                "`openssl rand -hex 32 > /etc/kanavat/credentials/kanavat_secret`",
            )
        )
    if not (config.server.officials_token or env.get(OFFICIALS_TOKEN_ENV)):
        out.append(
            Finding(
                "error",
                "server.officials_token is not set: councils' reports at /reports/ cannot be "
                "opened",
                'officials_token = "cred:officials_token" in [server]; create it with '
                "`openssl rand -hex 24 > /etc/kanavat/credentials/officials_token`",
            )
        )
    events = [cid for cid, c in config.campaigns.items() if c.trigger == "event"]
    if events and not env.get(EVENTS_TOKEN_ENV):
        out.append(
            Finding(
                "warning",
                f"{EVENTS_TOKEN_ENV} is not set: POST /api/events refuses every event for "
                f"{', '.join(events)}",
                f"Environment={EVENTS_TOKEN_ENV}=... in a drop-in (systemctl edit kanavat)",
            )
        )
    return out


def _voice_languages(config: Config) -> list[str]:
    voice = any("voice" in c.channels for c in config.campaigns.values())
    return list(config.county.languages) if voice else []


def speech_models(config: Config) -> list[Finding]:
    out = []
    for lang in _voice_languages(config):
        speech = config.speech.get(lang)
        if speech is None:
            out.append(
                Finding(
                    "warning",
                    f"no speech model for '{lang}': its calls are answered with the keypad only",
                    f'[speech.{lang}] engine and model (README, "Speech recognition")',
                )
            )
            continue
        path = config.resolve(speech.model)
        wanted = path / "model.bin" if speech.engine == "whisper" else path
        if not (wanted.is_file() if speech.engine == "whisper" else _non_empty_dir(path)):
            out.append(
                Finding(
                    "error",
                    f"speech.{lang}: no {speech.engine} model at {path}",
                    f'put the model there or correct [speech.{lang}] model (README, "Speech '
                    'recognition"); try it with `kanavat speech try CAMPAIGN QUESTION FILE.wav`',
                )
            )
    return out


def _non_empty_dir(path: Path) -> bool:
    return path.is_dir() and any(path.iterdir())


def recordings(config: Config) -> list[Finding]:
    languages = _voice_languages(config)
    if not languages:
        return []
    from kanavat.voice import prompt_check

    report = prompt_check.check(config, languages)
    voices = config.resolve(config.server.voices)
    out = []
    if report.errors:
        out.append(
            Finding(
                "error",
                f"{len(report.errors)} prompts in {voices} are missing, unreadable or outdated",
                "`kanavat voices check` lists them; record them (voices/README.md)",
            )
        )
    unrecorded = report.wanted - report.recorded
    if unrecorded > 0 and not report.errors:
        out.append(
            Finding(
                "error",
                f"{unrecorded} of {report.wanted} phone prompts have no person's recording "
                "(residents would hear espeak placeholders)",
                "record them (voices/README.md); `kanavat voices check` lists them",
            )
        )
    return out


def store(config: Config, now: datetime) -> list[Finding]:
    if config.server.is_postgres:
        return _postgres_store(config)
    database = config.database_path
    folder = database.parent
    if not database.exists():
        writable = folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)
        if not writable:
            return [
                Finding(
                    "error",
                    f"the store's folder {folder} is missing or not writable",
                    "StateDirectory=kanavat in the unit (deploy/systemd/kanavat.service) "
                    'and database = "/var/lib/kanavat/kanavat.db" in [server]',
                )
            ]
        return [
            Finding(
                "warning",
                f"no store yet at {database}",
                "it is created at the first start: systemctl start kanavat",
            )
        ]
    out = []
    unwritable = [
        p
        for p in (folder, database, Path(f"{database}-wal"), Path(f"{database}-shm"))
        if p.exists() and not os.access(p, os.W_OK)
    ]
    if unwritable:
        out.append(
            Finding(
                "error",
                f"the store is not writable by this user: {', '.join(map(str, unwritable))}",
                f"run as the service user (sudo -u kanavat ...), or chown -R kanavat: {folder}",
            )
        )
    last = backup.last_backup(database)
    if last is None or now - last > BACKUP_AGE:
        when = "never" if last is None else f"last {last.isoformat(timespec='minutes')}"
        out.append(
            Finding(
                "error",
                f"no backup of {database} in the last 24 h ({when})",
                "kanavat store backup, and enable the daily timer: "
                "systemctl enable --now kanavat-backup.timer",
            )
        )
    return out


def _postgres_store(config: Config) -> list[Finding]:
    """A PostgreSQL store: reachable, and its schema takes our migrations (backups are the
    database's own: pg_dump or the provider's, docs/deploy.md)."""
    from kanavat.store import Store

    try:
        Store(config.database, secret=config.server.secret).close()
    except Exception as exc:
        return [
            Finding(
                "error",
                f"the PostgreSQL store cannot be opened: {type(exc).__name__}",
                "check [server] database (postgresql://USER@HOST:5432/DBNAME), that the "
                "database exists and that this user may create tables in it",
            )
        ]
    return []
