"""erasure and retention: ids never reused, a retention period per petition, address keys
folded as signing now folds them, and the emails of erased signers gone

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:00:00

- ``signature`` becomes AUTOINCREMENT on SQLite, which otherwise gives a new row the id of the
  last row deleted: an old confirm or withdraw link of a withdrawn signature could then act on a
  newer one. SQLite cannot change that in place, so the table is recreated (a batch copy), and
  what the copy loses comes back: the count triggers of 0005. Foreign keys are enforced during
  the migration and dropping the old table sets every ``outbox.signature_id`` to NULL (``ON
  DELETE SET NULL``), so the links of the emails are kept aside and written back. PostgreSQL's
  sequences never go back: nothing to do there.
- ``petition.retention_days``: how long a petition without a closing date keeps each signer's
  personal data (730 days unless its organizers choose otherwise).
- ``signature.email_key`` was ``email.strip().casefold()`` and is ``email.strip().lower()`` now;
  the two differ only on some non-ASCII addresses, whose keys are recomputed in Python, in
  batches. A key that would then be another signature's on the same petition is left as it was,
  and logged.
- Emails that no signature holds any more (every email is queued for a signature: these are
  what withdrawals and the old purge left behind, with their addresses and text) are deleted, and
  so are the emails of signatures the old purge anonymized. Downgrading does not bring them back.
- ``outbox.signature_id`` is indexed: erasing a signer and the purge find its emails by it.
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
BATCH = 1000
DEFAULT_RETENTION_DAYS = "730"


# The count triggers exactly as 0005 creates them on SQLite, written out because a migration never
# reads another (which may change); to the byte, trailing spaces included, so that the schema is
# the same whichever of the two created them last.
COUNT_TRIGGERS = (
    """
CREATE TRIGGER signature_count_insert AFTER INSERT ON signature
WHEN NEW.status IN ('confirmed', 'hidden')
BEGIN 
INSERT INTO signature_count (petition_id, kind, country, shard, n)
SELECT NEW.petition_id, NEW.kind, NEW.country, NEW.id % 4, 1
WHERE NEW.status IN ('confirmed', 'hidden')
ON CONFLICT (petition_id, kind, country, shard) DO UPDATE SET n = n + 1; END""",
    """
CREATE TRIGGER signature_count_delete AFTER DELETE ON signature
WHEN OLD.status IN ('confirmed', 'hidden')
BEGIN 
UPDATE signature_count SET n = n - 1
WHERE petition_id = OLD.petition_id AND kind = OLD.kind AND country = OLD.country
  AND shard = OLD.id % 4; END""",
    """
CREATE TRIGGER signature_count_update
AFTER UPDATE OF id, petition_id, kind, country, status ON signature
WHEN 
(OLD.status IN ('confirmed', 'hidden')) <> (NEW.status IN ('confirmed', 'hidden'))
OR (NEW.status IN ('confirmed', 'hidden') AND (
    OLD.petition_id <> NEW.petition_id OR OLD.kind <> NEW.kind OR OLD.country <> NEW.country
    OR OLD.id % 4 <> NEW.id % 4))

BEGIN 
UPDATE signature_count SET n = n - 1
WHERE petition_id = OLD.petition_id AND kind = OLD.kind AND country = OLD.country
  AND shard = OLD.id % 4 AND OLD.status IN ('confirmed', 'hidden'); 
INSERT INTO signature_count (petition_id, kind, country, shard, n)
SELECT NEW.petition_id, NEW.kind, NEW.country, NEW.id % 4, 1
WHERE NEW.status IN ('confirmed', 'hidden')
ON CONFLICT (petition_id, kind, country, shard) DO UPDATE SET n = n + 1; END""",
)


def recreate_signature_table(autoincrement: bool) -> None:
    """Copy ``signature`` into a new SQLite table, AUTOINCREMENT or not, and put back what the
    copy loses: the links from the outbox and the count triggers (indexes and constraints are
    copied by the batch)."""
    op.execute(
        "CREATE TEMPORARY TABLE outbox_signature AS "
        "SELECT id, signature_id FROM outbox WHERE signature_id IS NOT NULL"
    )
    with op.batch_alter_table(
        "signature",
        recreate="always",
        table_kwargs={"sqlite_autoincrement": autoincrement},
        # An AUTOINCREMENT key is written without its name: give it back when going down.
        naming_convention={"pk": "pk_%(table_name)s"},
    ):
        pass
    op.execute(
        "UPDATE outbox SET signature_id = "
        "(SELECT kept.signature_id FROM outbox_signature AS kept WHERE kept.id = outbox.id) "
        "WHERE id IN (SELECT id FROM outbox_signature)"
    )
    op.execute("DROP TABLE outbox_signature")
    for ddl in COUNT_TRIGGERS:
        op.execute(ddl)


def refold_email_keys(fold) -> None:
    """Set ``email_key`` to ``fold(email.strip())`` on every signature whose address has a
    non-ASCII character, in batches; a key another signature of the petition has is left alone."""
    connection = op.get_bind()
    signature = sa.table(
        "signature",
        sa.column("id", sa.Integer),
        sa.column("petition_id", sa.Integer),
        sa.column("email", sa.String),
        sa.column("email_key", sa.String),
    )
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(signature.c.id, signature.c.petition_id, signature.c.email, signature.c.email_key)
            .where(signature.c.id > last_id)
            .order_by(signature.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        last_id = rows[-1].id
        for row in rows:
            key = fold(row.email.strip())
            if row.email.isascii() or key == row.email_key:
                continue
            taken = connection.scalar(
                sa.select(signature.c.id).where(
                    signature.c.petition_id == row.petition_id,
                    signature.c.email_key == key,
                    signature.c.id != row.id,
                )
            )
            if taken is not None:
                log.warning(
                    "signature %s keeps its address key: signature %s of petition %s has the new one",
                    row.id,
                    taken,
                    row.petition_id,
                )
                continue
            connection.execute(sa.update(signature).where(signature.c.id == row.id).values(email_key=key))


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    # Not in a batch: on SQLite that would copy the petition table, and dropping the original
    # cascades to every signature while foreign keys are enforced.
    op.add_column(
        "petition",
        sa.Column("retention_days", sa.Integer(), server_default=DEFAULT_RETENTION_DAYS, nullable=False),
    )
    op.execute("DELETE FROM outbox WHERE signature_id IS NULL")
    op.execute("DELETE FROM outbox WHERE signature_id IN (SELECT id FROM signature WHERE email = '')")
    if sqlite:
        recreate_signature_table(autoincrement=True)
    refold_email_keys(str.lower)
    # Erasing a signer and the purge find its emails by signature.
    op.create_index("ix_outbox_signature_id", "outbox", ["signature_id"])


def downgrade():
    op.drop_index("ix_outbox_signature_id", table_name="outbox")
    refold_email_keys(str.casefold)
    if op.get_bind().dialect.name == "sqlite":
        recreate_signature_table(autoincrement=False)
    op.drop_column("petition", "retention_days")
