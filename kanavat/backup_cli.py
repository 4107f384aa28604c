"""``kanavat store backup|restore|migrate|copy``: thin commands over ``kanavat.backup``, the
migrations and ``kanavat.copy``. Register with ``main.add_command(store)``. Nothing personal
is printed."""

from __future__ import annotations

from pathlib import Path

import click

from kanavat import backup as backup_mod
from kanavat import migrations
from kanavat.cliutil import config_option, load_config
from kanavat.config import Config


@click.group("store")
def store() -> None:
    """The store: backups and restores (SQLite), migrations, copying SQLite to PostgreSQL."""


def _sqlite_file(config: Config, command: str) -> Path:
    if config.server.is_postgres:
        raise click.ClickException(
            f"kanavat store {command} is for a SQLite store; [server] database is PostgreSQL: "
            "back it up with pg_dump or the server's own backups (docs/deploy.md)"
        )
    return config.database_path


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
    if if_exists and config.server.is_postgres:  # the unit's start-time backup
        click.echo("the store is PostgreSQL: backed up by the database (docs/deploy.md)", err=True)
        return
    database = _sqlite_file(config, "backup")
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
    database = _sqlite_file(config, "restore")
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
    from kanavat.store import Store

    config = load_config(config_path)
    if not config.server.is_postgres:
        config.database_path.parent.mkdir(parents=True, exist_ok=True)
    database = config.database
    before = migrations.version_at(database)
    opened = Store(database, secret=config.server.secret)
    after = opened.schema_version
    opened.close()
    change = f"{before} -> {after}" if after != before else f"{after}, up to date"
    click.echo(f"store {_shown(database)}: schema {change}")


def _shown(location: str) -> str:
    """A store's location without a password."""
    from urllib.parse import urlsplit

    parts = urlsplit(location)
    if parts.password is None:
        return location
    return location.replace(f":{parts.password}@", ":***@", 1)


@store.command("copy")
@click.argument("source", metavar="SQLITE", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("target", metavar="POSTGRES_URL")
def store_copy(source: Path, target: str) -> None:
    """Copy a county's SQLite store into an empty PostgreSQL database, verified by counts.

    Every table's rows are copied in one transaction (ids kept); then each table's row count
    in PostgreSQL is compared with the SQLite file's, and any difference fails the command
    (the transaction is rolled back and nothing is left half-copied). Stop kanavat serve first.

    Example: kanavat store copy /var/lib/kanavat/kanavat.db postgresql://kanavat@db/pirkanmaa
    """
    from kanavat import copy as copy_mod

    try:
        counts = copy_mod.copy_store(source, target)
    except copy_mod.CopyError as exc:
        raise click.ClickException(str(exc)) from None
    for table, n in counts.items():
        click.echo(f"{table}\t{n}")
    click.echo(
        f"copied {sum(counts.values())} rows in {len(counts)} tables to {_shown(target)}: "
        "every count matches"
    )
