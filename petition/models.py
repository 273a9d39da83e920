"""The data model: petitions, their signatures, and the organizers who run them."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .cache import TTLCache, cached
from .extensions import db


def utcnow() -> dt.datetime:
    """The current time in UTC, without tzinfo (stored as UTC by convention)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Petition(db.Model):
    """A statement that people and organizations are asked to sign."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    subtitle: Mapped[str] = mapped_column(Text, default="")
    issuer: Mapped[str] = mapped_column(String(200), default="")
    published_on: Mapped[dt.date | None]
    source_url: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown
    demands: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(8), default="en")
    goal: Mapped[int] = mapped_column(default=1000)
    featured: Mapped[bool] = mapped_column(default=False)
    requires_confirmation: Mapped[bool] = mapped_column(default=False)
    organizations_need_approval: Mapped[bool] = mapped_column(default=False, server_default=false())
    closes_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    signatures: Mapped[list[Signature]] = relationship(
        back_populates="petition", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (CheckConstraint("goal > 0", name="goal_positive"),)

    @property
    def is_open(self) -> bool:
        """Whether the petition still accepts signatures."""
        return self.closes_at is None or self.closes_at > utcnow()

    @property
    def subtitle_lines(self) -> list[str]:
        return [line for line in self.subtitle.splitlines() if line.strip()]

    def __repr__(self) -> str:
        return f"<Petition {self.slug}>"


class Signature(db.Model):
    """One endorsement, by a person or by an organization."""

    INDIVIDUAL = "individual"
    ORGANIZATION = "organization"
    KINDS = (INDIVIDUAL, ORGANIZATION)

    # States. Pending: the email is not confirmed yet. Unapproved: an organization waiting for an
    # organizer's approval. Confirmed: counted and listed (when public). Hidden: counted, never
    # listed. Rejected: neither. Only confirmed and hidden signatures count.
    PENDING = "pending"
    AWAITING_APPROVAL = "unapproved"
    CONFIRMED = "confirmed"
    HIDDEN = "hidden"
    REJECTED = "rejected"
    STATUSES = (PENDING, AWAITING_APPROVAL, CONFIRMED, HIDDEN, REJECTED)
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
    locale: Mapped[str] = mapped_column(String(8), default="en")
    ip_hash: Mapped[str] = mapped_column(String(64), default="")
    # Emails sent because of this address (confirmations and repeat notices), to cap resends.
    emails_sent: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    petition: Mapped[Petition] = relationship(back_populates="signatures")

    __table_args__ = (
        UniqueConstraint("petition_id", "email_key"),
        CheckConstraint("kind IN ('individual', 'organization')", name="kind_known"),
        CheckConstraint(
            "status IN ('pending', 'unapproved', 'confirmed', 'hidden', 'rejected')", name="status_known"
        ),
        Index("ix_signature_petition_status_kind", "petition_id", "status", "kind"),
        Index("ix_signature_petition_created", "petition_id", "created_at"),
    )

    @property
    def is_organization(self) -> bool:
        return self.kind == self.ORGANIZATION

    @property
    def is_counted(self) -> bool:
        return self.status in self.COUNTED

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


def count_signatures(petition) -> dict[str, int]:
    """Counted signatures of ``petition``: total, individuals and organizations. Exact to within
    ``COUNTS_CACHE_SECONDS``: a page view never scans the signatures."""
    ttl = current_app.config["COUNTS_CACHE_SECONDS"]
    return cached(_counts_cache, ("kinds", petition.id), ttl, lambda: _count_by_kind(petition.id))


def _count_by_kind(petition_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(Signature.kind, func.count())
        .where(Signature.petition_id == petition_id, Signature.status.in_(Signature.COUNTED))
        .group_by(Signature.kind)
    ).all()
    by_kind = dict(rows)
    individuals = by_kind.get(Signature.INDIVIDUAL, 0)
    organizations = by_kind.get(Signature.ORGANIZATION, 0)
    return {
        "total": individuals + organizations,
        "individuals": individuals,
        "organizations": organizations,
    }


def count_by_country(petition) -> dict[str, int]:
    """Counted signatures of ``petition`` by ISO country code, largest first."""
    ttl = current_app.config["COUNTS_CACHE_SECONDS"]
    return cached(_counts_cache, ("countries", petition.id), ttl, lambda: _count_by_country(petition.id))


def _count_by_country(petition_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(Signature.country, func.count().label("n"))
        .where(Signature.petition_id == petition_id, Signature.status.in_(Signature.COUNTED))
        .group_by(Signature.country)
        .order_by(func.count().desc(), Signature.country)
    ).all()
    return {country: n for country, n in rows}


_counts_cache = TTLCache()


class Organizer(UserMixin, db.Model):
    """A person who runs petitions: logs in, moderates, downloads signatures."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<Organizer {self.email}>"


class ModerationEvent(db.Model):
    """An organizer's action on signatures: who did what, to how many, and when."""

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"))
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))
    signature_count: Mapped[int] = mapped_column(default=0)
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)

    organizer: Mapped[Organizer | None] = relationship()


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

    __table_args__ = (Index("ix_outbox_unsent", "sent_at", "next_attempt_at"),)

    @classmethod
    def due(cls, now: dt.datetime):
        """Unsent messages whose next attempt has come and that no sender holds."""
        return select(cls).where(
            cls.sent_at.is_(None),
            cls.next_attempt_at <= now,
            (cls.locked_until.is_(None)) | (cls.locked_until < now),
        )
