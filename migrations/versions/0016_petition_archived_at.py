"""petition.archived_at: when organizers archived the petition (NULL while it is not)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 08:10:00

An archived petition is closed and left out of the home page and the public list of
petitions; its page stays, saying so.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE ADD COLUMN: batch mode would copy the table on SQLite, and dropping the
    # old petition table, with foreign keys enforced, deletes every signature.
    op.add_column("petition", sa.Column("archived_at", sa.DateTime(), nullable=True))


def downgrade():
    # DROP COLUMN in place (SQLite 3.35+), not a copy of the table, for the same reason.
    op.execute("ALTER TABLE petition DROP COLUMN archived_at")
