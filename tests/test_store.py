"""The SQLite store on real files: migrations, WAL, pseudonyms, events, opt-outs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from kanavat import inbound, migrations, optouts
from kanavat.store import Store, iso

pytestmark = pytest.mark.both_backends


def tables(store: Store) -> set[str]:
    return set(store.tables())


def test_migrations_apply_on_a_fresh_db(store: Store) -> None:
    assert {"contacts", "campaigns", "sessions", "answers", "events", "opt_outs"} <= tables(store)
    assert store.schema_version == len(migrations.MIGRATIONS) >= 1
    assert store.integrity_ok()


def test_reapplying_is_a_no_op(database: str) -> None:
    first = Store(database, secret="s")
    first.set_setting("marker", "kept")
    version = first.schema_version
    first.close()
    again = Store(database, secret="s")
    assert again.schema_version == version
    assert again.setting("marker") == "kept"
    migrations.apply(again)
    assert again.schema_version == version
    again.close()


def test_a_store_made_by_sqlite_utils_migrations_still_opens(tmp_path: Path) -> None:
    """Stores deployed before our runner recorded migrations with sqlite_utils: same table."""
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

    old = Migrations("kanavat")
    for fn in migrations.MIGRATIONS[:6]:
        old(name=fn.__name__)(lambda db, fn=fn: fn(migrations.Schema(_SqliteOnly(db))))
    db = Database(tmp_path / "old.db")
    old.apply(db)
    db.conn.close()
    store = Store(tmp_path / "old.db", secret="s")
    assert store.schema_version == len(migrations.MIGRATIONS)
    names = [r["name"] for r in store.query("SELECT name FROM _sqlite_migrations ORDER BY id")]
    assert names == [fn.__name__ for fn in migrations.MIGRATIONS]
    assert store.integrity_ok()
    store.close()


class _SqliteOnly:
    """Just enough of a Store for a migration run by sqlite_utils (the old runner)."""

    dialect = "sqlite"

    def __init__(self, db) -> None:  # type: ignore[no-untyped-def]
        self.db = db
        self.backend = self

    def ddl(self, sql: str) -> str:
        return sql

    def execute(self, sql: str) -> None:
        self.db.execute(sql)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_wal_mode(store: Store) -> None:
    assert store.one("PRAGMA journal_mode")["journal_mode"] == "wal"
    assert store.one("PRAGMA foreign_keys")["foreign_keys"] == 1


def test_pseudonyms(tmp_path: Path) -> None:
    a = Store(tmp_path / "a.db", secret="key-one")
    b = Store(tmp_path / "b.db", secret="key-two")
    p = a.pseudonym("vanhukset-2027", "17")
    assert p == a.pseudonym("vanhukset-2027", "17")  # stable
    assert p.startswith("r") and len(p) == 13
    assert p != a.pseudonym("nuoret-2027", "17")  # unlinkable across campaigns
    assert p != a.pseudonym("vanhukset-2027", "18")
    assert p != b.pseudonym("vanhukset-2027", "17")  # keyed
    a.close()
    b.close()


def test_without_a_secret_a_key_is_kept_in_the_store(tmp_path: Path) -> None:
    first = Store(tmp_path / "k.db")
    p = first.pseudonym("c", "1")
    key = first.setting("pseudonym_key")
    first.close()
    again = Store(tmp_path / "k.db")
    assert again.setting("pseudonym_key") == key and len(key or "") == 64
    assert again.pseudonym("c", "1") == p
    again.close()
    other = Store(tmp_path / "other.db")
    assert other.pseudonym("c", "1") != p
    other.close()


def test_an_event_key_seen_again_is_handled_or_still_to_handle(store: Store) -> None:
    first = inbound.record(store, "sms", "inbound", "SM123", {"Body": "3"})
    assert first.new and not first.handled
    again = inbound.record(store, "sms", "inbound", "SM123", {"Body": "3"})
    assert (again.id, again.new, again.handled) == (first.id, False, False)  # handle it now
    assert inbound.record(store, "sms", "status", "SM123", {}).new  # another kind
    assert inbound.record(store, "voice", "inbound", "SM123", {}).new  # another channel
    inbound.finish(store, first.id, "answered")
    done = inbound.record(store, "sms", "inbound", "SM123", {"Body": "3"})
    assert done.handled and done.outcome == "answered"
    row = store.one("SELECT outcome, handled_at FROM events WHERE id = ?", [first.id])
    assert row["outcome"] == "answered" and row["handled_at"]
    assert store.one("SELECT count(*) AS n FROM events")["n"] == 3


def test_opt_outs(store: Store) -> None:
    assert not optouts.is_opted_out(store, "+358401234567")
    assert optouts.opt_out(store, "+358401234567", "sms STOP") is True
    assert optouts.opt_out(store, "+358401234567", "call") is False
    assert optouts.is_opted_out(store, "+358401234567")
    assert not optouts.is_opted_out(store, "+358401234568")


def test_transaction_rolls_back(store: Store) -> None:
    try:
        with store.transaction():
            store.set_setting("a", "1")
            with store.transaction():  # nested joins the outer one
                store.set_setting("b", "2")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert store.setting("a") is None and store.setting("b") is None
    with store.transaction():
        store.set_setting("a", "1")
    assert store.setting("a") == "1"


def test_clock_is_injected(tmp_path: Path) -> None:
    moment = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)
    s = Store(tmp_path / "k.db", secret="s", clock=lambda: moment)
    assert s.now() == "2027-01-11T08:00:00.000Z" == iso(moment)
    s.close()


def test_integrity_check(store: Store) -> None:
    assert store.integrity_ok()


def test_a_write_nobody_reads_lands_with_its_transaction(store: Store) -> None:
    """``Store.write``: read back within the transaction, committed with it, gone with it."""
    with store.transaction("contact:1"):
        store.write("INSERT INTO settings(key, value) VALUES (?, ?)", ["w", "50% done"])
        assert store.setting("w") == "50% done"  # the next statement sees it
        store.write("UPDATE settings SET value = ? WHERE key = ?", ["all 'done'", "w"])
    assert store.setting("w") == "all 'done'"
    with pytest.raises(RuntimeError), store.transaction("contact:1"):
        store.write("UPDATE settings SET value = ? WHERE key = ?", ["undone", "w"])
        raise RuntimeError("boom")
    assert store.setting("w") == "all 'done'"
    store.write("UPDATE settings SET value = ? WHERE key = ?", ["alone", "w"])  # at once
    assert store.setting("w") == "alone"


def test_a_failing_write_fails_its_transaction(store: Store) -> None:
    """A write sent with a later statement fails the transaction there: nothing lands."""
    store.set_setting("k", "first")
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), store.transaction():
        store.set_setting("other", "x")
        store.write("INSERT INTO settings(key, value) VALUES (?, ?)", ["k", "again"])
        store.set_setting("after", "y")
    assert store.setting("other") is None and store.setting("after") is None
    assert store.setting("k") == "first"
    store.set_setting("then", "fine")  # the connection carries on
    assert store.setting("then") == "fine"


def test_round_trips_of_a_turn_shaped_transaction(store: Store) -> None:
    """On PostgreSQL a transaction's BEGIN and locks go with its first statement and a write
    nobody reads goes with the COMMIT: a read, two such writes and the commit are two round
    trips (not six). In process (SQLite) there are none to count."""
    store.set_setting("n", "0")
    before = store.round_trips
    with store.transaction("contact:1", "event:x"):
        assert store.setting("n") == "0"
        store.write("UPDATE settings SET value = ? WHERE key = ?", ["1", "n"])
        store.write("INSERT INTO settings(key, value) VALUES (?, ?)", ["m", "2"])
    assert store.round_trips - before == (2 if store.is_postgres else 0)
    assert (store.setting("n"), store.setting("m")) == ("1", "2")
