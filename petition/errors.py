"""Error pages: a template for each, JSON for the API; the 500 handler rolls back."""

import logging
import time

from flask import render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from .extensions import db, limiter

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.endswith((".csv", ".json"))


def error_headers(error: HTTPException) -> list[tuple[str, str]]:
    """The headers ``error`` carries (``Allow`` on a 405, ``WWW-Authenticate`` on a 401), without
    the content type of werkzeug's own page, which the page rendered here replaces."""
    return [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]


def render_error(error: HTTPException):
    """The error's page (JSON for the API and the downloads), with the error's own headers."""
    if wants_json():
        return {"error": error.name, "status": error.code}, error.code, error_headers(error)
    messages = {
        400: _("The request could not be understood. Please go back and try again."),
        403: _("You are not allowed to do that."),
        404: _("There is no page at this address."),
        405: _("That is not something this page can do."),
        413: _("What you sent is too large."),
        429: _("Too many requests from your connection. Please wait a minute and try again."),
        500: _("Something went wrong on our side. Nothing you did caused it; please try again."),
    }
    titles = {
        400: _("Bad request"),
        403: _("Not allowed"),
        404: _("Page not found"),
        405: _("Not possible here"),
        413: _("Too large"),
        429: _("Too many requests"),
        500: _("Something went wrong"),
    }
    message = messages.get(error.code, error.description)
    title = titles.get(error.code, error.name)
    page = render_template("errors/error.html", error=error, title=title, message=message)
    return page, error.code, error_headers(error)


def retry_after() -> int | None:
    """Seconds until the rate limit that refused this request lets its sender in again."""
    limit = limiter.current_limit
    if limit is None:
        return None
    try:
        reset_at = limit.reset_at
    except Exception:  # noqa: BLE001 - the storage went away since the check: the 429 goes out bare
        log.warning("rate limit storage unreachable; 429 sent without Retry-After")
        return None
    return max(1, int(reset_at - time.time()))  # whole seconds, as Flask-Limiter renders it


def handle_too_many_requests(error):
    """The 429 page, with ``Retry-After``."""
    body, status, headers = render_error(error)
    seconds = retry_after()
    return body, status, dict(headers) | ({"Retry-After": str(seconds)} if seconds else {})


def register(app):
    @app.errorhandler(HTTPException)
    def handle_http_error(error):
        return render_error(error)

    @app.errorhandler(SecurityError)
    def handle_untrusted_host(error):
        # A Host that TRUSTED_HOSTS refuses: no address of the site can be built for it, so no
        # page of the site either; plain text, which does not repeat the host it was sent.
        message = _("This site does not answer to that host name.")
        return message, error.code, {"Content-Type": "text/plain; charset=utf-8"}

    app.register_error_handler(429, handle_too_many_requests)

    @app.errorhandler(InternalServerError)
    def handle_server_error(error):
        db.session.rollback()
        log.error("server error on %s %s", request.method, request.path)
        return render_error(error)
