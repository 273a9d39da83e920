"""How the outbox is doing: what waits, since when, and what fails. Read by the organizers'
outbox page and by ``/healthz/mail``."""

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from ..extensions import db
from ..models import OutboxMessage, utcnow

RECENT_FAILURES = 20


@dataclass
class OutboxStatus:
    waiting: int  # mail to one signer (confirmations, receipts) not sent yet
    waiting_updates: int
    oldest_waiting_at: dt.datetime | None  # of the mail to one signer
    failing: int  # unsent messages that failed at least once
    failures: list  # the latest of them, newest first


def oldest_waiting_confirmation() -> dt.datetime | None:
    """When the oldest unsent mail to one signer was queued (updates wait their turn by design)."""
    return db.session.scalar(
        select(func.min(OutboxMessage.created_at)).where(
            OutboxMessage.sent_at.is_(None), OutboxMessage.update_id.is_(None)
        )
    )


def outbox_status() -> OutboxStatus:
    unsent = OutboxMessage.sent_at.is_(None)
    waiting, waiting_updates, failing = db.session.execute(
        select(
            func.count().filter(OutboxMessage.update_id.is_(None)),
            func.count().filter(OutboxMessage.update_id.is_not(None)),
            func.count().filter(OutboxMessage.attempts > 0),
        ).where(unsent)
    ).one()
    failures = db.session.scalars(
        select(OutboxMessage)
        .where(unsent, OutboxMessage.attempts > 0)
        .order_by(OutboxMessage.next_attempt_at.desc())
        .limit(RECENT_FAILURES)
    ).all()
    return OutboxStatus(waiting, waiting_updates, oldest_waiting_confirmation(), failing, failures)


def age_seconds(moment: dt.datetime | None, now: dt.datetime | None = None) -> int | None:
    """Whole seconds since ``moment``, or None."""
    if moment is None:
        return None
    return max(int(((now or utcnow()) - moment).total_seconds()), 0)
