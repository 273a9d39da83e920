"""Rate limits (in memory and shared through Redis), the honeypot, production settings,
and the purge of personal data."""

import datetime as dt
import uuid

import pytest
from flask_limiter import RequestLimit
from sqlalchemy import select

from petition import create_app
from petition.extensions import db as _db
from petition.extensions import reads_are_not_limited
from petition.models import OutboxMessage, Petition, Signature, utcnow

from .conftest import app_config, csrf_token, hidden_inputs, sign, signatures, valid_fields
from .support import close_connections

REDIS_URL = "redis://127.0.0.1:6379"


def redis_available() -> bool:
    try:
        import redis

        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001
        return False


def limited_app(make_app, storage="memory://", **overrides):
    return make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=storage,
        RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
        **overrides,
    )


def post_signatures(app, slug, count, start=0):
    client = app.test_client()
    data = hidden_inputs(client.get(f"/p/{slug}").get_data(as_text=True))
    statuses = []
    for number in range(start, start + count):
        response = client.post(
            f"/p/{slug}/sign", data={**data, **valid_fields(email=f"n{number}@example.org")}
        )
        statuses.append(response.status_code)
    return statuses, response


def test_one_address_signing_hundreds_a_minute_is_refused(make_app, petition):
    app = limited_app(make_app, RATELIMIT_SIGN="100 per minute")
    statuses, last = post_signatures(app, petition.slug, 103)

    assert statuses[:100] == [303] * 100
    assert statuses[100:] == [429] * 3
    assert last.status_code == 429
    assert "Too many requests" in last.get_data(as_text=True)
    assert 1 <= int(last.headers["Retry-After"]) <= 60, "when the minute's window opens again"
    assert len(signatures(app)) == 100


def test_limited_answers_carry_no_counters_and_reads_skip_the_limiter(make_app, petition):
    app = limited_app(make_app, RATELIMIT_SIGN="2 per minute")
    client = app.test_client()
    for _ in range(5):
        assert client.get(f"/p/{petition.slug}").status_code == 200

    statuses, last = post_signatures(app, petition.slug, 2)

    assert statuses == [303, 303], "the page views counted for nothing"
    assert not [name for name in last.headers.keys() if name.lower().startswith("x-ratelimit")]
    assert "Retry-After" not in last.headers
    for method, skipped in (("GET", True), ("HEAD", True), ("POST", False)):
        with app.test_request_context(f"/p/{petition.slug}", method=method):
            assert reads_are_not_limited() is skipped, method


def test_a_refusal_goes_out_without_retry_after_when_the_storage_fails_to_say(
    make_app, petition, monkeypatch
):
    app = limited_app(make_app, RATELIMIT_SIGN="1 per minute")

    def unreachable(_limit):
        raise ConnectionError("the limiter's storage went away")

    monkeypatch.setattr(RequestLimit, "reset_at", property(unreachable))
    statuses, last = post_signatures(app, petition.slug, 2)

    assert statuses == [303, 429]
    assert "Retry-After" not in last.headers


def test_an_app_with_the_limiter_off_takes_every_signature(make_app, petition):
    off = make_app(RATELIMIT_SIGN="1 per minute")  # the tests' default: RATELIMIT_ENABLED off
    assert post_signatures(off, petition.slug, 3)[0] == [303] * 3


def test_shipped_signing_limit_lets_a_busy_campus_through(make_app, petition):
    """60 signers behind one address within a minute all get through with the defaults."""
    app = limited_app(make_app)
    statuses, _ = post_signatures(app, petition.slug, 60)
    assert set(statuses) == {303}


def test_rate_limits_are_on_in_the_shipped_configuration():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["RATELIMIT_ENABLED"] is True
    assert "per minute" in app.config["RATELIMIT_SIGN"]
    assert "per minute" in app.config["RATELIMIT_LOGIN"]


def test_login_brute_force_is_slowed_down(make_app, organizer):
    app = limited_app(make_app, RATELIMIT_LOGIN="5 per minute")
    client = app.test_client()
    token = csrf_token(client.get("/admin/login").get_data(as_text=True))
    statuses = [
        client.post(
            "/admin/login", data={"csrf_token": token, "email": organizer, "password": f"guess {n}"}
        ).status_code
        for n in range(8)
    ]
    assert statuses == [422] * 5 + [429] * 3


@pytest.mark.skipif(not redis_available(), reason="no Redis on 127.0.0.1:6379")
def test_two_hosts_share_the_signing_limit_through_redis(make_app, petition):
    prefix = f"test-{uuid.uuid4().hex}"
    settings = {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": prefix,
        "RATELIMIT_SIGN": "10 per minute",
    }
    first, second = make_app(**settings), make_app(**settings)

    statuses_first, _ = post_signatures(first, petition.slug, 6)
    statuses_second, _ = post_signatures(second, petition.slug, 6, start=100)

    assert statuses_first == [303] * 6
    assert statuses_second == [303] * 4 + [429] * 2
    assert len(signatures(first)) == 10


def test_honeypot_stores_nothing_but_answers_like_success(app, client, petition):
    response = sign(client, petition.slug, **valid_fields(homepage="http://spam.example"))

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/thanks?result=signed")
    assert signatures(app) == []


def test_honeypot_is_hidden_from_people_and_screen_readers(client, petition):
    html = client.get(f"/p/{petition.slug}").get_data(as_text=True)
    assert '<div class="hp" aria-hidden="true">' in html
    assert 'name="homepage"' in html and 'tabindex="-1"' in html


@pytest.mark.parametrize(
    "body",
    [
        "name=Ana%00Quispe",
        "name=Ana%FF%FEQuispe",  # not UTF-8
    ],
)
def test_null_bytes_and_broken_encodings_are_refused(app, client, petition, body):
    data = hidden_inputs(client.get(f"/p/{petition.slug}").get_data(as_text=True))
    fields = valid_fields()
    del fields["name"]
    encoded = "&".join(f"{k}={v}" for k, v in {**data, **fields}.items()) + "&" + body
    response = client.post(
        f"/p/{petition.slug}/sign", data=encoded, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 422
    assert signatures(app) == []


def test_oversized_body_gets_413(app, client, petition):
    data = hidden_inputs(client.get(f"/p/{petition.slug}").get_data(as_text=True))
    response = client.post(f"/p/{petition.slug}/sign", data={**data, **valid_fields(comment="x" * 200_000)})
    assert response.status_code == 413
    assert signatures(app) == []


@pytest.mark.parametrize("secret", [None, "", "dev-only-secret-change-me", "short"])
def test_production_refuses_to_start_without_a_real_secret(monkeypatch, secret):
    monkeypatch.setenv("PETITION_ENV", "production")
    if secret is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_sets_secure_cookies_and_hsts(monkeypatch, db_url, petition):
    monkeypatch.setenv("PETITION_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    monkeypatch.setenv("BASE_URL", "https://sign.example.org")
    config = app_config(db_url)
    del config["SECRET_KEY"]
    app = create_app(config)
    client = app.test_client()
    # A page with a session (the sign form needs none), asked for on the site's own host.
    response = client.get("/admin/login", base_url="https://sign.example.org")

    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    cookie = response.headers.get("Set-Cookie", "")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    close_connections(app)


def test_session_cookie_is_httponly_and_samesite_in_development(client, petition):
    cookie = client.get("/admin/login").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_ip_addresses_are_stored_only_as_keyed_hashes(app, client, petition, make_app):
    sign(client, petition.slug, **valid_fields())
    other_key = make_app(SECRET_KEY="another-secret-key-that-is-long-enough-000000")
    sign(other_key.test_client(), petition.slug, **valid_fields(email="b@example.org"))

    first, second = signatures(app)
    assert first.ip_hash and second.ip_hash
    assert first.ip_hash != second.ip_hash, "the hash is keyed by SECRET_KEY"


def test_privacy_page_says_what_is_kept_and_for_how_long(client, app):
    html = client.get("/privacy").get_data(as_text=True)
    assert "IP address" in html
    assert str(app.config["PURGE_AFTER_DAYS"]) in html
    assert 'href="/privacy"' in client.get("/privacy").get_data(as_text=True)


def close_petition(app, petition_id, days_ago):
    with app.app_context():
        _db.session.get(Petition, petition_id).closes_at = utcnow() - dt.timedelta(days=days_ago)
        _db.session.commit()


def test_purge_anonymizes_long_closed_petitions_and_keeps_counts(app, client, runner, petition):
    sign(client, petition.slug, **valid_fields(name="Ana Quispe", email="ana@example.org"))
    sign(
        client,
        petition.slug,
        **valid_fields(
            kind="organization",
            name="SUTEP",
            email="o@example.org",
            contact_name="Rosa",
            website="https://sutep.example.org",
        ),
    )
    before = client.get(f"/api/v1/petitions/{petition.slug}").get_json()
    close_petition(app, petition.id, days_ago=200)

    result = runner.invoke(args=["signatures", "purge", "--days", "180"])

    assert result.exit_code == 0, result.output
    assert "2 signatures anonymized" in result.output
    person, organization = signatures(app)
    assert (person.name, person.email, person.city, person.ip_hash) == ("", "", "", "")
    assert person.country == "PE" and person.status == Signature.CONFIRMED
    assert (organization.name, organization.email, organization.contact_name) == ("SUTEP", "", "")
    after = client.get(f"/api/v1/petitions/{petition.slug}").get_json()
    assert after["counts"] == before["counts"] and after["by_country"] == before["by_country"]
    export = runner.invoke(args=["signatures", "export", petition.slug])
    assert "ana@example.org" not in export.output and "Ana Quispe" not in export.output


def test_purge_leaves_recent_and_open_petitions_alone(app, client, runner, petition):
    sign(client, petition.slug, **valid_fields())
    close_petition(app, petition.id, days_ago=10)

    result = runner.invoke(args=["signatures", "purge", "--days", "180"])

    assert result.exit_code == 0
    assert signatures(app)[0].email == "ana@example.org"


def test_purge_drops_unconfirmed_signatures_and_their_unsent_email(app, client, runner, bundled_petition):
    sign(client, bundled_petition.slug, **valid_fields())
    close_petition(app, bundled_petition.id, days_ago=365)

    runner.invoke(args=["signatures", "purge", "--days", "180"])

    assert signatures(app) == []
    with app.app_context():
        assert _db.session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))).all() == []


def test_reads_are_never_limited_and_each_form_post_keeps_its_own_limit(make_app, petition, organizer):
    app = limited_app(make_app, RATELIMIT_SIGN="1 per minute", RATELIMIT_LOGIN="1 per minute")
    assert post_signatures(app, petition.slug, 2)[0] == [303, 429]

    client = app.test_client()
    for url in (f"/p/{petition.slug}", f"/p/{petition.slug}/embed", "/admin/login"):
        for method in ("GET", "HEAD", "GET"):
            assert client.open(url, method=method).status_code == 200, (method, url)

    # The signing limit spent, the login form still has its own.
    token = csrf_token(client.get("/admin/login").get_data(as_text=True))
    logins = [
        client.post("/admin/login", data={"csrf_token": token, "email": organizer, "password": "guess"})
        for _ in range(2)
    ]
    assert [response.status_code for response in logins] == [422, 429]
