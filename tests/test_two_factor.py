"""Two-factor sign-in: enrolment at /admin/account/2fa, the code step after the password, codes
accepted once, recovery codes, and production's requirement for accounts that see personal data."""

import re
import uuid

import pyotp
import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.models import AuditEvent, Organizer, OrganizerRole, RecoveryCode

from .conftest import ORGANIZER_EMAIL, csrf_token, login
from .support import parse_html
from .test_links_and_secrets import OWN_HOST, OnHost
from .test_sign_in import copy_of, errors_beside, logout, session_cookie, stored

CODE_STEP = "/admin/login/code"
BASE_URL = "https://sign.example.org"
SECRET = "a-production-secret-of-more-than-32-characters"


def element_text(html: str, element_id: str) -> str:
    [element] = [e for e in parse_html(html).elements if e["attrs"].get("id") == element_id]
    return "".join(element["text"]).strip()


def wrong_code(secret: str, now: float) -> str:
    """Six digits that are none of the codes accepted now."""
    accepted = {pyotp.TOTP(secret).at(now + offset) for offset in (-30, 0, 30)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted)


def post_code(client, path, code):
    token = csrf_token(client.get(path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, "code": code})


def enrol(client, clock):
    """Turn two-factor sign-in on as the user does; return the secret and the recovery codes."""
    page = client.get("/admin/account/2fa")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    secret = element_text(html, "totp-secret")
    assert "<svg" in html, "the QR code is drawn in the page"
    response = post_code(client, "/admin/account/2fa", pyotp.TOTP(secret).at(clock.now))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    codes = [e["text"][0] for e in parse_html(response.get_data(as_text=True)).elements if e["tag"] == "code"]
    return secret, codes


@pytest.fixture
def enrolled(app, client, organizer, clock):
    """The organizer, enrolled and logged out again; its secret and recovery codes."""
    login(client)
    secret, codes = enrol(client, clock)
    logout(client)
    clock.forward(30)  # the code used to enrol is spent; the next step's is good
    return secret, codes


def sign_in(client, code, password_step=True):
    if password_step:
        response = login(client)
        assert response.status_code == 303
        assert response.headers["Location"].startswith(CODE_STEP)
    return post_code(client, CODE_STEP, code)


# Enrolment


def test_enrolment_stores_the_secret_and_ten_hashed_recovery_codes(app, client, organizer, clock):
    login(client)
    secret, codes = enrol(client, clock)

    assert len(codes) == 10 and len(set(codes)) == 10
    assert stored(app).totp_secret == secret
    with app.app_context():
        hashes = db.session.scalars(select(RecoveryCode.code_hash)).all()
        assert len(hashes) == 10
        assert not any(code in stored_hash for code in codes for stored_hash in hashes)
        assert "2fa.enrol" in db.session.scalars(select(AuditEvent.action)).all()
    # Shown once: the page now says it is on, and shows neither secret nor codes.
    html = client.get("/admin/account/2fa").get_data(as_text=True)
    assert secret not in html and codes[0] not in html
    assert 'id="totp-secret"' not in html


@pytest.mark.parametrize("code", ["", "six wrong digits", "12345", "not a code"], ids=repr)
def test_a_wrong_enrolment_code_is_refused_beside_its_field(app, client, organizer, clock, code):
    login(client)
    html = client.get("/admin/account/2fa").get_data(as_text=True)
    secret = element_text(html, "totp-secret")
    if code == "six wrong digits":
        code = wrong_code(secret, clock.now)

    response = post_code(client, "/admin/account/2fa", code)

    assert response.status_code == 422
    assert errors_beside(response, "code")
    assert stored(app).totp_secret is None
    # The same secret is offered again, so the app scanned before still fits.
    assert element_text(response.get_data(as_text=True), "totp-secret") == secret


def test_enrolment_ends_the_other_sessions(app, client, organizer, clock):
    login(client)
    other = copy_of(app, client)
    enrol(client, clock)
    assert other.get("/admin/").status_code == 302
    assert client.get("/admin/").status_code == 200


# The second step


def test_once_enrolled_the_password_alone_opens_nothing(app, client, enrolled):
    response = login(client)
    assert response.status_code == 303
    assert response.headers["Location"].startswith(CODE_STEP)
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/account/2fa").status_code == 302


def test_the_right_code_signs_in_on_a_new_session(app, client, enrolled, clock):
    secret, _codes = enrolled
    login(client)
    pending = copy_of(app, client)
    before = session_cookie(client)

    response = post_code(client, CODE_STEP, pyotp.TOTP(secret).at(clock.now))

    assert response.status_code == 303
    assert client.get("/admin/").status_code == 200
    assert session_cookie(client) != before
    assert pending.get("/admin/").status_code == 302, "the session of the password step opens nothing"


def test_a_code_of_the_step_before_is_accepted(client, enrolled, clock):
    secret, _codes = enrolled
    clock.forward(30)  # the step before is not the one used to enrol
    assert sign_in(client, pyotp.TOTP(secret).at(clock.now - 30)).status_code == 303


def test_a_replayed_code_is_refused(app, client, enrolled, clock):
    secret, _codes = enrolled
    code = pyotp.TOTP(secret).at(clock.now)
    assert sign_in(client, code).status_code == 303
    logout(client)

    again = sign_in(client, code)

    assert again.status_code == 422
    assert errors_beside(again, "code") == ["Error: That code is not right, or was used already."]
    assert client.get("/admin/").status_code == 302


def test_a_code_older_than_the_last_one_used_is_refused(client, enrolled, clock):
    secret, _codes = enrolled
    totp = pyotp.TOTP(secret)
    assert sign_in(client, totp.at(clock.now)).status_code == 303
    logout(client)
    assert sign_in(client, totp.at(clock.now - 30)).status_code == 422


def test_an_old_code_is_refused(client, enrolled, clock):
    secret, _codes = enrolled
    assert sign_in(client, pyotp.TOTP(secret).at(clock.now - 120)).status_code == 422


def test_a_recovery_code_signs_in_once(app, client, enrolled):
    _secret, codes = enrolled
    assert sign_in(client, codes[3]).status_code == 303
    assert client.get("/admin/").status_code == 200
    logout(client)

    assert sign_in(client, codes[3]).status_code == 422
    assert sign_in(client, codes[4].upper(), password_step=False).status_code == 303
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert actions.count("2fa.recovery_used") == 2


def test_wrong_codes_count_towards_the_lock(app, client, enrolled, clock):
    secret, _codes = enrolled
    login(client)
    statuses = [post_code(client, CODE_STEP, wrong_code(secret, clock.now)).status_code for _ in range(5)]
    assert statuses == [422] * 5

    response = post_code(client, CODE_STEP, pyotp.TOTP(secret).at(clock.now))

    assert response.status_code == 429
    assert "Too many failed attempts" in errors_beside(response, "code")[0]
    assert client.get("/admin/").status_code == 302


def test_the_code_step_expires(client, enrolled, clock):
    secret, _codes = enrolled
    login(client)
    token = csrf_token(client.get(CODE_STEP).get_data(as_text=True))
    clock.forward(11 * 60)
    code = pyotp.TOTP(secret).at(clock.now)
    response = client.post(CODE_STEP, data={"csrf_token": token, "code": code})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/admin/login")
    assert client.get("/admin/").status_code == 302


def test_the_code_step_is_rate_limited(make_app, enrolled):
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_LOGIN_CODE="3 per minute",
        RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
        LOGIN_LOCK_AFTER=100,
    )
    client = app.test_client()
    login(client)
    token = csrf_token(client.get(CODE_STEP).get_data(as_text=True))
    statuses = [client.post(CODE_STEP, data={"csrf_token": token, "code": "x"}).status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]


# Turning it off


def test_turning_it_off_needs_a_code(app, client, enrolled, clock):
    secret, _codes = enrolled
    sign_in(client, pyotp.TOTP(secret).at(clock.now))
    clock.forward(30)

    refused = post_code(client, "/admin/account/2fa", "not a code")
    assert refused.status_code == 422
    assert stored(app).totp_secret == secret

    response = post_code(client, "/admin/account/2fa", pyotp.TOTP(secret).at(clock.now))
    assert response.status_code == 303
    assert stored(app).totp_secret is None
    with app.app_context():
        assert db.session.scalars(select(RecoveryCode)).all() == []
    logout(client)
    assert login(client).headers["Location"] == "/admin/"


# Required in production for accounts that see personal data


@pytest.fixture
def production(make_app, monkeypatch):
    for key in ("PETITION_ENV", "SECRET_KEY", "BASE_URL", "RATELIMIT_STORAGE_URI"):
        monkeypatch.delenv(key, raising=False)
    return make_app(PETITION_ENV="production", SECRET_KEY=SECRET, BASE_URL=BASE_URL)


def set_admin(app, email=ORGANIZER_EMAIL):
    with app.app_context():
        db.session.scalar(select(Organizer).where(Organizer.email == email)).is_admin = True
        db.session.commit()


def give_role(app, petition_id, role, email=ORGANIZER_EMAIL):
    """Make the account one that holds ``role`` on the petition and is no administrator."""
    with app.app_context():
        organizer = db.session.scalar(select(Organizer).where(Organizer.email == email))
        organizer.is_admin = False
        db.session.add(OrganizerRole(organizer_id=organizer.id, petition_id=petition_id, role=role))
        db.session.commit()


def production_client(app):
    # As nginx passes requests on: plain HTTP to the site's own name.
    return OnHost(app.test_client(), OWN_HOST)


def test_production_sends_an_administrator_to_enrol_before_anything_else(production, organizer, petition):
    set_admin(production)
    client = production_client(production)
    assert login(client).status_code == 303

    for path in ("/admin/", f"/admin/p/{petition.slug}", f"/admin/p/{petition.slug}/export.csv"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].endswith("/admin/account/2fa"), path
    assert client.get("/admin/account/2fa").status_code == 200
    assert logout_status(client) == 303


def logout_status(client):
    token = csrf_token(client.get("/admin/account/2fa").get_data(as_text=True))
    return client.post("/admin/logout", data={"csrf_token": token}).status_code


@pytest.mark.parametrize(
    ("role", "required"), [("owner", True), ("moderator", True), ("editor", False), ("viewer", False)]
)
def test_production_requires_enrolment_of_owners_and_moderators(
    production, organizer, petition, role, required
):
    give_role(production, petition.id, role)
    client = production_client(production)
    login(client)
    response = client.get("/admin/")
    assert (response.status_code == 302 and "/admin/account/2fa" in response.headers["Location"]) is required


def test_production_opens_the_dashboard_once_enrolled(production, organizer, clock, monkeypatch):
    set_admin(production)
    monkeypatch.setitem(production.config, "AUTH_CLOCK", clock)
    client = production_client(production)
    login(client)
    enrol(client, clock)
    assert client.get("/admin/").status_code == 200


def test_development_keeps_the_second_factor_optional(app, client, organizer):
    set_admin(app)
    login(client)
    assert client.get("/admin/").status_code == 200


def test_enrolment_page_links_from_the_dashboard(client, organizer):
    login(client)
    html = client.get("/admin/").get_data(as_text=True)
    assert re.search(r'href="/admin/account/2fa"', html)
    assert re.search(r'href="/admin/account/password"', html)


def test_the_code_step_keeps_where_the_organizer_was_going(client, enrolled, clock, petition):
    secret, _codes = enrolled
    target = f"/admin/p/{petition.slug}"
    response = login(client, next_url=target)
    assert response.status_code == 303
    step = response.headers["Location"]
    token = csrf_token(client.get(step).get_data(as_text=True))
    response = client.post(step, data={"csrf_token": token, "code": pyotp.TOTP(secret).at(clock.now)})
    assert response.status_code == 303
    assert response.headers["Location"] == target


def test_the_enrolment_page_is_for_organizers_only(client, organizer):
    response = client.get("/admin/account/2fa")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")
