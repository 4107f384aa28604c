"""kanavat's benchmarks: ``python -m bench`` (see ``bench/__main__.py``); results in RESULTS.md.

Not part of the product and not collected by pytest: performance is measured here and only
here, never asserted in tests.
"""
