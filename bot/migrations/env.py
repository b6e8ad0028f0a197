"""Alembic environment: run migrations on a connection we are handed, or on DATABASE_URL.

`bot.store.upgrade_database` passes its own connection (in `config.attributes`), which is
how `serve`, `chat` and `migrate` upgrade without an alembic.ini. The `alembic` command
line (for writing a new revision) uses `sqlalchemy.url` from alembic.ini or DATABASE_URL.
"""

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.pool import NullPool

import bot.relay_store  # noqa: F401  (its table is part of the schema)
from bot.store import async_url, database_url, ensure_folder, make_engine, metadata

config = context.config
if config.config_file_name is not None and "connection" not in config.attributes:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def run_migrations(connection: Connection) -> None:
    """Apply the pending revisions on one connection."""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_on_url(url: str) -> None:
    """Open a short-lived engine for the `alembic` command line."""
    ensure_folder(async_url(url))
    engine = make_engine(async_url(url), poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


def url_from_config() -> str:
    """Return the URL from alembic.ini when set, else the application's setting."""
    return config.get_main_option("sqlalchemy.url") or database_url()


if context.is_offline_mode():
    context.configure(
        url=str(async_url(url_from_config())),
        target_metadata=metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
elif (handed := config.attributes.get("connection")) is not None:
    run_migrations(handed)
else:
    asyncio.run(run_on_url(url_from_config()))
