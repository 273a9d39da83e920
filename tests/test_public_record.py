"""The public record on the petition page and in the API: how many signatures were confirmed by
email, how many await confirmation, how many were invalidated and why; read from kept tallies."""

import re

from sqlalchemy import insert

from petition.extensions import db as _db
from petition.models import Signature
from petition.signing.services import confirm

from .conftest import sign, signatures, valid_fields
from .support import store_signature, texts
from .test_counts import execute, signature_row, statements_of_a_page_view
from .test_invalidation import invalidation_ids


def record_of(client, slug) -> dict:
    return client.get(f"/api/v1/petitions/{slug}").get_json()["record"]


def page_record(client, slug) -> list[str]:
    html = client.get(f"/p/{slug}").get_data(as_text=True)
    return [texts(html, name)[0] for name in ("record-confirmed", "record-awaiting", "record-invalidated")]


def confirm_by_email(app, signature_id):
    with app.app_context():
        assert confirm(_db.session.get(Signature, signature_id))
        _db.session.commit()


def by_category(**counts) -> dict:
    return {"duplicate": 0, "fake": 0, "bot": 0, "other": 0} | counts


def test_the_page_and_the_api_say_how_the_count_was_kept(app, client, runner, bundled_petition):
    slug = bundled_petition.slug
    for n in range(4):
        sign(client, slug, **valid_fields(email=f"p{n}@{'bots.example' if n == 3 else 'example.org'}"))
    first, second, _third, bot = (signature.id for signature in signatures(app))
    confirm_by_email(app, first)
    confirm_by_email(app, second)
    confirm_by_email(app, bot)
    result = runner.invoke(
        args=[
            "signatures",
            "invalidate",
            slug,
            "--domain",
            "bots.example",
            "--category",
            "bot",
            "--reason",
            "x",
        ]
    )
    assert result.exit_code == 0, result.output

    assert record_of(client, slug) == {
        "confirmed_by_email": 2,
        "awaiting_confirmation": 1,
        "invalidated": 1,
        "invalidated_by_category": by_category(bot=1),
    }
    assert client.get(f"/api/v1/petitions/{slug}").get_json()["counts"]["total"] == 2
    assert page_record(client, slug) == [
        "2 signatures confirmed by email",
        "1 awaiting confirmation (not counted)",
        "1 invalidated (not counted): automated sign-ups 1",
    ]


def test_undoing_an_invalidation_takes_it_off_the_record(app, client, runner, petition):
    for n in range(3):
        store_signature(app, petition.slug, email=f"d{n}@dup.example")
    runner.invoke(
        args=["signatures", "invalidate", petition.slug, "--domain", "dup.example", "--category", "duplicate"]
        + ["--reason", "same person"]
    )
    assert record_of(client, petition.slug)["invalidated_by_category"] == by_category(duplicate=3)

    [invalidation] = invalidation_ids(app)
    assert runner.invoke(args=["signatures", "restore", str(invalidation)]).exit_code == 0

    assert record_of(client, petition.slug)["invalidated"] == 0
    html = client.get(f"/p/{petition.slug}").get_data(as_text=True)
    assert texts(html, "record-invalidated") == ["0 invalidated (not counted)"]


def test_signatures_counted_without_email_confirmation_are_not_said_to_be_confirmed(client, petition):
    sign(client, petition.slug, **valid_fields())

    assert record_of(client, petition.slug)["confirmed_by_email"] == 0
    assert client.get(f"/api/v1/petitions/{petition.slug}").get_json()["counts"]["total"] == 1
    html = client.get(f"/p/{petition.slug}").get_data(as_text=True)
    assert texts(html, "record-confirmed") == ["Signatures are counted without an emailed confirmation."]
    assert texts(html, "record-awaiting") == []


def test_the_record_costs_the_same_at_any_size(app, petition):
    path = f"/api/v1/petitions/{petition.slug}"
    empty = statements_of_a_page_view(app, path)
    rows = [
        signature_row(petition.id, n, status=(Signature.PENDING, Signature.CONFIRMED)[n % 2])
        for n in range(300)
    ]
    execute(app, insert(Signature.__table__), rows)

    full = statements_of_a_page_view(app, path)

    assert full == empty
    assert any("signature_tally" in sql for sql in full)
    assert not any(re.search(r"\b(count|sum)\(.*\bFROM signature\b", sql, re.IGNORECASE) for sql in full)
