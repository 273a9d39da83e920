"""The second factor: one-time codes from an authenticator app (TOTP, RFC 6238) and ten
single-use recovery codes, kept only as hashes."""

import hashlib
import secrets

import pyotp
import segno
from flask import current_app
from sqlalchemy import delete, update

from ..extensions import db
from ..models import Organizer, RecoveryCode, utcnow
from .auth import clock

RECOVERY_CODES = 10
# A phone's clock may be a little off: the codes of one step before and after are accepted too.
STEPS_EITHER_SIDE = 1


def new_secret() -> str:
    return pyotp.random_base32()


def qr_code_svg(organizer: Organizer, secret: str) -> str:
    """The QR code an authenticator app scans, as an SVG element for the page."""
    issuer = current_app.config.get("BASE_URL") or "petition"
    uri = pyotp.TOTP(secret).provisioning_uri(name=organizer.email, issuer_name=issuer.split("://")[-1])
    return segno.make(uri, error="m").svg_inline(scale=4, light="#fff", title="QR code")


def matching_step(secret: str, code: str) -> int | None:
    """The time step whose code ``code`` is, within a step of now; None if none."""
    code = "".join(code.split())
    totp = pyotp.TOTP(secret)
    now = clock()
    for offset in range(-STEPS_EITHER_SIDE, STEPS_EITHER_SIDE + 1):
        moment = now + offset * totp.interval
        if totp.verify(code, for_time=moment):
            return int(moment // totp.interval)
    return None


def use_totp_code(organizer: Organizer, code: str) -> bool:
    """Accept ``code`` once: its step must come after the last one accepted for the account
    (no replay, even by two workers at the same moment)."""
    step = matching_step(organizer.totp_secret, code) if organizer.totp_secret else None
    if step is None:
        return False
    taken = db.session.execute(
        update(Organizer)
        .where(
            Organizer.id == organizer.id,
            Organizer.totp_last_step.is_(None) | (Organizer.totp_last_step < step),
        )
        .values(totp_last_step=step)
    )
    return taken.rowcount == 1


def recovery_hash(code: str) -> str:
    # The codes are 80 random bits: a fast hash is enough, and finds a code in one lookup.
    return hashlib.sha256("".join(code.lower().split()).replace("-", "").encode()).hexdigest()


def new_recovery_codes(organizer: Organizer) -> list[str]:
    """Replace the account's recovery codes with ten new ones; return them, to show once."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.organizer_id == organizer.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(10)
        codes.append("-".join(raw[i : i + 5] for i in range(0, len(raw), 5)))
    db.session.add_all(RecoveryCode(organizer_id=organizer.id, code_hash=recovery_hash(c)) for c in codes)
    return codes


def use_recovery_code(organizer: Organizer, code: str) -> bool:
    """Accept one of the account's unused recovery codes, once."""
    used = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.organizer_id == organizer.id,
            RecoveryCode.code_hash == recovery_hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    return used.rowcount == 1


def enrol(organizer: Organizer, secret: str, code: str) -> list[str] | None:
    """Turn the second factor on with ``secret`` if ``code`` is its current code; return the
    new recovery codes."""
    step = matching_step(secret, code)
    if step is None:
        return None
    organizer.totp_secret = secret
    organizer.totp_last_step = step
    return new_recovery_codes(organizer)


def disable(organizer: Organizer) -> None:
    organizer.totp_secret = None
    organizer.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.organizer_id == organizer.id))


def use_code(organizer: Organizer, code: str) -> str | None:
    """Accept an app's code or a recovery code, once; say which (``totp`` or ``recovery``)."""
    code = (code or "").strip()
    if not code:
        return None
    if use_totp_code(organizer, code):
        return "totp"
    if use_recovery_code(organizer, code):
        return "recovery"
    return None
