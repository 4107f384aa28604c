"""The Twilio emulator in its own process, for benchmarks whose server sends SMS.

``python -m bench.emulator PORT TOKEN SMS_URL [no-callbacks]`` serves the emulator (the same one ``kanavat
serve`` starts when there is no ``[twilio]`` section) on ``PORT`` with the benchmark's
account and token, accelerated so that delivery statuses come back at once. It runs apart
from the server so its CPU is not counted as the server's. ``no-callbacks``: delivery statuses
are not posted back (a diagnostic: what they cost the machine).
"""

from __future__ import annotations

import asyncio
import signal
import sys

import uvloop

from bench.common import ACCOUNT_SID, CALLER_ID


async def main(port: int, token: str, sms_url: str, callbacks: bool = True) -> None:
    from kanavat.emulator import EmulatorSettings, running_emulator

    settings = EmulatorSettings(
        account_sid=ACCOUNT_SID,
        auth_token=token,
        phone_number=CALLER_ID,
        sms_url=sms_url,
        speed=50.0,
        status_callbacks=callbacks,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with running_emulator(settings, port=port):
        print("ready", flush=True)
        await stop.wait()


if __name__ == "__main__":
    callbacks = sys.argv[4:5] != ["no-callbacks"]
    uvloop.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3], callbacks))
