"""indexes for the latest public signatories and for exports in signing order

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 22:55:00

"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    # Newest public signatories of a petition straight from the index, whatever its size.
    op.create_index(
        "ix_signature_petition_listed", "signature", ["petition_id", "status", "public", "id"]
    )
    # A petition's signatures in signing order straight from the index: an export starts at once.
    op.create_index("ix_signature_petition_order", "signature", ["petition_id", "id"])


def downgrade():
    op.drop_index("ix_signature_petition_order", table_name="signature")
    op.drop_index("ix_signature_petition_listed", table_name="signature")
