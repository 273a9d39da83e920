"""Forgetting signers. A withdrawn signature leaves no trace; the retention rules erase the rest
on a schedule (:func:`purge`): unconfirmed signatures once their link has expired, the signers
of petitions long closed, those of open-ended petitions some time after they signed, and the
copies of sent emails. Counts by country survive every rule."""

import datetime as dt
import logging
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import String, case, cast, delete, func, literal, select, update

from ..extensions import db
from ..models import OutboxMessage, Petition, Signature, utcnow
from .identity import email_key

log = logging.getLogger(__name__)
ROWS_PER_STATEMENT = 500


def erase_signer(signature: Signature) -> None:
    """Delete ``signature`` and whatever names its signer, in the caller's transaction: every
    email to or about it, sent or not (organizers' updates included), any email to its address
    that belongs to no signature. The address's signatures on other petitions, and their emails,
    stay. (The audit record of moderation holds counts, never which signatures: nothing there.)"""
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
    db.session.delete(signature)
    db.session.flush()


@dataclass
class PetitionPurge:
    """What the purge does to one petition's signatures."""

    slug: str
    unconfirmed: int = 0  # deleted: their confirmation link expired, or the petition is purged
    anonymized: int = 0


@dataclass
class PurgeReport:
    """What a run of :func:`purge` did, or would do on a dry run."""

    petitions: list[PetitionPurge] = field(default_factory=list)
    sent_emails: int = 0  # sent emails whose copy is deleted

    def lines(self) -> list[str]:
        """One line per petition touched, and one for the sent emails."""
        lines = [
            f"{done.slug}: {done.unconfirmed} unconfirmed signatures deleted, "
            f"{done.anonymized} signatures anonymized"
            for done in self.petitions
        ]
        return [*lines, f"sent emails: {self.sent_emails} copies deleted"]


def purge(
    now: dt.datetime | None = None, closed_days: int | None = None, dry_run: bool = False
) -> PurgeReport:
    """Apply the retention rules as of ``now``, in the caller's transaction; with ``dry_run``,
    only count what they would change. The copy of every email sent ``SENT_MAIL_RETENTION_DAYS``
    ago is deleted. Then, on every petition, unconfirmed signatures older than their link
    (``CONFIRM_TOKEN_MAX_AGE``) are deleted with their emails; a petition closed ``closed_days``
    (default ``PURGE_AFTER_DAYS``) days ago loses every unconfirmed signature and has the others
    anonymized; on a petition without a closing date, each signature is anonymized
    ``retention_days`` after it was signed. Anonymized signatures lose their emails, sent ones
    included. Each rule is one statement per petition, whatever the number of signatures."""
    now = now or utcnow()
    config = current_app.config
    closed_days = config["PURGE_AFTER_DAYS"] if closed_days is None else closed_days
    link_expiry = now - dt.timedelta(seconds=config["CONFIRM_TOKEN_MAX_AGE"])
    closed_before = now - dt.timedelta(days=closed_days)
    mail_expiry = now - dt.timedelta(days=config["SENT_MAIL_RETENTION_DAYS"])
    # First, so that a dry run counts what a real one does: the copies of sent emails go
    # whether or not their signatures go too.
    report = PurgeReport(sent_emails=forget_sent_emails(mail_expiry, dry_run))
    for petition in db.session.scalars(select(Petition).order_by(Petition.id)).all():
        of_petition = Signature.petition_id == petition.id
        closed = petition.closes_at is not None and petition.closes_at < closed_before
        unconfirmed = [of_petition, Signature.status == Signature.PENDING]
        if not closed:
            unconfirmed.append(Signature.created_at < link_expiry)
        # Already anonymized ones have no address left; unconfirmed ones go instead.
        identified = [of_petition, Signature.email != "", Signature.status != Signature.PENDING]
        if not closed and petition.closes_at is None:
            signed_before = now - dt.timedelta(days=petition.retention_days)
            identified.append(Signature.created_at < signed_before)
        elif not closed:
            identified = None  # closes later: kept until it has been closed long enough
        done = PetitionPurge(
            petition.slug,
            delete_signatures(unconfirmed, dry_run),
            anonymize_signatures(identified, dry_run) if identified is not None else 0,
        )
        if done.unconfirmed or done.anonymized:
            report.petitions.append(done)
    if not dry_run:
        for line in report.lines():
            log.info("purge: %s", line)
    return report


def count_signatures_where(where: list) -> int:
    return db.session.scalar(select(func.count()).select_from(Signature).where(*where))


def emails_of_signatures_where(where: list):
    """A DELETE of every email of the signatures matching ``where``, sent or not."""
    return delete(OutboxMessage).where(OutboxMessage.signature_id.in_(select(Signature.id).where(*where)))


def delete_signatures(where: list, dry_run: bool) -> int:
    """Delete the signatures matching ``where`` and their emails; return how many."""
    if dry_run:
        return count_signatures_where(where)
    db.session.execute(emails_of_signatures_where(where), execution_options={"synchronize_session": False})
    deleted = db.session.execute(delete(Signature).where(*where).execution_options(synchronize_session=False))
    return deleted.rowcount


def anonymize_signatures(where: list, dry_run: bool) -> int:
    """Erase what identifies the signers matching ``where``, and their emails; return how many.

    Kind, country, status and dates stay, so the counts by country survive; an organization
    keeps its public name and website.
    """
    if dry_run:
        return count_signatures_where(where)
    db.session.execute(emails_of_signatures_where(where), execution_options={"synchronize_session": False})
    common = {
        "email": "",
        "email_key": "purged-" + cast(Signature.id, String),
        "city": "",
        "comment": "",
        "contact_name": "",
        "ip_hash": "",
        "updates": False,
        # The signals go with the rest: they served the review while the signer could be asked.
        "network": "",
        "email_domain": "",
        "form_age": None,
    }
    people = db.session.execute(
        update(Signature)
        .where(*where, Signature.kind == Signature.INDIVIDUAL)
        .values(**common, name="", affiliation="", public=False)
        .execution_options(synchronize_session=False)
    )
    organizations = db.session.execute(
        update(Signature)
        .where(*where, Signature.kind == Signature.ORGANIZATION)
        .values(**common)
        .execution_options(synchronize_session=False)
    )
    return people.rowcount + organizations.rowcount


def forget_sent_emails(sent_before: dt.datetime, dry_run: bool) -> int:
    """Delete the copy (address, subject, bodies, headers) of each email sent before
    ``sent_before``; return how many. The bare row stays, so an update's delivery counts hold
    and no update goes twice to one signer."""
    where = [OutboxMessage.sent_at < sent_before, OutboxMessage.recipient != ""]
    if dry_run:
        return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(*where))
    cancelled = OutboxMessage.last_error.like("cancelled:%")
    forgotten = db.session.execute(
        update(OutboxMessage)
        .where(*where)
        .values(
            recipient="",
            subject="",
            text_body="",
            html_body="",
            headers={},
            # A mail server's refusal may quote the address; why a message was cancelled never does.
            last_error=case((cancelled, OutboxMessage.last_error), else_=literal("")),
        )
        .execution_options(synchronize_session=False)
    )
    return forgotten.rowcount


def purge_on_schedule(now: dt.datetime | None = None) -> PurgeReport | None:
    """One run of :func:`purge` in a transaction of its own, for the mail sender's loop: a
    failure is logged and rolled back, never raised, so sending goes on."""
    try:
        report = purge(now)
        db.session.commit()
    except Exception:
        log.exception("the retention purge failed; it runs again at its next time")
        db.session.rollback()
        return None
    return report
