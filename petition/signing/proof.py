"""Proof of work in a surge: ALTCHA, self-hosted (the ``altcha`` package here, its widget from
our static files). No third party sees the signer. The sign form asks for it when the petition
is in a surge or its organizers switched it on; a form without it (no JavaScript) is still
taken, and its signature goes to review.

Each challenge is accepted once: its signature is kept as spent until it expires, in Redis when
the counters are there (every worker sees it), else in the database.
"""

import datetime as dt
import logging

import altcha
import redis
from flask import current_app, jsonify
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import SpentChallenge, utcnow
from . import bp
from .signals import redis_client, redis_url

log = logging.getLogger(__name__)
FIELD = "altcha"  # the widget's hidden field
ALGORITHM = "PBKDF2/SHA-256"
EXPIRES = dt.timedelta(minutes=20)


def secret() -> str:
    return current_app.config["SECRET_KEY"]


def new_challenge() -> dict:
    """A challenge for the widget, signed with the site's secret, expiring in ``EXPIRES``."""
    expires_at = int((dt.datetime.now(dt.UTC) + EXPIRES).timestamp())
    challenge = altcha.create_challenge(
        ALGORITHM, current_app.config["ALTCHA_COST"], expires_at=expires_at, hmac_secret=secret()
    )
    return challenge.to_dict()


def proof_is_good(payload: str | None) -> bool:
    """Whether ``payload`` solves a challenge of ours that has not been used before."""
    if not payload:
        return False
    try:
        result = altcha.verify_solution(payload, secret())
        solved = altcha.Payload.from_base64(payload)
    except (ValueError, KeyError, TypeError):
        return False
    return result.verified and spend(solved.challenge.signature)


def spend(signature: str) -> bool:
    """Mark a challenge used; False if it was already."""
    url = redis_url()
    if url is not None:
        key = f"{current_app.config['SIGNALS_KEY_PREFIX']}:spent:{signature}"
        try:
            return bool(redis_client(url).set(key, 1, nx=True, ex=int(EXPIRES.total_seconds())))
        except redis.RedisError:
            # Not known to be unspent: the signature is taken, and waits for review.
            log.exception("spent challenges unavailable")
            return False
    now = utcnow()
    try:
        with db.session.begin_nested():
            db.session.execute(delete(SpentChallenge).where(SpentChallenge.expires_at < now))
            db.session.add(SpentChallenge(digest=signature, expires_at=now + EXPIRES))
    except IntegrityError:
        return False
    return True


@bp.get("/altcha/challenge")
def challenge():
    """A fresh challenge for the sign form's widget; never cached."""
    response = jsonify(new_challenge())
    response.headers["Cache-Control"] = "no-store"
    return response
