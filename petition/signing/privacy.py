"""Forgetting signers: a withdrawn signature leaves no trace; personal data of long-closed
petitions is erased, counts stay."""

import datetime as dt
import logging

from sqlalchemy import String, cast, delete, select, update

from ..extensions import db
from ..models import ModerationEvent, OutboxMessage, Petition, Signature, utcnow
from .services import email_key

log = logging.getLogger(__name__)
ROWS_PER_STATEMENT = 500


def erase_signer(signature: Signature) -> None:
    """Delete ``signature`` and whatever names its signer, in the caller's transaction: every
    email to or about it, sent or not (organizers' updates included), any email to its address
    that belongs to no signature, and its id in the moderation log. The address's signatures on
    other petitions, and their emails, stay."""
    address = email_key(signature.email)
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.signature_id == signature.id))
    # Emails that lost their signature (to an address compared as signing compares them).
    strays = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.recipient).where(
            OutboxMessage.signature_id.is_(None), OutboxMessage.recipient != ""
        )
    )
    stray_ids = [message_id for message_id, recipient in strays if email_key(recipient) == address]
    for start in range(0, len(stray_ids), ROWS_PER_STATEMENT):
        chunk = stray_ids[start : start + ROWS_PER_STATEMENT]
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(chunk)))
    forget_in_moderation_log(signature)
    db.session.delete(signature)
    db.session.flush()


def forget_in_moderation_log(signature: Signature) -> None:
    """Take ``signature``'s id out of the moderation log of its petition (each event lists the
    ids it changed); the event and its count stay."""
    mark = str(signature.id)
    events = db.session.scalars(
        select(ModerationEvent).where(
            ModerationEvent.petition_id == signature.petition_id,
            ModerationEvent.detail.contains(mark, autoescape=True),
        )
    )
    for event in events:
        ids = event.detail.split()
        if mark in ids:
            event.detail = " ".join(i for i in ids if i != mark)


def petitions_to_purge(days: int) -> list[Petition]:
    """Petitions closed more than ``days`` days ago."""
    cutoff = utcnow() - dt.timedelta(days=days)
    return list(
        db.session.scalars(
            select(Petition).where(Petition.closes_at.is_not(None), Petition.closes_at < cutoff)
        )
    )


def purge_petition(petition: Petition) -> int:
    """Erase what identifies the signers of ``petition``; return how many signatures were touched.

    Unconfirmed signatures go entirely. Counted ones keep kind, country, status and dates, so
    the final count by country survives; an organization keeps its public name and website.
    """
    of_petition = Signature.petition_id == petition.id
    db.session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.signature_id.in_(select(Signature.id).where(of_petition)),
        )
    )
    db.session.execute(delete(Signature).where(of_petition, Signature.status == Signature.PENDING))
    common = {
        "email": "",
        "email_key": "purged-" + cast(Signature.id, String),
        "city": "",
        "comment": "",
        "contact_name": "",
        "ip_hash": "",
        "updates": False,
    }
    people = db.session.execute(
        update(Signature)
        .where(of_petition, Signature.kind == Signature.INDIVIDUAL, Signature.email != "")
        .values(**common, name="", affiliation="", public=False)
        .execution_options(synchronize_session=False)
    )
    organizations = db.session.execute(
        update(Signature)
        .where(of_petition, Signature.kind == Signature.ORGANIZATION, Signature.email != "")
        .values(**common)
        .execution_options(synchronize_session=False)
    )
    touched = people.rowcount + organizations.rowcount
    log.info("purged personal data of %s signatures on %s", touched, petition.slug)
    return touched
