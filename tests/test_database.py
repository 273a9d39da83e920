"""The connection pool on PostgreSQL: a connection the server dropped while it sat idle in the
pool is replaced before a request sees it, without a round trip on every busy request. INSERTs
on the driver's cursor store what the engine would have stored."""

import datetime as dt

import psycopg
import pytest
from sqlalchemy import Column, Integer, MetaData, Table, exc, func, insert, select, text

from petition import database
from petition.extensions import db
from petition.mail import email_values
from petition.models import OutboxMessage, Signature

from .support import close_connections


@pytest.fixture
def postgres(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the idle ping is for a database server")
        yield db.engine
        db.session.remove()  # its connection back to the pool before the pool is emptied
    # Both pools: the tests drop the server's connections under them.
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


def signature_row(petition_id: int, email: str, **overrides) -> dict:
    return {
        "petition_id": petition_id,
        "kind": Signature.INDIVIDUAL,
        "name": "Ana Quispe « ñ »",
        "email": email,
        "email_key": email.casefold(),
        "country": "PE",
        "public": False,
        "updates": True,
        "status": Signature.CONFIRMED,
        "confirmed_at": dt.datetime(2023, 1, 4, 12, 30, 15, 123456),
        "created_at": dt.datetime(2023, 1, 4, 12, 30, 15, 654321),
    } | overrides


def stored(table, row_id: int) -> dict:
    """A row as the database holds it, the id left out: raw SQL, no type conversion back."""
    columns = ", ".join(column.name for column in table.columns if column.name != "id")
    with db.engine.connect() as connection:
        query = text(f"SELECT {columns} FROM {table.name} WHERE id = :id")  # noqa: S608 - model names
        found = connection.execute(query, {"id": row_id})
        return dict(found.mappings().one())


def test_a_direct_insert_stores_what_the_engine_stores(app, petition):
    """Booleans, datetimes, JSON and every Python-side default come out byte for byte the same,
    on whichever database the suite runs."""
    signatures = database.DirectInsert(Signature.__table__)
    emails = database.DirectInsert(OutboxMessage.__table__)
    context = {"origin": "https://example.org", "names": ["Ana", "José"]}
    with app.app_context():
        with db.engine.begin() as connection:
            by_engine = connection.execute(
                insert(Signature.__table__), signature_row(petition.id, "engine@example.org")
            ).inserted_primary_key[0]
            email_by_engine = connection.execute(
                insert(OutboxMessage.__table__),
                email_values("engine@example.org", "confirm", signature_id=by_engine, context=context),
            ).inserted_primary_key[0]
        with database.driver_transaction(db.engine) as transaction:
            direct = signatures(transaction, signature_row(petition.id, "direct@example.org"))
            email_direct = emails(
                transaction,
                email_values("direct@example.org", "confirm", signature_id=direct, context=context),
            )

        assert direct != by_engine
        ours, theirs = stored(Signature.__table__, direct), stored(Signature.__table__, by_engine)
        assert {**ours, "email": None, "email_key": None} == {**theirs, "email": None, "email_key": None}
        ours, theirs = (
            stored(OutboxMessage.__table__, email_direct),
            stored(OutboxMessage.__table__, email_by_engine),
        )
        # The defaults that are times are taken a moment apart; their stored form is the same.
        for moment in ("created_at", "next_attempt_at"):
            assert type(ours.pop(moment)) is type(theirs.pop(moment))
        assert {**ours, "recipient": None, "signature_id": None} == {
            **theirs,
            "recipient": None,
            "signature_id": None,
        }
        assert db.session.get(OutboxMessage, email_direct).context == context


def test_a_direct_insert_raises_as_the_engine_does_and_keeps_nothing(app, petition):
    signatures = database.DirectInsert(Signature.__table__)
    emails = database.DirectInsert(OutboxMessage.__table__)
    with app.app_context():
        with database.driver_transaction(db.engine) as transaction:
            signatures(transaction, signature_row(petition.id, "once@example.org"))

        with pytest.raises(exc.IntegrityError), database.driver_transaction(db.engine) as transaction:
            emails(transaction, email_values("other@example.org", "confirm"))
            signatures(
                transaction, signature_row(petition.id, "ONCE@example.org", email_key="once@example.org")
            )

        # The email queued before the failure went with it.
        assert db.session.scalar(select(OutboxMessage.id)) is None
        assert db.session.scalars(select(Signature.email)).all() == ["once@example.org"]


def test_a_row_and_its_child_are_stored_as_the_engine_stores_them(app, petition):
    """The pair (one statement on PostgreSQL, two INSERTs on SQLite) stores the same rows."""
    pair = database.DirectInsertWithChild(Signature.__table__, OutboxMessage.__table__, "signature_id")
    context = {"origin": "https://example.org"}
    with app.app_context():
        with db.engine.begin() as connection:
            by_engine = connection.execute(
                insert(Signature.__table__), signature_row(petition.id, "engine@example.org")
            ).inserted_primary_key[0]
            connection.execute(
                insert(OutboxMessage.__table__),
                email_values("engine@example.org", "confirm", signature_id=by_engine, context=context),
            )

        direct = pair(
            db.engine,
            signature_row(petition.id, "direct@example.org"),
            email_values("direct@example.org", "confirm", context=context),
        )

        ours, theirs = stored(Signature.__table__, direct), stored(Signature.__table__, by_engine)
        assert {**ours, "email": None, "email_key": None} == {**theirs, "email": None, "email_key": None}
        email = db.session.scalars(select(OutboxMessage).where(OutboxMessage.signature_id == direct)).one()
        assert (email.recipient, email.template, email.context, email.attempts) == (
            "direct@example.org",
            "confirm",
            context,
            0,
        )


@pytest.mark.parametrize("refused", ["row", "child"])
def test_a_row_and_its_child_are_stored_together_or_not_at_all(app, petition, refused):
    pair = database.DirectInsertWithChild(Signature.__table__, OutboxMessage.__table__, "signature_id")
    with app.app_context():
        pair(
            db.engine,
            signature_row(petition.id, "once@example.org"),
            email_values("once@example.org", "confirm"),
        )
        row = signature_row(petition.id, "twice@example.org")
        email = email_values("twice@example.org", "confirm")
        if refused == "row":
            row["email_key"] = "once@example.org"  # one signature per address
        else:
            email["recipient"] = None  # NOT NULL

        with pytest.raises(exc.IntegrityError):
            pair(db.engine, row, email)

        assert db.session.scalars(select(Signature.email)).all() == ["once@example.org"]
        assert db.session.scalars(select(OutboxMessage.recipient)).all() == ["once@example.org"]
        # The connection went back to the pool fit for the next request.
        pair(
            db.engine,
            signature_row(petition.id, "next@example.org"),
            email_values("next@example.org", "confirm"),
        )
        assert db.session.scalar(select(func.count()).select_from(Signature)) == 2


def store_pair(engine, petition_id: int, email: str) -> int:
    pair = database.DirectInsertWithChild(Signature.__table__, OutboxMessage.__table__, "signature_id")
    return pair(engine, signature_row(petition_id, email), email_values(email, "confirm"))


def test_signing_connections_stay_in_autocommit_and_keep_their_cursor(app, petition):
    """On PostgreSQL signing has a pool of its own, in autocommit, so nothing is switched on and
    off around its one statement; elsewhere it is the application's engine."""
    with app.app_context():
        engine = database.autocommit_engine()
        if db.engine.dialect.name != "postgresql":
            assert engine is db.engine
            return
        assert engine is not db.engine
        store_pair(engine, petition.id, "first@example.org")
        with engine.connect() as connection:
            cursor = connection.connection.info[database.DirectInsertWithChild.CURSOR]
            assert connection.connection.driver_connection.autocommit is True
        store_pair(engine, petition.id, "second@example.org")
        with engine.connect() as connection:
            assert connection.connection.info[database.DirectInsertWithChild.CURSOR] is cursor
        # On the application's engine the switch to autocommit is undone before the connection
        # goes back to the pool, where the ORM expects transactions.
        store_pair(db.engine, petition.id, "third@example.org")
        with db.engine.connect() as connection:
            assert connection.connection.driver_connection.autocommit is False
        assert db.session.scalar(select(func.count()).select_from(Signature)) == 3


def test_a_signing_connection_lost_fails_its_request_and_is_replaced(postgres, petition, monkeypatch):
    """A connection that the server dropped while it was in use a moment ago (so not pinged)
    fails one signature, which stores nothing, and is not handed out again."""
    engine = database.autocommit_engine()
    store_pair(engine, petition.id, "before@example.org")
    monkeypatch.setattr(database, "IDLE_BEFORE_PING", 3600)
    with engine.connect() as connection:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with postgres.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    with pytest.raises(exc.OperationalError) as failed:
        store_pair(engine, petition.id, "lost@example.org")

    assert failed.value.connection_invalidated
    store_pair(engine, petition.id, "after@example.org")
    assert db.session.scalars(select(Signature.email).order_by(Signature.id)).all() == [
        "before@example.org",
        "after@example.org",
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


def test_a_direct_insert_refuses_a_table_whose_server_default_it_would_override(app):
    table = Table(
        "note", MetaData(), Column("id", Integer, primary_key=True), Column("n", Integer, server_default="0")
    )
    with app.app_context(), pytest.raises(TypeError, match="server default"):
        database.DirectInsert(table)._prepare(db.engine.dialect)
