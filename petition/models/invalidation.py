"""Bulk invalidations and the public record of a petition's signatures: how many were confirmed
by email, how many await confirmation, how many were invalidated and why."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import JSON, ForeignKey, SmallInteger, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from ..cache import cached
from ..extensions import db
from .base import utcnow
from .signature import Signature


class Invalidation(db.Model):
    """Signatures an organizer took out of a petition at once, with the reason, the filters that
    chose them, and whether it was undone.

    ``rows`` is how many signatures it holds out now: raised batch by batch as it runs, set to
    nought when undone, and checked against the signatures by the recount (a signer may still
    withdraw an invalidated signature, which erases it).
    """

    DUPLICATE, FAKE, BOT, OTHER = "duplicate", "fake", "bot", "other"
    CATEGORIES = (DUPLICATE, FAKE, BOT, OTHER)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"), index=True)
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(254), default="")
    category: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500), default="")
    criteria: Mapped[dict] = mapped_column(JSON, default=dict)
    rows: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[dt.datetime | None]

    def __repr__(self) -> str:
        return f"<Invalidation {self.id} {self.category} rows={self.rows}>"


class SignatureTally(db.Model):
    """How many signatures of a petition are in each status, split by whether their address was
    confirmed by email, in shards: what the public record reads, at the same cost at any size.

    Kept by triggers of their own (migration 0013), as :class:`SignatureCount` is: signing,
    confirming, moderation, erasure, the purge and invalidation all change statuses, often in bulk
    statements, and a second write in each of those paths would miss the next one. These
    triggers count every status, so a new status needs no new migration; ``signature_count`` and
    its rule (``Signature.COUNTED``) stay as they are. The reasons' categories are few rows per
    petition in :class:`Invalidation` and are summed from there. ``signatures recount`` checks
    both against the signatures, logs any drift and fixes it.
    """

    __tablename__ = "signature_tally"
    SHARDS = 4

    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    email_confirmed: Mapped[bool] = mapped_column(primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(default=0, server_default="0")


def public_record(petition) -> dict:
    """What readers are told about the signatures of ``petition`` beside its count:
    ``confirmed_by_email`` (counted signatures whose address was confirmed from the emailed link),
    ``awaiting_confirmation``, ``invalidated`` and ``invalidated_by_category``."""
    ttl = current_app.config["COUNTS_CACHE_SECONDS"]
    return cached(("record", petition.id), ttl, lambda: _public_record(petition.id))


def _public_record(petition_id: int) -> dict:
    rows = db.session.execute(
        select(SignatureTally.status, SignatureTally.email_confirmed, func.sum(SignatureTally.n))
        .where(SignatureTally.petition_id == petition_id)
        .group_by(SignatureTally.status, SignatureTally.email_confirmed)
    ).all()
    confirmed = sum(n for status, emailed, n in rows if emailed and status in Signature.COUNTED)
    pending = sum(n for status, _emailed, n in rows if status == Signature.PENDING)
    by_category = dict.fromkeys(Invalidation.CATEGORIES, 0)
    for category, n in db.session.execute(
        select(Invalidation.category, func.sum(Invalidation.rows))
        .where(Invalidation.petition_id == petition_id, Invalidation.undone_at.is_(None))
        .group_by(Invalidation.category)
    ):
        by_category[category] = int(n)
    return {
        "confirmed_by_email": int(confirmed),
        "awaiting_confirmation": int(pending),
        "invalidated": sum(by_category.values()),
        "invalidated_by_category": by_category,
    }
