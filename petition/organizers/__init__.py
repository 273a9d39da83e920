"""The organizers' side, under ``/admin``: login, dashboards, the petition editor, moderation
and the downloads."""

from flask import Blueprint

bp = Blueprint("organizers", __name__)

from . import (  # noqa: E402,F401
    account,
    audit_views,
    export_views,
    import_views,
    integrity_views,
    invalidation_views,
    lifecycle,
    moderation_views,
    outbox_views,
    petition_editor,
    routes,
    team_views,
)
