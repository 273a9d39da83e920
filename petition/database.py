"""Engine settings that depend on the database in use, and the health check's query."""

import time

from sqlalchemy import event, exc, text

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
        # would checkpoint every hundred or so signatures. The log grows to ~40 MB.
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
        cursor.close()


def ping_when_idle(engine) -> None:
    """Test a pooled connection before handing it out, as ``pool_pre_ping`` does, but only when
    it has been idle ``IDLE_BEFORE_PING`` seconds: a restarted server is noticed after a quiet
    spell without a round trip on every request of a busy one. A dead connection is replaced at
    once, unseen by the request; one that dies while in use fails its request, and SQLAlchemy
    then empties the pool."""

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


def database_answers() -> bool:
    """Whether the database answers a trivial query."""
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
        return False
