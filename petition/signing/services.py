"""Storing signatures: one per email address per petition, whatever the timing."""

import hashlib
import hmac
import logging

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Signature, utcnow

log = logging.getLogger(__name__)


def email_key(email: str) -> str:
    """The form of an address under which repeats are recognized: Ana@X.org is ana@x.org."""
    return email.strip().casefold()


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


def sign(petition, fields: dict, locale: str = "en", ip: str | None = None):
    """Add a signature to ``petition``; return ``(signature, created)``.

    A repeat address returns the signature already there and stores nothing. The unique
    constraint settles a race between two identical requests: the loser sees the winner's row.
    """
    existing = find_signature(petition, fields["email"])
    if existing is not None:
        return existing, False
    signature = Signature(
        petition_id=petition.id,
        email_key=email_key(fields["email"]),
        locale=locale,
        ip_hash=hash_ip(ip),
        **fields,
    )
    if petition.requires_confirmation:
        signature.status = Signature.PENDING
    else:
        signature.status = Signature.CONFIRMED
        signature.confirmed_at = utcnow()
    try:
        with db.session.begin_nested():
            db.session.add(signature)
    except IntegrityError:
        existing = find_signature(petition, fields["email"])
        if existing is None:
            raise
        return existing, False
    log.info("signed petition=%s signature=%s kind=%s", petition.slug, signature.id, signature.kind)
    return signature, True
