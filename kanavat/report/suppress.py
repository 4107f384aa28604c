"""Small-cell suppression with complementary suppression, for every number a report shows.

A cell with fewer than ``min_cell`` respondents (but more than none) is hidden. Hiding one
cell is not enough when a total is shown: the total minus the other cells gives it back. So
each published additive relation ("line": the cells of a row or column together with their
total) must hide either none of its cells or at least two. Where a line hides exactly one,
the smallest other cell of that line is hidden too, preferring cells that are not totals and
not zero; this repeats until no line hides exactly one cell (each round only hides more, so
it ends). This is the usual heuristic of statistical offices for tables with margins; it does
not solve the optimal cell-suppression problem, and tables of different measures are not
protected against each other.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence

Key = Hashable


def is_small(count: int, min_cell: int) -> bool:
    """Primary suppression rule: 1..min_cell-1 respondents. Zero discloses no one."""
    return 0 < count < min_cell


def protect(
    cells: Mapping[Key, int],
    lines: Iterable[Sequence[Key]],
    min_cell: int,
    *,
    totals: Iterable[Key] = (),
    forced: Iterable[Key] = (),
    together: Iterable[tuple[Key, Sequence[Key]]] = (),
) -> set[Key]:
    """The keys of the cells to hide.

    ``cells`` maps every published count (including totals) to its value; ``lines`` lists the
    additive relations a reader can use for subtraction; ``totals`` are keys that are sums
    (hidden only as a last resort); ``forced`` are hidden whatever their value (e.g. every
    cell of a group too small to show at all); each ``(key, cells)`` of ``together`` hides
    ``cells`` once ``key`` is hidden (a group whose n is hidden shows none of its cells).
    """
    lines = [list(line) for line in lines]
    groups = [(key, list(group)) for key, group in together]
    total_keys = set(totals)
    hidden = {k for k, v in cells.items() if is_small(v, min_cell)} | set(forced)
    known: set[Key] = set()
    changed = True
    while changed:
        changed = False
        for key, group in groups:
            if key in hidden and not all(k in hidden for k in group):
                hidden.update(group)
                changed = True
        for line in lines:
            # Hidden cells of a line whose shown total leaves nothing to them are zeros any
            # reader can tell: they protect nothing.
            if line[-1] not in hidden and not sum(cells[k] for k in line[:-1] if k in hidden):
                known |= {k for k in line[:-1] if k in hidden}
        for line in lines:
            if sum(1 for k in line if k in hidden and k not in known) != 1:
                continue
            candidates = [k for k in line if k not in hidden]
            if not candidates:
                continue
            pick = min(
                candidates,
                key=lambda k: (k in total_keys, cells[k] == 0, cells[k]),
            )
            hidden.add(pick)
            changed = True
    return hidden


def table(
    rows: Mapping[Key, Mapping[Key, int]],
    min_cell: int,
    *,
    row_totals: bool = True,
    column_totals: bool = True,
    small_rows_hidden: bool = True,
) -> set[tuple[Key, Key]]:
    """Protect a two-way table given as ``{row: {column: count}}``.

    Row totals are keyed ``(row, "__total__")``, column totals ``("__total__", column)`` and
    the grand total ``("__total__", "__total__")``; pass the same keys when reading back
    which cells to hide. A row whose total is below ``min_cell`` is hidden whole (zeros too),
    since a row of "0 said no" about 3 people says what each of them answered.
    """
    total = "__total__"
    columns: list[Key] = []
    for row in rows.values():
        for column in row:
            if column not in columns:
                columns.append(column)
    cells: dict[tuple[Key, Key], int] = {}
    forced: list[tuple[Key, Key]] = []
    lines: list[list[tuple[Key, Key]]] = []
    for r, row in rows.items():
        line = [(r, c) for c in columns]
        for c in columns:
            cells[(r, c)] = row.get(c, 0)
        row_sum = sum(row.values())
        if row_totals:
            cells[(r, total)] = row_sum
            line.append((r, total))
        lines.append(line)
        if small_rows_hidden and is_small(row_sum, min_cell):
            forced += line
    if column_totals:
        for c in columns:
            cells[(total, c)] = sum(row.get(c, 0) for row in rows.values())
            lines.append([*((r, c) for r in rows), (total, c)])
        if row_totals:
            cells[(total, total)] = sum(cells[(r, total)] for r in rows)
            lines.append([*((r, total) for r in rows), (total, total)])
            lines.append([*((total, c) for c in columns), (total, total)])
    totals = [k for k in cells if total in k]
    return protect(cells, lines, min_cell, totals=totals, forced=forced)
