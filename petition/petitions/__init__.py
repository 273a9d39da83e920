"""Petitions: the public pages of a petition (the statement and its form, the signatories, the
QR code, the printable page and the PDF, the frameable widget, the versions of its text, its
share picture).

``pages`` holds what the sign views share with these (finding a petition, rendering the page or
the widget with a form); ``services`` the write side, and ``versions`` the texts people signed.
"""

from flask import Blueprint

bp = Blueprint("petitions", __name__)

from . import delivery, embed, routes, share_image, version_pages  # noqa: E402,F401
