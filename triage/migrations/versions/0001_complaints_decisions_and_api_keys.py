"""complaints, decisions and api keys

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23

Timestamps are naive UTC (triage.db.UTCDateTime); the suggestion is JSON (JSONB on PostgreSQL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('name', name=op.f('uq_api_keys_name')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_api_keys_token_sha256'))
    )
    op.create_table('complaints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('revisions', sa.Integer(), nullable=False),
    sa.Column('model_version', sa.String(length=200), nullable=False),
    sa.Column('suggestion', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('needs_review', sa.Boolean(), nullable=False),
    sa.Column('min_confidence', sa.Float(), nullable=False),
    sa.Column('suggested_category', sa.String(length=64), nullable=False),
    sa.Column('suggested_opd', sa.String(length=64), nullable=False),
    sa.Column('suggested_maladministration', sa.String(length=64), nullable=False),
    sa.Column('category_confidence', sa.Float(), nullable=False),
    sa.Column('opd_confidence', sa.Float(), nullable=False),
    sa.Column('maladministration_confidence', sa.Float(), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('opd', sa.String(length=64), nullable=False),
    sa.Column('maladministration', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints')),
    sa.UniqueConstraint('external_id', name=op.f('uq_complaints_external_id'))
    )
    op.create_index(op.f('ix_complaints_category'), 'complaints', ['category'], unique=False)
    op.create_index(op.f('ix_complaints_channel'), 'complaints', ['channel'], unique=False)
    op.create_index(op.f('ix_complaints_maladministration'), 'complaints', ['maladministration'], unique=False)
    op.create_index(op.f('ix_complaints_min_confidence'), 'complaints', ['min_confidence'], unique=False)
    op.create_index(op.f('ix_complaints_model_version'), 'complaints', ['model_version'], unique=False)
    op.create_index(op.f('ix_complaints_needs_review'), 'complaints', ['needs_review'], unique=False)
    op.create_index(op.f('ix_complaints_opd'), 'complaints', ['opd'], unique=False)
    op.create_index(op.f('ix_complaints_received_at'), 'complaints', ['received_at'], unique=False)
    op.create_index(op.f('ix_complaints_status'), 'complaints', ['status'], unique=False)
    op.create_index(op.f('ix_complaints_suggested_category'), 'complaints', ['suggested_category'], unique=False)
    op.create_index(op.f('ix_complaints_suggested_maladministration'), 'complaints', ['suggested_maladministration'], unique=False)
    op.create_index(op.f('ix_complaints_suggested_opd'), 'complaints', ['suggested_opd'], unique=False)

    op.create_table('decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('opd', sa.String(length=64), nullable=False),
    sa.Column('maladministration', sa.String(length=64), nullable=False),
    sa.Column('category_kept', sa.Boolean(), nullable=False),
    sa.Column('opd_kept', sa.Boolean(), nullable=False),
    sa.Column('maladministration_kept', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=False),
    sa.Column('api_key_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_decisions_api_key_id_api_keys'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_decisions_complaint_id_complaints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions')),
    sa.UniqueConstraint('complaint_id', 'revision', name='uq_decisions_complaint_id_revision')
    )
    op.create_index(op.f('ix_decisions_complaint_id'), 'decisions', ['complaint_id'], unique=False)
    op.create_index(op.f('ix_decisions_decided_at'), 'decisions', ['decided_at'], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes.
    op.drop_table('decisions')
    op.drop_table('complaints')
    op.drop_table('api_keys')
