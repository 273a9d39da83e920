"""Organizers, their roles on petitions, their second factor, and the record of what they did."""

from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .base import utcnow


class Organizer(UserMixin, db.Model):
    """A person who runs petitions: logs in, moderates, downloads signatures.

    A site administrator (``is_admin``) works on every petition and manages accounts; anyone else
    works only on the petitions where they hold an :class:`OrganizerRole`. ``session_version``
    is part of every session of the account: raising it ends them all, on every worker.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    is_admin: Mapped[bool] = mapped_column(default=False, server_default=false())
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Base32 TOTP secret (RFC 6238) once enrolled, and the last time step accepted (no replay).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None]
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]

    roles: Mapped[list[OrganizerRole]] = relationship(
        back_populates="organizer", cascade="all, delete-orphan", passive_deletes=True
    )

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and the remember cookie: the id and the session
        version, so that raising the version makes every copy of the cookie worthless."""
        return f"{self.id}:{self.session_version}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<Organizer {self.email}>"


class OrganizerRole(db.Model):
    """What an organizer may do on one petition: one of :attr:`ROLES`."""

    OWNER, EDITOR, MODERATOR, VIEWER = "owner", "editor", "moderator", "viewer"
    ROLES = (OWNER, EDITOR, MODERATOR, VIEWER)

    organizer_id: Mapped[int] = mapped_column(
        ForeignKey("organizer.id", ondelete="CASCADE"), primary_key=True
    )
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    organizer: Mapped[Organizer] = relationship(back_populates="roles")


class RecoveryCode(db.Model):
    """A single-use code that stands in for the second factor, kept only as a hash."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizer.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(256))
    used_at: Mapped[dt.datetime | None]


class AuditEvent(db.Model):
    """Something an organizer did or tried: a login, an export, a role change… Never a signer's
    personal data: ``detail`` holds filters, counts and account addresses only."""

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id", ondelete="SET NULL"))
    # The address as it was: the record outlives the account.
    actor: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(40))
    petition_id: Mapped[int | None] = mapped_column(
        ForeignKey("petition.id", ondelete="SET NULL"), index=True
    )
    rows: Mapped[int | None]
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    organizer: Mapped[Organizer | None] = relationship()
