"""The organizers' side, under ``/admin``: login, dashboards, the petition editor, moderation
and the downloads."""

from flask import Blueprint

bp = Blueprint("organizers", __name__)

from . import export_views, integrity_views, moderation_views, petition_editor, routes  # noqa: E402,F401
