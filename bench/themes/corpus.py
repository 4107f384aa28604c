"""The labelled corpus: ``corpus_dev.tsv`` (settings were chosen on it),
``corpus_heldout.tsv`` (written before the first settings were chosen; its figures have since
been seen, so it is no longer unseen) and ``corpus_heldout2.tsv`` (written after the settings
of the content-word embeddings were chosen and committed, in a commit of its own after them)
and ``corpus_heldout3.tsv`` (written after the seeded-assignment settings were chosen on the
development part and committed, 4dc152e, in a commit of its own after them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PARTS = {
    "dev": HERE / "corpus_dev.tsv",
    "heldout": HERE / "corpus_heldout.tsv",
    "heldout2": HERE / "corpus_heldout2.tsv",
    "heldout3": HERE / "corpus_heldout3.tsv",
}
NONE = "-"
"""The label of an answer that fits no theme ("en osaa sanoa", "ok")."""
THEME_NAMES = {
    "jonot": "puhelinjonot",
    "kotihoito": "kotihoito",
    "liikenne": "liikenne ja kuljetus",
    "digi": "digitaaliset palvelut",
    "yksinaisyys": "yksinäisyys",
    "lahipalvelut": "lähipalvelut ja terveysasemien sulkeminen",
    "maksut": "asiakasmaksut",
    "kieli": "palvelu ruotsiksi ja omalla kielellä",
    "omaishoito": "omaishoitajat",
    "nuoret_mieli": "nuorten mielenterveys",
}
"""The names an official would give the corpus's themes when seeding them."""


CHANNEL_OF_STYLE = {"web": "chat", "sms": "sms", "voice": "voice"}
"""The channel an answer of each style comes by (the space takes channel differences out)."""


@dataclass(frozen=True)
class Labelled:
    label: str
    language: str
    style: str
    text: str

    @property
    def channel(self) -> str:
        return CHANNEL_OF_STYLE[self.style]


def load(part: str) -> list[Labelled]:
    rows = []
    lines = [x for x in PARTS[part].read_text(encoding="utf-8").splitlines() if x.strip()]
    lines = [x for x in lines if not x.startswith("#")]
    header = lines[0].split("\t")
    if header != ["label", "lang", "style", "text"]:
        raise ValueError(f"{PARTS[part]}: unexpected header {header}")
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != 4:
            raise ValueError(f"{PARTS[part]}: row {number} has {len(fields)} fields, not 4")
        rows.append(Labelled(*fields))
    return rows
