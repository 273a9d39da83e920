"""The frameable widget: title, count, progress and a short sign form that works inside another
site's ``<iframe>``.

Why the widget does not use the session's CSRF token
----------------------------------------------------
Inside a third-party iframe the browser does not send the session cookie (``SameSite=Lax``) and
refuses to store a new one, so Flask-WTF's token, which lives in the session, can never match. The
widget's form posts instead to ``/p/<slug>/embed/sign``, which is exempt from the session CSRF
check and protected by two things of its own:

- a form token signed with ``SECRET_KEY`` (itsdangerous, salt ``embed-form``) that names the
  petition and expires after ``EMBED_FORM_MAX_AGE`` (a day). A post that does not carry a token
  this site made for this petition, recently, is refused with 400 and stores nothing: blind
  cross-site posts and old forms replayed fail. Its timestamp is rounded down to a
  ``TOKEN_WINDOW``, so the widget is the same bytes for every visitor for a while and shared
  caches may keep it (the token is no secret: anyone can load the widget);
- the ``Origin`` header, which browsers send with every form post: when present it must name this
  site, the origin of the framed form itself. A page elsewhere that posts to the widget, even with
  a fresh token fetched by its server, is refused. (An ``<iframe sandbox>`` without
  ``allow-same-origin`` sends ``Origin: null`` and is refused too.)

There is no session to ride on: signing is anonymous and changes nothing that belongs to the
visitor. What remains possible, signing by script, is what the main form faces as well, and the
same defences apply: the signing rate limit (``RATELIMIT_SIGN``, counted for this route on its
own), the honeypot, one signature per address and, where the petition asks for it, confirmation
by email. The fields are checked by the main form's :class:`SignatureForm` (its session CSRF
turned off) and stored by :func:`petition.signing.services.sign`: the rules are the same ones.
"""

import logging
import time
from urllib.parse import urlsplit

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from markupsafe import escape

from ..extensions import csrf, db, limiter
from ..http_cache import COUNTS_MAX_AGE, public_cacheable
from ..models import count_signatures
from ..sharing import absolute_url, petition_url, share_links
from ..signing import services
from ..signing.forms import SignatureForm
from .routes import bp, get_petition_or_404, progress_percent

log = logging.getLogger(__name__)

EMBED_SOURCE = "embed"
TOKEN_SALT = "embed-form"  # noqa: S105 - a salt, not a secret
TOKEN_WINDOW = 600  # seconds
NO_SESSION_CSRF = {"csrf": False}
RESULTS = ("signed", "already", "check-email")
SNIPPET = (
    '<iframe src="{src}" title="{title}" width="100%" height="760" loading="lazy" '
    'style="max-width: 30rem; border: 0;"></iframe>'
)


class _WindowSigner(TimestampSigner):
    """Timestamps rounded down to ``TOKEN_WINDOW``: one token per petition and window."""

    def get_timestamp(self) -> int:
        now = int(time.time())
        return now - now % TOKEN_WINDOW


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT, signer=_WindowSigner)


def make_form_token(slug: str) -> str:
    """The token that the widget's form for petition ``slug`` carries."""
    return _serializer().dumps(slug)


def form_token_is_valid(token: str | None, slug: str) -> bool:
    """Whether ``token`` was made by this site for ``slug`` within ``EMBED_FORM_MAX_AGE``."""
    if not token:
        return False
    try:
        named = _serializer().loads(token, max_age=current_app.config["EMBED_FORM_MAX_AGE"])
    except (BadSignature, ValueError, TypeError):  # SignatureExpired is a BadSignature
        return False
    return named == slug


def posted_from_this_site() -> bool:
    """Whether the browser says the form was sent from a page of this site (no ``Origin``
    header: an older browser or a script, left to the token)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    hosts = {request.host}
    if current_app.config.get("BASE_URL"):
        hosts.add(urlsplit(current_app.config["BASE_URL"]).netloc)
    return urlsplit(origin).netloc in hosts


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
    form = SignatureForm(petition=petition, formdata=None, source=EMBED_SOURCE, meta=NO_SESSION_CSRF)
    page, _ = render_widget(petition, form)
    response = current_app.make_response(page)
    response.vary.update(("Accept-Language", "Cookie"))
    return public_cacheable(response, COUNTS_MAX_AGE)


@bp.post("/p/<slug>/embed/sign")
@csrf.exempt
@limiter.limit(sign_limit)
def embed_sign(slug):
    petition = get_petition_or_404(slug)
    form = SignatureForm(petition=petition, meta=NO_SESSION_CSRF)
    if not form_token_is_valid(request.form.get("embed_token"), slug) or not posted_from_this_site():
        log.warning("embed form refused on %s: bad or old token, or foreign origin", slug)
        # What was typed comes back with a fresh token: a visitor whose form grew old signs again.
        return render_widget(petition, form, status=400, refused=True)
    if not petition.is_open:
        return redirect(url_for("petitions.embed", slug=slug), code=303)
    if not form.validate():
        return render_widget(petition, form, status=422)
    if form.caught_in_honeypot:
        # Answer as for a real signature, so the bot learns nothing; store nothing.
        log.info("honeypot filled in the embed on %s; signature dropped", petition.slug)
        result = "check-email" if petition.requires_confirmation else "signed"
        return redirect(url_for("petitions.embed_thanks", slug=slug, result=result), code=303)
    fields = form.signature_fields()
    fields["source"] = fields["source"] or EMBED_SOURCE
    _, created = services.sign(petition, fields, locale=str(get_locale()), ip=request.remote_addr)
    db.session.commit()
    if petition.requires_confirmation:
        # New or repeat, the answer is the same: what differs goes to the address by email.
        result = "check-email"
    else:
        result = "signed" if created else "already"
    return redirect(url_for("petitions.embed_thanks", slug=slug, result=result), code=303)


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
