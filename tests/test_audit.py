"""The audit record: every download of signers' data, with who, when, which filters and how many
rows; moderation and role changes; and the page that shows each account what it may see."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from petition.extensions import db
from petition.models import AuditEvent

from .conftest import ORGANIZER_EMAIL, login
from .support import store_signature


def records(app) -> list[AuditEvent]:
    with app.app_context():
        found = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
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
    assert records(app) == []


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
                    "INSERT INTO organizer (email, password_hash, created_at) VALUES ('m@example.org', 'x', '2026-01-01')"
                )
            )
            db.session.execute(
                text(
                    "INSERT INTO moderation_event (petition_id, organizer_id, action, signature_count, detail,"
                    " created_at) SELECT :petition, id, 'hide', 3, :ids, '2026-02-01 10:00:00' FROM organizer"
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
