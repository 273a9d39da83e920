"""Bulk invalidation in the organizer's dashboard: preview, confirm, undo; bad input answered
with 422 and each error beside its field; every change in the audit record."""

import re

import pytest
from sqlalchemy import select

from petition.extensions import db as _db
from petition.models import AuditEvent, Invalidation, Signature

from .conftest import ORGANIZER_EMAIL, csrf_token, hidden_inputs, login
from .support import store_signature
from .test_counts import another_petition, assert_exact, totals
from .test_invalidation import invalidation_ids, statuses

FIELDS = {
    "domain": "",
    "network": "",
    "since": "",
    "until": "",
    "country": "",
    "name": "",
    "source": "",
    "status": "",
    "category": "fake",
    "reason": "addresses that do not exist",
}


@pytest.fixture
def spam(app, organizer, petition):
    """Three signatures from a spam domain and one real one; the organizer logged in."""
    ids = [store_signature(app, petition.slug, email=f"x{n}@spam.example") for n in range(3)]
    ids.append(store_signature(app, petition.slug, Signature.PENDING, email="real@example.org"))
    return ids


def form_page(client, slug):
    page = client.get(f"/admin/p/{slug}/invalidate")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def post(client, slug, **fields):
    data = FIELDS | {"csrf_token": csrf_token(form_page(client, slug))} | fields
    return client.post(f"/admin/p/{slug}/invalidate", data=data)


def preview_then_confirm(client, slug, **fields):
    """Press Preview, then the confirmation the preview shows, as an organizer does."""
    preview = post(client, slug, **fields, preview="1")
    assert preview.status_code == 200
    sent_back = hidden_inputs(preview.get_data(as_text=True))
    confirm = re.search(r'name="confirm" value="(\d+)"', preview.get_data(as_text=True)).group(1)
    return client.post(f"/admin/p/{slug}/invalidate", data=FIELDS | fields | sent_back | {"confirm": confirm})


def test_a_preview_says_how_many_match_and_changes_nothing(app, client, petition, spam):
    assert login(client).status_code == 303
    before = statuses(app)

    preview = post(client, petition.slug, domain="Spam.Example", preview="1")

    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert re.search(r'id="invalidate-preview">3 signatures match', html)
    assert 'name="confirm" value="3"' in html
    assert statuses(app) == before
    assert invalidation_ids(app) == []


def test_confirming_invalidates_and_undo_restores_each_recorded(app, client, petition, spam):
    assert login(client).status_code == 303
    before = statuses(app)

    done = preview_then_confirm(client, petition.slug, domain="spam.example")

    assert done.status_code == 303
    assert [statuses(app)[i] for i in spam] == [Signature.INVALIDATED] * 3 + [Signature.PENDING]
    assert assert_exact(app, petition.id) == totals(0)
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "3 signatures invalidated." in page and "addresses that do not exist" in page
    [invalidation] = invalidation_ids(app)

    token = csrf_token(page)
    undone = client.post(
        f"/admin/p/{petition.slug}/invalidations/{invalidation}/undo", data={"csrf_token": token}
    )

    assert undone.status_code == 303
    assert statuses(app) == before
    assert assert_exact(app, petition.id) == totals(3)
    assert "3 signatures restored." in client.get(undone.headers["Location"]).get_data(as_text=True)
    again = client.post(
        f"/admin/p/{petition.slug}/invalidations/{invalidation}/undo", data={"csrf_token": token}
    )
    assert "undone already" in client.get(again.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        events = _db.session.scalars(select(AuditEvent).where(AuditEvent.action != "login")).all()
        recorded = [(event.action, event.rows, event.actor) for event in events]
        stored = _db.session.get(Invalidation, invalidation)
        assert (stored.actor, stored.category, stored.criteria) == (
            ORGANIZER_EMAIL,
            "fake",
            {"domain": "spam.example"},
        )
    assert ("invalidate", 3, ORGANIZER_EMAIL) in recorded
    assert ("invalidation_undo", 3, ORGANIZER_EMAIL) in recorded


def test_a_confirmation_of_other_filters_than_those_previewed_shows_their_preview(
    app, client, petition, spam
):
    assert login(client).status_code == 303
    before = statuses(app)
    preview = post(client, petition.slug, domain="spam.example", preview="1")
    sent_back = hidden_inputs(preview.get_data(as_text=True))

    changed = client.post(
        f"/admin/p/{petition.slug}/invalidate",
        data=FIELDS | sent_back | {"domain": "example.org", "confirm": "3"},
    )

    assert changed.status_code == 200
    assert re.search(r'id="invalidate-preview">1 signature matches', changed.get_data(as_text=True))
    assert statuses(app) == before
    assert invalidation_ids(app) == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "domain"),  # no filter at all
        ({"domain": "not a domain"}, "domain"),
        ({"network": "zz"}, "network"),
        ({"country": "XX"}, "country"),
        ({"domain": "spam.example", "reason": "  "}, "reason"),
        ({"domain": "spam.example", "category": "annoying"}, "category"),
        ({"domain": "spam.example", "status": "invalidated"}, "status"),
        ({"since": "2026-05-02", "until": "2026-05-01"}, "until"),
        ({"since": "yesterday"}, "since"),
        ({"name": "x" * 201}, "name"),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_nothing_changes(
    app, client, petition, spam, fields, field
):
    assert login(client).status_code == 303
    before = statuses(app)

    for button in ("preview", "confirm"):
        answer = post(client, petition.slug, **fields, **{button: "3"})

        assert answer.status_code == 422
        html = answer.get_data(as_text=True)
        assert f'id="{field}-error"' in html
        assert 'class="error-summary"' in html
    assert statuses(app) == before
    assert invalidation_ids(app) == []


def test_a_post_without_its_csrf_token_is_refused(app, client, petition, spam):
    assert login(client).status_code == 303

    answer = client.post(f"/admin/p/{petition.slug}/invalidate", data=FIELDS | {"domain": "spam.example"})

    assert answer.status_code == 400
    assert invalidation_ids(app) == []


def test_anonymous_visitors_are_sent_to_log_in(client, petition):
    assert client.get(f"/admin/p/{petition.slug}/invalidate").status_code == 302
    assert client.post(f"/admin/p/{petition.slug}/invalidations/1/undo").status_code in (302, 400)


def test_an_invalidation_is_undone_only_from_its_own_petition(app, client, runner, petition, spam):
    another_petition(app)
    result = runner.invoke(
        args=["signatures", "invalidate", petition.slug, "--domain", "spam.example", "--reason", "x"]
    )
    assert result.exit_code == 0
    [invalidation] = invalidation_ids(app)
    assert login(client).status_code == 303
    token = csrf_token(form_page(client, "another"))

    answer = client.post(f"/admin/p/another/invalidations/{invalidation}/undo", data={"csrf_token": token})

    assert answer.status_code == 404
    assert [statuses(app)[i] for i in spam[:3]] == [Signature.INVALIDATED] * 3
