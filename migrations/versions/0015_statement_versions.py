"""statement versions: the text each signer agreed to

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 08:10:00

- ``petition.statement_version``: the number of the text signers are shown now (1 to start).
- ``signature.statement_version``: the version each signature was given; every signature stored
  before this migration was given the first.
- ``statement_version``: each earlier text, in every language it was written in.

Plain ``add_column`` on every database: on SQLite a batch copy of ``petition`` or ``signature``
would drop the table, and with foreign keys enforced its delete would cascade.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('petition', sa.Column('statement_version', sa.Integer(), server_default='1', nullable=False))
    op.add_column('signature', sa.Column('statement_version', sa.Integer(), server_default='1', nullable=False))
    op.create_table('statement_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('subtitle', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('demands', sa.JSON(), nullable=False),
    sa.Column('replaced_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['petition_id'], ['petition.id'], name=op.f('fk_statement_version_petition_id_petition'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_version')),
    sa.UniqueConstraint('petition_id', 'number', 'language', name=op.f('uq_statement_version_petition_id_number_language'))
    )


def downgrade():
    op.drop_table('statement_version')
    # SQLite (3.35 and later) drops a column in place: no copy of the table.
    op.drop_column('signature', 'statement_version')
    op.drop_column('petition', 'statement_version')
