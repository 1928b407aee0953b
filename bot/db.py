"""Async engine and session factory; the same code serves SQLite and PostgreSQL."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(url, **kwargs)
    event.listen(engine.sync_engine, "checkout", _ping)
    return engine


def _ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Hand out no pooled connection the server has closed (a restart, an idle timeout,
    `pg_terminate_backend`): the pool then opens a fresh one. One round trip (a simple
    query), where SQLAlchemy's `pool_pre_ping` makes three on asyncpg (BEGIN, a ping,
    ROLLBACK): ~0.11 ms of CPU a checkout against 0.19–0.28. Asking the server, not only
    whether asyncpg saw the socket close, also catches a connection that has read the
    server's goodbye but not yet its end (seen at a restart under load)."""
    try:
        dbapi_connection.run_async(lambda connection: connection.execute("SELECT 1"))
    except Exception as exc:
        raise DisconnectionError("the server closed this connection") from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Enforce foreign keys and let readers and one writer work at once."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@contextlib.asynccontextmanager
async def opened(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session, as `async with sessionmaker()` gives one, closed in place if it began no
    transaction: it then holds no connection, so closing it does no IO and needs neither the
    greenlet nor the task of its own that AsyncSession's exit makes (~30 µs; most text
    reports' update sessions, whose batch has a session of its own, are such)."""
    session = sessionmaker()
    try:
        yield session
    finally:
        if session.in_transaction():
            async with session:  # closed to completion, even if this task is cancelled meanwhile
                pass
        else:
            session.sync_session.close()


_AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}


async def standalone(session: AsyncSession) -> AsyncConnection:
    """A fresh session's connection, for statements that each stand alone (a read; one
    executemany, which asyncpg runs atomically): in autocommit on PostgreSQL, which spares
    the BEGIN and the ROLLBACK or COMMIT round trips, ~0.15 ms of CPU a use on asyncpg.
    SQLite's is left as it is: it begins no transaction before a read anyway, and in
    autocommit an executemany would commit row by row."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    return await session.connection(execution_options=_AUTOCOMMIT if postgresql else None)


async def _server_execute(admin_url: str, *statements: str) -> None:
    """Statements that cannot run in a transaction (CREATE/DROP DATABASE), on the server."""
    url = make_url(admin_url)
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database or "postgres",
    )
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@contextlib.contextmanager
def throwaway_database(admin_url: str, prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the server `admin_url` names, dropped afterwards:
    for the test suite and the benchmarks, which must not touch a real one."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    asyncio.run(_server_execute(admin_url, f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(drivername="postgresql+asyncpg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        asyncio.run(_server_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
