"""The email outbox."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, and_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow

if TYPE_CHECKING:
    from .signature import Signature


class OutboxMessage(db.Model):
    """An email waiting to be sent. Stored in the same transaction as what caused it, so it is
    never lost; the sender renders it from ``template`` in ``locale``, delivers it later, and
    retries with backoff."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    template: Mapped[str] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    # What the template needs beyond the signature, e.g. the site's origin for links.
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signature.id", ondelete="SET NULL"))
    # Lets a new signature and its first email go to the database in one flush.
    signature: Mapped[Signature | None] = relationship(passive_deletes=True)
    # Set on the messages that carry an organizers' update: one per update and signer, ever.
    update_id: Mapped[int | None] = mapped_column(ForeignKey("petition_update.id", ondelete="SET NULL"))
    # Filled in when the message is rendered for sending, and kept as a record of what went out.
    subject: Mapped[str] = mapped_column(String(300), default="")
    text_body: Mapped[str] = mapped_column(Text, default="")
    html_body: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_outbox_unsent", "sent_at", "next_attempt_at"),
        Index("ix_outbox_signature_id", "signature_id"),
        UniqueConstraint("update_id", "signature_id"),
    )

    @classmethod
    def is_due(cls, now: dt.datetime):
        """Unsent, its next attempt has come, and no sender holds it (or its lease has ended)."""
        return and_(
            cls.sent_at.is_(None),
            cls.next_attempt_at <= now,
            (cls.locked_until.is_(None)) | (cls.locked_until < now),
        )
