"""Public pages of a petition: the statement and form, the signatories, QR code, embed."""

import io

import segno
from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from ..cache import TTLCache, cached
from ..countries import country_choices, country_name
from ..database import database_answers
from ..extensions import db
from ..http_cache import DOCUMENT_MAX_AGE, public_cacheable
from ..models import Petition, Signature, count_signatures
from ..sharing import absolute_url, petition_url, share_links, site_origin
from ..signing.forms import SignatureForm, clean_source
from . import services, translations

bp = Blueprint("petitions", __name__)


def get_petition_or_404(slug: str) -> Petition:
    petition = db.session.scalar(select(Petition).where(Petition.slug == slug))
    if petition is None:
        abort(404)
    return petition


def latest_signatories(petition, limit: int):
    query = Signature.listed(petition).order_by(Signature.id.desc()).limit(limit)
    return db.session.scalars(query).all()


def progress_percent(counts, petition) -> int:
    """How far the count has come towards the goal, 0 to 100."""
    return min(100, 100 * counts["total"] // petition.goal) if petition.goal > 0 else 100


def render_petition_page(petition, form, status=200, csrf_value=None):
    """The petition page, with ``form`` either fresh or carrying its errors."""
    counts = count_signatures(petition)
    statement = translations.statement_for(petition, str(get_locale()))
    page = render_template(
        "petitions/show.html",
        petition=petition,
        statement=statement,
        statement_languages=translations.statement_languages(petition),
        # The page is shared between visitors: its language links keep only what it depends on.
        chooser_path=url_for("petitions.show", slug=petition.slug),
        chooser_query={"source": clean_source(form.source.data)},
        form=form,
        csrf_value=csrf_value or generate_csrf(),
        body=services.render_body(statement),
        counts=counts,
        progress=progress_percent(counts, petition),
        latest=latest_signatories(petition, current_app.config["LATEST_SIGNATORIES"]),
        share_links=share_links(petition),
        canonical_url=petition_url(petition),
        share_image_url=absolute_url("static", filename="img/share.png"),
        share_url=petition_url(petition, source="link"),
        country_name=country_name,
    )
    return page, status


# The page is the same for every visitor but for the CSRF token, which goes in last.
CSRF_PLACEHOLDER = "__csrf_token_placeholder__"
_page_cache = TTLCache(maxsize=256)


def cacheable_page(slug: str, source: str) -> str:
    """The petition page with a placeholder for the CSRF token, rendered at most once every
    ``PAGE_CACHE_SECONDS`` per language, source and origin in each worker process."""
    key = (slug, str(get_locale()), source, site_origin())

    def render():
        petition = get_petition_or_404(slug)
        form = SignatureForm(petition=petition, formdata=None, source=source)
        page, _ = render_petition_page(petition, form, csrf_value=CSRF_PLACEHOLDER)
        return page

    return cached(_page_cache, key, current_app.config["PAGE_CACHE_SECONDS"], render)


@bp.get("/")
def home():
    petition = services.featured_petition()
    if petition is None:
        return render_template("petitions/empty.html")
    return redirect(url_for("petitions.show", slug=petition.slug))


@bp.get("/p/<slug>")
def show(slug):
    source = clean_source(request.args.get("source"))
    if session.get("_flashes"):
        # A message for this visitor alone: this page is theirs, not the shared one.
        petition = get_petition_or_404(slug)
        page, _ = render_petition_page(
            petition, SignatureForm(petition=petition, formdata=None, source=source)
        )
    else:
        page = cacheable_page(slug, source).replace(CSRF_PLACEHOLDER, generate_csrf())
    response = current_app.make_response(page)
    response.cache_control.private = True
    return response


@bp.get("/p/<slug>/signatories")
def signatories(slug):
    petition = get_petition_or_404(slug)
    kind = request.args.get("kind")
    country = (request.args.get("country") or "").upper()
    query = Signature.listed(petition)
    if kind in Signature.KINDS:
        query = query.where(Signature.kind == kind)
    else:
        kind = None
    if country in dict(country_choices()):
        query = query.where(Signature.country == country)
    else:
        country = ""
    # Organizations first, then individuals; newest first within each.
    query = query.order_by(Signature.kind.desc(), Signature.id.desc())
    page = db.paginate(
        query,
        per_page=current_app.config["SIGNATORIES_PER_PAGE"],
        max_per_page=current_app.config["SIGNATORIES_PER_PAGE"],
        error_out=False,
    )
    return render_template(
        "petitions/signatories.html",
        petition=petition,
        page=page,
        kind=kind,
        country=country,
        counts=count_signatures(petition),
        countries=country_choices(),
        country_name=country_name,
    )


@bp.get("/p/<slug>/qr.svg")
def qr_code(slug):
    petition = get_petition_or_404(slug)
    buffer = io.BytesIO()
    segno.make(petition_url(petition, source="qr"), error="m").save(
        buffer, kind="svg", scale=8, border=2, xmldecl=True, svgns=True, title=petition.title
    )
    response = current_app.response_class(buffer.getvalue(), mimetype="image/svg+xml")
    return public_cacheable(response, DOCUMENT_MAX_AGE)


@bp.get("/healthz")
def healthz():
    if database_answers():
        return {"status": "ok"}, 200
    return {"status": "database unavailable"}, 503


@bp.get("/privacy")
def privacy():
    return render_template("petitions/privacy.html", purge_days=current_app.config["PURGE_AFTER_DAYS"])


# These register more routes on bp: the printable page and the PDF, the embed widget.
from . import delivery, embed  # noqa: E402,F401
