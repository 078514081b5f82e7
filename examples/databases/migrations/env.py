"""Alembic's entry point: the database from DATABASE_URL, the models from migration_models."""

from alembic import context
from dbconfig import database_url, make_engine
from migration_models import Base
from sqlalchemy import pool

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """`alembic upgrade head --sql`: print the SQL instead of running it."""
    context.configure(url=database_url(), target_metadata=target_metadata,
                      literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(poolclass=pool.NullPool)
    with engine.connect() as connection:
        # One transaction per revision: the expand commits before the contract begins.
        context.configure(connection=connection, target_metadata=target_metadata,
                          transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
