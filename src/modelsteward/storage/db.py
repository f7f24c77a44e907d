"""The database: engine set-up for SQLite and PostgreSQL, transactions, migrations.

SQLite runs in WAL mode with ``synchronous=FULL`` (a commit returns only once the WAL is fsynced)
and write transactions start with ``BEGIN IMMEDIATE``, so there is one writer at a time across
processes. On PostgreSQL the ledger serialises writers with a row lock on its tree state.

    >>> import tempfile, pathlib
    >>> db = Database.open(f"sqlite:///{tempfile.mkdtemp()}/s.db")
    >>> db.migrate()
    >>> db.schema_revision()  # the newest migration
    '0005'
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from modelsteward.errors import InvalidInput, StewardError

__all__ = ["Database"]

_WRITE = "steward_write"


class Database:
    """An engine plus Steward's transaction conventions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Database:
        """Create an engine for ``url`` (``sqlite:///…`` or ``postgresql+psycopg://…``).

        Raises:
            InvalidInput: the URL is malformed or names an unsupported database.
        """
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise InvalidInput(
                f"STEWARD_DATABASE_URL is not a database URL: {url!r}",
                hint="e.g. sqlite:///path/steward.db or postgresql+psycopg://user@host/db",
            ) from exc
        if parsed.get_backend_name() == "sqlite":
            return cls(_sqlite_engine(parsed))
        if parsed.get_backend_name() == "postgresql":
            try:
                return cls(create_engine(parsed, pool_pre_ping=True, pool_size=10))
            except (ArgumentError, ImportError) as exc:  # unknown or missing driver
                raise InvalidInput(
                    f"cannot use database driver {parsed.drivername!r}: {exc}",
                    hint="use postgresql+psycopg://user:pass@host/db",
                ) from exc
        raise InvalidInput(
            f"unsupported database {parsed.get_backend_name()!r}",
            hint="Steward runs on SQLite (default) or PostgreSQL",
        )

    @property
    def is_sqlite(self) -> bool:
        """True on the embedded SQLite store."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (exclusive on SQLite); committed durably when the block ends."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{_WRITE: True})
            with _translate_errors(), conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction that sees one consistent snapshot."""
        with self.engine.connect() as conn, _translate_errors(), conn.begin():
            if not self.is_sqlite:
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield conn

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (safe to run repeatedly)."""
        from alembic import command  # only init migrates; keep it off every command's start-up
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", "modelsteward.storage:migrations")
        with self.write() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def schema_revision(self) -> str | None:
        """The applied Alembic revision, or ``None`` on an empty database."""
        from alembic.runtime.migration import MigrationContext

        with self.read() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


def _sqlite_engine(url: URL) -> Engine:
    # a pooled connection runs the PRAGMAs once, not on every transaction; SQLAlchemy 2 pools
    # file-backed SQLite with QueuePool and allows use from the writer thread
    engine = create_engine(url, connect_args={"timeout": 60})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (pysqlite's is deferred)
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def _translate_errors() -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        raise StewardError(
            f"database error: {exc.orig}",
            hint="check STEWARD_DATABASE_URL and that it is reachable",
        ) from exc
