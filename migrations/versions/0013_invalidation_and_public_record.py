"""bulk invalidation, and a tally of every status for the public record

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 08:00:00

- ``invalidation``: signatures an organizer took out at once, with category, reason, filters
  and whether it was undone. ``signature.invalidation_id`` and ``signature.invalidated_from``
  (the status to restore on undo); the status ``invalidated`` joins the check of ``status``.
- ``signature.email_confirmed``: the address was confirmed from the emailed link. Filled here
  for the signatures confirmed after they were made: signing without confirmation sets
  ``confirmed_at`` to ``created_at``, the emailed link to a later moment.
- ``signature_tally``: how many signatures each petition has per status, address confirmed or
  not, in four shards, kept by triggers of their own that count every status (so a new status
  needs no migration). They are written as those of 0005: row triggers on SQLite, statement
  triggers reading the transition tables on PostgreSQL. The count triggers of 0005 are left
  alone: invalidated signatures are outside ``('confirmed', 'hidden')`` already.

SQLite cannot change a check constraint in place, and copying ``signature`` is what this
migration must not do (dropping the old table cascades, and drops the count triggers). The check
is widened the way SQLite documents for loosening constraints (ALTER TABLE, "making other kinds
of table schema changes"): the table's SQL in the schema is edited and the schema version raised,
in the migration's transaction. Every stored row passes the wider check. Plain ``ALTER TABLE``
adds and drops the columns.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BUCKET = "petition_id, status, email_confirmed, shard"

OLD_CHECK = "status IN ('pending', 'unapproved', 'confirmed', 'hidden', 'rejected', 'suspect')"
NEW_CHECK = "status IN ('invalidated', 'pending', 'unapproved', 'confirmed', 'hidden', 'rejected', 'suspect')"

BACKFILL = """
INSERT INTO signature_tally (petition_id, status, email_confirmed, shard, n)
SELECT petition_id, status, email_confirmed, id % 4, count(*)
FROM signature
GROUP BY petition_id, status, email_confirmed, id % 4
"""

SQLITE_LEAVE = """
UPDATE signature_tally SET n = n - 1
WHERE petition_id = OLD.petition_id AND status = OLD.status
  AND email_confirmed = OLD.email_confirmed AND shard = OLD.id % 4"""

SQLITE_ENTER = """
INSERT INTO signature_tally (petition_id, status, email_confirmed, shard, n)
VALUES (NEW.petition_id, NEW.status, NEW.email_confirmed, NEW.id % 4, 1)
ON CONFLICT (petition_id, status, email_confirmed, shard) DO UPDATE SET n = n + 1"""

SQLITE_TRIGGERS = {
    "signature_tally_insert": f"""
CREATE TRIGGER signature_tally_insert AFTER INSERT ON signature
BEGIN {SQLITE_ENTER}; END""",
    "signature_tally_delete": f"""
CREATE TRIGGER signature_tally_delete AFTER DELETE ON signature
BEGIN {SQLITE_LEAVE}; END""",
    "signature_tally_update": f"""
CREATE TRIGGER signature_tally_update
AFTER UPDATE OF id, petition_id, status, email_confirmed ON signature
WHEN OLD.petition_id <> NEW.petition_id OR OLD.status <> NEW.status
  OR OLD.email_confirmed <> NEW.email_confirmed OR OLD.id % 4 <> NEW.id % 4
BEGIN {SQLITE_LEAVE}; {SQLITE_ENTER}; END""",
}

POSTGRES_FUNCTIONS = {
    "signature_tally_inserted": """
CREATE OR REPLACE FUNCTION signature_tally_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- In bucket order, so that two writers lock the rows they share in the same order.
    INSERT INTO signature_tally (petition_id, status, email_confirmed, shard, n)
    SELECT petition_id, status, email_confirmed, id % 4, count(*)
    FROM inserted GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (petition_id, status, email_confirmed, shard)
    DO UPDATE SET n = signature_tally.n + excluded.n;
    RETURN NULL;
END $$""",
    "signature_tally_deleted": """
CREATE OR REPLACE FUNCTION signature_tally_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE signature_tally AS t SET n = t.n - d.n
    FROM (SELECT petition_id, status, email_confirmed, id % 4 AS shard, count(*) AS n
          FROM deleted GROUP BY 1, 2, 3, 4) AS d
    WHERE t.petition_id = d.petition_id AND t.status = d.status
      AND t.email_confirmed = d.email_confirmed AND t.shard = d.shard;
    RETURN NULL;
END $$""",
    # Net moves per bucket: an update that changes no status writes nothing.
    "signature_tally_updated": """
CREATE OR REPLACE FUNCTION signature_tally_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH moves AS (
        SELECT petition_id, status, email_confirmed, id % 4 AS shard, 1 AS d FROM updated
        UNION ALL
        SELECT petition_id, status, email_confirmed, id % 4, -1 FROM outdated
    ), delta AS (
        SELECT petition_id, status, email_confirmed, shard, sum(d) AS d
        FROM moves GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0
    ), lowered AS (
        UPDATE signature_tally AS t SET n = t.n + delta.d
        FROM delta
        WHERE delta.d < 0 AND t.petition_id = delta.petition_id AND t.status = delta.status
          AND t.email_confirmed = delta.email_confirmed AND t.shard = delta.shard
    )
    INSERT INTO signature_tally (petition_id, status, email_confirmed, shard, n)
    SELECT petition_id, status, email_confirmed, shard, d FROM delta WHERE d > 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT (petition_id, status, email_confirmed, shard)
    DO UPDATE SET n = signature_tally.n + excluded.n;
    RETURN NULL;
END $$""",
}

POSTGRES_TRIGGERS = {
    "signature_tally_insert": """
CREATE TRIGGER signature_tally_insert AFTER INSERT ON signature
REFERENCING NEW TABLE AS inserted
FOR EACH STATEMENT EXECUTE FUNCTION signature_tally_inserted()""",
    "signature_tally_delete": """
CREATE TRIGGER signature_tally_delete AFTER DELETE ON signature
REFERENCING OLD TABLE AS deleted
FOR EACH STATEMENT EXECUTE FUNCTION signature_tally_deleted()""",
    "signature_tally_update": """
CREATE TRIGGER signature_tally_update AFTER UPDATE ON signature
REFERENCING OLD TABLE AS outdated NEW TABLE AS updated
FOR EACH STATEMENT EXECUTE FUNCTION signature_tally_updated()""",
}


def replace_sqlite_check(old: str, new: str) -> None:
    """Rewrite the check of ``signature.status`` in SQLite's schema (see the docstring above)."""
    connection = op.get_bind()
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    connection.execute(
        sa.text(
            "UPDATE sqlite_master SET sql = replace(sql, :old, :new) "
            "WHERE type = 'table' AND name = 'signature'"
        ),
        {"old": old, "new": new},
    )
    connection.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    connection.exec_driver_sql("PRAGMA writable_schema = OFF")


def replace_postgres_check(check: str) -> None:
    op.execute("ALTER TABLE signature DROP CONSTRAINT ck_signature_status_known")
    # NOT VALID, then VALIDATE: the check of every row runs without keeping signers out.
    op.execute(f"ALTER TABLE signature ADD CONSTRAINT ck_signature_status_known CHECK ({check}) NOT VALID")
    op.execute("ALTER TABLE signature VALIDATE CONSTRAINT ck_signature_status_known")


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "invalidation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("petition_id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("rows", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("undone_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organizer_id"],
            ["organizer.id"],
            name=op.f("fk_invalidation_organizer_id_organizer"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["petition_id"],
            ["petition.id"],
            name=op.f("fk_invalidation_petition_id_petition"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invalidation")),
    )
    op.create_index("ix_invalidation_petition_id", "invalidation", ["petition_id"])
    op.create_table(
        "signature_tally",
        sa.Column("petition_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("email_confirmed", sa.Boolean(), nullable=False),
        sa.Column("shard", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["petition_id"],
            ["petition.id"],
            name=op.f("fk_signature_tally_petition_id_petition"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "petition_id", "status", "email_confirmed", "shard", name=op.f("pk_signature_tally")
        ),
    )
    # Plain ALTER TABLE: a batch would copy signature (see the docstring).
    if postgresql:
        op.add_column(
            "signature", sa.Column("email_confirmed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        op.add_column("signature", sa.Column("invalidation_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_signature_invalidation_id_invalidation"),
            "signature",
            "invalidation",
            ["invalidation_id"],
            ["id"],
            ondelete="SET NULL",
        )
        replace_postgres_check(NEW_CHECK)
    else:
        op.add_column(
            "signature", sa.Column("email_confirmed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        # SQLite adds a reference with the column, or not at all.
        op.execute(
            "ALTER TABLE signature ADD COLUMN invalidation_id INTEGER "
            "CONSTRAINT fk_signature_invalidation_id_invalidation "
            "REFERENCES invalidation (id) ON DELETE SET NULL"
        )
        replace_sqlite_check(OLD_CHECK, NEW_CHECK)
    op.add_column("signature", sa.Column("invalidated_from", sa.String(length=16), nullable=True))
    op.execute(
        sa.text(
            "UPDATE signature SET email_confirmed = :yes "
            "WHERE confirmed_at IS NOT NULL AND confirmed_at > created_at"
        ).bindparams(yes=True)
    )
    # Fill, then arm, with other writers kept out in between (as 0005 does).
    if postgresql:
        op.execute("LOCK TABLE signature IN SHARE ROW EXCLUSIVE MODE")
        op.execute(BACKFILL)
        for ddl in POSTGRES_FUNCTIONS.values():
            op.execute(ddl)
        for name, ddl in POSTGRES_TRIGGERS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON signature")
            op.execute(ddl)
    else:
        op.execute(BACKFILL)
        for name, ddl in SQLITE_TRIGGERS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
            op.execute(ddl)


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        for name in POSTGRES_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON signature")
        for name in POSTGRES_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    # Invalidated signatures go back to where they were: the older check does not know them.
    op.execute(
        "UPDATE signature SET status = invalidated_from "
        "WHERE status = 'invalidated' AND invalidated_from IS NOT NULL"
    )
    op.execute("UPDATE signature SET status = 'rejected' WHERE status = 'invalidated'")
    if postgresql:
        replace_postgres_check(OLD_CHECK)
        op.execute("ALTER TABLE signature DROP CONSTRAINT fk_signature_invalidation_id_invalidation")
    else:
        replace_sqlite_check(NEW_CHECK, OLD_CHECK)
    for column in ("invalidated_from", "invalidation_id", "email_confirmed"):
        op.execute(f"ALTER TABLE signature DROP COLUMN {column}")
    op.drop_table("signature_tally")
    op.drop_index("ix_invalidation_petition_id", table_name="invalidation")
    op.drop_table("invalidation")
