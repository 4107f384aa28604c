"""The vote matrix: participants by statements, agree +1, disagree -1, pass 0, not seen NaN.

A pass is a vote (the participant saw the statement and chose not to take a side); "not heard"
is not, so it stays missing. Only the latest vote of a participant on a statement counts; the
caller gives votes in time order and later ones overwrite earlier ones.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import numpy as np

AGREE = 1.0
DISAGREE = -1.0
PASS = 0.0
VOTE_VALUES = {"agree": AGREE, "disagree": DISAGREE, "pass": PASS}


@dataclass(frozen=True)
class VoteMatrix:
    participants: tuple[Hashable, ...]
    statements: tuple[Hashable, ...]
    values: np.ndarray  # float, shape (participants, statements), NaN where not voted

    @classmethod
    def from_votes(
        cls,
        votes: Iterable[tuple[Hashable, Hashable, float | str]],
        statements: Iterable[Hashable] | None = None,
    ) -> VoteMatrix:
        """Build from (participant, statement, vote) in time order; the latest vote counts.

        ``statements`` fixes the columns (e.g. all accepted statements, voted or not); votes on
        other statements (rejected ones) are left out.
        """
        latest: dict[tuple[Hashable, Hashable], float] = {}
        for participant, statement, vote in votes:
            latest[(participant, statement)] = (
                VOTE_VALUES[vote] if isinstance(vote, str) else float(vote)
            )
        if statements is None:
            columns = tuple(dict.fromkeys(s for _, s in latest))
        else:
            columns = tuple(dict.fromkeys(statements))
        column_of = {s: j for j, s in enumerate(columns)}
        rows = tuple(dict.fromkeys(p for p, s in latest if s in column_of))
        row_of = {p: i for i, p in enumerate(rows)}
        values = np.full((len(rows), len(columns)), np.nan)
        for (participant, statement), vote in latest.items():
            if statement in column_of:
                values[row_of[participant], column_of[statement]] = vote
        return cls(rows, columns, values)

    @property
    def voted(self) -> np.ndarray:
        return ~np.isnan(self.values)

    def votes_per_participant(self) -> np.ndarray:
        return self.voted.sum(axis=1)

    def counts(self, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Agrees, disagrees and votes seen (passes included) per statement, over ``rows``."""
        values = self.values if rows is None else self.values[rows]
        agree = (values == AGREE).sum(axis=0)
        disagree = (values == DISAGREE).sum(axis=0)
        seen = (~np.isnan(values)).sum(axis=0)
        return agree, disagree, seen
