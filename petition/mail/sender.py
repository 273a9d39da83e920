"""Delivering the outbox over SMTP, with retries and backoff; safe to run in several processes."""

import datetime as dt
import logging
import smtplib
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from flask import current_app
from sqlalchemy import func, select, update

from ..extensions import db
from ..models import OutboxMessage, utcnow
from ..signing.privacy import purge_on_schedule
from ..updates.delivery import queue_update_batches, update_allowance
from .headers import MAIL_POLICY
from .outbox import Cancelled, render_message
from .smtp import SMTPSettings

log = logging.getLogger(__name__)
LOCK_SECONDS = 300
MAX_BACKOFF_SECONDS = 3600


def build_message(message: OutboxMessage) -> EmailMessage:
    """The email for an outbox row, its unsubscription headers on one line (see ``headers``)."""
    sender = current_app.config["MAIL_FROM"]
    email = EmailMessage(policy=MAIL_POLICY)
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or "localhost")
    for name, value in (message.headers or {}).items():
        email[name] = value
    email.set_content(message.text_body)
    if message.html_body:
        email.add_alternative(message.html_body, subtype="html")
    return email


def backoff_seconds(attempts: int) -> int:
    """30 s, 1 min, 2 min, 4 min… up to an hour between attempts."""
    base = current_app.config["MAIL_RETRY_SECONDS"]
    return min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)


def claim_due(now: dt.datetime, limit: int) -> list[int]:
    """Lock up to ``limit`` due messages for this sender; another sender skips them. Mail to one
    signer (confirmations, receipts) goes first; organizers' updates fill the rest of the batch,
    within ``MAIL_RATE_PER_MINUTE``, so a big update never holds a confirmation back."""
    due = OutboxMessage.due(now).with_only_columns(OutboxMessage.id).order_by(OutboxMessage.id)
    candidates = db.session.scalars(due.where(OutboxMessage.update_id.is_(None)).limit(limit)).all()
    room = min(limit - len(candidates), update_allowance(now))
    if room > 0:
        candidates += db.session.scalars(due.where(OutboxMessage.update_id.is_not(None)).limit(room)).all()
    claimed = []
    for message_id in candidates:
        result = db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.locked_until.is_(None) | (OutboxMessage.locked_until < now),
            )
            .values(locked_until=now + dt.timedelta(seconds=LOCK_SECONDS))
        )
        if result.rowcount == 1:
            claimed.append(message_id)
    db.session.commit()
    return claimed


def record_failure(message: OutboxMessage, error: Exception, now: dt.datetime) -> None:
    message.attempts += 1
    message.last_error = f"{type(error).__name__}: {error}"[:1000]
    message.next_attempt_at = now + dt.timedelta(seconds=backoff_seconds(message.attempts))
    message.locked_until = None
    log.warning(
        "email %s not sent (attempt %s): %s; next try at %s",
        message.id,
        message.attempts,
        message.last_error,
        message.next_attempt_at,
    )


def send_due(limit: int = 100, now: dt.datetime | None = None) -> tuple[int, int]:
    """Send the messages that are due; return how many were sent and how many failed."""
    now = now or utcnow()
    queue_update_batches(now)
    claimed = claim_due(now, limit)
    if not claimed:
        return 0, 0
    url = current_app.config.get("SMTP_URL")
    connection, failure = None, None
    if url:
        try:
            connection = SMTPSettings(url).connect()
        except (OSError, smtplib.SMTPException, ValueError) as error:
            failure = error
    sent = failed = 0
    try:
        for message_id in claimed:
            message = db.session.get(OutboxMessage, message_id)
            try:
                if not message.text_body:
                    render_message(message)
            except Cancelled as reason:
                message.sent_at, message.locked_until = utcnow(), None
                message.last_error = f"cancelled: {reason}"
                db.session.commit()
                continue
            try:
                if failure:
                    raise failure
                deliver(message, connection)
            except (OSError, smtplib.SMTPException, ValueError) as error:
                record_failure(message, error, now)
                failed += 1
            else:
                message.attempts += 1
                message.sent_at = utcnow()
                message.locked_until = None
                sent += 1
                log.info("email sent id=%s template=%s", message.id, message.template)
            db.session.commit()
    finally:
        if connection is not None:
            try:
                connection.quit()
            except (OSError, smtplib.SMTPException):
                connection.close()
    return sent, failed


def deliver(message: OutboxMessage, connection) -> None:
    """Hand one message to the SMTP server, or write it to the log when there is none."""
    email = build_message(message)
    if connection is None:
        log.info(
            "email (no SMTP_URL, not sent) to=%s subject=%s\n%s",
            message.recipient,
            message.subject,
            message.text_body,
        )
        return
    connection.send_message(email)


def unsent_count() -> int:
    """Messages not delivered yet."""
    return db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
    )


def run_worker(interval: float = 2.0, stop=None, batch: int = 100, clock=time.monotonic) -> None:
    """Send due messages until ``stop`` (a threading.Event) is set or the process ends; apply
    the retention rules at start and then every ``PURGE_INTERVAL_SECONDS`` of ``clock``, each
    run in a transaction of its own whose failure is logged and never stops the sending."""
    log.info("mail sender started, polling every %.1fs", interval)
    purge_every = current_app.config["PURGE_INTERVAL_SECONDS"]
    purge_at = clock()
    while stop is None or not stop.is_set():
        if purge_every > 0 and clock() >= purge_at:
            purge_at = clock() + purge_every
            purge_on_schedule()
            db.session.remove()
        sent = 0
        try:
            sent, _failed = send_due(limit=batch)
        except Exception:
            log.exception("mail sender pass failed; retrying")
            db.session.rollback()
        finally:
            db.session.remove()
        if sent < batch:  # a full batch means more may be due: go again at once
            if stop is not None:
                stop.wait(interval)
            else:
                time.sleep(interval)
