"""Engine settings that depend on the database in use; INSERTs run on the driver's cursor."""

import contextlib
import time

from sqlalchemy import bindparam, event, exc, insert, select, text

from .config import AUTOCOMMIT_BIND
from .extensions import db

# A pooled PostgreSQL connection idle this long is tested before use (see ping_when_idle).
IDLE_BEFORE_PING = 10  # seconds
# SQLite copies its write-ahead log back into the database every this many pages.
WAL_CHECKPOINT_PAGES = 10_000


def configure_engine(app):
    """Give SQLite a write-ahead log, a busy timeout and enforced foreign keys; make a server
    database's pool hand out only live connections."""
    with app.app_context():
        engine = db.engine
        engines = list(db.engines.values())
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        if "pool_pre_ping" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]:
            for each in engines:
                ping_when_idle(each)
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Copy the log back into the database (and sync it) every 10,000 pages instead of 1,000:
        # a signature writes a dozen pages (its row, four indexes, its email), so the default
        # checkpointed every hundred or so; signing went 7 % faster. The log grows to ~40 MB.
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "savepoint")
    def on_savepoint(connection, _name):
        # pysqlite starts a transaction only at the first write, so a SAVEPOINT taken before any
        # write would be the outermost transaction, and releasing it would commit. Open the
        # transaction first (taking the write lock, which waits on busy_timeout) so that what
        # follows in the request commits or rolls back together with it.
        dbapi_connection = connection.connection.driver_connection
        if not dbapi_connection.in_transaction:
            dbapi_connection.execute("BEGIN IMMEDIATE")


def ping_when_idle(engine) -> None:
    """Test a pooled connection before handing it out, as ``pool_pre_ping`` does, but only when
    it has been idle ``IDLE_BEFORE_PING`` seconds: a restarted server is noticed after a quiet
    spell without a round trip on every request of a busy one (on signing, the ping was a
    quarter of the client's time). A dead connection is replaced at once, unseen by the request;
    one that dies while in use fails its request, and SQLAlchemy then empties the pool."""

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection, record):
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection, record, _proxy):
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < IDLE_BEFORE_PING:
            return  # new, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001 - whatever the failure, take another connection
            raise exc.DisconnectionError("an idle connection no longer answers") from error


def autocommit_engine():
    """The engine whose connections stay in autocommit (``AUTOCOMMIT_BIND``, on PostgreSQL),
    else the application's engine."""
    return db.engines.get(AUTOCOMMIT_BIND) or db.engine


def database_answers() -> bool:
    """Whether the database answers a trivial query."""
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
        return False


def typed_columns(columns, dialect) -> list[tuple]:
    """For each column: its key, its Python-side default and how a value of its type is sent
    to this driver (SQLAlchemy's bind processor, or None)."""
    for column in columns:
        if column.default is not None and not (column.default.is_scalar or column.default.is_callable):
            raise TypeError(f"{column}: only plain values and functions as defaults")
        if column.server_default is not None and column.default is None:
            raise TypeError(f"{column}: every column is sent, so its server default would never apply")
    return [
        (column.key, column.default, column.type.dialect_impl(dialect).bind_processor(dialect))
        for column in columns
    ]


def bound_insert(table, columns, prefix: str = ""):
    """``INSERT INTO table`` of ``columns``, each value a parameter named ``prefix`` + its key."""
    return insert(table).values({column.key: bindparam(prefix + column.key) for column in columns})


def driver_values(typed: list[tuple], values: dict, prefix: str = "") -> dict:
    """``values`` for the driver, as SQLAlchemy would send them: defaults filled in, each value
    converted for its column's type; keyed by bind name (``prefix`` + column key)."""
    params = {}
    for key, default, process in typed:
        if key in values:
            value = values[key]
        elif default is None:
            value = None
        else:
            value = default.arg(None) if default.is_callable else default.arg
        params[prefix + key] = process(value) if process is not None and value is not None else value
    return params


class DirectInsert:
    """An INSERT of one row into ``table``, executed on the driver's cursor.

    SQLAlchemy compiles the statement and gives each column's bind processor (how a value of its
    type is sent to this driver) once per dialect; a call then fills in the columns' Python-side
    defaults, converts the values exactly as SQLAlchemy would, and executes. What it skips is the
    engine's work around every execution (contexts, events, result objects), which on signing
    cost more than the two INSERTs themselves. Use it inside :func:`driver_transaction`.
    """

    def __init__(self, table):
        self.table = table
        self.id_column = table.autoincrement_column
        self.columns = [column for column in table.columns if column is not self.id_column]
        self._prepared: dict[tuple[str, str], tuple] = {}

    def _prepare(self, dialect) -> tuple:
        key = (dialect.name, dialect.driver)
        if key not in self._prepared:
            statement = bound_insert(self.table, self.columns)
            if self.id_column is not None and dialect.insert_returning:
                statement = statement.returning(self.id_column)
            compiled = statement.compile(dialect=dialect)
            self._prepared[key] = (str(compiled), compiled.positiontup, typed_columns(self.columns, dialect))
        return self._prepared[key]

    def __call__(self, transaction: "DriverTransaction", values: dict) -> int | None:
        """Insert ``values`` (column keys; the others get their defaults); return the new id."""
        sql, positions, typed = self._prepare(transaction.dialect)
        params = driver_values(typed, values)
        transaction.execute(sql, [params[key] for key in positions] if positions else params)
        if self.id_column is None:
            return None
        cursor = transaction.cursor
        return cursor.fetchone()[0] if transaction.dialect.insert_returning else cursor.lastrowid


class DirectInsertWithChild:
    """A row of ``parent`` and a row of ``child`` whose ``link`` column points to it, stored
    together or not at all, on the driver's cursor (see :class:`DirectInsert`).

    On PostgreSQL it is one statement, the parent's INSERT in a ``WITH`` that the child's reads
    its id from, run in autocommit: a statement is its own transaction, so the pair takes one
    round trip instead of four (BEGIN, two INSERTs, COMMIT), which on signing halved the
    server's and the driver's work. Given :func:`autocommit_engine`, whose connections stay in
    autocommit, nothing is switched on and off around it; each pooled connection keeps one
    cursor for it, and with it the driver's adapters for the row's types. Elsewhere (SQLite has
    no INSERT in ``WITH``, and no round trips to save) it is two INSERTs in one
    :func:`driver_transaction`.
    """

    CHILD_PREFIX = "child_"
    CURSOR = "direct_insert_cursor"  # the key of a connection's own cursor in its info

    def __init__(self, parent, child, link: str):
        self.parent, self.child, self.link = DirectInsert(parent), DirectInsert(child), link
        self._prepared: dict[tuple[str, str], tuple] = {}

    def _prepare(self, dialect) -> tuple:
        key = (dialect.name, dialect.driver)
        if key not in self._prepared:
            parent, child = self.parent, self.child
            new = bound_insert(parent.table, parent.columns).returning(parent.id_column).cte("new_parent")
            columns = [column for column in child.columns if column.key != self.link]
            statement = (
                bound_insert(child.table, columns, self.CHILD_PREFIX)
                .values({self.link: select(new.c[parent.id_column.key]).scalar_subquery()})
                .add_cte(new)
                .returning(child.table.c[self.link])
            )
            self._prepared[key] = (
                str(statement.compile(dialect=dialect)),
                typed_columns(parent.columns, dialect),
                typed_columns(columns, dialect),
            )
        return self._prepared[key]

    def __call__(self, engine, values: dict, child_values: dict) -> int:
        """Store both rows; return the parent's new id. A constraint that refuses either row
        raises SQLAlchemy's IntegrityError, and neither is stored."""
        if engine.dialect.name != "postgresql":
            with driver_transaction(engine) as transaction:
                parent_id = self.parent(transaction, values)
                self.child(transaction, {**child_values, self.link: parent_id})
                return parent_id
        sql, parent_typed, child_typed = self._prepare(engine.dialect)
        params = driver_values(parent_typed, values) | driver_values(
            child_typed, child_values, self.CHILD_PREFIX
        )
        connection = engine.raw_connection()
        try:
            driver = connection.driver_connection
            switched = not driver.autocommit
            if switched:
                driver.autocommit = True
            try:
                cursor = connection.info.get(self.CURSOR)
                if cursor is None:  # a new connection (the pool empties info when it replaces one)
                    cursor = connection.info[self.CURSOR] = driver.cursor()
                DriverTransaction(connection, engine.dialect, cursor).execute(sql, params)
                return cursor.fetchone()[0]
            finally:
                if switched and connection.is_valid:
                    try:
                        driver.autocommit = False
                    except engine.dialect.loaded_dbapi.Error:
                        connection.invalidate()  # broken: the pool will open another
        finally:
            connection.close()


class DriverTransaction:
    """A transaction on one pooled DBAPI connection (see :func:`driver_transaction`), on a new
    cursor or on ``cursor``. A connection found lost when a statement fails is invalidated, so
    that the pool does not hand it out again."""

    def __init__(self, connection, dialect, cursor=None):
        self.connection = connection
        self.dialect = dialect
        self.cursor = connection.cursor() if cursor is None else cursor

    def execute(self, sql: str, params) -> None:
        try:
            self.cursor.execute(sql, params)
        except self.dialect.loaded_dbapi.Error as error:
            raise self._as_the_engine_raises(error, sql, params) from error

    def commit(self) -> None:
        try:
            self.connection.commit()
        except self.dialect.loaded_dbapi.Error as error:
            raise self._as_the_engine_raises(error, "COMMIT", None) from error

    def _as_the_engine_raises(self, error, sql, params) -> exc.DBAPIError:
        """The driver's error as SQLAlchemy's (an IntegrityError is still an IntegrityError),
        after dropping the connection if the error says it is gone, as the engine does."""
        lost = self.dialect.is_disconnect(error, self.connection.driver_connection, self.cursor)
        if lost:
            self.connection.invalidate(error)  # the pool will open another
        return exc.DBAPIError.instance(
            sql, params, error, self.dialect.loaded_dbapi.Error, connection_invalidated=lost
        )


@contextlib.contextmanager
def driver_transaction(engine):
    """Yield a :class:`DriverTransaction` on a connection from ``engine``'s pool, committed
    when the block ends and rolled back if it raises; the connection then goes back to the
    pool (its checkout events, such as the idle ping, apply as usual)."""
    connection = engine.raw_connection()
    try:
        transaction = DriverTransaction(connection, engine.dialect)
        yield transaction
        transaction.commit()
    finally:
        connection.close()  # back to the pool, which rolls back whatever was not committed
