"""Flask's signed-cookie sessions, without their cost for the visitors who have none.

Most requests in a spike come from people who have never been here: they read the petition and
sign it, and neither needs a session (see :mod:`petition.signing.form_token`). Flask builds a
signing serializer for every request before it even looks for the cookie; this interface looks
first, and builds the serializer only when there is a cookie to read; and when there is still
no session to send, it sends none without looking up the cookie's settings (nor, on the answer
to a form, a ``Vary: Cookie`` that no cache would read).
"""

from flask import request
from flask.sessions import SecureCookieSessionInterface


class SessionInterface(SecureCookieSessionInterface):
    def open_session(self, app, request):
        # ``in``, not ``get``: a missing key makes werkzeug's get raise and catch an HTTP error.
        name = self.get_cookie_name(app)
        if app.secret_key and (name not in request.cookies or not request.cookies[name]):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        if not session and not session.modified:
            # Only reads are cached: the answer to a form need not say what it depends on.
            if session.accessed and request.method in ("GET", "HEAD"):
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)
