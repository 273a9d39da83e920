"""Signing a petition: the form posts here; Post/Redirect/Get to the thank-you page."""

import logging

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from ..extensions import db, limiter
from ..models import count_signatures
from ..petitions.routes import get_petition_or_404, render_petition_page
from ..sharing import petition_url, share_links
from . import services
from .forms import SignatureForm

bp = Blueprint("signing", __name__)
log = logging.getLogger(__name__)


def sign_limit():
    return current_app.config["RATELIMIT_SIGN"]


@bp.post("/p/<slug>/sign")
@limiter.limit(sign_limit)
def sign(slug):
    petition = get_petition_or_404(slug)
    form = SignatureForm(petition=petition)
    if not petition.is_open:
        flash(_("This petition is closed and no longer takes signatures."), "info")
        return redirect(url_for("petitions.show", slug=slug), code=303)
    if not form.validate():
        return render_petition_page(petition, form, status=422)
    if form.caught_in_honeypot:
        # Answer as for a real signature, so the bot learns nothing; store nothing.
        log.info("honeypot filled on %s; signature dropped", petition.slug)
        target = "signing.check_email" if petition.requires_confirmation else "signing.thanks"
        return redirect(url_for(target, slug=slug), code=303)
    confirms_by_email = petition.requires_confirmation
    signature, created = services.sign(
        petition, form.signature_fields(), locale=str(get_locale()), ip=request.remote_addr
    )
    name = signature.name
    db.session.commit()  # what was read before it stays valid: no reload after the commit
    if confirms_by_email:
        # New or repeat, the answer is the same: what differs goes to the address by email.
        return redirect(url_for("signing.check_email", slug=slug), code=303)
    if created:
        flash(_("Thank you, %(name)s: your signature is counted.", name=name), "success")
    else:
        flash(
            _(
                "This email address has already signed this petition, so nothing was added: "
                "each address counts once."
            ),
            "info",
        )
    return redirect(url_for("signing.thanks", slug=slug), code=303)


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
