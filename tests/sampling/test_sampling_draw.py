"""The draw: proportional by largest remainders, reproducible from its seed, recorded."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from kanavat import config as configuration
from kanavat import optouts
from kanavat.outreach import audience, campaigns, sampling

CAMPAIGN = "asukaskysely-2027"


def pool_by_stratum(store) -> Counter:
    return Counter(
        sampling.stratum_of(json.loads(r["attributes"]), ["age_group", "municipality"])
        for r in store.query("SELECT attributes FROM contacts")
    )


def drawn(store, campaign: str = CAMPAIGN) -> dict[int, str]:
    return {
        r["contact_id"]: r["stratum"]
        for r in store.query(
            "SELECT contact_id, stratum FROM campaign_contacts WHERE campaign_id = ?", [campaign]
        )
    }


def test_largest_remainder_by_hand() -> None:
    # Exact shares 2.5, 1.5, 1.0: floors 2+1+1, the seat left goes to the larger of the tie.
    assert sampling.allocate({"a": 5, "b": 3, "c": 2}, 5) == {"a": 3, "b": 1, "c": 1}
    # Shares 0.49, 0.49, 0.02 of 3 seats: 1.47, 1.47, 0.06 -> 1, 1, 0 and one seat by label.
    assert sampling.allocate({"x": 49, "y": 49, "z": 2}, 3) == {"x": 2, "y": 1, "z": 0}
    assert sampling.allocate({"a": 7}, 7) == {"a": 7}
    with pytest.raises(sampling.SampleError):
        sampling.allocate({"a": 3}, 4)


def test_draw_is_proportional_and_recorded(county) -> None:
    store, config = county.store, county.config
    added = audience.enrol(store, config, CAMPAIGN)
    assert added == 600
    pool = pool_by_stratum(store)
    assert sum(pool.values()) == 10_000 and len(pool) == 20
    got = Counter(drawn(store).values())
    assert got == sampling.allocate(pool, 600) | {h: 0 for h in pool if h not in got}
    for h, n in pool.items():
        assert abs(got[h] - 600 * n / 10_000) < 1, h  # quota property of Hamilton's method
    # Each drawn contact is in the stratum its own attributes say, in "age|municipality" form.
    for r in store.query(
        "SELECT cc.stratum, c.attributes FROM campaign_contacts cc JOIN contacts c "
        "ON c.id = cc.contact_id WHERE cc.campaign_id = ?",
        [CAMPAIGN],
    ):
        a = json.loads(r["attributes"])
        assert r["stratum"] == f"{a['age_group']}|{a['municipality']}"
    strata = store.query("SELECT * FROM sample_strata WHERE campaign_id = ?", [CAMPAIGN])
    assert sum(s["allocation"] for s in strata) == 600
    assert all(s["target"] == s["allocation"] for s in strata)
    assert all(s["reserve"] == min(s["allocation"], s["pool"] - s["allocation"]) for s in strata)
    head = store.one("SELECT * FROM samples WHERE campaign_id = ?", [CAMPAIGN])
    assert (head["seed"], head["size"], head["pool"]) == (2027, 600, 10_000)
    # Drawing again changes nothing.
    assert audience.enrol(store, config, CAMPAIGN) == 0
    assert store.one("SELECT count(*) AS n FROM sample_draws")["n"] == 600 + sum(
        s["reserve"] for s in strata
    )


def test_same_seed_same_sample_other_seed_other_sample(county, tmp_path, pool_template) -> None:
    store, config = county.store, county.config
    audience.enrol(store, config, CAMPAIGN)
    audience.enrol(store, config, "toinen-siemen")
    first, other = drawn(store), drawn(store, "toinen-siemen")
    assert Counter(first.values()) == Counter(other.values())  # same allocation
    assert len(set(first) & set(other)) < 200  # ~36 expected by chance; not the same people

    # A fresh copy of the pool, the same seed: exactly the same people, stratum by stratum.
    from kanavat.store import Store

    again_path = tmp_path / "again.db"
    again_path.write_bytes(pool_template.read_bytes())
    again = Store(again_path)
    campaigns.sync(again, config)
    audience.enrol(again, config, CAMPAIGN)
    assert drawn(again) == first
    again.close()


def test_a_drawn_sample_is_fixed(county) -> None:
    store, config = county.store, county.config
    audience.enrol(store, config, CAMPAIGN)
    changed = configuration.loads(
        county.config_path.read_text().replace("seed = 2027", "seed = 99"),
        path=county.config_path,
    )
    with pytest.raises(sampling.SampleError, match="seed = 2027"):
        audience.enrol(store, changed, CAMPAIGN)


def test_opted_out_never_drawn(county) -> None:
    store, config = county.store, county.config
    opted = [r["phone"] for r in store.query("SELECT phone FROM contacts LIMIT 500")]
    for phone in opted:
        optouts.opt_out(store, phone, "sms")
    audience.enrol(store, config, CAMPAIGN)
    ids = {r["id"] for r in store.query("SELECT id FROM contacts LIMIT 500")}
    assert not ids & set(drawn(store))
    assert not ids & {r["contact_id"] for r in store.query("SELECT contact_id FROM sample_draws")}


def test_whole_group_with_strata_and_event_campaigns(county) -> None:
    store, config = county.store, county.config
    assert audience.enrol(store, config, "koko-ryhma") == 10_000
    labels = Counter(drawn(store, "koko-ryhma").values())
    assert set(labels) == {"18-39", "40-64", "65-74", "75+"}
    assert store.one("SELECT count(*) AS n FROM samples")["n"] == 0


def test_sample_larger_than_pool_is_a_clear_error(county) -> None:
    text = county.config_path.read_text().replace("sample = 600", "sample = 20000", 1)
    config = configuration.loads(text, path=county.config_path)
    with pytest.raises(sampling.SampleError, match="20000 is more than the 10000 contacts"):
        audience.enrol(county.store, config, CAMPAIGN)
    assert county.store.one("SELECT count(*) AS n FROM samples")["n"] == 0
