"""Proof-of-work challenges already answered, so that each is accepted once."""

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class SpentChallenge(db.Model):
    """A solved ALTCHA challenge (its signature) until it would have expired anyway."""

    digest: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
