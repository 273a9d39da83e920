"""The public JSON API: the contract's fields exactly, counts of confirmed signatures only."""

import datetime as dt

import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.models import Petition, Signature

from .support import store_signature, texts

SUMMARY_FIELDS = {"slug", "title", "url", "goal", "open", "counts"}
# Beside the contract's fields: whether its organizers archived it (then it is not listed).
ADDED_FIELDS = {"archived"}
# The same facts under their OSDI names, next to the contract's (tests/test_embed_api.py).
OSDI_FIELDS = {
    "identifiers",
    "origin_system",
    "browser_url",
    "total_signatures",
    "created_date",
    "modified_date",
}
COUNT_FIELDS = {"total", "individuals", "organizations"}
ORGANIZATION = {"kind": Signature.ORGANIZATION, "contact_name": "Rosa Mamani"}


def store_mixed_signatures(app, slug):
    """Three individuals and two organizations counted, in three countries; four not counted."""
    store_signature(app, slug, country="PE")
    store_signature(app, slug, country="PE")
    store_signature(app, slug, country="AR", public=False)
    store_signature(app, slug, country="PE", **ORGANIZATION)
    store_signature(app, slug, country="BR", **ORGANIZATION)
    store_signature(app, slug, country="PE", status=Signature.PENDING)
    store_signature(app, slug, country="CL", status=Signature.PENDING, **ORGANIZATION)
    store_signature(app, slug, country="CL", status=Signature.REJECTED)
    store_signature(app, slug, country="PE", status=Signature.REJECTED, **ORGANIZATION)


def test_petition_list_is_json_with_the_contract_fields(client, petition):
    response = client.get("/api/v1/petitions")
    assert response.status_code == 200
    assert response.is_json
    [item] = response.json["petitions"]
    assert set(item) == SUMMARY_FIELDS | ADDED_FIELDS | OSDI_FIELDS
    assert item["slug"] == petition.slug
    assert item["title"] == petition.title
    assert item["url"] == f"http://localhost/p/{petition.slug}"
    assert item["goal"] == 10000
    assert item["open"] is True
    assert item["counts"] == {"total": 0, "individuals": 0, "organizations": 0}


def test_petition_list_is_empty_without_petitions(client):
    assert client.get("/api/v1/petitions").json == {"petitions": []}


def test_petition_detail_is_json_with_the_contract_fields(client, petition):
    response = client.get(f"/api/v1/petitions/{petition.slug}")
    assert response.status_code == 200
    assert response.is_json
    data = response.json
    assert set(data) == SUMMARY_FIELDS | ADDED_FIELDS | OSDI_FIELDS | {"by_country", "record"}
    assert set(data["counts"]) == COUNT_FIELDS
    assert data["record"]["invalidated"] == data["record"]["awaiting_confirmation"] == 0
    assert data["slug"] == petition.slug
    assert data["url"] == f"http://localhost/p/{petition.slug}"
    assert data["by_country"] == {}


def test_api_counts_only_confirmed_signatures(app, client, petition):
    store_mixed_signatures(app, petition.slug)
    data = client.get(f"/api/v1/petitions/{petition.slug}").json
    assert data["counts"] == {"total": 5, "individuals": 3, "organizations": 2}
    assert data["by_country"] == {"PE": 3, "AR": 1, "BR": 1}
    [item] = client.get("/api/v1/petitions").json["petitions"]
    assert item["counts"] == data["counts"]


def test_api_counts_agree_with_the_petition_page_and_the_public_list(app, client, petition):
    for _ in range(3):
        store_signature(app, petition.slug)
    for _ in range(2):
        store_signature(app, petition.slug, **ORGANIZATION)
    store_signature(app, petition.slug, status=Signature.PENDING)
    store_signature(app, petition.slug, status=Signature.REJECTED, **ORGANIZATION)
    counts = client.get(f"/api/v1/petitions/{petition.slug}").json["counts"]

    page = client.get(f"/p/{petition.slug}").get_data(as_text=True)
    assert texts(page, "count-total")[0].startswith(f"{counts['total']} ")
    listed = client.get(f"/p/{petition.slug}/signatories").get_data(as_text=True)
    assert len(texts(listed, "signatory-individual")) == counts["individuals"] == 3
    assert len(texts(listed, "signatory-organization")) == counts["organizations"] == 2
    assert len(texts(listed, "signatory-name")) == counts["total"]


def test_api_says_a_closed_petition_is_not_open(app, client, petition):
    with app.app_context():
        stored = db.session.scalar(select(Petition).where(Petition.slug == petition.slug))
        stored.closes_at = dt.datetime(2020, 1, 1)
        db.session.commit()
    assert client.get(f"/api/v1/petitions/{petition.slug}").json["open"] is False


def test_api_url_follows_base_url(make_app, petition):
    other = make_app(BASE_URL="https://sign.example.org")
    data = other.test_client().get(f"/api/v1/petitions/{petition.slug}").json
    assert data["url"] == f"https://sign.example.org/p/{petition.slug}"


@pytest.mark.parametrize("path", ["/api/v1/petitions/no-such-petition", "/api/v1/nothing-here"])
def test_api_404_is_json(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.is_json
    assert response.json["status"] == 404


def test_api_refuses_other_methods_with_json(client, petition):
    response = client.post(f"/api/v1/petitions/{petition.slug}")
    assert response.status_code == 405
    assert response.is_json
