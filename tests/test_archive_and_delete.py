"""The end of a petition: its owners (and administrators) archive it, which closes it and takes
it off the home page and the public lists while its page stays; or delete it, typing its title,
which erases every signer."""

import pytest
from sqlalchemy import func, select

from petition.extensions import db
from petition.models import AuditEvent, OutboxMessage, Petition, Signature

from .conftest import csrf_token, login
from .support import store_signature
from .test_roles import account, grant, logged_in

OTHER_STATEMENT = """---
slug: free-the-prisoners
title: Free the prisoners
---

A short statement.
"""


@pytest.fixture
def admin(client, organizer):
    assert login(client).status_code == 303
    return client


def post_form(client, path: str, page: str, **fields):
    """Post the form of ``page`` as a browser would, with that page's CSRF token."""
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **fields})


def archive(client, slug: str):
    return post_form(client, f"/admin/p/{slug}/archive", f"/admin/p/{slug}")


def delete(client, slug: str, title: str):
    return post_form(client, f"/admin/p/{slug}/delete", f"/admin/p/{slug}/delete", title=title)


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def stored_petition(app, slug: str) -> Petition | None:
    with app.app_context():
        petition = db.session.scalar(select(Petition).where(Petition.slug == slug))
        db.session.expunge_all()
        return petition


def load_other(runner, tmp_path) -> str:
    path = tmp_path / "other.md"
    path.write_text(OTHER_STATEMENT, encoding="utf-8")
    assert runner.invoke(args=["petition", "load", str(path)]).exit_code == 0
    return "free-the-prisoners"


# Archiving


def test_archiving_closes_the_petition_and_its_page_says_so(app, admin, client, petition):
    response = archive(admin, petition.slug)
    assert response.status_code == 303

    stored = stored_petition(app, petition.slug)
    assert stored.archived_at is not None and not stored.is_open
    page = client.get(f"/p/{petition.slug}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "This petition is archived." in html
    assert 'name="robots" content="noindex"' in html
    assert f'action="/p/{petition.slug}/sign"' not in html
    assert count(app, AuditEvent, AuditEvent.action == "petition.archive") == 1


def test_an_archived_petition_takes_no_signature(app, admin, client, petition):
    archive(admin, petition.slug)
    response = client.post(f"/p/{petition.slug}/sign", data={"name": "Ana", "email": "ana@example.org"})
    assert response.status_code == 303
    assert count(app, Signature) == 0


def test_an_archived_petition_leaves_the_home_page_and_the_api_list(
    app, admin, client, runner, petition, tmp_path
):
    other = load_other(runner, tmp_path)
    assert client.get("/").headers["Location"].endswith(f"/p/{petition.slug}")

    archive(admin, petition.slug)

    assert client.get("/").headers["Location"].endswith(f"/p/{other}")
    listed = [item["slug"] for item in client.get("/api/v1/petitions").json["petitions"]]
    assert listed == [other]
    detail = client.get(f"/api/v1/petitions/{petition.slug}").json
    assert (detail["archived"], detail["open"]) == (True, False)


def test_with_every_petition_archived_the_home_page_has_none_to_show(admin, client, petition):
    archive(admin, petition.slug)
    response = client.get("/")
    assert response.status_code == 200
    assert f"/p/{petition.slug}" not in response.get_data(as_text=True)


def test_a_restored_petition_is_listed_again_and_stays_closed(app, admin, client, petition):
    archive(admin, petition.slug)
    response = post_form(admin, f"/admin/p/{petition.slug}/restore", f"/admin/p/{petition.slug}")
    assert response.status_code == 303
    stored = stored_petition(app, petition.slug)
    assert stored.archived_at is None and not stored.is_open
    assert [item["slug"] for item in client.get("/api/v1/petitions").json["petitions"]] == [petition.slug]


# Deleting


def test_deleting_asks_for_the_title(admin, petition):
    page = admin.get(f"/admin/p/{petition.slug}/delete")
    assert page.status_code == 200
    assert 'name="title"' in page.get_data(as_text=True)


@pytest.mark.parametrize("typed", ["", "Solidarity", "solidarity with the peruvian people"])
def test_deleting_with_another_title_is_refused_beside_the_field(app, admin, petition, typed):
    store_signature(app, petition.slug)
    response = delete(admin, petition.slug, typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="title-error"' in html
    assert stored_petition(app, petition.slug) is not None
    assert count(app, Signature) == 1


def test_deleting_purges_every_signer_and_their_emails(
    app, admin, client, runner, bundled_petition, tmp_path
):
    other = load_other(runner, tmp_path)
    for number in range(3):
        store_signature(app, bundled_petition.slug, email=f"signer.{number}@example.org")
    kept = store_signature(app, other, email="signer.0@example.org")
    assert count(app, OutboxMessage) >= 3
    kept_emails = count(app, OutboxMessage, OutboxMessage.signature_id == kept)

    response = delete(admin, bundled_petition.slug, " Solidarity with the  Peruvian people ")

    assert response.status_code == 303
    assert stored_petition(app, bundled_petition.slug) is None
    assert count(app, Signature, Signature.petition_id == bundled_petition.id) == 0
    assert count(app, Signature) == 1
    with app.app_context():
        recipients = set(db.session.scalars(select(OutboxMessage.recipient)))
        assert recipients <= {"signer.0@example.org"}
    assert count(app, OutboxMessage) == kept_emails
    assert client.get(f"/p/{bundled_petition.slug}").status_code == 404


def test_deleting_is_recorded_without_any_signer(app, admin, petition):
    store_signature(app, petition.slug, name="Rosa Mamani", email="rosa@example.org")
    delete(admin, petition.slug, petition.title)
    with app.app_context():
        [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "petition.delete"))
        assert event.rows == 1
        assert event.detail == {"slug": petition.slug, "title": petition.title}
        assert "rosa" not in str(event.detail).lower()
    audit_page = admin.get("/admin/audit?action=petition")
    assert audit_page.status_code == 200
    assert "petition.delete" in audit_page.get_data(as_text=True)


def test_deleting_without_a_csrf_token_is_refused(app, admin, petition):
    response = admin.post(f"/admin/p/{petition.slug}/delete", data={"title": petition.title})
    assert response.status_code == 400
    assert stored_petition(app, petition.slug) is not None


def test_archiving_without_a_csrf_token_is_refused(app, admin, petition):
    assert admin.post(f"/admin/p/{petition.slug}/archive").status_code == 400
    assert stored_petition(app, petition.slug).archived_at is None


# Who may


@pytest.mark.parametrize(
    ("role", "status"), [("owner", 303), ("editor", 403), ("moderator", 403), ("viewer", 403), (None, 404)]
)
@pytest.mark.parametrize("action", ["archive", "delete"])
def test_only_owners_archive_or_delete(app, runner, petition, role, status, action):
    email = account(runner, f"{role or 'nobody'}@example.org")
    if role:
        grant(runner, email, petition.slug, role)
    client = logged_in(app, email)
    # The CSRF token of a page every account may open.
    token = csrf_token(client.get("/admin/account/password").get_data(as_text=True))
    response = client.post(
        f"/admin/p/{petition.slug}/{action}", data={"csrf_token": token, "title": petition.title}
    )
    assert response.status_code == status
    stored = stored_petition(app, petition.slug)
    assert (stored is None or stored.archived_at is not None) == (status == 303)


def test_anonymous_visitors_are_sent_to_the_login_page(client, petition):
    response = client.get(f"/admin/p/{petition.slug}/delete")
    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]
