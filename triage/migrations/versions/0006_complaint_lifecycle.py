"""complaint lifecycle: events, stage and due date; focal point keys

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

Adds ``complaint_events`` (append-only), ``complaints.stage``/``stage_at``/``due_at`` and ``api_keys.opds``
(the OPD codes of a focal point key). Every stored complaint and decision is kept: a decided complaint
becomes ``routed``, with one ``route`` event carrying its latest decision (who, when, OPD, revision,
``migrated: true``) and the respond deadline counted from it; a pending one stays ``received``, due by the
route deadline from its ``received_at``. Deadlines are the defaults (triage/deadlines.py), without the
deployment's cuti bersama. Columns are added with ALTER TABLE, so the complaints table and its search
triggers are untouched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from sqlalchemy.dialects.postgresql import JSONB

    json = sa.JSON().with_variant(JSONB(), 'postgresql')
    op.create_table('complaint_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('api_key_id', sa.Integer(), nullable=True),
    sa.Column('opd', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('data', json, nullable=True),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_complaint_events_api_key_id_api_keys'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'],
                            name=op.f('fk_complaint_events_complaint_id_complaints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_events'))
    )
    for column in ('complaint_id', 'stage', 'at', 'opd'):
        op.create_index(op.f(f'ix_complaint_events_{column}'), 'complaint_events', [column], unique=False)

    op.add_column('complaints', sa.Column('stage', sa.String(length=16), nullable=False, server_default='received'))
    op.add_column('complaints', sa.Column('stage_at', sa.DateTime(), nullable=True))
    op.add_column('complaints', sa.Column('due_at', sa.DateTime(), nullable=True))
    op.create_index(op.f('ix_complaints_stage'), 'complaints', ['stage'], unique=False)
    op.create_index(op.f('ix_complaints_due_at'), 'complaints', ['due_at'], unique=False)
    op.add_column('api_keys', sa.Column('opds', json, nullable=True))
    _existing_complaints_enter_the_lifecycle(json)


def _existing_complaints_enter_the_lifecycle(json) -> None:
    from datetime import timezone

    from triage.deadlines import Deadlines

    # The spans in force when this migration was written, frozen here: changing the application's defaults
    # later must not change what re-running this migration gives.
    deadlines = Deadlines.of({"route": "3 hari kerja", "respond": "5 hari kerja", "settle": "60 hari"})
    bind = op.get_bind()
    complaints = sa.table('complaints', sa.column('id', sa.Integer), sa.column('status', sa.String),
                          sa.column('revisions', sa.Integer), sa.column('received_at', sa.DateTime),
                          sa.column('stage', sa.String), sa.column('stage_at', sa.DateTime),
                          sa.column('due_at', sa.DateTime))
    decisions = sa.table('decisions', sa.column('complaint_id', sa.Integer), sa.column('revision', sa.Integer),
                         sa.column('opd', sa.String), sa.column('note', sa.Text), sa.column('decided_by', sa.String),
                         sa.column('api_key_id', sa.Integer), sa.column('decided_at', sa.DateTime))
    events = sa.table('complaint_events', sa.column('complaint_id', sa.Integer), sa.column('action', sa.String),
                      sa.column('stage', sa.String), sa.column('at', sa.DateTime), sa.column('actor', sa.String),
                      sa.column('api_key_id', sa.Integer), sa.column('opd', sa.String), sa.column('note', sa.Text),
                      sa.column('data', json))

    def naive(moment):  # stored as naive UTC (triage.db.UTCDateTime)
        return moment.astimezone(timezone.utc).replace(tzinfo=None)

    def aware(moment):
        return moment.replace(tzinfo=timezone.utc)

    latest = (sa.select(complaints.c.id, decisions.c.opd, decisions.c.note, decisions.c.decided_by,
                        decisions.c.api_key_id, decisions.c.decided_at, decisions.c.revision)
              .join(decisions, (decisions.c.complaint_id == complaints.c.id)
                    & (decisions.c.revision == complaints.c.revisions))
              .where(complaints.c.status == 'decided'))
    rows = bind.execute(latest).all()
    for cid, opd, note, by, key_id, at, revision in rows:
        bind.execute(events.insert().values(complaint_id=cid, action='route', stage='routed', at=at, actor=by,
                                            api_key_id=key_id, opd=opd, note=note,
                                            data={'revision': revision, 'migrated': True}))
        bind.execute(complaints.update().where(complaints.c.id == cid).values(
            stage='routed', stage_at=at, due_at=naive(deadlines.due('respond', aware(at)))))
    pending = bind.execute(sa.select(complaints.c.id, complaints.c.received_at)
                           .where(complaints.c.stage == 'received')).all()
    for cid, received_at in pending:
        bind.execute(complaints.update().where(complaints.c.id == cid).values(
            stage_at=received_at, due_at=naive(deadlines.due('route', aware(received_at)))))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+ too), not a batch: a batch rebuilds api_keys by dropping it,
    # and with SQLite's foreign keys on that nulls decisions.api_key_id and deletes the idempotency keys.
    op.drop_column('api_keys', 'opds')
    op.drop_index(op.f('ix_complaints_due_at'), table_name='complaints')
    op.drop_index(op.f('ix_complaints_stage'), table_name='complaints')
    for column in ('due_at', 'stage_at', 'stage'):
        op.drop_column('complaints', column)
    op.drop_table('complaint_events')
