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
