"""Updates: news that organizers send to the signers who asked for it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class Update(db.Model):
    """An email from the organizers to every confirmed signer who opted in to news.

    Each recipient gets one outbox message, made unique by (update, signature), so sending can
    stop and resume at any point and still reaches everyone exactly once.
    """

    __tablename__ = "petition_update"

    DRAFT = "draft"
    SENDING = "sending"
    SENT = "sent"

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # Markdown
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("organizer.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
