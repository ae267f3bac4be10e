"""Alembic environment: the URL comes from the config set by grid.db.upgrade()."""
from alembic import context

from grid.db import make_engine
from grid.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Batch migrations copy a table and drop the original; with foreign keys enforced
            # (grid.db turns them on) that drop fails once other rows point at it. The pragma
            # only takes effect outside a transaction, hence the commit.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
