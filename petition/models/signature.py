"""Signatures and their states; their counts are in :mod:`.counts`."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, false, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow

if TYPE_CHECKING:
    from .invalidation import Invalidation
    from .petition import Petition


class Signature(db.Model):
    """One endorsement, by a person or by an organization."""

    INDIVIDUAL = "individual"
    ORGANIZATION = "organization"
    KINDS = (INDIVIDUAL, ORGANIZATION)

    # States. Pending: the email is not confirmed yet. Unapproved: an organization waiting for an
    # organizer's approval. Confirmed: counted and listed (when public). Hidden: counted, never
    # listed. Rejected: neither. Suspect: its signals crossed the petition's thresholds, and it
    # waits for a moderator to confirm or reject it. Invalidated: taken out by an organizer's
    # bulk invalidation (see Invalidation), neither counted nor listed, and restorable to
    # ``invalidated_from``. Only confirmed and hidden signatures count (the triggers own the
    # counting: see SignatureCount, and changing COUNTED needs a new migration).
    PENDING = "pending"
    AWAITING_APPROVAL = "unapproved"
    CONFIRMED = "confirmed"
    HIDDEN = "hidden"
    REJECTED = "rejected"
    SUSPECT = "suspect"
    INVALIDATED = "invalidated"
    STATUSES = (PENDING, AWAITING_APPROVAL, CONFIRMED, HIDDEN, REJECTED, SUSPECT, INVALIDATED)
    COUNTED = (CONFIRMED, HIDDEN)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    # The address folded to lower case: the key that makes one signature per address.
    email_key: Mapped[str] = mapped_column(String(254))
    country: Mapped[str] = mapped_column(String(2))
    city: Mapped[str] = mapped_column(String(100), default="")
    affiliation: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    comment: Mapped[str] = mapped_column(String(500), default="")
    public: Mapped[bool] = mapped_column(default=True)
    updates: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    confirmed_at: Mapped[dt.datetime | None]
    source: Mapped[str] = mapped_column(String(40), default="")
    # An organization that confirmed from an address at its website's domain (see
    # petition.signing.verification); never set without a confirmed address. The database's
    # default alone: an INSERT that does not name the column works at every revision.
    verified: Mapped[bool] = mapped_column(server_default=false())
    locale: Mapped[str] = mapped_column(String(8), default="en")
    ip_hash: Mapped[str] = mapped_column(String(64), default="")
    # Whether the signer confirmed the address from the emailed link (the public record says how
    # many did); a petition that does not confirm by email counts its signatures without it.
    # A server default alone: an INSERT that does not name it works on older schemas too.
    email_confirmed: Mapped[bool] = mapped_column(server_default=false())
    # The invalidation that took this signature out, and the status it had before (restored on undo).
    invalidation_id: Mapped[int | None] = mapped_column(ForeignKey("invalidation.id", ondelete="SET NULL"))
    invalidated_from: Mapped[str | None] = mapped_column(String(16))
    # Emails sent because of this address (confirmations and repeat notices), to cap resends.
    emails_sent: Mapped[int] = mapped_column(default=0, server_default="0")
    # Signals (see petition.signing.signals): a keyed hash of the signer's network, the
    # address's domain, the seconds between the form's page and its post (at least), and the
    # names of the signals that put the signature in review. No raw IP.
    # Server defaults only: a row written without them is valid under older schemas too.
    network: Mapped[str] = mapped_column(String(16), server_default="")
    email_domain: Mapped[str] = mapped_column(String(254), server_default="")
    form_age: Mapped[int | None]
    signals: Mapped[str] = mapped_column(String(100), server_default="")
    # The version of the statement the signer was shown (Petition.statement_version).
    statement_version: Mapped[int] = mapped_column(server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    petition: Mapped[Petition] = relationship(back_populates="signatures")
    invalidation: Mapped[Invalidation | None] = relationship()

    __table_args__ = (
        UniqueConstraint("petition_id", "email_key"),
        CheckConstraint("kind IN ('individual', 'organization')", name="kind_known"),
        CheckConstraint(
            "status IN ('invalidated', 'pending', 'unapproved', 'confirmed', 'hidden', 'rejected',"
            " 'suspect')",
            name="status_known",
        ),
        Index("ix_signature_petition_created", "petition_id", "created_at"),
        # The latest public signatories, newest first, without sorting the whole petition.
        Index("ix_signature_petition_listed", "petition_id", "status", "public", "id"),
        Index("ix_signature_petition_order", "petition_id", "id"),
        # The public list, one kind at a time: individuals newest first, organizations per
        # country, each read without touching the other kind (see migration 0014).
        Index(
            "ix_signature_petition_kind_listed", "petition_id", "status", "public", "kind", "id", "country"
        ),
        # SQLite would otherwise give a new row the id of the last one deleted, and an old
        # confirm or withdraw link could then act on it (PostgreSQL's sequences never go back).
        {"sqlite_autoincrement": True},
    )

    @property
    def signal_names(self) -> list[str]:
        return self.signals.split()

    @property
    def is_organization(self) -> bool:
        return self.kind == self.ORGANIZATION

    @property
    def is_counted(self) -> bool:
        return self.status in self.COUNTED

    @property
    def invalidation_category(self) -> str:
        """The category of the invalidation that took this signature out; empty if none did."""
        return self.invalidation.category if self.invalidation is not None else ""

    @property
    def invalidation_reason(self) -> str:
        """Why it was taken out, in the organizer's words; empty if it was not."""
        return self.invalidation.reason if self.invalidation is not None else ""

    @classmethod
    def counted(cls, petition):
        """Signatures of ``petition`` that count: confirmed and hidden ones."""
        return select(cls).where(cls.petition_id == petition.id, cls.status.in_(cls.COUNTED))

    @classmethod
    def listed(cls, petition):
        """Confirmed signatures whose signers agreed to appear on the public list."""
        return select(cls).where(
            cls.petition_id == petition.id, cls.status == cls.CONFIRMED, cls.public.is_(True)
        )

    def __repr__(self) -> str:
        return f"<Signature {self.id} {self.kind} {self.status}>"
