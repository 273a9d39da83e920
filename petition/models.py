"""The data model: petitions, their signatures, and the organizers who run them."""

from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

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

    # States: a pending signature waits for its email to be confirmed; only confirmed ones count.
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    STATUSES = (PENDING, CONFIRMED, REJECTED)

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
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    petition: Mapped[Petition] = relationship(back_populates="signatures")

    __table_args__ = (
        UniqueConstraint("petition_id", "email_key"),
        CheckConstraint("kind IN ('individual', 'organization')", name="kind_known"),
        CheckConstraint("status IN ('pending', 'confirmed', 'rejected')", name="status_known"),
        Index("ix_signature_petition_status_kind", "petition_id", "status", "kind"),
        Index("ix_signature_petition_created", "petition_id", "created_at"),
    )

    @property
    def is_organization(self) -> bool:
        return self.kind == self.ORGANIZATION

    @classmethod
    def counted(cls, petition):
        """Signatures of ``petition`` that count: confirmed ones."""
        return select(cls).where(cls.petition_id == petition.id, cls.status == cls.CONFIRMED)

    @classmethod
    def listed(cls, petition):
        """Counted signatures whose signers agreed to appear on the public list."""
        return cls.counted(petition).where(cls.public.is_(True))

    def __repr__(self) -> str:
        return f"<Signature {self.id} {self.kind} {self.status}>"


def count_signatures(petition) -> dict[str, int]:
    """Counted signatures of ``petition``: total, individuals and organizations."""
    rows = db.session.execute(
        select(Signature.kind, func.count())
        .where(Signature.petition_id == petition.id, Signature.status == Signature.CONFIRMED)
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
    rows = db.session.execute(
        select(Signature.country, func.count().label("n"))
        .where(Signature.petition_id == petition.id, Signature.status == Signature.CONFIRMED)
        .group_by(Signature.country)
        .order_by(func.count().desc(), Signature.country)
    ).all()
    return {country: n for country, n in rows}


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
