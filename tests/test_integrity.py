"""Signatures that stand up to scrutiny: one mailbox signs once, and quiet detection sends
signatures past a petition's thresholds to review, where a moderator confirms or rejects them.
The signer's answers never differ."""

import datetime as dt
import uuid

import pytest
import time_machine
from flask_migrate import downgrade, upgrade
from sqlalchemy import insert, select, update

from petition.extensions import db as _db
from petition.models import AuditEvent, OutboxMessage, Petition, Signature
from petition.signing import tokens

from .conftest import csrf_token, hidden_inputs, login, sign, signatures, valid_fields
from .support import table_rows

# A moment at the start of a form token's window: a form's measured age is then its real age.
WINDOW_START = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)


def api_total(client, slug) -> int:
    return client.get(f"/api/v1/petitions/{slug}").get_json()["counts"]["total"]


def set_petition(app, slug, **values):
    with app.app_context():
        _db.session.execute(update(Petition).where(Petition.slug == slug).values(**values))
        _db.session.commit()


def signer(app, ip="198.51.100.7"):
    """A browser at ``ip``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def sign_after(client, slug, seconds: float, **fields):
    """Open the petition page, wait ``seconds`` (on the clock, not in real time), then sign."""
    with time_machine.travel(WINDOW_START, tick=False) as clock:
        page = client.get(f"/p/{slug}")
        clock.shift(seconds)
        data = {**hidden(page), **(fields or valid_fields())}
        return client.post(f"/p/{slug}/sign", data=data)


def hidden(page) -> dict:
    return hidden_inputs(page.get_data(as_text=True))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("a.na+petition@gmail.com", "ana@googlemail.com"),
        ("Ana.Quispe@gmail.com", "anaquispe+x@GMAIL.com"),
        ("ana+one@outlook.com", "ana@outlook.com"),
        ("ana@protonmail.com", "ana+x@proton.me"),
    ],
)
def test_spellings_of_one_mailbox_sign_once(app, client, petition, first, second):
    assert sign(client, petition.slug, **valid_fields(email=first)).status_code == 303
    again = sign(client, petition.slug, **valid_fields(email=second, name="Someone Else"))

    assert again.status_code == 303 and "result=already" in again.headers["Location"]
    assert [s.email for s in signatures(app)] == [first], "the address typed is the one kept"
    assert api_total(client, petition.slug) == 1


def test_dots_count_at_providers_that_do_not_ignore_them(app, client, petition):
    for email in ("a.na@example.org", "ana@example.org", "ana+x@example.org"):
        assert sign(client, petition.slug, **valid_fields(email=email)).status_code == 303
    assert api_total(client, petition.slug) == 3


def test_emails_go_to_the_address_typed(app, client, bundled_petition):
    sign(client, bundled_petition.slug, **valid_fields(email="A.Na+Petition@gmail.com"))
    sign(client, bundled_petition.slug, **valid_fields(email="ana@googlemail.com"))
    with app.app_context():
        recipients = _db.session.scalars(select(OutboxMessage.recipient)).all()
    assert recipients == ["A.Na+Petition@gmail.com", "A.Na+Petition@gmail.com"]


def test_a_disposable_address_signs_like_any_other_and_waits_for_review(app, client, petition):
    answer = sign(client, petition.slug, **valid_fields(email="ana@mailinator.com"))
    plain = sign(client, petition.slug, **valid_fields(email="rosa@example.org"))

    assert answer.status_code == plain.status_code == 303
    assert answer.headers["Location"] == plain.headers["Location"], "nothing for a bot to learn"
    stored = {s.email: (s.status, s.signals) for s in signatures(app)}
    assert stored == {
        "ana@mailinator.com": (Signature.SUSPECT, "disposable"),
        "rosa@example.org": (Signature.CONFIRMED, ""),
    }
    assert api_total(client, petition.slug) == 1


@pytest.mark.parametrize(("seconds", "status"), [(1, Signature.SUSPECT), (3, Signature.CONFIRMED)])
def test_a_form_sent_sooner_than_the_petition_allows_waits_for_review(app, client, petition, seconds, status):
    set_petition(app, petition.slug, min_form_seconds=3)
    assert sign_after(client, petition.slug, seconds).status_code == 303
    [signature] = signatures(app)
    assert (signature.status, signature.form_age) == (status, seconds)
    assert signature.signals == ("fast" if status == Signature.SUSPECT else "")


def test_a_form_whose_page_is_older_than_its_window_is_never_found_too_fast(app, client, petition):
    """The token's time is rounded down to its window: a page made late in a window looks older
    than it is, never younger, so a signer is never sent to review for a slow page."""
    set_petition(app, petition.slug, min_form_seconds=3)
    with time_machine.travel(WINDOW_START + dt.timedelta(seconds=590), tick=False) as clock:
        page = client.get(f"/p/{petition.slug}")
        clock.shift(1)
        client.post(f"/p/{petition.slug}/sign", data={**hidden(page), **valid_fields()})
    [signature] = signatures(app)
    assert (signature.status, signature.form_age) == (Signature.CONFIRMED, 591)


@pytest.fixture(params=["database", "redis"])
def velocity_app(request, make_app, petition):
    """An app with the rate limiter, and so velocity, on; its counters in the database or in
    Redis (under a key prefix of its own)."""
    settings = {"RATELIMIT_ENABLED": True, "RATELIMIT_SIGN": "1000 per minute"}
    if request.param == "redis":
        settings |= {
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "SIGNALS_KEY_PREFIX": f"test:{uuid.uuid4().hex}",
        }
    return make_app(**settings)


def test_signatures_past_a_networks_hourly_limit_wait_for_review_until_the_hour_has_passed(
    velocity_app, petition
):
    set_petition(velocity_app, petition.slug, network_hourly_limit=2, min_form_seconds=0)
    neighbours = [signer(velocity_app, f"198.51.100.{n}") for n in (7, 8, 9)]
    elsewhere = signer(velocity_app, "203.0.113.7")
    start = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        for number, client in enumerate(neighbours):
            assert (
                sign(client, petition.slug, **valid_fields(email=f"n{number}@example.org")).status_code == 303
            )
        sign(elsewhere, petition.slug, **valid_fields(email="far@example.org"))
        clock.shift(dt.timedelta(minutes=61))
        sign(neighbours[0], petition.slug, **valid_fields(email="later@example.org"))

    stored = {s.email: (s.status, s.signals) for s in signatures(velocity_app)}
    assert stored == {
        "n0@example.org": (Signature.CONFIRMED, ""),
        "n1@example.org": (Signature.CONFIRMED, ""),
        "n2@example.org": (Signature.SUSPECT, "network"),
        # The network's third signature started a surge: the form now asks for a proof of work,
        # and a signature without one (these clients run no JavaScript) waits for review too.
        "far@example.org": (Signature.SUSPECT, "no-proof"),
        "later@example.org": (Signature.CONFIRMED, ""),
    }


def test_signatures_past_a_domains_hourly_limit_wait_for_review_but_webmail_is_exempt(velocity_app, petition):
    set_petition(
        velocity_app, petition.slug, domain_hourly_limit=1, network_hourly_limit=1000, min_form_seconds=0
    )
    emails = ["a@gmail.com", "b@gmail.com", "a@campaign.example", "b@campaign.example"]
    for number, email in enumerate(emails):
        sign(signer(velocity_app, f"192.0.2.{number}"), petition.slug, **valid_fields(email=email))
    statuses = {s.email: (s.status, s.signals) for s in signatures(velocity_app)}
    assert [statuses[email] for email in emails] == [
        (Signature.CONFIRMED, ""),
        (Signature.CONFIRMED, ""),
        (Signature.CONFIRMED, ""),
        (Signature.SUSPECT, "domain"),
    ]


def test_ipv6_signers_are_one_network_per_64(velocity_app, petition):
    set_petition(velocity_app, petition.slug, network_hourly_limit=1, min_form_seconds=0)
    for number, ip in enumerate(["2001:db8:1:3::1", "2001:db8:1:2::1", "2001:db8:1:2:ffff::9"]):
        sign(signer(velocity_app, ip), petition.slug, **valid_fields(email=f"v6-{number}@example.org"))
    assert [(s.status, s.signals) for s in signatures(velocity_app)] == [
        (Signature.CONFIRMED, ""),
        (Signature.CONFIRMED, ""),
        (Signature.SUSPECT, "network"),
    ]


def test_without_rate_limits_velocity_is_not_used(app, petition):
    set_petition(app, petition.slug, network_hourly_limit=1, domain_hourly_limit=1, min_form_seconds=0)
    for number in range(3):
        sign(signer(app), petition.slug, **valid_fields(email=f"same{number}@campaign.example"))
    assert {s.status for s in signatures(app)} == {Signature.CONFIRMED}


def test_no_signal_holds_the_address_and_neighbours_share_a_network(app, client, petition):
    for number, ip in enumerate(("198.51.100.7", "198.51.100.200", "203.0.113.7")):
        assert (
            sign(signer(app, ip), petition.slug, **valid_fields(email=f"n{number}@example.org")).status_code
            == 303
        )
    rows = signatures(app)
    networks = [s.network for s in rows]
    assert networks[0] == networks[1] != networks[2] and len(networks[0]) == 16
    for signature in rows:
        for value in (signature.network, signature.ip_hash, signature.signals, signature.email_domain):
            assert "198.51" not in value and "203.0" not in value


def test_on_a_petition_that_confirms_by_email_the_signals_come_at_confirmation(app, client, bundled_petition):
    sign(client, bundled_petition.slug, **valid_fields(email="ana@mailinator.com"))
    [pending] = signatures(app)
    assert (pending.status, pending.signals) == (Signature.PENDING, "disposable")
    with app.test_request_context():
        token = tokens.make_token(_db.session.get(Signature, pending.id), tokens.CONFIRM)
    page = client.get(f"/confirm/{token}")
    confirmed = client.post(f"/confirm/{token}", data={"csrf_token": csrf_token(page.get_data(as_text=True))})

    assert confirmed.status_code == 200
    assert "your signature is confirmed" in confirmed.get_data(as_text=True)
    assert signatures(app)[0].status == Signature.SUSPECT
    assert api_total(client, bundled_petition.slug) == 0


def moderate(client, slug, action, ids):
    page = client.get(f"/admin/p/{slug}/signatures?status=suspect")
    token = csrf_token(page.get_data(as_text=True))
    return client.post(
        f"/admin/p/{slug}/signatures", data={"csrf_token": token, "action": action, "ids": ids}
    )


def test_a_moderator_confirms_or_rejects_suspect_signatures(app, client, petition, organizer):
    for email in ("ana@mailinator.com", "rosa@mailinator.com"):
        sign(client, petition.slug, **valid_fields(email=email))
    first, second = (s.id for s in signatures(app))
    login(client)
    listed = client.get(f"/admin/p/{petition.slug}/signatures?status=suspect").get_data(as_text=True)
    assert "disposable address" in listed

    assert moderate(client, petition.slug, "approve", [first]).status_code == 303
    assert moderate(client, petition.slug, "reject", [second]).status_code == 303

    assert [s.status for s in signatures(app)] == [Signature.CONFIRMED, Signature.REJECTED]
    assert api_total(client, petition.slug) == 1


def test_the_moderation_list_filters_by_network_and_by_domain(app, client, petition, organizer):
    sign(signer(app, "198.51.100.7"), petition.slug, **valid_fields(email="a@one.example", name="Ana One"))
    sign(signer(app, "203.0.113.7"), petition.slug, **valid_fields(email="b@two.example", name="Bea Two"))
    network = signatures(app)[0].network
    login(client)

    def names(query):
        html = client.get(f"/admin/p/{petition.slug}/signatures?{query}").get_data(as_text=True)
        return [row[3] for row in table_rows(html)[1:]]

    assert names(f"network={network}") == ["Ana One"]
    assert names("domain=TWO.example") == ["Bea Two"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("network_hourly_limit", "0"), ("domain_hourly_limit", "many"), ("min_form_seconds", "601")],
)
def test_thresholds_refuse_what_is_not_a_number_in_range(app, client, petition, organizer, field, value):
    login(client)
    page = client.get(f"/admin/p/{petition.slug}/integrity")
    data = {
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "network_hourly_limit": "20",
        "domain_hourly_limit": "50",
        "min_form_seconds": "3",
        field: value,
    }
    answer = client.post(f"/admin/p/{petition.slug}/integrity", data=data)

    assert answer.status_code == 422
    assert f'id="{field}-error"' in answer.get_data(as_text=True)
    with app.app_context():
        stored = _db.session.scalar(select(Petition).where(Petition.slug == petition.slug))
        # As the fixture left them: nothing of the refused form is stored.
        assert (stored.network_hourly_limit, stored.domain_hourly_limit, stored.min_form_seconds) == (
            20,
            50,
            0,
        )


def test_organizers_set_the_thresholds_and_the_audit_record_says_so(app, client, petition, organizer):
    login(client)
    page = client.get(f"/admin/p/{petition.slug}/integrity")
    data = {
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "network_hourly_limit": "5",
        "domain_hourly_limit": "40",
        "min_form_seconds": "0",
        "proof_of_work": "y",
    }
    assert client.post(f"/admin/p/{petition.slug}/integrity", data=data).status_code == 303

    with app.app_context():
        stored = _db.session.scalar(select(Petition).where(Petition.slug == petition.slug))
        assert (stored.network_hourly_limit, stored.domain_hourly_limit, stored.min_form_seconds) == (
            5,
            40,
            0,
        )
        assert (stored.proof_of_work, stored.notify_surges) == (True, False)
        event = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "integrity_settings"))
        assert (event.petition_id, event.detail["network_hourly_limit"]) == (petition.id, 5)


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


def test_the_migration_gives_existing_addresses_their_mailbox_key_and_leaves_a_clash_alone(
    app, petition, capsys
):
    rows = [
        ("A.Na+x@gmail.com", "a.na+x@gmail.com"),  # the older of one mailbox: takes its key
        ("ana@googlemail.com", "ana@googlemail.com"),  # the newer: keeps its own
        ("rosa.m@example.org", "rosa.m@example.org"),  # elsewhere: as it was
        ("luz@gmail.com", "luz@gmail.com"),  # already canonical, and a clash for the next
        ("L.uz@gmail.com", "l.uz@gmail.com"),
    ]
    try:
        with app.app_context():
            _db.session.remove()
            downgrade(revision="0009")
            with _db.engine.begin() as connection:
                connection.execute(
                    insert(Signature.__table__), [signature_row(petition.id, *row) for row in rows]
                )
            upgrade()
    finally:
        with app.app_context():
            upgrade()

    with app.app_context():
        keys = _db.session.scalars(select(Signature.email_key).order_by(Signature.id)).all()
    assert keys == [
        "ana@gmail.com",
        "ana@googlemail.com",
        "rosa.m@example.org",
        "luz@gmail.com",
        "l.uz@gmail.com",
    ]
    assert "keeps its address key" in capsys.readouterr().err


def test_suspect_signatures_survive_a_migration_down_as_unapproved_ones(app, client, petition):
    sign(client, petition.slug, **valid_fields(email="ana@mailinator.com"))
    try:
        with app.app_context():
            _db.session.remove()
            downgrade(revision="0009")
            with _db.engine.connect() as connection:
                status = connection.exec_driver_sql("SELECT status FROM signature").scalar()
    finally:
        with app.app_context():
            upgrade()
    assert status == Signature.AWAITING_APPROVAL
    assert api_total(client, petition.slug) == 0


def test_signing_goes_on_when_the_counters_redis_is_down(make_app, petition):
    app = make_app(RATELIMIT_ENABLED=True, REDIS_URL="redis://127.0.0.1:1/0")
    set_petition(app, petition.slug, network_hourly_limit=1, min_form_seconds=0)
    for number in range(2):
        answer = sign(signer(app), petition.slug, **valid_fields(email=f"down{number}@example.org"))
        assert answer.status_code == 303
    assert [s.status for s in signatures(app)] == [Signature.CONFIRMED, Signature.CONFIRMED]


def test_the_retention_purge_erases_a_signatures_signals_with_its_signer(app, client, petition):
    set_petition(app, petition.slug, retention_days=30)
    with time_machine.travel(WINDOW_START - dt.timedelta(days=31), tick=False) as clock:
        page = signer(app).get(f"/p/{petition.slug}")
        clock.shift(1)
        signer(app).post(
            f"/p/{petition.slug}/sign", data={**hidden(page), **valid_fields(email="a@mailinator.com")}
        )
    [before] = signatures(app)
    assert before.network and before.email_domain == "mailinator.com" and before.form_age == 1

    result = app.test_cli_runner().invoke(args=["signatures", "purge"])

    assert result.exit_code == 0, result.output
    [after] = signatures(app)
    assert (after.email, after.network, after.email_domain, after.form_age) == ("", "", "", None)
