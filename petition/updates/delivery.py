"""What the mail sender does for updates: queue the next batches, keep to the rate, and give each
email the update it carries.

The sender calls :func:`queue_update_batches` at the start of every pass, so ``flask mail send``
(once, from cron) and ``flask mail send --loop`` (the worker ``make run`` starts) both deliver
updates; no other process is needed.
"""

import datetime as dt
import logging

from flask import current_app
from sqlalchemy import and_, func, or_, select

from ..extensions import db
from ..mail.outbox import Cancelled
from ..models import OutboxMessage, Signature, Update
from . import services

log = logging.getLogger(__name__)


def queue_update_batches(now: dt.datetime | None = None) -> int:
    """Queue the next batch of every update being sent, and commit. The backlog of an update's
    unsent messages stays under ``UPDATE_BATCH_SIZE``, so the outbox never holds a whole mailing
    at once. A failure here is logged and never stops the sender's other mail."""
    size = current_app.config["UPDATE_BATCH_SIZE"]
    queued = 0
    try:
        sending = db.session.scalars(select(Update).where(Update.status == Update.SENDING)).all()
        for update in sending:
            room = size - unsent_messages(update)
            if room > 0:
                queued += services.enqueue_batch(update, room, now)
        db.session.commit()
    except Exception:
        log.exception("queueing update batches failed; the next pass tries again")
        db.session.rollback()
    return queued


def unsent_messages(update: Update) -> int:
    """Messages of ``update`` queued and not sent yet: its backlog in the outbox."""
    return db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.update_id == update.id, OutboxMessage.sent_at.is_(None))
    )


def update_allowance(now: dt.datetime) -> int:
    """How many update emails may go now: ``MAIL_RATE_PER_MINUTE`` less those sent in the last
    minute and those a sender holds at this moment (so several senders share one rate)."""
    rate = current_app.config["MAIL_RATE_PER_MINUTE"]
    busy = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.update_id.is_not(None),
            or_(
                OutboxMessage.sent_at >= now - dt.timedelta(minutes=1),
                and_(OutboxMessage.sent_at.is_(None), OutboxMessage.locked_until > now),
            ),
        )
    )
    return max(rate - busy, 0)


def update_context(message: OutboxMessage, signature: Signature) -> dict:
    """The update an email carries, its body as HTML, and the signer's unsubscribe link. An
    update is not sent to a signer who has since unsubscribed or been rejected."""
    update = db.session.get(Update, message.update_id) if message.update_id else None
    if update is None:
        raise Cancelled("the update no longer exists")
    if not signature.updates:
        raise Cancelled("the signer unsubscribed from updates")
    if not signature.is_counted:
        raise Cancelled("the signature no longer counts")
    return {
        "update": update,
        "update_html": services.render_markdown(update.body),
        "unsubscribe_url": services.unsubscribe_url(signature, message.context.get("origin")),
    }


def delivery_counts(updates: list[Update]) -> dict[int, dict[str, int]]:
    """For each update, its emails: queued in all, sent (handed to the mail server) and waiting
    (not sent yet, or being retried). Those cancelled, to signers who left, are neither."""
    counts = {update.id: {"queued": 0, "sent": 0, "waiting": 0} for update in updates}
    if not counts:
        return counts
    cancelled = OutboxMessage.last_error.like("cancelled:%")
    rows = db.session.execute(
        select(
            OutboxMessage.update_id,
            func.count(),
            func.count().filter(OutboxMessage.sent_at.is_not(None), ~cancelled),
            func.count().filter(OutboxMessage.sent_at.is_(None)),
        )
        .where(OutboxMessage.update_id.in_(list(counts)))
        .group_by(OutboxMessage.update_id)
    )
    for update_id, queued, sent, waiting in rows:
        counts[update_id] = {"queued": queued, "sent": sent, "waiting": waiting}
    return counts
