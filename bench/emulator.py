"""The Twilio emulator in its own process, for benchmarks whose server sends SMS.

``python -m bench.emulator PORT TOKEN SMS_URL [no-callbacks]`` serves the emulator (the same one ``kanavat
serve`` starts when there is no ``[twilio]`` section) on ``PORT`` with the benchmark's
account and token, accelerated so that delivery statuses come back at once. It runs apart
from the server so its CPU is not counted as the server's. ``no-callbacks``: delivery statuses
are not posted back (a diagnostic: what they cost the machine).
"""

from __future__ import annotations

import asyncio
import gc
import signal
import sys

import uvloop

from bench.common import ACCOUNT_SID, CALLER_ID

# Twilio's side keeps every message it has handled, and so does the emulator: at 1,000
# answers/s some 200,000 long-lived objects a minute. With Python's default thresholds its
# full collections came about once a second, grew to 0.2-0.8 s each and took 41 % of its CPU
# over four 20 s levels; delivery callbacks queued behind them (10,000 tasks) and reached
# the server in bursts. Young collections every 50,000 net new objects instead of 700, and a
# full one after 100 middle ones instead of 10, keep it at a steady 0.4 cores (the server
# makes its own young collections rarer too, ``kanavat.server.YOUNG_GC_THRESHOLD``).
COLLECTOR_THRESHOLDS = (50_000, 20, 100)


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
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    uvloop.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3], callbacks))
