"""Signing a petition: the form posts here; Post/Redirect/Get to the thank-you page."""

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
    signature, created = services.sign(
        petition, form.signature_fields(), locale=str(get_locale()), ip=request.remote_addr
    )
    db.session.commit()
    if created:
        flash(_("Thank you, %(name)s: your signature is counted.", name=signature.name), "success")
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
    petition = get_petition_or_404(slug)
    return render_template(
        "signing/thanks.html",
        petition=petition,
        counts=count_signatures(petition),
        share_links=share_links(petition),
        share_url=petition_url(petition, source="link"),
    )
