"""check-ins: reminder rows with leases, their outcomes, and where a time zone came from

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PENDING = sa.text("state = 'pending'")
CATCHUP_PENDING = sa.text("kind = 'catchup' AND state = 'pending'")


def upgrade() -> None:
    op.create_table(
        "checkins",
        sa.Column("id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("plan_item_id", BigId, nullable=True),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("interval_days", sa.Integer(), nullable=True),
        sa.Column("anchor", sa.Date(), nullable=True),
        sa.Column("at_time", sa.String(length=5), nullable=True),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=False),
        sa.Column("salt", sa.String(length=8), nullable=False),
        sa.Column("local_due", sa.DateTime(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_occurrence", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("missed_pending", sa.Boolean(), nullable=False),
        sa.Column("missed_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_item_id"],
            ["plan_items.id"],
            name=op.f("fk_checkins_plan_item_id_plan_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_checkins_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkins")),
    )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.create_index("ix_checkins_due", ["state", "due_at"], unique=False)
        batch_op.create_index("ix_checkins_lease", ["state", "lease_until"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_checkins_plan_item_id"), ["plan_item_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_checkins_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "uq_checkins_catchup_pending",
            ["user_id"],
            unique=True,
            sqlite_where=CATCHUP_PENDING,
            postgresql_where=CATCHUP_PENDING,
        )
        batch_op.create_index(
            "uq_checkins_item_pending",
            ["plan_item_id"],
            unique=True,
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        )

    op.create_table(
        "checkin_outcomes",
        sa.Column("id", BigId, nullable=False),
        sa.Column("checkin_id", BigId, nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkin_id"],
            ["checkins.id"],
            name=op.f("fk_checkin_outcomes_checkin_id_checkins"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_outcomes")),
        sa.UniqueConstraint(
            "checkin_id", "occurrence", name=op.f("uq_checkin_outcomes_checkin_id")
        ),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone_source", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("timezone_source")
    op.drop_table("checkin_outcomes")
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_checkins_item_pending", sqlite_where=PENDING, postgresql_where=PENDING
        )
        batch_op.drop_index(
            "uq_checkins_catchup_pending",
            sqlite_where=CATCHUP_PENDING,
            postgresql_where=CATCHUP_PENDING,
        )
        batch_op.drop_index(batch_op.f("ix_checkins_user_id"))
        batch_op.drop_index(batch_op.f("ix_checkins_plan_item_id"))
        batch_op.drop_index("ix_checkins_lease")
        batch_op.drop_index("ix_checkins_due")
    op.drop_table("checkins")
