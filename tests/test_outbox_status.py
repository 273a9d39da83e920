"""Whether mail flows, seen from outside: ``/healthz/mail`` for monitoring, and the outbox page
for administrators (what waits, since when, what fails and why)."""

import datetime as dt

import pytest
from sqlalchemy import update

from petition.extensions import db as _db
from petition.mail.sender import send_due
from petition.models import OutboxMessage, Signature, utcnow
from petition.organizers.auth import create_organizer

from .conftest import ORGANIZER_PASSWORD, login
from .support import store_signature, table_rows, texts

MAX_AGE = 300


def queued_ago(app, slug, seconds: float, **fields) -> int:
    """A signature whose email was queued ``seconds`` ago and is still waiting; its email's id."""
    signature_id = store_signature(app, slug, Signature.PENDING, **fields)
    with app.app_context():
        _db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.signature_id == signature_id)
            .values(created_at=utcnow() - dt.timedelta(seconds=seconds))
        )
        _db.session.commit()
        return _db.session.scalar(
            _db.select(OutboxMessage.id).where(OutboxMessage.signature_id == signature_id)
        )


@pytest.fixture
def health_app(make_app):
    return make_app(MAIL_HEALTH_MAX_AGE_SECONDS=MAX_AGE)


def test_mail_health_is_ok_when_nothing_waits(health_app):
    response = health_app.test_client().get("/healthz/mail")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "oldest_waiting_seconds": None, "max_age_seconds": MAX_AGE}


def test_mail_health_is_ok_while_the_oldest_confirmation_is_young(health_app, bundled_petition):
    queued_ago(health_app, bundled_petition.slug, MAX_AGE - 60)

    response = health_app.test_client().get("/healthz/mail")

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and MAX_AGE - 60 <= body["oldest_waiting_seconds"] < MAX_AGE


def test_mail_health_is_503_once_a_confirmation_waits_too_long(health_app, bundled_petition):
    queued_ago(health_app, bundled_petition.slug, 30)
    queued_ago(health_app, bundled_petition.slug, MAX_AGE + 60)

    response = health_app.test_client().get("/healthz/mail")

    assert response.status_code == 503
    assert response.get_json()["status"] == "late"
    assert response.get_json()["oldest_waiting_seconds"] >= MAX_AGE + 60
    assert health_app.test_client().get("/healthz").status_code == 200, "/healthz is about the database"


def test_mail_health_forgets_what_was_sent(health_app, bundled_petition):
    queued_ago(health_app, bundled_petition.slug, MAX_AGE + 60)
    with health_app.app_context():
        assert send_due() == (1, 0)  # no SMTP_URL: written to the log

    assert health_app.test_client().get("/healthz/mail").status_code == 200


@pytest.fixture
def failing(make_app, mail_sink, bundled_petition):
    """Two confirmations waiting, one of them retried after the SMTP server refused it."""
    app = make_app(SMTP_URL=mail_sink.url)  # nothing listens there
    first = queued_ago(app, bundled_petition.slug, 120)
    with app.app_context():
        assert send_due(limit=1) == (0, 1)
    queued_ago(app, bundled_petition.slug, 10)
    return app, first


def test_administrators_see_what_waits_and_what_fails(failing, organizer):
    app, first = failing
    client = app.test_client()
    login(client)

    page = client.get("/admin/outbox")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert texts(html, "outbox-status") and "Outbox" in html
    assert ">2</dd>" in html.split('id="outbox-waiting"')[1][:10]
    assert ">1</dd>" in html.split('id="outbox-failing"')[1][:10]
    assert "s ago" in html.split('id="outbox-oldest"')[1][:300]
    [row] = [row for row in table_rows(html) if row[0] == f"confirm #{first}"]
    assert row[1] == "1" and "refused" in row[3].lower()
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert texts(dashboard, "outbox-summary")[0].startswith(
        "Email: 2 confirmations and receipts waiting, 1 failing. The oldest has waited"
    )


def test_other_organizers_may_not_see_the_outbox(app, client, petition):
    with app.app_context():
        create_organizer("editor@example.org", ORGANIZER_PASSWORD, admin=False)
        _db.session.commit()
    login(client, email="editor@example.org")

    assert client.get("/admin/outbox").status_code == 403
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/outbox"' not in dashboard and texts(dashboard, "outbox-summary") == []


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/admin/outbox")

    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
