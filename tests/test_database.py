"""The connection pool on PostgreSQL: a connection the server dropped while it sat idle in the
pool is replaced before a request sees it, without a round trip on every busy request."""

import psycopg
import pytest
from sqlalchemy import exc, text

from petition import database
from petition.extensions import db


@pytest.fixture
def postgres(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the idle ping is for a database server")
        yield db.engine
        db.engine.dispose()


def drop_every_other_connection(engine) -> None:
    """What a server restart does to the pool: every backend of this database but one goes."""
    with engine.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        # And this one too, from a connection that is not in the pool.
        own = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as outside:
        outside.execute("SELECT pg_terminate_backend(%s)", (own,))


def backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar()


def test_a_connection_dropped_while_idle_is_replaced_unseen(postgres, monkeypatch):
    before = backend_pid(postgres)
    drop_every_other_connection(postgres)
    monkeypatch.setattr(database, "IDLE_BEFORE_PING", 0)

    after = backend_pid(postgres)

    assert after != before


def test_without_the_ping_the_dropped_connection_would_fail_the_request(postgres, monkeypatch):
    """The check above can fail: a connection used a moment ago is handed out untested."""
    backend_pid(postgres)
    drop_every_other_connection(postgres)
    monkeypatch.setattr(database, "IDLE_BEFORE_PING", 3600)

    with pytest.raises(exc.OperationalError):
        backend_pid(postgres)
