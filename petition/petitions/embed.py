"""The frameable widget: title, count, progress and a short sign form that works inside another
site's ``<iframe>``.

Its form posts to ``/p/<slug>/embed/sign`` (:func:`petition.signing.routes.embed_sign`), which
takes the signature the way the petition page's form does; this module shows the widget and
the thanks inside the frame.
"""

from flask import current_app, render_template, request
from markupsafe import escape

from ..http_cache import COUNTS_MAX_AGE, public_cacheable
from ..models import count_signatures
from ..sharing import absolute_url, petition_url, share_links
from ..signing.forms import SignatureForm
from . import bp
from .pages import EMBED_SOURCE, get_petition_or_404, render_widget

RESULTS = ("signed", "already", "check-email")
SNIPPET = (
    '<iframe src="{src}" title="{title}" width="100%" height="860" loading="lazy" '
    'style="max-width: 30rem; border: 0;"></iframe>'
)


@bp.app_template_global()
def embed_snippet(petition) -> str:
    """The HTML an organizer pastes into another site to show the widget."""
    src = absolute_url("petitions.embed", slug=petition.slug)
    return SNIPPET.format(src=escape(src), title=escape(petition.title))


@bp.get("/p/<slug>/embed")
def embed(slug):
    petition = get_petition_or_404(slug)
    form = SignatureForm(formdata=None, source=EMBED_SOURCE)
    page, _ = render_widget(petition, form)
    response = current_app.make_response(page)
    response.vary.update(("Accept-Language", "Cookie"))
    return public_cacheable(response, COUNTS_MAX_AGE)


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
