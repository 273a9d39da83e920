"""The audit record: every download of signers' data, with who, when, which filters and how many
rows; moderation and role changes; and the page that shows each account what it may see."""

from types import SimpleNamespace

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from petition.extensions import db
from petition.models import AuditEvent, Organizer, Petition
from petition.organizers import audit

from .conftest import ORGANIZER_EMAIL, csrf_token, load_bundled, login
from .support import store_signature, table_rows, texts

# What signing in and out records: every test that logs in adds a ``login`` of its own.
SIGN_IN = ("login", "login.failed", "login.locked", "logout")


def records(app, with_sign_in=False) -> list[AuditEvent]:
    """The records, oldest first; those of signing in and out only if asked for."""
    query = select(AuditEvent).order_by(AuditEvent.id)
    if not with_sign_in:
        query = query.where(AuditEvent.action.not_in(SIGN_IN))
    with app.app_context():
        found = db.session.scalars(query).all()
        db.session.expunge_all()
        return found


def test_every_download_is_recorded_with_its_filters_and_rows(app, client, organizer, petition):
    for country in ("PE", "PE", "AR"):
        store_signature(app, petition.slug, country=country)
    assert login(client).status_code == 303

    csv = client.get(f"/admin/p/{petition.slug}/export.csv?country=pe&since=2020-01-01")
    xlsx = client.get(f"/admin/p/{petition.slug}/export.xlsx")

    assert csv.status_code == xlsx.status_code == 200
    assert len(csv.get_data(as_text=True).splitlines()) == 1 + 2
    assert [r.action for r in records(app, with_sign_in=True)] == ["login", "export.csv", "export.xlsx"]
    made = [(r.action, r.actor, r.petition_id, r.rows, r.detail) for r in records(app)]
    assert made == [
        (
            "export.csv",
            ORGANIZER_EMAIL,
            petition.id,
            2,
            {"filters": {"country": "PE", "since": "2020-01-01"}},
        ),
        ("export.xlsx", ORGANIZER_EMAIL, petition.id, 3, {"filters": {}}),
    ]
    assert all(r.created_at is not None for r in records(app))


def test_a_refused_download_records_nothing(app, client, organizer, petition):
    assert login(client).status_code == 303
    assert client.get(f"/admin/p/{petition.slug}/export.csv?contry=PE").status_code == 400
    assert [r.action for r in records(app, with_sign_in=True)] == ["login"], "only the login"


def test_a_download_left_early_is_recorded_all_the_same(app, client, organizer, petition):
    store_signature(app, petition.slug)
    assert login(client).status_code == 303
    response = client.get(f"/admin/p/{petition.slug}/export.csv", buffered=False)
    response.close()  # the client leaves before reading a byte
    assert [(r.action, r.rows) for r in records(app)] == [("export.csv", 1)]


def test_the_command_line_export_is_recorded_too(app, runner, petition):
    store_signature(app, petition.slug, kind="organization", contact_name="Rosa")
    result = runner.invoke(args=["signatures", "export", petition.slug, "--kind", "organization"])
    assert result.exit_code == 0, result.output
    [made] = records(app)
    assert (made.action, made.actor, made.rows, made.detail) == (
        "export.csv",
        "command line",
        1,
        {"filters": {"kind": "organization"}},
    )


def test_the_download_form_says_that_downloads_are_recorded(client, organizer, petition):
    assert login(client).status_code == 303
    page = client.get(f"/admin/p/{petition.slug}").get_data(as_text=True)
    form = page.index('id="downloads-heading"')
    notice = page.index("Downloads of personal data are recorded")
    assert form < notice < page.index("<form", form)


def test_the_migration_moves_the_moderation_log_into_the_audit_record(app, petition):
    signature = store_signature(app, petition.slug)
    with app.app_context():
        db.session.remove()
        try:
            downgrade(revision="0008")
            db.session.execute(
                text(
                    "INSERT INTO organizer (email, password_hash, created_at)"
                    " VALUES ('m@example.org', 'x', '2026-01-01')"
                )
            )
            db.session.execute(
                text(
                    "INSERT INTO moderation_event (petition_id, organizer_id, action, signature_count,"
                    " detail, created_at)"
                    " SELECT :petition, id, 'hide', 3, :ids, '2026-02-01 10:00:00' FROM organizer"
                ),
                {"petition": petition.id, "ids": f"{signature} 7 8"},
            )
            db.session.commit()
            db.session.remove()
        finally:
            upgrade()
    [moved] = records(app)
    assert (moved.action, moved.actor, moved.petition_id, moved.rows, moved.detail) == (
        "moderation.hide",
        "m@example.org",
        petition.id,
        3,
        {},
    )
    assert str(moved.created_at) == "2026-02-01 10:00:00"


# The page


PASSWORD = "a long enough password"


def account(app, runner, email, grants=()):
    """An account with no administration and the given (slug, role) grants, logged in."""
    assert (
        runner.invoke(args=["organizer", "create", email, "--no-admin"], input=PASSWORD + "\n").exit_code == 0
    )
    for slug, role in grants:
        assert runner.invoke(args=["organizer", "grant", email, slug, role]).exit_code == 0
    client = app.test_client()
    assert login(client, email, PASSWORD).status_code == 303
    return client


def add_record(app, action, slug=None, email=None, rows=None, **detail):
    """A record as any part of the site adds one (logins come from the sign-in code)."""
    with app.test_request_context():
        petition = db.session.scalar(select(Petition).where(Petition.slug == slug)) if slug else None
        organizer = db.session.scalar(select(Organizer).where(Organizer.email == email)) if email else None
        audit.record(action, petition, rows=rows, organizer=organizer, **detail)
        db.session.commit()


def shown(client, query="") -> list[tuple[str, str, str]]:
    """(who, action, petition) of each record the audit page shows, top to bottom."""
    page = client.get("/admin/audit" + query)
    assert page.status_code == 200, page.status_code
    return [(row[1], row[2], row[3]) for row in table_rows(page.get_data(as_text=True))[1:] if len(row) == 6]


@pytest.fixture
def two_petitions(app, runner, organizer, petition):
    """Records on two petitions and others on none, by three accounts: the administrator
    (the conftest organizer), the owner of the first petition, and an editor of the second;
    both of them logged in, and then a wrong password was tried on the editor's account."""
    other = load_bundled(app, slug="another-petition", title="Another petition")
    owner = account(app, runner, "owner@example.org", [(petition.slug, "owner")])
    editor = account(app, runner, "editor@example.org", [(other.slug, "editor")])
    add_record(app, "export.csv", petition.slug, ORGANIZER_EMAIL, rows=3, filters={"country": "PE"})
    add_record(app, "moderation.hide", other.slug, ORGANIZER_EMAIL, rows=1)
    assert login(app.test_client(), "editor@example.org", "not the editor's password").status_code == 422
    return SimpleNamespace(first=petition.slug, second=other.slug, owner=owner, editor=editor)


def test_administrators_see_every_record_newest_first(app, client, two_petitions):
    assert login(client).status_code == 303
    first, second = two_petitions.first, two_petitions.second
    assert shown(client) == [
        (ORGANIZER_EMAIL, "login", "—"),
        ("editor@example.org", "login.failed", "—"),
        (ORGANIZER_EMAIL, "moderation.hide", second),
        (ORGANIZER_EMAIL, "export.csv", first),
        ("editor@example.org", "login", "—"),
        ("command line", "role.grant", second),
        ("command line", "account.create", "—"),
        ("owner@example.org", "login", "—"),
        ("command line", "role.grant", first),
        ("command line", "account.create", "—"),
    ]


def test_owners_see_their_petitions_records_and_others_only_their_own(app, two_petitions):
    first, second = two_petitions.first, two_petitions.second
    # Its own sign-ins, not the others'; the failed one on the editor's account is the editor's.
    assert shown(two_petitions.owner) == [
        (ORGANIZER_EMAIL, "export.csv", first),
        ("owner@example.org", "login", "—"),
        ("command line", "role.grant", first),
    ]
    assert shown(two_petitions.editor) == [
        ("editor@example.org", "login.failed", "—"),
        ("editor@example.org", "login", "—"),
    ]
    assert second not in two_petitions.editor.get("/admin/audit").get_data(as_text=True)


def test_the_record_is_filtered_by_action_and_petition(app, client, two_petitions):
    assert login(client).status_code == 303
    first, second = two_petitions.first, two_petitions.second
    assert shown(client, "?action=login") == [
        (ORGANIZER_EMAIL, "login", "—"),
        ("editor@example.org", "login.failed", "—"),
        ("editor@example.org", "login", "—"),
        ("owner@example.org", "login", "—"),
    ]
    assert shown(client, "?action=login.failed") == [("editor@example.org", "login.failed", "—")]
    assert shown(client, "?action=log") == [], "an action or its start up to a dot, not any prefix"
    assert shown(client, f"?petition={second}") == [
        (ORGANIZER_EMAIL, "moderation.hide", second),
        ("command line", "role.grant", second),
    ]
    assert shown(client, f"?petition={first}&action=export") == [(ORGANIZER_EMAIL, "export.csv", first)]


@pytest.mark.parametrize(
    "query", ["?petition=another-petition", "?petition=no-such-petition", "?action=" + "x" * 41]
)
def test_a_filter_outside_what_the_account_may_see_is_refused_beside_it(two_petitions, query):
    page = two_petitions.owner.get("/admin/audit" + query)
    assert page.status_code == 422
    assert texts(page.get_data(as_text=True), "error-message")
    assert "moderation.hide" not in page.get_data(as_text=True)


def test_the_record_is_paged(make_app, client, two_petitions):
    paged = make_app(AUDIT_PER_PAGE=4).test_client()
    assert login(paged).status_code == login(client).status_code == 303
    everything = shown(client)
    first, second, third = (shown(paged, f"?page={number}") for number in (1, 2, 3))
    assert (len(everything), len(first), len(second), len(third)) == (11, 4, 4, 3)
    assert first + second + third == everything, "each record on one page, in order"
    assert shown(paged, "?page=99") == third, "a page past the end shows the last one"
    assert 'rel="next"' in paged.get("/admin/audit").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_the_login(client):
    assert client.get("/admin/audit").status_code == 302


def test_no_record_holds_a_signers_data(app, client, organizer, petition):
    name, email = "Rosa Mamani Quispe", "rosa.mamani@example.org"
    signature = store_signature(app, petition.slug, name=name, email=email, country="PE")
    assert login(client).status_code == 303
    client.get(f"/admin/p/{petition.slug}/export.csv?country=PE")
    token = csrf_token(client.get(f"/admin/p/{petition.slug}/signatures").get_data(as_text=True))
    client.post(
        f"/admin/p/{petition.slug}/signatures", data={"csrf_token": token, "action": "hide", "ids": signature}
    )
    client.get(f"/admin/p/{petition.slug}/signatures?q=rosa")
    # A signer's address typed at the login is no account's: it leaves no record.
    assert login(app.test_client(), email, "a long wrong password").status_code == 422

    everything = records(app, with_sign_in=True)
    stored = repr([(r.actor, r.action, r.detail) for r in everything])
    assert [r.action for r in everything] == ["login", "export.csv", "moderation.hide"]
    for trace in (name, email, "Rosa", "rosa"):
        assert trace not in stored
        assert trace not in client.get("/admin/audit").get_data(as_text=True)
