"""Roles per petition: administrators see everything; owners, editors, moderators and viewers
see what their role allows on their petitions, and nothing at all of the others."""

import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.models import Petition

from .conftest import csrf_token, load_bundled, login
from .support import store_signature, table_rows

PASSWORD = "a long enough password"
ROLES = ("owner", "editor", "moderator", "viewer")
SIGNER = {"name": "Rosa Mamani", "email": "rosa.mamani@example.org", "comment": "Justicia para todos"}


def account(runner, email, admin=False) -> str:
    """An account made as an administrator makes one: with the command line."""
    args = ["organizer", "create", email] + ([] if admin else ["--no-admin"])
    result = runner.invoke(args=args, input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    return email


def grant(runner, email, slug, role):
    result = runner.invoke(args=["organizer", "grant", email, slug, role])
    assert result.exit_code == 0, result.output


def logged_in(app, email):
    client = app.test_client()
    assert login(client, email, PASSWORD).status_code == 303
    return client


@pytest.fixture
def member(app, runner, petition):
    """A client logged in with ``role`` on the petition (and no role anywhere else)."""

    def make(role):
        email = account(runner, f"{role}@example.org")
        if role:
            grant(runner, email, petition.slug, role)
        return logged_in(app, email)

    return make


# What each role may open: (path, the roles that get 200; the others get 403).
PAGES = [
    ("/admin/p/{slug}", ROLES),
    ("/admin/p/{slug}/edit", ("owner", "editor")),
    ("/admin/p/{slug}/updates", ("owner", "editor")),
    ("/admin/p/{slug}/updates/new", ("owner", "editor")),
    ("/admin/p/{slug}/signatures", ("owner", "moderator")),
    ("/admin/p/{slug}/export.csv", ("owner",)),
    ("/admin/p/{slug}/export.xlsx", ("owner",)),
]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_what_it_may_and_is_refused_the_rest(member, petition, role):
    client = member(role)
    answers = {path: client.get(path.format(slug=petition.slug)).status_code for path, _ in PAGES}
    assert answers == {path: 200 if role in allowed else 403 for path, allowed in PAGES}


FORMS = [
    "/admin/p/{slug}/signatures",
    "/admin/p/{slug}/edit",
    "/admin/p/{slug}/feature",
    "/admin/p/{slug}/updates/new",
    "/admin/p/{slug}/updates/preview",
]


def test_a_petition_without_a_role_answers_404_at_every_organizer_url(app, runner, member, petition):
    other = load_bundled(app, slug="another-petition", title="Another petition")
    client = member("owner")  # owner of the first petition, nothing on the other
    token = csrf_token(client.get("/admin/").get_data(as_text=True))

    pages = [client.get(path.format(slug=other.slug)).status_code for path, _ in PAGES]
    posts = [
        client.post(path.format(slug=other.slug), data={"csrf_token": token}).status_code for path in FORMS
    ]

    assert pages == [404] * len(PAGES)
    assert posts == [404] * len(FORMS)
    assert client.get(f"/admin/p/{petition.slug}").status_code == 200


def test_an_account_with_no_role_sees_no_petition(app, runner, member, petition):
    client = member(None)
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert petition.title not in dashboard
    assert client.get(f"/admin/p/{petition.slug}").status_code == 404


def test_the_dashboard_lists_only_the_petitions_with_a_role(app, runner, member, petition):
    other = load_bundled(app, slug="another-petition", title="Another petition")
    client = member("viewer")
    rows = table_rows(client.get("/admin/").get_data(as_text=True))
    assert [row[0].removesuffix(" featured") for row in rows[1:]] == [petition.title]
    assert rows[1][5] == "viewer"

    admin = logged_in(app, account(runner, "admin@example.org", admin=True))
    titles = [
        row[0].removesuffix(" featured")
        for row in table_rows(admin.get("/admin/").get_data(as_text=True))[1:]
    ]
    assert sorted(titles) == sorted([petition.title, other.title])


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_editors_and_viewers_see_no_personal_data(app, member, petition, role):
    store_signature(app, petition.slug, **SIGNER)
    client = member(role)
    page = client.get(f"/admin/p/{petition.slug}").get_data(as_text=True)
    assert "Signatures" in page
    for value in SIGNER.values():
        assert value not in page
    assert "Download signatures" not in page


def test_owners_see_signers_and_may_download_them(app, member, petition):
    store_signature(app, petition.slug, **SIGNER)
    client = member("owner")
    page = client.get(f"/admin/p/{petition.slug}").get_data(as_text=True)
    assert SIGNER["name"] in page and SIGNER["email"] in page
    assert SIGNER["email"] in client.get(f"/admin/p/{petition.slug}/export.csv").get_data(as_text=True)


def allow_moderators_addresses(app, slug, allowed: bool):
    with app.app_context():
        db.session.scalar(select(Petition).where(Petition.slug == slug)).moderators_see_addresses = allowed
        db.session.commit()


def test_moderators_see_names_countries_and_comments_but_addresses_only_when_allowed(app, member, petition):
    store_signature(app, petition.slug, **SIGNER)
    client = member("moderator")
    listed = client.get(f"/admin/p/{petition.slug}/signatures").get_data(as_text=True)
    assert SIGNER["name"] in listed and SIGNER["comment"] in listed and "PE" in listed
    assert SIGNER["email"] not in listed
    searched = client.get(f"/admin/p/{petition.slug}/signatures?q=rosa.mamani@").get_data(as_text=True)
    assert SIGNER["name"] not in searched, "a search by address would tell the address"

    allow_moderators_addresses(app, petition.slug, True)
    listed = client.get(f"/admin/p/{petition.slug}/signatures").get_data(as_text=True)
    assert SIGNER["email"] in listed
    searched = client.get(f"/admin/p/{petition.slug}/signatures?q=rosa.mamani@").get_data(as_text=True)
    assert SIGNER["name"] in searched
    assert client.get(f"/admin/p/{petition.slug}/export.csv").status_code == 403


def test_moderators_moderate_and_viewers_cannot(app, member, petition):
    signature = store_signature(app, petition.slug, **SIGNER)
    for role, expected in (("viewer", 403), ("moderator", 303)):
        client = member(role)
        token = csrf_token(client.get("/admin/").get_data(as_text=True))
        answer = client.post(
            f"/admin/p/{petition.slug}/signatures",
            data={"csrf_token": token, "action": "hide", "ids": signature},
        )
        assert answer.status_code == expected


def test_only_administrators_create_petitions(app, runner, member):
    client = member(None)
    assert "New petition" not in client.get("/admin/").get_data(as_text=True)
    assert client.get("/admin/petitions/new").status_code == 403

    admin = logged_in(app, account(runner, "admin@example.org", admin=True))
    assert "New petition" in admin.get("/admin/").get_data(as_text=True)
    assert admin.get("/admin/petitions/new").status_code == 200


def test_the_conftest_organizer_is_an_administrator(app, client, organizer, petition):
    assert login(client).status_code == 303
    assert client.get(f"/admin/p/{petition.slug}/export.csv").status_code == 200


# The command line


def organizer_list(runner) -> list[list[str]]:
    result = runner.invoke(args=["organizer", "list"])
    assert result.exit_code == 0, result.output
    return [line.split("\t") for line in result.output.splitlines()]


def test_create_makes_an_administrator_and_no_admin_an_account_without_a_role(runner):
    account(runner, "boss@example.org", admin=True)
    account(runner, "helper@example.org")
    assert organizer_list(runner) == [["boss@example.org", "admin"], ["helper@example.org", "no role"]]


def test_grant_revoke_and_list_roles_from_the_command_line(app, runner, petition):
    other = load_bundled(app, slug="another-petition", title="Another petition")
    account(runner, "helper@example.org")
    grant(runner, "helper@example.org", petition.slug, "editor")
    grant(runner, "Helper@Example.org", other.slug, "viewer")
    assert organizer_list(runner) == [["helper@example.org", f"{other.slug}:viewer {petition.slug}:editor"]]

    grant(runner, "helper@example.org", petition.slug, "owner")  # a new role replaces the old one
    result = runner.invoke(args=["organizer", "revoke", "helper@example.org", other.slug])
    assert result.exit_code == 0, result.output
    assert organizer_list(runner) == [["helper@example.org", f"{petition.slug}:owner"]]
    client = logged_in(app, "helper@example.org")
    assert client.get(f"/admin/p/{other.slug}").status_code == 404
    assert client.get(f"/admin/p/{petition.slug}/export.csv").status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grant", "nobody@example.org", "{slug}", "editor"], "no organizer with email 'nobody@example.org'"),
        (
            ["grant", "helper@example.org", "no-such-petition", "editor"],
            "no petition with slug 'no-such-petition'",
        ),
        (
            ["grant", "helper@example.org", "{slug}", "boss"],
            "'boss' is not one of 'owner', 'editor', 'moderator', 'viewer'",
        ),
        (["revoke", "nobody@example.org", "{slug}"], "no organizer with email 'nobody@example.org'"),
        (["revoke", "helper@example.org", "no-such-petition"], "no petition with slug 'no-such-petition'"),
        (["revoke", "helper@example.org", "{slug}"], "helper@example.org holds no role on"),
    ],
)
def test_the_command_line_refuses_unknown_accounts_petitions_and_roles(runner, petition, args, message):
    account(runner, "helper@example.org")
    result = runner.invoke(args=["organizer"] + [arg.format(slug=petition.slug) for arg in args])
    assert result.exit_code != 0
    assert message in result.output
    assert organizer_list(runner) == [["helper@example.org", "no role"]]
