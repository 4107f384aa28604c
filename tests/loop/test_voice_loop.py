"""Closing the loop by phone, through the emulator: the outcome's recorded message heard
(keypad 1 plays it again), told once, never to an opted-out or erased resident; a
suggestion said on the county's number, transcribed locally, answered by a call."""

from __future__ import annotations

from pathlib import Path

from harness import EXAMPLE_CONFIG, Server, running_server
from speech_fixtures import pad, speak, to_telephone

from kanavat.emulator import HangUp, Press, Wait
from kanavat.questions.dialog import Part
from kanavat.voice.audio import ulaw_encode
from kanavat.voice.stream import VOICE_KEYS

from .test_sms_loop import outcome_messages

CAMPAIGN, GROUP = "vanhukset-2027", "ikaihmiset"
HEARS, OPTED, ERASED = "+358401240001", "+358401240002", "+358401240003"
MESSAGE = "Kotihoidon iltakäynnit lisääntyvät syksyllä."


async def took_part(srv: Server, number: str) -> None:
    handset = srv.emulator.handset(number)
    handset.set_behaviour(script=[Wait("question.arki"), Press("4"), Wait(), HangUp()])
    call = await handset.wait_for_call(20)
    await call.wait_ended(60)


def add_outcome(srv: Server, *options: str) -> str:
    """``kanavat outcome add`` of the council's decision, as an official types it."""
    return srv.cli(
        "outcome", "add", CAMPAIGN, "--body", "Vanhusneuvosto", "--date", "2027-05-14",
        "--fi", MESSAGE, *options,
    ).output  # fmt: skip


AT_ONCE = "--no-wait-for-recording"  # the example county's calls wait for the recording:
# these tests call at once, with the placeholder voice (test_held_calls.py: the wait)


def message_audio(srv: Server, outcome_id: int, language: str, text: str) -> bytes:
    """The outcome's audio as the prompt library has it (its placeholder until recorded)."""
    library = srv.app[VOICE_KEYS].prompts  # type: ignore[index]
    return library.audio(language, Part(f"outcome.{outcome_id}", text))


async def test_outcome_heard_on_a_call_once(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        srv.import_contacts({HEARS: "fi", OPTED: "fi", ERASED: "fi"}, group=GROUP)
        srv.start_campaign(CAMPAIGN)
        for number in (HEARS, OPTED, ERASED):
            await took_part(srv, number)
        await srv.emulator.handset(OPTED).send_sms("STOP")
        srv.cli("person", "forget", ERASED, "--yes")
        hears = srv.emulator.handset(HEARS)
        hears.set_behaviour(
            script=[Wait("outcome.1"), Press("1"), Wait("outcome.1~2"), Press("9"), Wait()]
        )
        assert "1 residents to tell" in add_outcome(srv, AT_ONCE)
        call = await hears.wait_for_call(20)
        await call.wait_ended(60)
        assert call.marks[:2] == ["outcome.1", "outcome.1~2"]
        heard = message_audio(srv, 1, "fi", _voice_text(srv))
        assert len(heard) > 8000  # over a second of speech
        assert call.audio["outcome.1"].startswith(heard)  # the message, then the hint
        assert call.audio["outcome.1~2"].startswith(heard)  # and again, on keypad 1
        await srv.wait_until(
            lambda: srv.count("SELECT id FROM notices WHERE status = 'told'"), what="told"
        )
        await srv.wait_until(
            lambda: srv.count(
                "SELECT id FROM notices WHERE call_sid IS NOT NULL AND status = 'told'"
            ),
            what="the call's status",
        )
        await srv.restart()
        for _ in range(5):
            await srv.idle()
        for number in (HEARS, OPTED, ERASED):
            assert srv.emulator.handset(number).calls == []
            assert outcome_messages(srv, number) == []
        assert srv.count("SELECT id FROM notices") == 1
        assert srv.cli("outcome", "list").output.count("voice told 1") == 1


def _voice_text(srv: Server) -> str:
    from kanavat.loop import outcomes
    from kanavat.loop.texts import outcome_message

    outcome = outcomes.get(srv.store, 1)
    assert outcome is not None
    return outcome_message(srv.config, outcome, "fi", "voice")


async def test_outcome_call_not_answered_is_tried_again_later(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        srv.import_contacts({HEARS: "fi"}, group=GROUP)
        srv.start_campaign(CAMPAIGN)
        await took_part(srv, HEARS)
        hears = srv.emulator.handset(HEARS)
        hears.set_behaviour(call_outcome="no-answer")
        add_outcome(srv, AT_ONCE)
        await hears.wait_for_call(20)
        row = await srv.wait_until(
            lambda: srv.store.one(
                "SELECT * FROM notices WHERE status = 'pending' AND reason = 'no-answer'"
            ),
            what="the retry",
        )
        assert row["tries"] == 1 and row["due_at"] > srv.store.now()


def whisper_config() -> str:
    from kanavat.voice.models import assemble_whisper_base

    model = assemble_whisper_base()
    return EXAMPLE_CONFIG.read_text(encoding="utf-8").replace(
        'model = "models/whisper-base"', f'model = "{model}"'
    )


async def test_suggestion_said_on_the_phone_answered_by_a_call(tmp_path: Path) -> None:
    said = ulaw_encode(
        pad(to_telephone(speak("lisää penkkejä puistoon", "fi", speed=130)), 0.3, 1.5)
    )
    caller = "+358401249999"
    async with running_server(tmp_path, config_text=whisper_config()) as srv:
        handset = srv.emulator.handset(caller)

        async def resident(line) -> None:  # type: ignore[no-untyped-def]
            await line.wait_mark("loop.suggestion_intro")
            await line.say(said)
            await line.wait_mark(None, 60)  # the thanks (the call's second mark)

        call = await handset.call(script=resident)
        await call.wait_ended(90)
        assert call.marks == ["loop.suggestion_intro", "loop.suggestion_thanks~2"]
        row = await srv.wait_until(lambda: srv.store.one("SELECT * FROM suggestions"), what="it")
        assert row["channel"] == "voice" and row["language"] == "fi"
        assert "penk" in row["text"].lower(), row["text"]
        assert not list(tmp_path.rglob("*.wav"))  # the audio is not kept (store_recordings off)
        assert not (tmp_path / "recordings").exists()
        srv.cli("suggestions", "route", str(row["id"]), "palvelut")
        handset.set_behaviour(script=[Wait("answer.1"), Press("9"), Wait()])
        srv.cli("suggestions", "answer", str(row["id"]), "Puistoon tulee kolme penkkiä.")
        assert await handset.wait_for_call(1) is call  # its own call comes first
        answer_call = await handset.wait_for_call(20)
        await answer_call.wait_ended(60)
        assert answer_call.marks[0] == "answer.1" and len(answer_call.audio["answer.1"]) > 8000
        await srv.wait_until(
            lambda: srv.count("SELECT id FROM notices WHERE kind = 'answer' AND status = 'told'"),
            what="the answer told",
        )


async def test_suggestion_audio_kept_with_store_recordings_then_erased(tmp_path: Path) -> None:
    """``store_recordings`` on: the caller's audio of the suggestion is kept beside it, a data
    request says so, and the resident's erasure deletes it with the text (off: see above)."""
    import soundfile

    said = ulaw_encode(
        pad(to_telephone(speak("lisää penkkejä puistoon", "fi", speed=130)), 0.3, 1.5)
    )
    caller = "+358401249998"
    config = whisper_config().replace(
        'erasure = "anonymise"', 'erasure = "anonymise"\nstore_recordings = true'
    )
    async with running_server(tmp_path, config_text=config) as srv:

        async def resident(line) -> None:  # type: ignore[no-untyped-def]
            await line.wait_mark("loop.suggestion_intro")
            await line.say(said)
            await line.wait_mark(None, 60)

        call = await srv.emulator.handset(caller).call(script=resident)
        await call.wait_ended(90)
        row = await srv.wait_until(lambda: srv.store.one("SELECT * FROM suggestions"), what="it")
        assert "penk" in row["text"].lower(), row["text"]
        kept = tmp_path / "recordings" / "_suggestions" / f"{row['id']}.wav"
        assert kept.is_file(), sorted(p.name for p in tmp_path.rglob("*.wav"))
        info = soundfile.info(str(kept))
        assert info.samplerate == 8000 and info.subtype == "ULAW"
        assert info.frames >= len(said)  # all that was said (and what came before it)
        shown = srv.cli("person", "show", caller).output
        assert "äänite" in shown
        srv.cli("person", "forget", caller, "--yes")
        assert not kept.exists()
        assert srv.store.one("SELECT text FROM suggestions")["text"] is None  # type: ignore[index]


async def test_recorded_outcome_message_is_what_the_call_plays(tmp_path: Path) -> None:
    """``kanavat voices`` lists the outcome's message and the loop's prompts to record; a
    recording put in place and built in is what the resident then hears, not espeak-ng."""
    from click.testing import CliRunner

    from kanavat.cli import main as cli_main
    from kanavat.voice import prompts
    from kanavat.voice.audio import load_prompt_ulaw

    async with running_server(tmp_path) as srv:
        srv.import_contacts({HEARS: "fi"}, group=GROUP)
        srv.start_campaign(CAMPAIGN)
        await took_part(srv, HEARS)
        await srv.stop()  # recorded before the server tells it
        add_outcome(srv)
        config = ["--config", str(srv.config_path), "--lang", "fi"]
        before = CliRunner().invoke(cli_main, ["voices", "check", *config]).output
        for missing in (
            "fi/outcome.1.wav",
            "fi/loop.repeat_hint.wav",
            "fi/loop.suggestion_intro.wav",
        ):
            assert f"{missing}: missing" in before, before
        person = speak(f"Vanhusneuvosto päätti: {MESSAGE}", "fi", voice="fi+m3", speed=150)
        voices = tmp_path / "voices"
        (voices / "fi").mkdir(parents=True, exist_ok=True)
        recording = voices / "fi" / "outcome.1.wav"
        recording.write_bytes(person.read_bytes())
        built = srv.cli("voices", "build", "--lang", "fi").output
        assert "1 recordings added" in built, built
        entry = prompts.load_manifest(voices)["fi/outcome.1.wav"]
        assert entry.source == "recorded" and entry.belongs_to == (f"{CAMPAIGN}/outcome.1",)
        assert "fi/loop.goodbye.placeholder.wav" in prompts.load_manifest(voices)
        await srv.start()
        call = await srv.emulator.handset(HEARS).wait_for_call(20)  # silent, then hangs up
        await call.wait_ended(60)
        assert call.marks[0] == "outcome.1"
        assert call.audio["outcome.1"].startswith(load_prompt_ulaw(recording))
        await srv.wait_until(
            lambda: srv.count("SELECT id FROM notices WHERE status = 'told'"), what="told"
        )
