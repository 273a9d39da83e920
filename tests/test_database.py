"""The connection pool on PostgreSQL: a connection the server dropped while it sat idle in the
pool is replaced before a request sees it, without a round trip on every busy request; one lost
while signing fails that signature alone. A signature is stored with its email or not at all."""

import psycopg
import pytest
from sqlalchemy import exc, select, text

from petition import database
from petition.extensions import db
from petition.mail import email_values
from petition.models import OutboxMessage, Signature
from petition.petitions import pages
from petition.signing import services

from .support import close_connections


@pytest.fixture
def postgres(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the idle ping is for a database server")
        yield db.engine
        db.session.remove()  # its connection back to the pool before the pool is emptied
    # The tests drop the server's connections under the pool.
    close_connections(app)


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


def terms_of(app, slug: str):
    """What the sign view reads of a petition before it signs."""
    with app.app_context(), app.test_request_context():
        return pages.terms_of(slug)


def sign_as_the_view_does(app, terms, email: str):
    """Run the signing service for ``email``, in a request of its own, as the sign view does."""
    fields = {"kind": Signature.INDIVIDUAL, "name": "Ana Quispe", "email": email, "country": "PE"}
    # An application context of its own, as a request has, whose end returns its connection.
    with app.app_context(), app.test_request_context():
        return services.sign(terms, fields)


def stored_emails(app) -> list[tuple[str, str | None]]:
    """Each signature's address beside the address its email is queued to, in signing order."""
    with app.app_context():
        query = (
            select(Signature.email, OutboxMessage.recipient)
            .outerjoin(OutboxMessage, OutboxMessage.signature_id == Signature.id)
            .order_by(Signature.id)
        )
        return [tuple(row) for row in db.session.execute(query)]


def test_a_signature_and_its_email_are_stored_together_or_not_at_all(app, petition, monkeypatch):
    """A signature whose email cannot be queued is not stored either, and the request after
    it signs as usual."""
    terms = terms_of(app, petition.slug)
    sign_as_the_view_does(app, terms, "before@example.org")

    def unsendable(recipient, *args, **kwargs):
        return email_values(None, *args, **kwargs)  # no recipient: the outbox refuses the row

    monkeypatch.setattr(services, "email_values", unsendable)
    with pytest.raises(exc.IntegrityError):
        sign_as_the_view_does(app, terms, "refused@example.org")
    monkeypatch.undo()
    sign_as_the_view_does(app, terms, "after@example.org")

    assert stored_emails(app) == [
        ("before@example.org", "before@example.org"),
        ("after@example.org", "after@example.org"),
    ]


def test_a_connection_lost_while_signing_fails_one_signature_and_the_next_is_stored(
    app, postgres, petition, monkeypatch
):
    """A connection that the server dropped while it was in use a moment ago (so not pinged)
    fails one signature, which stores nothing; the pool then opens new connections."""
    terms = terms_of(app, petition.slug)  # read before, as from the cache: the write meets the loss
    sign_as_the_view_does(app, terms, "before@example.org")
    monkeypatch.setattr(database, "IDLE_BEFORE_PING", 3600)
    drop_every_other_connection(postgres)

    with pytest.raises(exc.OperationalError) as failed:
        sign_as_the_view_does(app, terms, "lost@example.org")

    assert failed.value.connection_invalidated
    assert sign_as_the_view_does(app, terms, "after@example.org").created
    assert stored_emails(app) == [
        ("before@example.org", "before@example.org"),
        ("after@example.org", "after@example.org"),
    ]


def test_sqlite_connections_are_set_up_for_several_writers(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's settings")
        with db.engine.connect() as connection:
            setting = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in (
                    "journal_mode",
                    "busy_timeout",
                    "foreign_keys",
                    "synchronous",
                    "wal_autocheckpoint",
                )
            }
    assert setting == {
        "journal_mode": "wal",
        "busy_timeout": 5000,
        "foreign_keys": 1,
        "synchronous": 1,  # NORMAL: a commit outlives the process; the log is synced at checkpoints
        "wal_autocheckpoint": database.WAL_CHECKPOINT_PAGES,
    }
