"""Inviting organizers by email: a new address gets an account with no usable password and a
signed, expiring, single-use link to choose one; an existing account is told of its new role."""

import hashlib
import logging
import secrets

from flask import current_app, render_template
from flask_babel import get_locale
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..extensions import db
from ..mail.outbox import queue_email
from ..models import Organizer
from ..sharing import absolute_url, petition_url
from . import audit, roles

log = logging.getLogger(__name__)
SALT = "organizer-invitation"


class InvitationExpired(Exception):
    """The link was genuine but is older than ``INVITATION_MAX_AGE``."""


class InvitationInvalid(Exception):
    """The link was not made by this site, was altered, or has been used."""


def serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def fingerprint(organizer: Organizer) -> str:
    # Changes when the password is set (or the sessions are ended): the link then stops working.
    state = f"{organizer.password_hash}|{organizer.session_version}"
    return hashlib.sha256(state.encode()).hexdigest()[:16]


def invitation_token(organizer: Organizer) -> str:
    """The token of the link that lets ``organizer`` choose a password, once."""
    return serializer().dumps([organizer.id, fingerprint(organizer)])


def invited_organizer(token: str) -> Organizer:
    """The account ``token`` invites; raises InvitationExpired or InvitationInvalid."""
    try:
        organizer_id, mark = serializer().loads(token, max_age=current_app.config["INVITATION_MAX_AGE"])
    except SignatureExpired as error:
        raise InvitationExpired from error
    except (BadSignature, ValueError, TypeError) as error:
        raise InvitationInvalid from error
    organizer = db.session.get(Organizer, organizer_id) if isinstance(organizer_id, int) else None
    if organizer is None or fingerprint(organizer) != mark:
        raise InvitationInvalid
    return organizer


def invite(email: str, petition, role: str, may_leave_no_owner: bool = False) -> Organizer:
    """Give the account of ``email`` ``role`` on ``petition``, creating it if there is none, and
    queue the email that says so: with a link to choose a password while the account has never
    logged in, else a notice. In the caller's transaction."""
    organizer = roles.find_organizer(email)
    if organizer is None:
        organizer = Organizer(email=email.strip().lower(), is_admin=False)
        # A password nobody knows: the account opens only once its owner chooses one.
        organizer.set_password(secrets.token_urlsafe(32))
        db.session.add(organizer)
        db.session.flush()
        audit.record("account.invite", petition, account=organizer.email)
    roles.grant_role(organizer, petition, role, may_leave_no_owner=may_leave_no_owner)
    context = {
        "petition": petition,
        "role": role,
        "inviter": audit.current_actor(),
        "petition_url": petition_url(petition),
        "dashboard_url": absolute_url("organizers.petition_dashboard", slug=petition.slug),
    }
    if organizer.last_login_at is None:
        context["invitation_url"] = absolute_url(
            "organizers.accept_invitation", token=invitation_token(organizer)
        )
        template = "organizer_invitation"
    else:
        template = "organizer_role"
    queue_rendered(organizer.email, template, context)
    log.info("organizer %s invited as %s on %s", organizer.id, role, petition.slug)
    return organizer


def queue_rendered(recipient: str, template: str, context: dict) -> None:
    """Queue an email to an organizer, rendered now in the language of this page: it is about
    no signature, so the sender has nothing to render it from later."""
    message = queue_email(recipient, template, locale=str(get_locale()))
    message.subject = render_template(f"emails/{template}.subject.txt", **context).strip()
    message.text_body = render_template(f"emails/{template}.txt", **context)


def accept(organizer: Organizer, password: str) -> None:
    """Set the password the invitee chose: the link is then spent."""
    organizer.set_password(password)
    audit.record("invitation.accept", organizer=organizer)
