"""Petitions: the statements people sign."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint, false, select, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow

if TYPE_CHECKING:
    from .signature import Signature


class Petition(db.Model):
    """A statement that people and organizations are asked to sign."""

    # How long a petition without a closing date keeps each signer's personal data, in days
    # after they signed (organizers choose within the range).
    DEFAULT_RETENTION_DAYS = 730
    MIN_RETENTION_DAYS, MAX_RETENTION_DAYS = 30, 3650

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
    # Whether, when organizations need approval, those verified at confirmation skip it.
    approve_verified_organizations: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Whether the petition's moderators see signers' email addresses (its owners decide).
    moderators_see_addresses: Mapped[bool] = mapped_column(default=False, server_default=false())
    closes_at: Mapped[dt.datetime | None]
    # When organizers archived it: closed, and off the home page and the public list.
    archived_at: Mapped[dt.datetime | None]
    retention_days: Mapped[int] = mapped_column(
        default=DEFAULT_RETENTION_DAYS, server_default=str(DEFAULT_RETENTION_DAYS)
    )
    # Quiet detection (petition.signing.signals): past these, a signature waits for review.
    # Signatures in the last hour from one network, or from one domain (big webmail providers
    # aside); a form posted sooner than min_form_seconds after its page.
    network_hourly_limit: Mapped[int] = mapped_column(default=20, server_default="20")
    domain_hourly_limit: Mapped[int] = mapped_column(default=50, server_default="50")
    min_form_seconds: Mapped[int] = mapped_column(default=3, server_default="3")
    # Ask for a proof of work (ALTCHA) always, not only in a surge; email organizers when one starts.
    proof_of_work: Mapped[bool] = mapped_column(default=False, server_default=false())
    notify_surges: Mapped[bool] = mapped_column(default=True, server_default=true())
    # A surge is on until then (each velocity signal prolongs it).
    surge_until: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The number of the text signers are shown now; the versions before it are StatementVersions.
    statement_version: Mapped[int] = mapped_column(default=1, server_default="1")

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

    @property
    def asks_proof_of_work(self) -> bool:
        """Whether the sign form asks for a proof of work: switched on, or in a surge."""
        return self.proof_of_work or (self.surge_until is not None and self.surge_until > utcnow())

    @classmethod
    def listed(cls):
        """A query for the petitions the public sees listed: every one not archived."""
        return select(cls).where(cls.archived_at.is_(None))

    def __repr__(self) -> str:
        return f"<Petition {self.slug}>"


class PetitionTranslation(db.Model):
    """The statement in another language: shown to visitors who read that language."""

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    subtitle: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown
    demands: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("petition_id", "language"),)

    @property
    def subtitle_lines(self) -> list[str]:
        return [line for line in self.subtitle.splitlines() if line.strip()]


class StatementVersion(db.Model):
    """A text of a petition that signers agreed to and that was changed since: version ``number``
    in ``language``, as it read until ``replaced_at``. The current text is the petition's own."""

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"))
    number: Mapped[int]
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    subtitle: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown
    demands: Mapped[list[str]] = mapped_column(JSON, default=list)
    replaced_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("petition_id", "number", "language"),)

    @property
    def subtitle_lines(self) -> list[str]:
        return [line for line in self.subtitle.splitlines() if line.strip()]
