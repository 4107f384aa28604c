"""The real kanavat server on a real port, with its emulator, for end-to-end tests of any channel.

``running_server`` builds the app with the production factory (``kanavat.server.create_app``)
from a copy of the example ``config.toml`` whose ``server.public_url`` points at a free port
and whose database lives in ``tmp_path``. Nothing is mocked: webhooks are signed HTTP
requests, the dispatcher runs on its own timer, the emulator is the one ``kanavat serve``
starts (accelerated).

    from harness import running_server

    async def test_something(tmp_path):
        async with running_server(tmp_path) as srv:
            srv.import_contacts({"+358401000001": "fi"}, group="palvelunkayttajat")
            srv.cli("campaign", "start", "vammaispalvelut-2027")
            h = srv.emulator.handset("+358401000001")
            msg = await h.wait_for_message(5)
            await h.send_sms("4")
            await srv.restart()                       # same db, same ports, new app
            rows = srv.export("vammaispalvelut-2027")  # what `kanavat export` prints

Helpers for the wire itself (``post_twilio``, ``sign``) let tests send hand-made, well or
badly signed webhooks; ``wait_until`` polls the store. The emulator's handsets live in
memory and are gone after ``restart``: keep your own record of what residents sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import re
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from click.testing import CliRunner, Result

from kanavat import config as configuration
from kanavat import signing
from kanavat.appkeys import AUTH_TOKEN, EMULATOR, SENDER, STORE
from kanavat.cli import main as cli_main
from kanavat.emulator import Emulator
from kanavat.server import Options, create_app
from kanavat.store import Clock, Store

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_CONFIG = ROOT / "config.toml"
SMS_CAMPAIGN = "vammaispalvelut-2027"  # SMS first, audience group below
SMS_GROUP = "palvelunkayttajat"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


REHEARSAL = {
    "call_hours": 'call_hours = ["mon-sun 00:00-24:00"]',
    "sms_hours": 'sms_hours = ["mon-sun 00:00-24:00"]',
    "holidays": "holidays = false",
}


def rehearsal_hours(text: str) -> str:
    """Open every hour in the county section, as a rehearsal does, so end-to-end tests do not
    depend on the time of day they run at (windows themselves are tested with a fake clock)."""
    for key, line in REHEARSAL.items():
        text, n = re.subn(rf"^{key} = .*$", line, text, count=1, flags=re.M)
        if n == 0:
            text = re.sub(r"^\[county\]\s*$", f"[county]\n{line}", text, count=1, flags=re.M)
    return text


def write_config(
    tmp_path: Path,
    port: int,
    *,
    text: str | None = None,
    messages_per_second: int = 200,
    open_hours: bool = True,
    public_url: str | None = None,
    database: str = "kanavat.db",
) -> Path:
    """The example config with ``public_url`` on ``port`` and the database in ``tmp_path``
    (or ``database``: the ``database`` fixture's SQLite path or PostgreSQL URL).

    The county's ``messages_per_second`` (5 in the example) is raised so that a campaign of
    dozens is invited in well under a second; pass 5 to test the pacing itself.
    """
    text = text if text is not None else EXAMPLE_CONFIG.read_text(encoding="utf-8")
    if open_hours:
        text = rehearsal_hours(text)
    text, n = re.subn(
        r"^messages_per_second = \d+",
        f"messages_per_second = {messages_per_second}",
        text,
        flags=re.M,
    )
    assert n == 1, "config.toml has no county.messages_per_second line"
    text, n = re.subn(
        r'^public_url = "[^"]*"',
        f'public_url = "{public_url or f"http://127.0.0.1:{port}"}"',
        text,
        flags=re.M,
    )
    assert n == 1, "config.toml has no server.public_url line"
    text, n = re.subn(r'^database = "[^"]*"', f'database = "{database}"', text, flags=re.M)
    assert n == 1, "config.toml has no server.database line"
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Server:
    """One running kanavat app; ``restart`` replaces it with a new one on the same db and ports."""

    config_path: Path
    port: int
    emulator_port: int
    dispatch_interval: float = 0.2
    emulator_speed: float = 20.0
    clock: Clock | None = None
    """The store's and scheduler's time (a test's hand-turned clock); None: the wall clock."""
    env: dict[str, str] = field(default_factory=dict)
    """The environment the config's ``env:`` values come from (a [twilio] token)."""
    app: web.Application | None = None
    _runner: web.AppRunner | None = None
    _http: aiohttp.ClientSession | None = field(default=None, repr=False)

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def config(self) -> configuration.Config:
        return configuration.load(self.config_path, env=self.env)

    async def start(self) -> None:
        self.app = create_app(
            self.config,
            Options(
                emulator_port=self.emulator_port,
                dispatch_interval=self.dispatch_interval,
                emulator_speed=self.emulator_speed,
                clock=self.clock,
            ),
        )
        self._runner = web.AppRunner(self.app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self._http = aiohttp.ClientSession()

    async def stop(self) -> None:
        """Shut down as ``kanavat serve`` does: requests finish, then contexts unwind."""
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self.app = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    # -- what the app holds --------------------------------------------------------------

    def _app(self) -> web.Application:
        assert self.app is not None, "server not running"
        return self.app

    @property
    def store(self) -> Store:
        return self._app()[STORE]

    @property
    def emulator(self) -> Emulator:
        emu = self._app()[EMULATOR]
        assert isinstance(emu, Emulator)
        return emu

    async def idle(self, timeout: float = 10.0) -> None:
        """Wait until neither our sender nor the emulator has anything in flight (a reply
        delivered may bring a status callback, which may bring nothing more)."""
        sender = self._app()[SENDER]
        emulator = self._app().get(EMULATOR)  # None with a [twilio] section
        async with asyncio.timeout(timeout):
            while True:
                await sender.idle(timeout)
                if isinstance(emulator, Emulator):
                    await emulator.idle(timeout)
                if not sender.busy:
                    return

    @property
    def auth_token(self) -> str:
        return self._app()[AUTH_TOKEN]

    @property
    def base_url(self) -> str:
        """Also the configured ``server.public_url``: webhooks are signed over it."""
        return f"http://127.0.0.1:{self.port}"

    # -- the command line, as an official uses it ----------------------------------------

    def cli(self, *args: str) -> Result:
        """Run a ``kanavat`` command against this server's config; fails the test on error."""
        result = CliRunner().invoke(
            cli_main, [*args, "--config", str(self.config_path)], env=self.env or None
        )
        assert result.exit_code == 0, f"kanavat {' '.join(args)}: {result.output}"
        return result

    def import_contacts(self, contacts: Mapping[str, str], group: str = SMS_GROUP) -> None:
        """``kanavat contacts import`` a CSV of ``phone -> language``."""
        path = self.config_path.parent / f"{group}.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["phone", "language"])
            writer.writerows(contacts.items())
        self.cli("contacts", "import", str(path), "--group", group)

    def start_campaign(self, campaign_id: str = SMS_CAMPAIGN) -> None:
        self.cli("campaign", "start", campaign_id)

    def export(self, campaign_id: str = SMS_CAMPAIGN) -> list[dict[str, Any]]:
        """``kanavat export CAMPAIGN --format jsonl``, parsed."""
        out = self.cli("export", campaign_id, "--format", "jsonl").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    # -- the wire ------------------------------------------------------------------------

    def sign(self, path: str, params: Iterable[tuple[str, str]] = ()) -> str:
        """``X-Twilio-Signature`` for ``path`` (query included) as Twilio would compute it."""
        return signing.sign(self.auth_token, self.base_url + path, list(params))

    async def post_twilio(
        self,
        path: str,
        params: Iterable[tuple[str, str]] | bytes | str,
        *,
        signature: str | bool | None = True,
    ) -> tuple[int, str]:
        """POST a form to ``path``; ``signature`` True signs it, a string is sent as is,
        None/False sends none. Raw ``bytes``/``str`` bodies are signed as an empty form."""
        assert self._http is not None
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if isinstance(params, bytes | str):
            body: bytes | str = params
            form: list[tuple[str, str]] = []
        else:
            form = list(params)
            body = urlencode(form)
        if signature is True:
            headers[signing.SIGNATURE_HEADER] = self.sign(path, form)
        elif isinstance(signature, str):
            headers[signing.SIGNATURE_HEADER] = signature
        async with self._http.post(self.base_url + path, data=body, headers=headers) as resp:
            return resp.status, await resp.text()

    async def get(self, path: str, headers: Mapping[str, str] | None = None) -> tuple[int, str]:
        assert self._http is not None
        async with self._http.get(self.base_url + path, headers=dict(headers or {})) as resp:
            return resp.status, await resp.text()

    # -- waiting -------------------------------------------------------------------------

    async def wait_until(
        self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition"
    ) -> Any:
        """Poll ``predicate`` (e.g. a store query) until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            await asyncio.sleep(0.02)

    def count(self, sql: str, params: Iterable[Any] = ()) -> int:
        row = self.store.one(f"SELECT count(*) AS n FROM ({sql}) AS counted", list(params))
        return int(row["n"]) if row else 0


@contextlib.asynccontextmanager
async def running_server(
    tmp_path: Path,
    *,
    dispatch_interval: float = 0.2,
    emulator_speed: float = 20.0,
    config_text: str | None = None,
    database: str = "kanavat.db",
) -> AsyncIterator[Server]:
    """Start the real server on free ports with a tmp config and database (``database``: a
    PostgreSQL URL instead); stop it after."""
    port, emulator_port = free_port(), free_port()
    server = Server(
        write_config(tmp_path, port, text=config_text, database=database),
        port,
        emulator_port,
        dispatch_interval,
        emulator_speed,
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
