"""Delivering the outbox over SMTP, with retries and backoff; safe to run in several processes
and on several hosts.

A pass claims a batch of due messages: it sets their lease (``locked_until``), on PostgreSQL
skipping the rows another sender is claiming (``FOR UPDATE SKIP LOCKED``); on SQLite the UPDATE
waits for the one writer and takes only the rows still due. It renders the batch, then hands
each message to the server and marks it sent as soon as the server has accepted it. A sender
killed mid-batch leaves the rest of its claims to expire with the lease, when any sender takes
them again: the one message it had handed over without recording it may go twice, no other.
"""

import datetime as dt
import logging
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import OutboxMessage, Signature, utcnow
from ..signing.privacy import purge_on_schedule
from ..updates.delivery import queue_update_batches, update_allowance
from .headers import MAIL_POLICY
from .outbox import Cancelled, render_message
from .transport import Mailer

log = logging.getLogger(__name__)
# How long a claim holds its messages; a sender stops a batch halfway through it, so that no
# other sender can take a message it is still sending.
LEASE_SECONDS = 300
BATCH_SIZE = 50
MAX_BACKOFF_SECONDS = 3600
FAILURES = (OSError, smtplib.SMTPException, ValueError)


def message_id(message: OutboxMessage, domain: str) -> str:
    """The same for every attempt at one outbox row (ids are never reused), so a receiver that
    is handed a message twice can tell."""
    return f"<{message.created_at:%Y%m%d%H%M%S%f}.{message.id}@{domain}>"


def build_message(message: OutboxMessage) -> EmailMessage:
    """The email for an outbox row, its unsubscription headers on one line (see ``headers``)."""
    sender = current_app.config["MAIL_FROM"]
    email = EmailMessage(policy=MAIL_POLICY)
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    # In UTC as "+0000": formatdate's "-0000" says the sender does not know its time zone.
    email["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    email["Message-ID"] = message_id(message, parseaddr(sender)[1].rpartition("@")[2] or "localhost")
    for name, value in (message.headers or {}).items():
        email[name] = value
    # Base64 said outright: left to choose, the email package encodes each body both ways to
    # keep the shorter, and its quoted-printable encoder is slow Python.
    email.set_content(message.text_body, cte="base64")
    if message.html_body:
        email.add_alternative(message.html_body, subtype="html", cte="base64")
    return email


def backoff_seconds(attempts: int) -> int:
    """30 s, 1 min, 2 min, 4 min… up to an hour between attempts."""
    base = current_app.config["MAIL_RETRY_SECONDS"]
    return min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)


def claim_due(now: dt.datetime, limit: int) -> list[int]:
    """Lease up to ``limit`` due messages to this sender; others skip them until the lease ends.
    Mail to one signer (confirmations, receipts) goes first; organizers' updates fill the rest
    of the batch, within ``MAIL_RATE_PER_MINUTE``, so a big update never holds one back."""
    until = now + dt.timedelta(seconds=LEASE_SECONDS)
    claimed = claim(OutboxMessage.update_id.is_(None), limit, now, until)
    room = min(limit - len(claimed), update_allowance(now))
    if room > 0:
        claimed += claim(OutboxMessage.update_id.is_not(None), room, now, until)
    db.session.commit()
    return claimed


def claim(kind, limit: int, now: dt.datetime, until: dt.datetime) -> list[int]:
    """Lease the oldest ``limit`` due messages of ``kind``; their ids. On PostgreSQL the SELECT
    locks the rows it picks and skips those another sender is claiming. The UPDATE checks again
    that each is due: on SQLite the SELECT runs outside the transaction, and another sender may
    have claimed a row in between. (Not one statement: PostgreSQL may run a LIMIT subquery of an
    UPDATE once per row, and SKIP LOCKED then hands it more rows than the limit.)"""
    picked = db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.is_due(now), kind)
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not picked:
        return []
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(picked), OutboxMessage.is_due(now))
        .values(locked_until=until)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(db.session.scalars(statement))


@dataclass
class Outgoing:
    """A claimed message, rendered: what goes to the server."""

    id: int
    attempts: int
    template: str
    email: EmailMessage


def prepare(claimed: list[int], now: dt.datetime) -> tuple[list[Outgoing], int]:
    """Render the claimed messages, confirmations first; cancel those with nothing left to say
    and record those that cannot be rendered as failed. The rendered subjects and bodies are
    stored with the batch's commit (a retry sends them as they are). The messages ready, and how
    many failed."""
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(claimed))
        .order_by(OutboxMessage.update_id.is_not(None), OutboxMessage.id)
    ).all()
    # Each signature and petition of the batch in two queries, not two per message; held here
    # so that the session's identity map (weak references) keeps them for rendering.
    signature_ids = {message.signature_id for message in messages if message.signature_id}
    signatures = db.session.scalars(
        select(Signature).where(Signature.id.in_(signature_ids)).options(selectinload(Signature.petition))
    ).all()
    ready, failed = [], 0
    for message in messages:
        try:
            if not message.text_body:
                render_message(message)
            ready.append(Outgoing(message.id, message.attempts, message.template, build_message(message)))
        except Cancelled as reason:
            values = {"sent_at": utcnow(), "locked_until": None, "last_error": f"cancelled: {reason}"}
            record(message.id, values)
        except Exception as error:  # noqa: BLE001 - a message that cannot be rendered waits, logged
            log.exception("email %s could not be rendered", message.id)
            record_failure(message.id, message.attempts, error, now)
            failed += 1
    db.session.commit()
    del signatures
    return ready, failed


def record(message_id: int, values: dict) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(values)
        .execution_options(synchronize_session=False)
    )


def record_failure(message_id: int, attempts: int, error: Exception, now: dt.datetime) -> None:
    """Count the attempt, keep the error, and set the next attempt after the backoff."""
    attempts += 1
    last_error = f"{type(error).__name__}: {error}"[:1000]
    next_attempt_at = now + dt.timedelta(seconds=backoff_seconds(attempts))
    record(
        message_id,
        {
            "attempts": attempts,
            "last_error": last_error,
            "next_attempt_at": next_attempt_at,
            "locked_until": None,
        },
    )
    log.warning(
        "email %s not sent (attempt %s): %s; next try at %s",
        message_id,
        attempts,
        last_error,
        next_attempt_at,
    )


def send_due(
    limit: int = BATCH_SIZE, now: dt.datetime | None = None, mailer: Mailer | None = None
) -> tuple[int, int]:
    """Send one batch of the messages that are due, over ``mailer``'s connection (else one
    opened and closed here); return how many were sent and how many failed."""
    now = now or utcnow()
    queue_update_batches(now)
    claimed = claim_due(now, limit)
    if not claimed:
        return 0, 0
    own = mailer is None
    mailer = mailer or Mailer()
    try:
        return send_claimed(claimed, now, mailer)
    finally:
        if own:
            mailer.close()


def send_claimed(claimed: list[int], now: dt.datetime, mailer: Mailer) -> tuple[int, int]:
    ready, failed = prepare(claimed, now)
    sent = 0
    stop_at = time.monotonic() + LEASE_SECONDS / 2
    for number, outgoing in enumerate(ready):
        if time.monotonic() > stop_at:
            release([each.id for each in ready[number:]])
            break
        try:
            deliver(outgoing.email, mailer)
        except FAILURES as error:
            # A lost connection (the server down or gone) fails the rest of the batch too,
            # rather than waiting on the server for each of them.
            rest = ready[number:] if mailer.connection is None and mailer.url else [outgoing]
            for each in rest:
                record_failure(each.id, each.attempts, error, now)
            db.session.commit()
            failed += len(rest)
            if len(rest) > 1:
                break
            continue
        # Recorded at once: a crash from here on repeats no message already accepted.
        record(outgoing.id, {"sent_at": utcnow(), "attempts": outgoing.attempts + 1, "locked_until": None})
        db.session.commit()
        sent += 1
        log.info("email sent id=%s template=%s", outgoing.id, outgoing.template)
    return sent, failed


def release(message_ids: list[int]) -> None:
    """Give back messages this sender will not send now, before its lease on them ends."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids), OutboxMessage.sent_at.is_(None))
        .values(locked_until=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def deliver(email: EmailMessage, mailer: Mailer) -> None:
    """Hand one message to the SMTP server, or write it to the log when there is none."""
    if not mailer.url:
        text = email.get_body(preferencelist=("plain",)).get_content()
        log.info("email (no SMTP_URL, not sent) to=%s subject=%s\n%s", email["To"], email["Subject"], text)
        return
    mailer.send(email)


def unsent_count() -> int:
    """Messages not delivered yet."""
    return db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
    )


def run_worker(
    interval: float = 2.0, stop=None, batch: int = BATCH_SIZE, clock=time.monotonic, purge: bool = True
) -> None:
    """Send due messages until ``stop`` (a threading.Event) is set or the process ends, on one
    SMTP connection kept open; with ``purge``, apply the retention rules at start and then
    every ``PURGE_INTERVAL_SECONDS`` of ``clock``, each run in a transaction of its own whose
    failure is logged and never stops the sending."""
    log.info("mail sender started, polling every %.1fs", interval)
    purge_every = current_app.config["PURGE_INTERVAL_SECONDS"] if purge else 0
    purge_at = clock()
    mailer = Mailer()
    try:
        while stop is None or not stop.is_set():
            if purge_every > 0 and clock() >= purge_at:
                purge_at = clock() + purge_every
                purge_on_schedule()
                db.session.remove()
            sent = 0
            try:
                sent, _failed = send_due(limit=batch, mailer=mailer)
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
    finally:
        mailer.close()
