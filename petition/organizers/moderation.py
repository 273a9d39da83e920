"""Moderation: organizers find signatures and hide, reject, approve or restore them; every
action is logged with who and when."""

import datetime as dt
import logging

from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import ModerationEvent, Signature

log = logging.getLogger(__name__)

HIDE, REJECT, APPROVE, RESTORE = "hide", "reject", "approve", "restore"
ACTIONS = (APPROVE, HIDE, REJECT, RESTORE)
# Which states each action applies to; a signature in another state is left as it is.
APPLIES_TO = {
    APPROVE: (Signature.AWAITING_APPROVAL,),
    HIDE: (Signature.CONFIRMED,),
    REJECT: (Signature.PENDING, Signature.AWAITING_APPROVAL, Signature.CONFIRMED, Signature.HIDDEN),
    RESTORE: (Signature.HIDDEN, Signature.REJECTED),
}


def filtered_signatures(petition, status=None, kind=None, country=None, text=None, since=None, until=None):
    """A query for the signatures of ``petition`` matching the organizer's filters, newest first.

    ``text`` matches the name, the email address or its domain, case-insensitively.
    """
    query = select(Signature).where(Signature.petition_id == petition.id)
    if status in Signature.STATUSES:
        query = query.where(Signature.status == status)
    if kind in Signature.KINDS:
        query = query.where(Signature.kind == kind)
    if country:
        query = query.where(Signature.country == country.upper())
    if text:
        needle = text.strip().casefold()
        query = query.where(
            or_(
                func.lower(Signature.name).contains(needle, autoescape=True),
                Signature.email_key.contains(needle, autoescape=True),
            )
        )
    if since:
        query = query.where(Signature.created_at >= dt.datetime.combine(since, dt.time.min))
    if until:
        query = query.where(
            Signature.created_at < dt.datetime.combine(until, dt.time.min) + dt.timedelta(days=1)
        )
    return query.order_by(Signature.id.desc())


def restored_status(signature: Signature) -> str:
    """Where a hidden or rejected signature goes back to: counted once it was confirmed (or an
    organizer restores an organization, which approves it), else back to waiting."""
    if signature.confirmed_at is None and signature.petition.requires_confirmation:
        return Signature.PENDING
    return Signature.CONFIRMED


def moderate(petition, signature_ids, action: str, organizer) -> int:
    """Apply ``action`` to the given signatures of ``petition``; log it; return how many changed."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    signatures = db.session.scalars(
        select(Signature).where(
            Signature.petition_id == petition.id,
            Signature.id.in_(signature_ids),
            Signature.status.in_(APPLIES_TO[action]),
        )
    ).all()
    for signature in signatures:
        if action == RESTORE:
            signature.status = restored_status(signature)
        elif action == APPROVE:
            signature.status = Signature.CONFIRMED
        elif action == HIDE:
            signature.status = Signature.HIDDEN
        else:
            signature.status = Signature.REJECTED
    changed = [signature.id for signature in signatures]
    if changed:
        db.session.add(
            ModerationEvent(
                petition_id=petition.id,
                organizer_id=organizer.id,
                action=action,
                signature_count=len(changed),
                detail=" ".join(str(i) for i in changed)[:2000],
            )
        )
        log.info(
            "moderation petition=%s organizer=%s action=%s count=%s",
            petition.slug,
            organizer.id,
            action,
            len(changed),
        )
    db.session.flush()
    return len(changed)


def recent_events(petition, limit: int = 20):
    """The latest moderation actions on ``petition``."""
    return db.session.scalars(
        select(ModerationEvent)
        .where(ModerationEvent.petition_id == petition.id)
        .order_by(ModerationEvent.id.desc())
        .limit(limit)
    ).all()


def awaiting_approval_count(petition) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Signature)
        .where(Signature.petition_id == petition.id, Signature.status == Signature.AWAITING_APPROVAL)
    )
