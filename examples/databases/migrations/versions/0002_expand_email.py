"""expand: a nullable email column, which old and new code can both live with

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


# --8<-- [start:expand]
def upgrade() -> None:
    op.execute("SET lock_timeout = '2s'")  # give up rather than queue every query behind us
    op.add_column("customers", sa.Column("email", sa.String(200), nullable=True))


def downgrade() -> None:
    op.drop_column("customers", "email")
# --8<-- [end:expand]
