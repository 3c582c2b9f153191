"""mentor hand-off: mentors channel and tags per tenant, requests, their posts, board jobs

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OPEN = sa.text("state IN ('requested', 'claimed', 'released')")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mentor_channels",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("platform", "tenant", name=op.f("pk_mentor_channels")),
    )
    op.create_table(
        "mentor_tags",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("mentor_id", sa.String(length=64), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("platform", "tenant", "mentor_id", name=op.f("pk_mentor_tags")),
    )
    op.create_table(
        "mentor_requests",
        sa.Column("id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("consultation_id", BigId, nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("copy_checkins", sa.Boolean(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", WHEN, nullable=True),
        sa.Column("mentor_channel", sa.String(length=64), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_mentor_requests_consultation_id_consultations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_mentor_requests_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentor_requests")),
    )
    with op.batch_alter_table("mentor_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mentor_requests_consultation_id"), ["consultation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_mentor_requests_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "uq_mentor_requests_open",
            ["user_id"],
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )
    op.create_table(
        "mentor_posts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("request_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["mentor_requests.id"],
            name=op.f("fk_mentor_posts_request_id_mentor_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentor_posts")),
    )
    with op.batch_alter_table("mentor_posts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mentor_posts_request_id"), ["request_id"], unique=False
        )
    op.create_table(
        "mentor_jobs",
        sa.Column("id", BigId, nullable=False),
        sa.Column("request_id", BigId, nullable=True),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("ref", sa.String(length=64), nullable=True),
        sa.Column("body", sa.JSON(), nullable=True),
        sa.Column("due_at", WHEN, nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", WHEN, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["mentor_requests.id"],
            name=op.f("fk_mentor_jobs_request_id_mentor_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentor_jobs")),
    )
    with op.batch_alter_table("mentor_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_mentor_jobs_due", ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_mentor_jobs_request_id"), ["request_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mentor_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mentor_jobs_request_id"))
        batch_op.drop_index("ix_mentor_jobs_due")
    op.drop_table("mentor_jobs")
    with op.batch_alter_table("mentor_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mentor_posts_request_id"))
    op.drop_table("mentor_posts")
    with op.batch_alter_table("mentor_requests", schema=None) as batch_op:
        batch_op.drop_index("uq_mentor_requests_open", sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.drop_index(batch_op.f("ix_mentor_requests_user_id"))
        batch_op.drop_index(batch_op.f("ix_mentor_requests_consultation_id"))
    op.drop_table("mentor_requests")
    op.drop_table("mentor_tags")
    op.drop_table("mentor_channels")
