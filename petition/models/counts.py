"""The counts that a page shows, kept by the database so that reading them costs the same for
a petition with no signature and one with a million."""

from flask import current_app
from sqlalchemy import ForeignKey, SmallInteger, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from ..cache import cached
from ..extensions import db
from .signature import Signature


class SignatureCount(db.Model):
    """How many counted signatures a petition has of one kind from one country, in one shard.

    The database's triggers own the counting; nothing in the application writes here. Triggers
    on ``signature`` move a signature in and out of its bucket whenever it is inserted, deleted,
    or changes status, kind, country or petition, whoever does it (the ORM, bulk statements, plain
    SQL, a cascade, a bulk load), within the statement that does it: the counts are exact at any
    moment without a second write in each code path or a recount afterwards. Their SQL is written
    out in the migrations that create them, each complete in itself (a migration is a fixed step
    and never reads another): 0005 (SQLite and PostgreSQL), 0007 (the PostgreSQL INSERT function)
    and 0008 (the SQLite triggers again, after the table is copied).

    The rule lives in :attr:`Signature.COUNTED <petition.models.Signature.COUNTED>` and
    :attr:`SHARDS`, and the triggers spell both out: changing either needs a new migration that
    recreates the triggers and refills this table. The shard (``signature.id % SHARDS``) spreads
    the writes of simultaneous signers over a few rows, so a count is the sum of a few rows.
    Buckets may fall to zero and stay.
    """

    __tablename__ = "signature_count"
    SHARDS = 4

    @classmethod
    def bucket(cls, signature) -> tuple[str, str, int]:
        """Where ``signature`` counts within its petition: kind, country, shard. Writers that
        change several buckets in one transaction take them in this order (see
        :func:`petition.organizers.moderation.moderate`)."""
        return (signature.kind, signature.country, signature.id % cls.SHARDS)

    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(default=0, server_default="0")

    def __repr__(self) -> str:
        return f"<SignatureCount {self.petition_id} {self.kind} {self.country}/{self.shard}: {self.n}>"


def count_signatures(petition) -> dict[str, int]:
    """Counted signatures of ``petition``: total, individuals and organizations.

    A sum over a few rows of ``signature_count``, kept for ``COUNTS_CACHE_SECONDS`` in each
    worker so that most page views do not ask the database at all.
    """
    ttl = current_app.config["COUNTS_CACHE_SECONDS"]
    return cached(("counts", petition.id), ttl, lambda: _count_by_kind(petition.id))


def _count_by_kind(petition_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(SignatureCount.kind, func.sum(SignatureCount.n))
        .where(SignatureCount.petition_id == petition_id)
        .group_by(SignatureCount.kind)
    ).all()
    by_kind = {kind: int(n) for kind, n in rows}
    individuals = by_kind.get(Signature.INDIVIDUAL, 0)
    organizations = by_kind.get(Signature.ORGANIZATION, 0)
    return {
        "total": individuals + organizations,
        "individuals": individuals,
        "organizations": organizations,
    }


def count_by_country(petition) -> dict[str, int]:
    """Counted signatures of ``petition`` by ISO country code, largest first, then by code."""
    ttl = current_app.config["COUNTS_CACHE_SECONDS"]
    return cached(("countries", petition.id), ttl, lambda: _count_by_country(petition.id))


def _count_by_country(petition_id: int) -> dict[str, int]:
    total = func.sum(SignatureCount.n)
    rows = db.session.execute(
        select(SignatureCount.country, total)
        .where(SignatureCount.petition_id == petition_id)
        .group_by(SignatureCount.country)
        .having(total > 0)
        .order_by(total.desc(), SignatureCount.country)
    ).all()
    return {country: int(n) for country, n in rows}
