"""Erased means erased: a withdrawal leaves the signer's address and name in no table, ids are
never reused, and the retention rules run by themselves (or by `signatures purge`), with a dry
run that changes nothing."""

import datetime as dt
import json
import logging

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import insert, select, text, update

from petition.extensions import db as _db
from petition.mail.sender import run_worker
from petition.models import AuditEvent, Organizer, OutboxMessage, Petition, Signature, utcnow
from petition.organizers.moderation import HIDE, moderate

from .conftest import csrf_token, load_bundled, login, organization_fields, sign, signatures, valid_fields
from .support import store_signature, texts
from .test_counts import assert_exact, totals
from .test_lifecycle import post_editor
from .test_mail import links_in, path_of, press_button
from .test_updates import deliver_all, send_new_update

NAME, ADDRESS = "Ana Quispe", "ana@example.org"


@pytest.fixture
def mail_app(make_app, smtp):
    return make_app(SMTP_URL=smtp.url)


def stored_anywhere(app, *needles: str) -> list[str]:
    """``table.column`` of every cell, in every table, whose text (or JSON) holds one of
    ``needles``, in any case."""
    wanted = [needle.lower() for needle in needles]
    found = []
    with app.app_context(), _db.engine.connect() as connection:
        for table in _db.metadata.sorted_tables:
            for row in connection.execute(table.select()).mappings():
                for column, value in row.items():
                    if isinstance(value, dict | list):
                        value = json.dumps(value, ensure_ascii=False)
                    if isinstance(value, str) and any(needle in value.lower() for needle in wanted):
                        found.append(f"{table.name}.{column}")
    return found


def execute(app, statement):
    """Run ``statement`` as a script would, and commit."""
    with app.app_context():
        _db.session.execute(statement)
        _db.session.commit()


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def outbox_rows(app) -> list:
    with app.app_context():
        rows = _db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        _db.session.expunge_all()
        return rows


# Withdrawal


def test_withdrawing_leaves_the_address_and_the_name_in_no_table(mail_app, smtp, organizer, bundled_petition):
    signer = mail_app.test_client()
    sign(signer, bundled_petition.slug, **valid_fields(name=NAME, email=ADDRESS, updates="y"))
    deliver_all(mail_app)
    [confirmation] = smtp.messages
    press_button(signer, links_in(confirmation)["confirm"])
    admin = mail_app.test_client()
    assert login(admin).status_code == 303
    send_new_update(admin, bundled_petition.slug, subject="News from the campaign", body="A hearing.")
    deliver_all(mail_app)
    assert [message["To"] for message in smtp.messages] == [ADDRESS, ADDRESS]
    with mail_app.app_context():
        petition = _db.session.get(Petition, bundled_petition.id)
        moderate(petition, [s.id for s in petition.signatures], HIDE, _db.session.scalar(select(Organizer)))
        _db.session.commit()
    assert {"signature.email", "signature.name", "outbox.recipient", "outbox.text_body"} <= set(
        stored_anywhere(mail_app, ADDRESS, NAME)
    ), "the scan finds what is there"

    page = signer.get(path_of(links_in(confirmation)["withdraw"]))
    assert "Withdraw my signature" in page.get_data(as_text=True)
    withdrawn = press_button(signer, links_in(confirmation)["withdraw"])

    assert withdrawn.status_code == 200
    assert stored_anywhere(mail_app, ADDRESS, NAME) == []
    deliver_all(mail_app)
    assert len(smtp.messages) == 2, "no receipt: the page says it, and there is nothing more to erase"
    with mail_app.app_context():
        events = _db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [(event.action, event.rows, event.detail) for event in events] == [
            ("login", None, {}),  # the administrator's, with no trace of the signer either
            (f"moderation.{HIDE}", 1, {}),
        ]
    assert signer.get(path_of(links_in(confirmation)["confirm"])).status_code == 410


def test_withdrawing_from_a_repeat_notice_erases_the_notice_too(mail_app, smtp, bundled_petition):
    signer = mail_app.test_client()
    sign(signer, bundled_petition.slug, **valid_fields(name=NAME, email=ADDRESS))
    deliver_all(mail_app)
    press_button(signer, links_in(smtp.messages[0])["confirm"])
    sign(mail_app.test_client(), bundled_petition.slug, **valid_fields(name=NAME, email="ANA@example.org"))
    deliver_all(mail_app)
    notice = smtp.messages[1]
    assert "already signed" in notice["Subject"]

    press_button(signer, links_in(notice)["withdraw"])

    assert signatures(mail_app) == []
    assert stored_anywhere(mail_app, ADDRESS, NAME) == []


def test_withdrawing_after_a_receipt_erases_the_receipt(mail_app, smtp, petition):
    sign(mail_app.test_client(), petition.slug, **valid_fields(name=NAME, email=ADDRESS))
    deliver_all(mail_app)
    [receipt] = smtp.messages

    press_button(mail_app.test_client(), links_in(receipt)["withdraw"])

    assert stored_anywhere(mail_app, ADDRESS, NAME) == []


def test_an_address_withdrawing_from_one_petition_keeps_its_other_signature_and_emails(
    mail_app, smtp, petition
):
    other = load_bundled(mail_app, slug="another-statement", requires_confirmation=False)
    for slug in (petition.slug, other.slug):
        sign(mail_app.test_client(), slug, **valid_fields(name=NAME, email=ADDRESS))
    deliver_all(mail_app)
    [leaving] = [m for m in smtp.messages if f"/p/{petition.slug}" in text_of(m)]
    # An email to this address that no signature holds any more (as earlier withdrawals left them).
    execute(mail_app, insert(OutboxMessage).values(recipient="Ana@Example.ORG", template="receipt"))

    press_button(mail_app.test_client(), links_in(leaving)["withdraw"])

    [kept] = signatures(mail_app)
    assert (kept.petition_id, kept.email, kept.name) == (other.id, ADDRESS, NAME)
    assert [(row.signature_id, row.recipient) for row in outbox_rows(mail_app)] == [(kept.id, ADDRESS)]
    assert mail_app.test_client().get(f"/api/v1/petitions/{other.slug}").get_json()["counts"]["total"] == 1


def test_a_new_signature_never_takes_a_withdrawn_ones_id_nor_obeys_its_links(
    mail_app, smtp, bundled_petition
):
    """SQLite, unless told AUTOINCREMENT, gives a new row the highest id again once it is deleted;
    the old links carry that id and the same address and petition."""
    client = mail_app.test_client()
    sign(client, bundled_petition.slug, **valid_fields())
    deliver_all(mail_app)
    old_links = links_in(smtp.messages[0])
    [old] = signatures(mail_app)
    press_button(client, old_links["withdraw"])
    sign(client, bundled_petition.slug, **valid_fields())

    [new] = signatures(mail_app)
    assert new.id != old.id
    token = csrf_token(client.get("/admin/login").get_data(as_text=True))
    for link in old_links.values():
        assert client.get(path_of(link)).status_code == 410
        assert client.post(path_of(link), data={"csrf_token": token}).status_code == 410
    [still] = signatures(mail_app)
    assert (still.id, still.status) == (new.id, Signature.PENDING)


# The migration


def sqlite_schema(connection) -> dict[str, str]:
    rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL"))
    return dict(rows.all())


def definition_lines(sql: str) -> set[str]:
    return {line.strip().rstrip(",") for line in sql.splitlines()}


def test_on_sqlite_the_migration_makes_ids_autoincrement_and_keeps_everything_else(app, petition):
    with app.app_context():
        if _db.engine.dialect.name != "sqlite":
            pytest.skip("PostgreSQL's sequences never hand an id out twice")
    ids = [store_signature(app, petition.slug, country=country) for country in ("PE", "PE", "AR")]
    counted = assert_exact(app, petition.id)
    try:
        with app.app_context():
            _db.session.remove()
            downgrade(revision="0008")
            at_0008 = sqlite_schema(_db.session.connection())
            _db.session.remove()
            downgrade(revision="0007")
            before = sqlite_schema(_db.session.connection())
            _db.session.remove()
            upgrade(revision="0008")
            after = sqlite_schema(_db.session.connection())
            _db.session.remove()
    finally:
        with app.app_context():
            upgrade()

    assert {name: definition_lines(sql) for name, sql in after.items()} == {
        name: definition_lines(sql) for name, sql in at_0008.items()
    }
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    assert changed == {"petition", "signature", "ix_outbox_signature_id"}, "the rest as it was"
    assert "AUTOINCREMENT" in after["signature"] and "AUTOINCREMENT" not in before["signature"]
    autoincrement = {
        line.replace(" PRIMARY KEY AUTOINCREMENT", "") for line in definition_lines(after["signature"])
    }
    assert autoincrement == definition_lines(before["signature"]) - {
        "CONSTRAINT pk_signature PRIMARY KEY (id)"
    }
    added = definition_lines(after["petition"]) - definition_lines(before["petition"])
    assert [line.rpartition(", ")[2] for line in added] == ["retention_days INTEGER DEFAULT '730' NOT NULL"]
    assert assert_exact(app, petition.id) == counted == totals(3)
    assert sorted(row.signature_id for row in outbox_rows(app)) == ids, "each email keeps its signature"


def signature_row(petition_id: int, email: str, key: str) -> dict:
    return {
        "petition_id": petition_id,
        "kind": Signature.INDIVIDUAL,
        "name": "Direct",
        "email": email,
        "email_key": key,
        "country": "PE",
        "status": Signature.CONFIRMED,
    }


def test_the_migration_folds_address_keys_as_signing_does_now_and_leaves_a_clash_alone(app, petition, capsys):
    rows = [("Straße@example.org", "straße@example.org"), ("strasse@example.org", "strasse@example.org")]
    rows.append(("Groß@example.org", "groß@example.org"))
    execute(app, insert(Signature).values([signature_row(petition.id, *row) for row in rows]))

    def keys():
        with app.app_context():
            found = _db.session.scalars(select(Signature.email_key).order_by(Signature.id)).all()
            _db.session.remove()
            return found

    try:
        with app.app_context():
            _db.session.remove()
            downgrade(revision="0007")  # back to case folding: "Straße" would become "strasse"
        assert keys() == ["straße@example.org", "strasse@example.org", "gross@example.org"]
        assert "keeps its address key" in capsys.readouterr().err, "alembic's log says which"
        with app.app_context():
            upgrade()
    finally:
        with app.app_context():
            upgrade()
    assert keys() == ["straße@example.org", "strasse@example.org", "groß@example.org"]


def test_the_migration_deletes_the_emails_that_erasures_left_behind(app, petition):
    kept = store_signature(app, petition.slug)
    anonymized = store_signature(app, petition.slug)
    try:
        with app.app_context():
            _db.session.remove()
            downgrade(revision="0007")
        # What withdrawals and the old purge left: emails without a signature, or of an anonymized one.
        execute(app, update(Signature).where(Signature.id == anonymized).values(email="", name=""))
        execute(app, update(OutboxMessage).where(OutboxMessage.signature_id == kept).values(sent_at=utcnow()))
        execute(app, insert(OutboxMessage).values(recipient=ADDRESS, template="receipt", text_body=NAME))
        with app.app_context():
            upgrade()
    finally:
        with app.app_context():
            upgrade()

    assert [row.signature_id for row in outbox_rows(app)] == [kept]
    assert stored_anywhere(app, ADDRESS, NAME) == []


# The retention rules


def everything(app) -> dict:
    """Every row of every table, to see that nothing changed."""
    with app.app_context(), _db.engine.connect() as connection:
        return {
            table.name: sorted(tuple(map(str, row)) for row in connection.execute(table.select()))
            for table in _db.metadata.sorted_tables
        }


def make_old(app, signature_id: int, age: dt.timedelta) -> None:
    execute(app, update(Signature).where(Signature.id == signature_id).values(created_at=utcnow() - age))


def close(app, petition_id: int, days_ago: float) -> None:
    closes_at = utcnow() - dt.timedelta(days=days_ago)
    execute(app, update(Petition).where(Petition.id == petition_id).values(closes_at=closes_at))


def purge(app, *options: str):
    result = app.test_cli_runner().invoke(args=["signatures", "purge", *options])
    assert result.exit_code == 0, result.output
    return result.output


def test_unconfirmed_signatures_go_when_their_link_expires_and_not_before(app, bundled_petition):
    link_age = dt.timedelta(seconds=app.config["CONFIRM_TOKEN_MAX_AGE"])
    expired = store_signature(app, bundled_petition.slug, Signature.PENDING)
    fresh = store_signature(app, bundled_petition.slug, Signature.PENDING)
    confirmed = store_signature(app, bundled_petition.slug)
    make_old(app, expired, link_age + dt.timedelta(minutes=1))
    make_old(app, fresh, link_age - dt.timedelta(minutes=1))
    make_old(app, confirmed, link_age * 2)

    output = purge(app)

    assert f"{bundled_petition.slug}: 1 unconfirmed signatures deleted, 0 signatures anonymized" in output
    assert [s.id for s in signatures(app)] == [fresh, confirmed]
    assert {row.signature_id for row in outbox_rows(app)} == {fresh, confirmed}


def test_a_dry_run_prints_the_numbers_and_changes_nothing(app, petition):
    for status in (Signature.CONFIRMED, Signature.CONFIRMED, Signature.PENDING):
        store_signature(app, petition.slug, status)
    close(app, petition.id, days_ago=200)
    open_one = load_bundled(app, slug="another-statement")
    waiting = store_signature(app, open_one.slug, Signature.PENDING)
    make_old(app, waiting, dt.timedelta(days=8))
    execute(app, update(OutboxMessage).values(sent_at=utcnow() - dt.timedelta(days=40)))
    before = everything(app)

    dry = purge(app, "--dry-run")

    assert everything(app) == before
    expected = [
        f"{petition.slug}: 1 unconfirmed signatures deleted, 2 signatures anonymized",
        f"{open_one.slug}: 1 unconfirmed signatures deleted, 0 signatures anonymized",
        "sent emails: 4 copies deleted",
    ]
    assert dry.splitlines() == ["dry run: nothing is changed; the purge would do this:", *expected]
    assert purge(app).splitlines() == expected
    assert everything(app) != before
    assert purge(app).splitlines() == ["sent emails: 0 copies deleted"], "nothing left to do"


def test_purging_a_closed_petition_leaves_its_people_in_no_table_and_keeps_the_counts(
    mail_app, smtp, petition
):
    sign(mail_app.test_client(), petition.slug, **valid_fields(name=NAME, email=ADDRESS, updates="y"))
    organization = organization_fields(name="Sindicato Unitario", contact_name="Rosa Mamani")
    sign(mail_app.test_client(), petition.slug, **organization)
    deliver_all(mail_app)
    assert len(smtp.messages) == 2
    before = assert_exact(mail_app, petition.id)
    close(mail_app, petition.id, days_ago=181)

    purge(mail_app)

    assert stored_anywhere(mail_app, ADDRESS, NAME, organization["email"], "Rosa Mamani") == []
    assert stored_anywhere(mail_app, "Sindicato Unitario") == ["signature.name"], "its public name stays"
    assert outbox_rows(mail_app) == [], "every email of theirs, sent ones too"
    assert before == totals(2, organizations=1) == assert_exact(mail_app, petition.id)


def test_copies_of_sent_emails_are_deleted_after_their_retention(make_app, smtp, petition):
    app = make_app(SMTP_URL=smtp.url, SENT_MAIL_RETENTION_DAYS=10)
    sign(app.test_client(), petition.slug, **valid_fields(name=NAME, email=ADDRESS))
    sign(app.test_client(), petition.slug, **valid_fields(name="Luis Mamani", email="luis@example.org"))
    deliver_all(app)
    old, recent = outbox_rows(app)
    for row, days in ((old, 10.1), (recent, 9.9)):
        sent_at = utcnow() - dt.timedelta(days=days)
        execute(app, update(OutboxMessage).where(OutboxMessage.id == row.id).values(sent_at=sent_at))

    assert purge(app).splitlines() == ["sent emails: 1 copies deleted"]

    forgotten, kept = outbox_rows(app)
    assert (forgotten.recipient, forgotten.subject, forgotten.text_body, forgotten.html_body) == (
        "",
        "",
        "",
        "",
    )
    assert forgotten.headers == {} and forgotten.sent_at is not None
    assert kept.recipient == "luis@example.org" and "Luis Mamani" in kept.text_body
    assert len(signatures(app)) == 2, "the signatures stay"


def test_a_petition_without_closing_date_forgets_each_signer_its_retention_after_signing(app, petition):
    execute(app, update(Petition).where(Petition.id == petition.id).values(retention_days=30))
    dated = load_bundled(app, slug="closes-in-a-year", requires_confirmation=False)
    close(app, dated.id, days_ago=-365)
    old = store_signature(app, petition.slug, name=NAME, email=ADDRESS, country="BO")
    recent = store_signature(app, petition.slug, name="Luis Mamani")
    kept_by_date = store_signature(app, dated.slug, name="Rosa Mamani")
    make_old(app, old, dt.timedelta(days=30, minutes=1))
    make_old(app, recent, dt.timedelta(days=29))
    make_old(app, kept_by_date, dt.timedelta(days=400))
    before = assert_exact(app, petition.id)

    assert f"{petition.slug}: 0 unconfirmed signatures deleted, 1 signatures anonymized" in purge(app)

    assert stored_anywhere(app, ADDRESS, NAME) == []
    anonymized, *others = signatures(app)
    assert (anonymized.id, anonymized.country, anonymized.status) == (old, "BO", Signature.CONFIRMED)
    assert [s.name for s in others] == ["Luis Mamani", "Rosa Mamani"]
    assert assert_exact(app, petition.id) == before == totals(2)


# The schedule


class FakeTime:
    """A clock for the sender's loop, and its stop event: each wait moves the clock on by
    ``step`` seconds instead of sleeping, and the loop stops after ``passes`` passes."""

    def __init__(self, step: float, passes: int):
        self.now, self.step, self.passes = 1000.0, step, passes

    def clock(self) -> float:
        return self.now

    def is_set(self) -> bool:
        return self.passes <= 0

    def wait(self, _seconds) -> bool:
        self.now += self.step
        self.passes -= 1
        return self.is_set()


def purge_runs(caplog) -> int:
    return sum("purge: sent emails:" in record.getMessage() for record in caplog.records)


def test_the_mail_sender_purges_at_start_and_then_every_interval(make_app, caplog, bundled_petition):
    app = make_app(PURGE_INTERVAL_SECONDS=3600)
    expired = store_signature(app, bundled_petition.slug, Signature.PENDING)
    make_old(app, expired, dt.timedelta(days=8))
    time = FakeTime(step=1000, passes=9)  # the clock reads 0 s, 1000 s, … 8000 s after start

    with caplog.at_level(logging.INFO, logger="petition.signing.privacy"), app.app_context():
        run_worker(interval=1, stop=time, clock=time.clock)

    assert purge_runs(caplog) == 3, "at 0 s, at 4000 s (the first pass after 3600 s), at 8000 s"
    assert signatures(app) == []
    assert f"purge: {bundled_petition.slug}: 1 unconfirmed signatures deleted" in caplog.text


def test_a_failing_purge_is_logged_and_the_sender_goes_on(make_app, smtp, caplog, petition):
    app = make_app(SMTP_URL=smtp.url, SENT_MAIL_RETENTION_DAYS="thirty")
    sign(app.test_client(), petition.slug, **valid_fields())
    time = FakeTime(step=1, passes=1)

    with caplog.at_level(logging.INFO), app.app_context():
        run_worker(interval=1, stop=time, clock=time.clock)

    assert "the retention purge failed" in caplog.text
    assert [message["To"] for message in smtp.messages] == [ADDRESS]


def test_a_purge_interval_of_zero_leaves_the_purge_to_the_command(make_app, caplog, bundled_petition):
    app = make_app(PURGE_INTERVAL_SECONDS=0)
    expired = store_signature(app, bundled_petition.slug, Signature.PENDING)
    make_old(app, expired, dt.timedelta(days=8))
    time = FakeTime(step=10_000, passes=3)

    with caplog.at_level(logging.INFO), app.app_context():
        run_worker(interval=1, stop=time, clock=time.clock)

    assert purge_runs(caplog) == 0
    assert [s.id for s in signatures(app)] == [expired]


# Setting the retention of a petition


def test_organizers_set_the_retention_of_a_petition_without_closing_date(app, organizer, petition):
    admin = app.test_client()
    login(admin)
    edit = f"/admin/p/{petition.slug}/edit"
    assert 'value="730"' in admin.get(edit).get_data(as_text=True)

    for refused in ("29", "3651", "two years", ""):
        response = post_editor(admin, edit, slug=petition.slug, retention_days=refused)
        assert response.status_code == 422, refused
        assert "from 30 to 3650" in " ".join(texts(response.get_data(as_text=True), "error-message"))
    assert stored_retention(app, petition.slug) == 730

    assert post_editor(admin, edit, slug=petition.slug, retention_days="365").status_code == 303
    assert stored_retention(app, petition.slug) == 365
    assert post_editor(admin, edit, slug=petition.slug, retention_days=None).status_code == 303, (
        "a form without the field"
    )
    assert stored_retention(app, petition.slug) == 365


def stored_retention(app, slug) -> int:
    with app.app_context():
        return _db.session.scalar(select(Petition.retention_days).where(Petition.slug == slug))


def test_a_statement_file_may_set_the_retention(app, runner, tmp_path):
    statement = tmp_path / "statement.md"
    statement.write_text("---\ntitle: Kept a year\nretention_days: 365\n---\nText.\n", encoding="utf-8")
    assert runner.invoke(args=["petition", "load", str(statement)]).exit_code == 0
    assert stored_retention(app, "kept-a-year") == 365

    statement.write_text("---\ntitle: Kept forever\nretention_days: 99999\n---\nText.\n", encoding="utf-8")
    refused = runner.invoke(args=["petition", "load", str(statement)])
    assert refused.exit_code != 0 and "retention_days" in refused.output
    assert stored_retention(app, "kept-forever") is None
