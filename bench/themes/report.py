"""The themes section of bench/RESULTS.md."""

from __future__ import annotations

from typing import Any

GOALS = {"ari": 0.4, "purity": 0.65, "seeded": 0.8}
FIRST_LOOK = (
    "The held-out part was first run (once) at 12:36 UTC with the first settings (the "
    "question's top two principal directions removed, seeded threshold 0.05): ARI 0.15, "
    "purity 0.50, seeded 53 %. The space and the seeded threshold were changed afterwards "
    "for faults found on subsets of the development part and in the tests (few-topic "
    "questions lost their topics; one seeded theme took unrelated answers), not on it; the "
    "figures below are its second run. A later look (issue 21's follow-up, 15:30-16:35 "
    "UTC) studied the method by cross-validation within the development part only (random "
    "160-answer subsets, three- and four-topic subsets): a threshold set by quantiles of "
    "the question's distances, silhouette-chosen numbers of themes, whitening, lexical and "
    "sparse-latent mixes and a rejection threshold relative to the question's answers were "
    "tried and not kept (kanavat/themes/cluster.py, seeded.py say why); the least size of a "
    "proposed theme became 1 % of the answers past 400, which leaves both parts unchanged. "
    "The held-out part, measured once more after that, gave the same figures."
)
SECOND_LOOK = (
    "Issue 21's third look (themes3, 18:40-19:02 UTC): the seeded evaluation was checked "
    "(examples drawn from the part being scored, the same ten themes and names, '-' answers "
    "not scored, an unassigned answer counted wrong; assigned as the product assigns). On "
    "the first held-out part even each answer's nearest example was right for only 42 %, so "
    "the figure was the embeddings', not the scoring's. Tried on the development part only: "
    "a lexical view (TF-IDF of baseforms, character 3-5-grams) mixed into the similarity, "
    "HDBSCAN, label spreading from the seeds (not kept); kept: each answer embedded as its "
    "whole text plus its content words (stopwords and fillers out; settings commit fad4b5a). "
    "A second held-out part (160 answers, same labels and styles) was then written and "
    "committed after that commit (e6c9515) and run once. The first held-out part is no longer "
    "unseen: its figures were known before the change."
)
THIRD_LOOK = (
    "Issue 21's fourth look (themes4, 21:40-22:15 UTC): seeded assignment was studied by "
    "cross-validation within the development part only (`python -m bench.themes.seeded_cv`: "
    "the whole part, random 160-answer subsets, three of ten themes seeded, three-topic "
    "subsets; 30 draws each). On 160-answer subsets, a held-out part's size, the previous "
    "settings put only 76.7 % in the right theme against 82.2 % on the whole part: the gap to "
    "the held-out parts was mostly their size. Kept (kanavat/themes/seeded.py has the table): "
    "themes proposed from what fits none compete for the answers in every round, so the "
    "'fits none' cosine could fall from 0.2 to 0.07 without a seeded theme taking the answers "
    "of topics nobody seeded, and each answer's cosines are moved towards those of its five "
    "nearest answers, weighted by how near they are (development: 82.2 -> 87.6 % on the whole "
    "part, 76.7 -> 84.6 % on 160-answer subsets, precision with three of ten seeded 65 -> "
    "69 %). Not kept: the nearest example blended with the centre, a lexical channel of "
    "Voikko/Snowball baseforms, the name embedded differently, confident-only self-training. "
    "Settings commit 4dc152e; the third held-out part (170 answers, the development part's "
    "labels and styles, fresh text) was written after it, committed on its own (e4fc452) and "
    "run once, in this run. The second held-out part's figures before this change were 77.9 % "
    "seeded (worst draw 74.2 %); it was not looked at while choosing. Found in this run and "
    "then checked on the development part only: with three of ten themes seeded on a "
    "held-out part's size, fewer of the answers joining a seeded theme are its own (held-out "
    "2: 55 %, 67 % before). 160-answer subsets of the development part show the same (54 % "
    "against 66 % with the previous settings; `seeded_cv`'s some-160, added after this run), "
    "which the choice had not looked at: on a partly seeded question of that size the change "
    "trades precision for recall (90 % of a seeded theme's answers join it, 81 % before). A "
    "lead not adopted (the held-out figures describe 4dc152e): proposals found among all "
    "answers, those far from every seeded theme competing from the first round, raised that "
    "precision to 76 % but cost 4 points with every theme seeded."
)
PARTS = (
    ("dev", "Development part"),
    ("heldout", "First held-out part (written before the first settings; seen since)"),
    ("heldout2", "Second held-out part (written after the third look's settings commit)"),
    ("heldout3", "Third held-out part (written after the fourth look's settings commit 4dc152e)"),
)


def _row(name: str, s: dict[str, Any]) -> str:
    return f"| {name} | {s['ari']:.2f} | {s['purity']:.2f} | {s['coverage']:.0%} | {s['themes']} |"


def side_by_side(found: dict[str, Any]) -> list[str]:
    """Every part in one table: unaided, the k-means baselines, seeded."""
    lines = [
        "All parts side by side (this run):",
        "",
        "| part | answers | ARI | purity | k-means ARI (raw E5) | k-means ARI (themes' space) "
        "| seeded right | worst draw | 3 of 10 seeded: precision |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for part, _ in PARTS:
        if part not in found:
            continue
        p = found[part]
        f, s, some = p["themes_found"], p["seeded"], p.get("seeded_some", {})
        lines.append(
            f"| {part} | {p['answers']} | {f['ari']:.2f} | {f['purity']:.2f} "
            f"| {p['kmeans']['ari']:.2f} | {p['kmeans_space']['ari']:.2f} "
            f"| {s['accuracy']:.1%} | {s['worst']:.1%} "
            f"| {some.get('precision', float('nan')):.0%} |"
        )
    return [*lines, ""]


def section(found: dict[str, Any]) -> list[str]:
    if "error" in found:
        return [f"Failed: {found['error']}", ""]
    lines = [
        "Labelled corpus written by the team (`bench/themes/corpus_*.tsv`): Finnish and Swedish "
        "answers on county topics, web, SMS and Whisper-like transcripts. Settings were chosen "
        "on the development part; the first held-out part was written before that (in other "
        "voices: relatives, long stories, dialect, damaged transcripts), the second after the "
        "settings of the third look were committed and the third after those of the fourth "
        "(both in the development part's styles). ARI counts all strays as one group; purity "
        "is over the answers placed in a "
        "theme. k-means is told the true number of themes. Goals: ARI >= 0.4 and purity >= "
        "0.65 unaided, >= 80 % right once seeded with three examples per theme.",
        "",
        FIRST_LOOK,
        "",
        SECOND_LOOK,
        "",
        THIRD_LOOK,
        "",
        *side_by_side(found),
    ]
    for part, title in PARTS:
        if part not in found:
            continue
        p = found[part]
        s, e, some = p["seeded"], p["seeded_examples_only"], p.get("seeded_some")
        lines += [
            f"{title}: {p['answers']} answers, {p['labels']} themes.",
            "",
            "| method | ARI | purity | coverage | themes |",
            "| --- | ---: | ---: | ---: | ---: |",
            _row("kanavat themes (unaided)", p["themes_found"]),
            *(
                [_row("previous method (whole texts, cut 0.93)", p["previous"])]
                if "previous" in p
                else []
            ),
            _row("k-means on the raw E5 embeddings of the whole texts", p["kmeans"]),
            *(
                [
                    _row(
                        "k-means on the themes' embeddings (whole + content words)",
                        p["kmeans_content"],
                    )
                ]
                if "kmeans_content" in p
                else []
            ),
            _row("k-means on the themes' space (centred, axes out)", p["kmeans_space"]),
            "",
            f"Seeded with {s['examples']} examples and a name per theme: {s['accuracy']:.1%} in "
            f"the right theme (worst of {s['draws']} draws {s['worst']:.1%}); examples without "
            f"names {e['accuracy']:.1%}."
            + (
                f" With only {some['seeded_themes']} of the themes seeded, "
                f"{some['precision']:.0%} of the answers joining them are theirs and "
                f"{some['accuracy']:.0%} of theirs join them."
                if some
                else ""
            )
            + (
                f" Each answer given its nearest example's theme: {s['nearest_example']:.1%}; the "
                f'product\'s rounds with no "fits none": {s["no_threshold"]:.1%}.'
                if "nearest_example" in s
                else ""
            ),
            "",
        ]
    if "scale" in found:
        sc = found["scale"]
        lines += [
            f"Scale: {sc['answers']:,} different answers themed in {sc['total_seconds']:.0f} s: "
            f"{sc['embed_seconds']:.0f} s embedding ({sc.get('embed_ms_per_answer', 0):.0f} ms "
            f"an answer, {sc.get('embed_cpu_seconds', 0):.0f} CPU seconds), then kept in the "
            f"store ({sc.get('store_seconds', 0):.1f} s), read back as a later report does "
            f"({sc.get('read_seconds', 0):.1f} s) and themed ({sc['themes_seconds']:.1f} s "
            f"clustering and words); peak memory {sc['peak_rss_mb']:.0f} MB, {sc['themes']} "
            f"themes, {sc['strays']} strays"
            + (
                f"; with three themes seeded, themed again in {sc['seeded_seconds']:.1f} s "
                f"({sc['seeded_assigned']:,} answers joined them)"
                if "seeded_seconds" in sc
                else ""
            )
            + f". Load average {sc['load_at_start'][0]:.2f} at the "
            "start (a timing under load needs an idle re-measure: "
            "`python -m bench --only themes --output bench/RESULTS.md`).",
            "",
        ]
    return lines


def target_rows(found: dict[str, Any]) -> list[str]:
    rows = []
    for part, _ in PARTS:
        if part not in found:
            continue
        f, s = found[part]["themes_found"], found[part]["seeded"]
        ok = f["ari"] >= GOALS["ari"] and f["purity"] >= GOALS["purity"]
        rows.append(
            f"| themes unaided ({part}) | ARI >= 0.4, purity >= 0.65 | ARI {f['ari']:.2f}, "
            f"purity {f['purity']:.2f} | {'met' if ok else 'missed'} |"
        )
        rows.append(
            f"| themes seeded ({part}) | >= 80 % | {s['accuracy']:.1%} | "
            f"{'met' if s['accuracy'] >= GOALS['seeded'] else 'missed'} |"
        )
    return rows
