"""verified organizations: a mark on signatures, a petition setting, and the list by country

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 08:15:00

- ``signature.verified``: an organization confirmed its signature from an address at its
  website's domain (see :func:`petition.signing.verification.is_verified`). False for every
  signature stored before.
- ``petition.approve_verified_organizations``: on a petition whose organizations need approval,
  verified ones are approved at confirmation unless its organizers turn this off. On by default.
- ``ix_signature_petition_kind_listed`` (petition, status, public, kind, id, country): the public
  list reads each kind of listed signature alone, however many of the other kind signed:
  individuals newest first in the index's order, organizations counted per country from the
  index alone. (Country before id would make the newest individuals a sort of all of them.)

Plain ALTER TABLE and CREATE INDEX: a batch copy of ``signature`` or ``petition`` on SQLite
drops the old table, and with foreign keys enforced that deletes their dependent rows.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("signature", sa.Column("verified", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column(
        "petition",
        sa.Column("approve_verified_organizations", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.create_index(
        "ix_signature_petition_kind_listed",
        "signature",
        ["petition_id", "status", "public", "kind", "id", "country"],
    )


def downgrade():
    op.drop_index("ix_signature_petition_kind_listed", table_name="signature")
    op.execute("ALTER TABLE petition DROP COLUMN approve_verified_organizations")
    op.execute("ALTER TABLE signature DROP COLUMN verified")
