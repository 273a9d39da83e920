"""The texts a petition's signers agreed to: the list of its versions, and each one readable."""

from flask import abort, current_app, render_template
from flask_babel import get_locale

from ..http_cache import COUNTS_MAX_AGE, DOCUMENT_MAX_AGE, public_cacheable
from . import bp, services, translations, versions
from .pages import get_petition_or_404

# The receipt and the confirmation email show the fingerprint of the text signed.
bp.add_app_template_global(versions.signed_fingerprint)


@bp.get("/p/<slug>/versions")
def versions_list(slug):
    petition = get_petition_or_404(slug)
    language = str(get_locale())
    current = translations.statement_for(petition, language)
    page = render_template(
        "petitions/versions.html",
        petition=petition,
        current=current,
        earlier=versions.earlier_versions(petition, language),
        fingerprint=versions.fingerprint,
    )
    # A change to the text adds a version: the list is kept no longer than the counts.
    return public_cacheable(current_app.make_response(page), COUNTS_MAX_AGE)


@bp.get("/p/<slug>/versions/<int:number>")
def version(slug, number):
    petition = get_petition_or_404(slug)
    text = versions.version_text(petition, number, str(get_locale()))
    if text is None:
        abort(404)
    page = render_template(
        "petitions/version.html",
        petition=petition,
        number=number,
        statement=text,
        body=services.render_body(text),
        fingerprint=versions.fingerprint(text),
    )
    # An earlier version never changes again; the current one may, at the next edit.
    max_age = COUNTS_MAX_AGE if number == petition.statement_version else DOCUMENT_MAX_AGE
    return public_cacheable(current_app.make_response(page), max_age)
