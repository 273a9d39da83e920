"""Organizer accounts: loading for Flask-Login, creation, password checks."""

import functools

from flask import abort, redirect, request, url_for
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db, login_manager
from ..models import Organizer, utcnow

MIN_PASSWORD_LENGTH = 10


@functools.cache
def _decoy_hash() -> str:
    """A hash checked when the address is unknown, so both failures cost the same time."""
    return generate_password_hash("decoy password for unknown addresses", method="scrypt")


def load_organizer(organizer_id: str) -> Organizer | None:
    if not organizer_id.isdigit():
        return None
    return db.session.get(Organizer, int(organizer_id))


@login_manager.unauthorized_handler
def unauthorized():
    """Pages send the visitor to the login form; downloads (CSV, XLSX) and JSON answer 401."""
    downloads = (".csv", ".xlsx", ".json")
    if request.path.endswith(downloads) or request.accept_mimetypes.best == "application/json":
        abort(401)
    return redirect(url_for("organizers.login", next=request.full_path.rstrip("?")))


def create_organizer(email: str, password: str, admin: bool = True) -> Organizer:
    """Add an organizer, or set a new password for an existing one; ``admin`` says whether the
    account administers the whole site (else it works only where it is granted a role)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    email = email.strip().lower()
    organizer = db.session.scalar(select(Organizer).where(Organizer.email == email))
    if organizer is None:
        organizer = Organizer(email=email)
        db.session.add(organizer)
    organizer.set_password(password)
    organizer.is_admin = admin
    db.session.flush()
    return organizer


def authenticate(email: str, password: str) -> Organizer | None:
    """The organizer with these credentials; unknown address and wrong password look alike."""
    organizer = db.session.scalar(select(Organizer).where(Organizer.email == email.strip().lower()))
    if organizer is None:
        check_password_hash(_decoy_hash(), password)
        return None
    if not organizer.check_password(password):
        return None
    organizer.last_login_at = utcnow()
    return organizer
