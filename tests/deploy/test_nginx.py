"""A county's first deployment, for real: Debian's nginx with the repository's
``deploy/nginx/kanavat.conf`` (TLS with a certificate openssl makes for the test) in front of
a ``kanavat serve`` process whose Twilio auth token is a systemd-style credential.

Through the proxy, over https and wss only: a hand-signed SMS webhook (signed over the public
https URL, as Twilio signs it), the emulator's own webhooks, a call whose Media Stream carries
the prompts and a keypad answer, and a chat session. The emulator stands in for Twilio's side:
it is told the public https URLs, as the county's number is in Twilio's console.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
import pytest_asyncio
from harness import ROOT, free_port, write_config

from kanavat import signing
from kanavat.emulator import Emulator, EmulatorSettings, HangUp, Press, Wait, running_emulator

KANAVAT = (sys.executable, "-m", "kanavat")
SITE = ROOT / "deploy" / "nginx" / "kanavat.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
OPENSSL = shutil.which("openssl")
ACCOUNT_SID = "AC" + "d" * 32
TOKEN = "deploy-test-token-" + "7" * 14
NUMBER = "+358451234567"
SMS_CAMPAIGN, SMS_GROUP, SMS_PHONE = "vammaispalvelut-2027", "palvelunkayttajat", "+358401230001"
CALL_CAMPAIGN, CALL_GROUP, CALL_PHONE = "vanhukset-2027", "ikaihmiset", "+358401230002"
CHAT_CAMPAIGN = "nuoret-2027"

pytestmark = [
    pytest.mark.skipif(
        not (os.access(NGINX, os.X_OK) and OPENSSL),
        reason="Debian's nginx and openssl are not installed (apt-get install nginx openssl; "
        "make test installs them)",
    ),
    pytest.mark.timeout(180),
    pytest.mark.asyncio(loop_scope="module"),  # one deployment for the module's tests
]


# -- TLS and nginx ------------------------------------------------------------------------


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, as a county's real one is for its host name."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            OPENSSL or "openssl",
            *("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def render_site(
    folder: Path, *, https_port: int, http_port: int, upstream_port: int, cert: Path, key: Path
) -> Path:
    """The repository's site file with this machine's values put in: each substitution must
    match as many times as the file's instructions say, so an edit that breaks them fails."""
    text = SITE.read_text(encoding="utf-8")
    www = folder / "www"
    www.mkdir()
    substitutions = [
        (r"listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;", 1),
        (r"listen 80;", f"listen 127.0.0.1:{http_port};", 1),
        (r"\n\s*listen \[::\]:\d+( ssl)?;", "", 2),  # no IPv6 in every test container
        (r"server_name kanavat\.example\.fi;", "server_name 127.0.0.1;", 2),
        (r"/etc/letsencrypt/live/kanavat\.example\.fi/fullchain\.pem", str(cert), 1),
        (r"/etc/letsencrypt/live/kanavat\.example\.fi/privkey\.pem", str(key), 1),
        (r"server 127\.0\.0\.1:8080;", f"server 127.0.0.1:{upstream_port};", 1),
        (r"/var/log/nginx/", f"{folder}/", 3),
        (r"root /var/www/html;", f"root {www};", 1),
    ]
    for pattern, replacement, count in substitutions:
        text, n = re.subn(pattern, replacement, text)
        assert n == count, f"{SITE}: expected {count} x {pattern!r}, found {n}"
    site = folder / "kanavat.conf"
    site.write_text(text, encoding="utf-8")
    return site


def main_conf(folder: Path, site: Path) -> Path:
    """What Debian's /etc/nginx/nginx.conf gives the site file, with paths in ``folder``."""
    temp = folder / "temp"
    temp.mkdir()
    user = "user root;\n" if os.geteuid() == 0 else ""  # pytest's tmp_path is private to root
    conf = folder / "nginx.conf"
    conf.write_text(
        f"{user}worker_processes 1;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log info;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        + "".join(
            f"    {kind}_temp_path {temp}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f"    access_log {folder}/access.log;\n    include {site};\n}}\n",
        encoding="utf-8",
    )
    return conf


def wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"port {port} did not open:\n{read(log)}")
        time.sleep(0.05)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            return proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()


@contextlib.contextmanager
def nginx(folder: Path, site: Path, https_port: int) -> Iterator[Path]:
    """Debian's nginx in the foreground with its own prefix, pid and temp paths."""
    conf = main_conf(folder, site)
    cmd = [NGINX, "-p", str(folder), "-c", str(conf)]
    tested = subprocess.run([*cmd, "-t"], capture_output=True, text=True, timeout=30)
    assert tested.returncode == 0, f"nginx -t refused {site}:\n{tested.stderr}"
    log = folder / "nginx.stderr"
    proc = subprocess.Popen([*cmd, "-g", "daemon off;"], stderr=log.open("ab"))
    try:
        wait_port(https_port, proc, log)
        yield folder
    finally:
        stop(proc, signal.SIGQUIT)


# -- kanavat serve with Twilio's side played by the emulator --------------------------------


@dataclass
class Deployment:
    public_url: str
    config: Path
    database: Path
    http_url: str
    tls: ssl.SSLContext
    emulator: Emulator
    env: dict[str, str]
    access_log: Path

    async def proxied(self, line: str, timeout: float = 10) -> None:
        """nginx logged ``line`` (a websocket is logged when it closes)."""
        deadline = time.monotonic() + timeout
        while line not in read(self.access_log):
            assert time.monotonic() < deadline, f"nginx did not log {line!r}"
            await asyncio.sleep(0.1)

    def kanavat(self, *args: str) -> str:
        done = subprocess.run(
            [*KANAVAT, *args, "--config", str(self.config)],
            capture_output=True,
            text=True,
            timeout=60,
            env=self.env,  # officials' commands get the credentials too (deploy/kanavat-admin)
        )
        assert done.returncode == 0, f"kanavat {' '.join(args)}: {done.stderr}"
        return done.stdout

    def import_contact(self, phone: str, group: str) -> None:
        csv = self.config.parent / f"{group}.csv"
        csv.write_text(f"phone,language\n{phone},fi\n", encoding="utf-8")
        self.kanavat("contacts", "import", str(csv), "--group", group)

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(self.database, timeout=30)) as db:
            return db.execute(sql, params).fetchall()

    async def wait_rows(self, sql: str, params: tuple = (), timeout: float = 30) -> list[tuple]:
        deadline = time.monotonic() + timeout
        while not (found := self.rows(sql, params)):
            assert time.monotonic() < deadline, f"nothing for {sql} after {timeout} s"
            await asyncio.sleep(0.1)
        return found

    def http(self, **kwargs: object) -> aiohttp.ClientSession:
        """A client that trusts the test certificate, as Twilio trusts a county's real one."""
        return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self.tls), **kwargs)


TWILIO_SECTION = """
[twilio]
account_sid = "{sid}"
auth_token = "cred:twilio_auth_token"
caller_id = "{number}"
api_base = "{api_base}"
"""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def deployment(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Deployment]:
    tmp_path = tmp_path_factory.mktemp("deployment")
    https_port, http_port, serve_port, emulator_port = (free_port() for _ in range(4))
    public = f"https://127.0.0.1:{https_port}"
    proxy = tmp_path / "nginx"
    proxy.mkdir()
    cert, key = make_certificate(proxy)
    site = render_site(
        proxy,
        https_port=https_port,
        http_port=http_port,
        upstream_port=serve_port,
        cert=cert,
        key=key,
    )
    config = write_config(tmp_path, serve_port, public_url=public)
    with config.open("a", encoding="utf-8") as out:
        out.write(
            TWILIO_SECTION.format(
                sid=ACCOUNT_SID, number=NUMBER, api_base=f"http://127.0.0.1:{emulator_port}"
            )
        )
    credentials = tmp_path / "credentials"
    credentials.mkdir(mode=0o700)
    (credentials / "twilio_auth_token").write_text(TOKEN + "\n", encoding="utf-8")

    settings = EmulatorSettings(
        account_sid=ACCOUNT_SID,
        auth_token=TOKEN,
        phone_number=NUMBER,
        sms_url=f"{public}/twilio/sms",
        voice_url=f"{public}/twilio/voice",
        speed=20.0,
        ca_file=str(cert),
        ws_rewrite={"wss://127.0.0.1": "wss://127.0.0.1"},  # keep TLS: through the proxy
    )
    log = tmp_path / "serve.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "CREDENTIALS_DIRECTORY": str(credentials)}
    with nginx(proxy, site, https_port):
        async with running_emulator(settings, host="127.0.0.1", port=emulator_port) as emu:
            serve = subprocess.Popen(
                [*KANAVAT, "serve", "--config", str(config), "--port", str(serve_port)],
                stdout=subprocess.DEVNULL,
                stderr=log.open("ab"),
                env=env,
            )
            try:
                await asyncio.to_thread(wait_port, serve_port, serve, log, 60)
                tls = ssl.create_default_context(cafile=str(cert))
                db = tmp_path / "kanavat.db"
                plain = f"http://127.0.0.1:{http_port}"
                access = proxy / "kanavat.access.log"
                yield Deployment(public, config, db, plain, tls, emu, env, access)
            finally:
                code = await asyncio.to_thread(stop, serve)
            assert code == 0, read(log)
            assert "Traceback" not in read(log), read(log)
            assert TOKEN not in read(log) and SMS_PHONE not in read(log)
    access = read(proxy / "kanavat.access.log")
    lines = access.splitlines()  # the private format: no client addresses, no query strings
    assert lines and all(re.fullmatch(r"\S+ [A-Z]+ /[^\s?]* \d{3} \d+ [\d.]+", x) for x in lines)


# -- through the proxy ---------------------------------------------------------------------


async def test_healthz_and_http_redirect(deployment: Deployment) -> None:
    async with deployment.http() as http:
        async with http.get(f"{deployment.public_url}/healthz") as resp:
            assert resp.status == 200
            body = await resp.json()
            assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
        plain = f"{deployment.http_url}/chat/{CHAT_CAMPAIGN}?lang=sv"
        async with http.get(plain, allow_redirects=False) as resp:
            assert resp.status == 301
            assert resp.headers["Location"] == f"https://127.0.0.1/chat/{CHAT_CAMPAIGN}?lang=sv"
    assert body["twilio"] == "twilio"  # the real provider path, with the credential's token


async def test_signed_sms_webhook_through_the_proxy(deployment: Deployment) -> None:
    d = deployment
    d.import_contact(SMS_PHONE, SMS_GROUP)
    d.kanavat("campaign", "start", SMS_CAMPAIGN)
    handset = d.emulator.handset(SMS_PHONE)
    await handset.wait_for_message(30)  # the invitation, sent through the emulator's REST API

    url = f"{d.public_url}/twilio/sms"
    form = [
        ("AccountSid", ACCOUNT_SID),
        ("MessageSid", "SM" + "4" * 32),
        ("From", SMS_PHONE),
        ("To", NUMBER),
        ("Body", "4"),
        ("NumMedia", "0"),
    ]
    internal = url.replace(d.public_url, "http://127.0.0.1:1")  # what kanavat sees behind nginx
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with d.http() as http:
        for wrong in (None, signing.sign(TOKEN, internal, form)):
            sent = {**headers, **({signing.SIGNATURE_HEADER: wrong} if wrong else {})}
            async with http.post(url, data=urlencode(form), headers=sent) as resp:
                assert resp.status == 403
        signed = {**headers, signing.SIGNATURE_HEADER: signing.sign(TOKEN, url, form)}
        async with http.post(url, data=urlencode(form), headers=signed) as resp:
            assert resp.status == 200, await resp.text()
            assert "<Response" in await resp.text()
    answers = d.rows("SELECT question, raw FROM answers WHERE channel = 'sms'")
    assert answers == [("asiointi", "4")]  # stored before the webhook returned

    await handset.send_sms("kyllä")  # the emulator's own signed webhook, over https
    await d.wait_rows("SELECT 1 FROM answers WHERE question = 'esteet'")
    assert d.rows("SELECT count(*) FROM events WHERE outcome IS NULL") == [(0,)]


async def test_call_media_stream_through_the_proxy(deployment: Deployment) -> None:
    d = deployment
    d.import_contact(CALL_PHONE, CALL_GROUP)
    handset = d.emulator.handset(CALL_PHONE)
    handset.set_behaviour(script=[Wait("question.arki"), Press("4"), Wait(), HangUp()])
    d.kanavat("campaign", "start", CALL_CAMPAIGN)
    log = await handset.wait_for_call(30)
    await log.wait_ended(60)
    stream_url = log.streams[0]["url"]
    assert stream_url == f"wss://{d.public_url.split('://')[1]}/twilio/voice/stream"
    assert "question.arki" in log.marks, log.marks  # prompts came back through the proxy
    answers = await d.wait_rows(
        "SELECT question, value, input_kind FROM answers WHERE channel = 'voice'"
    )
    assert answers == [("arki", "4", "keypad")]
    await d.proxied(" GET /twilio/voice/stream 101 ")


async def test_chat_session_through_the_proxy(deployment: Deployment) -> None:
    d = deployment
    d.kanavat("campaign", "start", CHAT_CAMPAIGN)
    async with d.http(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{d.public_url}/chat/{CHAT_CAMPAIGN}") as page:
            assert page.status == 200
            cookie = next(
                c for c in page.headers.getall("Set-Cookie") if c.startswith("kanavat_visitor=")
            )
            assert "Secure" in cookie  # the public URL is https
        ws_url = d.public_url.replace("https://", "wss://") + f"/chat/{CHAT_CAMPAIGN}/ws"
        async with http.ws_connect(ws_url, origin=d.public_url) as ws:
            await ws.send_json({"type": "hello", "lang": "fi"})
            assert (await reply(ws))["status"] == "welcome"
            await ws.send_json({"type": "start", "id": "p-1"})
            assert (await reply(ws))["question"] == "ika"
            await ws.send_json({"type": "text", "id": "p-2", "text": "16"})
            assert (await reply(ws))["question"] == "vointi"
    answers = d.rows("SELECT question, raw FROM answers WHERE channel = 'chat'")
    assert answers == [("ika", "16")]
    await d.proxied(f" GET /chat/{CHAT_CAMPAIGN}/ws 101 ")


async def reply(ws: aiohttp.ClientWebSocketResponse) -> dict:
    while True:
        frame = await ws.receive_json(timeout=10)
        if frame["type"] != "typing":
            return frame
