"""HTTP caching of public answers (the API, the QR code, the embed widget): ``Cache-Control``,
an ETag of the body, and ``304 Not Modified`` to a client that already holds that body."""

from flask import request

# Counts move with every signature: browsers and shared caches may reuse them this long.
COUNTS_MAX_AGE = 5
# What changes only when a petition is edited (the QR code, the API description).
DOCUMENT_MAX_AGE = 3600


def public_cacheable(response, max_age: int):
    """Let browsers and shared caches keep ``response`` for ``max_age`` seconds; tag it with
    an ETag of its body and turn it into a 304 when ``If-None-Match`` names that ETag.

    ``Cache-Control`` is written whole, as one string: through werkzeug's parsed header object
    (parse, then serialize after each change) it cost the petition page a twentieth of its time.
    """
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.add_etag()
    return response.make_conditional(request)
