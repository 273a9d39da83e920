"""Signed, expiring tokens for the links emailed to signers (confirm, withdraw, unsubscribe)."""

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

CONFIRM = "confirm"
WITHDRAW = "withdraw"
UNSUBSCRIBE = "unsubscribe"
MAX_AGE_SETTING = {
    CONFIRM: "CONFIRM_TOKEN_MAX_AGE",
    WITHDRAW: "WITHDRAW_TOKEN_MAX_AGE",
    UNSUBSCRIBE: "UNSUBSCRIBE_TOKEN_MAX_AGE",
}


class TokenExpired(Exception):
    """The link was genuine but is too old."""


class TokenInvalid(Exception):
    """The link was not made by this site, or was altered."""


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"signature-{purpose}")


def _fingerprint(signature) -> str:
    # Binds the token to this row's address, so an id reused after a deletion never matches.
    # The address in lower case, as the repeat key was until it learned which providers ignore
    # dots and +tags: links emailed before then keep working.
    address = signature.email.strip().lower()
    return hashlib.sha256(f"{address}|{signature.petition_id}".encode()).hexdigest()[:16]


def make_token(signature, purpose: str) -> str:
    """A token that lets whoever holds it act on ``signature`` for ``purpose``."""
    return _serializer(purpose).dumps([signature.id, _fingerprint(signature)])


def read_token(token: str, purpose: str) -> tuple[int, str]:
    """The signature id and fingerprint inside ``token``; raises TokenExpired or TokenInvalid."""
    max_age = current_app.config[MAX_AGE_SETTING[purpose]]
    try:
        signature_id, fingerprint = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise TokenExpired from error
    except (BadSignature, ValueError, TypeError) as error:
        raise TokenInvalid from error
    if not isinstance(signature_id, int):
        raise TokenInvalid
    return signature_id, fingerprint


def token_matches(signature, fingerprint: str) -> bool:
    return signature is not None and _fingerprint(signature) == fingerprint


# The page after signing names the address the email went to, in part (see address_hint), and
# only this long after signing: the hint travels in that page's address, signed so that nobody
# makes the site claim it wrote to an address of their choosing.
ADDRESS_HINT_MAX_AGE = 15 * 60  # seconds
HIDDEN = "…"


def address_hint(email: str) -> str:
    """``email`` as the check-your-email page shows it: the first character of the local part and
    the whole domain (where typing mistakes that lose the email are made), e.g. ``a…@example.org``."""
    local, _, domain = email.strip().rpartition("@")
    return f"{local[:1]}{HIDDEN}@{domain}"


def make_address_hint_token(email: str) -> str:
    """The signed, short-lived hint of ``email`` for the check-your-email page's address."""
    return _serializer("address-hint").dumps(address_hint(email))


def read_address_hint_token(token: str | None) -> str | None:
    """The hint inside ``token``; None when there is none, or it is old, altered or not ours."""
    if not token:
        return None
    try:
        hint = _serializer("address-hint").loads(token, max_age=ADDRESS_HINT_MAX_AGE)
    except BadSignature:  # SignatureExpired is one
        return None
    return hint if isinstance(hint, str) else None
