"""Q39: the migrations match the models, and autogenerate sees a change to them."""

import migration_models
import zero_downtime
from alembic import command
from alembic.autogenerate import compare_metadata, produce_migrations, render_python_code
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, String


def test_at_head_the_database_matches_the_models(engine):
    command.downgrade(zero_downtime.alembic_config(), "base")
    command.upgrade(zero_downtime.alembic_config(), "head")
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn),
                                migration_models.Base.metadata) == []


def test_autogenerate_detects_a_column_added_to_the_model(engine):
    command.upgrade(zero_downtime.alembic_config(), "head")
    changed = MetaData()
    table = migration_models.Base.metadata.tables["customers"].to_metadata(changed)
    table.append_column(Column("phone", String(30)))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn)
        [diff] = compare_metadata(context, changed)
        assert diff[0] == "add_column" and diff[2] == "customers" and diff[3].name == "phone"
        code = render_python_code(produce_migrations(context, changed).upgrade_ops)
    assert "op.add_column('customers', sa.Column('phone', sa.String(length=30)" in code
