"""Signing a petition: the form posts here; Post/Redirect/Get to the thank-you page."""

import logging

from flask import Blueprint, current_app, flash, render_template, request
from flask_babel import gettext as _

from ..extensions import csrf, limiter
from ..models import count_signatures
from ..petitions.routes import get_petition_or_404, render_petition_page, see_other, signing_terms
from ..sharing import petition_url, share_links
from . import services
from .form_token import FIELD, form_is_genuine
from .forms import SignatureForm

bp = Blueprint("signing", __name__)
log = logging.getLogger(__name__)


def sign_limit():
    return current_app.config["RATELIMIT_SIGN"]


@bp.post("/p/<slug>/sign")
@csrf.exempt  # the form's own token instead of the session's: see form_token.py
@limiter.limit(sign_limit)
def sign(slug):
    # The hot path of a viral petition: a few cached columns of the petition, the form, two
    # INSERTs. The whole petition is loaded only to show the page again with its errors.
    terms = signing_terms(slug)
    if not terms.is_open:
        flash(_("This petition is closed and no longer takes signatures."), "info")
        return see_other("petitions.show", slug=slug)
    form = SignatureForm()
    if not form_is_genuine(request.form.get(FIELD), slug):
        log.warning("sign form refused on %s: bad or old token, or foreign origin", slug)
        # What was typed comes back with a fresh token: a visitor whose form grew old signs again.
        return render_petition_page(get_petition_or_404(slug), form, status=400, refused=True)
    if not form.validate():
        return render_petition_page(get_petition_or_404(slug), form, status=422)
    if form.caught_in_honeypot:
        # Answer as for a real signature, so the bot learns nothing; store nothing.
        log.info("honeypot filled on %s; signature dropped", slug)
        target = "signing.check_email" if terms.requires_confirmation else "signing.thanks"
        return see_other(target, slug=slug)
    signed = services.sign(terms, form.signature_fields(), locale=form.ui_language, ip=request.remote_addr)
    if terms.requires_confirmation:
        # New or repeat, the answer is the same: what differs goes to the address by email.
        return see_other("signing.check_email", slug=slug)
    if signed.created:
        flash(_("Thank you, %(name)s: your signature is counted.", name=signed.name), "success")
    else:
        flash(
            _(
                "This email address has already signed this petition, so nothing was added: "
                "each address counts once."
            ),
            "info",
        )
    return see_other("signing.thanks", slug=slug)


@bp.get("/p/<slug>/thanks")
def thanks(slug):
    return thanks_page(slug, check_email=False)


@bp.get("/p/<slug>/check-email")
def check_email(slug):
    return thanks_page(slug, check_email=True)


def thanks_page(slug, check_email: bool):
    """Thanks, and sharing; after a signature that waits for confirmation, where to look."""
    petition = get_petition_or_404(slug)
    return render_template(
        "signing/thanks.html",
        check_email=check_email,
        petition=petition,
        counts=count_signatures(petition),
        share_links=share_links(petition),
        share_url=petition_url(petition, source="link"),
    )


from . import links  # noqa: E402,F401 - registers the emailed-link routes on bp
