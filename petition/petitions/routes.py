"""Public pages of a petition: the statement and form, the signatories, QR code, embed."""

import dataclasses
import hashlib
import io
import secrets

import segno
from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from sqlalchemy import func, select

from ..cache import cached
from ..countries import country_choices, country_name
from ..database import database_answers
from ..extensions import db
from ..http_cache import COUNTS_MAX_AGE, DOCUMENT_MAX_AGE, public_cacheable
from ..mail.status import age_seconds, oldest_waiting_confirmation
from ..models import Petition, Signature, count_signatures
from ..sharing import SITE_SOURCES, petition_url, site_origin
from ..signing.forms import SOURCE, SignatureForm, clean_source
from . import bp, services, translations
from . import signatories as signatory_list
from .pages import get_petition_or_404, render_petition_page, terms_of

# The sources the site's own links set each have a page of their own in the cache, as has no
# source at all; every other source shares one (see cacheable_page).
SHARED_SOURCES = frozenset((*SITE_SOURCES, ""))
# Stands for the source in the page shared by all other sources. Made of characters that
# clean_source allows, like any source, and unlike anything else on the page.
SOURCE_MARKER = f"source-{secrets.token_hex(8)}"


@dataclasses.dataclass(frozen=True)
class CachedPage:
    """A rendered petition page, in ``parts`` around each place its source goes."""

    parts: tuple[bytes, ...]
    etag: str


def cacheable_page(slug: str, source: str) -> tuple[bytes, str]:
    """The petition page for a visitor who came by ``?source=source`` (a :func:`clean_source`
    value), and its ETag: the same bytes for every such visitor (its form token is not theirs:
    see :mod:`petition.signing.form_token`).

    The page is rendered at most once every ``PAGE_CACHE_SECONDS`` per version of the petition,
    language and origin in each worker process for each of :data:`SHARED_SOURCES`, and once for
    every other source: with
    :data:`SOURCE_MARKER` where the source goes (the form's hidden ``source``, the language
    links), kept split around each marker and joined with the visitor's source on the way out.
    So a crawler that varies ``?source=`` makes no render and no entry of its own, and a
    signature still records the source its signer came by. The source goes in as it is: it
    matches :data:`~petition.signing.forms.SOURCE`, whose characters neither HTML nor a URL
    escapes; that is checked here, not assumed.
    """
    shared = source if source in SHARED_SOURCES else SOURCE_MARKER
    terms = terms_of(slug)
    key = ("page", terms.id, terms.version, str(get_locale()), shared, site_origin())

    def render():
        petition = get_petition_or_404(slug)
        page, _ = render_petition_page(petition, SignatureForm(formdata=None, source=shared))
        body = page.encode()
        etag = hashlib.sha1(body, usedforsecurity=False).hexdigest()
        return CachedPage(tuple(body.split(SOURCE_MARKER.encode())), etag)

    page = cached(key, current_app.config["PAGE_CACHE_SECONDS"], render)
    if shared == source:
        return page.parts[0], page.etag
    if not SOURCE.fullmatch(source):
        raise ValueError(f"{source!r} is not a clean source")
    return source.encode().join(page.parts), f"{page.etag}-{source}"


@bp.get("/")
def home():
    petition = services.featured_petition()
    if petition is None:
        return render_template("petitions/empty.html")
    return redirect(url_for("petitions.show", slug=petition.slug))


@bp.get("/p/<slug>")
def show(slug):
    source = clean_source(request.args.get("source"))
    if current_app.config["SESSION_COOKIE_NAME"] in request.cookies and session.get("_flashes"):
        # A message for this visitor alone: this page is theirs, not the shared one.
        petition = get_petition_or_404(slug)
        page, _ = render_petition_page(petition, SignatureForm(formdata=None, source=source))
        response = current_app.make_response(page)
        response.cache_control.private = True
        return response
    # Everyone else gets the shared page, which browsers and shared caches may keep a few
    # seconds (as long as the counts on it may be old): in a spike, a cache in front takes most.
    body, etag = cacheable_page(slug, source)
    response = current_app.response_class(body, mimetype="text/html")
    response.set_etag(etag)  # computed once with the page
    if "lang" in request.args:
        # A choice of language, remembered in this visitor's cookie: not for shared caches.
        response.cache_control.private = True
        return response.make_conditional(request)
    return public_cacheable(response, COUNTS_MAX_AGE)


def signatory_filters():
    """The list's ``kind`` (None for both) and ``country`` ("" for all) from the query string."""
    kind = request.args.get("kind")
    country = (request.args.get("country") or "").upper()
    return (kind if kind in Signature.KINDS else None), (
        country if country in dict(country_choices()) else ""
    )


@bp.get("/p/<slug>/signatories")
def signatories(slug):
    petition = get_petition_or_404(slug)
    kind, country = signatory_filters()
    query = Signature.listed(petition)
    if kind:
        query = query.where(Signature.kind == kind)
    if country:
        query = query.where(Signature.country == country)
    per_page = current_app.config["SIGNATORIES_PER_PAGE"]
    listed_max = current_app.config["SIGNATORIES_LISTED_MAX"]
    # Neither the count nor a page reads more than the newest ``listed_max`` rows of the filter.
    total = cached(
        ("listed", petition.id, kind, country),
        current_app.config["COUNTS_CACHE_SECONDS"],
        lambda: db.session.scalar(select(func.count()).select_from(query.limit(listed_max + 1).subquery())),
    )
    last_page = max(1, -(-min(total, listed_max) // per_page))
    number = min(max(request.args.get("page", 1, type=int), 1), last_page + 1)
    first = (number - 1) * per_page
    items = signatory_list.page_of_signatories(
        petition, kind, country, first, min(per_page, listed_max - first)
    )
    page = signatory_list.Page(number, per_page, min(total, listed_max), items)
    by_country = (
        [] if kind == Signature.INDIVIDUAL else signatory_list.organizations_by_country(petition, country)
    )
    return render_template(
        "petitions/signatories.html",
        petition=petition,
        page=page,
        sections=signatory_list.sections(page.items),
        kind=kind,
        country=country,
        counts=count_signatures(petition),
        organizations_by_country=by_country,
        more_than_listed=total > listed_max,
        listed_max=listed_max,
        countries=country_choices(),
        country_name=country_name,
    )


@bp.get("/p/<slug>/signatories.txt")
def signatories_text(slug):
    """The public list as plain text in the reader's language; ``?download=1`` as a file."""
    petition = get_petition_or_404(slug)
    title = translations.statement_for(petition, str(get_locale())).title
    response = current_app.response_class(
        signatory_list.signatories_text(petition, title), mimetype="text/plain"
    )
    response.headers["Content-Language"] = str(get_locale())
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="{petition.slug}-signatories.txt"'
    return response


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


@bp.get("/healthz/mail")
def healthz_mail():
    """200 while the oldest confirmation waiting in the outbox is younger than
    ``MAIL_HEALTH_MAX_AGE_SECONDS``, else 503: the sender is stopped or the SMTP server refuses."""
    limit = current_app.config["MAIL_HEALTH_MAX_AGE_SECONDS"]
    try:
        age = age_seconds(oldest_waiting_confirmation())
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
        return {"status": "database unavailable"}, 503
    late = age is not None and age > limit
    body = {"status": "late" if late else "ok", "oldest_waiting_seconds": age, "max_age_seconds": limit}
    return body, 503 if late else 200


@bp.get("/privacy")
def privacy():
    """Who holds the signers' data and how long each kind is kept, from the configuration."""
    config = current_app.config
    return render_template(
        "petitions/privacy.html",
        controller=config["DATA_CONTROLLER_NAME"],
        contact=config["DATA_CONTROLLER_CONTACT"] or config["MAIL_FROM"],
        # In whole days, rounded up: the page says such a signature goes "within" them.
        unconfirmed_days=-(-config["CONFIRM_TOKEN_MAX_AGE"] // (24 * 3600)),
        purge_days=config["PURGE_AFTER_DAYS"],
        open_ended_days=Petition.DEFAULT_RETENTION_DAYS,
        sent_mail_days=config["SENT_MAIL_RETENTION_DAYS"],
    )
