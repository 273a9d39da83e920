"""Organizers: accounts from the command line, login and logout, the dashboard, the CSV export."""

import csv
import datetime as dt
import io
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.models import Organizer, Signature
from petition.organizers import export

from .conftest import ORGANIZER_EMAIL, ORGANIZER_PASSWORD, csrf_token, login, sign, valid_fields
from .support import store_signature, table_rows, texts

CSV_HEADER = (
    "id,created_at,kind,name,email,country,city,affiliation,contact_name,website,comment,"
    "public,updates,status,confirmed_at,source"
)
FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"]
WRONG_CREDENTIALS = "That email address and password do not match an account."


def stored_organizers(app) -> list[Organizer]:
    with app.app_context():
        rows = db.session.scalars(select(Organizer).order_by(Organizer.id)).all()
        db.session.expunge_all()
        return rows


def post_login(client, email, password, next_url=None):
    target = "/admin/login" + (f"?next={quote(next_url, safe='')}" if next_url is not None else "")
    token = csrf_token(client.get(target).get_data(as_text=True))
    return client.post(target, data={"csrf_token": token, "email": email, "password": password})


def error_messages(response) -> list[str]:
    return texts(response.get_data(as_text=True), "error-message")


def download(client, slug):
    response = client.get(f"/admin/p/{slug}/export.csv")
    assert response.status_code == 200, response.status_code
    return response


def csv_rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


# `flask organizer create`


def test_organizer_create_reads_the_password_from_stdin(app, runner, client):
    result = runner.invoke(
        args=["organizer", "create", "New.Organizer@Example.org"], input="a good long password\n"
    )
    assert result.exit_code == 0, result.output
    assert "a good long password" not in result.output
    [organizer] = stored_organizers(app)
    assert organizer.email == "new.organizer@example.org"
    response = post_login(client, "new.organizer@example.org", "a good long password")
    assert response.status_code == 303


@pytest.mark.parametrize("password", ["", "short", "12345678901"])
def test_organizer_create_refuses_a_short_password(app, runner, password):
    result = runner.invoke(args=["organizer", "create", "someone@example.org"], input=password + "\n")
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert "12 characters" in result.output
    assert "Traceback" not in result.output
    assert stored_organizers(app) == []


def test_organizer_create_again_sets_a_new_password(app, runner, client):
    runner.invoke(args=["organizer", "create", "someone@example.org"], input="the first password\n")
    runner.invoke(args=["organizer", "create", "someone@example.org"], input="the second password\n")
    assert len(stored_organizers(app)) == 1
    assert post_login(client, "someone@example.org", "the first password").status_code == 422
    assert post_login(client, "someone@example.org", "the second password").status_code == 303


def test_password_is_stored_as_an_scrypt_hash(app, organizer):
    [stored] = stored_organizers(app)
    assert stored.password_hash.startswith("scrypt:")
    assert ORGANIZER_PASSWORD not in stored.password_hash
    assert stored.check_password(ORGANIZER_PASSWORD)
    assert not stored.check_password(ORGANIZER_PASSWORD + "!")


# Login and logout


def test_login_with_the_right_password_goes_to_the_dashboard(client, organizer):
    response = login(client)
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_login_email_is_not_case_sensitive(client, organizer):
    assert post_login(client, ORGANIZER_EMAIL.upper(), ORGANIZER_PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("email", "password"),
    [
        (ORGANIZER_EMAIL, "not the password at all"),
        ("nobody@example.org", ORGANIZER_PASSWORD),
        ("nobody@example.org", "not the password at all"),
    ],
    ids=["wrong-password", "unknown-email", "both-wrong"],
)
def test_failed_login_gives_one_message_and_422(client, organizer, email, password):
    response = post_login(client, email, password)
    assert response.status_code == 422
    assert [WRONG_CREDENTIALS in message for message in error_messages(response)] == [True]
    assert client.get("/admin/").status_code == 302


def test_wrong_password_and_unknown_email_pages_are_alike(client, organizer):
    wrong_password = post_login(client, ORGANIZER_EMAIL, "not the password at all")
    unknown_email = post_login(client, "nobody@example.org", "not the password at all")
    assert error_messages(wrong_password) == error_messages(unknown_email)


@pytest.mark.parametrize("path", ["/admin/", "/admin/p/{slug}"])
def test_anonymous_admin_page_redirects_to_login_with_next(client, petition, path):
    path = path.format(slug=petition.slug)
    response = client.get(path)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/admin/login"
    assert parse_qs(location.query)["next"] == [path]


def test_anonymous_csv_export_is_401_without_data(app, client, petition):
    store_signature(app, petition.slug, email="private@example.org")
    response = client.get(f"/admin/p/{petition.slug}/export.csv")
    assert response.status_code == 401
    body = response.get_data(as_text=True)
    assert "private@example.org" not in body
    assert not body.startswith("id,")


def test_login_follows_an_on_site_next(client, organizer, petition):
    response = post_login(client, ORGANIZER_EMAIL, ORGANIZER_PASSWORD, next_url=f"/admin/p/{petition.slug}")
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == f"/admin/p/{petition.slug}"


OFF_SITE = [
    "//evil.example",
    "///evil.example",
    "https://evil.example",
    "https://evil.example/admin/",
    "http:evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "evil.example",
]


@pytest.mark.parametrize("next_url", OFF_SITE)
def test_login_never_redirects_off_site(client, organizer, next_url):
    response = post_login(client, ORGANIZER_EMAIL, ORGANIZER_PASSWORD, next_url=next_url)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert urlsplit(location).netloc in ("", "localhost")
    assert urlsplit(location).path == "/admin/"


@pytest.mark.parametrize("next_url", OFF_SITE)
def test_logged_in_visit_to_login_never_redirects_off_site(client, organizer, next_url):
    login(client)
    response = client.get(f"/admin/login?next={quote(next_url, safe='')}")
    assert response.status_code in (302, 303)
    assert urlsplit(response.headers["Location"]).path == "/admin/"


def test_logout_is_post_only(client, organizer):
    login(client)
    assert client.get("/admin/logout").status_code == 405
    assert client.get("/admin/").status_code == 200


def test_logout_by_post_ends_the_session(client, organizer):
    login(client)
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    response = client.post("/admin/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert client.get("/admin/").status_code == 302


def test_logout_without_csrf_token_is_refused(client, organizer):
    login(client)
    assert client.post("/admin/logout").status_code == 400
    assert client.get("/admin/").status_code == 200


def test_login_post_without_csrf_token_is_refused(client, organizer):
    response = client.post("/admin/login", data={"email": ORGANIZER_EMAIL, "password": ORGANIZER_PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


# Dashboard


def test_dashboard_shows_counts_of_confirmed_signatures(app, client, organizer, petition):
    store_signature(app, petition.slug)
    store_signature(app, petition.slug)
    store_signature(app, petition.slug, kind=Signature.ORGANIZATION, contact_name="Rosa")
    store_signature(app, petition.slug, status=Signature.PENDING)
    login(client)
    rows = table_rows(client.get("/admin/").get_data(as_text=True))
    [row] = [row for row in rows if row and row[0].startswith(petition.title)]
    assert row[1:4] == ["3", "1", "2"]


def test_petition_dashboard_shows_counts_and_signer_emails(app, client, organizer, petition):
    store_signature(app, petition.slug, email="ana@example.org")
    store_signature(app, petition.slug, status=Signature.PENDING, email="pending@example.org")
    login(client)
    html = client.get(f"/admin/p/{petition.slug}").get_data(as_text=True)
    assert "ana@example.org" in html
    assert "pending@example.org" in html
    assert f"/admin/p/{petition.slug}/export.csv" in html


# CSV export


def test_export_header_row_is_the_contract_columns_then_ours(client, organizer, petition):
    login(client)
    response = download(client, petition.slug)
    assert response.mimetype == "text/csv"
    header = response.data.decode("utf-8-sig").split("\r\n")[0]
    assert header == CSV_HEADER + ",invalidation_category,invalidation_reason,statement_version"
    assert "attachment" in response.headers["Content-Disposition"]


def test_export_is_streamed(client, organizer, petition):
    login(client)
    assert download(client, petition.slug).is_streamed


def test_export_has_one_row_per_signature_whatever_its_status(app, client, organizer, petition):
    ids = [
        store_signature(app, petition.slug),
        store_signature(app, petition.slug, public=False),
        store_signature(app, petition.slug, status=Signature.PENDING),
        store_signature(app, petition.slug, status=Signature.REJECTED),
        store_signature(app, petition.slug, kind=Signature.ORGANIZATION, contact_name="Rosa"),
    ]
    login(client)
    rows = csv_rows(download(client, petition.slug).data)
    assert [int(row["id"]) for row in rows] == ids
    assert [row["status"] for row in rows] == ["confirmed", "confirmed", "pending", "rejected", "confirmed"]


def test_export_across_batches_has_every_row_once(app, client, organizer, petition, monkeypatch):
    monkeypatch.setattr(export, "BATCH", 3)
    ids = [store_signature(app, petition.slug) for _ in range(7)]
    login(client)
    data = download(client, petition.slug).data
    assert data.count(CSV_HEADER.encode()) == 1
    assert [int(row["id"]) for row in csv_rows(data)] == ids


def test_export_cells_follow_the_contract(app, client, organizer, petition):
    store_signature(
        app,
        petition.slug,
        kind=Signature.ORGANIZATION,
        name="Sindicato Unitario",
        email="Contact@Sutep.example.org",
        country="PE",
        city="Cusco",
        contact_name="Rosa Mamani",
        website="https://sutep.example.org",
        comment="¡Solidaridad!",
        public=True,
        updates=False,
        source="whatsapp",
    )
    store_signature(app, petition.slug, public=False, updates=True, status=Signature.PENDING)
    login(client)
    first, second = csv_rows(download(client, petition.slug).data)
    assert first["kind"] == "organization"
    assert first["name"] == "Sindicato Unitario"
    assert first["email"] == "Contact@Sutep.example.org"
    assert first["country"] == "PE"
    assert first["city"] == "Cusco"
    assert first["contact_name"] == "Rosa Mamani"
    assert first["website"] == "https://sutep.example.org"
    assert first["comment"] == "¡Solidaridad!"
    assert (first["public"], first["updates"]) == ("yes", "no")
    assert (second["public"], second["updates"]) == ("no", "yes")
    assert first["source"] == "whatsapp"
    assert second["confirmed_at"] == ""


def test_export_timestamps_are_iso_8601_utc(app, client, organizer, petition):
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    store_signature(app, petition.slug)
    after = dt.datetime.now(dt.UTC)
    login(client)
    [row] = csv_rows(download(client, petition.slug).data)
    for column in ("created_at", "confirmed_at"):
        moment = dt.datetime.fromisoformat(row[column])
        assert moment.utcoffset() == dt.timedelta(0), row[column]
        assert before <= moment <= after, row[column]


def test_export_source_is_the_link_the_signer_arrived_by(app, client, organizer, petition):
    sign(client, petition.slug, "?source=telegram", **valid_fields(email="tg@example.org"))
    sign(client, petition.slug, "", **valid_fields(email="direct@example.org"))
    login(client)
    rows = csv_rows(download(client, petition.slug).data)
    assert [(row["email"], row["source"]) for row in rows] == [
        ("tg@example.org", "telegram"),
        ("direct@example.org", ""),
    ]


@pytest.mark.parametrize("column", ["name", "comment", "city", "affiliation"])
@pytest.mark.parametrize("start", FORMULA_STARTS, ids=repr)
def test_export_neutralizes_formula_cells(app, client, organizer, petition, start, column):
    value = start + 'HYPERLINK("https://evil.example","x")'
    store_signature(app, petition.slug, **{column: value})
    login(client)
    [row] = csv_rows(download(client, petition.slug).data)
    assert row[column] == "'" + value


def test_export_keeps_ordinary_cells_as_they_are(app, client, organizer, petition):
    store_signature(app, petition.slug, name="Ana-María Quispe", comment="100% with you", city="O'Higgins")
    login(client)
    [row] = csv_rows(download(client, petition.slug).data)
    assert (row["name"], row["comment"], row["city"]) == ("Ana-María Quispe", "100% with you", "O'Higgins")


def test_export_round_trips_utf8_names(app, client, organizer, petition):
    names = ["José Núñez", "Ñusta Mamani", "Zoë Ångström", "Дарья", "李华"]
    for name in names:
        store_signature(app, petition.slug, name=name)
    login(client)
    rows = csv_rows(download(client, petition.slug).data)
    assert [row["name"] for row in rows] == names


def test_export_of_an_unknown_petition_is_404(client, organizer):
    login(client)
    assert client.get("/admin/p/no-such-petition/export.csv").status_code == 404


# `flask signatures export`


def test_signatures_export_command_writes_the_same_csv_as_the_download(
    app, client, runner, organizer, petition, tmp_path
):
    store_signature(app, petition.slug, name="José Núñez", comment="=1+1")
    store_signature(app, petition.slug, name="Union", kind=Signature.ORGANIZATION, contact_name="Ñusta")
    store_signature(app, petition.slug, status=Signature.PENDING, public=False)
    login(client)
    downloaded = download(client, petition.slug).data
    target = tmp_path / "signatures.csv"

    result = runner.invoke(args=["signatures", "export", petition.slug, "-o", str(target)])

    assert result.exit_code == 0, result.output
    assert target.read_bytes() == downloaded


def test_signatures_export_command_writes_to_stdout_without_o(app, runner, petition):
    store_signature(app, petition.slug, name="Ñusta Mamani")
    result = runner.invoke(args=["signatures", "export", petition.slug])
    assert result.exit_code == 0
    [row] = csv_rows(result.stdout_bytes)
    assert row["name"] == "Ñusta Mamani"


def test_signatures_export_of_an_unknown_slug_is_a_clean_error(runner, tmp_path):
    target = tmp_path / "signatures.csv"
    result = runner.invoke(args=["signatures", "export", "no-such-petition", "-o", str(target)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert "no-such-petition" in result.output
    assert "Traceback" not in result.output
    assert not target.exists()
