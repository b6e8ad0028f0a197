"""Initial schema: conversations, daily event counters, seen Telegram updates.

Revision ID: 0001
Revises:
Create Date: 2025-11-23

Nothing here can hold a name, a raw channel id, an IP address or free text: a
conversation is keyed by an HMAC pseudonym, counters have no user key at all, and
Telegram update ids are only kept for a few minutes to drop redeliveries.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the three tables."""
    op.create_table(
        "conversations",
        # HMAC-SHA256 pseudonym of "channel:user", hex.
        sa.Column("key", sa.String(64), nullable=False),
        # The engine's small JSON state (choices and scores, never free text).
        sa.Column("state", sa.Text(), nullable=False),
        # Compare-and-set counter: a writer must name the version it read.
        sa.Column("version", sa.Integer(), nullable=False),
        # Hash of the web channel's bearer token; NULL for other channels.
        sa.Column("secret_hash", sa.String(128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_conversations"),
    )
    # Retention purges by last touch.
    op.create_index("ix_conversations_updated_at", "conversations", ["updated_at"])

    op.create_table(
        "event_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("campaign", sa.String(64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        # One row per day and combination; counting is an upsert on this key.
        sa.PrimaryKeyConstraint(
            "day", "name", "value", "channel", "lang", "campaign", name="pk_event_counts"
        ),
    )

    op.create_table(
        "seen_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name="pk_seen_updates"),
    )
    op.create_index("ix_seen_updates_seen_at", "seen_updates", ["seen_at"])


def downgrade() -> None:
    """Drop the three tables (and every conversation with them)."""
    op.drop_index("ix_seen_updates_seen_at", table_name="seen_updates")
    op.drop_table("seen_updates")
    op.drop_table("event_counts")
    op.drop_index("ix_conversations_updated_at", table_name="conversations")
    op.drop_table("conversations")
