"""Erased means erased: a withdrawal leaves the signer's address and name in no table, and ids
are never reused."""

import json

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import insert, select, text, update

from petition.extensions import db as _db
from petition.models import ModerationEvent, Organizer, OutboxMessage, Petition, Signature, utcnow
from petition.organizers.moderation import HIDE, moderate

from .conftest import csrf_token, load_bundled, login, sign, signatures, valid_fields
from .support import store_signature
from .test_counts import assert_exact, totals
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
        [event] = _db.session.scalars(select(ModerationEvent)).all()
        assert (event.action, event.signature_count, event.detail) == (HIDE, 1, "")
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
            at_head = sqlite_schema(_db.session.connection())
            _db.session.remove()
            downgrade(revision="0007")
            before = sqlite_schema(_db.session.connection())
            _db.session.remove()
            upgrade()
            after = sqlite_schema(_db.session.connection())
            _db.session.remove()
    finally:
        with app.app_context():
            upgrade()

    assert {name: definition_lines(sql) for name, sql in after.items()} == {
        name: definition_lines(sql) for name, sql in at_head.items()
    }
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    assert changed == {"petition", "signature"}, "indexes and triggers as they were"
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
