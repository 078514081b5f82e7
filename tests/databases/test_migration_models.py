"""Q39: the migrations match the models, and autogenerate sees a change to them."""

import migration_models
import zero_downtime
from alembic import command
from alembic.autogenerate import compare_metadata, produce_migrations, render_python_code
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, String, Table


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


def test_autogenerate_sees_a_renamed_column_as_a_drop_and_an_add(engine):
    command.upgrade(zero_downtime.alembic_config(), "head")
    renamed = MetaData()
    Table("customers", renamed, Column("id", Integer, primary_key=True),
          Column("name", String(100), nullable=False),
          Column("email_address", String(200), nullable=False))  # was: email
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), renamed)
    assert sorted((d[0], d[3].name) for d in diffs) == [("add_column", "email_address"),
                                                        ("remove_column", "email")]
