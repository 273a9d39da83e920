"""The two sign forms, the petition page's and the widget's, and the thank-you pages.

Both forms are taken by :func:`take_signature`, the same steps in the same order; they differ in
the name of their token field, the page they show again with errors, and where they go after.

``pages`` is imported as a module, not its names: the petition's pages show signing's form, so
each of the two packages loads the other, and a name may not be there yet when this one loads.
"""

import dataclasses
import logging

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..extensions import csrf, limiter
from ..http_cache import COUNTS_MAX_AGE, public_cacheable
from ..models import count_signatures
from ..petitions import pages
from ..petitions.versions import version_shown
from ..sharing import petition_url, share_links
from . import bp, proof, services
from .form_token import FIELD, genuine_form_age
from .forms import SignatureForm
from .tokens import make_address_hint_token, read_address_hint_token

log = logging.getLogger(__name__)

# What became of a signature that passed the checks (the widget's thanks page takes the last three).
CLOSED, SIGNED, ALREADY, CHECK_EMAIL = "closed", "signed", "already", "check-email"


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What :func:`take_signature` did: either ``page``, the form shown again (refused or with
    errors), or ``result``, one of the names above."""

    page: tuple | None = None
    result: str = ""
    email: str = ""  # the address typed, for the check-your-email page's hint


def take_signature(slug, token_field: str, show_form, default_source: str = "") -> Outcome:
    """The steps both sign forms take: the petition must be open, the form token genuine and
    the fields valid; a filled honeypot is answered like a signature but stores nothing.
    ``show_form(petition, form, status=, refused=)`` renders the form again."""
    # The hot path of a viral petition: a few columns of the petition, the form, the INSERTs.
    # The whole petition is loaded only to show the form again with its errors.
    terms = pages.terms_of(slug)
    if not terms.is_open:
        # First, whatever the token: a form left open past the closing time learns why at once.
        return Outcome(result=CLOSED)
    form = SignatureForm()
    form_age = genuine_form_age(request.form.get(token_field), slug)
    if form_age is None:
        log.warning("%s refused on %s: bad or old token, or foreign origin", token_field, slug)
        # What was typed comes back with a fresh token: a visitor whose form grew old signs again.
        return Outcome(page=show_form(pages.get_petition_or_404(slug), form, status=400, refused=True))
    if not form.validate():
        return Outcome(page=show_form(pages.get_petition_or_404(slug), form, status=422))
    if form.caught_in_honeypot:
        # Answer as for a real signature, so the bot learns nothing; store nothing.
        log.info("honeypot filled on %s; signature dropped", slug)
        if terms.requires_confirmation:
            return Outcome(result=CHECK_EMAIL, email=form.email.data)
        return Outcome(result=SIGNED)
    fields = form.signature_fields()
    fields["source"] = fields["source"] or default_source
    # The text the form was shown with: a signer who read a page of an older version agreed to
    # that one, and a change published while they filled in the form does not move them.
    fields["statement_version"] = version_shown(
        request.form.get("statement_version"), terms.statement_version
    )
    proof_missing = terms.asks_proof_of_work and not proof.proof_is_good(request.form.get(proof.FIELD))
    signed = services.sign(
        terms,
        fields,
        locale=form.ui_language,
        ip=request.remote_addr,
        form_age=form_age,
        proof_missing=proof_missing,
    )
    if terms.requires_confirmation:
        # New or repeat, the answer is the same: what differs goes to the address by email.
        return Outcome(result=CHECK_EMAIL, email=fields["email"])
    return Outcome(result=SIGNED if signed.created else ALREADY)


def sign_limit():
    return current_app.config["RATELIMIT_SIGN"]


@bp.post("/p/<slug>/sign")
@csrf.exempt  # the form's own token instead of the session's: see form_token.py
@limiter.limit(sign_limit)
def sign(slug):
    outcome = take_signature(slug, FIELD, pages.render_petition_page)
    if outcome.page is not None:
        return outcome.page
    if outcome.result == CLOSED:
        flash(_("This petition is closed and no longer takes signatures."), "info")
        return pages.see_other("petitions.show", slug=slug)
    if outcome.result == CHECK_EMAIL:
        # Not the address itself: a hint of it, signed and short-lived (see address_hint).
        location = url_for("signing.check_email", slug=slug, to=make_address_hint_token(outcome.email))
        return redirect(location, code=303)
    # The result goes in the address, not in a flash: signers get no cookie (a flash would put
    # their name in one), and the page after is the same for every signer with that result.
    return pages.see_other("signing.thanks", slug=slug, result=outcome.result)


@bp.post("/p/<slug>/embed/sign")
@csrf.exempt  # as the page's form: inside another site's frame there is no session at all
@limiter.limit(sign_limit)
def embed_sign(slug):
    outcome = take_signature(slug, "embed_token", pages.render_widget, default_source=pages.EMBED_SOURCE)
    if outcome.page is not None:
        return outcome.page
    if outcome.result == CLOSED:
        return pages.see_other("petitions.embed", slug=slug)  # the widget says it is closed
    return pages.see_other("petitions.embed_thanks", slug=slug, result=outcome.result)


@bp.get("/p/<slug>/thanks")
def thanks(slug):
    result = ALREADY if request.args.get("result") == ALREADY else SIGNED
    return thanks_page(slug, result)


@bp.get("/p/<slug>/check-email")
def check_email(slug):
    hint = read_address_hint_token(request.args.get("to"))
    if hint is None:
        return thanks_page(slug, CHECK_EMAIL)
    # This signer's page: no cache, shared or the browser's, may keep it.
    response = current_app.make_response(render_thanks(slug, CHECK_EMAIL, address_hint=hint))
    response.cache_control.no_store = True
    response.cache_control.private = True
    return response


def thanks_page(slug, result: str):
    """Thanks, and sharing; after a signature that waits for confirmation, where to look. The
    same for everyone who arrives with ``result``: caches may keep it as long as its count."""
    return public_cacheable(current_app.make_response(render_thanks(slug, result)), COUNTS_MAX_AGE)


def render_thanks(slug, result: str, address_hint: str | None = None) -> str:
    petition = pages.get_petition_or_404(slug)
    return render_template(
        "signing/thanks.html",
        result=result,
        address_hint=address_hint,
        petition=petition,
        counts=count_signatures(petition),
        share_links=share_links(petition),
        share_url=petition_url(petition, source="link"),
    )
