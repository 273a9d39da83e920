"""Engine settings that depend on the database in use."""

from sqlalchemy import event, text

from .extensions import db


def configure_engine(app):
    """Give SQLite a write-ahead log, a busy timeout and enforced foreign keys."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
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


def database_answers() -> bool:
    """Whether the database answers a trivial query."""
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
        return False
