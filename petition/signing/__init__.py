"""Signing: the sign forms (the petition page's and the widget's), the thank-you pages, and the
links emailed to signers."""

from flask import Blueprint

bp = Blueprint("signing", __name__)

from . import links, proof, routes  # noqa: E402,F401
