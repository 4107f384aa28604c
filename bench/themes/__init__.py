"""Free-text themes (issue 21): accuracy on the team's labelled corpus and the cost of 10,000
answers. ``python -m bench --only themes``; the parts: :mod:`bench.themes.accuracy`,
:mod:`bench.themes.scale`, :mod:`bench.themes.report` (its RESULTS.md section)."""
