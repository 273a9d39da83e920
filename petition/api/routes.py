"""The public JSON API, described by ``openapi.yaml`` at the repository root.

Each petition carries the contract's fields and, next to them, the same facts under the names
of the Open Supporter Data Interface (OSDI) where it has one, so tools built for OSDI read it.
Every answer may be kept a few seconds by browsers and shared caches, carries an ETag (304 to a
matching ``If-None-Match``), and may be read by scripts on any site (CORS): the data is public.
"""

import functools

from flask import current_app, request

from .. import config as settings
from ..extensions import db
from ..http_cache import COUNTS_MAX_AGE, DOCUMENT_MAX_AGE, public_cacheable
from ..models import Petition, count_by_country, count_signatures, public_record
from ..petitions.pages import get_petition_or_404
from ..sharing import petition_url
from . import bp

ORIGIN_SYSTEM = "solidarity-petition"
OPENAPI_FILE = settings.ROOT / "openapi.yaml"


def iso_utc(moment) -> str:
    """A stored UTC time as ISO 8601, e.g. ``2023-01-04T12:00:00Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def petition_summary(petition: Petition) -> dict:
    """A petition as the list and the detail give it: the contract's fields, then OSDI's."""
    counts = count_signatures(petition)
    url = petition_url(petition)
    return {
        "slug": petition.slug,
        "title": petition.title,
        "url": url,
        "goal": petition.goal,
        "open": petition.is_open,
        "archived": petition.archived_at is not None,
        "counts": counts,
        "identifiers": [f"petition:{petition.slug}"],
        "origin_system": ORIGIN_SYSTEM,
        "browser_url": url,
        "total_signatures": counts["total"],
        "created_date": iso_utc(petition.created_at),
        "modified_date": iso_utc(petition.updated_at),
    }


@bp.get("/petitions")
def list_petitions():
    # Archived petitions are left out; each still answers at its own address.
    petitions = db.session.scalars(Petition.listed().order_by(Petition.created_at, Petition.id))
    return {"petitions": [petition_summary(petition) for petition in petitions]}


@bp.get("/petitions/<slug>")
def show_petition(slug):
    petition = get_petition_or_404(slug)
    return json_in_written_order(
        petition_summary(petition)
        | {"by_country": count_by_country(petition), "record": public_record(petition)}
    )


def json_in_written_order(body: dict):
    """``body`` as a JSON answer whose keys keep the order they were written in: ``by_country``
    largest first, as documented. Flask's JSON provider sorts keys by default, and other answers
    keep that order; this one asks its ``dumps`` not to."""
    text = current_app.json.dumps(body, sort_keys=False)
    return current_app.response_class(text + "\n", mimetype=current_app.json.mimetype)


@bp.get("/petitions/<slug>/count")
def petition_count(slug):
    """Just the counts: small, for a page elsewhere that shows the number and asks often."""
    petition = get_petition_or_404(slug)
    counts = count_signatures(petition)
    return {"slug": petition.slug, "total_signatures": counts["total"], "counts": counts}


@functools.cache
def openapi_document() -> str:
    return OPENAPI_FILE.read_text(encoding="utf-8")


@bp.get("/openapi.yaml")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    response = current_app.response_class(openapi_document(), content_type="application/yaml; charset=utf-8")
    response.cache_control.max_age = DOCUMENT_MAX_AGE
    return response


@bp.after_request
def cache_answers(response):
    """Successful reads: public, briefly cacheable, with an ETag and 304 when unchanged."""
    if request.method in ("GET", "HEAD") and response.status_code == 200:
        return public_cacheable(response, response.cache_control.max_age or COUNTS_MAX_AGE)
    return response


@bp.after_app_request
def allow_any_origin(response):
    """Scripts on any site may read the API (nothing in it is private, no cookie is needed)."""
    if request.path.startswith("/api/"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = "ETag"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "If-None-Match"
            response.headers["Access-Control-Max-Age"] = "86400"
    return response
