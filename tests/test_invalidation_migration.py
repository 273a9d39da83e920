"""Migration 0013: it tallies the signatures that are there, widens the status check in place
(SQLite's table is never copied), and goes down and up again without losing a signature."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from petition.extensions import db as _db
from petition.models import Signature

from .support import store_signature
from .test_counts import assert_exact, totals
from .test_invalidation import invalidate, statuses, tally


def schema(connection) -> dict:
    """Each table's and trigger's definition on SQLite; the check of status on PostgreSQL."""
    if connection.dialect.name == "sqlite":
        return dict(
            connection.execute(text("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")).all()
        )
    return {
        "check": connection.scalar(
            text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conname = 'ck_signature_status_known'"
            )
        ),
        "triggers": sorted(
            connection.execute(
                text("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'signature_%'")
            ).scalars()
        ),
    }


def test_the_migration_goes_down_and_up_keeping_every_signature_and_its_status(app, runner, petition):
    pending = store_signature(app, petition.slug, Signature.PENDING, email="p@spam.example")
    for n in range(3):
        store_signature(app, petition.slug, email=f"s{n}@spam.example")
    store_signature(app, petition.slug, Signature.HIDDEN, country="AR")
    before = statuses(app)
    assert invalidate(runner, petition.slug, "--domain", "spam.example", "--reason", "x").exit_code == 0
    try:
        with app.app_context():
            _db.session.remove()
            at_head = schema(_db.session.connection())
            _db.session.remove()
            downgrade(revision="0009")
            with _db.engine.connect() as connection:
                at_0009 = schema(connection)
                columns = {column["name"] for column in inspect(connection).get_columns("signature")}
                kept = dict(connection.execute(text("SELECT id, status FROM signature")).all())
                assert not inspect(connection).has_table("signature_tally")
            upgrade()
            _db.session.remove()
            again = schema(_db.session.connection())
            _db.session.remove()
    finally:
        with app.app_context():
            _db.session.remove()
            upgrade()

    assert kept == before, "each signature back in the status it had, none lost"
    assert not {"invalidation_id", "invalidated_from", "email_confirmed"} & columns
    assert "invalidated" not in str(at_0009) and "invalidated" in str(at_head)
    assert "signature_tally" not in str(at_0009)
    assert again == at_head
    assert statuses(app) == before
    assert assert_exact(app, petition.id) == totals(4)
    assert tally(app, petition.id) == {Signature.CONFIRMED: 3, Signature.HIDDEN: 1, Signature.PENDING: 1}
    with app.app_context():
        emailed = dict(_db.session.execute(text("SELECT id, email_confirmed FROM signature")).all())
    # Confirmed after it was made (store_signature confirms afterwards): by the emailed link.
    assert emailed[pending] in (0, False) and sum(bool(value) for value in emailed.values()) == 3
