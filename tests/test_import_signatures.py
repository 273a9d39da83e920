"""Signatures collected on paper or at events: ``signatures import`` and the organizers' upload
take the export's columns, check every row with the sign form's rules, refuse a bad file whole,
store a good one counted at once, and add nothing the second time."""

import io

import pytest
from sqlalchemy import func, select

from petition.extensions import db as _db
from petition.models import AuditEvent, Petition, Signature
from petition.organizers import signature_import

from .conftest import csrf_token, login, sign, signatures, valid_fields
from .support import at_the_same_moment
from .test_counts import assert_exact, totals
from .test_updates import deliver_all, organizer_client, send_new_update

GOOD = (
    "kind,name,email,country,city,affiliation,contact_name,website,public,updates\n"
    "individual,Ana Quispe,,pe,Cusco,Teacher,,,yes,\n"
    "organization,Central de Trabajadores,info@cgtp.example.org,PE,Lima,,Rosa Mamani,cgtp.example.org,"
    "yes,no\n"
    "individual,Luis Huamán,luis@example.org,PE,,,,,no,yes\n"
)


def write(tmp_path, text, name="signatures.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def import_file(runner, slug, path, *options):
    return runner.invoke(args=["signatures", "import", slug, path, *options])


def count_signatures_stored(app):
    with app.app_context():
        return _db.session.scalar(select(func.count()).select_from(Signature))


def test_a_good_file_is_stored_counted_and_marked_with_its_source(app, runner, petition, tmp_path):
    result = import_file(runner, petition.slug, write(tmp_path, GOOD), "--source", "paper")

    assert result.exit_code == 0, result.output
    assert "3 added" in result.output
    stored = signatures(app)
    assert [(s.name, s.email, s.country, s.status, s.source) for s in stored] == [
        ("Ana Quispe", "", "PE", Signature.CONFIRMED, "paper"),
        ("Central de Trabajadores", "info@cgtp.example.org", "PE", Signature.CONFIRMED, "paper"),
        ("Luis Huamán", "luis@example.org", "PE", Signature.CONFIRMED, "paper"),
    ]
    assert [(s.public, s.updates) for s in stored] == [(True, False), (True, False), (False, True)]
    assert stored[1].website == "https://cgtp.example.org"
    assert not stored[1].verified  # nobody confirmed the address
    assert assert_exact(app, petition.id) == totals(3, organizations=1)


def test_importing_the_same_file_again_adds_nothing(app, runner, petition, tmp_path):
    path = write(tmp_path, GOOD)
    assert import_file(runner, petition.slug, path).exit_code == 0
    again = import_file(runner, petition.slug, path)

    assert again.exit_code == 0, again.output
    assert "0 added" in again.output and "3 there already" in again.output
    assert count_signatures_stored(app) == 3
    assert assert_exact(app, petition.id) == totals(3, organizations=1)


def test_a_row_whose_address_signed_online_adds_nothing(app, client, runner, petition, tmp_path):
    sign(client, petition.slug, **valid_fields(email="Luis@Example.org", name="Luis H."))

    result = import_file(runner, petition.slug, write(tmp_path, GOOD))

    assert "2 added" in result.output
    assert [s.name for s in signatures(app)] == ["Luis H.", "Ana Quispe", "Central de Trabajadores"]


def test_repeated_lines_within_a_file_are_stored_once(app, runner, petition, tmp_path):
    text = "kind,name,country,city\nindividual,Ana Quispe,PE,Cusco\nindividual,ana  quispe,PE,cusco\n"
    result = import_file(runner, petition.slug, write(tmp_path, text))

    assert result.exit_code == 0, result.output
    assert count_signatures_stored(app) == 1


def test_two_imports_of_one_file_at_the_same_moment_add_it_once(app, petition):
    def run(ready):
        with app.app_context():
            target = _db.session.get(Petition, petition.id)
            checked = signature_import.check_file(target, GOOD.encode(), "paper")
            ready()
            done = signature_import.store(target, checked)
            _db.session.commit()
            _db.session.remove()
            return done.added

    assert sorted(at_the_same_moment(run, [(), ()], timeout=60)) == [0, 3]
    assert count_signatures_stored(app) == 3
    assert assert_exact(app, petition.id) == totals(3, organizations=1)


def test_the_same_name_from_another_source_is_another_signature(app, runner, petition, tmp_path):
    path = write(tmp_path, "kind,name,country\nindividual,Ana Quispe,PE\n")
    import_file(runner, petition.slug, path, "--source", "march")
    import_file(runner, petition.slug, path, "--source", "rally")

    assert sorted(s.source for s in signatures(app)) == ["march", "rally"]


def test_the_source_defaults_to_import_and_a_rows_own_source_wins(app, runner, petition, tmp_path):
    text = "kind,name,country,source\nindividual,Ana Quispe,PE,\nindividual,Rosa Mamani,PE,fair-2026\n"
    import_file(runner, petition.slug, write(tmp_path, text))

    assert [s.source for s in signatures(app)] == ["import", "fair-2026"]


BAD_ROWS = [
    ("individual,,,PE", "name"),
    ("person,Ana,,PE", "kind"),
    ("individual,Ana,,XX", "country"),
    ("individual,Ana,ana@,PE", "email"),
    ("individual,Ana,ａna@example.org,PE", "email"),  # a fullwidth "a"
    ("organization,Union,union@example.org,PE", "contact_name"),
    ("individual,Ana\u0007,,PE", "name"),
]


@pytest.mark.parametrize(("line", "column"), BAD_ROWS)
def test_a_file_with_one_bad_row_is_refused_whole_with_its_line(
    app, runner, petition, tmp_path, line, column
):
    text = f"kind,name,email,country\nindividual,Rosa Mamani,,PE\n{line}\n"
    result = import_file(runner, petition.slug, write(tmp_path, text))

    assert result.exit_code != 0
    assert f"Line 3, {column}:" in result.stderr
    assert "Line 2" not in result.stderr
    assert count_signatures_stored(app) == 0


def test_every_problem_is_reported_with_its_line_number(app, runner, petition, tmp_path):
    text = (
        "kind,name,country,comment,public\n"
        "individual,,PE,,\n"
        'individual,Ana,PE,"two\nlines",maybe\n'
        "x,Bo,PE,,\n"
    )
    result = import_file(runner, petition.slug, write(tmp_path, text))

    assert result.exit_code != 0
    lines = [line.split(": ", 1)[1] for line in result.stderr.splitlines()[:-1]]
    assert [line.split(":")[0] for line in lines] == ["Line 2, name", "Line 3, public", "Line 5, kind"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name,country\nAna,PE\n", "Line 1, kind: This column is missing."),
        ("kind,name,country,contry\nindividual,Ana,PE,PE\n", "Line 1, contry: There is no such column."),
        ("", "Line 1: The file is empty."),
        ("kind,name,country\n", "Line 1: The file holds no signature."),
        ("kind,name,country\nindividual,Ana,PE,extra\n", "Line 2: This line has more cells"),
        ("kind,name,country,updates\nindividual,Ana,PE,yes\n", "Line 2, updates: Updates need an email"),
    ],
)
def test_files_that_cannot_be_read_are_refused(app, runner, petition, tmp_path, text, expected):
    result = import_file(runner, petition.slug, write(tmp_path, text))

    assert result.exit_code != 0
    assert expected in result.stderr
    assert count_signatures_stored(app) == 0


def test_a_file_that_is_not_utf8_is_refused_with_its_line(app, runner, petition, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("kind,name,country\nindividual,Ana,PE\nindividual,Muñoz,PE\n".encode("latin-1"))
    result = import_file(runner, petition.slug, str(path))

    assert result.exit_code != 0
    assert "Line 3: The file is not UTF-8" in result.stderr


def test_an_exported_file_imports_into_another_petition(app, client, runner, petition, tmp_path):
    sign(client, petition.slug, **valid_fields(comment="=1+1 is a formula"))
    exported = runner.invoke(args=["signatures", "export", petition.slug])
    other = runner.invoke(
        args=["petition", "load", write(tmp_path, "---\nslug: other\ntitle: Other\n---\nText.\n", "o.md")]
    )
    assert other.exit_code == 0, other.output

    result = import_file(runner, "other", write(tmp_path, exported.output))

    assert result.exit_code == 0, result.output
    assert "1 added" in result.output
    [original, imported] = signatures(app)
    assert imported.comment == original.comment == "=1+1 is a formula"


def test_a_dry_run_reports_and_stores_nothing(app, runner, petition, tmp_path):
    result = import_file(runner, petition.slug, write(tmp_path, GOOD), "--dry-run")

    assert result.exit_code == 0, result.output
    assert "3 would be added" in result.output
    assert count_signatures_stored(app) == 0
    with app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_the_import_is_recorded_in_the_audit(app, runner, petition, tmp_path):
    import_file(runner, petition.slug, write(tmp_path, GOOD, "rally.csv"), "--source", "rally")

    with app.app_context():
        event = _db.session.scalars(select(AuditEvent)).one()
        assert (event.action, event.actor, event.rows) == ("import", "command line", 3)
        assert event.detail == {"source": "rally", "filename": "rally.csv"}


def test_an_unknown_petition_or_source_is_refused(app, runner, petition, tmp_path):
    path = write(tmp_path, GOOD)
    assert import_file(runner, "nope", path).exit_code != 0
    assert import_file(runner, petition.slug, path, "--source", "Not a word!").exit_code != 0
    assert count_signatures_stored(app) == 0


def test_imported_signers_get_no_email_but_the_updates_they_asked_for(
    app, runner, organizer, bundled_petition, tmp_path, smtp, make_app
):
    mail_app = make_app(SMTP_URL=smtp.url)
    import_file(runner, bundled_petition.slug, write(tmp_path, GOOD))
    deliver_all(mail_app)
    assert smtp.messages == []  # no confirmation, no receipt

    send_new_update(organizer_client(mail_app), bundled_petition.slug)
    deliver_all(mail_app)

    assert [message["To"] for message in smtp.messages] == ["luis@example.org"]


def upload(client, slug, text, source="paper", check=False):
    page = client.get(f"/admin/p/{slug}/import")
    data = {"csrf_token": csrf_token(page.get_data(as_text=True)), "source": source}
    if text is not None:
        data["file"] = (io.BytesIO(text.encode()), "sheet.csv")
    if check:
        data["check"] = "1"
    return client.post(f"/admin/p/{slug}/import", data=data, content_type="multipart/form-data")


def test_an_owner_uploads_a_file_from_the_dashboard(app, client, organizer, petition):
    login(client)
    dashboard = client.get(f"/admin/p/{petition.slug}")
    assert f'action="/admin/p/{petition.slug}/import"' in dashboard.get_data(as_text=True)

    response = upload(client, petition.slug, GOOD)

    assert response.status_code == 303
    assert "3 signatures added" in client.get(response.location).get_data(as_text=True)
    assert {s.source for s in signatures(app)} == {"paper"}
    assert assert_exact(app, petition.id) == totals(3, organizations=1)
    with app.app_context():
        event = _db.session.scalars(select(AuditEvent).where(AuditEvent.action == "import")).one()
        assert (event.actor, event.rows, event.detail["filename"]) == (
            "organizer@example.org",
            3,
            "sheet.csv",
        )


def test_a_bad_upload_is_refused_with_each_line_beside_the_file_field(app, client, organizer, petition):
    login(client)
    response = upload(client, petition.slug, "kind,name,country\nindividual,,PE\nindividual,Ana,ZZ\n")

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="file-error"' in page
    assert "Line 2, name" in page and "Line 3, country" in page
    assert count_signatures_stored(app) == 0


def test_a_refused_upload_lists_the_first_hundred_problems_and_counts_the_rest(
    app, client, organizer, petition
):
    login(client)
    rows = "".join("individual,,PE\n" for _ in range(105))

    page = upload(client, petition.slug, "kind,name,country\n" + rows).get_data(as_text=True)

    assert "Line 101, name" in page and "Line 102, name" not in page
    assert "and 5 more problems" in page


@pytest.mark.parametrize(("text", "source"), [(None, "paper"), ("kind,name,country\n", "Not a word!")])
def test_an_upload_without_a_file_or_with_a_bad_source_is_refused(
    app, client, organizer, petition, text, source
):
    login(client)
    assert upload(client, petition.slug, text, source=source).status_code == 422
    assert count_signatures_stored(app) == 0


def test_checking_an_upload_stores_nothing(app, client, organizer, petition):
    login(client)
    response = upload(client, petition.slug, GOOD, check=True)

    assert response.status_code == 200
    assert "3 signatures would be added" in response.get_data(as_text=True)
    assert count_signatures_stored(app) == 0


def test_an_upload_without_the_forms_token_is_refused(app, client, organizer, petition):
    login(client)
    response = client.post(
        f"/admin/p/{petition.slug}/import",
        data={"file": (io.BytesIO(GOOD.encode()), "sheet.csv"), "source": "paper"},
        content_type="multipart/form-data",
    )
    assert response.status_code in (400, 422)
    assert count_signatures_stored(app) == 0


def test_a_file_larger_than_a_form_but_within_the_import_limit_is_accepted(app, client, organizer, petition):
    login(client)
    rows = "".join(f"individual,Person {number},PE\n" for number in range(4000))
    assert len(rows) > app.config["MAX_CONTENT_LENGTH"]

    response = upload(client, petition.slug, "kind,name,country\n" + rows)

    assert response.status_code == 303
    assert count_signatures_stored(app) == 4000


@pytest.mark.parametrize("role", ["editor", "moderator", "viewer"])
def test_only_owners_may_import(app, client, runner, petition, role):
    from petition.organizers.auth import create_organizer

    with app.app_context():
        create_organizer("helper@example.org", "correct horse battery staple", admin=False)
        _db.session.commit()
    runner.invoke(args=["organizer", "grant", "helper@example.org", petition.slug, role])
    login(client, email="helper@example.org")

    assert client.get(f"/admin/p/{petition.slug}/import").status_code == 403
    assert count_signatures_stored(app) == 0


def test_a_file_over_the_import_limit_is_refused_and_stores_nothing(app, make_app, organizer, petition):
    client = make_app(IMPORT_MAX_BYTES=1024).test_client()
    login(client)
    rows = "".join(f"individual,Person {number},PE\n" for number in range(100))

    response = upload(client, petition.slug, "kind,name,country\n" + rows)

    assert response.status_code == 413
    assert count_signatures_stored(app) == 0
