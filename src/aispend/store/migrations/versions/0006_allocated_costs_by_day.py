"""allocated costs indexed by organisation and day; one head again

Reports read ``allocated_costs`` of one organisation over a range of days (by model, API
key and user); with only an ``org_id`` index they read every day the organisation has.
The ``(org_id, day)`` index replaces it (it answers ``org_id`` alone too). This revision
also joins the three heads that branched from 0002 (0003, 0004, 0005).

Revision ID: 0006
Revises: 0003, 0004, 0005
Create Date: 2026-12-05 06:40:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = ("0003", "0004", "0005")
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("allocated_costs", schema=None) as batch_op:
        batch_op.create_index("ix_allocated_costs_org_day", ["org_id", "day"], unique=False)
        batch_op.drop_index("ix_allocated_costs_org_id")


def downgrade() -> None:
    with op.batch_alter_table("allocated_costs", schema=None) as batch_op:
        batch_op.create_index("ix_allocated_costs_org_id", ["org_id"], unique=False)
        batch_op.drop_index("ix_allocated_costs_org_day")
