"""The sign forms' token: signed, not tied to a session.

Why the sign forms do not use the session's CSRF token
------------------------------------------------------
Signing is anonymous and changes nothing that belongs to the visitor, so a session would protect
nothing of theirs; tying the form to one would cost every first-time visitor a cookie and a new
token, keep the page from being the same bytes for everyone (so no shared cache could hold it in
a spike), fail in the in-app browsers of messaging apps that drop cookies, and never work inside
another site's ``<iframe>``, where the browser does not send the session cookie
(``SameSite=Lax``). Both sign forms, the petition page's and the embed widget's, carry instead:

- a form token signed with ``SECRET_KEY`` (itsdangerous, salt ``sign-form``) that names the
  petition and expires after ``SIGN_FORM_MAX_AGE`` (a day). A post that does not carry a token
  this site made for this petition, recently, is refused with 400 and stores nothing: blind
  cross-site posts and old forms replayed fail. Its timestamp is rounded down to a
  ``TOKEN_WINDOW``, so a page is the same bytes for every visitor for a while (the token is no
  secret: anyone can load the page);
- the ``Origin`` header, which browsers send with every form post: when present it must name
  this site. A page elsewhere that posts to our form, even with a fresh token fetched by its
  server, is refused. (An ``<iframe sandbox>`` without ``allow-same-origin`` sends
  ``Origin: null`` and is refused too.)

What remains possible, signing by script, is met by the other defences: the signing rate limit
(``RATELIMIT_SIGN``), the honeypot, one signature per address and, where the petition asks for
it, confirmation by email. Logging in and everything organizers do keep Flask-WTF's session
token.
"""

import time
from urllib.parse import urlsplit

from flask import current_app, request
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

FIELD = "csrf_token"  # the main form's field, as the public interface names it
TOKEN_SALT = "sign-form"  # noqa: S105 - a salt, not a secret
TOKEN_WINDOW = 600  # seconds


class _WindowSigner(TimestampSigner):
    """Timestamps rounded down to ``TOKEN_WINDOW``: one token per petition and window."""

    def get_timestamp(self) -> int:
        now = int(time.time())
        return now - now % TOKEN_WINDOW


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT, signer=_WindowSigner)


def make_form_token(slug: str) -> str:
    """The token that a sign form for petition ``slug`` carries."""
    return _serializer().dumps(slug)


def form_token_is_valid(token: str | None, slug: str) -> bool:
    """Whether ``token`` was made by this site for ``slug`` within ``SIGN_FORM_MAX_AGE``."""
    return form_age(token, slug) is not None


def form_age(token: str | None, slug: str) -> int | None:
    """Seconds since the page of a form with ``token`` was made, if this site made it for
    ``slug`` within ``SIGN_FORM_MAX_AGE``; else None. The token's time is rounded down to its
    window, so the age is at least the real one, and at most ``TOKEN_WINDOW`` more."""
    if not token:
        return None
    secret = current_app.config["SECRET_KEY"]
    made = _genuine.get((secret, token))
    if made is None:
        try:
            named, made_at = _serializer().loads(token, return_timestamp=True)
        except (BadSignature, ValueError, TypeError):
            return None
        made = (named, made_at.timestamp())
        if len(_genuine) >= GENUINE_KEPT:
            _genuine.clear()
        _genuine[(secret, token)] = made
    named, made_at = made
    age = time.time() - made_at
    if named != slug or not 0 <= age <= current_app.config["SIGN_FORM_MAX_AGE"]:
        return None
    return int(age)


# Tokens already checked, with what they say: there is one per petition and window, and
# signatures in a spike all carry the same few. Only genuine tokens are kept.
GENUINE_KEPT = 256
_genuine: dict[tuple[str, str], tuple[str, float]] = {}


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


def form_is_genuine(token: str | None, slug: str) -> bool:
    """The whole check: a good token for ``slug``, sent from this site."""
    return form_token_is_valid(token, slug) and posted_from_this_site()


def genuine_form_age(token: str | None, slug: str) -> int | None:
    """:func:`form_age` of a form that passes :func:`form_is_genuine`; None for any other."""
    return form_age(token, slug) if posted_from_this_site() else None
