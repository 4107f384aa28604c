"""Migrations from m010 on. A new migration goes at the end of this file; never edit one that
has shipped (see the package)."""

from __future__ import annotations

from kanavat.migrations import Schema, migration


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
def m013_outcome_calls_wait(db: Schema) -> None:
    """Outcome calls that wait (issue 23): ``calls_wait`` says whether an outcome's calls start
    at once (``none``), wait for the message's recording in each resident's language
    (``recording``), wait for an official's ``kanavat outcome release`` (``release``), or were
    released by one (``released``). Its waiting calls are ``notices`` with status ``held``;
    texts and chat notices are never held."""
    db.execute("ALTER TABLE campaign_outcomes ADD COLUMN calls_wait TEXT NOT NULL DEFAULT 'none'")


@migration
def m014_workers(db: Schema) -> None:
    """Several workers on one store (issue 22): each ``kanavat serve`` has a row and beats in
    it (owned by ``kanavat.workers``), and an inbound event names the worker holding it
    (``events.held_by``, written by ``kanavat.inbound``), so a sweep takes over at once what
    a dead worker left and never what a live one is handling."""
    db.execute("""
        CREATE TABLE workers (
            id TEXT PRIMARY KEY,
            host TEXT NOT NULL,
            machine TEXT,
            process TEXT,
            started_at TEXT NOT NULL,
            beat_at TEXT NOT NULL,
            beats INTEGER NOT NULL DEFAULT 0
        )""")
    db.execute("ALTER TABLE events ADD COLUMN held_by TEXT")


@migration
def m015_turn_indexes(db: Schema) -> None:
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
