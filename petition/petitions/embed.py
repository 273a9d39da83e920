"""The frameable widget: title, count, progress and a short sign form that works inside another
site's ``<iframe>``.

Its form posts to ``/p/<slug>/embed/sign`` with the same session-less form token as the petition
page's (see :mod:`petition.signing.form_token`, which says why), in a field of its own,
``embed_token``. The fields are checked by the main form's :class:`SignatureForm` and stored by
:func:`petition.signing.services.sign`: the rules are the same ones.
"""

import logging

from flask import current_app, render_template, request
from markupsafe import escape

from ..extensions import csrf, limiter
from ..http_cache import COUNTS_MAX_AGE, public_cacheable
from ..models import count_signatures
from ..sharing import absolute_url, petition_url, share_links
from ..signing import services
from ..signing.form_token import form_is_genuine, make_form_token
from ..signing.forms import SignatureForm
from .routes import bp, get_petition_or_404, progress_percent, see_other, signing_terms

log = logging.getLogger(__name__)

EMBED_SOURCE = "embed"
RESULTS = ("signed", "already", "check-email")
SNIPPET = (
    '<iframe src="{src}" title="{title}" width="100%" height="860" loading="lazy" '
    'style="max-width: 30rem; border: 0;"></iframe>'
)


def render_widget(petition, form, status: int = 200, refused: bool = False):
    """The widget, with ``form`` fresh or carrying its errors, and a fresh form token."""
    counts = count_signatures(petition)
    page = render_template(
        "petitions/embed.html",
        petition=petition,
        form=form,
        counts=counts,
        progress=progress_percent(counts, petition),
        link=petition_url(petition, source=EMBED_SOURCE),
        embed_token=make_form_token(petition.slug),
        refused=refused,
    )
    return page, status


@bp.app_template_global()
def embed_snippet(petition) -> str:
    """The HTML an organizer pastes into another site to show the widget."""
    src = absolute_url("petitions.embed", slug=petition.slug)
    return SNIPPET.format(src=escape(src), title=escape(petition.title))


def sign_limit():
    return current_app.config["RATELIMIT_SIGN"]


@bp.get("/p/<slug>/embed")
def embed(slug):
    petition = get_petition_or_404(slug)
    form = SignatureForm(formdata=None, source=EMBED_SOURCE)
    page, _ = render_widget(petition, form)
    response = current_app.make_response(page)
    response.vary.update(("Accept-Language", "Cookie"))
    return public_cacheable(response, COUNTS_MAX_AGE)


@bp.post("/p/<slug>/embed/sign")
@csrf.exempt
@limiter.limit(sign_limit)
def embed_sign(slug):
    terms = signing_terms(slug)  # the whole petition only to show the widget again
    form = SignatureForm()
    if not form_is_genuine(request.form.get("embed_token"), slug):
        log.warning("embed form refused on %s: bad or old token, or foreign origin", slug)
        # What was typed comes back with a fresh token: a visitor whose form grew old signs again.
        return render_widget(get_petition_or_404(slug), form, status=400, refused=True)
    if not terms.is_open:
        return see_other("petitions.embed", slug=slug)
    if not form.validate():
        return render_widget(get_petition_or_404(slug), form, status=422)
    if form.caught_in_honeypot:
        # Answer as for a real signature, so the bot learns nothing; store nothing.
        log.info("honeypot filled in the embed on %s; signature dropped", slug)
        result = "check-email" if terms.requires_confirmation else "signed"
        return see_other("petitions.embed_thanks", slug=slug, result=result)
    fields = form.signature_fields()
    fields["source"] = fields["source"] or EMBED_SOURCE
    signed = services.sign(terms, fields, locale=form.ui_language, ip=request.remote_addr)
    if terms.requires_confirmation:
        # New or repeat, the answer is the same: what differs goes to the address by email.
        result = "check-email"
    else:
        result = "signed" if signed.created else "already"
    return see_other("petitions.embed_thanks", slug=slug, result=result)


@bp.get("/p/<slug>/embed/thanks")
def embed_thanks(slug):
    """Thanks inside the frame; the petition and the share links open in a new tab."""
    petition = get_petition_or_404(slug)
    result = request.args.get("result")
    return render_template(
        "petitions/embed_thanks.html",
        petition=petition,
        result=result if result in RESULTS else "signed",
        counts=count_signatures(petition),
        share_links=share_links(petition),
        link=petition_url(petition, source=EMBED_SOURCE),
    )
