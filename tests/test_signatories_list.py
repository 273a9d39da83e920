"""The public list leads with the organizations, grouped by country with a count per country,
then the individuals; the same list as text, for a press release, in the reader's language."""

import pytest
from sqlalchemy import event

from petition.extensions import db as _db
from petition.models import Signature

from .support import store_signature, texts

ORGANIZATION = {"kind": Signature.ORGANIZATION, "contact_name": "Rosa"}


@pytest.fixture
def listed(app, petition):
    store_signature(app, petition.slug, name="Union Lima", country="PE", **ORGANIZATION)
    store_signature(app, petition.slug, name="Union Quito", country="EC", **ORGANIZATION)
    store_signature(app, petition.slug, name="Union Cusco", country="PE", **ORGANIZATION)
    store_signature(app, petition.slug, name="Ana Quispe", country="PE", affiliation="Teacher")
    store_signature(app, petition.slug, name="Bea Paz", country="AR")
    store_signature(app, petition.slug, name="Hidden Union", country="CL", public=False, **ORGANIZATION)
    store_signature(
        app,
        petition.slug,
        name="Waiting Union",
        country="CL",
        status=Signature.AWAITING_APPROVAL,
        **ORGANIZATION,
    )
    return petition


def test_organizations_come_first_grouped_by_country_with_their_count(client, listed):
    html = client.get(f"/p/{listed.slug}/signatories").get_data(as_text=True)

    assert texts(html, "signatory-name") == [
        "Union Quito",
        "Union Lima",
        "Union Cusco",
        "Bea Paz",
        "Ana Quispe",
    ]
    assert texts(html, "signatory-country") == ["Ecuador (1)", "Peru (2)"]
    summary = html[html.index('class="country-counts"') : html.index("</ul>", html.index("country-counts"))]
    assert "Peru</a>: 2 organizations" in summary and "Ecuador</a>: 1 organization" in summary
    assert summary.index("Peru") < summary.index("Ecuador")  # the largest first
    assert "Chile" not in summary  # neither a private nor an unapproved organization


def test_country_names_follow_the_readers_language(client, listed):
    html = client.get(f"/p/{listed.slug}/signatories", headers={"Accept-Language": "es"}).get_data(
        as_text=True
    )

    assert texts(html, "signatory-country") == ["Ecuador (1)", "Perú (2)"]


def test_pages_run_on_from_organizations_to_individuals(app, make_app, listed):
    client = make_app(SIGNATORIES_PER_PAGE=2).test_client()
    pages = [
        texts(client.get(f"/p/{listed.slug}/signatories?page={n}").get_data(as_text=True), "signatory-name")
        for n in (1, 2, 3, 4)
    ]
    assert pages == [["Union Quito", "Union Lima"], ["Union Cusco", "Bea Paz"], ["Ana Quispe"], []]


def test_a_page_reads_a_bounded_number_of_rows(app, client, listed):
    queries = []

    def record(_connection, _cursor, statement, *_args):
        queries.append(statement)

    with app.app_context():
        engine = _db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        client.get(f"/p/{listed.slug}/signatories")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    reads = [query for query in queries if "FROM signature" in query and "GROUP BY" not in query]
    assert reads and all("LIMIT" in query for query in reads)


def test_the_text_lists_organizations_by_country_then_individuals(client, listed):
    response = client.get(f"/p/{listed.slug}/signatories.txt")

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == listed.title
    assert lines[2:] == [
        "3 organizations · 2 countries",
        "",
        "Ecuador (1)",
        "Union Quito",
        "",
        "Peru (2)",
        "Union Lima",
        "Union Cusco",
        "",
        "2 individuals",
        "Bea Paz, Argentina",
        "Ana Quispe, Teacher, Peru",
    ]
    assert "Hidden" not in response.get_data(as_text=True)
    assert "Waiting" not in response.get_data(as_text=True)


def test_the_text_is_in_the_readers_language_and_downloads(client, listed):
    response = client.get(f"/p/{listed.slug}/signatories.txt?download=1", headers={"Accept-Language": "es"})

    text = response.get_data(as_text=True)
    assert "Perú (2)" in text and "Ana Quispe, Teacher, Perú" in text
    assert response.headers["Content-Disposition"] == f'attachment; filename="{listed.slug}-signatories.txt"'


def test_the_page_links_to_the_text(client, listed):
    html = client.get(f"/p/{listed.slug}/signatories").get_data(as_text=True)
    assert f'href="/p/{listed.slug}/signatories.txt"' in html


def test_the_text_of_an_unknown_petition_is_not_found(client):
    assert client.get("/p/nope/signatories.txt").status_code == 404
