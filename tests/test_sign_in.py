"""Organizer sign-in: sessions that end (logout, a new password, idle time), a new session at
login, password rules, the lockout after repeated failures, and production's shared rate limits."""

import uuid

import pytest
from sqlalchemy import select

from petition import create_app
from petition.extensions import db, limiter
from petition.mail.sender import send_due
from petition.models import AuditEvent, Organizer
from petition.organizers import auth

from .conftest import ORGANIZER_EMAIL, ORGANIZER_PASSWORD, csrf_token, login
from .support import parse_html

PAUSED = "Too many failed attempts to sign in."
WRONG = "That email address and password do not match an account."
EASY = "This password is too easy to guess: avoid repeated characters, runs and keyboard rows."


def session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else ""


def copy_of(app, client):
    """Another browser holding the same session cookie, as a thief who copied it would."""
    other = app.test_client()
    other.set_cookie("session", session_cookie(client))
    return other


def post_form(client, path, **fields):
    token = csrf_token(client.get(path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **fields})


def logout(client):
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    return client.post("/admin/logout", data={"csrf_token": token})


def errors_beside(response, field: str) -> list[str]:
    """The error messages shown beside the field named ``field``."""
    elements = parse_html(response.get_data(as_text=True)).elements
    return [
        " ".join("".join(e["text"]).split()) for e in elements if e["attrs"].get("id") == f"{field}-error"
    ]


def change_password(client, current=ORGANIZER_PASSWORD, new="a brand new long passphrase", confirm=None):
    return post_form(
        client,
        "/admin/account/password",
        current_password=current,
        new_password=new,
        confirm_password=new if confirm is None else confirm,
    )


def stored(app, email=ORGANIZER_EMAIL) -> Organizer:
    with app.app_context():
        organizer = db.session.scalar(select(Organizer).where(Organizer.email == email))
        db.session.expunge_all()
        return organizer


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# Sessions that end


def test_a_copied_session_cookie_stops_working_after_logout(app, client, organizer):
    assert login(client).status_code == 303
    thief = copy_of(app, client)
    assert thief.get("/admin/").status_code == 200

    assert logout(client).status_code == 303

    assert thief.get("/admin/").status_code == 302
    assert client.get("/admin/").status_code == 302


def test_logging_out_ends_the_other_sessions_of_the_account(app, organizer):
    first, second = app.test_client(), app.test_client()
    login(first)
    login(second)
    logout(first)
    assert second.get("/admin/").status_code == 302


def test_a_copied_session_cookie_stops_working_after_a_password_change(app, client, organizer):
    login(client)
    thief = copy_of(app, client)

    response = change_password(client)

    assert response.status_code == 303
    assert thief.get("/admin/").status_code == 302
    assert client.get("/admin/").status_code == 200, "the session that changed it goes on"
    assert login(app.test_client(), password="a brand new long passphrase").status_code == 303
    assert login(app.test_client()).status_code == 422


def test_end_sessions_ends_every_session_of_the_account(app, client, organizer):
    login(client)
    with app.app_context():
        auth.end_sessions(db.session.scalar(select(Organizer)))
        db.session.commit()
    assert client.get("/admin/").status_code == 302


def test_a_session_ends_after_the_idle_time(app, client, organizer, clock):
    login(client)
    clock.forward(11 * 3600)
    assert client.get("/admin/").status_code == 200, "used within 12 hours"
    clock.forward(11 * 3600)
    assert client.get("/admin/").status_code == 200, "each request counts as use"
    clock.forward(12 * 3600 + 60)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")


def test_the_idle_time_is_configurable(app, client, organizer, clock, monkeypatch):
    monkeypatch.setitem(app.config, "ORGANIZER_IDLE_MINUTES", 5)
    login(client)
    clock.forward(6 * 60)
    assert client.get("/admin/").status_code == 302


def test_login_starts_a_new_session(client, organizer):
    page = client.get("/admin/login")
    before_token, before_cookie = csrf_token(page.get_data(as_text=True)), session_cookie(client)
    assert before_cookie

    login(client)

    assert session_cookie(client) != before_cookie
    # Nothing of the session before carries over: its CSRF token is worthless now.
    assert client.post("/admin/logout", data={"csrf_token": before_token}).status_code == 400
    assert client.get("/admin/").status_code == 200


def test_sign_in_and_out_are_in_the_audit_record(app, client, organizer):
    login(client, password="not the password at all")
    login(client)
    logout(client)
    assert audit_actions(app) == ["login.failed", "login", "logout"]


# Passwords


def test_change_password_needs_the_current_password(app, client, organizer):
    login(client)
    response = change_password(client, current="not the password at all")
    assert response.status_code == 422
    assert errors_beside(response, "current_password") == ["Error: That is not your current password."]
    assert stored(app).check_password(ORGANIZER_PASSWORD)
    assert "password.change" not in audit_actions(app)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short pass", "Use at least 12 characters."),
        ("password1234", "This password is on a list of common passwords. Choose another."),
        ("qwertyuiopasdfgh", "This password is on a list of common passwords. Choose another."),
        ("my organizer account", "Do not use your email address in your password."),
        (" " * 12, EASY),
        ("qwertyqwerty", EASY),
        ("Password1234!", EASY),
    ],
    ids=[
        "short",
        "common",
        "made-of-common-ones",
        "holds-the-local-part",
        "spaces",
        "repeat",
        "common-and-more",
    ],
)
def test_change_password_refuses_a_weak_one_beside_its_field(app, client, organizer, password, message):
    login(client)
    response = change_password(client, new=password)
    assert response.status_code == 422
    assert errors_beside(response, "new_password") == [f"Error: {message}"]
    assert stored(app).check_password(ORGANIZER_PASSWORD)
    assert client.get("/admin/").status_code == 200


def test_change_password_needs_the_same_password_twice(app, client, organizer):
    login(client)
    response = change_password(client, confirm="another long passphrase")
    assert response.status_code == 422
    assert errors_beside(response, "confirm_password") == ["Error: The two passwords are not the same."]
    assert stored(app).check_password(ORGANIZER_PASSWORD)


def test_change_password_is_in_the_audit_record(app, client, organizer):
    login(client)
    change_password(client)
    assert audit_actions(app)[-1] == "password.change"


def test_change_password_without_csrf_token_is_refused(app, client, organizer):
    login(client)
    fields = {"current_password": ORGANIZER_PASSWORD, "new_password": "a brand new long passphrase"}
    response = client.post(
        "/admin/account/password", data={**fields, "confirm_password": fields["new_password"]}
    )
    assert response.status_code == 400
    assert stored(app).check_password(ORGANIZER_PASSWORD)


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("someone@example.org", "eleven char", "12 characters"),
        ("someone@example.org", "123456789123", "common passwords"),
        ("rosa.mamani@example.org", "Rosa.Mamani is organizing", "email address"),
        ("not an address", "correct horse battery staple", "valid email address"),
        ("someone@exa mple.org", "correct horse battery staple", "valid email address"),
        ("ﬀ@example.org", "correct horse battery staple", "lookalike"),
    ],
    ids=["short", "common", "local-part", "no-at", "space-in-domain", "lookalike"],
)
def test_organizer_create_refuses_bad_addresses_and_weak_passwords(app, runner, email, password, message):
    result = runner.invoke(args=["organizer", "create", email], input=password + "\n")
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert message in result.output
    assert stored(app, email.lower()) is None
    with app.app_context():
        assert db.session.scalars(select(Organizer)).all() == []


def test_check_new_password_accepts_a_passphrase():
    auth.check_new_password("organizer@example.org", ORGANIZER_PASSWORD)


# Lockout


def fail(client, times, email=ORGANIZER_EMAIL):
    return [login(client, email=email, password=f"wrong guess number {n}").status_code for n in range(times)]


def test_repeated_failures_lock_the_account_and_email_it(app, make_app, client, organizer, smtp):
    assert fail(client, 5) == [422] * 5

    response = login(client)  # the right password, now too late

    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert errors_beside(response, "password") == [
        "Error: Too many failed attempts to sign in. Try again in 15 minutes."
    ]
    assert client.get("/admin/").status_code == 302
    assert "login.locked" in audit_actions(app)

    with make_app(SMTP_URL=smtp.url).app_context():
        send_due()
    [message] = smtp.messages
    assert message["To"] == ORGANIZER_EMAIL
    assert "paused" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert "5 times" in body and "/admin/login" in body


def test_the_lock_opens_after_its_minutes(app, client, organizer, clock):
    fail(client, 5)
    clock.forward(14 * 60)
    assert login(client).status_code == 429
    clock.forward(2 * 60)
    assert login(client).status_code == 303
    assert stored(app).failed_logins == 0


def test_the_lock_message_counts_down_to_one_minute(app, client, organizer, clock):
    fail(client, 5)
    clock.forward(14 * 60 + 30)
    assert errors_beside(login(client), "password") == [
        "Error: Too many failed attempts to sign in. Try again in 1 minute."
    ]


def test_a_failure_after_the_lock_locks_again(app, client, organizer, clock):
    fail(client, 5)
    clock.forward(16 * 60)
    assert fail(client, 1) == [422]
    assert login(client).status_code == 429


def test_the_lock_is_configurable(app, client, organizer, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LOCK_AFTER", 2)
    assert fail(client, 2) == [422, 422]
    assert login(client).status_code == 429


def test_a_success_forgives_earlier_failures(app, client, organizer):
    fail(client, 4)
    assert login(client).status_code == 303
    logout(client)
    assert fail(client, 4) == [422] * 4
    assert login(client).status_code == 303


def test_a_locked_account_and_an_unknown_address_look_alike(make_app, organizer):
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_LOGIN="100 per minute",
        RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
    )
    known, unknown = app.test_client(), app.test_client()
    assert fail(known, 5) == fail(unknown, 5, email="nobody@example.org") == [422] * 5

    locked = login(known)
    refused = login(unknown, email="nobody@example.org")

    assert locked.status_code == refused.status_code == 429
    assert errors_beside(locked, "password") == errors_beside(refused, "password")
    assert PAUSED in errors_beside(refused, "password")[0]


def test_a_new_password_from_the_command_line_opens_the_lock_and_ends_sessions(app, runner, organizer):
    logged_in, locked_out = app.test_client(), app.test_client()
    login(logged_in)
    fail(locked_out, 5)
    assert login(locked_out).status_code == 429

    result = runner.invoke(args=["organizer", "create", ORGANIZER_EMAIL], input="another long passphrase\n")

    assert result.exit_code == 0, result.output
    assert logged_in.get("/admin/").status_code == 302
    assert login(locked_out, password="another long passphrase").status_code == 303


# Production


@pytest.fixture
def shipped_limits():
    """Apps built here with rate limits on; afterwards the process's limiter is the session
    app's again, which runs without limits (see make_app)."""
    yield
    limiter.enabled = False


def production_settings(**overrides) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "PETITION_ENV": "production",
        "SECRET_KEY": "a-production-secret-of-more-than-32-characters",
        "BASE_URL": "https://sign.example.org",
        **overrides,
    }


def test_production_refuses_per_process_rate_limits(monkeypatch, shipped_limits):
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    with pytest.raises(RuntimeError, match=r"RATELIMIT_STORAGE_URI=redis://"):
        create_app(production_settings(RATELIMIT_STORAGE_URI="memory://"))


def test_production_starts_with_a_shared_rate_limit_storage(shipped_limits):
    app = create_app(production_settings(RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379"))
    assert app.config["ORGANIZER_2FA_REQUIRED"] is True


def test_development_keeps_per_process_rate_limits_and_optional_second_factor(shipped_limits):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert app.config["ORGANIZER_2FA_REQUIRED"] is False
