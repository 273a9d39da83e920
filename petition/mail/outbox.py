"""Queueing email in the transaction that causes it, and rendering it when it is sent."""

import logging

from flask import render_template
from flask_babel import force_locale

from ..extensions import db
from ..models import OutboxMessage, Signature
from ..sharing import absolute_url, petition_url

log = logging.getLogger(__name__)


def email_values(
    recipient: str,
    template: str,
    *,
    locale: str = "en",
    signature_id: int | None = None,
    context: dict | None = None,
    headers: dict | None = None,
) -> dict:
    """The columns of an outbox row for an email, before it is rendered: what :func:`queue_email`
    adds through the session, and what signing inserts directly."""
    return {
        "recipient": recipient,
        "template": template,
        "locale": locale,
        "signature_id": signature_id,
        "context": context or {},
        "headers": headers or {},
    }


def queue_email(
    recipient: str,
    template: str,
    *,
    locale: str = "en",
    signature_id: int | None = None,
    signature: Signature | None = None,
    context: dict | None = None,
    headers: dict | None = None,
) -> OutboxMessage:
    """Add an email to the outbox, in the caller's transaction: it exists if and only if what
    caused it is committed. It is rendered by the sender, so signing stays fast."""
    values = email_values(
        recipient, template, locale=locale, signature_id=signature_id, context=context, headers=headers
    )
    message = OutboxMessage(**values, signature=signature)
    db.session.add(message)
    log.debug("email queued to=%s template=%s", recipient, template)
    return message


class Cancelled(Exception):
    """The message has nothing left to say, e.g. its signature was withdrawn."""


def signer_context(message: OutboxMessage) -> dict:
    """What a signer's email needs: the signature, its petition, and the links to act on it."""
    # Imported here: the signing package loads its views, which queue email through this module.
    from ..signing import tokens

    signature = db.session.get(Signature, message.signature_id) if message.signature_id else None
    if signature is None:
        raise Cancelled("the signature no longer exists")
    origin = message.context.get("origin")
    return {
        "signature": signature,
        "petition": signature.petition,
        "petition_url": petition_url(signature.petition, origin=origin),
        "confirm_url": absolute_url(
            "signing.confirm", _origin=origin, token=tokens.make_token(signature, tokens.CONFIRM)
        ),
        "withdraw_url": absolute_url(
            "signing.withdraw", _origin=origin, token=tokens.make_token(signature, tokens.WITHDRAW)
        ),
        "privacy_url": absolute_url("petitions.privacy", _origin=origin),
        "versions_url": absolute_url("petitions.versions_list", _origin=origin, slug=signature.petition.slug),
    }


# Emails to an organizer's account: everything they say is in the message's context.
ACCOUNT_TEMPLATES = {"account_locked"}


def render_message(message: OutboxMessage) -> None:
    """Fill in subject and bodies from ``emails/<template>.*`` in the message's language."""
    if message.template in ACCOUNT_TEMPLATES:
        context = dict(message.context)
    else:
        context = signer_context(message)
    if message.template == "update":
        # Imported here: the updates package imports this module (for Cancelled).
        from ..updates.delivery import update_context

        context.update(update_context(message, context["signature"]))
    with force_locale(message.locale):
        message.subject = render_template(f"emails/{message.template}.subject.txt", **context).strip()
        message.text_body = render_template(f"emails/{message.template}.txt", **context)
        message.html_body = render_template(
            f"emails/{message.template}.html", subject=message.subject, **context
        )
