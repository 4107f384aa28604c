"""Schema migrations: named, ordered, each applied once in a transaction with its record.

One set for both dialects. A migration is a function of a :class:`Schema`, registered with
``@migration`` at the end of this file; its SQL is SQLite's portable subset (TEXT, INTEGER,
REAL; ``id INTEGER PRIMARY KEY`` for a numbered table), which ``Schema.execute`` writes in
PostgreSQL's types there (``dialect.pg_ddl``). Something only one dialect has (a trigger) goes
under ``if db.dialect == "sqlite"``; better, keep rules in the owner's Python.

Never edit a migration that has shipped; add a new one. The record is sqlite_utils' table
(``_sqlite_migrations``, set ``kanavat``), so stores made before this runner open as they
were; PostgreSQL's is ``schema_migrations``. The schema version (``kanavat check``,
``/healthz``) is the number of migrations applied.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kanavat.store import Store

SET = "kanavat"


class Schema:
    """What a migration sees: ``execute`` (DDL or data, in the store's dialect)."""

    def __init__(self, store: Store):
        self.store = store
        self.dialect = store.dialect

    def execute(self, sql: str) -> None:
        self.store.execute(self.store.backend.ddl(sql))


Migration = Callable[[Schema], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    """Register a migration; its function name is its record, so never rename one."""
    if any(m.__name__ == fn.__name__ for m in MIGRATIONS):
        raise ValueError(f"migration {fn.__name__} is registered twice")
    MIGRATIONS.append(fn)
    return fn


def _ensure_record(store: Store) -> None:
    table = store.backend.migrations_table
    store.execute(
        store.backend.ddl(
            f"CREATE TABLE IF NOT EXISTS {table} (id INTEGER PRIMARY KEY, migration_set TEXT, "
            "name TEXT, applied_at TEXT)"
        )
    )
    store.execute(
        f"CREATE UNIQUE INDEX IF NOT EXISTS idx_{table}_migration_set_name "
        f"ON {table} (migration_set, name)"
    )


def applied(store: Store) -> list[str]:
    table = store.backend.migrations_table
    if table not in store.tables():
        return []
    rows = store.query(f"SELECT name FROM {table} WHERE migration_set = ? ORDER BY id", [SET])
    return [r["name"] for r in rows]


def schema_version(store: Store) -> int:
    return len(applied(store))


def version_at(location: str) -> int:
    """The schema version of a store not opened yet (0: none, or no store there)."""
    from kanavat import dialect

    backend = dialect.connect(location)
    try:
        table = backend.migrations_table
        if table not in backend.tables():
            return 0
        rows = backend.query(f"SELECT count(*) AS n FROM {table} WHERE migration_set = ?", [SET])
        return int(rows[0]["n"])
    finally:
        backend.close()


def apply(store: Store) -> None:
    """Apply what is pending, each in its own transaction with its record. Processes
    starting together take turns (the write lock) and each migration runs once."""
    done = set(applied(store))
    if all(m.__name__ in done for m in MIGRATIONS):
        return
    with store.transaction():
        _ensure_record(store)
    for fn in MIGRATIONS:
        with store.transaction():
            if fn.__name__ in applied(store):
                continue
            fn(Schema(store))
            store.execute(
                f"INSERT INTO {store.backend.migrations_table}(migration_set, name, applied_at) "
                "VALUES (?, ?, ?)",
                [SET, fn.__name__, str(datetime.now(UTC))],
            )
        store.backend.refresh()


@migration
def m001_core(db: Schema) -> None:
    db.execute("""
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE contacts (
            id INTEGER PRIMARY KEY,
            phone TEXT UNIQUE,               -- E.164; NULL once purged or erased
            language TEXT NOT NULL,
            attributes TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            erased_at TEXT
        )""")
    db.execute("""
        CREATE TABLE contact_groups (
            contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
            group_name TEXT NOT NULL,
            PRIMARY KEY (contact_id, group_name)
        )""")
    db.execute("CREATE INDEX contact_groups_by_group ON contact_groups(group_name)")
    db.execute("""
        CREATE TABLE campaigns (
            id TEXT PRIMARY KEY,
            questionnaire TEXT NOT NULL,
            council TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'scheduled'
                CHECK (status IN ('scheduled', 'running', 'paused', 'finished')),
            started_at TEXT,
            finished_at TEXT,
            updated_at TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE campaign_contacts (
            campaign_id TEXT NOT NULL REFERENCES campaigns(id),
            contact_id INTEGER NOT NULL REFERENCES contacts(id),
            respondent TEXT NOT NULL,
            stratum TEXT,
            disposition TEXT NOT NULL DEFAULT 'pending',
            channel_index INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_due_at TEXT,
            lease_until TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (campaign_id, contact_id)
        )""")
    db.execute("CREATE INDEX campaign_contacts_due ON campaign_contacts(campaign_id, next_due_at)")
    db.execute("""
        CREATE TABLE attempts (
            id INTEGER PRIMARY KEY,
            campaign_id TEXT NOT NULL,
            contact_id INTEGER NOT NULL,
            channel TEXT NOT NULL CHECK (channel IN ('voice', 'sms', 'chat')),
            provider_sid TEXT UNIQUE,
            status TEXT NOT NULL,
            answered_by TEXT,
            error_code INTEGER,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX attempts_by_contact ON attempts(campaign_id, contact_id)")
    db.execute("""
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            campaign_id TEXT NOT NULL,
            respondent TEXT NOT NULL,
            contact_id INTEGER REFERENCES contacts(id),
            visitor_id TEXT,
            channel TEXT NOT NULL,
            language TEXT NOT NULL,
            state TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'active',
            started_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX sessions_by_contact ON sessions(campaign_id, contact_id)")
    db.execute("CREATE INDEX sessions_by_visitor ON sessions(campaign_id, visitor_id)")
    db.execute("""
        CREATE TABLE answers (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            campaign_id TEXT NOT NULL,
            question TEXT NOT NULL,
            respondent TEXT NOT NULL,
            channel TEXT NOT NULL,
            language TEXT NOT NULL,
            input_kind TEXT NOT NULL CHECK (input_kind IN ('speech', 'keypad', 'text', 'button', 'timeout')),
            raw TEXT,
            value TEXT,                      -- JSON
            confidence REAL,
            confirmed INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL,
            answered_at TEXT NOT NULL,
            UNIQUE (session_id, question)
        )""")
    db.execute("CREATE INDEX answers_by_campaign ON answers(campaign_id, question)")
    db.execute("""
        CREATE TABLE opt_outs (
            phone TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            received_at TEXT NOT NULL,
            channel TEXT NOT NULL,
            kind TEXT NOT NULL,
            external_id TEXT,
            payload TEXT NOT NULL,           -- JSON, may hold personal data: purged by retention
            outcome TEXT,
            handled_at TEXT,
            UNIQUE (channel, kind, external_id)
        )""")
    db.execute("""
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}'
        )""")


@migration
def m002_outbound_messages(db: Schema) -> None:
    """Every message kanavat sends, so delivery callbacks and opt-out errors find their place."""
    db.execute("""
        CREATE TABLE outbound (
            id INTEGER PRIMARY KEY,
            sid TEXT UNIQUE,
            channel TEXT NOT NULL,
            campaign_id TEXT,
            contact_id INTEGER,
            session_id INTEGER,
            attempt_id INTEGER,
            purpose TEXT NOT NULL,
            status TEXT NOT NULL,
            error_code INTEGER,
            segments INTEGER,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX outbound_by_session ON outbound(session_id)")


@migration
def m003_samples_and_event_attributes(db: Schema) -> None:
    """Stratified samples (who was drawn, in which stratum, who replaced whom) and the
    attributes of the service event that put a contact on a fast-feedback campaign.

    ``campaign_contacts.attributes`` holds the event's attributes (``{"unit": ...}``) for the
    contact's current turn; a trigger copies them onto each session as it opens, so answers
    keep the unit of the visit they are about even after a later event re-enrols the contact.
    """
    db.execute("ALTER TABLE campaign_contacts ADD COLUMN attributes TEXT")  # JSON or NULL
    db.execute("ALTER TABLE campaign_contacts ADD COLUMN enrolled_at TEXT")
    db.execute("ALTER TABLE sessions ADD COLUMN attributes TEXT")
    if db.dialect == "sqlite":  # dropped by m007: conversations.py copies them
        db.execute("""
        CREATE TRIGGER sessions_attributes_from_enrolment AFTER INSERT ON sessions
        WHEN NEW.contact_id IS NOT NULL
        BEGIN
            UPDATE sessions SET attributes = (
                SELECT cc.attributes FROM campaign_contacts cc
                WHERE cc.campaign_id = NEW.campaign_id AND cc.contact_id = NEW.contact_id
            ) WHERE id = NEW.id;
        END""")
    db.execute("""
        CREATE TABLE samples (
            campaign_id TEXT PRIMARY KEY,
            group_name TEXT NOT NULL,
            size INTEGER NOT NULL,
            stratify TEXT NOT NULL,          -- JSON list of attribute names, in order
            seed INTEGER NOT NULL,
            pool INTEGER NOT NULL,
            drawn_at TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE sample_strata (
            campaign_id TEXT NOT NULL,
            stratum TEXT NOT NULL,           -- attribute values joined with '|'
            pool INTEGER NOT NULL,
            allocation INTEGER NOT NULL,
            target INTEGER NOT NULL,         -- completes that close the stratum
            reserve INTEGER NOT NULL,
            closed_at TEXT,
            PRIMARY KEY (campaign_id, stratum)
        )""")
    db.execute("""
        CREATE TABLE sample_draws (
            campaign_id TEXT NOT NULL,
            contact_id INTEGER NOT NULL REFERENCES contacts(id),
            stratum TEXT NOT NULL,
            rank INTEGER NOT NULL,           -- place in the stratum's seeded random order
            role TEXT NOT NULL CHECK (role IN ('sample', 'reserve')),
            enrolled_at TEXT,                -- NULL: a reserve not (yet) used
            replaces INTEGER,                -- the contact this reserve stood in for
            replaced_by INTEGER,             -- set once, so a contact is replaced only once
            skipped TEXT,                    -- why a reserve was passed over (opted out, erased)
            PRIMARY KEY (campaign_id, contact_id)
        )""")
    db.execute("CREATE INDEX sample_draws_order ON sample_draws(campaign_id, stratum, rank)")


@migration
def m004_privacy_requests(db: Schema) -> None:
    """A resident's erasure request waiting for its confirming word (issue 11).

    ``who`` is a keyed hash of the phone number or chat visitor (``Store.pseudonym`` under the
    ``privacy`` scope), never the number itself: a pending request must not keep what it is
    about to erase. A request expires; a later message cancels it.
    """
    db.execute("""
        CREATE TABLE privacy_requests (
            who TEXT PRIMARY KEY,
            action TEXT NOT NULL CHECK (action IN ('erase')),
            language TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        )""")


@migration
def m005_outbox(db: Schema) -> None:
    """Outbound rows become an outbox (issue 17): a turn writes its replies ``pending`` with
    the number and text to send, in the same transaction as the answer; the sender delivers
    them after the commit and then drops the number and text. ``event_id`` ties replies to
    the inbound event that caused them, so a retried event is answered the same way."""
    db.execute("ALTER TABLE outbound ADD COLUMN to_number TEXT")
    db.execute("ALTER TABLE outbound ADD COLUMN body TEXT")
    db.execute("ALTER TABLE outbound ADD COLUMN event_id INTEGER")
    db.execute("ALTER TABLE outbound ADD COLUMN tries INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE outbound ADD COLUMN next_try_at TEXT")
    db.execute("ALTER TABLE outbound ADD COLUMN sent_at TEXT")
    db.execute("CREATE INDEX outbound_outbox ON outbound(status, channel, next_try_at)")
    db.execute("CREATE INDEX outbound_by_event ON outbound(event_id)")
    db.execute("ALTER TABLE events ADD COLUMN tries INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE INDEX events_unhandled ON events(handled_at, channel, kind)")


@migration
def m006_queue_by_person(db: Schema) -> None:
    """The dispatcher's claim asks, for each due row, whether the same person has a live
    attempt or a leased row in any campaign (one live attempt per person, issue 17): both
    are looked up by contact. The lease index holds only leased rows, so it stays small."""
    db.execute("CREATE INDEX attempts_by_person ON attempts(contact_id, status)")
    db.execute(
        "CREATE INDEX campaign_contacts_leased ON campaign_contacts(contact_id, lease_until) "
        "WHERE lease_until IS NOT NULL"
    )


@migration
def m007_closing_the_loop(db: Schema) -> None:
    """What came of a campaign, who was told, and residents' suggestions (issue 23).

    ``campaign_outcomes``: a council's or board's response to a campaign (optionally to one
    question or theme), its text per language. ``notices``: one row per resident per thing
    to tell them (an outcome, or the answer to their suggestion), delivered once in their
    channel: a text (an outbox row), a call playing the message, or the chat page on their
    next visit. ``phone`` is kept only for a suggestion's writer who is no contact, and only
    until told. ``suggestions``: what a resident suggested, its queue, status and answer.
    """
    db.execute("""
        CREATE TABLE campaign_outcomes (
            id INTEGER PRIMARY KEY,
            campaign_id TEXT NOT NULL,
            question TEXT,
            theme TEXT,
            decided_by TEXT NOT NULL,
            decided_on TEXT NOT NULL,
            minutes_url TEXT,
            texts TEXT NOT NULL,             -- JSON {language: what was decided}
            public INTEGER NOT NULL DEFAULT 1,
            source TEXT UNIQUE,              -- a TOML entry's key: recorded once
            created_at TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE notices (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('outcome', 'answer')),
            ref_id INTEGER NOT NULL,         -- the outcome or the suggestion
            campaign_id TEXT,
            contact_id INTEGER,
            phone TEXT,                      -- a suggestion's writer who is no contact
            visitor TEXT,                    -- a chat visitor (the cookie's id)
            channel TEXT NOT NULL CHECK (channel IN ('voice', 'sms', 'chat')),
            language TEXT NOT NULL,
            status TEXT NOT NULL,
            due_at TEXT NOT NULL,
            lease_until TEXT,
            tries INTEGER NOT NULL DEFAULT 0,
            outbound_id INTEGER,
            call_sid TEXT UNIQUE,
            reason TEXT,
            told_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (kind, ref_id, contact_id),
            UNIQUE (kind, ref_id, visitor)
        )""")
    db.execute("CREATE INDEX notices_due ON notices(status, channel, due_at)")
    db.execute("""
        CREATE TABLE suggestions (
            id INTEGER PRIMARY KEY,
            event_id INTEGER UNIQUE,         -- the inbound event it came in: made once
            channel TEXT NOT NULL CHECK (channel IN ('voice', 'sms', 'chat')),
            language TEXT NOT NULL,
            contact_id INTEGER,
            phone TEXT,                      -- to answer by; NULL once answered or erased
            visitor TEXT,
            campaign_id TEXT,                -- the chat page it was written on
            text TEXT,                       -- NULL once erased
            theme TEXT,
            queue TEXT,
            status TEXT NOT NULL CHECK (status IN ('new', 'routed', 'answered', 'closed')),
            answer TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX suggestions_by_status ON suggestions(status, queue)")


@migration
def m008_themes(db: Schema) -> None:
    """Officials' themes of a free-text question (issue 21), owned by ``kanavat.themes.named``.
    A theme keeps its name and the sum of its examples' embeddings (384 numbers as JSON),
    never the examples' texts, so a resident's words stay only in ``answers``."""
    db.execute("""
        CREATE TABLE themes (
            id INTEGER PRIMARY KEY,
            campaign_id TEXT NOT NULL,
            question TEXT NOT NULL,
            name TEXT NOT NULL,
            example_sum TEXT NOT NULL,
            example_count INTEGER NOT NULL,
            origin TEXT NOT NULL CHECK (origin IN ('named', 'seeded', 'merged', 'split')),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (campaign_id, question, name)
        )""")


@migration
def m009_portable(db: Schema) -> None:
    """One schema for SQLite and PostgreSQL (issue 22): the session's enrolment attributes
    are copied by ``conversations.py`` (the owner of ``sessions``) in the INSERT itself, not
    by a SQLite trigger that PostgreSQL cannot run."""
    if db.dialect == "sqlite":
        db.execute("DROP TRIGGER IF EXISTS sessions_attributes_from_enrolment")


@migration
def m010_conversations(db: Schema) -> None:
    """Polis-style conversations (issue 20): statements, votes, the last opinion-group update.

    Statement texts are JSON by language. A resident's statement is kept without any link to
    its author (never attributed in any output); ``dedup_key`` is its normalised text.
    Votes are append-only: the latest per respondent and statement counts.
    """
    db.execute("""
        CREATE TABLE conversation_statements (
            id INTEGER PRIMARY KEY,
            campaign_id TEXT NOT NULL,
            origin TEXT NOT NULL CHECK (origin IN ('seed', 'resident')),
            seed_key TEXT,
            texts TEXT NOT NULL,
            dedup_key TEXT NOT NULL,
            channel TEXT,
            status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),
            created_at TEXT NOT NULL,
            moderated_at TEXT,
            UNIQUE (campaign_id, dedup_key)
        )""")
    db.execute(
        "CREATE UNIQUE INDEX conversation_seeds ON conversation_statements(campaign_id, seed_key) "
        "WHERE seed_key IS NOT NULL"
    )
    db.execute("""
        CREATE TABLE conversation_votes (
            id INTEGER PRIMARY KEY,
            campaign_id TEXT NOT NULL,
            statement_id INTEGER NOT NULL REFERENCES conversation_statements(id),
            respondent TEXT NOT NULL,
            vote TEXT NOT NULL CHECK (vote IN ('agree', 'disagree', 'pass')),
            channel TEXT NOT NULL CHECK (channel IN ('voice', 'sms', 'chat')),
            language TEXT,
            input_kind TEXT,
            confidence REAL,
            voted_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX conversation_votes_by_campaign ON conversation_votes(campaign_id, id)")
    db.execute(
        "CREATE INDEX conversation_votes_by_respondent "
        "ON conversation_votes(campaign_id, respondent)"
    )
    db.execute("""
        CREATE TABLE conversation_groups (
            campaign_id TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            votes_seen INTEGER NOT NULL,
            updated_at TEXT NOT NULL
        )""")


@migration
def m011_report_indexes(db: Schema) -> None:
    """Covering indexes for the council report (issue 18): a million answers counted from
    the index alone, without a look-up of each answer's row. ``answers_counted`` holds every
    column the report groups closed answers by, in that order, so the counts stream out of
    it; ``answers_given`` answers "did this session answer anything" without reading rows;
    ``answers_listed`` gives a free-text question's answers in pseudonym order, unsorted;
    ``sessions_by_status`` finds the few restarted sessions, ``sessions_by_respondent`` the
    people with more than one, ``sessions_took_part`` a contact's sessions and their status.
    PostgreSQL's b-tree entries are limited to about 2,700 bytes and a free-text ``value``
    can be longer, so there the index leaves ``value`` out (its hash aggregation does not
    need the order)."""
    value = "value, " if db.dialect == "sqlite" else ""
    db.execute(
        "CREATE INDEX answers_counted ON answers(campaign_id, question, channel, language, "
        f"input_kind, status, confirmed, {value}session_id)"
    )
    db.execute("CREATE INDEX answers_given ON answers(session_id, status)")
    db.execute("CREATE INDEX sessions_by_status ON sessions(campaign_id, status)")
    db.execute("CREATE INDEX sessions_by_respondent ON sessions(campaign_id, respondent, status)")
    db.execute("CREATE INDEX sessions_took_part ON sessions(campaign_id, contact_id, status)")
    db.execute("CREATE INDEX answers_listed ON answers(campaign_id, question, respondent)")


@migration
def m012_answer_embeddings(db: Schema) -> None:
    """Free-text themes (issue 21): each answer's embedding kept, owned by
    ``kanavat.themes.stored`` (computed once, read by reports and ``kanavat themes``); and
    which answers make a named theme, owned by ``kanavat.themes.named``, so that a theme's
    centre is derived from answers still held (erasure takes an answer out of it).

    ``themes.example_sum`` now holds only the embeddings of an official's own example texts;
    a theme named, merged or split before this migration keeps the sum it had (its answers
    were not recorded then)."""
    db.execute("""
        CREATE TABLE answer_embeddings (
            answer_id INTEGER NOT NULL,
            campaign_id TEXT NOT NULL,
            question TEXT NOT NULL,
            text_key TEXT NOT NULL,
            model TEXT NOT NULL,
            vector TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (answer_id)
        )""")
    db.execute(
        "CREATE INDEX answer_embeddings_by_question ON answer_embeddings(campaign_id, question)"
    )
    db.execute("""
        CREATE TABLE theme_answers (
            theme_id INTEGER NOT NULL REFERENCES themes(id),
            answer_id INTEGER NOT NULL,
            PRIMARY KEY (theme_id, answer_id)
        )""")
    db.execute("CREATE INDEX theme_answers_by_answer ON theme_answers(answer_id)")


@migration
def m013_turn_indexes(db: Schema) -> None:
    """The SMS turn's lookups (issue 17's throughput goal). Only unhandled events in the
    index the sweep reads (``inbound.unhandled``): every event left a row in the old one
    for good, and handling an event moved its row across the index (a second page written
    per event, three events per SMS answer). A contact's open text session found in one
    step (``Conversations.open_text_session``), not one search per campaign and a sort."""
    db.execute("DROP INDEX events_unhandled")
    db.execute(
        "CREATE INDEX events_unhandled_only ON events(channel, kind, id) WHERE handled_at IS NULL"
    )
    db.execute("CREATE INDEX sessions_open ON sessions(contact_id, channel, status)")
