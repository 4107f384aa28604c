"""``kanavat store copy SQLITE POSTGRES_URL``: a populated county store (the report tests'
generated county) into a real PostgreSQL database, verified by counts; refused into a
database that is not empty; numbering continues after the copied ids."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from click.testing import CliRunner

from bench.pg_cluster import PostgresServer
from kanavat.cli import main
from kanavat.contacts import upsert_contact
from kanavat.store import Store

sys.path.insert(0, str(Path(__file__).parent / "report"))
from fixture import generate, make_config


def counts(store: Store) -> dict[str, int]:
    record = store.backend.migrations_table
    return {
        t: store.one(f"SELECT count(*) AS n FROM {t}")["n"]  # type: ignore[index]
        for t in store.tables()
        if t != record
    }


def test_copy_a_county_store(tmp_path: Path, postgres_server: PostgresServer) -> None:
    config = make_config(tmp_path)
    truth = generate(config)
    source = config.database_path
    url = postgres_server.fresh_database()
    try:
        result = CliRunner().invoke(main, ["store", "copy", str(source), url])
        assert result.exit_code == 0, result.output
        assert "every count matches" in result.output
        sqlite, pg = Store(source), Store(url)
        assert counts(pg) == counts(sqlite)
        assert counts(pg)["answers"] >= truth.answers > 100
        assert pg.setting("pseudonym_key") == sqlite.setting("pseudonym_key")
        first = "SELECT * FROM answers ORDER BY id LIMIT 5"
        assert pg.query(first) == sqlite.query(first)
        before = pg.one("SELECT max(id) AS m FROM contacts")["m"]  # type: ignore[index]
        assert upsert_contact(pg, "+358409999999", "fi", {}, None) == "added"
        assert pg.one("SELECT max(id) AS m FROM contacts")["m"] == before + 1  # type: ignore[index]
        again = CliRunner().invoke(main, ["store", "copy", str(source), url])
        assert again.exit_code == 1 and "the target is not empty" in again.output
        sqlite.close()
        pg.close()
    finally:
        postgres_server.drop(url)


def test_copy_refuses_what_it_cannot_copy(tmp_path: Path) -> None:
    missing = CliRunner().invoke(
        main, ["store", "copy", str(tmp_path / "no.db"), "postgresql://h/d"]
    )
    assert missing.exit_code == 1 and "no SQLite store at" in missing.output
    Store(tmp_path / "k.db").close()
    wrong = CliRunner().invoke(main, ["store", "copy", str(tmp_path / "k.db"), "k2.db"])
    assert wrong.exit_code == 1 and "must be a postgresql:// URL" in wrong.output


def test_sqlite_only_commands_say_so_on_postgresql(tmp_path: Path, config_copy: Path) -> None:
    text = config_copy.read_text(encoding="utf-8")
    url = "postgresql://kanavat@127.0.0.1:9/none"
    config_copy.write_text(text.replace('database = "kanavat.db"', f'database = "{url}"'))
    at = ["--config", str(config_copy)]
    backup = CliRunner().invoke(main, ["store", "backup", str(tmp_path / "b.db"), *at])
    assert backup.exit_code == 1 and "back it up with pg_dump" in backup.output
    at_start = CliRunner().invoke(main, ["store", "backup", "--if-exists", *at])
    assert at_start.exit_code == 0 and "backed up by the database" in at_start.output
    restore = CliRunner().invoke(main, ["store", "restore", "x.db", "--yes", *at])
    assert restore.exit_code == 1 and "is for a SQLite store" in restore.output


def test_an_unreachable_database_is_named_without_its_password(config_copy: Path) -> None:
    text = config_copy.read_text(encoding="utf-8")
    config_copy.write_text(text.replace('database = "kanavat.db"', 'database = "env:KANAVAT_DB"'))
    env = {"KANAVAT_DB": "postgresql://kanavat:hunter2@127.0.0.1:9/pirkanmaa"}
    result = CliRunner().invoke(main, ["campaign", "list", "--config", str(config_copy)], env=env)
    assert result.exit_code == 1, result.output
    assert "cannot open the PostgreSQL store 127.0.0.1:9/pirkanmaa" in result.output
    assert "hunter2" not in result.output


def test_the_copied_county_reports_the_same(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """The council report (portable SQL: windows, not SQLite's bare columns) from the SQLite
    store and from its PostgreSQL copy: the same figures."""
    from fixture import FEEDBACK, SAMPLED

    config = make_config(tmp_path)
    generate(config)
    url = postgres_server.fresh_database()
    try:
        assert (
            CliRunner().invoke(main, ["store", "copy", str(config.database_path), url]).exit_code
            == 0
        )
        text = (tmp_path / "config.toml").read_text(encoding="utf-8")
        pg_config = tmp_path / "pg.toml"
        pg_config.write_text(text.replace(str(config.database_path), url), encoding="utf-8")
        assert url in pg_config.read_text(encoding="utf-8")
        for campaign in (SAMPLED, FEEDBACK):
            reports = [
                CliRunner().invoke(
                    main, ["report", campaign, "--format", "json", "--config", str(path)]
                )
                for path in (tmp_path / "config.toml", pg_config)
            ]
            assert [r.exit_code for r in reports] == [0, 0], reports[1].output[-2000:]
            sqlite, pg = (json.loads(r.output) for r in reports)
            for found in (sqlite, pg):
                found.pop("generated_at", None)
            assert pg == sqlite
        for command in (["export", SAMPLED], ["campaign", "status", SAMPLED]):
            outputs = [
                CliRunner().invoke(main, [*command, "--config", str(path)])
                for path in (tmp_path / "config.toml", pg_config)
            ]
            assert [r.exit_code for r in outputs] == [0, 0], outputs[1].output[-2000:]
            assert outputs[1].output == outputs[0].output
    finally:
        postgres_server.drop(url)


def test_a_copy_that_fails_part_way_leaves_the_target_empty(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """One transaction: rows already copied are rolled back with the table that failed
    (a number SQLite kept as text in an INTEGER column, which PostgreSQL refuses)."""
    source = tmp_path / "k.db"
    sqlite = Store(source)
    assert upsert_contact(sqlite, "+358401234567", "fi", {}, None) == "added"
    sqlite.execute(
        "INSERT INTO events(received_at, channel, kind, external_id, payload, tries) "
        "VALUES ('2027-01-01', 'sms', 'inbound', 'SMx', '{}', 'not a number')"
    )
    sqlite.close()
    url = postgres_server.fresh_database()
    try:
        result = CliRunner().invoke(main, ["store", "copy", str(source), url])
        assert result.exit_code == 1 and "table events" in result.output, result.output
        pg = Store(url, secret="s")
        assert {t: n for t, n in counts(pg).items() if n} == {}
        pg.close()
    finally:
        postgres_server.drop(url)
