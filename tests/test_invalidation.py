"""Bulk invalidation on the command line: the count of matches first, then signatures taken out
of the count and the list, kept in the export with their reason, restorable, and recorded."""

import csv
import datetime as dt
import io
import logging
from types import SimpleNamespace

import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import OperationalError

from petition.extensions import db as _db
from petition.models import AuditEvent, Invalidation, Petition, Signature, SignatureTally
from petition.organizers import invalidation
from petition.signing.services import confirm

from .conftest import signatures
from .support import at_the_same_moment, store_signature
from .test_counts import assert_exact, execute, signature_row, totals


def invalidate(runner, slug, *options):
    return runner.invoke(args=["signatures", "invalidate", slug, *options])


def statuses(app) -> dict:
    return {signature.id: signature.status for signature in signatures(app)}


def exported_rows(runner, slug) -> list[dict]:
    result = runner.invoke(args=["signatures", "export", slug])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.output)))


def tally(app, petition_id) -> dict:
    """The kept tally by status, and the same counted afresh from the signatures."""
    with app.app_context():
        kept = dict(
            _db.session.execute(
                select(SignatureTally.status, func.sum(SignatureTally.n))
                .where(SignatureTally.petition_id == petition_id)
                .group_by(SignatureTally.status)
                .having(func.sum(SignatureTally.n) != 0)
            ).all()
        )
        afresh = dict(
            _db.session.execute(
                select(Signature.status, func.count())
                .where(Signature.petition_id == petition_id)
                .group_by(Signature.status)
            ).all()
        )
    assert kept == afresh
    return kept


def audit_events(app) -> list[tuple]:
    with app.app_context():
        events = _db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        return [(event.action, event.rows, event.actor, event.detail) for event in events]


@pytest.fixture
def mixed(app, petition):
    """Signatures from two domains and two countries, in several states."""
    ids = {
        "spam1": store_signature(app, petition.slug, email="a@spam.example", country="PE"),
        "spam2": store_signature(app, petition.slug, Signature.HIDDEN, email="b@SPAM.example", country="AR"),
        "spam3": store_signature(app, petition.slug, Signature.PENDING, email="c@spam.example", country="PE"),
        "good1": store_signature(app, petition.slug, email="d@good.example", country="PE"),
        "good2": store_signature(app, petition.slug, email="e@notspam.example", country="AR"),
    }
    return ids


def test_a_dry_run_prints_how_many_match_and_changes_nothing(app, runner, petition, mixed):
    before = statuses(app)

    result = invalidate(
        runner, petition.slug, "--domain", "spam.example", "--reason", "sign-up bots", "--dry-run"
    )

    assert result.exit_code == 0, result.output
    assert "3 signatures match" in result.output
    assert statuses(app) == before
    assert audit_events(app) == []
    with app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(Invalidation)) == 0


def test_invalidated_signatures_leave_the_count_and_the_list_and_stay_in_the_export(
    app, runner, client, petition, mixed
):
    assert assert_exact(app, petition.id) == totals(4)

    result = invalidate(
        runner, petition.slug, "--domain", "spam.example", "--category", "bot", "--reason", "bots"
    )

    assert result.exit_code == 0, result.output
    assert "3 signatures match" in result.output and "3 signatures invalidated" in result.output
    after = statuses(app)
    assert {after[mixed[key]] for key in ("spam1", "spam2", "spam3")} == {Signature.INVALIDATED}
    assert after[mixed["good1"]] == after[mixed["good2"]] == Signature.CONFIRMED
    assert assert_exact(app, petition.id) == totals(2)
    assert tally(app, petition.id) == {Signature.CONFIRMED: 2, Signature.INVALIDATED: 3}
    listed = client.get(f"/p/{petition.slug}/signatories").get_data(as_text=True)
    assert "Signer" in listed
    with app.app_context():
        names = {s.id: s.name for s in _db.session.scalars(select(Signature))}
    assert names[mixed["spam1"]] not in listed and names[mixed["good1"]] in listed
    rows = {int(row["id"]): row for row in exported_rows(runner, petition.slug)}
    assert len(rows) == 5
    assert rows[mixed["spam1"]]["status"] == "invalidated"
    assert rows[mixed["spam1"]]["invalidation_category"] == "bot"
    assert rows[mixed["spam1"]]["invalidation_reason"] == "bots"
    assert rows[mixed["good1"]]["invalidation_reason"] == rows[mixed["good1"]]["invalidation_category"] == ""


def test_restoring_gives_each_signature_back_the_status_it_had(app, runner, petition, mixed):
    before = statuses(app)
    invalidate(runner, petition.slug, "--domain", "spam.example", "--reason", "bots")
    [done] = invalidation_ids(app)

    result = runner.invoke(args=["signatures", "restore", str(done)])

    assert result.exit_code == 0, result.output
    assert "3 signatures restored" in result.output
    assert statuses(app) == before
    assert assert_exact(app, petition.id) == totals(4)
    assert tally(app, petition.id) == {Signature.CONFIRMED: 3, Signature.HIDDEN: 1, Signature.PENDING: 1}
    rows = exported_rows(runner, petition.slug)
    assert {row["invalidation_reason"] for row in rows} == {""}

    again = runner.invoke(args=["signatures", "restore", str(done)])
    assert again.exit_code != 0 and "undone already" in again.output
    assert statuses(app) == before


def invalidation_ids(app) -> list[int]:
    with app.app_context():
        return list(_db.session.scalars(select(Invalidation.id).order_by(Invalidation.id)))


def test_each_invalidation_and_undo_is_in_the_audit_record(app, runner, petition, mixed):
    options = ["--country", "AR", "--name", "signer", "--category", "fake", "--reason", "made up"]
    invalidate(runner, petition.slug, *options)
    [done] = invalidation_ids(app)
    runner.invoke(args=["signatures", "restore", str(done)])

    events = audit_events(app)

    assert [(action, rows, actor) for action, rows, actor, _ in events] == [
        ("invalidate", 2, "command line"),
        ("invalidation_undo", 2, "command line"),
    ]
    assert events[0][3] == {
        "invalidation": done,
        "category": "fake",
        "reason": "made up",
        "criteria": {"country": "AR", "name": "…"},  # never a signer's name
    }
    assert events[1][3] == {"invalidation": done}


def test_without_a_filter_nothing_is_invalidated_unless_all_is_said(app, runner, petition, mixed):
    before = statuses(app)

    refused = invalidate(runner, petition.slug, "--reason", "start again")

    assert refused.exit_code != 0 and "at least one filter" in refused.output
    assert statuses(app) == before

    everything = invalidate(runner, petition.slug, "--all", "--reason", "start again")
    assert everything.exit_code == 0, everything.output
    assert set(statuses(app).values()) == {Signature.INVALIDATED}
    assert assert_exact(app, petition.id) == totals(0)


@pytest.mark.parametrize(
    "options",
    [
        ["--country", "XX"],
        ["--since", "yesterday"],
        ["--until", "2026-13-01"],
        ["--category", "annoying"],
        ["--status", "invalidated"],
        ["--reason", " "],
        ["--reason", "x" * 501],
    ],
)
def test_bad_options_are_refused_and_change_nothing(app, runner, petition, mixed, options):
    before = statuses(app)
    arguments = ["--domain", "spam.example", *options]
    if "--reason" not in options:
        arguments += ["--reason", "bots"]

    result = invalidate(runner, petition.slug, *arguments)

    assert result.exit_code != 0
    assert statuses(app) == before
    assert invalidation_ids(app) == []


def test_an_unknown_petition_or_invalidation_is_refused(runner, petition):
    assert invalidate(runner, "nope", "--all", "--reason", "x").exit_code != 0
    assert runner.invoke(args=["signatures", "restore", "999"]).exit_code != 0


@pytest.mark.parametrize(
    ("options", "chosen"),
    [
        (["--country", "ar"], {"b", "e"}),
        (["--source", "ads"], {"c"}),
        (["--name", "rob*bot"], {"a", "d"}),
        (["--name", "100%"], {"e"}),
        (["--status", "pending"], {"c"}),
        (["--network", "ABC1"], {"a", "b"}),
        (["--since", "2026-03-02"], {"c", "d", "e"}),
        (["--until", "2026-03-02"], {"a", "b", "c", "d"}),  # the whole day
        (["--since", "2026-03-02T12:00:00Z", "--until", "2026-03-03T00:00:00"], {"d"}),
        (["--country", "PE", "--source", "ads"], {"c"}),
    ],
)
def test_each_filter_chooses_its_signatures(app, runner, petition, options, chosen):
    rows = {
        "a": {"name": "Robot Bot", "network": "abc1ff", "created_at": "2026-03-01 10:00:00"},
        "b": {"country": "AR", "network": "abc1ee", "created_at": "2026-03-01 23:59:59"},
        "c": {"source": "ads", "status": Signature.PENDING, "created_at": "2026-03-02 08:00:00"},
        "d": {"name": "ROBERTA bot", "created_at": "2026-03-02 18:00:00"},
        "e": {"name": "100% real", "country": "AR", "created_at": "2026-03-04 00:00:00"},
    }
    with app.app_context():
        for number, (key, values) in enumerate(rows.items()):
            row = signature_row(petition.id, number, name=f"Person {key}") | values
            row["created_at"] = dt.datetime.fromisoformat(values["created_at"])
            rows[key]["id"] = _db.session.execute(insert(Signature).values(row)).inserted_primary_key[0]
        _db.session.commit()

    result = invalidate(runner, petition.slug, *options, "--reason", "test")

    assert result.exit_code == 0, result.output
    after = statuses(app)
    assert {key for key, values in rows.items() if after[values["id"]] == Signature.INVALIDATED} == chosen
    assert f"{len(chosen)} signatures invalidated" in result.output
    assert_exact(app, petition.id)
    tally(app, petition.id)


def test_a_large_invalidation_runs_in_batches_and_takes_each_signature_once(
    app, runner, petition, monkeypatch
):
    execute(app, insert(Signature.__table__), [signature_row(petition.id, n) for n in range(23)])
    other = store_signature(app, petition.slug, email="keep@elsewhere.example")
    monkeypatch.setitem(app.config, "INVALIDATION_BATCH", 4)
    statements = []

    def count_updates(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE SIGNATURE "):
            statements.append(statement)

    with app.app_context():
        _db.event.listen(_db.engine, "before_cursor_execute", count_updates)
    try:
        result = invalidate(runner, petition.slug, "--domain", "example.org", "--reason", "batch")
    finally:
        with app.app_context():
            _db.event.remove(_db.engine, "before_cursor_execute", count_updates)

    assert result.exit_code == 0, result.output
    assert "23 signatures invalidated" in result.output
    assert len(statements) >= 6  # 23 ids, four at a time
    assert statuses(app)[other] == Signature.CONFIRMED
    assert assert_exact(app, petition.id) == totals(1)
    with app.app_context():
        assert _db.session.scalar(select(Invalidation.rows)) == 23


def test_two_invalidations_at_the_same_moment_take_each_signature_once(app, petition, monkeypatch):
    execute(app, insert(Signature.__table__), [signature_row(petition.id, n) for n in range(300)])
    monkeypatch.setitem(app.config, "INVALIDATION_BATCH", 50)

    def run(ready, reason):
        with app.app_context():
            on = _db.session.get(Petition, petition.id)
            ready()
            return invalidation.invalidate(on, {"domain": "example.org"}, "duplicate", reason).rows

    taken = at_the_same_moment(run, [("first",), ("second",)], timeout=60)

    assert sum(taken) == 300
    assert set(statuses(app).values()) == {Signature.INVALIDATED}
    assert assert_exact(app, petition.id) == totals(0)
    with app.app_context():
        kept = dict(_db.session.execute(select(Invalidation.reason, Invalidation.rows)).all())
        by = dict(
            _db.session.execute(
                select(Invalidation.reason, func.count())
                .join(Signature, Signature.invalidation_id == Invalidation.id)
                .group_by(Invalidation.reason)
            ).all()
        )
    assert kept == {reason: by.get(reason, 0) for reason in ("first", "second")}


def test_the_recount_finds_drift_logs_it_and_fixes_it(app, runner, petition, mixed, caplog):
    invalidate(runner, petition.slug, "--domain", "spam.example", "--reason", "bots")
    expected = assert_exact(app, petition.id)
    execute(app, text("UPDATE signature_count SET n = n + 5"))
    execute(app, text("UPDATE signature_tally SET n = n + 2 WHERE status = 'pending'"))
    execute(app, update(Invalidation).values(rows=7))

    with caplog.at_level(logging.WARNING, logger="petition.recount"):
        result = runner.invoke(args=["signatures", "recount", petition.slug])

    assert result.exit_code == 0, result.output
    assert "signature_count" in result.output and "signature_tally" in result.output
    assert "invalidation" in result.output and "kept 7, actually 3" in result.output
    assert any("recount drift" in record.getMessage() for record in caplog.records)
    assert assert_exact(app, petition.id) == expected
    tally(app, petition.id)
    with app.app_context():
        assert _db.session.scalar(select(Invalidation.rows)) == 3

    again = runner.invoke(args=["signatures", "recount"])
    assert again.exit_code == 0 and "drift:" not in again.output
    assert "0 drifts fixed" in again.output


def test_the_recount_leaves_exact_counts_alone(app, runner, petition, mixed):
    result = runner.invoke(args=["signatures", "recount"])
    assert result.exit_code == 0 and "drift:" not in result.output


def test_a_signature_confirmed_by_email_is_tallied_so(app, petition):
    store_signature(app, petition.slug, Signature.PENDING)
    [signature] = signatures(app)
    with app.app_context():
        confirm(_db.session.get(Signature, signature.id))
        _db.session.commit()
        kept = _db.session.execute(
            select(SignatureTally.status, SignatureTally.email_confirmed).where(SignatureTally.n > 0)
        ).all()
    assert kept == [(Signature.CONFIRMED, True)]


def test_an_undo_while_an_invalidation_runs_stops_its_next_batches(app, petition, monkeypatch):
    execute(app, insert(Signature.__table__), [signature_row(petition.id, n) for n in range(10)])
    monkeypatch.setitem(app.config, "INVALIDATION_BATCH", 4)
    undone = []

    def undo_after_the_first_batch(conn, cursor, statement, *args):
        # As if someone pressed Undo just then: the same transaction, so the next batch sees it.
        if statement.lstrip().upper().startswith("UPDATE SIGNATURE ") and not undone:
            undone.append(
                conn.exec_driver_sql("UPDATE invalidation SET undone_at = CURRENT_TIMESTAMP").rowcount
            )

    with app.app_context():
        _db.event.listen(_db.engine, "after_cursor_execute", undo_after_the_first_batch)
        try:
            done = invalidation.invalidate(
                _db.session.get(Petition, petition.id), {"country": "PE"}, "bot", "x"
            )
        finally:
            _db.event.remove(_db.engine, "after_cursor_execute", undo_after_the_first_batch)

    assert undone == [1]
    assert done.rows == 4
    assert list(statuses(app).values()).count(Signature.INVALIDATED) == 4


def test_a_batch_ended_to_break_a_deadlock_runs_again(app, petition, monkeypatch, caplog):
    """PostgreSQL may end a batch that deadlocks with a moderation at the same moment; that cannot
    be made to happen on cue, so the database's answer is given once in its place."""
    execute(app, insert(Signature.__table__), [signature_row(petition.id, n) for n in range(5)])
    monkeypatch.setitem(app.config, "INVALIDATION_BATCH", 2)
    ended = []

    def deadlock_once(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE SIGNATURE ") and not ended:
            ended.append(statement)
            raise OperationalError(statement, {}, SimpleNamespace(sqlstate=invalidation.DEADLOCK))

    with app.app_context():
        _db.event.listen(_db.engine, "before_cursor_execute", deadlock_once)
        on = _db.session.get(Petition, petition.id)
        try:
            done = invalidation.invalidate(on, {"country": "PE"}, "bot", "x")
        finally:
            _db.event.remove(_db.engine, "before_cursor_execute", deadlock_once)

    assert len(ended) == 1
    assert done.rows == 5
    assert set(statuses(app).values()) == {Signature.INVALIDATED}
    assert assert_exact(app, petition.id) == totals(0)
    assert "deadlock" in caplog.text


def test_two_undos_at_the_same_moment_restore_each_signature_once(app, runner, petition, mixed):
    before = statuses(app)
    invalidate(runner, petition.slug, "--domain", "spam.example", "--reason", "bots")
    [done] = invalidation_ids(app)

    def run(ready):
        with app.app_context():
            found = _db.session.get(Invalidation, done)
            ready()
            return invalidation.undo(found, actor="test")

    answers = at_the_same_moment(run, [(), ()], timeout=60)

    assert sorted(answers, key=str) == [3, None]
    assert statuses(app) == before
    assert assert_exact(app, petition.id) == totals(4)
    assert [action for action, *_ in audit_events(app)] == ["invalidate", "invalidation_undo"]
