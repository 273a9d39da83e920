"""Moderation: filters, bulk actions, approval of organizations, and the log of who did what."""

import pytest

from petition.extensions import db as _db
from petition.models import AuditEvent, Signature

from .conftest import csrf_token, login, organization_fields, sign, signatures, valid_fields
from .support import store_signature


def moderate(client, slug, action, ids, query=""):
    page = client.get(f"/admin/p/{slug}/signatures{query}")
    assert page.status_code == 200
    token = csrf_token(page.get_data(as_text=True))
    return client.post(
        f"/admin/p/{slug}/signatures{query}", data={"csrf_token": token, "action": action, "ids": ids}
    )


def public_names(client, slug):
    return client.get(f"/p/{slug}/signatories").get_data(as_text=True)


def api_counts(client, slug):
    return client.get(f"/api/v1/petitions/{slug}").get_json()["counts"]


def export_rows(client, slug):
    return client.get(f"/admin/p/{slug}/export.csv").get_data(as_text=True).splitlines()[1:]


@pytest.fixture
def admin(client, organizer):
    assert login(client).status_code == 303
    return client


def test_anonymous_cannot_see_or_moderate_signatures(client, petition):
    assert client.get(f"/admin/p/{petition.slug}/signatures").status_code == 302
    response = client.post(f"/admin/p/{petition.slug}/signatures", data={"action": "hide", "ids": "1"})
    assert response.status_code in (302, 400)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?q=quispe", ["Ana Quispe"]),
        ("?q=ANA@EXAMPLE", ["Ana Quispe"]),
        ("?q=union.example.org", ["Sindicato"]),
        ("?kind=organization", ["Sindicato"]),
        ("?country=AR", ["Pablo Gómez"]),
        ("?status=hidden", ["Hidden Person"]),
        ("?q=100%25", []),
    ],
)
def test_filters_find_signatures_by_text_kind_country_and_status(app, admin, petition, query, expected):
    store_signature(app, petition.slug, name="Ana Quispe", email="ana@example.org")
    store_signature(app, petition.slug, name="Pablo Gómez", email="pablo@example.org", country="AR")
    store_signature(
        app,
        petition.slug,
        kind="organization",
        name="Sindicato",
        email="info@union.example.org",
        contact_name="Rosa",
    )
    store_signature(app, petition.slug, name="Hidden Person", email="h@example.org", status="hidden")

    html = admin.get(f"/admin/p/{petition.slug}/signatures{query}").get_data(as_text=True)

    for name in ["Ana Quispe", "Pablo Gómez", "Sindicato", "Hidden Person"]:
        assert (name in html) == (name in expected), name


def test_date_filter_limits_to_the_range(app, admin, petition):
    store_signature(app, petition.slug, name="Today Signer", email="t@example.org")
    html = admin.get(f"/admin/p/{petition.slug}/signatures?until=2020-01-01").get_data(as_text=True)
    assert "Today Signer" not in html
    html = admin.get(f"/admin/p/{petition.slug}/signatures?since=2020-01-01").get_data(as_text=True)
    assert "Today Signer" in html


def test_hiding_keeps_the_count_but_leaves_the_public_list(app, admin, petition):
    ana = store_signature(app, petition.slug, name="Ana Quispe", email="ana@example.org")
    store_signature(app, petition.slug, name="Pablo Gómez", email="pablo@example.org")

    response = moderate(admin, petition.slug, "hide", [ana])

    assert response.status_code == 303
    assert api_counts(admin, petition.slug)["total"] == 2
    listing = public_names(admin, petition.slug)
    assert "Ana Quispe" not in listing and "Pablo Gómez" in listing
    assert any(",hidden," in row and "Ana Quispe" in row for row in export_rows(admin, petition.slug))


def test_rejecting_many_at_once_removes_them_from_every_count(app, admin, petition):
    ids = [store_signature(app, petition.slug) for _ in range(5)]
    keep = store_signature(app, petition.slug, name="Real Person", email="real@example.org")

    moderate(admin, petition.slug, "reject", ids)

    assert api_counts(admin, petition.slug)["total"] == 1
    assert [s.id for s in signatures(app) if s.is_counted] == [keep]
    page = admin.get(f"/p/{petition.slug}").get_data(as_text=True)
    assert "Real Person" in page and "Signer" not in page


def test_restore_brings_a_rejected_signature_back(app, admin, petition):
    ana = store_signature(app, petition.slug, name="Ana Quispe", email="ana@example.org")
    moderate(admin, petition.slug, "reject", [ana])
    moderate(admin, petition.slug, "restore", [ana])

    assert api_counts(admin, petition.slug)["total"] == 1
    assert "Ana Quispe" in public_names(admin, petition.slug)


def test_restoring_an_unconfirmed_signature_does_not_count_it(app, admin, bundled_petition):
    sign(admin, bundled_petition.slug, **valid_fields())
    [row] = signatures(app)
    moderate(admin, bundled_petition.slug, "reject", [row.id])
    moderate(admin, bundled_petition.slug, "restore", [row.id])

    assert signatures(app)[0].status == Signature.PENDING
    assert api_counts(admin, bundled_petition.slug)["total"] == 0


def test_organizations_are_listed_only_once_approved(app, admin, make_app, bundled_petition):
    org = store_signature(
        app,
        bundled_petition.slug,
        kind="organization",
        name="Sindicato",
        email="o@union.example.org",
        contact_name="Rosa",
        status=Signature.AWAITING_APPROVAL,
    )
    dashboard = admin.get(f"/admin/p/{bundled_petition.slug}").get_data(as_text=True)
    assert "1 organization is waiting for approval" in dashboard
    assert "Sindicato" not in public_names(admin, bundled_petition.slug)
    assert api_counts(admin, bundled_petition.slug)["organizations"] == 0

    moderate(admin, bundled_petition.slug, "approve", [org])

    assert "Sindicato" in public_names(admin, bundled_petition.slug)
    assert api_counts(admin, bundled_petition.slug)["organizations"] == 1


def test_actions_only_apply_where_they_make_sense(app, admin, petition):
    confirmed = store_signature(app, petition.slug)
    response = moderate(admin, petition.slug, "approve", [confirmed])
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "0 signatures changed" in page


def test_moderating_another_petitions_signatures_changes_nothing(app, admin, petition):
    from petition.petitions.services import load_petition

    with app.app_context():
        load_petition({"slug": "other", "title": "Other", "body": "x"})
        _db.session.commit()
    theirs = store_signature(app, "other")
    moderate(admin, petition.slug, "reject", [theirs])

    assert signatures(app)[0].status == Signature.CONFIRMED


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "hide"}, "Tick at least one signature"),
        ({"action": "delete", "ids": "1"}, "Not a valid choice"),
    ],
)
def test_bad_moderation_requests_explain_themselves(app, admin, petition, data, message):
    token = csrf_token(admin.get(f"/admin/p/{petition.slug}/signatures").get_data(as_text=True))
    response = admin.post(f"/admin/p/{petition.slug}/signatures", data={"csrf_token": token, **data})
    assert response.status_code == 303
    assert message in admin.get(response.headers["Location"]).get_data(as_text=True)


def test_every_action_is_logged_with_who_and_when(app, admin, petition, organizer):
    ids = [store_signature(app, petition.slug) for _ in range(3)]
    moderate(admin, petition.slug, "hide", ids)
    moderate(admin, petition.slug, "reject", ids[:1])

    with app.app_context():
        events = _db.session.scalars(_db.select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [(e.action, e.rows, e.organizer.email, e.petition_id) for e in events] == [
            ("login", None, organizer, None),  # the administrator's, before moderating
            ("moderation.hide", 3, organizer, petition.id),
            ("moderation.reject", 1, organizer, petition.id),
        ]
        assert all(e.created_at is not None for e in events)
    dashboard = admin.get(f"/admin/p/{petition.slug}").get_data(as_text=True)
    assert "Moderation log" in dashboard and organizer in dashboard and "hide" in dashboard


def test_moderation_needs_a_csrf_token(app, admin, petition):
    ana = store_signature(app, petition.slug)
    response = admin.post(f"/admin/p/{petition.slug}/signatures", data={"action": "reject", "ids": ana})
    assert response.status_code == 400
    assert signatures(app)[0].status == Signature.CONFIRMED


def test_counts_list_api_and_csv_agree(app, admin, petition):
    for status in ["confirmed", "confirmed", "hidden", "rejected", "pending", "unapproved"]:
        store_signature(app, petition.slug, status=status)
    store_signature(app, petition.slug, public=False)

    counts = api_counts(admin, petition.slug)
    rows = export_rows(admin, petition.slug)
    counted_in_csv = [r for r in rows if ",confirmed," in r or ",hidden," in r]
    listing = public_names(admin, petition.slug)

    assert counts["total"] == len(counted_in_csv) == 4
    assert len(rows) == 7
    assert listing.count('class="signatory ') == 2  # confirmed and public only


__all__ = ["organization_fields"]
