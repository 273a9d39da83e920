"""Queueing email: rendered in the recipient's language and stored with the change that causes it."""

import logging

from flask import render_template
from flask_babel import force_locale

from ..extensions import db
from ..models import OutboxMessage

log = logging.getLogger(__name__)


def queue_email(
    recipient: str,
    template: str,
    *,
    locale: str = "en",
    signature_id: int | None = None,
    purpose: str = "",
    headers: dict | None = None,
    **context,
) -> OutboxMessage:
    """Render ``emails/<template>.txt`` and ``.html`` and add them to the outbox (flushed, not
    committed: the caller's transaction decides whether the email exists at all)."""
    with force_locale(locale):
        subject = render_template(f"emails/{template}.subject.txt", **context).strip()
        text_body = render_template(f"emails/{template}.txt", **context)
        html_body = render_template(f"emails/{template}.html", subject=subject, **context)
    message = OutboxMessage(
        recipient=recipient,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        headers=headers or {},
        purpose=purpose or template,
        signature_id=signature_id,
    )
    db.session.add(message)
    db.session.flush()
    log.info("email queued id=%s purpose=%s", message.id, message.purpose)
    return message
