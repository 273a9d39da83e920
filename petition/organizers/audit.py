"""The audit record: what organizers did with the signers' data and with accounts."""

from flask_login import current_user

from ..extensions import db
from ..models import AuditEvent

# The actor of what is done with the ``flask`` command line, where nobody is logged in.
COMMAND_LINE = "command line"


def current_actor() -> str:
    """The address of the logged-in organizer, or an empty string outside a login."""
    return current_user.email if current_user and current_user.is_authenticated else ""


def record(action: str, petition=None, rows: int | None = None, organizer=None, **detail) -> AuditEvent:
    """Add a record of ``action`` by ``organizer`` (the logged-in one unless given) to the
    session, to be committed with what it records. ``detail`` holds filters, counts and
    account addresses, never a signer's data."""
    if organizer is None and current_user and current_user.is_authenticated:
        organizer = current_user
    event = AuditEvent(
        organizer_id=organizer.id if organizer is not None else None,
        actor=organizer.email if organizer is not None else detail.pop("actor", ""),
        action=action,
        petition_id=petition.id if petition is not None else None,
        rows=rows,
        detail=detail,
    )
    db.session.add(event)
    return event


def record_export(
    petition, file_format: str, filters: dict, rows: int, organizer=None, **detail
) -> AuditEvent:
    """Record a download of ``petition``'s signatures: its format (``csv``, ``xlsx``), the
    filters it was asked with, and how many rows it holds."""
    chosen = {name: str(value) for name, value in filters.items() if value}
    return record(f"export.{file_format}", petition, rows=rows, organizer=organizer, filters=chosen, **detail)
