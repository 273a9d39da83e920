"""Versions of a statement: a signed text is never changed under its signers' names."""

import csv
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.models import Petition, StatementVersion
from petition.petitions import services

from .conftest import hidden_inputs, login, sign, signatures, valid_fields
from .support import store_signature
from .test_lifecycle import post_editor
from .test_mail import deliver

SLUG = "versioned"
EDIT = f"/admin/p/{SLUG}/edit"
FINGERPRINT = re.compile(r"Version (\d+)</a>.*?<code>([0-9a-f]{8})</code>", re.DOTALL)


@pytest.fixture
def admin(client, organizer):
    assert login(client).status_code == 303
    return client


@pytest.fixture
def versioned(admin):
    """A petition made in the editor, so that the editor's fields are its text exactly."""
    response = post_editor(admin, "/admin/petitions/new", slug=SLUG)
    assert response.status_code == 303
    return SLUG


def stored(app) -> Petition:
    with app.app_context():
        petition = db.session.scalar(select(Petition).where(Petition.slug == SLUG))
        db.session.expunge_all()
        return petition


def kept_versions(app) -> list[tuple[int, str, str]]:
    with app.app_context():
        rows = db.session.scalars(select(StatementVersion).order_by(StatementVersion.number)).all()
        return [(row.number, row.language, row.title) for row in rows]


def fingerprints(client) -> dict[int, str]:
    """The fingerprint of each version, as the page of versions shows them."""
    page = client.get(f"/p/{SLUG}/versions")
    assert page.status_code == 200
    return {int(number): value for number, value in FINGERPRINT.findall(page.get_data(as_text=True))}


def publish(client, **fields):
    """Change the text in the editor and confirm the new version."""
    response = post_editor(client, EDIT, slug=SLUG, publish_version="Publish the new version", **fields)
    assert response.status_code == 303, response.status_code
    return response


def test_edits_before_the_first_signature_change_the_text_in_place(app, admin, versioned):
    response = post_editor(admin, EDIT, slug=SLUG, title="A better title")

    assert response.status_code == 303
    assert stored(app).title == "A better title"
    assert stored(app).statement_version == 1
    assert kept_versions(app) == []
    assert admin.get(f"/p/{SLUG}/versions/2").status_code == 404


def test_changing_a_signed_text_asks_first_and_stores_nothing(app, admin, versioned):
    store_signature(app, SLUG)

    response = post_editor(admin, EDIT, slug=SLUG, body="A different statement.")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Publish a new version of a signed text?" in html
    assert 'name="publish_version"' in html
    assert "A different statement." in html  # what was typed is kept for the second press
    petition = stored(app)
    assert petition.body == "## Por qué\n\nEl pueblo peruano se levantó en *diciembre*."
    assert petition.statement_version == 1
    assert kept_versions(app) == []


def test_a_published_change_keeps_the_signed_version_readable(app, admin, versioned):
    store_signature(app, SLUG)

    publish(admin, title="Second title", body="The statement, amended.", demands="¡OTRA DEMANDA!")

    assert stored(app).statement_version == 2
    assert stored(app).title == "Second title"
    old = admin.get(f"/p/{SLUG}/versions/1").get_data(as_text=True)
    assert "Solidaridad con el pueblo del Perú" in old
    assert "El pueblo peruano se levantó" in old
    assert "¡LIBERTAD A LOS PRESOS!" in old
    new = admin.get(f"/p/{SLUG}/versions/2").get_data(as_text=True)
    assert "The statement, amended." in new and "¡OTRA DEMANDA!" in new
    assert sorted(fingerprints(admin)) == [1, 2]
    assert f"/p/{SLUG}/versions" in admin.get(f"/p/{SLUG}").get_data(as_text=True)


def test_a_second_change_before_anyone_signs_the_new_version_changes_it_in_place(app, admin, versioned):
    store_signature(app, SLUG)
    publish(admin, title="Second title")

    response = post_editor(admin, EDIT, slug=SLUG, title="Second title, corrected")

    assert response.status_code == 303  # nobody signed version 2: no question asked
    assert stored(app).statement_version == 2
    assert kept_versions(app) == [(1, "en", "Solidaridad con el pueblo del Perú")]


def test_a_change_to_the_settings_alone_makes_no_version(app, admin, versioned):
    store_signature(app, SLUG)

    response = post_editor(admin, EDIT, slug=SLUG, goal="5000")

    assert response.status_code == 303
    assert stored(app).goal == 5000
    assert stored(app).statement_version == 1
    assert kept_versions(app) == []


def test_a_signature_records_the_version_its_form_showed(app, client, admin, versioned):
    page = client.get(f"/p/{SLUG}")
    old_form = hidden_inputs(page.get_data(as_text=True))
    store_signature(app, SLUG)
    publish(admin, title="Second title")

    late = client.post(f"/p/{SLUG}/sign", data=old_form | valid_fields(email="late@example.org"))
    fresh = sign(client, SLUG, **valid_fields(email="fresh@example.org"))

    assert late.status_code == fresh.status_code == 303
    versions = {signature.email: signature.statement_version for signature in signatures(app)}
    assert versions["late@example.org"] == 1
    assert versions["fresh@example.org"] == 2


@pytest.mark.parametrize("posted", ["3", "0", "-1", "two", ""])
def test_a_form_naming_no_existing_version_signs_the_current_one(app, client, admin, versioned, posted):
    store_signature(app, SLUG)
    publish(admin, title="Second title")
    data = hidden_inputs(client.get(f"/p/{SLUG}").get_data(as_text=True))

    client.post(f"/p/{SLUG}/sign", data=data | valid_fields(email="x@example.org", statement_version=posted))

    [_, signature] = signatures(app)
    assert signature.statement_version == 2


def test_the_export_says_which_version_each_signature_was_given(app, admin, versioned):
    store_signature(app, SLUG, email="first@example.org")
    publish(admin, title="Second title")
    store_signature(app, SLUG, email="second@example.org")

    response = admin.get(f"/admin/p/{SLUG}/export.csv")

    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert list(rows[0])[-2:] == ["invalidation_reason", "statement_version"]
    assert {row["email"]: row["statement_version"] for row in rows} == {
        "first@example.org": "1",
        "second@example.org": "2",
    }


def test_a_new_translation_of_a_signed_text_keeps_every_language_of_the_old_version(app, admin, versioned):
    with app.app_context():
        services.load_petition(
            {"translation_of": SLUG, "language": "fr", "title": "Solidarité avec le peuple du Pérou"}
            | {"subtitle": "", "body": "Le peuple péruvien s’est levé en décembre.", "demands": []}
        )
        db.session.commit()
    store_signature(app, SLUG)
    publish(admin, title="Segundo título")

    assert sorted(kept_versions(app)) == [
        (1, "en", "Solidaridad con el pueblo del Perú"),  # the editor's petitions are in English
        (1, "fr", "Solidarité avec le peuple du Pérou"),
    ]
    french = admin.get(f"/p/{SLUG}/versions/1", headers={"Accept-Language": "fr"})
    other = admin.get(f"/p/{SLUG}/versions/1", headers={"Accept-Language": "pt"})
    assert "Le peuple péruvien s’est levé en décembre." in french.get_data(as_text=True)
    assert "El pueblo peruano se levantó" in other.get_data(as_text=True)


def test_the_receipt_carries_the_fingerprint_of_the_version_signed(make_app, smtp, admin, versioned):
    mail_app = make_app(SMTP_URL=smtp.url)
    store_signature(mail_app, SLUG, email="first@example.org")
    publish(admin, title="Second title")
    client = mail_app.test_client()
    assert sign(client, SLUG, **valid_fields(email="second@example.org")).status_code == 303

    deliver(mail_app)

    shown = fingerprints(client)
    assert shown[1] != shown[2]
    received = {
        message["To"]: message.get_body(preferencelist=("plain",)).get_content() for message in smtp.messages
    }
    assert f"version 1 of its text, fingerprint {shown[1]}" in received["first@example.org"]
    assert f"version 2 of its text, fingerprint {shown[2]}" in received["second@example.org"]
    assert f"/p/{SLUG}/versions" in received["second@example.org"]


def test_loading_a_changed_statement_file_keeps_the_signed_version(app, runner, petition, tmp_path):
    store_signature(app, petition.slug)
    original = Path(app.config["BUNDLED_STATEMENT"]).read_text(encoding="utf-8")
    changed = tmp_path / "statement.md"
    changed.write_text(original.replace(f"title: {petition.title}", "title: A corrected title"), "utf-8")

    result = runner.invoke(args=["petition", "load", str(changed)])

    assert result.exit_code == 0, result.output
    with app.app_context():
        kept = db.session.scalar(select(StatementVersion))
        current = db.session.get(Petition, petition.id)
        assert (kept.number, kept.title) == (1, petition.title)
        assert (current.statement_version, current.title) == (2, "A corrected title")
