"""checkins.deliveries: how many times each check-in reached its person (reply rates)

Why: a recurring check-in moves to its next occurrence when it is sent, so an unanswered
delivery left no trace once the next one went out; the admin statistics need "answered /
delivered". Existing rows are filled with what the history still shows: every answered
occurrence was delivered, and so was the last sent one if it has no outcome yet (an older
unanswered delivery of a recurring check-in cannot be recovered).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = """
UPDATE checkins SET deliveries =
    (SELECT COUNT(*) FROM checkin_outcomes o
      WHERE o.checkin_id = checkins.id AND o.outcome NOT IN ('missed', 'failed'))
  + CASE WHEN checkins.sent_occurrence IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM checkin_outcomes o
         WHERE o.checkin_id = checkins.id AND o.occurrence = checkins.sent_occurrence)
    THEN 1 ELSE 0 END
"""


def upgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("deliveries", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute(BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_column("deliveries")
