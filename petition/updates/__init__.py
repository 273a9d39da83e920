"""Updates: news that organizers write once and send to every confirmed signer who asked for it.

``services`` holds the write side (drafts, starting, queueing one email per recipient),
``delivery`` what the mail sender needs (batches, the rate, the email's context), ``routes`` the
organizers' pages (under ``/admin``, beside the organizers' own) and ``unsubscribe`` the
signer's one-click way out.
"""

from flask import Blueprint

bp = Blueprint("updates", __name__)

from . import routes, unsubscribe  # noqa: E402,F401
