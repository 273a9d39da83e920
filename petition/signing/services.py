"""Storing signatures: one per email address per petition, whatever the timing; the emails
that confirm them; confirmation and withdrawal."""

import functools
import hashlib
import hmac
import logging
from typing import NamedTuple

from flask import current_app
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..mail import email_values, queue_email
from ..models import OutboxMessage, Signature, utcnow
from ..sharing import site_origin
from . import signals
from .identity import email_key
from .privacy import erase_signer
from .verification import is_verified

log = logging.getLogger(__name__)


def hash_ip(ip: str | None) -> str:
    """A keyed hash of an IP address, so the address itself is never stored."""
    if not ip:
        return ""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, ip.encode(), hashlib.sha256).hexdigest()


def find_signature(petition, email: str) -> Signature | None:
    """The signature on ``petition`` by ``email``, if any."""
    return db.session.scalar(
        select(Signature).where(Signature.petition_id == petition.id, Signature.email_key == email_key(email))
    )


def status_once_confirmed(petition, kind: str, verified: bool = False) -> str:
    """Where a signature goes once its address is confirmed (or at once, without confirmation):
    an organization waits for approval where the petition asks for it, unless it is
    ``verified`` and the petition approves verified organizations."""
    if kind == Signature.ORGANIZATION and petition.organizations_need_approval:
        if not (verified and petition.approve_verified_organizations):
            return Signature.AWAITING_APPROVAL
    return Signature.CONFIRMED


class Signed(NamedTuple):
    """What :func:`sign` did: the signature's id, and whether it is a new one."""

    id: int
    created: bool


def sign(
    petition,
    fields: dict,
    locale: str = "en",
    ip: str | None = None,
    form_age: int | None = None,
    proof_missing: bool = False,
) -> Signed:
    """Add a signature to ``petition`` (a :class:`~petition.models.Petition`, or its
    :class:`~petition.petitions.pages.Terms`) and the email it causes, in one transaction of
    their own, committed on return. ``fields`` may name the ``statement_version`` its signer
    was shown (else the petition's current one).

    The signature carries its signals (see :mod:`.signals`): its network, its address's domain,
    ``form_age`` (seconds since the form's page was made) and ``proof_missing`` (a proof of work
    was asked for and not given). Counted at once, past the petition's thresholds it is suspect.

    A repeat address stores nothing; on a petition that confirms by email, the address is sent
    its confirmation again or told it has signed already (capped per address), so the page
    reveals nothing about whether an address has signed. The unique constraint settles a race
    between identical requests: the loser sees the winner's row.
    """
    now = utcnow()
    confirming = petition.requires_confirmation
    columns = signals.signing_columns(ip, fields["email"], form_age, proof_missing)
    if confirming:
        status = Signature.PENDING
    else:
        columns["signals"] = signals.names_at_signing(petition, columns, now)
        status = Signature.SUSPECT if columns["signals"] else status_once_confirmed(petition, fields["kind"])
    row = {
        # The current text, unless ``fields`` name the version the signer was shown.
        "statement_version": petition.statement_version,
        **fields,
        **columns,
        "signals": " ".join(columns["signals"]),
        "petition_id": petition.id,
        "email_key": email_key(fields["email"]),
        "locale": locale,
        "ip_hash": hash_ip(ip),
        "emails_sent": 1,
        "status": status,
        "confirmed_at": None if confirming else now,
        "created_at": now,
    }
    email = email_values(
        row["email"], "confirm" if confirming else "receipt", locale=locale, context=links_context()
    )
    # No look before the leap: the unique constraint is the one judge of a repeat, in a race
    # or not, and the common case (a new address) is one write.
    try:
        signature_id = insert_with_email(row, email)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = find_signature(petition, fields["email"])
        if existing is None:
            raise
        signed = Signed(existing.id, False)
        notify_repeat(petition, existing)
        db.session.commit()
        return signed
    # gunicorn's access log has every POST already: one more line a signature only when debugging.
    log.debug("signed petition=%s signature=%s kind=%s", petition.slug, signature_id, row["kind"])
    return Signed(signature_id, True)


def insert_with_email(row: dict, email: dict) -> int:
    """Insert the signature ``row`` and its ``email`` (columns of an outbox row) in the session's
    transaction; return the signature's id.

    On PostgreSQL they are one statement, the signature's INSERT in a ``WITH`` that the email's
    reads its id from. Begun in autocommit (when the session holds no transaction yet, as at the
    start of a request), that statement is a transaction of its own: one round trip to the
    server where BEGIN, two INSERTs and COMMIT take four. SQLite has no INSERT in ``WITH``, and
    no round trips to save: two INSERTs there.
    """
    session, signatures, outbox = db.session(), Signature.__table__, OutboxMessage.__table__
    if session.get_bind().dialect.name != "postgresql":
        signature_id = session.execute(insert(signatures).returning(signatures.c.id), row).scalar_one()
        session.execute(insert(outbox), {**email, "signature_id": signature_id})
        return signature_id
    if not session.in_transaction():
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    statement = signature_with_email(tuple(row), tuple(key for key in email if key != "signature_id"))
    params = {f"signature_{key}": value for key, value in row.items()}
    params.update((f"email_{key}", value) for key, value in email.items())
    return session.execute(statement, params).scalar_one()


@functools.cache
def signature_with_email(signature_keys: tuple, email_keys: tuple):
    """``INSERT INTO signature`` of ``signature_keys`` in a ``WITH``, then ``INSERT INTO outbox``
    of ``email_keys`` and the new signature's id; parameters named ``signature_<key>`` and
    ``email_<key>`` (SQLAlchemy keeps column names for itself, and both tables have a
    created_at). Built once: a statement built of values would cost more than its execution."""
    signatures, outbox = Signature.__table__, OutboxMessage.__table__
    new = (
        insert(signatures)
        .values({key: bindparam(f"signature_{key}") for key in signature_keys})
        .returning(signatures.c.id)
        .cte("new_signature")
    )
    return (
        insert(outbox)
        .values({key: bindparam(f"email_{key}") for key in email_keys})
        .values(signature_id=select(new.c.id).scalar_subquery())
        .add_cte(new)
        .returning(outbox.c.signature_id)
    )


def notify_repeat(petition, signature: Signature) -> None:
    """Tell the owner of an address that signed again, by email, at most a few times."""
    if not petition.requires_confirmation or signature.status == Signature.REJECTED:
        return
    if not reserve_email(signature):
        log.info("repeat signature %s: email cap reached, nothing sent", signature.id)
        return
    template = "confirm" if signature.status == Signature.PENDING else "already_signed"
    queue_signer_email(signature, template)


def reserve_email(signature: Signature) -> bool:
    """Count one more email for ``signature`` unless its cap is reached (atomic across workers)."""
    cap = current_app.config["MAX_EMAILS_PER_SIGNATURE"]
    result = db.session.execute(
        update(Signature)
        .where(Signature.id == signature.id, Signature.emails_sent < cap)
        .values(emails_sent=Signature.emails_sent + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def links_context() -> dict:
    """What a signer's email needs besides its signature: the origin its links point to."""
    return {"origin": site_origin()}


def queue_signer_email(signature: Signature, template: str) -> None:
    """Queue ``template`` for the signer; the sender adds the links (every email can withdraw)."""
    queue_email(
        signature.email,
        template,
        locale=signature.locale,
        signature=signature,
        context=links_context(),
    )


def confirm(signature: Signature) -> bool:
    """Confirm a pending signature, which its signals may make suspect instead; return whether
    anything changed."""
    if signature.status != Signature.PENDING:
        return False
    now = utcnow()
    # The link came to this address: now it is proven, and with it the organization's domain.
    signature.verified = is_verified(signature.kind, signature.email, signature.website)
    names = signals.names_at_confirmation(signature, now)
    signature.signals = " ".join(names)
    signature.status = (
        Signature.SUSPECT
        if names
        else status_once_confirmed(signature.petition, signature.kind, signature.verified)
    )
    signature.confirmed_at = now
    signature.email_confirmed = True
    log.info(
        "confirmed signature=%s status=%s verified=%s", signature.id, signature.status, signature.verified
    )
    return True


def withdraw(signature: Signature) -> None:
    """Erase a signature and every trace of its signer, at their request, in the caller's
    transaction. No receipt is emailed: the page confirms it, and a receipt would be one more
    copy of the address to erase."""
    log.info("withdrawn signature=%s petition=%s", signature.id, signature.petition_id)
    erase_signer(signature)
