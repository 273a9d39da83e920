"""Forgetting signers: personal data of long-closed petitions is erased, counts stay."""

import datetime as dt
import logging

from sqlalchemy import String, cast, delete, select, update

from ..extensions import db
from ..models import OutboxMessage, Petition, Signature, utcnow

log = logging.getLogger(__name__)


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
