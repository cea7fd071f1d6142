"""bulk confirmations, saved queue filters, presence

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

New tables only, plus a nullable ``decisions.batch_id``: no stored row changes. The column is added with
ALTER TABLE on both databases (SQLite allows a REFERENCES clause on an added nullable column), so the
complaints table and its search triggers are untouched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('decision_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=False),
    sa.Column('api_key_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('undone_at', sa.DateTime(), nullable=True),
    sa.Column('undone_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_decision_batches_api_key_id_api_keys'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision_batches'))
    )
    if op.get_bind().dialect.name == 'sqlite':  # alembic would rebuild the table for the constraint
        op.execute('ALTER TABLE decisions ADD COLUMN batch_id INTEGER '
                   'CONSTRAINT fk_decisions_batch_id_decision_batches '
                   'REFERENCES decision_batches (id) ON DELETE SET NULL')
    else:
        op.add_column('decisions', sa.Column('batch_id', sa.Integer(), sa.ForeignKey(
            'decision_batches.id', name=op.f('fk_decisions_batch_id_decision_batches'), ondelete='SET NULL'),
            nullable=True))
    op.create_index(op.f('ix_decisions_batch_id'), 'decisions', ['batch_id'], unique=False)

    op.create_table('saved_filters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('api_key_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_saved_filters_api_key_id_api_keys'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_filters')),
    sa.UniqueConstraint('api_key_id', 'name', name='uq_saved_filters_api_key_id_name')
    )
    op.create_index(op.f('ix_saved_filters_api_key_id'), 'saved_filters', ['api_key_id'], unique=False)

    op.create_table('presence',
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('api_key_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('seen_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_presence_api_key_id_api_keys'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_presence_complaint_id_complaints'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('complaint_id', 'api_key_id', name=op.f('pk_presence'))
    )
    op.create_index(op.f('ix_presence_seen_at'), 'presence', ['seen_at'], unique=False)


def downgrade() -> None:
    op.drop_table('presence')
    op.drop_table('saved_filters')
    op.drop_index(op.f('ix_decisions_batch_id'), table_name='decisions')
    with op.batch_alter_table('decisions') as batch:
        batch.drop_column('batch_id')
    op.drop_table('decision_batches')
