"""Simulated conversation populations with known latent opinion groups.

Each statement has, for each latent group, probabilities of agree / disagree / pass. Built in:
consensus statements (every group agrees, or every group disagrees), each group's signature
statements (the group agrees and the others disagree), and divisive statements with a random
stance per group. Phone participants vote on 7-10 statements, the others (SMS, chat) on 12 to
all; a "full" population votes on everything; a population with no groups has one profile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STATEMENTS = 30
CONSENSUS_AGREE = (0, 1, 2)
CONSENSUS_DISAGREE = (3,)
SIGNATURES_PER_GROUP = 2
LEANS = {
    "agree": (0.72, 0.18, 0.10),
    "disagree": (0.18, 0.72, 0.10),
    "split": (0.42, 0.42, 0.16),
}
SHARES = {1: (1.0,), 3: (0.45, 0.35, 0.20), 4: (0.35, 0.28, 0.22, 0.15)}
PHONE_SHARE = 0.4
VOTES = ("agree", "disagree", "pass")


@dataclass(frozen=True)
class Population:
    name: str
    groups: int  # latent groups; 1 means no group structure
    probabilities: np.ndarray  # (groups, statements, 3): agree, disagree, pass
    shares: tuple[float, ...]
    truth: np.ndarray  # latent group per participant
    votes: list[tuple[int, int, str]]  # (participant, statement, vote) in time order
    channels: tuple[str, ...]
    signatures: dict[int, tuple[int, ...]]  # latent group -> statements only it agrees with


def profiles(
    groups: int, rng: np.random.Generator
) -> tuple[np.ndarray, dict[int, tuple[int, ...]]]:
    probabilities = np.zeros((groups, STATEMENTS, 3))
    signatures: dict[int, tuple[int, ...]] = {}
    next_free = len(CONSENSUS_AGREE) + len(CONSENSUS_DISAGREE)
    for statement in CONSENSUS_AGREE:
        probabilities[:, statement] = (0.85, 0.07, 0.08)
    for statement in CONSENSUS_DISAGREE:
        probabilities[:, statement] = (0.08, 0.84, 0.08)
    if groups > 1:
        for group in range(groups):
            owned = tuple(range(next_free, next_free + SIGNATURES_PER_GROUP))
            next_free += SIGNATURES_PER_GROUP
            signatures[group] = owned
            for statement in owned:
                probabilities[:, statement] = LEANS["disagree"]
                probabilities[group, statement] = (0.88, 0.05, 0.07)
    for statement in range(next_free, STATEMENTS):
        if groups == 1:
            probabilities[0, statement] = LEANS[rng.choice(list(LEANS))]
            continue
        while True:
            stances = rng.choice(["agree", "disagree", "split"], size=groups, p=(0.4, 0.4, 0.2))
            if len(set(stances)) > 1:  # a divisive statement divides
                break
        for group, stance in enumerate(stances):
            probabilities[group, statement] = LEANS[str(stance)]
    return probabilities, signatures


def build(
    name: str, groups: int, participants: int, everyone_votes_all: bool, seed: int
) -> Population:
    rng = np.random.default_rng(seed)
    probabilities, signatures = profiles(groups, rng)
    shares = SHARES[groups]
    truth = rng.choice(groups, size=participants, p=shares)
    channels: list[str] = []
    votes: list[tuple[int, int, str]] = []
    for person in range(participants):
        if everyone_votes_all:
            channel, count = rng.choice(["voice", "sms", "chat"]), STATEMENTS
        elif rng.random() < PHONE_SHARE:
            channel, count = "voice", int(rng.integers(7, 11))
        else:
            channel, count = rng.choice(["sms", "chat"]), int(rng.integers(12, STATEMENTS + 1))
        channels.append(str(channel))
        for statement in rng.choice(STATEMENTS, size=count, replace=False):
            vote = rng.choice(VOTES, p=probabilities[truth[person], statement])
            votes.append((person, int(statement), str(vote)))
    return Population(
        name, groups, probabilities, shares, truth, votes, tuple(channels), signatures
    )


def catalogue(seed: int, quick: bool = False) -> list[Population]:
    """The populations the issue names, built from one seed."""
    sizes = (200,) if quick else (200, 2000)
    found = []
    for groups in (3, 4):
        for size in sizes:
            for full in (False, True):
                kind = "full" if full else "mixed"
                found.append(build(f"{groups} groups, {size}, {kind}", groups, size, full, seed))
    for size in sizes:
        found.append(build(f"no groups, {size}, mixed", 1, size, False, seed))
    return found
