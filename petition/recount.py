"""The recount: the counts the triggers keep (``signature_count``, ``signature_tally``) and the
rows of each invalidation, checked against the signatures themselves; any drift is logged and
fixed. Run nightly (deploy/petition-recount.timer) and on demand (``signatures recount``)."""

import logging

from sqlalchemy import delete, func, insert, literal, select, update

from .extensions import db
from .models import Invalidation, Signature, SignatureCount, SignatureTally

log = logging.getLogger(__name__)


def count_buckets(petition_id: int):
    """The buckets of ``signature_count`` as the signatures make them: a SELECT of its columns."""
    shard = (Signature.id % SignatureCount.SHARDS).label("shard")
    return (
        select(literal(petition_id), Signature.kind, Signature.country, shard, func.count())
        .where(Signature.petition_id == petition_id, Signature.status.in_(Signature.COUNTED))
        .group_by(Signature.kind, Signature.country, shard)
    )


def tally_buckets(petition_id: int):
    """The buckets of ``signature_tally`` as the signatures make them."""
    shard = (Signature.id % SignatureTally.SHARDS).label("shard")
    return (
        select(literal(petition_id), Signature.status, Signature.email_confirmed, shard, func.count())
        .where(Signature.petition_id == petition_id)
        .group_by(Signature.status, Signature.email_confirmed, shard)
    )


def stored(model, petition_id: int, keys) -> dict:
    rows = db.session.execute(
        select(*(getattr(model, key) for key in keys), model.n).where(
            model.petition_id == petition_id, model.n != 0
        )
    ).all()
    return {tuple(row[:-1]): row[-1] for row in rows}


def counted(query) -> dict:
    return {tuple(row[1:-1]): row[-1] for row in db.session.execute(query)}


def drift(kept: dict, actual: dict) -> dict:
    """``{bucket: (kept, actual)}`` for every bucket where the two differ."""
    return {
        key: (kept.get(key, 0), actual.get(key, 0))
        for key in kept.keys() | actual.keys()
        if kept.get(key, 0) != actual.get(key, 0)
    }


def rebuild(model, columns, query, petition_id: int) -> None:
    """Replace the buckets of ``petition_id`` in ``model``'s table with ``query``'s, with other
    writers kept out meanwhile (PostgreSQL locks the signatures; on SQLite the DELETE takes the
    database's write lock first)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(db.text("LOCK TABLE signature IN SHARE ROW EXCLUSIVE MODE"))
    db.session.execute(delete(model).where(model.petition_id == petition_id))
    db.session.execute(insert(model).from_select([*columns, "n"], query))


def recount(petition) -> list[str]:
    """Check and fix the kept counts of ``petition``; return one line per drift found."""
    lines = []
    for model, keys, query in (
        (SignatureCount, ("kind", "country", "shard"), count_buckets(petition.id)),
        (SignatureTally, ("status", "email_confirmed", "shard"), tally_buckets(petition.id)),
    ):
        found = drift(stored(model, petition.id, keys), counted(query))
        db.session.commit()  # the read ends here: the fix below starts as a write
        if found:
            for bucket, (kept, actual) in sorted(found.items(), key=str):
                lines.append(
                    f"{petition.slug} {model.__tablename__} {bucket}: kept {kept}, actually {actual}"
                )
            rebuild(model, ("petition_id", *keys), query, petition.id)
            db.session.commit()
    actual = dict(
        db.session.execute(
            select(Signature.invalidation_id, func.count())
            .where(Signature.petition_id == petition.id, Signature.status == Signature.INVALIDATED)
            .group_by(Signature.invalidation_id)
        ).all()
    )
    for invalidation in db.session.scalars(
        select(Invalidation).where(Invalidation.petition_id == petition.id, Invalidation.undone_at.is_(None))
    ):
        if invalidation.rows != actual.get(invalidation.id, 0):
            lines.append(
                f"{petition.slug} invalidation {invalidation.id}: kept {invalidation.rows}, "
                f"actually {actual.get(invalidation.id, 0)}"
            )
            # Relative to the rows now, so that signatures it takes meanwhile are not lost.
            db.session.execute(
                update(Invalidation)
                .where(Invalidation.id == invalidation.id)
                .values(
                    rows=select(func.count())
                    .select_from(Signature)
                    .where(
                        Signature.invalidation_id == invalidation.id,
                        Signature.status == Signature.INVALIDATED,
                    )
                    .scalar_subquery()
                )
            )
    db.session.commit()
    for line in lines:
        log.warning("recount drift: %s", line)
    return lines
