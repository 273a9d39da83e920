"""drop the (petition, status, kind) index: counts come from signature_count now

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 01:15:00

"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    # It served the counts, which signature_count keeps now; filters by status use the prefix of
    # ix_signature_petition_listed. One index fewer to update with every signature.
    op.drop_index("ix_signature_petition_status_kind", table_name="signature")


def downgrade():
    op.create_index("ix_signature_petition_status_kind", "signature", ["petition_id", "status", "kind"])
