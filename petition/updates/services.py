"""The write side of updates: drafts, their preview, and queueing one email per recipient, once.

Sending is a series of batches. Each batch picks recipients that have no message for the update
yet and inserts their outbox rows; the unique constraint on (update, signature) makes a second
insert for the same signer a no-op, so two workers, a retry or a crash mid-way never send anyone
the same update twice.
"""

import logging

from flask import current_app, has_request_context
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import exists, func, select
from sqlalchemy import update as sql_update
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import OutboxMessage, Signature, Update, utcnow
from ..sharing import absolute_url, site_origin
from ..signing import tokens

log = logging.getLogger(__name__)
TEMPLATE = "update"
markdown = MarkdownIt("commonmark", {"html": False})
# INSERT … ON CONFLICT DO NOTHING, in each database's own words.
INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
ROWS_PER_INSERT = 500  # keeps one statement under SQLite's limit of bound parameters


def render_markdown(text: str) -> Markup:
    """An update's Markdown as HTML; raw HTML in it is shown as text, never run."""
    return Markup(markdown.render(text or ""))  # noqa: S704 - raw HTML is disabled in the parser


def updates_of(petition) -> list[Update]:
    """The petition's updates, newest first."""
    return db.session.scalars(
        select(Update).where(Update.petition_id == petition.id).order_by(Update.id.desc())
    ).all()


def create_update(petition, subject: str, body: str, organizer=None) -> Update:
    """A new draft."""
    update = Update(
        petition_id=petition.id,
        subject=subject,
        body=body,
        status=Update.DRAFT,
        created_by=organizer.id if organizer is not None else None,
    )
    db.session.add(update)
    db.session.flush()
    log.info("update %s drafted for petition=%s", update.id, petition.slug)
    return update


def edit_update(update: Update, subject: str, body: str) -> bool:
    """Change a draft; an update that has started sending stays as it went out."""
    if update.status != Update.DRAFT:
        return False
    update.subject, update.body = subject, body
    return True


def recipients(petition_id: int):
    """Signatures that receive updates: counted, and opted in to news."""
    return select(Signature).where(
        Signature.petition_id == petition_id,
        Signature.status.in_(Signature.COUNTED),
        Signature.updates.is_(True),
    )


def count_recipients(petition) -> int:
    """How many signers an update of ``petition`` would reach now."""
    query = recipients(petition.id).with_only_columns(func.count(), maintain_column_froms=True)
    return db.session.scalar(query)


def start_sending(update: Update) -> bool:
    """Turn a draft into an update being sent; the first batch is queued at once. Only one
    request wins, so a double click starts it once."""
    started = db.session.execute(
        sql_update(Update)
        .where(Update.id == update.id, Update.status == Update.DRAFT)
        .values(status=Update.SENDING, started_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(update)
    if started.rowcount != 1:
        return False
    log.info("update %s: sending started", update.id)
    enqueue_batch(update, current_app.config["UPDATE_BATCH_SIZE"])
    return True


def enqueue_batch(update: Update, limit: int, now=None) -> int:
    """Queue the update for up to ``limit`` recipients that have no message for it yet; mark it
    sent once no one is left. Return how many messages were added."""
    waiting = recipients_without_message(update, limit)
    queued = insert_messages(update, waiting, now)
    if len(waiting) < limit and update.status == Update.SENDING:
        update.status, update.finished_at = Update.SENT, utcnow()
        log.info("update %s: every recipient is queued", update.id)
    return queued


def recipients_without_message(update: Update, limit: int) -> list[Signature]:
    """Up to ``limit`` recipients of ``update`` who have no outbox message for it."""
    has_message = exists().where(
        OutboxMessage.update_id == update.id, OutboxMessage.signature_id == Signature.id
    )
    query = recipients(update.petition_id).where(~has_message).order_by(Signature.id).limit(limit)
    return db.session.scalars(query).all()


def insert_messages(update: Update, signatures: list[Signature], now=None) -> int:
    """One outbox message per signature, skipping any that another worker inserted first."""
    if not signatures:
        return 0
    now = now or utcnow()
    origin = sending_origin(update)
    rows = [message_row(update, signature, origin, now) for signature in signatures]
    insert = INSERT[db.session.get_bind().dialect.name]
    queued = 0
    for start in range(0, len(rows), ROWS_PER_INSERT):
        statement = insert(OutboxMessage).values(rows[start : start + ROWS_PER_INSERT])
        statement = statement.on_conflict_do_nothing(
            index_elements=[OutboxMessage.update_id, OutboxMessage.signature_id]
        )
        # RETURNING names the rows inserted; rowcount is not reliable for this on every driver.
        queued += len(db.session.execute(statement.returning(OutboxMessage.id)).all())
    log.info("update %s: %s messages queued", update.id, queued)
    return queued


def message_row(update: Update, signature: Signature, origin: str, now) -> dict:
    """The outbox row that carries ``update`` to ``signature``; the sender renders it later."""
    return {
        "recipient": signature.email,
        "template": TEMPLATE,
        "locale": signature.locale,
        "context": {"origin": origin},
        "headers": list_unsubscribe_headers(unsubscribe_url(signature, origin)),
        "signature_id": signature.id,
        "update_id": update.id,
        "subject": "",
        "text_body": "",
        "html_body": "",
        "attempts": 0,
        "last_error": "",
        "next_attempt_at": now,
        "created_at": utcnow(),
    }


def unsubscribe_url(signature: Signature, origin: str | None = None) -> str:
    """The signer's link that stops updates: a page with a button, and the one-click target."""
    token = tokens.make_token(signature, tokens.UNSUBSCRIBE)
    return absolute_url("updates.unsubscribe", _origin=origin, token=token)


def list_unsubscribe_headers(url: str) -> dict:
    """RFC 8058 one-click unsubscription: mail clients POST ``List-Unsubscribe=One-Click`` to url."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def sending_origin(update: Update) -> str:
    """Where the links of an update point: ``BASE_URL`` or the organizer's request; in the mail
    worker without ``BASE_URL``, the origin that the update's first batch was queued with."""
    if current_app.config.get("BASE_URL") or has_request_context():
        return site_origin()
    first = db.session.scalar(
        select(OutboxMessage.context)
        .where(OutboxMessage.update_id == update.id)
        .order_by(OutboxMessage.id)
        .limit(1)
    )
    return (first or {}).get("origin") or site_origin()


def unsubscribe(signature: Signature) -> bool:
    """Stop updates to ``signature``; return whether it was receiving them."""
    if not signature.updates:
        return False
    signature.updates = False
    log.info("unsubscribed from updates signature=%s petition=%s", signature.id, signature.petition_id)
    return True
