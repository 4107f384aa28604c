"""Without the Finnish dictionary kanavat still understands answers (Snowball's stemmer) and
says once, in the log, which packages to install: no traceback at exit (a failed
``Voikko("fi")`` used to leave one from ``Voikko.__del__``)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import logging, sys
logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
import libvoikko
libvoikko.Voikko.listDicts = staticmethod(lambda path=None: [])  # as on a machine without voikko-fi
from kanavat.questions import morphology
assert not morphology.voikko_available()
print("ok")
"""


def test_no_finnish_dictionary_is_a_hint_not_a_traceback() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "ok"
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert "apt-get install libvoikko1 voikko-fi" in done.stderr
