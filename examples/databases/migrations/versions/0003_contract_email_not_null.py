"""contract: email NOT NULL, once every row has one (after the backfill)

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


# --8<-- [start:contract]
def upgrade() -> None:
    # Each step commits on its own, so no strong lock is held across the slow one.
    # NOT VALID: a brief lock, no scan. VALIDATE scans without blocking writes. SET NOT NULL
    # then trusts the validated constraint instead of scanning again under its strong lock.
    with op.get_context().autocommit_block():
        op.execute("SET lock_timeout = '2s'")
        op.execute("ALTER TABLE customers ADD CONSTRAINT customers_email_not_null "
                   "CHECK (email IS NOT NULL) NOT VALID")
        op.execute("ALTER TABLE customers VALIDATE CONSTRAINT customers_email_not_null")
        op.alter_column("customers", "email", nullable=False)
        op.drop_constraint("customers_email_not_null", "customers", type_="check")


def downgrade() -> None:
    op.alter_column("customers", "email", nullable=True)
# --8<-- [end:contract]
