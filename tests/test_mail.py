"""Email confirmation, withdrawal and the outbox, over a real SMTP server on loopback."""

import datetime as dt
import re
import threading

import pytest
from sqlalchemy import func, select

from petition.extensions import db as _db
from petition.mail.sender import send_due, unsent_count
from petition.models import OutboxMessage, Signature, utcnow

from .conftest import csrf_token, organization_fields, sign, signatures, valid_fields
from .support import at_the_same_moment

LINK = re.compile(r"https?://[^\s\"<>]+/(confirm|withdraw)/[A-Za-z0-9_.\-]+")


def deliver(app, **kwargs):
    with app.app_context():
        return send_due(**kwargs)


def outbox(app):
    with app.app_context():
        rows = _db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        _db.session.expunge_all()
        return rows


def links_in(message) -> dict:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return {match.group(1): match.group(0) for match in LINK.finditer(text)}


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def press_button(client, url: str):
    """Open an emailed link and press the page's button, as the signer does."""
    page = client.get(path_of(url))
    assert page.status_code == 200
    token = csrf_token(page.get_data(as_text=True))
    return client.post(path_of(url), data={"csrf_token": token})


def counts(client, slug):
    return client.get(f"/api/v1/petitions/{slug}").get_json()["counts"]


@pytest.fixture
def mail_app(make_app, smtp):
    return make_app(SMTP_URL=smtp.url, MAIL_FROM="petition@sign.example.org")


def test_signature_waits_for_confirmation_then_counts(mail_app, smtp, bundled_petition):
    client = mail_app.test_client()
    response = sign(client, bundled_petition.slug, **valid_fields())

    assert response.headers["Location"].partition("?")[0].endswith(f"/p/{bundled_petition.slug}/check-email")
    assert "Check your inbox" in client.get(response.headers["Location"]).get_data(as_text=True)
    [row] = signatures(mail_app)
    assert row.status == Signature.PENDING
    assert counts(client, bundled_petition.slug)["total"] == 0

    assert deliver(mail_app) == (1, 0)
    [message] = smtp.messages
    assert message["To"] == "ana@example.org"
    assert message["From"] == "petition@sign.example.org"
    assert "Confirm your signature" in message["Subject"]
    assert message.get_body(preferencelist=("html",)) is not None
    links = links_in(message)
    assert set(links) == {"confirm", "withdraw"}

    # Opening the link (as a mail scanner does) confirms nothing.
    client.get(path_of(links["confirm"]))
    assert signatures(mail_app)[0].status == Signature.PENDING

    confirmed = press_button(client, links["confirm"])
    assert confirmed.status_code == 200
    assert "your signature is confirmed" in confirmed.get_data(as_text=True)
    [row] = signatures(mail_app)
    assert row.status == Signature.CONFIRMED and row.confirmed_at is not None
    assert counts(client, bundled_petition.slug) == {"total": 1, "individuals": 1, "organizations": 0}
    listing = client.get(f"/p/{bundled_petition.slug}/signatories").get_data(as_text=True)
    assert "Ana Quispe" in listing


def test_pending_signature_is_neither_counted_nor_listed(mail_app, bundled_petition):
    client = mail_app.test_client()
    sign(client, bundled_petition.slug, **valid_fields())

    assert counts(client, bundled_petition.slug)["total"] == 0
    listing = client.get(f"/p/{bundled_petition.slug}/signatories").get_data(as_text=True)
    assert "Ana Quispe" not in listing


def test_a_used_confirmation_link_says_so(mail_app, smtp, bundled_petition):
    client = mail_app.test_client()
    sign(client, bundled_petition.slug, **valid_fields())
    deliver(mail_app)
    link = links_in(smtp.messages[0])["confirm"]
    press_button(client, link)

    again = client.get(path_of(link))
    assert again.status_code == 200
    assert "already confirmed" in again.get_data(as_text=True)
    assert counts(client, bundled_petition.slug)["total"] == 1


def test_organization_waits_for_approval_after_confirming(mail_app, smtp, bundled_petition):
    client = mail_app.test_client()
    # From an address outside its website's domain: not verified, so not approved at once.
    sign(client, bundled_petition.slug, **organization_fields(email="sutep.lima@example.net"))
    deliver(mail_app)
    page = press_button(client, links_in(smtp.messages[0])["confirm"])

    assert "once the organizers have checked them" in page.get_data(as_text=True)
    [row] = signatures(mail_app)
    assert row.status == Signature.AWAITING_APPROVAL
    assert counts(client, bundled_petition.slug)["organizations"] == 0


def test_withdrawal_deletes_the_signature_and_the_count_drops(mail_app, smtp, bundled_petition):
    client = mail_app.test_client()
    sign(client, bundled_petition.slug, **valid_fields())
    deliver(mail_app)
    links = links_in(smtp.messages[0])
    press_button(client, links["confirm"])
    assert counts(client, bundled_petition.slug)["total"] == 1

    page = client.get(path_of(links["withdraw"]))
    assert "Withdraw my signature" in page.get_data(as_text=True)
    assert len(signatures(mail_app)) == 1, "opening the link alone withdraws nothing"
    withdrawn = press_button(client, links["withdraw"])

    assert withdrawn.status_code == 200
    assert signatures(mail_app) == []
    assert counts(client, bundled_petition.slug)["total"] == 0
    reused = client.get(path_of(links["withdraw"]))
    assert reused.status_code == 410
    assert "no longer exists" in reused.get_data(as_text=True)
    confirm_after = client.get(path_of(links["confirm"]))
    assert confirm_after.status_code == 410


def test_expired_confirmation_link_gets_a_clear_page(make_app, smtp, bundled_petition):
    app = make_app(SMTP_URL=smtp.url, CONFIRM_TOKEN_MAX_AGE=-1)
    client = app.test_client()
    sign(client, bundled_petition.slug, **valid_fields())
    deliver(app)
    link = links_in(smtp.messages[0])["confirm"]

    page = client.get(path_of(link))
    assert page.status_code == 410
    assert "This link has expired" in page.get_data(as_text=True)
    token = csrf_token(client.get("/admin/login").get_data(as_text=True))
    posted = client.post(path_of(link), data={"csrf_token": token})
    assert posted.status_code == 410
    assert signatures(app)[0].status == Signature.PENDING


@pytest.mark.parametrize(
    "mangle",
    [lambda t: t[:-3], lambda t: t + "x", lambda t: "abc", lambda t: t.replace(".", "", 1)],
)
def test_altered_links_get_a_clear_page(mail_app, smtp, bundled_petition, mangle):
    client = mail_app.test_client()
    sign(client, bundled_petition.slug, **valid_fields())
    deliver(mail_app)
    for kind, url in links_in(smtp.messages[0]).items():
        token = url.rsplit("/", 1)[1]
        page = client.get(f"/{kind}/{mangle(token)}")
        assert page.status_code == 404
        assert "This link is not valid" in page.get_data(as_text=True)


def test_a_confirm_token_cannot_withdraw(mail_app, smtp, bundled_petition):
    client = mail_app.test_client()
    sign(client, bundled_petition.slug, **valid_fields())
    deliver(mail_app)
    confirm_token = links_in(smtp.messages[0])["confirm"].rsplit("/", 1)[1]

    assert client.get(f"/withdraw/{confirm_token}").status_code == 404


def test_repeat_signature_gives_the_same_answer_and_tells_the_address(mail_app, smtp, bundled_petition):
    """Whether an address has signed is told to that address only, never on the page."""
    first = sign(mail_app.test_client(), bundled_petition.slug, **valid_fields())
    deliver(mail_app)
    press_button(mail_app.test_client(), links_in(smtp.messages[0])["confirm"])

    repeat = sign(mail_app.test_client(), bundled_petition.slug, **valid_fields(email="ANA@example.org"))
    new = sign(mail_app.test_client(), bundled_petition.slug, **valid_fields(email="new@example.org"))

    assert first.status_code == repeat.status_code == new.status_code == 303
    paths = {answer.headers["Location"].partition("?")[0] for answer in (first, repeat, new)}
    assert paths == {f"/p/{bundled_petition.slug}/check-email"}
    # The pages differ only in the hint of the address typed, whatever the database holds.
    client = mail_app.test_client()
    pages = [client.get(answer.headers["Location"]).get_data(as_text=True) for answer in (repeat, new)]
    repeat_main, new_main = (page.split("<main", 1)[1].split("</main>", 1)[0] for page in pages)
    assert "A…@example.org" in repeat_main
    assert repeat_main.replace("A…@", "n…@") == new_main
    deliver(mail_app)
    subjects = {m["To"]: m["Subject"] for m in smtp.messages[1:]}
    assert "already signed" in subjects["ana@example.org"]
    assert "Confirm" in subjects["new@example.org"]
    assert len(signatures(mail_app)) == 2


def test_repeat_of_a_pending_address_resends_confirmation_a_few_times_only(mail_app, smtp, bundled_petition):
    cap = mail_app.config["MAX_EMAILS_PER_SIGNATURE"]
    for _ in range(cap + 3):
        sign(mail_app.test_client(), bundled_petition.slug, **valid_fields())
    deliver(mail_app)

    assert len(smtp.messages) == cap
    assert all("Confirm" in m["Subject"] for m in smtp.messages)
    # Every resent link works.
    press_button(mail_app.test_client(), links_in(smtp.messages[-1])["confirm"])
    assert signatures(mail_app)[0].status == Signature.CONFIRMED


def test_email_waits_in_the_outbox_while_smtp_is_down_and_goes_when_it_is_back(
    make_app, mail_sink, bundled_petition
):
    app = make_app(SMTP_URL=mail_sink.url)  # nothing listens there yet
    client = app.test_client()
    response = sign(client, bundled_petition.slug, **valid_fields())
    assert response.status_code == 303, "signing does not wait for the mail server"

    assert deliver(app) == (0, 1)
    [message] = outbox(app)
    assert message.sent_at is None and message.attempts == 1
    assert "Connection" in message.last_error or "refused" in message.last_error.lower()
    assert message.next_attempt_at > utcnow()
    assert deliver(app) == (0, 0), "not retried before its backoff ends"

    mail_sink.start()
    later = utcnow() + dt.timedelta(hours=2)
    assert deliver(app, now=later) == (1, 0)
    assert len(mail_sink.messages) == 1
    with app.app_context():
        assert unsent_count() == 0


def test_backoff_grows_with_each_failure(make_app, mail_sink, bundled_petition):
    app = make_app(SMTP_URL=mail_sink.url, MAIL_RETRY_SECONDS=10)
    sign(app.test_client(), bundled_petition.slug, **valid_fields())
    now = utcnow()
    waits = []
    for _ in range(4):
        deliver(app, now=now)
        [message] = outbox(app)
        waits.append((message.next_attempt_at - now).total_seconds())
        now = message.next_attempt_at
    assert waits == [10, 20, 40, 80]


def test_without_smtp_url_email_is_logged_not_lost(app, bundled_petition, client, caplog):
    sign(client, bundled_petition.slug, **valid_fields())
    with caplog.at_level("INFO", logger="petition.mail.sender"):
        assert deliver(app) == (1, 0)
    assert "ana@example.org" in caplog.text
    assert "/confirm/" in caplog.text


def test_concurrent_senders_deliver_each_message_once(mail_app, smtp, bundled_petition):
    for number in range(30):
        sign(mail_app.test_client(), bundled_petition.slug, **valid_fields(email=f"s{number}@example.org"))

    def run_sender(ready):
        ready()
        return deliver(mail_app, limit=30)

    results = at_the_same_moment(run_sender, [()] * 4, timeout=60)

    assert len(results) == 4 and sum(sent for sent, _ in results) == 30, results
    assert sorted(m["To"] for m in smtp.messages) == sorted(f"s{n}@example.org" for n in range(30))


def test_signature_and_its_email_are_stored_together(app, bundled_petition, client):
    sign(client, bundled_petition.slug, **valid_fields())
    with app.app_context():
        messages = _db.session.scalar(select(func.count()).select_from(OutboxMessage))
        [row] = _db.session.scalars(select(Signature)).all()
        [message] = _db.session.scalars(select(OutboxMessage)).all()
        assert messages == 1
        assert message.signature_id == row.id and message.recipient == row.email


def test_mail_send_command_delivers_the_outbox(make_app, smtp, bundled_petition):
    app = make_app(SMTP_URL=smtp.url)
    sign(app.test_client(), bundled_petition.slug, **valid_fields())
    result = app.test_cli_runner().invoke(args=["mail", "send"])

    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    assert len(smtp.messages) == 1


def test_petition_without_confirmation_sends_a_receipt_with_a_withdrawal_link(mail_app, smtp, petition):
    sign(mail_app.test_client(), petition.slug, **valid_fields())
    deliver(mail_app)

    [message] = smtp.messages
    assert "Thank you for signing" in message["Subject"]
    assert set(links_in(message)) == {"withdraw"}


def test_worker_loop_sends_mail_queued_while_it_runs(mail_app, smtp, bundled_petition):
    from petition.mail.sender import run_worker

    stop = threading.Event()

    def work():
        with mail_app.app_context():
            run_worker(interval=0.05, stop=stop)

    worker = threading.Thread(target=work)
    worker.start()
    try:
        sign(mail_app.test_client(), bundled_petition.slug, **valid_fields())
        for _ in range(200):
            if smtp.messages:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        worker.join(timeout=10)
    assert len(smtp.messages) == 1
    assert not worker.is_alive()
