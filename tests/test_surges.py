"""Surges, seen the same hour: the organizers' dashboard shows where signatures come from, an
email tells them when a surge starts (once), and in a surge the sign form asks for a proof of
work that the site serves and checks itself."""

import datetime as dt
import uuid

import altcha
import pytest
import time_machine
from sqlalchemy import select, update

from petition.extensions import db as _db
from petition.mail.sender import send_due
from petition.models import OutboxMessage, Petition, Signature

from .conftest import hidden_inputs, login, sign, signatures, valid_fields
from .support import at_the_same_moment, links, store_signature

START = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)


def set_petition(app, slug, **values):
    with app.app_context():
        _db.session.execute(update(Petition).where(Petition.slug == slug).values(**values))
        _db.session.commit()


def signer(app, ip):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


@pytest.fixture
def watched_app(make_app, petition, smtp):
    """Velocity on (the rate limiter's switch), counters in Redis under a prefix of this test's,
    and mail to a real SMTP server."""
    return make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_SIGN="1000 per minute",
        REDIS_URL="redis://127.0.0.1:6379/0",
        SIGNALS_KEY_PREFIX=f"test:{uuid.uuid4().hex}",
        SMTP_URL=smtp.url,
        ALTCHA_COST=50,
    )


def sign_from_one_network(app, slug, count, first=0):
    for number in range(first, first + count):
        email = f"burst{number}@campaign.example"
        assert sign(signer(app, "198.51.100.7"), slug, **valid_fields(email=email)).status_code == 303


def test_organizers_get_one_email_when_a_surge_starts_and_another_for_the_next(
    watched_app, petition, organizer, smtp
):
    set_petition(watched_app, petition.slug, network_hourly_limit=2, min_form_seconds=0)
    with time_machine.travel(START, tick=False) as clock:
        sign_from_one_network(watched_app, petition.slug, 5)
        with watched_app.app_context():
            send_due()
        clock.shift(dt.timedelta(hours=2))
        sign_from_one_network(watched_app, petition.slug, 3, first=5)
        with watched_app.app_context():
            send_due()

    told = [message for message in smtp.messages if message["To"] == "organizer@example.org"]
    assert len(told) == 2
    assert "surge of signatures" in told[0]["Subject"]
    body = told[0].get_content()
    assert f"/admin/p/{petition.slug}" in body and "2026-12-03 10:00" in body


def test_no_email_when_the_organizers_turned_it_off(watched_app, petition, organizer, smtp):
    set_petition(watched_app, petition.slug, network_hourly_limit=1, min_form_seconds=0, notify_surges=False)
    sign_from_one_network(watched_app, petition.slug, 3)
    with watched_app.app_context():
        send_due()
    assert [message["To"] for message in smtp.messages if message["To"] == "organizer@example.org"] == []
    assert len(smtp.messages) == 3, "the signers' receipts went"


def test_the_dashboard_shows_the_busiest_networks_and_domains_with_links_to_their_signatures(
    app, client, petition, organizer
):
    for number in range(3):
        sign(signer(app, "198.51.100.7"), petition.slug, **valid_fields(email=f"m{number}@many.example"))
    sign(
        signer(app, "203.0.113.9"), petition.slug, **valid_fields(email="one@other.example", name="Luz Other")
    )
    busiest = signatures(app)[0].network
    login(client)

    html = client.get(f"/admin/p/{petition.slug}").get_data(as_text=True)
    assert "Last hour: 4 signatures" in html and "Last day: 4 signatures" in html
    network_link = f"/admin/p/{petition.slug}/signatures?network={busiest}"
    domain_link = f"/admin/p/{petition.slug}/signatures?domain=many.example"
    assert network_link in links(html) and domain_link in links(html)

    listed = client.get(network_link).get_data(as_text=True)
    assert "3 signatures match" in listed and "Luz Other" not in listed


def test_the_usual_rate_is_the_petitions_week_before_the_last_day(app, client, petition, organizer):
    set_petition(app, petition.slug, created_at=(START - dt.timedelta(days=30)).replace(tzinfo=None))
    for day in (3, 0):  # 84 in the week before the last day (half a signature an hour), 1 now
        with time_machine.travel(START - dt.timedelta(days=day), tick=False):
            for _ in range(84 if day else 1):
                store_signature(app, petition.slug)
    with time_machine.travel(START + dt.timedelta(minutes=1), tick=False):
        # Signed in at that moment too: a session cookie from a later real time reads as forged.
        login(client)
        html = client.get(f"/admin/p/{petition.slug}").get_data(as_text=True)
    assert "Usual rate: 0.5 signatures an hour" in html
    assert "Last hour: 1 signature<" in html


def solved(client) -> str:
    """What the widget posts: a challenge from the site, solved as the browser would."""
    challenge = altcha.Challenge.from_dict(client.get("/altcha/challenge").get_json())
    return altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()


def sign_with(client, slug, email, payload=None):
    page = client.get(f"/p/{slug}")
    data = hidden_inputs(page.get_data(as_text=True)) | valid_fields(email=email)
    if payload is not None:
        data["altcha"] = payload
    return client.post(f"/p/{slug}/sign", data=data)


def test_when_organizers_ask_for_it_a_solved_challenge_counts_once_and_no_proof_waits(watched_app, petition):
    set_petition(watched_app, petition.slug, proof_of_work=True, min_form_seconds=0)
    client = watched_app.test_client()
    page = client.get(f"/p/{petition.slug}").get_data(as_text=True)
    assert "<altcha-widget" in page and "/static/vendor/altcha/altcha.min.js" in page
    served = client.get("/static/vendor/altcha/altcha.min.js")
    served.close()
    assert served.status_code == 200
    payload = solved(client)

    answers = [
        sign_with(client, petition.slug, "solved@example.org", payload),
        sign_with(client, petition.slug, "replayed@example.org", payload),
        sign_with(client, petition.slug, "nojs@example.org"),
        sign_with(client, petition.slug, "forged@example.org", "bm90IGEgcGF5bG9hZA=="),
    ]

    assert {answer.headers["Location"] for answer in answers} == {answers[0].headers["Location"]}
    assert [(s.status, s.signals) for s in signatures(watched_app)] == [
        (Signature.CONFIRMED, ""),
        (Signature.SUSPECT, "no-proof"),
        (Signature.SUSPECT, "no-proof"),
        (Signature.SUSPECT, "no-proof"),
    ]


def test_a_challenge_is_spent_once_in_the_database_too(make_app, petition):
    app = make_app(ALTCHA_COST=50)
    set_petition(app, petition.slug, proof_of_work=True, min_form_seconds=0)
    client = app.test_client()
    payload = solved(client)
    sign_with(client, petition.slug, "first@example.org", payload)
    sign_with(client, petition.slug, "second@example.org", payload)
    assert [s.status for s in signatures(app)] == [Signature.CONFIRMED, Signature.SUSPECT]


def test_without_a_surge_the_form_asks_for_nothing(app, client, petition):
    assert "altcha" not in client.get(f"/p/{petition.slug}").get_data(as_text=True)


def test_a_surge_brings_the_widget_to_the_form_until_it_ends(watched_app, petition):
    set_petition(watched_app, petition.slug, network_hourly_limit=1, min_form_seconds=0)
    client = watched_app.test_client()
    with time_machine.travel(START, tick=False) as clock:
        sign_from_one_network(watched_app, petition.slug, 2)
        assert "<altcha-widget" in client.get(f"/p/{petition.slug}").get_data(as_text=True)
        clock.shift(dt.timedelta(hours=2))
        assert "<altcha-widget" not in client.get(f"/p/{petition.slug}").get_data(as_text=True)
    with watched_app.app_context():
        stored = _db.session.scalar(select(Petition).where(Petition.slug == petition.slug))
        assert stored.surge_until is not None


def test_signatures_starting_a_surge_at_the_same_moment_send_one_email(watched_app, petition, organizer):
    set_petition(watched_app, petition.slug, network_hourly_limit=1, min_form_seconds=0)
    clients = [signer(watched_app, "198.51.100.7") for _ in range(12)]
    forms = [hidden_inputs(c.get(f"/p/{petition.slug}").get_data(as_text=True)) for c in clients]

    def post(ready, number, client, form):
        ready()
        data = form | valid_fields(email=f"race{number}@example.org")
        return client.post(f"/p/{petition.slug}/sign", data=data).status_code

    arguments = [(n, c, f) for n, (c, f) in enumerate(zip(clients, forms, strict=True))]
    assert at_the_same_moment(post, arguments, timeout=60) == [303] * len(clients)

    with watched_app.app_context():
        told = _db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "surge")).all()
    assert len(told) == 1
    stored = signatures(watched_app)
    assert len(stored) == 12 and sum(s.status == Signature.SUSPECT for s in stored) == 11
