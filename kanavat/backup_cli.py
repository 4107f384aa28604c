"""``kanavat store backup|restore|migrate``: thin commands over ``kanavat.backup`` and the
migrations. Register with ``main.add_command(store)``. Nothing personal is printed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click

from kanavat import backup as backup_mod
from kanavat import migrations
from kanavat.cliutil import config_option, load_config


@click.group("store")
def store() -> None:
    """The SQLite store: online backups, restoring one, migrations."""


@store.command("backup")
@click.argument("dest", required=False)
@click.option("--keep", type=click.IntRange(min=1), default=None, help="Keep the newest N.")
@click.option(
    "--if-exists", is_flag=True, help="Succeed quietly when there is no store yet (first start)."
)
@config_option
def store_backup(
    dest: str | None, keep: int | None, if_exists: bool, config_path: Path | None
) -> None:
    """Copy the store while the server runs (SQLite's online backup), check the copy, record it.

    DEST is a file (kanavat.db.bak), or a folder (existing, ending in / or without a suffix)
    for a timestamped file; default: backups/ beside the store.
    The copy is checked with PRAGMA integrity_check and row counts, and is one file, mode 0600.
    `kanavat check --deploy` warns when the last backup is older than a day.

    Example: kanavat store backup /var/backups/kanavat/ --keep 14
    """
    config = load_config(config_path)
    database = config.database_path
    if if_exists and not database.exists():
        click.echo(f"no store yet at {database}; nothing to back up", err=True)
        return
    try:
        done = backup_mod.backup(database, dest, keep=keep)
    except backup_mod.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    rows = sum(done.tables.values())
    click.echo(
        f"backup {done.path}: {done.bytes} bytes, {len(done.tables)} tables, {rows} rows, "
        f"integrity ok, {done.seconds:.1f} s"
    )


@store.command("restore")
@click.argument("backup_file", metavar="BACKUP", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@config_option
def store_restore(backup_file: Path, yes: bool, config_path: Path | None) -> None:
    """Put a backup in the store's place; the current store is kept beside it.

    Refused while `kanavat serve` has the store open: stop the service, restore, start it
    (migrations bring an older backup up to date at start).

    Example: systemctl stop kanavat && kanavat store restore backups/kanavat-20270301T020000Z.db
    """
    config = load_config(config_path)
    database = config.database_path
    if not yes:
        click.confirm(f"Replace {database} with {backup_file}?", abort=True)
    try:
        aside = backup_mod.restore(backup_file, database)
    except backup_mod.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    kept = f"; the previous store is {aside}" if aside.exists() else ""
    click.echo(f"restored {database} from {backup_file}{kept}")


@store.command("migrate")
@config_option
def store_migrate(config_path: Path | None) -> None:
    """Bring the store's schema up to date (kanavat serve also does this at start).

    Take a backup first: `kanavat store backup`.

    Example: kanavat store backup && kanavat store migrate
    """
    from sqlite_utils import Database

    config = load_config(config_path)
    database = config.database_path
    database.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(database, isolation_level=None, timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA journal_mode=WAL")  # as the Store opens it
    try:
        db = Database(conn)
        before = migrations.schema_version(db)
        migrations.apply(db)
        after = migrations.schema_version(db)
    finally:
        conn.close()
    change = f"{before} -> {after}" if after != before else f"{after}, up to date"
    click.echo(f"store {database}: schema {change}")
