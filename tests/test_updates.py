"""Organizers' updates to signers: written and previewed as Markdown, sent once to each confirmed
signer who asked for news, in throttled batches through the outbox, with one-click unsubscription;
over a real SMTP server on loopback."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from petition.extensions import db as _db
from petition.mail.sender import send_due
from petition.models import OutboxMessage, Signature, Update, utcnow
from petition.signing import tokens
from petition.updates import services

from .conftest import csrf_token, login, sign, valid_fields
from .support import at_the_same_moment, parse_html, store_signature, texts

SUBJECT = "News from the campaign"
BODY = "We **won** a hearing.\n\n<script>alert(1)</script>"


@pytest.fixture
def mail_app(make_app, smtp):
    return make_app(SMTP_URL=smtp.url)


@pytest.fixture
def admin(app, organizer):
    return organizer_client(app)


def organizer_client(app):
    client = app.test_client()
    assert login(client).status_code == 303
    return client


def deliver(app, **kwargs):
    with app.app_context():
        return send_due(**kwargs)


def deliver_all(app, passes=20, **kwargs):
    """Run sender passes until one sends nothing; return how many passes sent something."""
    busy = 0
    for _ in range(passes):
        sent, _failed = deliver(app, **kwargs)
        if not sent:
            return busy
        busy += 1
    raise AssertionError("the outbox never ran dry")


def write_update(client, slug, subject=SUBJECT, body=BODY) -> int:
    """Write and save a draft through the form, as an organizer does; return its id."""
    page = client.get(f"/admin/p/{slug}/updates/new")
    assert page.status_code == 200
    data = {"csrf_token": csrf_token(page.get_data(as_text=True)), "subject": subject, "body": body}
    response = client.post(f"/admin/p/{slug}/updates/new", data=data | {"save": "y"})
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def press_send(client, slug, update_id):
    page = client.get(f"/admin/p/{slug}/updates/{update_id}")
    token = csrf_token(page.get_data(as_text=True))
    return client.post(f"/admin/p/{slug}/updates/{update_id}/send", data={"csrf_token": token})


def send_new_update(client, slug, subject=SUBJECT, body=BODY) -> int:
    update_id = write_update(client, slug, subject, body)
    assert press_send(client, slug, update_id).status_code == 303
    return update_id


def received(sink, subject=SUBJECT) -> list[str]:
    """Who got the update with ``subject``, one entry per email."""
    return sorted(message["To"] for message in sink.messages if message["Subject"] == subject)


def opted_in(app, slug, count, **fields) -> list[str]:
    emails = [f"news{number}@example.org" for number in range(count)]
    for email in emails:
        store_signature(app, slug, updates=True, email=email, **fields)
    return emails


def unsubscribe_path(message) -> str:
    url = message["List-Unsubscribe"].strip("<>")
    return "/" + url.split("/", 3)[3]


def stored_update(app, update_id) -> Update:
    with app.app_context():
        update = _db.session.get(Update, update_id)
        _db.session.expunge_all()
        return update


def wants_news(app, email) -> bool:
    with app.app_context():
        return _db.session.scalar(select(Signature.updates).where(Signature.email == email))


def update_rows(app, update_id) -> int:
    with app.app_context():
        return _db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.update_id == update_id)
        )


# Who receives an update, and only once


def test_an_update_reaches_each_opted_in_counted_signer_exactly_once(mail_app, admin, smtp, petition):
    store_signature(mail_app, petition.slug, updates=True, email="confirmed@example.org")
    store_signature(mail_app, petition.slug, Signature.HIDDEN, updates=True, email="hidden@example.org")
    store_signature(mail_app, petition.slug, Signature.PENDING, updates=True, email="pending@example.org")
    store_signature(mail_app, petition.slug, Signature.REJECTED, updates=True, email="rejected@example.org")
    store_signature(
        mail_app, petition.slug, Signature.AWAITING_APPROVAL, updates=True, email="unapproved@example.org"
    )
    store_signature(mail_app, petition.slug, updates=False, email="no-news@example.org")

    update_id = write_update(admin, petition.slug)
    assert "Send to 2 signers" in admin.get(f"/admin/p/{petition.slug}/updates/{update_id}").text
    press_send(admin, petition.slug, update_id)
    deliver_all(mail_app)
    deliver_all(mail_app)

    assert received(smtp) == ["confirmed@example.org", "hidden@example.org"]
    assert stored_update(mail_app, update_id).status == Update.SENT
    with mail_app.app_context():
        update = _db.session.get(Update, update_id)
        assert services.enqueue_batch(update, 100) == 0
    assert deliver(mail_app) == (0, 0)
    assert len(received(smtp)) == 2
    listing = admin.get(f"/admin/p/{petition.slug}/updates").text
    assert SUBJECT in listing and "Sent" in listing


def test_two_enqueuers_racing_queue_each_recipient_once(app, petition):
    emails = opted_in(app, petition.slug, 12)
    with app.test_request_context():
        update = started_update(petition)
        stale = services.recipients_without_message(update, 100)
        assert services.enqueue_batch(update, 100) == 12
        assert services.insert_messages(update, stale) == 0, "the picked-over batch inserts nothing"
        _db.session.commit()
        update_id = update.id
    with app.app_context():
        _db.session.execute(OutboxMessage.__table__.delete())
        _db.session.commit()

    def enqueue(ready):
        with app.test_request_context():
            update = _db.session.get(Update, update_id)
            ready()
            queued = services.enqueue_batch(update, 100)
            _db.session.commit()
            return queued

    queued = at_the_same_moment(enqueue, [(), ()], timeout=30, ready_timeout=10)

    assert len(queued) == 2 and sum(queued) == len(emails), queued
    assert update_rows(app, update_id) == len(emails)


def started_update(petition) -> Update:
    update = services.create_update(petition, SUBJECT, BODY)
    update.status, update.started_at = Update.SENDING, utcnow()
    _db.session.flush()
    return update


def test_an_update_survives_an_smtp_outage(make_app, mail_sink, petition, organizer):
    app = make_app(SMTP_URL=mail_sink.url)  # nothing listens there yet
    emails = opted_in(app, petition.slug, 3)
    send_new_update(organizer_client(app), petition.slug)

    sent, failed = deliver(app)
    assert sent == 0 and failed > 0
    mail_sink.start()
    later = utcnow() + dt.timedelta(hours=2)
    deliver_all(app, now=later)
    deliver_all(app, now=later + dt.timedelta(hours=2))

    assert received(mail_sink) == sorted(emails)


def test_an_update_goes_out_a_batch_at_a_time(make_app, smtp, petition, organizer):
    app = make_app(SMTP_URL=smtp.url, UPDATE_BATCH_SIZE=2)
    emails = opted_in(app, petition.slug, 5)
    update_id = send_new_update(organizer_client(app), petition.slug)

    assert update_rows(app, update_id) == 2, "the request queues only the first batch"
    assert stored_update(app, update_id).status == Update.SENDING
    passes = deliver_all(app)

    assert passes >= 3
    assert received(smtp) == sorted(emails)
    assert stored_update(app, update_id).status == Update.SENT


def test_update_emails_keep_to_the_rate_per_minute(make_app, smtp, petition, organizer):
    app = make_app(SMTP_URL=smtp.url, MAIL_RATE_PER_MINUTE=2)
    opted_in(app, petition.slug, 5)
    send_new_update(organizer_client(app), petition.slug)
    now = utcnow()

    deliver_all(app, now=now)
    assert len(received(smtp)) == 2
    deliver_all(app, now=now + dt.timedelta(seconds=30))
    assert len(received(smtp)) == 2, "still within the same minute"
    deliver(app, now=now + dt.timedelta(minutes=5))
    assert len(received(smtp)) == 4, "a minute later, the next two"


def test_a_confirmation_never_waits_behind_an_update(make_app, smtp, petition, organizer):
    app = make_app(SMTP_URL=smtp.url)
    opted_in(app, petition.slug, 5)
    deliver_all(app)  # the signers' receipts
    send_new_update(organizer_client(app), petition.slug)
    sign(app.test_client(), petition.slug, **valid_fields(email="newcomer@example.org"))

    assert deliver(app, limit=1) == (1, 0)
    [first] = smtp.messages[5:]
    assert first["To"] == "newcomer@example.org"
    assert "Thank you for signing" in first["Subject"]


# The email


def test_update_email_has_one_click_unsubscribe_headers_and_links(mail_app, admin, smtp, petition):
    opted_in(mail_app, petition.slug, 1)
    send_new_update(admin, petition.slug)
    deliver_all(mail_app)

    [message] = [m for m in smtp.messages if m["Subject"] == SUBJECT]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].startswith("<http") and "/unsubscribe/" in message["List-Unsubscribe"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for body in (text, html):
        assert "/unsubscribe/" in body and "/withdraw/" in body
    assert "<strong>won</strong>" in html
    assert "&lt;script&gt;" in html and "<script>" not in html


def test_an_update_can_be_read_as_sent_but_not_changed(mail_app, admin, petition):
    opted_in(mail_app, petition.slug, 1)
    update_id = send_new_update(admin, petition.slug)
    page = admin.get(f"/admin/p/{petition.slug}/updates/{update_id}")
    token = csrf_token(page.text)

    changed = admin.post(
        f"/admin/p/{petition.slug}/updates/{update_id}",
        data={"csrf_token": token, "subject": "Another", "body": "Other", "save": "y"},
    )
    again = admin.post(f"/admin/p/{petition.slug}/updates/{update_id}/send", data={"csrf_token": token})

    assert "<strong>won</strong>" in page.text and "Send to" not in page.text
    assert changed.status_code == again.status_code == 303
    assert stored_update(mail_app, update_id).subject == SUBJECT
    assert update_rows(mail_app, update_id) == 1


# Unsubscribing


def update_emails(mail_app, admin, smtp, slug) -> dict:
    """Send an update and deliver it; the emails by recipient."""
    send_new_update(admin, slug)
    deliver_all(mail_app)
    return {m["To"]: m for m in smtp.messages if m["Subject"] == SUBJECT}


def test_unsubscribe_page_asks_then_stops_the_next_update(mail_app, admin, smtp, petition):
    emails = opted_in(mail_app, petition.slug, 2)
    path = unsubscribe_path(update_emails(mail_app, admin, smtp, petition.slug)[emails[0]])
    reader = mail_app.test_client()

    page = reader.get(path)
    assert page.status_code == 200 and "Stop the news" in page.text
    assert wants_news(mail_app, emails[0]), "opening the link alone changes nothing"
    done = reader.post(path, data={"csrf_token": csrf_token(page.text)})
    assert done.status_code == 200 and "You no longer receive news" in done.text
    assert not wants_news(mail_app, emails[0])

    send_new_update(admin, petition.slug, subject="Second news")
    deliver_all(mail_app)
    assert received(smtp, "Second news") == [emails[1]]


def test_one_click_unsubscribe_from_a_mail_client_needs_no_csrf_token(mail_app, admin, smtp, petition):
    emails = opted_in(mail_app, petition.slug, 2)
    message = update_emails(mail_app, admin, smtp, petition.slug)[emails[1]]

    response = mail_app.test_client().post(unsubscribe_path(message), data={"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert not wants_news(mail_app, emails[1]) and wants_news(mail_app, emails[0])
    send_new_update(admin, petition.slug, subject="Second news")
    deliver_all(mail_app)
    assert received(smtp, "Second news") == [emails[0]]


def test_signer_who_unsubscribes_before_delivery_gets_nothing(make_app, smtp, petition, organizer):
    app = make_app(SMTP_URL=smtp.url)
    emails = opted_in(app, petition.slug, 2)
    send_new_update(organizer_client(app), petition.slug)  # queued, not delivered yet
    with app.app_context():
        queued = _db.session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.recipient == emails[0], OutboxMessage.update_id.is_not(None)
            )
        )
        path = "/" + queued.headers["List-Unsubscribe"].strip("<>").split("/", 3)[3]
    assert app.test_client().post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200

    deliver_all(app)
    assert received(smtp) == [emails[1]]


def test_unsubscribe_and_other_emailed_links_do_not_stand_in_for_each_other(app, client, petition):
    opted_in(app, petition.slug, 1)
    with app.test_request_context():
        signature = _db.session.scalar(select(Signature))
        withdraw = tokens.make_token(signature, tokens.WITHDRAW)
        unsubscribe = tokens.make_token(signature, tokens.UNSUBSCRIBE)

    assert client.get(f"/unsubscribe/{withdraw}").status_code == 404
    assert client.post(f"/unsubscribe/{withdraw}", data={"List-Unsubscribe": "One-Click"}).status_code == 404
    assert client.get(f"/withdraw/{unsubscribe}").status_code == 404
    assert client.get(f"/unsubscribe/{unsubscribe[:-3]}").status_code == 404
    assert wants_news(app, "news0@example.org")


def test_expired_unsubscribe_link_says_so(make_app, petition):
    app = make_app(UNSUBSCRIBE_TOKEN_MAX_AGE=-1)
    opted_in(app, petition.slug, 1)
    with app.test_request_context():
        token = tokens.make_token(_db.session.scalar(select(Signature)), tokens.UNSUBSCRIBE)

    page = app.test_client().get(f"/unsubscribe/{token}")
    assert page.status_code == 410 and "This link has expired" in page.text


# The organizers' pages


def test_preview_renders_markdown_and_shows_raw_html_as_text(app, admin, petition):
    page = admin.get(f"/admin/p/{petition.slug}/updates/new")
    token = csrf_token(page.text)

    preview = admin.post(
        f"/admin/p/{petition.slug}/updates/new",
        data={"csrf_token": token, "subject": SUBJECT, "body": BODY, "preview": "y"},
    )
    live = admin.post(f"/admin/p/{petition.slug}/updates/preview", data={"csrf_token": token, "body": BODY})

    assert preview.status_code == 200
    for html in (preview.text, live.text):
        assert "<strong>won</strong>" in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert live.mimetype == "text/html" and "<html" not in live.text
    with app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(Update)) == 0, "a preview saves nothing"


@pytest.mark.parametrize(
    ("field", "data", "message"),
    [
        ("subject", {"subject": "  ", "body": "Hello"}, "Enter a subject."),
        ("subject", {"subject": "x" * 201, "body": "Hello"}, "Keep the subject under 200 characters."),
        ("subject", {"subject": "Two\r\nBcc: all@example.org", "body": "Hello"}, "on one line"),
        ("body", {"subject": SUBJECT, "body": ""}, "Write the message."),
    ],
)
def test_bad_update_input_gets_422_with_the_error_beside_its_field(
    app, admin, petition, field, data, message
):
    token = csrf_token(admin.get(f"/admin/p/{petition.slug}/updates/new").text)
    response = admin.post(
        f"/admin/p/{petition.slug}/updates/new", data={"csrf_token": token, "save": "y", **data}
    )

    assert response.status_code == 422
    beside = [e for e in parse_html(response.text).elements if e["attrs"].get("id") == f"{field}-error"]
    assert beside and message in "".join(beside[0]["text"])
    assert any(message in summary for summary in texts(response.text, "error-summary"))
    with app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(Update)) == 0


def test_a_draft_can_be_edited_before_it_is_sent(app, admin, petition):
    update_id = write_update(admin, petition.slug)
    page = admin.get(f"/admin/p/{petition.slug}/updates/{update_id}")
    assert "<strong>won</strong>" in page.text, "the saved draft shows its preview"

    response = admin.post(
        f"/admin/p/{petition.slug}/updates/{update_id}",
        data={"csrf_token": csrf_token(page.text), "subject": "Better", "body": "Text", "save": "y"},
    )
    assert response.status_code == 303
    assert stored_update(app, update_id).subject == "Better"


def test_nobody_to_send_to_sends_nothing(app, admin, petition):
    store_signature(app, petition.slug, updates=False)
    update_id = write_update(admin, petition.slug)
    page = admin.get(f"/admin/p/{petition.slug}/updates/{update_id}").text
    assert "No signer has asked for news yet" in page and "Send to" not in page

    press_send(admin, petition.slug, update_id)
    assert stored_update(app, update_id).status == Update.DRAFT


def test_sending_needs_a_csrf_token(app, admin, petition):
    opted_in(app, petition.slug, 1)
    update_id = write_update(admin, petition.slug)

    response = admin.post(f"/admin/p/{petition.slug}/updates/{update_id}/send")
    assert response.status_code == 400
    assert stored_update(app, update_id).status == Update.DRAFT


def test_the_petition_dashboard_links_to_its_updates(admin, petition):
    page = admin.get(f"/admin/p/{petition.slug}").text
    assert f'href="/admin/p/{petition.slug}/updates"' in page


@pytest.mark.parametrize("path", ["/updates", "/updates/new", "/updates/1"])
def test_anonymous_visitors_are_sent_to_login(client, petition, path):
    response = client.get(f"/admin/p/{petition.slug}{path}")
    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]


@pytest.mark.parametrize("path", ["/updates/new", "/updates/preview", "/updates/1/send"])
def test_anonymous_posts_change_nothing(app, client, petition, path):
    response = client.post(f"/admin/p/{petition.slug}{path}", data={"subject": "x", "body": "y"})
    assert response.status_code in (302, 400)
    with app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(Update)) == 0
