"""Organizer accounts: loading for Flask-Login, creation, passwords, lockout, and sessions that
end (at logout, on a new password, after idle time, or when :func:`end_sessions` is called)."""

import datetime as dt
import functools
import logging
import math

from email_validator import EmailNotValidError, validate_email
from flask import abort, current_app, redirect, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from ..extensions import db, login_manager
from ..mail import queue_email
from ..models import Organizer, OrganizerRole, utcnow
from ..sharing import absolute_url
from ..signing.forms import LOOKALIKE_MESSAGE, has_lookalikes
from . import audit

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12
# zxcvbn looks at this much of a password: its work grows with the length, and a password this
# long that starts with something other than a common password is not a common password.
CHECKED_LENGTH = 100
# zxcvbn's score 2: a million guesses or more. Below it: twelve spaces, "aaaaaaaaaaaa",
# "qwertyqwerty", "Password1234!".
MIN_SCORE = 2
LAST_SEEN = "organizer_seen"  # session key: when this session last made a request
PENDING = "organizer_pending"  # session key: the account whose password was right, awaiting its code
PENDING_SINCE = "organizer_pending_since"
PENDING_SECONDS = 600


def clock() -> float:
    """Now, in seconds since the epoch, from ``AUTH_CLOCK`` (tests set the time there)."""
    return current_app.config["AUTH_CLOCK"]()


def clock_datetime() -> dt.datetime:
    """Now as a naive UTC datetime, the way the database keeps times."""
    return dt.datetime.fromtimestamp(clock(), dt.UTC).replace(tzinfo=None)


@functools.cache
def _decoy_hash() -> str:
    """A hash checked when the address is unknown, so both failures cost the same time."""
    return generate_password_hash("decoy password for unknown addresses", method="scrypt")


def organizer_from_id(session_id: str | None) -> Organizer | None:
    """The organizer a session names as ``id:version``, if that version is still current."""
    organizer_id, _sep, version = (session_id or "").partition(":")
    if not (organizer_id.isdigit() and version.isdigit()):
        return None
    organizer = db.session.get(Organizer, int(organizer_id))
    if organizer is None or organizer.session_version != int(version):
        return None
    return organizer


def load_organizer(session_id: str) -> Organizer | None:
    """Flask-Login's user loader: a session of an older version opens nothing."""
    return organizer_from_id(session_id)


@login_manager.unauthorized_handler
def unauthorized():
    """Pages send the visitor to the login form; downloads (CSV, XLSX) and JSON answer 401."""
    downloads = (".csv", ".xlsx", ".json")
    if request.path.endswith(downloads) or request.accept_mimetypes.best == "application/json":
        abort(401)
    return redirect(url_for("organizers.login", next=request.full_path.rstrip("?")))


def normalized_email(email: str) -> str:
    """An organizer's address checked as signers' are (no DNS look-up), in lower case; a
    ValueError with a message for the user when it is not a valid address."""
    email = (email or "").strip()
    if len(email) > 254:
        raise ValueError(_("Email addresses are at most 254 characters long."))
    if has_lookalikes(email):
        raise ValueError(str(LOOKALIKE_MESSAGE))
    try:
        return validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValueError(_("Enter a valid email address, like name@example.org.")) from error


def check_new_password(email: str, password: str) -> None:
    """Refuse a password that is short, holds the address's local part, is made of common
    passwords (zxcvbn's list) or is otherwise easy to guess: a ValueError with a message for
    the user."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(_("Use at least %(count)s characters.", count=MIN_PASSWORD_LENGTH))
    local_part = (email or "").strip().rpartition("@")[0].lower()
    # A local part of one or two letters would refuse half of all passwords and protect nothing.
    if len(local_part) >= 3 and local_part in password.lower():
        raise ValueError(_("Do not use your email address in your password."))
    analysis = zxcvbn(password[:CHECKED_LENGTH])
    if all(match.get("dictionary_name") == "passwords" for match in analysis["sequence"]):
        raise ValueError(_("This password is on a list of common passwords. Choose another."))
    if analysis["score"] < MIN_SCORE:
        raise ValueError(
            _("This password is too easy to guess: avoid repeated characters, runs and keyboard rows.")
        )


def create_organizer(email: str, password: str, admin: bool = True) -> Organizer:
    """Add an organizer, or set a new password for an existing one (ending its sessions and
    opening its lock); ``admin`` says whether the account administers the whole site (else it
    works only where it is granted a role)."""
    email = normalized_email(email)
    check_new_password(email, password)
    organizer = db.session.scalar(select(Organizer).where(Organizer.email == email))
    if organizer is None:
        organizer = Organizer(email=email)
        db.session.add(organizer)
    else:
        # A new password from the command line: the old sessions end and the lock, if any, opens.
        end_sessions(organizer)
        organizer.failed_logins = 0
        organizer.locked_until = None
    organizer.set_password(password)
    organizer.is_admin = admin
    db.session.flush()
    return organizer


def find_organizer(email: str) -> Organizer | None:
    return db.session.scalar(select(Organizer).where(Organizer.email == (email or "").strip().lower()))


class AccountLocked(Exception):
    """Too many failed sign-ins: the account opens to nobody for ``seconds``."""

    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.seconds / 60))


def check_not_locked(organizer: Organizer) -> None:
    """Raise :class:`AccountLocked` while ``organizer`` is locked."""
    if organizer.locked_until is not None and organizer.locked_until > clock_datetime():
        raise AccountLocked(int((organizer.locked_until - clock_datetime()).total_seconds()))


def authenticate(email: str, password: str) -> Organizer | None:
    """The organizer with these credentials; unknown address and wrong password look alike.
    A locked account raises :class:`AccountLocked`, whatever the password; a wrong one counts
    towards the lock."""
    organizer = find_organizer(email)
    if organizer is None:
        check_password_hash(_decoy_hash(), password)
        return None
    right = organizer.check_password(password)
    check_not_locked(organizer)
    if not right:
        record_failure(organizer, "password")
        return None
    return organizer


def record_failure(organizer: Organizer, step: str) -> None:
    """Count a failed password or code; at ``LOGIN_LOCK_AFTER`` in a row, lock the account for
    ``LOGIN_LOCK_MINUTES`` and tell its owner by email."""
    # Counted in the database, so that guesses sent at once to several workers all count.
    organizer.failed_logins = Organizer.failed_logins + 1
    db.session.flush()
    audit.record("login.failed", organizer=organizer, step=step)
    log.info("organizer sign-in failed: %s (%s)", organizer.id, step)
    if organizer.failed_logins < current_app.config["LOGIN_LOCK_AFTER"]:
        return
    minutes = current_app.config["LOGIN_LOCK_MINUTES"]
    organizer.locked_until = clock_datetime() + dt.timedelta(minutes=minutes)
    audit.record("login.locked", organizer=organizer, failures=organizer.failed_logins)
    log.warning("organizer account locked: %s", organizer.id)
    queue_email(
        organizer.email,
        "account_locked",
        locale=str(get_locale() or "en"),
        context={
            "failures": organizer.failed_logins,
            "minutes": minutes,
            "until": organizer.locked_until.strftime("%Y-%m-%d %H:%M"),
            "login_url": absolute_url("organizers.login"),
        },
    )


def start_session(organizer: Organizer) -> None:
    """Log ``organizer`` in on a new session: nothing of the one before carries over (no
    fixation)."""
    session.clear()
    login_user(organizer)
    session[LAST_SEEN] = int(clock())


def signed_in_organizer() -> Organizer:
    """The logged-in organizer itself (not Flask-Login's proxy), to change and log in again."""
    return db.session.get(Organizer, current_user.id)


def complete_sign_in(organizer: Organizer) -> None:
    """Password (and code) right: a new session, and the failures counted so far forgiven."""
    start_session(organizer)
    organizer.failed_logins = 0
    organizer.locked_until = None
    organizer.last_login_at = utcnow()
    audit.record("login", organizer=organizer)
    log.info("organizer logged in: %s", organizer.id)


def end_sessions(organizer: Organizer) -> None:
    """End every session of ``organizer``, on every worker and host: the version each one
    carries is no longer the account's. The caller commits."""
    organizer.session_version += 1


def await_second_factor(organizer: Organizer) -> None:
    """The password was right: a new session that remembers whose code to ask for, and opens
    nothing else."""
    session.clear()
    session[PENDING] = organizer.get_id()
    session[PENDING_SINCE] = int(clock())


def pending_organizer() -> Organizer | None:
    """The organizer whose code the second step asks for, while that step is fresh."""
    since = session.get(PENDING_SINCE)
    if since is None or clock() - since > PENDING_SECONDS:
        return None
    return organizer_from_id(session.get(PENDING))


def sees_personal_data(organizer: Organizer) -> bool:
    """Administrators, owners and moderators see signers' names and addresses."""
    return organizer.is_admin or any(
        role.role in (OrganizerRole.OWNER, OrganizerRole.MODERATOR) for role in organizer.roles
    )


def idle_too_long() -> bool:
    """Whether this organizer's session has gone unused for ``ORGANIZER_IDLE_MINUTES``; if not,
    it counts as used now."""
    seen = session.get(LAST_SEEN)
    now = clock()
    if seen is None or now - seen > current_app.config["ORGANIZER_IDLE_MINUTES"] * 60:
        return True
    session[LAST_SEEN] = int(now)
    return False
