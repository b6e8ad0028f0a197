"""Relay routes: which conversation an open counsellor topic belongs to.

Revision ID: 0002
Revises: 0001
Create Date: 2025-12-01

No text and no raw ids: the topic id, the conversation's pseudonym, the channel and
language, a random code, the Telegram chat id sealed with a key the database never sees,
times and a counter. A row lives only while the chat is open.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create relay_routes."""
    op.create_table(
        "relay_routes",
        sa.Column("topic", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("address", sa.String(128), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("nudged", sa.Integer(), nullable=False),
        sa.Column("urgent", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("topic", name="pk_relay_routes"),
    )
    op.create_index("ix_relay_routes_key", "relay_routes", ["key"])


def downgrade() -> None:
    """Drop relay_routes."""
    op.drop_index("ix_relay_routes_key", table_name="relay_routes")
    op.drop_table("relay_routes")
