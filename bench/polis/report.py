"""The opinion-groups section of bench/RESULTS.md."""

from __future__ import annotations

from typing import Any


def _ari(value: Any) -> str:
    return "" if value is None else f"{value:.3f}"


def section(found: dict[str, Any]) -> list[str]:
    if "error" in found:
        return [f"Failed: {found['error']}", ""]
    lines = [
        "Adjusted Rand index of the recovered groups against the latent groups (1.0 = exact; "
        "participants not grouped count as their own group). Oracle: Bayes assignment knowing "
        "every latent group's vote probabilities. red-dwarf: an independent implementation of "
        "Polis as published. Ours: Polis's map and base clusters, refined on the votes by a "
        "latent class model (kanavat/opinions/latent.py). Representative: reported "
        "representative statements on which the matched latent group votes that way at least "
        "20 points more than the other groups. Consensus: reported consensus statements that "
        "every latent group holds by majority, of those reported. Seeds 1-3 were used while "
        "tuning; 4-6 are held out. Accuracy does not depend on machine load.",
        "",
        "| split | seed | population | groups (latent / ours / red-dwarf) | ARI ours | oracle | "
        "red-dwarf | representative right | consensus right |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in found["rows"]:
        lines.append(
            f"| {row['split']} | {row['seed']} | {row['population']} | {row['latent_groups']} / "
            f"{row['ours_groups']} / {row['red_dwarf_groups']} | {_ari(row.get('ari_ours'))} | "
            f"{_ari(row.get('ari_oracle'))} | {_ari(row.get('ari_red_dwarf'))} | "
            f"{row['representative_right']}/{row['representative_total']} | "
            f"{row['consensus_right']}/{row['consensus_reported']} |"
        )
    lines += ["", "Goals (every population):", ""]
    lines += [f"- {goal}: {'met' if ok else 'missed'}" for goal, ok in found["goals"].items()]
    return [*lines, ""]
