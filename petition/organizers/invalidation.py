"""Bulk invalidation: organizers take out, at once, the signatures that match some filters (an
email domain, a network, a time span, a country, a name, a source, a status), with a category
and a reason; the count of matches is shown first, and an invalidation can be undone.

Large invalidations run in batches of ``INVALIDATION_BATCH`` ids, each one UPDATE statement in
a transaction of its own: on SQLite the write lock is held for one batch at a time, so people
signing meanwhile wait a moment at most. The count triggers move each signature out of the count
as its status changes. Signatures made after an invalidation starts are not in it.
"""

import datetime as dt
import logging
import time

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from ..extensions import db
from ..models import Invalidation, Petition, Signature, utcnow
from . import audit

log = logging.getLogger(__name__)

DEADLOCK = "40P01"  # PostgreSQL's SQLSTATE for a transaction ended to break a deadlock
# The filters, in the order forms and the command line show them.
FILTERS = ("domain", "network", "since", "until", "country", "name", "source", "status")
# The statuses an invalidation may select; invalidated signatures are never taken twice.
SELECTABLE = tuple(status for status in Signature.STATUSES if status != Signature.INVALIDATED)


def parse_moment(text: str, end: bool = False) -> dt.datetime:
    """A day (``YYYY-MM-DD``) or a moment (ISO 8601, UTC unless it says otherwise) as a naive UTC
    time. With ``end``, a day means its end: the first moment of the next day."""
    moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    if end and len(text.strip()) == 10:
        moment += dt.timedelta(days=1)
    return moment


def like_pattern(text: str) -> str:
    """A name pattern (``*`` for any characters, nothing else special) as a LIKE pattern that
    finds it anywhere in a name, in lower case."""
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return "%" + escaped.replace("*", "%") + "%"


def conditions(criteria: dict) -> list:
    """SQL conditions on :class:`Signature` for the non-empty ``criteria`` (see :data:`FILTERS`):
    since and until hold a day or a moment, until a day includes that day."""
    found = []
    if criteria.get("domain"):
        found.append(Signature.email_key.endswith("@" + criteria["domain"].strip().lower(), autoescape=True))
    if criteria.get("network"):
        found.append(Signature.network.startswith(criteria["network"].strip().lower(), autoescape=True))
    if criteria.get("since"):
        found.append(Signature.created_at >= parse_moment(criteria["since"]))
    if criteria.get("until"):
        found.append(Signature.created_at < parse_moment(criteria["until"], end=True))
    if criteria.get("country"):
        found.append(Signature.country == criteria["country"].strip().upper())
    if criteria.get("name"):
        found.append(func.lower(Signature.name).like(like_pattern(criteria["name"]), escape="\\"))
    if criteria.get("source"):
        found.append(Signature.source == criteria["source"].strip())
    if criteria.get("status"):
        found.append(Signature.status == criteria["status"])
    return found


def chosen(petition, criteria: dict) -> list:
    """The conditions that pick the signatures of ``petition`` an invalidation would take."""
    return [
        Signature.petition_id == petition.id,
        Signature.status != Signature.INVALIDATED,
        *conditions(criteria),
    ]


def count_matching(petition, criteria: dict) -> int:
    """How many signatures of ``petition`` an invalidation with ``criteria`` would take now."""
    return db.session.scalar(select(func.count()).select_from(Signature).where(*chosen(petition, criteria)))


def id_batches(where: list):
    """Ranges of ids ``[low, high)``, each ``INVALIDATION_BATCH`` wide, that cover the
    signatures matching ``where`` now; the caller commits each batch before asking for the next.

    On SQLite, a signer kept out by a batch waits in SQLite's busy handler, which sleeps up to
    100 ms between tries: a writer that began its next batch at once would get the lock first
    every time, and a long invalidation would keep signers out to their timeout. So each batch
    after the first waits ``INVALIDATION_PAUSE_SECONDS`` (0.1 s) first.
    """
    low, high = db.session.execute(select(func.min(Signature.id), func.max(Signature.id)).where(*where)).one()
    db.session.commit()  # no transaction kept open between batches
    if low is None:
        return
    size = current_app.config["INVALIDATION_BATCH"]
    pause = current_app.config["INVALIDATION_PAUSE_SECONDS"] if db.engine.dialect.name == "sqlite" else 0
    for start in range(low, high + 1, size):
        if start > low and pause:
            time.sleep(pause)
        yield start, start + size


def committed(batch, *args, attempts: int = 3) -> int:
    """Run ``batch(*args)`` and commit it; return what it returns.

    On PostgreSQL a batch's count triggers take the petition's count rows in an order of their
    own, and an organizer moderating at that moment takes them bucket by bucket: the database
    may end the batch to break the deadlock. It is then rolled back and run again.
    """
    attempt = 1
    while True:
        try:
            result = batch(*args)
            db.session.commit()
            return result
        except OperationalError as error:
            db.session.rollback()
            if getattr(error.orig, "sqlstate", None) != DEADLOCK or attempt == attempts:
                raise
            log.warning("invalidation batch chosen to break a deadlock; running it again")
            attempt += 1


def invalidate(
    petition, criteria: dict, category: str, reason: str, organizer=None, actor: str = ""
) -> Invalidation:
    """Invalidate the signatures of ``petition`` matching ``criteria``, batch by batch, each
    batch committed; record it; return the :class:`Invalidation`, whose ``rows`` says how many."""
    if category not in Invalidation.CATEGORIES:
        raise ValueError(f"unknown category {category!r}")
    criteria = {name: value for name, value in criteria.items() if value}
    invalidation = Invalidation(
        petition_id=petition.id,
        organizer_id=organizer.id if organizer is not None else None,
        actor=organizer.email if organizer is not None else actor,
        category=category,
        reason=reason.strip(),
        criteria=criteria,
    )
    db.session.add(invalidation)
    db.session.commit()
    # An undo while this still runs stops the batches that follow it.
    not_undone = (
        select(Invalidation.id)
        .where(Invalidation.id == invalidation.id, Invalidation.undone_at.is_(None))
        .exists()
    )
    where = chosen(petition, criteria)

    def take(low: int, high: int) -> int:
        taken = db.session.execute(
            update(Signature)
            .where(*where, not_undone, Signature.id >= low, Signature.id < high)
            .values(
                invalidated_from=Signature.status,
                status=Signature.INVALIDATED,
                invalidation_id=invalidation.id,
            ),
            execution_options={"synchronize_session": False},
        ).rowcount
        if taken:
            db.session.execute(
                update(Invalidation)
                .where(Invalidation.id == invalidation.id)
                .values(rows=Invalidation.rows + taken)
            )
        return taken

    for low, high in id_batches(where):
        committed(take, low, high)
    db.session.refresh(invalidation)
    audit.record(
        "invalidate",
        petition,
        rows=invalidation.rows,
        organizer=organizer,
        actor=actor,
        invalidation=invalidation.id,
        category=category,
        reason=invalidation.reason,
        # A name pattern may be a signer's name, which the audit record never holds.
        criteria={name: "…" if name == "name" else value for name, value in criteria.items()},
    )
    db.session.commit()
    log.info(
        "invalidated petition=%s invalidation=%s category=%s rows=%s criteria=%s",
        petition.slug,
        invalidation.id,
        category,
        invalidation.rows,
        criteria,
    )
    return invalidation


def undo(invalidation: Invalidation, organizer=None, actor: str = "") -> int | None:
    """Give the signatures of ``invalidation`` back the status they had, batch by batch; record
    it; return how many, or None when it was undone already (by someone else at the same moment,
    too: the first to mark it undoes it)."""
    claimed = db.session.execute(
        update(Invalidation)
        .where(Invalidation.id == invalidation.id, Invalidation.undone_at.is_(None))
        .values(undone_at=utcnow())
    ).rowcount
    db.session.commit()
    if not claimed:
        return None
    where = [
        Signature.petition_id == invalidation.petition_id,
        Signature.invalidation_id == invalidation.id,
        Signature.status == Signature.INVALIDATED,
    ]

    def give_back(low: int, high: int) -> int:
        return db.session.execute(
            update(Signature)
            .where(*where, Signature.id >= low, Signature.id < high)
            .values(status=Signature.invalidated_from, invalidated_from=None, invalidation_id=None),
            execution_options={"synchronize_session": False},
        ).rowcount

    restored = sum(committed(give_back, low, high) for low, high in id_batches(where))
    invalidation.rows = 0
    audit.record(
        "invalidation_undo",
        db.session.get(Petition, invalidation.petition_id),
        rows=restored,
        organizer=organizer,
        actor=actor,
        invalidation=invalidation.id,
    )
    db.session.commit()
    log.info("invalidation undone invalidation=%s rows=%s", invalidation.id, restored)
    return restored


def invalidations(petition, limit: int | None = 50) -> list[Invalidation]:
    """The latest invalidations of ``petition``, newest first."""
    return db.session.scalars(
        select(Invalidation)
        .where(Invalidation.petition_id == petition.id)
        .order_by(Invalidation.id.desc())
        .limit(limit)
    ).all()
