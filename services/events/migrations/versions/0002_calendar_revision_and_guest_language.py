"""event.revision: the SEQUENCE of the event's calendar entries (0 for every event so far); registration.language:
the language a guest chose (Italian for the guests registered so far, as they were written to; null for members)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Columns are added in place on both databases; batch mode lets SQLite drop them again on downgrade.
def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.Enum("it", "en", name="language", native_enum=False, length=2), nullable=True)
        )
    op.execute("UPDATE registration SET language = 'it' WHERE is_member = false")


def downgrade() -> None:
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("revision")
