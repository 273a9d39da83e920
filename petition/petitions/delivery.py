"""Delivering a petition: a printable page and a PDF with the statement, the count, and the
organizations that signed in public."""

import logging

from flask import current_app, render_template
from flask_babel import get_locale
from sqlalchemy import func

from ..cache import cached
from ..countries import country_name
from ..extensions import db
from ..models import Signature, count_signatures, utcnow
from ..sharing import petition_url, site_origin
from . import bp, services
from .pages import get_petition_or_404, terms_of
from .translations import localized

log = logging.getLogger(__name__)


def listed_organizations(petition) -> list[Signature]:
    """Organizations counted on ``petition`` that agreed to be named, by name."""
    query = (
        Signature.listed(petition)
        .where(Signature.kind == Signature.ORGANIZATION)
        .order_by(func.lower(Signature.name), Signature.id)
    )
    return db.session.scalars(query).all()


def delivery_sheet(petition) -> dict:
    """What the printed page and the PDF show: the statement, the count (final once the petition
    has closed), the organizations by name and how many others signed."""
    counts = count_signatures(petition)
    organizations = listed_organizations(petition)
    # The statement in the reader's language when it is translated, as on the petition page.
    statement = localized(petition)
    return {
        "petition": petition,
        "statement": statement,
        "body": services.render_body(statement),
        "counts": counts,
        "organizations": organizations,
        # Counted but not named: they asked not to be listed, or an organizer hid them.
        "unlisted_organizations": max(0, counts["organizations"] - len(organizations)),
        "closed": not petition.is_open,
        "as_of": utcnow(),
        "url": petition_url(petition),
        "country_name": country_name,
    }


@bp.get("/p/<slug>/print")
def print_page(slug):
    petition = get_petition_or_404(slug)
    return render_template("petitions/print.html", **delivery_sheet(petition))


@bp.get("/p/<slug>/print.pdf")
def print_pdf(slug):
    """The delivery sheet as a PDF, built at most once every ``PAGE_CACHE_SECONDS`` per version
    of the petition and language in each worker: building one takes a fraction of a second."""
    terms = terms_of(slug)
    key = ("print.pdf", terms.id, terms.version, str(get_locale()), site_origin())

    def build():
        petition = get_petition_or_404(slug)
        log.info("PDF of %s built", petition.slug)
        from .pdf import petition_pdf  # fpdf2 is slow to import: only when a PDF is asked for

        return petition_pdf(delivery_sheet(petition))

    data = cached(key, current_app.config["PAGE_CACHE_SECONDS"], build)
    response = current_app.response_class(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{slug}.pdf"'
    return response
