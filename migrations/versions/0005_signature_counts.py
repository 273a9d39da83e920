"""signature counts kept by triggers, so a page reads its count without counting

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 10:00:00

The table ``signature_count`` holds, for each petition, how many counted signatures (status
``confirmed`` or ``hidden``, ``Signature.COUNTED``) it has per kind and country, split over four
shards (``signature.id % 4``) so that people signing the same petition at the same moment on
PostgreSQL update different rows instead of queueing on one. A count is the ``SUM(n)`` of a
handful of rows, whatever the number of signatures.

Triggers on ``signature`` keep it exact whatever changes a signature: the ORM, bulk
``update()``/``delete()`` statements, the purge, the cascade when a petition is deleted, and
plain SQL (bulk loads, tests). A signature leaves its old bucket if it was counted and enters
its new one if it is counted; a bucket is entered by an upsert and left by a plain UPDATE, so a
signature deleted in the cascade of its petition never recreates a row for a petition that is
gone. Buckets that fall to zero stay (a few rows per petition at most); readers skip them.

- SQLite (3.24 or later, for upserts in triggers): a row-level trigger per event; the UPDATE
  one fires only when status, kind, country, petition or id is set, and acts only when the
  signature changes bucket.
- PostgreSQL: three statement-level triggers reading the transition tables (one plpgsql
  function each): every INSERT, DELETE or UPDATE statement adds one grouped change per bucket,
  whatever the number of rows. Row-level triggers would update the same few rows once per
  signature inside one transaction, and each update of a row a transaction has already updated
  walks the chain of its versions: a COPY of 50,000 signatures took 7 s (a million did not end
  in 25 minutes), a status change of 50,000 took 22 s instead of 1 s. The UPDATE trigger cannot
  name columns when it has transition tables, so it runs for every UPDATE of ``signature``: on
  an update that moves no signature between buckets it reads its rows and writes nothing.

The counted states and the shard count are written out in the DDL below: changing
``Signature.COUNTED`` needs a migration that recreates the triggers and refills the table.
A later batch migration that recreates the ``signature`` table on SQLite (``batch_alter_table``
copies it into a new table) drops its triggers: it must create them again, with the statements
of ``SQLITE_TRIGGERS`` written out in it (as 0008 does), since a migration never reads another.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COUNTED = "('confirmed', 'hidden')"
SHARDS = 4
BUCKET = "petition_id, kind, country, shard"

BACKFILL = f"""
INSERT INTO signature_count (petition_id, kind, country, shard, n)
SELECT petition_id, kind, country, id % {SHARDS}, count(*)
FROM signature
WHERE status IN {COUNTED}
GROUP BY petition_id, kind, country, id % {SHARDS}
"""  # noqa: S608 - constants

# When an update moves a signature into, out of, or between buckets (SQLite; PostgreSQL nets
# the moves of a whole statement instead).
MOVES = f"""
(OLD.status IN {COUNTED}) <> (NEW.status IN {COUNTED})
OR (NEW.status IN {COUNTED} AND (
    OLD.petition_id <> NEW.petition_id OR OLD.kind <> NEW.kind OR OLD.country <> NEW.country
    OR OLD.id % {SHARDS} <> NEW.id % {SHARDS}))
"""

SQLITE_LEAVE = f"""
UPDATE signature_count SET n = n - 1
WHERE petition_id = OLD.petition_id AND kind = OLD.kind AND country = OLD.country
  AND shard = OLD.id % {SHARDS}"""  # noqa: S608 - constants

SQLITE_ENTER = f"""
INSERT INTO signature_count ({BUCKET}, n)
SELECT NEW.petition_id, NEW.kind, NEW.country, NEW.id % {SHARDS}, 1
WHERE NEW.status IN {COUNTED}
ON CONFLICT ({BUCKET}) DO UPDATE SET n = n + 1"""

SQLITE_TRIGGERS = {
    "signature_count_insert": f"""
CREATE TRIGGER signature_count_insert AFTER INSERT ON signature
WHEN NEW.status IN {COUNTED}
BEGIN {SQLITE_ENTER}; END""",
    "signature_count_delete": f"""
CREATE TRIGGER signature_count_delete AFTER DELETE ON signature
WHEN OLD.status IN {COUNTED}
BEGIN {SQLITE_LEAVE}; END""",
    "signature_count_update": f"""
CREATE TRIGGER signature_count_update
AFTER UPDATE OF id, petition_id, kind, country, status ON signature
WHEN {MOVES}
BEGIN {SQLITE_LEAVE} AND OLD.status IN {COUNTED}; {SQLITE_ENTER}; END""",
}

POSTGRES_FUNCTIONS = {
    "signature_count_inserted": f"""
CREATE OR REPLACE FUNCTION signature_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- In bucket order, so that two bulk inserts lock the rows they share in the same order.
    INSERT INTO signature_count ({BUCKET}, n)
    SELECT petition_id, kind, country, id % {SHARDS}, count(*)
    FROM inserted WHERE status IN {COUNTED}
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT ({BUCKET}) DO UPDATE SET n = signature_count.n + excluded.n;
    RETURN NULL;
END $$""",  # noqa: S608 - constants
    "signature_count_deleted": f"""
CREATE OR REPLACE FUNCTION signature_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE signature_count AS c SET n = c.n - d.n
    FROM (SELECT petition_id, kind, country, id % {SHARDS} AS shard, count(*) AS n
          FROM deleted WHERE status IN {COUNTED} GROUP BY 1, 2, 3, 4) AS d
    WHERE c.petition_id = d.petition_id AND c.kind = d.kind AND c.country = d.country
      AND c.shard = d.shard;
    RETURN NULL;
END $$""",  # noqa: S608 - constants
    # Net moves per bucket: an update that leaves every bucket as it was writes nothing.
    "signature_count_updated": f"""
CREATE OR REPLACE FUNCTION signature_count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH moves AS (
        SELECT petition_id, kind, country, id % {SHARDS} AS shard, 1 AS d
        FROM updated WHERE status IN {COUNTED}
        UNION ALL
        SELECT petition_id, kind, country, id % {SHARDS}, -1
        FROM outdated WHERE status IN {COUNTED}
    ), delta AS (
        SELECT petition_id, kind, country, shard, sum(d) AS d
        FROM moves GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0
    ), lowered AS (
        UPDATE signature_count AS c SET n = c.n + delta.d
        FROM delta
        WHERE delta.d < 0 AND c.petition_id = delta.petition_id AND c.kind = delta.kind
          AND c.country = delta.country AND c.shard = delta.shard
    )
    INSERT INTO signature_count ({BUCKET}, n)
    SELECT petition_id, kind, country, shard, d FROM delta WHERE d > 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT ({BUCKET}) DO UPDATE SET n = signature_count.n + excluded.n;
    RETURN NULL;
END $$""",  # noqa: S608 - constants
}

POSTGRES_TRIGGERS = {
    "signature_count_insert": """
CREATE TRIGGER signature_count_insert AFTER INSERT ON signature
REFERENCING NEW TABLE AS inserted
FOR EACH STATEMENT EXECUTE FUNCTION signature_count_inserted()""",
    "signature_count_delete": """
CREATE TRIGGER signature_count_delete AFTER DELETE ON signature
REFERENCING OLD TABLE AS deleted
FOR EACH STATEMENT EXECUTE FUNCTION signature_count_deleted()""",
    "signature_count_update": """
CREATE TRIGGER signature_count_update AFTER UPDATE ON signature
REFERENCING OLD TABLE AS outdated NEW TABLE AS updated
FOR EACH STATEMENT EXECUTE FUNCTION signature_count_updated()""",
}


def create_sqlite_triggers():
    """The SQLite triggers, on a version that has the upserts they use."""
    version = op.get_bind().exec_driver_sql("SELECT sqlite_version()").scalar()
    if tuple(int(part) for part in version.split(".")[:2]) < (3, 24):
        raise RuntimeError(f"SQLite {version} is too old: the signature counts need 3.24 or later")
    for name, ddl in SQLITE_TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(ddl)


def create_postgres_triggers():
    for ddl in POSTGRES_FUNCTIONS.values():
        op.execute(ddl)
    for name, ddl in POSTGRES_TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON signature")
        op.execute(ddl)


def upgrade():
    op.create_table(
        "signature_count",
        sa.Column("petition_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("shard", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["petition_id"],
            ["petition.id"],
            name=op.f("fk_signature_count_petition_id_petition"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("petition_id", "kind", "country", "shard", name=op.f("pk_signature_count")),
    )
    # Fill, then arm, with other writers kept out in between, so that no signature is missed or
    # counted twice: PostgreSQL locks the table; on SQLite the backfill's INSERT takes the
    # database's write lock, held with the triggers' creation until the migration commits.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("LOCK TABLE signature IN SHARE ROW EXCLUSIVE MODE")
        op.execute(BACKFILL)
        create_postgres_triggers()
    else:
        op.execute(BACKFILL)
        create_sqlite_triggers()


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in POSTGRES_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON signature")
        for name in POSTGRES_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("signature_count")
