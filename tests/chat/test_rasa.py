"""The Rasa-compatible REST channel: exact JSON shapes, a whole questionnaire, bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from kanavat.chat.output import collect
from kanavat.questions.dialog import Choice, Part, Prompt

from .conftest import CAMPAIGN, ChatServer

WEBHOOK = "/webhooks/rest/webhook"
META = {"campaign": CAMPAIGN}


async def post(server: ChatServer, body: object, **kwargs) -> tuple[int, object]:
    async with aiohttp.ClientSession() as http:
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        async with http.post(server.base_url + WEBHOOK, data=data, headers=headers) as r:
            text = await r.text()
            try:
                return r.status, json.loads(text)
            except json.JSONDecodeError:
                return r.status, text


def test_collect_matches_rasa_collecting_output_channel() -> None:
    """Rasa drops None keys, splits plain text on blank lines, and keeps text with buttons whole."""
    note = Prompt("reply.resume", "Eka.\n\nToka.", (Part("reply.resume", ""),))
    question = Prompt(
        "question.q",
        "Kysymys?\n\nYhä samaa viestiä",
        (),
        expects="answer",
        question_id="q",
        options=(Choice("yes", "kyllä", "1"), Choice("no", "ei", "2")),
    )
    assert collect("s1", (note, question)) == [
        {"recipient_id": "s1", "text": "Eka."},
        {"recipient_id": "s1", "text": "Toka."},
        {
            "recipient_id": "s1",
            "text": "Kysymys?\n\nYhä samaa viestiä",
            "buttons": [{"title": "Kyllä", "payload": "yes"}, {"title": "Ei", "payload": "no"}],
        },
    ]


async def test_health(chat_server: ChatServer) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(chat_server.base_url + "/webhooks/rest/") as r,
    ):
        assert r.status == 200
        assert await r.json() == {"status": "ok"}


async def test_whole_questionnaire_in_swedish(chat_server: ChatServer) -> None:
    sender = "widget-visitor-1"
    status, first = await post(
        chat_server,
        {"sender": sender, "message": "/get_started", "metadata": {**META, "lang": "sv"}},
    )
    assert status == 200
    assert first == [
        {
            "recipient_id": sender,
            "text": "Hej! Ungdomsfullmäktige och Esimerkin välfärdsområde vill höra hur unga mår. Svaren är anonyma och frivilliga, och du kan sluta när du vill.",
        },
        {"recipient_id": sender, "text": "Hur gammal är du?\nSvara med en siffra."},
    ]
    _, scale = await post(chat_server, {"sender": sender, "message": "sexton", "metadata": META})
    assert scale == [
        {
            "recipient_id": sender,
            "text": "Hur mår du just nu? 1 = jättedåligt, 5 = jättebra.",
            "buttons": [{"title": str(n), "payload": str(n)} for n in range(1, 6)],
        }
    ]
    _, yes_no = await post(chat_server, {"sender": sender, "message": "4", "metadata": META})
    assert yes_no == [
        {
            "recipient_id": sender,
            "text": "Har du en hobby som du går på regelbundet?",
            "buttons": [{"title": "Ja", "payload": "yes"}, {"title": "Nej", "payload": "no"}],
        }
    ]
    _, choice = await post(chat_server, {"sender": sender, "message": "/deny", "metadata": META})
    assert [b["payload"] for b in choice[0]["buttons"]] == ["hinta", "matka", "ei_sopivaa", "aika"]
    assert choice[0]["buttons"][0] == {"title": "För dyrt", "payload": "hinta"}
    _, text_q = await post(chat_server, {"sender": sender, "message": "matka", "metadata": META})
    assert text_q == [
        {
            "recipient_id": sender,
            "text": "Vad borde ungdomsfullmäktige driva? Skriv fritt.\nSkriv ditt svar med egna ord.",
        }
    ]
    _, outro = await post(
        chat_server, {"sender": sender, "message": "Fler bussar på kvällen", "metadata": META}
    )
    assert outro == [
        {
            "recipient_id": sender,
            "text": "Tack! Dina svar går till ungdomsfullmäktige. Behöver du någon att prata med finns Sekasin-chatten.",
        }
    ]
    rows = chat_server.store.query(
        "SELECT question, channel, language, input_kind, value FROM answers ORDER BY id"
    )
    assert [(r["question"], r["input_kind"], json.loads(r["value"])) for r in rows] == [
        ("ika", "text", 16),
        ("vointi", "button", 4),
        ("harrastus", "button", "no"),
        ("harrastus_este", "button", "matka"),
        ("viesti", "text", "Fler bussar på kvällen"),
    ]
    assert {(r["channel"], r["language"]) for r in rows} == {("chat", "sv")}


async def test_finnish_default_restart_and_stop(chat_server: ChatServer) -> None:
    sender = "s-fi"
    _, first = await post(chat_server, {"sender": sender, "message": "moi", "metadata": META})
    assert first[-1]["text"] == "Kuinka vanha olet?\nVastaa numerolla."
    _, _ = await post(chat_server, {"sender": sender, "message": "15", "metadata": META})
    _, again = await post(chat_server, {"sender": sender, "message": "/restart", "metadata": META})
    assert again[-1]["text"] == "Kuinka vanha olet?\nVastaa numerolla."
    assert chat_server.store.query("SELECT * FROM answers") == []
    _, stopped = await post(chat_server, {"sender": sender, "message": "/stop", "metadata": META})
    assert stopped == [
        {
            "recipient_id": sender,
            "text": "Selvä, lopetetaan. Jo antamasi vastaukset on tallennettu. Kiitos!",
        }
    ]
    _, after = await post(chat_server, {"sender": sender, "message": "15", "metadata": META})
    assert after == [{"recipient_id": sender, "text": "Olet jo vastannut tähän kyselyyn. Kiitos!"}]


async def test_nlu_synonyms_and_intents(chat_server: ChatServer, nlu_dir: Path) -> None:
    sender = "s-nlu"
    for message in ("hei", "17", "3"):
        await post(chat_server, {"sender": sender, "message": message, "metadata": META})
    _, choice = await post(chat_server, {"sender": sender, "message": "ei oo", "metadata": META})
    assert choice[0]["buttons"][0]["payload"] == "hinta"  # "ei oo" is the deny intent: no
    _, text_q = await post(
        chat_server, {"sender": sender, "message": "ei oo rahaa", "metadata": META}
    )
    assert "Kirjoita" in text_q[0]["text"]
    rows = chat_server.store.query("SELECT question, value FROM answers ORDER BY id")
    assert [(r["question"], json.loads(r["value"])) for r in rows][-2:] == [
        ("harrastus", "no"),
        ("harrastus_este", "hinta"),
    ]


async def test_bad_input(chat_server: ChatServer) -> None:
    status, body = await post(chat_server, "this is not json")
    assert (status, body) == (400, {"error": "body is not JSON"})
    status, body = await post(chat_server, [1, 2])
    assert status == 400 and "JSON object" in body["error"]
    status, body = await post(chat_server, {"sender": "s", "message": "hei", "metadata": "x"})
    assert (status, body) == (400, {"error": "metadata must be an object"})
    status, body = await post(
        chat_server, {"sender": "s", "message": "hei", "metadata": {"campaign": "ei-ole"}}
    )
    assert (status, body) == (404, {"error": "unknown chat campaign: 'ei-ole'"})
    status, body = await post(
        chat_server, {"sender": "s", "message": "hei", "metadata": {"campaign": "vanhukset-2027"}}
    )
    assert status == 404  # a phone campaign has no chat


async def test_sender_and_message_are_read_as_rasa_reads_them(chat_server: ChatServer) -> None:
    """Rasa's UserMessage: no sender is "default", any other sender its string; a message
    that is no string fails inside Rasa's channel, which logs it and answers []."""
    status, body = await post(chat_server, {"message": "hei", "metadata": META})
    assert status == 200 and body and {m["recipient_id"] for m in body} == {"default"}
    status, body = await post(chat_server, {"sender": 42, "message": "hei", "metadata": META})
    assert status == 200 and body and {m["recipient_id"] for m in body} == {"42"}
    for odd in (["x"], 5, {"text": "hei"}, True):
        status, body = await post(chat_server, {"sender": "s9", "message": odd, "metadata": META})
        assert (status, body) == (200, [])
    assert chat_server.store.one(
        "SELECT count(*) AS n FROM sessions WHERE visitor_id LIKE 'rasa-s9:%'"
    ) == {"n": 0}, "a message that is no string took no turn"


async def test_stream_true_answers_one_json_object_per_line(chat_server: ChatServer) -> None:
    payload = {"sender": "streamer", "message": "hei", "metadata": META}
    _, whole = await post(chat_server, {**payload, "sender": "whole"})
    async with (
        aiohttp.ClientSession() as http,
        http.post(chat_server.base_url + WEBHOOK + "?stream=true", json=payload) as r,
    ):
        assert r.status == 200 and r.content_type == "text/event-stream"
        text = await r.text()
    lines = text.split("\n")
    assert lines[-1] == "" and all(lines[:-1])
    streamed = [json.loads(line) for line in lines[:-1]]
    assert [m["text"] for m in streamed] == [m["text"] for m in whole]
    assert {m["recipient_id"] for m in streamed} == {"streamer"}


async def test_a_message_id_is_answered_once(chat_server: ChatServer) -> None:
    """A widget that sends metadata.message_id and retries gets the first answer again."""
    meta = {**META, "message_id": "m-1"}
    await post(chat_server, {"sender": "retry", "message": "hei", "metadata": META})
    status, first = await post(chat_server, {"sender": "retry", "message": "15", "metadata": meta})
    status, again = await post(chat_server, {"sender": "retry", "message": "15", "metadata": meta})
    assert status == 200 and first == again
    answers = chat_server.store.query(
        "SELECT a.question FROM answers a JOIN sessions s ON s.id = a.session_id "
        "WHERE s.visitor_id LIKE 'rasa-retry:%'"
    )
    assert len(answers) == 1


def rest_answers(server: ChatServer, sender: str) -> list[tuple[str, object]]:
    rows = server.store.query(
        "SELECT a.question, a.value FROM answers a JOIN sessions s ON s.id = a.session_id "
        "WHERE s.visitor_id LIKE ? ORDER BY a.id",
        [f"rasa-{sender}:%"],
    )
    return [(r["question"], json.loads(r["value"])) for r in rows]


def rest_events(server: ChatServer) -> list[str | None]:
    rows = server.store.query("SELECT external_id FROM events WHERE kind = 'rest' ORDER BY id")
    return [r["external_id"] for r in rows]


async def test_an_idempotency_key_header_is_answered_once(chat_server: ChatServer) -> None:
    """A widget that cannot add metadata sends the IETF Idempotency-Key header instead."""
    await post(chat_server, {"sender": "hdr", "message": "hei", "metadata": META})
    body = {"sender": "hdr", "message": "15", "metadata": META}
    key = {"Idempotency-Key": "k-15"}
    status, first = await post(chat_server, body, headers=key)
    status_again, again = await post(chat_server, body, headers=key)
    assert (status, status_again) == (200, 200) and first == again
    assert "1 = " in first[-1]["text"]  # the next question, asked once
    await post(chat_server, {**body, "message": "4"}, headers={"Idempotency-Key": "k-4"})
    assert rest_answers(chat_server, "hdr") == [("ika", 15), ("vointi", 4)]
    assert rest_events(chat_server) == [None, "rasa-hdr:k-15", "rasa-hdr:k-4"]


async def test_metadata_message_id_wins_and_an_integer_is_its_string(
    chat_server: ChatServer,
) -> None:
    """As Rasa's UserMessage takes an id: str(message_id). The metadata's id is the key even
    when a header comes too; the same id from another sender is another message."""
    await post(chat_server, {"sender": "num", "message": "hei", "metadata": META})
    as_int = {"sender": "num", "message": "15", "metadata": {**META, "message_id": 7}}
    as_str = {**as_int, "metadata": {**META, "message_id": "7"}}
    _, first = await post(chat_server, as_int, headers={"Idempotency-Key": "other"})
    _, again = await post(chat_server, as_str)
    assert first == again
    await post(chat_server, {**as_int, "sender": "num2", "message": "hei"})
    assert rest_answers(chat_server, "num") == [("ika", 15)]
    assert rest_events(chat_server) == [None, "rasa-num:7", "rasa-num2:7"]


async def test_a_bad_message_id_is_refused_and_takes_no_turn(chat_server: ChatServer) -> None:
    await post(chat_server, {"sender": "bad", "message": "hei", "metadata": META})
    before = rest_events(chat_server)
    for odd, error in (
        ({"message_id": {"id": 1}}, "metadata.message_id must be a string or an integer"),
        ({"message_id": True}, "metadata.message_id must be a string or an integer"),
        ({"message_id": "x" * 201}, "metadata.message_id: 1 to 200 printable characters"),
        ({"message_id": "a\nb"}, "metadata.message_id: 1 to 200 printable characters"),
    ):
        body = {"sender": "bad", "message": "15", "metadata": {**META, **odd}}
        assert await post(chat_server, body) == (400, {"error": error})
    body = {"sender": "bad", "message": "15", "metadata": META}
    status, answer = await post(chat_server, body, headers={"Idempotency-Key": " "})
    assert (status, answer) == (400, {"error": "Idempotency-Key: 1 to 200 printable characters"})
    assert rest_events(chat_server) == before and rest_answers(chat_server, "bad") == []


async def test_without_an_id_the_same_words_again_are_a_new_turn(chat_server: ChatServer) -> None:
    """No key is made from the message itself: a resident may send the same words twice
    (here "4" to two scale questions in a row would be two answers), so a retry without an
    id cannot be told from them, in kanavat as in Rasa."""
    await post(chat_server, {"sender": "same", "message": "hei", "metadata": META})
    body = {"sender": "same", "message": "15", "metadata": META}
    _, first = await post(chat_server, body)
    _, second = await post(chat_server, body)
    assert first != second  # the second "15" was taken at the next question (out of its range)
    assert rest_answers(chat_server, "same") == [("ika", 15)]
    assert rest_events(chat_server) == [None, None, None]


async def test_data_requests_work_through_rest(chat_server: ChatServer) -> None:
    """MY DATA and DELETE + YES, as on the chat page and by SMS."""
    await post(chat_server, {"sender": "omadata", "message": "hei", "metadata": META})
    await post(chat_server, {"sender": "omadata", "message": "15", "metadata": META})
    status, shown = await post(
        chat_server, {"sender": "omadata", "message": "TIETONI", "metadata": META}
    )
    assert status == 200 and any("15" in m["text"] for m in shown)
    status, asked = await post(
        chat_server, {"sender": "omadata", "message": "POISTA", "metadata": META}
    )
    assert any("KYLLÄ" in m["text"] for m in asked)
    status, done = await post(
        chat_server, {"sender": "omadata", "message": "kyllä", "metadata": META}
    )
    assert status == 200 and done
    left = chat_server.store.query(
        "SELECT a.id FROM answers a JOIN sessions s ON s.id = a.session_id "
        "WHERE s.visitor_id LIKE 'rasa-omadata:%'"
    )
    assert left == []


async def test_too_large_bodies_are_413(chat_server: ChatServer) -> None:
    # 1 MiB, 16 times the limit: the client has sent it all when the 413 comes back, so the
    # server's lingering close drains it at once (with 10 MiB the client stops half-way and
    # aiohttp lingers its full 10 s in the server's shutdown).
    big = json.dumps({"sender": "s", "message": "a" * (1024 * 1024), "metadata": META})
    status, body = await post(chat_server, big)
    assert status == 413
    assert body == {"error": "body too large: at most 65536 bytes"}

    async def chunks():
        piece = b'{"sender": "s", "message": "' + b"a" * 100_000
        yield piece
        yield b'"}'

    async with (
        aiohttp.ClientSession() as http,
        http.post(
            chat_server.base_url + WEBHOOK,
            data=chunks(),
            headers={"Content-Type": "application/json"},
        ) as r,
    ):
        assert r.status == 413  # no Content-Length: counted while reading


async def test_message_too_long_gets_a_clear_reply(chat_server: ChatServer) -> None:
    await post(chat_server, {"sender": "s-long", "message": "moi", "metadata": META})
    status, body = await post(
        chat_server, {"sender": "s-long", "message": "x" * 2001, "metadata": META}
    )
    assert status == 200
    assert body == [
        {
            "recipient_id": "s-long",
            "text": "Viestisi on liian pitkä: enintään 2000 merkkiä. Kirjoita lyhyemmin.",
        }
    ]
    assert chat_server.store.query("SELECT * FROM answers") == []


async def test_closed_campaign_is_said_in_the_senders_language(chat_server: ChatServer) -> None:
    chat_server.set_status("paused")
    _, body = await post(
        chat_server, {"sender": "s-p", "message": "hej", "metadata": {**META, "lang": "sv"}}
    )
    assert body == [{"recipient_id": "s-p", "text": "Enkäten har en paus. Försök igen senare."}]
    chat_server.set_status("scheduled")
    chat_server.store.clock = lambda: datetime(2027, 2, 28, 12, 0, tzinfo=UTC)
    _, body = await post(chat_server, {"sender": "s-p", "message": "moi", "metadata": META})
    assert body == [
        {
            "recipient_id": "s-p",
            "text": "Kysely ei ole vielä auki. Se aukeaa 1.3.2027 klo 8.00.",
        }
    ]


async def test_suggestions_any_day_and_their_answer_with_the_next_reply(
    chat_server: ChatServer,
) -> None:
    """EHDOTUS / FÖRSLAG through a Rasa widget, the survey closed or not: recorded and thanked
    as on the chat page (one turn entry); the answer comes with the sender's next reply, once."""
    from click.testing import CliRunner

    from kanavat.cli import main as cli_main

    def cli(*args: str) -> str:
        result = CliRunner().invoke(cli_main, [*args, "--config", str(chat_server.config_path)])
        assert result.exit_code == 0, result.output
        return result.output

    chat_server.set_status("paused")  # no survey open: suggestions still come in
    _, body = await post(
        chat_server, {"sender": "s-idea", "message": "EHDOTUS: lisää iltavuoroja", "metadata": META}
    )
    assert body == [{"recipient_id": "s-idea", "text": THANKS_FI}]
    chat_server.set_status("running")
    sv = {
        "sender": "s-idé",
        "message": "FÖRSLAG fler kvällstider",
        "metadata": {**META, "lang": "sv"},
    }
    _, body = await post(chat_server, sv)
    assert body == [
        {
            "recipient_id": "s-idé",
            "text": "Tack för ditt förslag! Det är registrerat och går vidare till "
            "behandling. Du får svar samma väg.",
        }
    ]
    rows = chat_server.store.query("SELECT * FROM suggestions ORDER BY id")
    assert [(r["channel"], r["language"], r["text"]) for r in rows] == [
        ("chat", "fi", "lisää iltavuoroja"),
        ("chat", "sv", "fler kvällstider"),
    ]
    assert chat_server.store.query("SELECT id FROM sessions") == []  # no survey was begun
    cli("suggestions", "route", str(rows[0]["id"]), "nuorisovaltuusto", "--theme", "nuoret")
    assert "its writer will be told" in cli("suggestions", "answer", str(rows[0]["id"]), "Kyllä.")
    chat_server.set_status("paused")  # told even while no survey is open
    _, body = await post(chat_server, {"sender": "s-idea", "message": "moi", "metadata": META})
    answer = "Vastaus ehdotukseesi: Kyllä."
    assert body == [
        {"recipient_id": "s-idea", "text": "Kysely on tauolla. Kokeile myöhemmin uudelleen."},
        {"recipient_id": "s-idea", "text": answer},
    ]
    _, mine = await post(chat_server, {"sender": "s-idea", "message": "TIETONI", "metadata": META})
    assert isinstance(mine, list) and any("lisää iltavuoroja" in m["text"] for m in mine)
    chat_server.set_status("running")
    _, again = await post(chat_server, {"sender": "s-idea", "message": "1", "metadata": META})
    assert isinstance(again, list) and not [m for m in again if "ehdotukseesi" in m["text"]]
    _, other = await post(chat_server, {"sender": "s-idé", "message": "hej", "metadata": META})
    assert isinstance(other, list) and not [m for m in other if "ehdotukseesi" in m["text"]]
    status = chat_server.store.query("SELECT kind, channel, status FROM notices")
    assert status == [{"kind": "answer", "channel": "chat", "status": "told"}]


THANKS_FI = (
    "Kiitos ehdotuksestasi! Se on kirjattu ja menee käsiteltäväksi. Saat vastauksen tätä samaa "
    "kautta."
)
