"""Tickets, calendars and inquiries: an email's QR code and Reply-To, the calendar UID and SEQUENCE of known events,
a guest's language, and the moments of buyers' inquiries (their limits)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import shared.columns

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Columns added in place on both databases (the SEQUENCE with a default for the events already known); batch mode
# lets SQLite drop them again on downgrade.
def upgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ticket_code", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column("reply_to", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True))
    with op.batch_alter_table("known_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calendar_uid", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("calendar_sequence", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("known_registration", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True))
    op.create_table(
        "inquiry",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("company_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("client", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", shared.columns.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("inquiry", schema=None) as batch_op:
        batch_op.create_index("ix_inquiry_client", ["client", "created_at"], unique=False)
        batch_op.create_index("ix_inquiry_company", ["company_id", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("inquiry")
    with op.batch_alter_table("known_registration", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("known_event", schema=None) as batch_op:
        batch_op.drop_column("calendar_sequence")
        batch_op.drop_column("calendar_uid")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("reply_to")
        batch_op.drop_column("ticket_code")
