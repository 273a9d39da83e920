"""the count trigger on INSERT skips its upsert when no inserted signature is counted

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 17:20:00

On PostgreSQL, the statement-level INSERT trigger of 0005 ran its grouped upsert into
``signature_count`` for every INSERT into ``signature``, even when none of the inserted rows is
counted: on a petition that confirms by email, which is the default, every signature comes in
pending. Starting that upsert (the target table, its indexes, a sort and a grouping) costs more
than looking at the inserted rows, so the function now looks first. SQLite's row triggers already
fire only for a counted row (their ``WHEN``).

Both versions of the function are written out here, the one 0005 created included (to restore it
on the way down): a migration is a fixed step and never reads another one, which may change.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

GUARDED = """
CREATE OR REPLACE FUNCTION signature_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM inserted WHERE status IN ('confirmed', 'hidden')) THEN
        RETURN NULL;  -- nothing counted was inserted: no bucket to lock or change
    END IF;
    -- In bucket order, so that two bulk inserts lock the rows they share in the same order.
    INSERT INTO signature_count (petition_id, kind, country, shard, n)
    SELECT petition_id, kind, country, id % 4, count(*)
    FROM inserted WHERE status IN ('confirmed', 'hidden')
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (petition_id, kind, country, shard) DO UPDATE SET n = signature_count.n + excluded.n;
    RETURN NULL;
END $$"""

# As 0005 created it.
UNGUARDED = """
CREATE OR REPLACE FUNCTION signature_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- In bucket order, so that two bulk inserts lock the rows they share in the same order.
    INSERT INTO signature_count (petition_id, kind, country, shard, n)
    SELECT petition_id, kind, country, id % 4, count(*)
    FROM inserted WHERE status IN ('confirmed', 'hidden')
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (petition_id, kind, country, shard) DO UPDATE SET n = signature_count.n + excluded.n;
    RETURN NULL;
END $$"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(GUARDED)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(UNGUARDED)
