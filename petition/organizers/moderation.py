"""Moderation: organizers find signatures and hide, reject, approve or restore them; every
action goes to the audit record with who, when and how many (never which signers)."""

import datetime as dt
import logging
from collections import defaultdict

from sqlalchemy import func, or_, select, update

from ..extensions import db
from ..models import AuditEvent, Signature, SignatureCount
from . import audit

log = logging.getLogger(__name__)

HIDE, REJECT, APPROVE, RESTORE = "hide", "reject", "approve", "restore"
ACTIONS = (APPROVE, HIDE, REJECT, RESTORE)
MODERATION_PREFIX = "moderation."  # the audit record's actions: moderation.hide, …
# Which states each action applies to; a signature in another state is left as it is.
APPLIES_TO = {
    # Approving a suspect signature clears it: a moderator found it genuine.
    APPROVE: (Signature.AWAITING_APPROVAL, Signature.SUSPECT),
    HIDE: (Signature.CONFIRMED,),
    REJECT: (
        Signature.PENDING,
        Signature.AWAITING_APPROVAL,
        Signature.CONFIRMED,
        Signature.HIDDEN,
        Signature.SUSPECT,
    ),
    RESTORE: (Signature.HIDDEN, Signature.REJECTED),
}


def filtered_signatures(
    petition,
    status=None,
    kind=None,
    country=None,
    text=None,
    since=None,
    until=None,
    network=None,
    domain=None,
    in_email=True,
):
    """A query for the signatures of ``petition`` matching the organizer's filters, newest first.

    ``text`` matches the name or, with ``in_email``, the email address or its domain,
    case-insensitively; ``network`` (a network's short hash) and ``domain`` (an email domain)
    match exactly, as the surge report shows them.
    """
    query = select(Signature).where(Signature.petition_id == petition.id)
    if status in Signature.STATUSES:
        query = query.where(Signature.status == status)
    if kind in Signature.KINDS:
        query = query.where(Signature.kind == kind)
    if country:
        query = query.where(Signature.country == country.upper())
    if text:
        needle = text.strip().lower()  # as email_key lowers addresses: no case folding
        matches = [func.lower(Signature.name).contains(needle, autoescape=True)]
        if in_email:
            matches.append(Signature.email_key.contains(needle, autoescape=True))
            matches.append(func.lower(Signature.email).contains(needle, autoescape=True))
        query = query.where(or_(*matches))
    if network:
        query = query.where(Signature.network == network.strip().lower())
    if domain:
        query = query.where(Signature.email_domain == domain.strip().lower())
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


def new_status(signature: Signature, action: str) -> str:
    """The status ``action`` gives ``signature`` (one of those it applies to)."""
    if action == RESTORE:
        return restored_status(signature)
    if action == APPROVE:
        return Signature.CONFIRMED
    return Signature.HIDDEN if action == HIDE else Signature.REJECTED


def moderate(petition, signature_ids, action: str, organizer) -> int:
    """Apply ``action`` to the given signatures of ``petition``; record it; return how many changed.

    Two organizers may act on many signatures at the same moment. On PostgreSQL the count
    triggers lock each bucket a statement changes until the transaction ends, so two actions
    that took the same buckets in different orders would deadlock, and one would fail. Here
    the rows are locked first, in id order, and then changed with one UPDATE per bucket, the
    buckets in one order for everyone: the second action waits for the first, then goes on.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    signatures = db.session.scalars(
        select(Signature)
        .where(
            Signature.petition_id == petition.id,
            Signature.id.in_(signature_ids),
            Signature.status.in_(APPLIES_TO[action]),
        )
        .order_by(Signature.id)
        .with_for_update()
    ).all()
    changes = defaultdict(list)
    for signature in signatures:
        changes[SignatureCount.bucket(signature), new_status(signature, action)].append(signature.id)
    for (_bucket, status), ids in sorted(changes.items()):
        db.session.execute(update(Signature).where(Signature.id.in_(ids)).values(status=status))
    changed = [signature.id for signature in signatures]
    if changed:
        audit.record(MODERATION_PREFIX + action, petition, rows=len(changed), organizer=organizer)
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
    """The latest moderation actions on ``petition``, from the audit record."""
    return db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.petition_id == petition.id, AuditEvent.action.startswith(MODERATION_PREFIX))
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    ).all()


def awaiting_approval_count(petition) -> int:
    return count_in_status(petition, Signature.AWAITING_APPROVAL)


def suspect_count(petition) -> int:
    return count_in_status(petition, Signature.SUSPECT)


def count_in_status(petition, status: str) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Signature)
        .where(Signature.petition_id == petition.id, Signature.status == status)
    )
