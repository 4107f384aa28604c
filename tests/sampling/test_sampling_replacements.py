"""Replacements from the same stratum until its reserve is spent; quotas close strata; the
``kanavat campaign sample`` view of it all."""

from __future__ import annotations

from click.testing import CliRunner

from kanavat import optouts
from kanavat.outreach import audience, queue, sampling
from kanavat.outreach.commands import sample

CAMPAIGN = "asukaskysely-2027"


def finish(store, contact_id: int, disposition: str) -> None:
    """What the dispatcher, outcomes or conversations write when a contact's outcome is final."""
    queue.finalise(store, CAMPAIGN, contact_id, disposition)


def members(store, stratum: str, disposition: str = "pending") -> list[int]:
    return [
        r["contact_id"]
        for r in store.query(
            "SELECT contact_id FROM campaign_contacts WHERE campaign_id = ? AND stratum = ? "
            "AND disposition = ? ORDER BY contact_id",
            [CAMPAIGN, stratum, disposition],
        )
    ]


def smallest_stratum(store) -> dict:
    return store.one(
        "SELECT * FROM sample_strata WHERE campaign_id = ? AND allocation >= 2 "
        "ORDER BY allocation, stratum LIMIT 1",
        [CAMPAIGN],
    )


def test_unreachable_contacts_are_replaced_from_their_stratum(county) -> None:
    store, config = county.store, county.config
    audience.enrol(store, config, CAMPAIGN)
    stratum = "75+|Kuopio"
    first, second, third, fourth = members(store, stratum)[:4]
    reserve_order = [
        r["contact_id"]
        for r in store.query(
            "SELECT contact_id FROM sample_draws WHERE campaign_id = ? AND stratum = ? "
            "AND role = 'reserve' ORDER BY rank",
            [CAMPAIGN, stratum],
        )
    ]
    finish(store, first, "non_contact")  # attempts exhausted
    county.clock.advance(hours=1)
    new = sampling.on_final(store, config, CAMPAIGN, first, "non_contact")
    assert new == reserve_order[0]
    row = store.one(
        "SELECT stratum, disposition, next_due_at FROM campaign_contacts "
        "WHERE campaign_id = ? AND contact_id = ?",
        [CAMPAIGN, new],
    )
    assert row == {"stratum": stratum, "disposition": "pending", "next_due_at": store.now()}
    # Called again (a retried hook, or the sweep): no second replacement.
    assert sampling.on_final(store, config, CAMPAIGN, first, "non_contact") is None

    finish(store, second, "not_eligible")  # an invalid number
    assert sampling.on_final(store, config, CAMPAIGN, second, "not_eligible") == reserve_order[1]

    # An opt-out (the dispatcher writes "refusal") is replaced; a plain refusal is not.
    phone = store.one("SELECT phone FROM contacts WHERE id = ?", [third])["phone"]
    optouts.opt_out(store, phone, "sms")
    finish(store, third, "refusal")
    assert sampling.on_final(store, config, CAMPAIGN, third, "refusal") == reserve_order[2]
    finish(store, fourth, "refusal")
    assert sampling.on_final(store, config, CAMPAIGN, fourth, "refusal") is None

    # A reserve who opted out before their turn is passed over, and counted as such.
    skipped = store.one("SELECT phone FROM contacts WHERE id = ?", [reserve_order[3]])["phone"]
    optouts.opt_out(store, skipped, "sms")
    fifth = members(store, stratum)[0]
    finish(store, fifth, "non_contact")
    assert sampling.on_final(store, config, CAMPAIGN, fifth, "non_contact") == reserve_order[4]
    replaced = store.query(
        "SELECT contact_id, replaces FROM sample_draws WHERE campaign_id = ? "
        "AND replaces IS NOT NULL ORDER BY rank",
        [CAMPAIGN],
    )
    assert replaced == [
        {"contact_id": reserve_order[0], "replaces": first},
        {"contact_id": reserve_order[1], "replaces": second},
        {"contact_id": reserve_order[2], "replaces": third},
        {"contact_id": reserve_order[4], "replaces": fifth},
    ]


def test_replacements_stop_when_the_reserve_is_spent(county) -> None:
    store, config = county.store, county.config
    audience.enrol(store, config, CAMPAIGN)
    s = smallest_stratum(store)
    replacements = 0
    for _ in range(s["allocation"] + s["reserve"] + 3):
        pending = members(store, s["stratum"])
        if not pending:
            break
        finish(store, pending[0], "non_contact")
        if sampling.on_final(store, config, CAMPAIGN, pending[0], "non_contact") is not None:
            replacements += 1
    assert replacements == s["reserve"]
    assert members(store, s["stratum"]) == []
    assert len(members(store, s["stratum"], "non_contact")) == s["allocation"] + s["reserve"]
    # Other strata were untouched.
    assert (
        store.one(
            "SELECT count(*) AS n FROM campaign_contacts WHERE campaign_id = ? AND stratum != ?",
            [CAMPAIGN, s["stratum"]],
        )["n"]
        == 600 - s["allocation"]
    )


def test_a_stratum_that_meets_its_target_stops(county) -> None:
    store, config = county.store, county.config
    audience.enrol(store, config, CAMPAIGN)
    s = smallest_stratum(store)
    drawn = members(store, s["stratum"])
    *answered, late = drawn
    for contact in answered:
        finish(store, contact, "complete")
        sampling.on_final(store, config, CAMPAIGN, contact, "complete")
    assert not sampling.stratum_closed(store, CAMPAIGN, s["stratum"])
    # The last one is never reached and is replaced ...
    finish(store, late, "non_contact")
    stand_in = sampling.on_final(store, config, CAMPAIGN, late, "non_contact")
    assert stand_in is not None
    # ... then calls back and answers after all: the target is met, the stand-in is stopped.
    finish(store, late, "complete")
    sampling.on_final(store, config, CAMPAIGN, late, "complete")
    assert sampling.stratum_closed(store, CAMPAIGN, s["stratum"])
    assert members(store, s["stratum"]) == []
    assert members(store, s["stratum"], "quota_filled") == [stand_in]
    # No dispatcher picks it: it is not pending and has nothing due.
    row = store.one(
        "SELECT next_due_at FROM campaign_contacts WHERE campaign_id = ? AND contact_id = ?",
        [CAMPAIGN, stand_in],
    )
    assert row["next_due_at"] is None
    # A closed stratum replaces nobody.
    other = drawn[0]
    finish(store, other, "non_contact")
    assert sampling.on_final(store, config, CAMPAIGN, other, "non_contact") is None


def test_sweep_catches_up_on_missed_hooks(county) -> None:
    store, config = county.store, county.config
    audience.enrol(store, config, CAMPAIGN)
    lost = [
        r["contact_id"]
        for r in store.query(
            "SELECT contact_id FROM campaign_contacts WHERE campaign_id = ? ORDER BY contact_id "
            "LIMIT 25",
            [CAMPAIGN],
        )
    ]
    for contact in lost:
        finish(store, contact, "non_contact")
    assert sampling.sweep(store, config, CAMPAIGN) == 25
    assert sampling.sweep(store, config, CAMPAIGN) == 0
    assert (
        store.one(
            "SELECT count(*) AS n FROM campaign_contacts WHERE campaign_id = ? AND disposition = "
            "'pending'",
            [CAMPAIGN],
        )["n"]
        == 600
    )


def test_campaign_sample_command(county) -> None:
    store, config = county.store, county.config
    args = [CAMPAIGN, "--config", str(county.config_path)]
    before = CliRunner().invoke(sample, args)
    assert before.exit_code == 0, before.output
    assert "not drawn yet: allocation preview" in before.output
    assert "seed 2027" in before.output

    audience.enrol(store, config, CAMPAIGN)
    s = smallest_stratum(store)
    *answered, late = members(store, s["stratum"])
    for contact in answered:
        finish(store, contact, "complete")
    finish(store, late, "non_contact")
    sampling.on_final(store, config, CAMPAIGN, late, "non_contact")
    finish(store, late, "complete")
    sampling.on_final(store, config, CAMPAIGN, late, "complete")

    out = CliRunner().invoke(sample, args)
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0] == (
        f"{CAMPAIGN}: sample of 600 from group 'asukaspooli' (pool 10000), "
        "stratified by age_group, municipality, seed 2027"
    )
    assert lines[1].startswith("drawn 2027-02-03T10:00:00.000Z")
    assert lines[2].split() == [
        "stratum",
        "pool",
        "drawn",
        "replaced",
        "reserve",
        "left",
        "completes",
        "status",
    ]
    assert len(lines) == 3 + 20 + 1  # title, drawn, header, 20 strata, total
    row = next(line.split() for line in lines if line.startswith(s["stratum"] + " "))
    n, r = s["allocation"], s["reserve"]
    assert row == [s["stratum"], str(s["pool"]), str(n), "1", f"{r - 1}/{r}", f"{n}/{n}", "closed"]
    total = lines[-1].split()
    assert total[:4] == ["total", "10000", "600", "1"]
    assert total[-2:] == ["1", "closed"]
    assert "+358" not in out.output

    whole = CliRunner().invoke(sample, ["koko-ryhma", "--config", str(county.config_path)])
    assert whole.exit_code == 1 and "takes its whole audience" in whole.output
