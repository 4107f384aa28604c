"""What residents say to each closed question of ``hyvinvointi``, with the value it means.

Each phrasing has a form (the category a figure is reported by) and whether it is held out:
held-out phrasings are only ever heard in the held-out part, so no setting is chosen on them.
A ``|`` marks where a hesitating speaker may pause inside the answer ("ehkä | kolme").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Form categories, as the issue lists them.
FORMS = (
    "plain",
    "colloquial",
    "inflected",
    "hedged",
    "sentence",
    "echo",
    "frequency",
    "scale_word",
    "dont_know",
)


@dataclass(frozen=True)
class Phrasing:
    question: str
    text: str  # "|" marks a place to pause inside the answer
    value: Any  # what the dialog must store
    form: str
    held_out: bool = False

    @property
    def said(self) -> str:
        return " ".join(self.text.replace("|", " ").split())


H = True  # held out: heard only in the held-out part

_FI: list[tuple[str, str, Any, str, bool]] = [
    # arki: scale 1-5, "yksi on huonosti ja viisi on hyvin"
    ("arki", "yksi", 1, "plain", False),
    ("arki", "kaksi", 2, "plain", False),
    ("arki", "kolme", 3, "plain", False),
    ("arki", "neljä", 4, "plain", False),
    ("arki", "viisi", 5, "plain", False),
    ("arki", "ykkönen", 1, "colloquial", False),
    ("arki", "kolmonen", 3, "colloquial", False),
    ("arki", "nelonen", 4, "colloquial", False),
    ("arki", "vitonen", 5, "colloquial", H),
    ("arki", "kakkonen", 2, "colloquial", H),
    ("arki", "hyvin", 5, "scale_word", False),
    ("arki", "huonosti", 1, "scale_word", False),
    ("arki", "oikein | hyvin", 5, "scale_word", H),
    ("arki", "ehkä | kolme", 3, "hedged", False),
    ("arki", "kai | neljä", 4, "hedged", False),
    ("arki", "varmaan | kaksi", 2, "hedged", H),
    ("arki", "sanoisin että | neljä", 4, "sentence", False),
    ("arki", "kyllä se on | kolme", 3, "sentence", False),
    ("arki", "laittaisin | viisi", 5, "sentence", H),
    ("arki", "en osaa sanoa", "dont_know", "dont_know", False),
    ("arki", "en tiedä", "dont_know", "dont_know", H),
    # apu: yes/no, "Saatko apua arjen asioihin, kun tarvitset?"
    ("apu", "kyllä", "yes", "plain", False),
    ("apu", "ei", "no", "plain", False),
    ("apu", "joo", "yes", "colloquial", False),
    ("apu", "juu", "yes", "colloquial", False),
    ("apu", "ei oo", "no", "colloquial", H),
    ("apu", "saan", "yes", "echo", False),
    ("apu", "en saa", "no", "echo", False),
    ("apu", "saan | kyllä", "yes", "echo", H),
    ("apu", "kyllä | varmaan", "yes", "hedged", False),
    ("apu", "ei | kai", "no", "hedged", False),
    ("apu", "kai minä | saan", "yes", "hedged", H),
    ("apu", "kyllä minä | saan", "yes", "sentence", False),
    ("apu", "en minä | saa", "no", "sentence", False),
    ("apu", "en | oikeastaan saa", "no", "sentence", H),
    ("apu", "en osaa sanoa", "dont_know", "dont_know", False),
    ("apu", "en tiedä", "dont_know", "dont_know", H),
    # apu_mista: choice; omainen / naapuri tai ystävä / kotihoito / joku muu
    ("apu_mista", "omainen", "omainen", "plain", False),
    ("apu_mista", "naapuri", "naapuri", "plain", False),
    ("apu_mista", "kotihoito", "kotihoito", "plain", False),
    ("apu_mista", "joku muu", "muu", "plain", False),
    ("apu_mista", "tytär", "omainen", "plain", False),
    ("apu_mista", "ystävä", "naapuri", "plain", False),
    ("apu_mista", "hoitaja", "kotihoito", "plain", H),
    ("apu_mista", "tyttäreltä", "omainen", "inflected", False),
    ("apu_mista", "naapurilta", "naapuri", "inflected", False),
    ("apu_mista", "kotihoidosta", "kotihoito", "inflected", False),
    ("apu_mista", "pojalta", "omainen", "inflected", False),
    ("apu_mista", "ystävältä", "naapuri", "inflected", H),
    ("apu_mista", "kotihoitajalta", "kotihoito", "inflected", H),
    ("apu_mista", "seurakunnalta", "muu", "inflected", H),
    ("apu_mista", "varmaan | tytär", "omainen", "hedged", False),
    ("apu_mista", "ehkä | naapuri", "naapuri", "hedged", H),
    ("apu_mista", "tytär | auttaa", "omainen", "sentence", False),
    ("apu_mista", "kotihoito | käy", "kotihoito", "sentence", False),
    ("apu_mista", "naapuri | yleensä", "naapuri", "sentence", H),
    ("apu_mista", "en osaa sanoa", "dont_know", "dont_know", False),
    # yhteydet: number of days last week, 0-7
    ("yhteydet", "nolla", 0, "plain", False),
    ("yhteydet", "kaksi", 2, "plain", False),
    ("yhteydet", "kolme", 3, "plain", False),
    ("yhteydet", "viisi", 5, "plain", False),
    ("yhteydet", "kuusi", 6, "plain", False),
    ("yhteydet", "seitsemän", 7, "plain", False),
    ("yhteydet", "seiska", 7, "colloquial", False),
    ("yhteydet", "kaks", 2, "colloquial", False),
    ("yhteydet", "viis", 5, "colloquial", False),
    ("yhteydet", "kuus", 6, "colloquial", H),
    ("yhteydet", "kolmena | päivänä", 3, "inflected", False),
    ("yhteydet", "viitenä | päivänä", 5, "inflected", H),
    ("yhteydet", "ehkä | kolme", 3, "hedged", False),
    ("yhteydet", "noin | neljä", 4, "hedged", False),
    ("yhteydet", "kai | kaksi", 2, "hedged", H),
    ("yhteydet", "sanoisin että | neljä", 4, "sentence", False),
    ("yhteydet", "kolme | päivää", 3, "sentence", False),
    ("yhteydet", "joka | päivä", 7, "frequency", False),
    ("yhteydet", "kerran | viikossa", 1, "frequency", False),
    ("yhteydet", "ei | kertaakaan", 0, "frequency", False),
    ("yhteydet", "päivittäin", 7, "frequency", H),
    ("yhteydet", "kaksi | kertaa", 2, "frequency", H),
    ("yhteydet", "en osaa sanoa", "dont_know", "dont_know", False),
]

# Finland-Swedish answers to the same questions (the questionnaire's sv texts).
_SV: list[tuple[str, str, Any, str, bool]] = [
    ("arki", "ett", 1, "plain", False),
    ("arki", "två", 2, "plain", False),
    ("arki", "tre", 3, "plain", False),
    ("arki", "fyra", 4, "plain", False),
    ("arki", "fem", 5, "plain", False),
    ("arki", "en trea", 3, "colloquial", False),
    ("arki", "en femma", 5, "colloquial", H),
    ("arki", "bra", 5, "scale_word", False),
    ("arki", "dåligt", 1, "scale_word", False),
    ("arki", "riktigt | bra", 5, "scale_word", H),
    ("arki", "kanske | tre", 3, "hedged", False),
    ("arki", "nog | fyra", 4, "hedged", H),
    ("arki", "jag skulle säga | fyra", 4, "sentence", False),
    ("arki", "vet inte", "dont_know", "dont_know", False),
    ("apu", "ja", "yes", "plain", False),
    ("apu", "nej", "no", "plain", False),
    ("apu", "jo", "yes", "colloquial", False),
    ("apu", "nog", "yes", "colloquial", False),
    ("apu", "int", "no", "colloquial", False),
    ("apu", "jodå", "yes", "colloquial", H),
    ("apu", "jag får", "yes", "echo", False),
    ("apu", "jag får | int", "no", "echo", False),
    ("apu", "får | inte", "no", "echo", H),
    ("apu", "nog | får jag", "yes", "hedged", False),
    ("apu", "ja det | får jag", "yes", "sentence", False),
    ("apu", "nej | inte egentligen", "no", "sentence", H),
    ("apu", "vet inte", "dont_know", "dont_know", False),
    ("apu", "jag vet inte", "dont_know", "dont_know", H),
    ("apu_mista", "anhörig", "omainen", "plain", False),
    ("apu_mista", "granne", "naapuri", "plain", False),
    ("apu_mista", "hemvården", "kotihoito", "plain", False),
    ("apu_mista", "någon annan", "muu", "plain", False),
    ("apu_mista", "dottern", "omainen", "inflected", False),
    ("apu_mista", "grannen", "naapuri", "inflected", False),
    ("apu_mista", "hemtjänsten", "kotihoito", "inflected", H),
    ("apu_mista", "min fru", "omainen", "colloquial", False),
    ("apu_mista", "min son", "omainen", "colloquial", H),
    ("apu_mista", "kanske | grannen", "naapuri", "hedged", False),
    ("apu_mista", "dottern | hjälper", "omainen", "sentence", False),
    ("apu_mista", "vet inte", "dont_know", "dont_know", False),
    ("yhteydet", "noll", 0, "plain", False),
    ("yhteydet", "två", 2, "plain", False),
    ("yhteydet", "tre", 3, "plain", False),
    ("yhteydet", "fem", 5, "plain", False),
    ("yhteydet", "sju", 7, "plain", False),
    ("yhteydet", "sex", 6, "plain", H),
    ("yhteydet", "varje | dag", 7, "frequency", False),
    ("yhteydet", "en gång | i veckan", 1, "frequency", False),
    ("yhteydet", "dagligen", 7, "frequency", H),
    ("yhteydet", "kanske | tre", 3, "hedged", False),
    ("yhteydet", "ungefär | fyra", 4, "hedged", False),
    ("yhteydet", "nog | fem", 5, "hedged", H),
    ("yhteydet", "tre | dagar", 3, "sentence", False),
    ("yhteydet", "det blev | två dagar", 2, "sentence", H),
    ("yhteydet", "vet inte", "dont_know", "dont_know", False),
]

PHRASINGS: dict[str, tuple[Phrasing, ...]] = {
    "fi": tuple(Phrasing(*row) for row in _FI),
    "sv": tuple(Phrasing(*row) for row in _SV),
}
# What hesitating speakers say before an answer.
FILLERS = {"fi": ("öö", "tota"), "sv": ("öh", "alltså")}
