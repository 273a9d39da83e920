"""signatures that stand up to scrutiny: one mailbox one key, signals, a suspect state

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-03 08:00:00

- ``signature.email_key`` of addresses at providers that ignore dots and ``+tags`` becomes the
  mailbox's canonical form (a.na+x@gmail.com and ana@googlemail.com: ana@gmail.com). When two
  signatures of a petition reach one mailbox, the older keeps the canonical key if it can, and
  neither is changed otherwise; the log names them.
- ``signature.status`` may be ``suspect``; ``signature`` gains its signals (network hash,
  email domain, form age, the signals that put it in review). No index: each would slow every
  signature, and the last hour's or day's rows of a petition are found through
  ``ix_signature_petition_created``.
- ``petition`` gains its detection thresholds, its proof-of-work switch and its surge state.
- ``spent_challenge``: proof-of-work challenges already used.

On SQLite every change is a plain ALTER TABLE or CREATE: a batch copy of ``signature`` or
``petition`` would drop the table, and with foreign keys enforced that deletes every signature
(and the count triggers). SQLite cannot change a CHECK constraint in place; widening the list of
states changes no stored row, so the table's recorded SQL is edited as SQLite's documentation
allows for such changes (ALTER TABLE, "making other kinds of table schema changes").
"""
from alembic import op
import logging
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0009'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
BATCH = 1000
STATES = "'pending', 'unapproved', 'confirmed', 'hidden', 'rejected'"
WITH_SUSPECT = STATES + ", 'suspect'"

# The canonical form of an address, as petition.signing.identity has it at this revision.
SAME_MAILBOX_DOMAINS = {"googlemail.com": "gmail.com", "protonmail.com": "proton.me", "pm.me": "proton.me"}
IGNORES_DOTS = {"gmail.com"}
IGNORES_PLUS_TAGS = {
    "gmail.com", "outlook.com", "hotmail.com", "live.com", "icloud.com", "me.com", "fastmail.com", "proton.me",
}


def canonical(email):
    local, at, domain = email.strip().lower().rpartition("@")
    if not at:
        return domain
    domain = SAME_MAILBOX_DOMAINS.get(domain, domain)
    if domain in IGNORES_PLUS_TAGS:
        local = local.partition("+")[0]
        if domain in IGNORES_DOTS:
            local = local.replace(".", "")
    return f"{local}@{domain}"


def set_status_check(states):
    """Let ``signature.status`` take ``states``."""
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        op.execute("ALTER TABLE signature DROP CONSTRAINT ck_signature_status_known")
        op.execute(f"ALTER TABLE signature ADD CONSTRAINT ck_signature_status_known CHECK (status IN ({states}))")
        return
    current = STATES if states == WITH_SUSPECT else WITH_SUSPECT
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar()
    connection.exec_driver_sql("PRAGMA writable_schema=ON")
    connection.execute(
        sa.text("UPDATE sqlite_master SET sql = replace(sql, :old, :new) WHERE type = 'table' AND name = 'signature'"),
        {"old": f"status IN ({current})", "new": f"status IN ({states})"},
    )
    # A new schema version makes every connection read the edited SQL again.
    connection.exec_driver_sql(f"PRAGMA schema_version={version + 1}")
    connection.exec_driver_sql("PRAGMA writable_schema=OFF")


def canonical_email_keys():
    """Give each address at a provider in the table its canonical key, in batches, oldest first."""
    connection = op.get_bind()
    signature = sa.table(
        "signature",
        sa.column("id", sa.Integer),
        sa.column("petition_id", sa.Integer),
        sa.column("email", sa.String),
        sa.column("email_key", sa.String),
    )
    domains = set(SAME_MAILBOX_DOMAINS) | IGNORES_PLUS_TAGS
    at_providers = sa.or_(*(signature.c.email_key.endswith("@" + domain) for domain in sorted(domains)))
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(signature.c.id, signature.c.petition_id, signature.c.email, signature.c.email_key)
            .where(signature.c.id > last_id, at_providers)
            .order_by(signature.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        last_id = rows[-1].id
        for row in rows:
            key = canonical(row.email)
            if key == row.email_key:
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
                    "signature %s keeps its address key: signature %s of petition %s reaches the same mailbox",
                    row.id,
                    taken,
                    row.petition_id,
                )
                continue
            connection.execute(sa.update(signature).where(signature.c.id == row.id).values(email_key=key))


def upgrade():
    set_status_check(WITH_SUSPECT)
    op.add_column('signature', sa.Column('network', sa.String(length=16), server_default='', nullable=False))
    op.add_column('signature', sa.Column('email_domain', sa.String(length=254), server_default='', nullable=False))
    op.add_column('signature', sa.Column('form_age', sa.Integer(), nullable=True))
    op.add_column('signature', sa.Column('signals', sa.String(length=100), server_default='', nullable=False))
    # The domain of every stored address, for the surge report and its filter.
    if op.get_bind().dialect.name == "sqlite":
        domain = "lower(substr(email, instr(email, '@') + 1))"
    else:
        domain = "lower(split_part(email, '@', 2))"
    op.execute(f"UPDATE signature SET email_domain = {domain} WHERE email LIKE '%@%'")
    canonical_email_keys()

    op.add_column('petition', sa.Column('network_hourly_limit', sa.Integer(), server_default='20', nullable=False))
    op.add_column('petition', sa.Column('domain_hourly_limit', sa.Integer(), server_default='50', nullable=False))
    op.add_column('petition', sa.Column('min_form_seconds', sa.Integer(), server_default='3', nullable=False))
    op.add_column('petition', sa.Column('proof_of_work', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('petition', sa.Column('notify_surges', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column('petition', sa.Column('surge_until', sa.DateTime(), nullable=True))

    op.create_table('spent_challenge',
    sa.Column('digest', sa.String(length=128), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_spent_challenge'))
    )
    op.create_index(op.f('ix_spent_challenge_expires_at'), 'spent_challenge', ['expires_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_spent_challenge_expires_at'), table_name='spent_challenge')
    op.drop_table('spent_challenge')
    # Plain ALTER TABLE, as on the way up.
    for column in ("surge_until", "notify_surges", "proof_of_work", "min_form_seconds", "domain_hourly_limit",
                   "network_hourly_limit"):
        op.execute(f"ALTER TABLE petition DROP COLUMN {column}")
    for column in ("signals", "form_age", "email_domain", "network"):
        op.execute(f"ALTER TABLE signature DROP COLUMN {column}")
    # Suspect signatures wait for a moderator: before this revision, as unapproved ones did.
    op.execute("UPDATE signature SET status = 'unapproved' WHERE status = 'suspect'")
    set_status_check(STATES)
    # Canonical keys stay: they are still unique, and keep reaching one mailbox once.
