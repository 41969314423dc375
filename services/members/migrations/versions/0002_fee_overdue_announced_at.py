"""fee.overdue_announced_at: when members.fee.overdue went out for the fee (none yet: null)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.columns

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A nullable column is added in place on both databases; batch mode lets SQLite drop it again on downgrade.
def upgrade() -> None:
    with op.batch_alter_table("fee", schema=None) as batch_op:
        batch_op.add_column(sa.Column("overdue_announced_at", shared.columns.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fee", schema=None) as batch_op:
        batch_op.drop_column("overdue_announced_at")
