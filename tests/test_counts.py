"""The counts kept by the database's triggers: after whatever changes signatures, by whatever
path (the forms, emailed links, moderation, bulk statements, plain SQL, the purge, a deleted
petition, the migration itself), they equal a fresh count of the signatures."""

import datetime as dt
import random
import re
from collections import Counter
from types import SimpleNamespace

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, event, func, insert, inspect, select, text, update

from petition.extensions import db as _db
from petition.models import (
    Organizer,
    Petition,
    Signature,
    SignatureCount,
    count_by_country,
    count_signatures,
    utcnow,
)
from petition.organizers import moderation
from petition.petitions.services import load_petition
from petition.signing import tokens

from .conftest import csrf_token, login, organization_fields, sign, signatures, valid_fields
from .support import at_the_same_moment, store_signature


def counted_afresh(app, petition_id):
    """The counts the slow way, as the pages computed them before: straight from the signatures."""
    counted = (Signature.petition_id == petition_id, Signature.status.in_(Signature.COUNTED))
    with app.app_context():
        kinds = dict(
            _db.session.execute(
                select(Signature.kind, func.count()).where(*counted).group_by(Signature.kind)
            ).all()
        )
        countries = _db.session.execute(
            select(Signature.country, func.count())
            .where(*counted)
            .group_by(Signature.country)
            .order_by(func.count().desc(), Signature.country)
        ).all()
    individuals, organizations = kinds.get("individual", 0), kinds.get("organization", 0)
    totals = {
        "total": individuals + organizations,
        "individuals": individuals,
        "organizations": organizations,
    }
    return totals, list(countries)


def kept_counts(app, petition_id):
    """The counts as the pages read them now: from ``signature_count``."""
    with app.app_context():
        petition = SimpleNamespace(id=petition_id)
        return count_signatures(petition), list(count_by_country(petition).items())


def assert_exact(app, petition_id) -> dict:
    """The kept counts equal a fresh count, and no bucket went negative; return the totals."""
    expected = counted_afresh(app, petition_id)
    assert kept_counts(app, petition_id) == expected
    with app.app_context():
        lowest = _db.session.scalar(select(func.min(SignatureCount.n)))
    assert lowest is None or lowest >= 0
    return expected[0]


def totals(total, individuals=None, organizations=0):
    individuals = total - organizations if individuals is None else individuals
    return {"total": total, "individuals": individuals, "organizations": organizations}


def another_petition(app, slug="another") -> int:
    with app.app_context():
        other, _ = load_petition({"slug": slug, "title": "Another statement", "body": "Text."})
        _db.session.commit()
        return other.id


def execute(app, statement, *args):
    """Run a statement outside the ORM's unit of work, as bulk code and scripts do; commit."""
    with app.app_context():
        result = _db.session.execute(statement, *args)
        _db.session.commit()
        return result.rowcount


def emailed_link_post(client, path):
    """Open an emailed link's page, then press its button."""
    page = client.get(path)
    assert page.status_code == 200
    return client.post(path, data={"csrf_token": csrf_token(page.get_data(as_text=True))})


def token_for(app, signature_id, purpose):
    with app.test_request_context():
        return tokens.make_token(_db.session.get(Signature, signature_id), purpose)


def test_signing_without_confirmation_is_counted_at_once(app, client, petition):
    sign(client, petition.slug, **valid_fields(email="ana@example.org", country="PE"))
    sign(client, petition.slug, **valid_fields(email="luis@example.org", country="CL"))
    sign(client, petition.slug, **organization_fields(country="PE"))

    assert assert_exact(app, petition.id) == totals(3, organizations=1)
    body = client.get(f"/api/v1/petitions/{petition.slug}").get_json()
    assert body["counts"] == totals(3, organizations=1)
    assert body["by_country"] == {"PE": 2, "CL": 1}


def test_a_signature_counts_once_its_address_is_confirmed(app, client, bundled_petition):
    sign(client, bundled_petition.slug, **valid_fields())
    assert assert_exact(app, bundled_petition.id) == totals(0)

    [pending] = signatures(app)
    response = emailed_link_post(client, f"/confirm/{token_for(app, pending.id, tokens.CONFIRM)}")

    assert response.status_code == 200
    assert assert_exact(app, bundled_petition.id) == totals(1)


def test_moderation_moves_signatures_in_and_out_of_the_count(app, client, organizer, petition):
    ids = [store_signature(app, petition.slug, country=country) for country in ("PE", "PE", "AR", "MX")]
    waiting = store_signature(
        app, petition.slug, Signature.AWAITING_APPROVAL, kind=Signature.ORGANIZATION, country="BR"
    )
    assert login(client).status_code == 303

    def moderate(action, chosen):
        page = client.get(f"/admin/p/{petition.slug}/signatures")
        token = csrf_token(page.get_data(as_text=True))
        data = {"csrf_token": token, "action": action, "ids": chosen}
        assert client.post(f"/admin/p/{petition.slug}/signatures", data=data).status_code in (200, 303)

    assert assert_exact(app, petition.id) == totals(4)
    moderate("hide", ids[:2])
    assert assert_exact(app, petition.id) == totals(4), "hidden signatures still count"
    moderate("reject", [ids[0], ids[2]])
    assert assert_exact(app, petition.id) == totals(2)
    moderate("approve", [waiting])
    assert assert_exact(app, petition.id) == totals(3, organizations=1)
    moderate("restore", [ids[0], ids[1], ids[2]])
    assert assert_exact(app, petition.id) == totals(5, organizations=1)
    assert kept_counts(app, petition.id)[1] == [("PE", 2), ("AR", 1), ("BR", 1), ("MX", 1)]


def test_bulk_status_updates_that_bypass_the_session_are_counted(app, petition):
    ids = [store_signature(app, petition.slug) for _ in range(5)]

    def set_status(chosen, status):
        return execute(
            app,
            update(Signature)
            .where(Signature.id.in_(chosen))
            .values(status=status)
            .execution_options(synchronize_session=False),
        )

    assert set_status(ids[:3], Signature.REJECTED) == 3
    assert assert_exact(app, petition.id) == totals(2)
    assert set_status(ids, Signature.HIDDEN) == 5
    assert assert_exact(app, petition.id) == totals(5)
    assert set_status(ids, Signature.PENDING) == 5
    assert assert_exact(app, petition.id) == totals(0)


def test_a_withdrawn_signature_leaves_the_count(app, client, petition):
    sign(client, petition.slug, **valid_fields(email="ana@example.org"))
    sign(client, petition.slug, **valid_fields(email="luis@example.org", country="BO"))
    leaving = signatures(app)[1]

    response = emailed_link_post(client, f"/withdraw/{token_for(app, leaving.id, tokens.WITHDRAW)}")

    assert response.status_code in (200, 303)
    assert len(signatures(app)) == 1
    assert assert_exact(app, petition.id) == totals(1)
    assert kept_counts(app, petition.id)[1] == [("PE", 1)]


def test_the_purge_keeps_the_counts(app, runner, bundled_petition):
    store_signature(app, bundled_petition.slug, country="PE")
    store_signature(app, bundled_petition.slug, country="EC", kind=Signature.ORGANIZATION)
    store_signature(app, bundled_petition.slug, Signature.HIDDEN, country="PE")
    store_signature(app, bundled_petition.slug, Signature.PENDING, country="PE")
    before = assert_exact(app, bundled_petition.id)
    execute(
        app,
        update(Petition)
        .where(Petition.id == bundled_petition.id)
        .values(closes_at=utcnow() - dt.timedelta(days=365)),
    )

    result = runner.invoke(args=["signatures", "purge", "--days", "180"])

    assert result.exit_code == 0, result.output
    assert len(signatures(app)) == 3, "the pending signature is gone"
    assert before == totals(3, organizations=1)
    assert assert_exact(app, bundled_petition.id) == before
    assert kept_counts(app, bundled_petition.id)[1] == [("PE", 2), ("EC", 1)]


def signature_row(petition_id, number, **overrides):
    row = {
        "petition_id": petition_id,
        "kind": "individual",
        "name": f"Direct {number}",
        "email": f"direct{number}@example.org",
        "email_key": f"direct{number}@example.org",
        "country": "PE",
        "status": Signature.CONFIRMED,
    }
    return row | overrides


def test_rows_inserted_directly_are_counted(app, petition):
    statuses = [Signature.CONFIRMED, Signature.HIDDEN, Signature.PENDING, Signature.REJECTED]
    rows = [
        signature_row(
            petition.id,
            n,
            status=statuses[n % 4],
            country=("PE", "AR", "CL")[n % 3],
            kind="organization" if n % 5 == 0 else "individual",
        )
        for n in range(40)
    ]
    execute(app, insert(Signature.__table__), rows)
    execute(
        app,
        text(
            "INSERT INTO signature (petition_id, kind, name, email, email_key, country, city, affiliation,"
            " contact_name, website, comment, public, updates, status, source, locale, ip_hash,"
            " emails_sent, created_at) VALUES (:petition, 'individual', 'Plain SQL', 'sql@example.org',"
            " 'sql@example.org', 'UY', '', '', '', '', '', true, false, 'confirmed', '', 'en', '', 0,"
            " :now)"
        ),
        {"petition": petition.id, "now": utcnow()},
    )

    counts = assert_exact(app, petition.id)
    assert counts["total"] == 21
    assert ("UY", 1) in kept_counts(app, petition.id)[1]


def test_changing_kind_country_or_petition_moves_the_count(app, petition):
    other = another_petition(app)
    first, second, third, pending = (store_signature(app, petition.slug) for _ in range(4))
    execute(app, update(Signature).where(Signature.id == pending).values(status=Signature.PENDING))

    execute(app, update(Signature).where(Signature.id == first).values(kind=Signature.ORGANIZATION))
    execute(app, update(Signature).where(Signature.id == second).values(country="AR"))
    execute(app, update(Signature).where(Signature.id.in_([third, pending])).values(petition_id=other))
    with app.app_context():  # and through the ORM's unit of work
        _db.session.get(Signature, first).country = "BR"
        _db.session.commit()

    assert assert_exact(app, petition.id) == totals(2, organizations=1)
    assert kept_counts(app, petition.id)[1] == [("AR", 1), ("BR", 1)]
    assert assert_exact(app, other) == totals(1)


def test_updates_that_leave_the_bucket_alone_change_nothing(app, petition):
    ids = [store_signature(app, petition.slug, country="PE") for _ in range(3)]
    with app.app_context():
        before = _db.session.execute(select(SignatureCount.shard, SignatureCount.n)).all()

    execute(app, update(Signature).where(Signature.id.in_(ids)).values(emails_sent=Signature.emails_sent + 1))
    execute(app, update(Signature).where(Signature.id.in_(ids)).values(status=Signature.CONFIRMED))

    with app.app_context():
        assert _db.session.execute(select(SignatureCount.shard, SignatureCount.n)).all() == before
    assert assert_exact(app, petition.id) == totals(3)


def test_deleting_a_petition_deletes_its_counts_and_no_other(app, petition):
    other = another_petition(app)
    for country in ("PE", "AR", "AR"):
        store_signature(app, petition.slug, country=country)
        store_signature(app, "another", country=country)

    execute(app, delete(Petition).where(Petition.id == petition.id))

    with app.app_context():
        left = _db.session.scalars(select(SignatureCount.petition_id).distinct()).all()
    assert left == [other]
    assert assert_exact(app, petition.id) == totals(0)
    assert assert_exact(app, other) == totals(3)


def test_deleting_signatures_in_bulk_leaves_the_count(app, petition):
    ids = [store_signature(app, petition.slug, country=c) for c in ("PE", "PE", "CL", "CL", "AR")]
    store_signature(app, petition.slug, Signature.PENDING)

    assert execute(app, delete(Signature).where(Signature.id.in_(ids[1:4]))) == 3

    assert assert_exact(app, petition.id) == totals(2)
    assert kept_counts(app, petition.id)[1] == [("AR", 1), ("PE", 1)]


def test_people_signing_at_the_same_moment_are_all_counted(app, petition):
    signers = 12  # within the PostgreSQL pool (15 connections), even at two a request
    clients = [app.test_client() for _ in range(signers)]
    tokens_ = [csrf_token(c.get(f"/p/{petition.slug}").get_data(as_text=True)) for c in clients]

    def post(ready, number, client, token):
        fields = valid_fields(email=f"signer{number}@example.org", country=("PE", "AR")[number % 2])
        ready()
        response = client.post(f"/p/{petition.slug}/sign", data={"csrf_token": token, **fields})
        return response.status_code

    statuses = at_the_same_moment(
        post, [(n, c, t) for n, (c, t) in enumerate(zip(clients, tokens_, strict=True))], timeout=60
    )

    assert statuses == [303] * signers
    assert len(signatures(app)) == signers
    assert assert_exact(app, petition.id) == totals(signers)


def moderate_at_once(app, petition_id, groups, action) -> list:
    """Moderate each group of signatures in a session of its own, all of them writing at the
    same moment; return what each returned, or the error it raised, in the order of ``groups``."""

    def act(ready, chosen):
        with app.app_context():
            who = _db.session.scalar(select(Organizer))
            on = _db.session.get(Petition, petition_id)
            ready()  # as close to the writes as it gets
            try:
                changed = moderation.moderate(on, chosen, action, who)
                _db.session.commit()
            except Exception as error:  # noqa: BLE001 - the test reports what went wrong
                return error
            return changed

    return at_the_same_moment(act, [(group,) for group in groups], timeout=60)


def test_organizers_acting_on_many_signatures_at_the_same_moment_both_succeed(app, organizer, petition):
    """Two organizers reject, then restore, hundreds of signatures each at the same moment,
    spread over every count bucket: on PostgreSQL each action locks the buckets it changes, and
    two actions taking them in different orders would deadlock, and one of them would fail."""
    chance = random.Random(4)
    rows = [
        signature_row(petition.id, n, country=chance.choice(("PE", "AR", "CL", "UY"))) for n in range(600)
    ]
    execute(app, insert(Signature.__table__), rows)
    ids = [signature.id for signature in signatures(app)]
    halves = (ids[:300], ids[300:])  # each over every bucket: country, and id modulo the shards
    rounds = [("reject", Signature.REJECTED), ("restore", Signature.CONFIRMED)] * 3

    for action, status in rounds:
        outcomes = moderate_at_once(app, petition.id, halves, action)

        assert outcomes == [300, 300], action
        assert {signature.status for signature in signatures(app)} == {status}
        assert_exact(app, petition.id)

    # The order the action takes buckets in is the triggers' own split of them.
    with app.app_context():
        kept = _db.session.execute(
            select(SignatureCount.kind, SignatureCount.country, SignatureCount.shard).where(
                SignatureCount.n > 0
            )
        ).all()
    assert set(kept) == {SignatureCount.bucket(signature) for signature in signatures(app)}


def test_the_triggers_cut_a_bucket_into_the_shards_of_the_model(app, petition):
    """The triggers and ``SignatureCount.bucket`` split signatures alike: one row per shard of
    the model, each holding exactly the signatures the model puts there."""
    rows = [signature_row(petition.id, n) for n in range(5 * SignatureCount.SHARDS + 3)]
    execute(app, insert(Signature.__table__), rows)

    expected = Counter(SignatureCount.bucket(signature) for signature in signatures(app))
    with app.app_context():
        kept = _db.session.execute(
            select(SignatureCount.kind, SignatureCount.country, SignatureCount.shard, SignatureCount.n).where(
                SignatureCount.petition_id == petition.id
            )
        ).all()
    assert {(kind, country, shard): n for kind, country, shard, n in kept} == expected
    assert len(kept) == SignatureCount.SHARDS
    assert_exact(app, petition.id)


def statements_of_a_page_view(app, path: str) -> list[str]:
    """The SQL a fresh view of ``path`` sends (the test app caches nothing)."""
    statements = []

    def record(_connection, _cursor, sql, *_args):
        statements.append(" ".join(sql.split()))

    with app.app_context():
        event.listen(_db.engine, "before_cursor_execute", record)
    try:
        assert app.test_client().get(path).status_code == 200
    finally:
        with app.app_context():
            event.remove(_db.engine, "before_cursor_execute", record)
    return statements


def test_a_page_view_asks_the_same_at_any_size_and_never_counts_signatures(app, petition):
    """The count on the page is a sum over a few rows of signature_count: with 0 or 500
    signatures, the page sends the same queries, and none aggregates the signatures."""
    path = f"/p/{petition.slug}"
    empty = statements_of_a_page_view(app, path)
    execute(app, insert(Signature.__table__), [signature_row(petition.id, n) for n in range(500)])

    full = statements_of_a_page_view(app, path)

    assert full == empty
    assert any("signature_count" in sql for sql in full)
    assert not any(re.search(r"\b(count|sum)\(.*\bFROM signature\b", sql, re.IGNORECASE) for sql in full)


def our_triggers(connection) -> list[str]:
    """The names of the triggers on ``signature`` (and, on PostgreSQL, of their functions)."""
    if connection.dialect.name == "postgresql":
        sql = (
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = CAST('signature' AS regclass)"
            " UNION ALL SELECT proname FROM pg_proc WHERE proname LIKE 'signature_count%'"
        )
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    return sorted(connection.execute(text(sql)).scalars())


def test_the_migration_counts_what_is_there_and_goes_down_and_up_again(app, petition):
    other = another_petition(app)
    for status, kind, country in [
        (Signature.CONFIRMED, "individual", "PE"),
        (Signature.CONFIRMED, "individual", "PE"),
        (Signature.HIDDEN, "organization", "AR"),
        (Signature.PENDING, "individual", "PE"),
        (Signature.REJECTED, "individual", "CL"),
        (Signature.AWAITING_APPROVAL, "organization", "CL"),
    ]:
        store_signature(app, petition.slug, status, kind=kind, country=country)
    store_signature(app, "another", country="MX")
    try:
        with app.app_context():
            _db.session.remove()
            armed = our_triggers(_db.session.connection())
            _db.session.remove()
            assert len(armed) >= 3
            downgrade(revision="0004")
            with _db.engine.begin() as connection:
                assert not inspect(connection).has_table("signature_count")
                assert our_triggers(connection) == []
                # Signed while there are no counts: nothing may be left behind to fail or to count.
                connection.execute(insert(Signature), [signature_row(petition.id, 1, country="AR")])
                connection.execute(insert(Signature), [signature_row(other, 2, status=Signature.HIDDEN)])
            upgrade()

        assert assert_exact(app, petition.id) == totals(4, organizations=1)
        assert kept_counts(app, petition.id)[1] == [("AR", 2), ("PE", 2)]
        assert assert_exact(app, other) == totals(2)

        with app.app_context():
            downgrade(revision="0004")
            upgrade()
            assert our_triggers(_db.session.connection()) == armed
            _db.session.remove()
        assert assert_exact(app, petition.id) == totals(4, organizations=1)
        store_signature(app, petition.slug, country="AR")
        assert assert_exact(app, petition.id) == totals(5, organizations=1)
    finally:
        with app.app_context():
            _db.session.remove()
            upgrade()


def test_on_postgresql_inserts_of_uncounted_signatures_skip_the_upsert_and_the_migration_undoes(app):
    """0007 puts a guard before the INSERT trigger's upsert (a pending signature, the common
    case, changes no bucket); going down to 0006 takes it away again."""

    def definition():
        query = text("SELECT pg_get_functiondef(CAST('signature_count_inserted' AS regproc))")
        found = _db.session.scalar(query)
        _db.session.remove()
        return found

    with app.app_context():
        if _db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite's triggers fire only for counted rows already")
        try:
            assert "IF NOT EXISTS" in definition()
            downgrade(revision="0006")
            assert "IF NOT EXISTS" not in definition()
        finally:
            upgrade()
        assert "IF NOT EXISTS" in definition()
