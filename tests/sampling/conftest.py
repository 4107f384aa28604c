"""A county's resident pool of 10,000 contacts with age group and municipality, built once
per session in a template database and copied for each test (real SQLite throughout)."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_clock import Clock

from kanavat import config as configuration
from kanavat.contacts import upsert_contact
from kanavat.outreach import campaigns
from kanavat.store import Store

POOL = 10_000
GROUP = "asukaspooli"
AGES = {"18-39": 35, "40-64": 38, "65-74": 15, "75+": 12}
TOWNS = {"Kuopio": 60, "Iisalmi": 14, "Varkaus": 13, "Suonenjoki": 8, "Rautavaara": 5}

CONFIG = f"""
[county]
name = "Testin hyvinvointialue"
languages = ["fi", "sv", "en"]

[server]
database = "kanavat.db"

[questionnaires.pika]
title = {{ fi = "Pikakysely", sv = "Snabbenkät", en = "Quick survey" }}
intro = {{ fi = "Hei!", sv = "Hej!", en = "Hello!" }}
outro = {{ fi = "Kiitos!", sv = "Tack!", en = "Thank you!" }}

[[questionnaires.pika.questions]]
id = "arvio"
type = "scale"
min = 1
max = 5
text = {{ fi = "Arvio 1-5?", sv = "Betyg 1-5?", en = "Rating 1-5?" }}

[campaigns.asukaskysely-2027]
questionnaire = "pika"
council = "vanhusneuvosto"
channels = ["sms"]
audience = {{ group = "{GROUP}", sample = 600, stratify = ["age_group", "municipality"], seed = 2027 }}

[campaigns.toinen-siemen]
questionnaire = "pika"
council = "vanhusneuvosto"
channels = ["sms"]
audience = {{ group = "{GROUP}", sample = 600, stratify = ["age_group", "municipality"], seed = 2028 }}

[campaigns.koko-ryhma]
questionnaire = "pika"
council = "vanhusneuvosto"
channels = ["sms"]
audience = {{ group = "{GROUP}", stratify = ["age_group"] }}
"""


def build_pool(store: Store, size: int = POOL, seed: int = 1) -> None:
    rng = random.Random(seed)
    with store.transaction():
        for i in range(size):
            attributes = {
                "age_group": rng.choices(list(AGES), weights=list(AGES.values()))[0],
                "municipality": rng.choices(list(TOWNS), weights=list(TOWNS.values()))[0],
            }
            upsert_contact(store, f"+35840{1000000 + i}", "fi", attributes, GROUP)


@pytest.fixture(scope="session")
def pool_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pool") / "pool.db"
    store = Store(path)
    build_pool(store)
    store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


@dataclass
class County:
    config: configuration.Config
    config_path: Path
    store: Store
    clock: Clock


@pytest.fixture
def county(tmp_path: Path, pool_template: Path) -> Iterator[County]:
    """The test config in tmp_path with a copy of the 10,000-contact pool as its database."""
    config_path = tmp_path / "config.toml"
    config_path.write_text(CONFIG, encoding="utf-8")
    shutil.copy(pool_template, tmp_path / "kanavat.db")
    config = configuration.load(config_path, env={})
    clock = Clock()
    store = Store(config.database_path, clock=clock)
    campaigns.sync(store, config)
    yield County(config, config_path, store, clock)
    store.close()
