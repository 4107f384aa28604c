"""Small cells are hidden everywhere, and never recoverable from a total by subtraction."""

from __future__ import annotations

from typing import Any

from kanavat.report import suppress

from . import fixture

K = 5


def test_subtraction_case_hides_a_complement():
    # 3 people said "no": hiding only that cell would leave 25 - 10 - 12 = 3 readable.
    cells = {"yes": 12, "no": 3, "dk": 10, "total": 25}
    hidden = suppress.protect(cells, [list(cells)], K, totals=["total"])
    assert hidden == {"no", "dk"}


def test_two_way_table_protects_rows_and_columns():
    rows = {"A": {"yes": 20, "no": 2}, "B": {"yes": 30, "no": 15}, "C": {"yes": 25, "no": 12}}
    hidden = suppress.table(rows, K)
    assert ("A", "no") in hidden
    for line in (
        [("A", "yes"), ("A", "no"), ("A", "__total__")],
        [("A", "no"), ("B", "no"), ("C", "no"), ("__total__", "no")],
    ):
        assert sum(1 for k in line if k in hidden) != 1


def test_small_row_hidden_whole_with_a_complement_row():
    rows = {"tiny": {"yes": 3, "no": 0}, "big": {"yes": 40, "no": 30}, "mid": {"yes": 20, "no": 9}}
    hidden = suppress.table(rows, K)
    assert {("tiny", "yes"), ("tiny", "no"), ("tiny", "__total__")} <= hidden
    assert ("mid", "__total__") in hidden, "the smallest other row is the complement"


def _lines(q: dict[str, Any]) -> list[list[Any]]:
    """Each published additive relation of a question: its main row, every group row, and
    every breakdown column with its total from the main table."""
    main = [c["count"] for c in q["categories"]] + [q["n"]]
    lines = [main]
    for b in q["breakdowns"]:
        for g in b["groups"]:
            lines.append([c["count"] for c in g["cells"]] + [g["n"]])
        for i, c in enumerate(q["categories"]):
            lines.append([g["cells"][i]["count"] for g in b["groups"]] + [c["count"]])
        lines.append([g["n"] for g in b["groups"]] + [q["n"]])
    return lines


def test_no_relation_in_the_report_hides_exactly_one_cell(sampled):
    for q in sampled["questions"]:
        if "categories" not in q:
            continue
        for line in _lines(q):
            assert sum(1 for v in line if v is None) != 1, (q["id"], line)


def test_tiny_municipality_and_a_complement_hidden(sampled):
    for q in sampled["questions"]:
        if "breakdowns" not in q or not q["breakdowns"]:
            continue
        by = next(b for b in q["breakdowns"] if b["by"] == "municipality")
        tiny = next(g for g in by["groups"] if g["group"] == fixture.TINY)
        assert tiny["suppressed"] and tiny["n"] is None
        assert all(c["count"] is None and c["estimate"] is None for c in tiny["cells"])
        others = [g for g in by["groups"] if g["group"] != fixture.TINY and g["n"] is None]
        assert others, "without a second hidden group, the tiny one = total - the others"


def _visible_counts(node: Any, path: str = ""):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("count", "n") and isinstance(value, int):
                yield f"{path}.{key}", value
            else:
                yield from _visible_counts(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _visible_counts(value, f"{path}[{i}]")


def test_every_visible_count_is_zero_or_at_least_min_cell(sampled):
    small = [(p, v) for p, v in _visible_counts(sampled) if 0 < v < K]
    assert small == []


def test_min_cell_is_configurable(world):
    config = world.config.model_copy(
        update={"privacy": world.config.privacy.model_copy(update={"min_cell": 120})}
    )
    store = world.store()
    try:
        from kanavat.report.build import build_report

        report = build_report(store, config, fixture.SAMPLED)
    finally:
        store.close()
    assert report["privacy"]["min_cell"] == 120
    assert not [(p, v) for p, v in _visible_counts(report) if 0 < v < 120]
    arki = next(q for q in report["questions"] if q["id"] == "arki")
    by = next(b for b in arki["breakdowns"] if b["by"] == "municipality")
    assert sum(1 for g in by["groups"] if g["suppressed"]) >= 2


def test_csv_shows_no_small_number(world):
    import csv
    import io

    from kanavat.report import csv_out

    out = io.StringIO()
    csv_out.write(out, world.report())
    for row in csv.DictReader(io.StringIO(out.getvalue())):
        if row["section"] not in ("stratum",) and row["count"]:
            assert not 0 < int(row["count"]) < K, row
        if row["suppressed"] == "1":
            assert row["count"] == "" and row["share"] == "" and row["estimate"] == ""
