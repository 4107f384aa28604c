"""Reports for councils: what a campaign's residents said, with reach, rates and privacy.

``build.build_report`` makes one plain dict (the JSON output) with every small cell already
suppressed; ``html``, ``json_out`` and ``csv_out`` only render it. ``routes`` serves the HTML
to officials, ``cli`` is the ``kanavat report`` command. Nothing here writes to the store.
"""
