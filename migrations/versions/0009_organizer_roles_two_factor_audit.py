"""organizer accounts: roles per petition, two-factor sign-in, sessions that end, lockout and an
audit record

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 07:08:44

- ``organizer.is_admin``: every account that exists before this migration could see every
  petition, so each becomes a site administrator; new accounts start with no role.
- ``organizer_role``: an account's role on one petition; ``petition.moderators_see_addresses``
  is whether its owners let moderators see signers' addresses.
- ``organizer.session_version`` (raised to end every session of an account), the TOTP secret
  and last accepted step, ``recovery_code`` (hashed, single use), failed logins and lockout.
- ``audit_event``: what organizers did, kept when the account or the petition goes. It takes
  over from ``moderation_event`` (one record, not two): each moderation action is copied as
  ``moderation.<action>`` with its count, without the signature ids (no signer data in the
  record), and the old table is dropped.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('organizer_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['organizer_id'], ['organizer.id'], name=op.f('fk_audit_event_organizer_id_organizer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['petition_id'], ['petition.id'], name=op.f('fk_audit_event_petition_id_petition'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_petition_id'), ['petition_id'], unique=False)

    no_detail = "'{}'::json" if op.get_bind().dialect.name == 'postgresql' else "'{}'"
    op.execute(
        "INSERT INTO audit_event (created_at, organizer_id, actor, action, petition_id, rows, detail) "
        "SELECT m.created_at, m.organizer_id, COALESCE(o.email, ''), 'moderation.' || m.action, "
        f"m.petition_id, m.signature_count, {no_detail} "
        "FROM moderation_event m LEFT JOIN organizer o ON o.id = m.organizer_id ORDER BY m.id"
    )
    with op.batch_alter_table('moderation_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_moderation_event_created_at'))
    op.drop_table('moderation_event')

    op.create_table('organizer_role',
    sa.Column('organizer_id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organizer_id'], ['organizer.id'], name=op.f('fk_organizer_role_organizer_id_organizer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['petition_id'], ['petition.id'], name=op.f('fk_organizer_role_petition_id_petition'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organizer_id', 'petition_id', name=op.f('pk_organizer_role'))
    )
    op.create_table('recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organizer_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=256), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['organizer_id'], ['organizer.id'], name=op.f('fk_recovery_code_organizer_id_organizer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code'))
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_organizer_id'), ['organizer_id'], unique=False)

    # Plain ALTER TABLE ADD COLUMN: batch mode would copy these tables on SQLite, and dropping
    # the old petition table, with foreign keys enforced, deletes every signature.
    op.add_column('organizer', sa.Column('is_admin', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('organizer', sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
    op.add_column('organizer', sa.Column('totp_secret', sa.String(length=64), nullable=True))
    op.add_column('organizer', sa.Column('totp_last_step', sa.Integer(), nullable=True))
    op.add_column('organizer', sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
    op.add_column('organizer', sa.Column('locked_until', sa.DateTime(), nullable=True))
    op.execute(sa.text("UPDATE organizer SET is_admin = :yes").bindparams(yes=True))
    op.add_column(
        'petition', sa.Column('moderators_see_addresses', sa.Boolean(), server_default=sa.false(), nullable=False)
    )


def downgrade():
    # Plain ALTER TABLE, as on the way up.
    op.execute("ALTER TABLE petition DROP COLUMN moderators_see_addresses")
    for column in ("locked_until", "failed_logins", "totp_last_step", "totp_secret", "session_version", "is_admin"):
        op.execute(f"ALTER TABLE organizer DROP COLUMN {column}")

    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_organizer_id'))

    op.drop_table('recovery_code')
    op.drop_table('organizer_role')

    op.create_table('moderation_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('organizer_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('signature_count', sa.Integer(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organizer_id'], ['organizer.id'], name=op.f('fk_moderation_event_organizer_id_organizer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['petition_id'], ['petition.id'], name=op.f('fk_moderation_event_petition_id_petition'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_event'))
    )
    with op.batch_alter_table('moderation_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_moderation_event_created_at'), ['created_at'], unique=False)
    op.execute(
        "INSERT INTO moderation_event (petition_id, organizer_id, action, signature_count, detail, created_at) "
        "SELECT petition_id, organizer_id, SUBSTR(action, 12), COALESCE(rows, 0), '', created_at "
        "FROM audit_event WHERE action LIKE 'moderation.%' AND petition_id IS NOT NULL ORDER BY id"
    )

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_petition_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_created_at'))

    op.drop_table('audit_event')
