"""Owners and administrators invite organizers by email and change or revoke their roles; the
invitation is a signed, expiring, single-use link to a page where the invitee sets a password."""

import re

import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.mail.sender import send_due
from petition.models import AuditEvent, Organizer, OrganizerRole

from .conftest import ORGANIZER_EMAIL, csrf_token, login
from .support import store_signature, texts

INVITEE = "new.helper@example.org"
NEW_PASSWORD = "twelve chars or more"
LINK = re.compile(r"https?://\S+/admin/invitation/\S+")


@pytest.fixture
def mail_app(make_app, smtp):
    return make_app(SMTP_URL=smtp.url)


@pytest.fixture
def admin(mail_app, organizer):
    client = mail_app.test_client()
    assert login(client).status_code == 303
    return client


def team_path(slug) -> str:
    return f"/admin/p/{slug}/organizers"


def invite(client, slug, email=INVITEE, role="editor"):
    token = csrf_token(client.get(team_path(slug)).get_data(as_text=True))
    return client.post(team_path(slug), data={"csrf_token": token, "email": email, "role": role})


def deliver(app):
    with app.app_context():
        return send_due()


def invitation_link(smtp) -> str:
    text = smtp.messages[-1].get_body(preferencelist=("plain",)).get_content()
    return "/" + LINK.search(text).group(0).split("/", 3)[3]


def choose_password(client, link, password=NEW_PASSWORD, confirm=None):
    page = client.get(link)
    assert page.status_code == 200, page.status_code
    token = csrf_token(page.get_data(as_text=True))
    data = {
        "csrf_token": token,
        "new_password": password,
        "confirm_password": password if confirm is None else confirm,
    }
    return client.post(link, data=data)


def roles_of(app, email) -> dict:
    with app.app_context():
        rows = db.session.execute(
            select(OrganizerRole.petition_id, OrganizerRole.role)
            .join(Organizer, Organizer.id == OrganizerRole.organizer_id)
            .where(Organizer.email == email)
        ).all()
        return dict(rows)


def test_an_invitee_gets_an_email_chooses_a_password_and_works_with_the_role(mail_app, smtp, admin, petition):
    answer = invite(admin, petition.slug)
    assert answer.status_code == 303
    assert INVITEE in admin.get(answer.headers["Location"]).get_data(as_text=True)
    deliver(mail_app)
    [email] = smtp.messages
    assert email["To"] == INVITEE
    assert petition.title in email["Subject"]
    assert "the link works once, for 7 days" in email.get_body(preferencelist=("plain",)).get_content()
    assert roles_of(mail_app, INVITEE) == {petition.id: "editor"}

    invitee = mail_app.test_client()
    assert login(invitee, INVITEE, NEW_PASSWORD).status_code == 422, "no password before the link"
    chosen = choose_password(invitee, invitation_link(smtp))
    assert chosen.status_code == 303 and chosen.headers["Location"].endswith("/admin/login")

    assert login(invitee, INVITEE, NEW_PASSWORD).status_code == 303
    assert invitee.get(f"/admin/p/{petition.slug}/edit").status_code == 200
    assert invitee.get(f"/admin/p/{petition.slug}/export.csv").status_code == 403


def test_the_invitation_link_works_once(mail_app, smtp, admin, petition):
    invite(admin, petition.slug)
    deliver(mail_app)
    link = invitation_link(smtp)
    invitee = mail_app.test_client()
    assert choose_password(invitee, link).status_code == 303

    again = invitee.get(link)
    assert again.status_code == 404
    assert "works once" in again.get_data(as_text=True)
    token = csrf_token(invitee.get("/admin/login").get_data(as_text=True))
    posted = invitee.post(
        link,
        data={
            "csrf_token": token,
            "new_password": "another long password",
            "confirm_password": "another long password",
        },
    )
    assert posted.status_code == 404
    assert login(invitee, INVITEE, NEW_PASSWORD).status_code == 303


def test_an_expired_invitation_link_says_so_and_sets_nothing(make_app, smtp, organizer, petition):
    app = make_app(SMTP_URL=smtp.url, INVITATION_MAX_AGE=-1)  # every link is older than that
    client = app.test_client()
    assert login(client).status_code == 303
    invite(client, petition.slug)
    deliver(app)
    link = invitation_link(smtp)

    page = client.get(link)
    assert page.status_code == 410
    assert "This link has expired" in page.get_data(as_text=True)
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    assert (
        client.post(
            link, data={"csrf_token": token, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
        ).status_code
        == 410
    )
    assert login(app.test_client(), INVITEE, NEW_PASSWORD).status_code == 422


def test_an_altered_invitation_link_is_refused(mail_app, smtp, admin, petition):
    invite(admin, petition.slug)
    deliver(mail_app)
    link = invitation_link(smtp)
    assert mail_app.test_client().get(link[:-4] + "AAAA").status_code == 404


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("", "", "Enter a new password."),
        ("short one", "short one", "Use at least 12 characters."),
        ("password1234", "password1234", "on a list of common passwords"),
        ("new.helper's own", "new.helper's own", "Do not use your email address"),
        ("qwertyqwerty", "qwertyqwerty", "too easy to guess"),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "The two passwords are not the same."),
    ],
    ids=["none", "short", "common", "holds-the-local-part", "easy", "differ"],
)
def test_a_bad_password_is_refused_beside_its_field(
    mail_app, smtp, admin, petition, password, confirm, message
):
    invite(admin, petition.slug)
    deliver(mail_app)
    link = invitation_link(smtp)
    invitee = mail_app.test_client()
    answer = choose_password(invitee, link, password, confirm)
    assert answer.status_code == 422
    assert message in texts(answer.get_data(as_text=True), "error-message")[0]
    assert choose_password(invitee, link).status_code == 303, "the link still works"


@pytest.mark.parametrize(
    ("email", "role", "message"),
    [
        ("", "editor", "Enter an email address."),
        ("not an address", "editor", "Enter a valid email address"),
        (INVITEE, "boss", "Not a valid choice"),
    ],
)
def test_a_bad_invitation_is_refused_beside_its_field_and_stores_nothing(
    mail_app, admin, petition, email, role, message
):
    answer = invite(admin, petition.slug, email=email, role=role)
    assert answer.status_code == 422
    assert message in " ".join(texts(answer.get_data(as_text=True), "error-message"))
    with mail_app.app_context():
        assert db.session.scalars(select(Organizer.email)).all() == [ORGANIZER_EMAIL]


def test_an_existing_account_gets_the_role_and_a_notice_without_a_link(
    mail_app, smtp, admin, runner, petition
):
    result = runner.invoke(args=["organizer", "create", INVITEE, "--no-admin"], input=NEW_PASSWORD + "\n")
    assert result.exit_code == 0
    helper = mail_app.test_client()
    assert login(helper, INVITEE, NEW_PASSWORD).status_code == 303

    assert invite(admin, petition.slug, role="moderator").status_code == 303
    deliver(mail_app)
    [notice] = smtp.messages
    text = notice.get_body(preferencelist=("plain",)).get_content()
    assert notice["To"] == INVITEE and "moderator" in text
    assert not LINK.search(text)
    assert helper.get(f"/admin/p/{petition.slug}/signatures").status_code == 200


def owner_client(app, runner, petition, email="owner@example.org"):
    runner.invoke(args=["organizer", "create", email, "--no-admin"], input=NEW_PASSWORD + "\n")
    runner.invoke(args=["organizer", "grant", email, petition.slug, "owner"])
    client = app.test_client()
    assert login(client, email, NEW_PASSWORD).status_code == 303
    return client


def organizer_id(app, email) -> int:
    with app.app_context():
        return db.session.scalar(select(Organizer.id).where(Organizer.email == email))


def test_owners_invite_change_and_revoke_roles_on_their_petition(mail_app, smtp, runner, petition):
    owner = owner_client(mail_app, runner, petition)
    assert invite(owner, petition.slug, role="viewer").status_code == 303
    invitee = organizer_id(mail_app, INVITEE)
    token = csrf_token(owner.get(team_path(petition.slug)).get_data(as_text=True))

    changed = owner.post(
        f"{team_path(petition.slug)}/{invitee}",
        data={"csrf_token": token, f"organizer-{invitee}-role": "moderator"},
    )
    assert changed.status_code == 303
    assert roles_of(mail_app, INVITEE) == {petition.id: "moderator"}

    revoked = owner.post(f"{team_path(petition.slug)}/{invitee}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    assert roles_of(mail_app, INVITEE) == {}
    with mail_app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-4:] == ["account.invite", "role.grant", "role.change", "role.revoke"]


def test_an_owner_cannot_remove_the_last_owner_but_an_administrator_can(mail_app, runner, admin, petition):
    owner = owner_client(mail_app, runner, petition)
    me = organizer_id(mail_app, "owner@example.org")
    token = csrf_token(owner.get(team_path(petition.slug)).get_data(as_text=True))

    demoted = owner.post(
        f"{team_path(petition.slug)}/{me}", data={"csrf_token": token, f"organizer-{me}-role": "viewer"}
    )
    assert demoted.status_code == 422
    assert "at least one owner" in " ".join(texts(demoted.get_data(as_text=True), "error-message"))
    left = owner.post(f"{team_path(petition.slug)}/{me}/revoke", data={"csrf_token": token})
    assert left.status_code == 422
    assert roles_of(mail_app, "owner@example.org") == {petition.id: "owner"}

    token = csrf_token(admin.get(team_path(petition.slug)).get_data(as_text=True))
    assert (
        admin.post(f"{team_path(petition.slug)}/{me}/revoke", data={"csrf_token": token}).status_code == 303
    )
    assert roles_of(mail_app, "owner@example.org") == {}


@pytest.mark.parametrize("role", ["editor", "moderator", "viewer"])
def test_only_owners_and_administrators_manage_roles(mail_app, runner, petition, role):
    email = f"{role}@example.org"
    runner.invoke(args=["organizer", "create", email, "--no-admin"], input=NEW_PASSWORD + "\n")
    runner.invoke(args=["organizer", "grant", email, petition.slug, role])
    client = mail_app.test_client()
    assert login(client, email, NEW_PASSWORD).status_code == 303
    token = csrf_token(client.get("/admin/").get_data(as_text=True))

    assert client.get(team_path(petition.slug)).status_code == 403
    posted = client.post(
        team_path(petition.slug), data={"csrf_token": token, "email": INVITEE, "role": "owner"}
    )
    assert posted.status_code == 403
    assert roles_of(mail_app, INVITEE) == {}


def test_owners_let_moderators_see_addresses(mail_app, runner, petition):
    store_signature(mail_app, petition.slug, email="rosa.mamani@example.org")
    owner = owner_client(mail_app, runner, petition)
    moderator = owner_client(mail_app, runner, petition, email="mod@example.org")
    runner.invoke(args=["organizer", "grant", "mod@example.org", petition.slug, "moderator"])
    assert "rosa.mamani@example.org" not in moderator.get(f"/admin/p/{petition.slug}/signatures").get_data(
        as_text=True
    )

    token = csrf_token(owner.get(team_path(petition.slug)).get_data(as_text=True))
    path = f"{team_path(petition.slug)}/addresses"
    assert owner.post(path, data={"csrf_token": token, "moderators_see_addresses": "y"}).status_code == 303
    assert "rosa.mamani@example.org" in moderator.get(f"/admin/p/{petition.slug}/signatures").get_data(
        as_text=True
    )

    assert owner.post(path, data={"csrf_token": token}).status_code == 303
    assert "rosa.mamani@example.org" not in moderator.get(f"/admin/p/{petition.slug}/signatures").get_data(
        as_text=True
    )
