"""HTTP caching of public answers (the API, the QR code, the embed widget): ``Cache-Control``,
an ETag of the body, and ``304 Not Modified`` to a client that already holds that body."""

from flask import request, session

# Counts move with every signature: browsers and shared caches may reuse them this long.
COUNTS_MAX_AGE = 5
# What changes only when a petition is edited (the QR code, the API description).
DOCUMENT_MAX_AGE = 3600


def public_cacheable(response, max_age: int):
    """Let browsers and shared caches keep ``response`` for ``max_age`` seconds; tag it with
    an ETag of its body and turn it into a 304 when ``If-None-Match`` names that ETag. Unless
    rendering it changed the visitor's session: then it is private.

    ``Cache-Control`` is written whole, as one string: through werkzeug's parsed header object
    (parse, then serialize after each change) it cost the petition page a twentieth of its time.
    """
    if session.modified:
        # It showed this visitor's own messages (a flash), and sets their cookie: theirs alone.
        response.headers["Cache-Control"] = "private"
        return response
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.add_etag()
    return response.make_conditional(request)
