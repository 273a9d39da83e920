"""Erased means erased: a withdrawal leaves the signer's address and name in no table."""

import json

import pytest
from sqlalchemy import insert, select

from petition.extensions import db as _db
from petition.models import ModerationEvent, Organizer, OutboxMessage, Petition
from petition.organizers.moderation import HIDE, moderate

from .conftest import load_bundled, login, sign, signatures, valid_fields
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
