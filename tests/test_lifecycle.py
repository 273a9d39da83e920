"""A petition's life: organizers create and edit it in the dashboard, feature it, close it; a
closed petition keeps its final count and refuses signatures; the printable page and the PDF
carry the statement, the count and the organizations that signed in public."""

import datetime as dt
import re
import zlib

import pytest
from sqlalchemy import func, select

from petition.extensions import db
from petition.models import Petition, Signature, utcnow
from petition.organizers.editor_forms import PetitionForm

from .conftest import csrf_token, login, sign, signatures, valid_fields
from .support import store_signature, texts

NEW = "/admin/petitions/new"
TITLE = "Solidaridad con el pueblo del Perú"
DERIVED_SLUG = "solidaridad-con-el-pueblo-del-peru"


def editor_fields(**overrides) -> dict:
    """What an organizer types into the editor for a new petition; None leaves a field out."""
    fields = {
        "title": TITLE,
        "slug": "",
        "subtitle": "Una declaración de solidaridad\n\nCon las familias de las víctimas",
        "issuer": "Comité de Solidaridad",
        "published_on": "2024-05-01",
        "source_url": "https://example.org/declaracion",
        "body": "## Por qué\n\nEl pueblo peruano se levantó en *diciembre*.",
        "demands": "¡LIBERTAD A LOS PRESOS!\n\n¡ELECCIONES YA!\n",
        "goal": "500",
        "closes_at": "",
        "save": "Save",
    }
    fields.update(overrides)
    return {key: value for key, value in fields.items() if value is not None}


def post_editor(client, path: str, **fields):
    """Open the editor at ``path``, then post it back with its CSRF token, as a browser does."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    data = {"csrf_token": csrf_token(page.get_data(as_text=True))} | editor_fields(**fields)
    return client.post(path, data=data)


def petition_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Petition))


def stored(app, slug: str) -> Petition | None:
    with app.app_context():
        petition = db.session.scalar(select(Petition).where(Petition.slug == slug))
        db.session.expunge_all()
        return petition


def set_closes_at(app, slug: str, moment) -> None:
    with app.app_context():
        db.session.scalar(select(Petition).where(Petition.slug == slug)).closes_at = moment
        db.session.commit()


@pytest.fixture
def admin(client, organizer):
    """A client logged in as an organizer."""
    assert login(client).status_code == 303
    return client


@pytest.fixture
def cached_app(make_app):
    """An app that reuses rendered pages for minutes."""
    return make_app(PAGE_CACHE_SECONDS=300)


# Creating and editing


def test_new_petition_is_published_listed_and_in_the_api(app, admin, runner):
    response = post_editor(admin, NEW)

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/p/{DERIVED_SLUG}")
    page = admin.get(f"/p/{DERIVED_SLUG}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert TITLE in html and "¡ELECCIONES YA!" in html and "<em>diciembre</em>" in html
    petition = stored(app, DERIVED_SLUG)
    assert petition.demands == ["¡LIBERTAD A LOS PRESOS!", "¡ELECCIONES YA!"]
    assert petition.subtitle == "Una declaración de solidaridad\nCon las familias de las víctimas"
    assert petition.published_on == dt.date(2024, 5, 1)
    listing = runner.invoke(args=["petition", "list"])
    assert f"{DERIVED_SLUG}\t{TITLE}\topen" in listing.output
    api = admin.get(f"/api/v1/petitions/{DERIVED_SLUG}").get_json()
    assert (api["title"], api["goal"], api["open"]) == (TITLE, 500, True)


def test_dashboard_links_to_a_new_petition_and_to_editing_each(admin, petition):
    html = admin.get("/admin/").get_data(as_text=True)
    assert f'href="{NEW}"' in html
    assert f'href="/admin/p/{petition.slug}/edit"' in html


def test_edit_form_shows_the_stored_values(admin, petition):
    html = admin.get(f"/admin/p/{petition.slug}/edit").get_data(as_text=True)
    assert f'value="{petition.slug}"' in html
    assert "END THE STATE OF EMERGENCY NOW!\nRELEASE OF ALL PRISONERS!" in html


def test_edit_shows_at_once_on_a_cached_petition_page(cached_app, organizer, petition):
    visitor, organizer_client = cached_app.test_client(), cached_app.test_client()
    assert petition.title in visitor.get(f"/p/{petition.slug}").get_data(as_text=True)
    login(organizer_client)

    response = post_editor(
        organizer_client, f"/admin/p/{petition.slug}/edit", slug=petition.slug, title="A changed title"
    )

    assert response.status_code == 303
    html = visitor.get(f"/p/{petition.slug}").get_data(as_text=True)
    assert "A changed title" in html and petition.title not in html


def test_edit_can_change_the_address(app, admin, petition):
    response = post_editor(admin, f"/admin/p/{petition.slug}/edit", slug="solidarity-with-peru")

    assert response.status_code == 303
    assert stored(app, petition.slug) is None
    assert stored(app, "solidarity-with-peru").id == petition.id
    assert admin.get("/p/solidarity-with-peru").status_code == 200


def test_edit_refuses_an_address_another_petition_has(app, admin, petition):
    assert post_editor(admin, NEW, slug="second-petition").status_code == 303

    response = post_editor(admin, "/admin/p/second-petition/edit", slug=petition.slug, title="Changed")

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Another petition already has this address" in html
    assert 'id="slug-error"' in html and 'aria-invalid="true"' in html
    assert stored(app, "second-petition").title == TITLE


def test_new_petition_refuses_a_title_whose_address_is_taken(app, admin, petition):
    response = post_editor(admin, NEW, title="Solidarity with the Peruvian people")

    assert response.status_code == 422
    assert 'id="slug-error"' in response.get_data(as_text=True)
    assert petition_count(app) == 1


def test_an_address_taken_after_the_check_is_refused_and_overwrites_nothing(
    app, admin, petition, monkeypatch
):
    # As if another organizer created the petition between the form's check and the save.
    monkeypatch.setattr(PetitionForm, "validate_slug", lambda form, field: None)

    response = post_editor(admin, NEW, slug=petition.slug, title="Overwritten?")

    assert response.status_code == 422
    assert 'id="slug-error"' in response.get_data(as_text=True)
    assert stored(app, petition.slug).title == petition.title
    assert petition_count(app) == 1


@pytest.mark.parametrize("slug", ["Has Spaces", "double--hyphen", "-leading", "ñandú", "a/b", "x" * 81])
def test_editor_refuses_a_malformed_address(app, admin, slug):
    response = post_editor(admin, NEW, slug=slug)

    assert response.status_code == 422
    assert 'id="slug-error"' in response.get_data(as_text=True)
    assert petition_count(app) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("goal", "0"),
        ("goal", "-3"),
        ("goal", "abc"),
        ("goal", "1.5"),
        ("goal", ""),
        ("goal", "10000000000"),
        ("closes_at", "31/12/2030"),
        ("closes_at", "tomorrow"),
        ("closes_at", "2020-01-01T10:00"),
        ("title", ""),
        ("body", ""),
        ("source_url", "javascript:alert(1)"),
        ("published_on", "1 May"),
    ],
)
def test_new_petition_with_a_bad_value_is_refused_beside_its_field(app, admin, field, value):
    response = post_editor(admin, NEW, **{field: value})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert f'href="#{field}"' in html  # the error summary links to the field
    assert petition_count(app) == 0


def test_a_closing_time_in_the_past_on_edit_closes_the_petition(app, admin, petition):
    response = post_editor(
        admin, f"/admin/p/{petition.slug}/edit", slug=petition.slug, closes_at="2024-03-01T12:00"
    )

    assert response.status_code == 303
    assert stored(app, petition.slug).closes_at == dt.datetime(2024, 3, 1, 12, 0)
    assert admin.get(f"/api/v1/petitions/{petition.slug}").get_json()["open"] is False


def test_a_future_closing_time_is_stored_in_utc_and_keeps_the_petition_open(app, admin):
    closes = (utcnow() + dt.timedelta(days=30)).replace(second=0, microsecond=0)

    assert post_editor(admin, NEW, closes_at=closes.strftime("%Y-%m-%dT%H:%M")).status_code == 303

    assert stored(app, DERIVED_SLUG).closes_at == closes
    assert stored(app, DERIVED_SLUG).is_open


# Preview


def test_preview_renders_markdown_and_escapes_raw_html(admin):
    token = csrf_token(admin.get(NEW).get_data(as_text=True))
    body = (
        '<script>alert("x")</script>\n\n**firm** <img src=x onerror=alert(1)>\n\n[bad](javascript:alert(1))'
    )

    response = admin.post("/admin/preview", data={"body": body}, headers={"X-CSRFToken": token})

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "<strong>firm</strong>" in html
    assert "&lt;script&gt;" in html and "<script" not in html
    assert "<img" not in html and 'href="javascript:' not in html


def test_preview_button_shows_the_statement_and_stores_nothing(app, admin):
    response = post_editor(admin, NEW, body="**Bold** <b>raw</b>", preview="Preview", save=None)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<strong>Bold</strong> &lt;b&gt;raw&lt;/b&gt;" in html
    assert petition_count(app) == 0


# Featured


def test_make_featured_changes_where_the_home_page_leads(app, admin, petition):
    assert post_editor(admin, NEW).status_code == 303
    assert admin.get("/").headers["Location"].endswith(f"/p/{petition.slug}")  # the first stays featured
    token = csrf_token(admin.get(f"/admin/p/{DERIVED_SLUG}/edit").get_data(as_text=True))

    response = admin.post(f"/admin/p/{DERIVED_SLUG}/feature", data={"csrf_token": token})

    assert response.status_code == 303
    assert admin.get("/").headers["Location"].endswith(f"/p/{DERIVED_SLUG}")
    assert stored(app, petition.slug).featured is False


# Access


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", NEW),
        ("post", NEW),
        ("get", "/admin/p/{slug}/edit"),
        ("post", "/admin/p/{slug}/edit"),
        ("post", "/admin/p/{slug}/feature"),
        ("post", "/admin/preview"),
    ],
)
def test_editor_sends_anonymous_visitors_to_the_login_page(app, client, petition, method, path):
    # A valid token (any visitor gets one) gets past the CSRF check to the login check.
    token = csrf_token(client.get("/admin/login").get_data(as_text=True))

    response = getattr(client, method)(
        path.format(slug=petition.slug), data={"csrf_token": token, "title": "x"}
    )

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")
    assert stored(app, petition.slug).title == petition.title


@pytest.mark.parametrize("path", [NEW, "/admin/p/{slug}/edit", "/admin/p/{slug}/feature", "/admin/preview"])
def test_editor_posts_without_a_csrf_token_are_refused(app, admin, petition, path):
    response = admin.post(path.format(slug=petition.slug), data=editor_fields(title="Forged"))

    assert response.status_code == 400
    assert petition_count(app) == 1 and stored(app, petition.slug).title == petition.title


# Closed petitions


def test_closed_petition_shows_its_final_count_and_closing_date_without_a_form(app, client, petition):
    for _ in range(2):
        store_signature(app, petition.slug)
    set_closes_at(app, petition.slug, dt.datetime(2024, 3, 1, 12, 0))

    html = client.get(f"/p/{petition.slug}").get_data(as_text=True)

    assert texts(html, "closed-notice") == ["The petition closed on March 1, 2024. Final count: 2 signatures"]
    assert f'action="/p/{petition.slug}/sign"' not in html
    assert client.get(f"/api/v1/petitions/{petition.slug}").get_json()["open"] is False


@pytest.mark.parametrize("kind", ["individual", "organization"])
def test_signing_a_closed_petition_is_refused_politely_and_stores_nothing(app, client, petition, kind):
    page = sign(client, petition.slug, **valid_fields(email="before@example.org"))
    assert page.status_code == 303
    token = csrf_token(client.get(f"/p/{petition.slug}").get_data(as_text=True))
    set_closes_at(app, petition.slug, utcnow() - dt.timedelta(minutes=1))
    fields = valid_fields(kind=kind, email="late@example.org", contact_name="Rosa")

    response = client.post(f"/p/{petition.slug}/sign", data={"csrf_token": token, **fields})

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/p/{petition.slug}")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "This petition is closed and no longer takes signatures." in texts(html, "flash")[0]
    assert [row.email for row in signatures(app)] == ["before@example.org"]


# The printable page and the PDF


def signed_by_organizations(app, slug):
    store_signature(
        app,
        slug,
        kind=Signature.ORGANIZATION,
        name="Colectivo José María Arguedas",
        city="Cusco",
        country="PE",
    )
    store_signature(app, slug, kind=Signature.ORGANIZATION, name="Asociación Ñuñoa", country="CL")
    store_signature(app, slug, kind=Signature.ORGANIZATION, name="Quiet Union", public=False)
    store_signature(app, slug, kind=Signature.ORGANIZATION, name="Waiting Union", status=Signature.PENDING)
    store_signature(app, slug, name="Ana Quispe")
    store_signature(app, slug, name="Private Person", public=False)


def test_print_page_has_the_statement_the_counts_and_the_public_organizations(app, client, petition):
    signed_by_organizations(app, petition.slug)

    response = client.get(f"/p/{petition.slug}/print")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert petition.title in html and "END THE STATE OF EMERGENCY NOW!" in html
    assert "Executive Bureau of the Fourth International" in html
    assert "Signatures so far" in html and "5 signatures" in html
    assert texts(html, "print-organization-name") == ["Asociación Ñuñoa", "Colectivo José María Arguedas"]
    assert "Cusco, Peru" in html
    assert "And 1 organization not listed by name." in html
    assert "2 individuals signed the petition." in html
    assert "Quiet Union" not in html and "Waiting Union" not in html and "Ana Quispe" not in html


def test_print_page_of_a_closed_petition_gives_the_final_count(app, client, petition):
    store_signature(app, petition.slug)
    set_closes_at(app, petition.slug, dt.datetime(2024, 3, 1, 12, 0))

    html = client.get(f"/p/{petition.slug}/print").get_data(as_text=True)

    assert "Final count" in html and "1 signature" in html
    assert "The petition closed on March 1, 2024." in html


def test_petition_page_and_organizer_dashboard_link_to_the_print_page_and_pdf(admin, petition):
    for path in (f"/p/{petition.slug}", f"/admin/p/{petition.slug}"):
        html = admin.get(path).get_data(as_text=True)
        assert f'href="/p/{petition.slug}/print"' in html
        assert f'href="/p/{petition.slug}/print.pdf"' in html


def test_pdf_is_a_pdf_that_names_the_organizations_with_their_accents(app, client, petition):
    signed_by_organizations(app, petition.slug)

    response = client.get(f"/p/{petition.slug}/print.pdf")

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-") and response.data.rstrip().endswith(b"%%EOF")
    text = pdf_text(response.data)
    assert "Colectivo José María Arguedas — Cusco, Peru" in text
    assert "Asociación Ñuñoa — Chile" in text
    assert petition.title in text and "END THE STATE OF EMERGENCY NOW!" in text
    assert "5 signatures" in text and "2 individuals signed the petition." in text
    assert "Quiet Union" not in text and "Ana Quispe" not in text


def test_pdf_of_an_unknown_petition_is_not_found(client):
    assert client.get("/p/no-such-petition/print.pdf").status_code == 404


# Reading text back out of a PDF


PDF_OBJECT = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
# A font change, a move to a new baseline (x y Td), or a string shown (Tj).
PDF_TEXT = re.compile(rb"/(F\d+)\s+[\d.]+\s+Tf|[\d.]+\s+([\d.]+)\s+Td|\(((?:\\.|[^\\)])*)\)\s*Tj", re.S)
PDF_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def stream_of(body: bytes) -> bytes:
    head, _, rest = body.partition(b"stream")
    raw = rest[2:] if rest.startswith(b"\r\n") else rest[1:]
    raw = raw.rsplit(b"endstream", 1)[0]
    return zlib.decompressobj().decompress(raw) if b"/FlateDecode" in head else raw


def unescape_literal(literal: bytes) -> bytes:
    return re.sub(rb"\\(.)", lambda m: PDF_ESCAPES.get(m.group(1), m.group(1)), literal, flags=re.S)


def pdf_text(data: bytes) -> str:
    """The text a PDF shows, a line per baseline. fpdf2 writes the numbers of glyphs in a font
    subset, not letters: each font's ToUnicode map turns them back into text."""
    objects = {int(number): body for number, body in PDF_OBJECT.findall(data)}
    unicode_maps = {}
    for number, body in objects.items():
        to_unicode = re.search(rb"/ToUnicode (\d+) 0 R", body)
        if to_unicode:
            cmap = stream_of(objects[int(to_unicode.group(1))])
            pairs = re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", cmap.split(b"beginbfchar", 1)[1])
            unicode_maps[number] = {
                int(code, 16): bytes.fromhex(text.decode()).decode("utf-16-be") for code, text in pairs
            }
    fonts = {
        name.decode(): unicode_maps.get(int(ref)) for name, ref in re.findall(rb"/(F\d+) (\d+) 0 R", data)
    }
    pages = [int(number) for number in re.findall(rb"/Contents (\d+) 0 R", data)]
    lines, line, font, baseline = [], [], None, None
    for number in pages:
        for match in PDF_TEXT.finditer(stream_of(objects[number])):
            if match.group(1):
                font = fonts.get(match.group(1).decode())
            elif match.group(2):
                if baseline is None or abs(float(match.group(2)) - baseline) > 1:
                    lines.append("".join(line))
                    line, baseline = [], float(match.group(2))
            elif font is not None:
                raw = unescape_literal(match.group(3))
                codes = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
                line.append("".join(font.get(code, "?") for code in codes))
    return "\n".join([*lines, "".join(line)])
