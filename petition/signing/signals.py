"""Quiet detection: the signals each signature carries, and the review they may send it to.

A signature gets its signals when it is confirmed (at signing, on a petition that does not
confirm by email); past the petition's thresholds it becomes ``suspect``: not counted until a
moderator confirms or rejects it. The signer sees the same answers as anyone, so a script
learns nothing from them. The signals:

- ``network``: more than ``network_hourly_limit`` signatures in the last hour from its network
  (a keyed hash of the /24 or /64; never the address);
- ``domain``: more than ``domain_hourly_limit`` from its email domain (big webmail aside);
- ``fast``: the form was posted sooner than ``min_form_seconds`` after its page. The form token
  says when its page was made, rounded down to the token's window (so that the page is the same
  bytes for every visitor a while): the age measured is at least the real one, and a form
  found too fast surely was;
- ``disposable``: the address is at a throwaway-address provider;
- ``no-proof``: a proof of work was asked for and not given (no JavaScript, or a failed one).

Country mismatch with the network is not checked: it needs a geolocation database, and this
site keeps none (nor any raw IP to look up later).

Velocity follows the rate limiter's switch (``RATELIMIT_ENABLED``): off, as tests and
benchmarks run from one address, network and domain velocity are not used. Counters are kept
in Redis when the rate limiter's storage is Redis (all workers share them), else counted from
the petition's signatures of the last hour (through its (petition, created_at) index: an index
on the network or the domain would slow every signature, for the embedded default's sake).
"""

import datetime as dt
import functools
import logging
import secrets

import redis
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from ..extensions import db
from ..models import Petition, Signature
from .identity import WEBMAIL_DOMAINS, email_domain, is_disposable, network_hash

log = logging.getLogger(__name__)

NETWORK, DOMAIN, FAST, DISPOSABLE, NO_PROOF = "network", "domain", "fast", "disposable", "no-proof"
NAMES = (NETWORK, DOMAIN, FAST, DISPOSABLE, NO_PROOF)
# What the moderation list says of each.
LABELS = {
    NETWORK: _l("many from its network"),
    DOMAIN: _l("many from its email domain"),
    FAST: _l("form sent too fast"),
    DISPOSABLE: _l("disposable address"),
    NO_PROOF: _l("no proof of work"),
}
WINDOW = dt.timedelta(hours=1)
# A surge lasts this long after the last signature that crossed a velocity threshold.
SURGE_HOLD = dt.timedelta(hours=1)


def signing_columns(ip: str | None, email: str, form_age: int | None, proof_missing: bool) -> dict:
    """The signal columns of a new signature: what signing knows and the moment cannot change."""
    domain = email_domain(email)
    names = []
    if is_disposable(domain):
        names.append(DISPOSABLE)
    if proof_missing:
        names.append(NO_PROOF)
    return {"network": network_hash(ip), "email_domain": domain, "form_age": form_age, "signals": names}


def too_fast(terms, form_age: int | None) -> bool:
    return form_age is not None and form_age < terms.min_form_seconds


def velocity_is_on() -> bool:
    return bool(current_app.config["RATELIMIT_ENABLED"])


def crossed_velocity(terms, network: str, domain: str, now: dt.datetime, already_stored: bool) -> list[str]:
    """The velocity signals of one more signature from ``network`` and ``domain`` on petition
    ``terms``; counted from stored rows, ``already_stored`` says whether it is one of them."""
    if not velocity_is_on():
        return []
    counts = [(NETWORK, Signature.network, network, terms.network_hourly_limit)]
    if domain and domain not in WEBMAIL_DOMAINS:
        counts.append((DOMAIN, Signature.email_domain, domain, terms.domain_hourly_limit))
    crossed = []
    for name, column, value, limit in counts:
        if value and count_in_window(terms.id, name, column, value, now, already_stored) > limit:
            crossed.append(name)
    return crossed


def redis_url() -> str | None:
    """Where shared counters live: ``REDIS_URL``, else the rate limiter's storage if it is Redis."""
    config = current_app.config
    for url in (config.get("REDIS_URL"), config.get("RATELIMIT_STORAGE_URI")):
        if url and url.startswith(("redis://", "rediss://", "unix://")):
            return url
    return None


@functools.cache
def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def count_in_window(
    petition_id: int, name: str, column, value: str, now: dt.datetime, already_stored: bool
) -> int:
    """Signatures of the petition from ``value`` (a network or a domain) in the hour before
    ``now``, this one included."""
    url = redis_url()
    if url is None:
        stored = db.session.scalar(
            select(func.count())
            .select_from(Signature)
            .where(Signature.petition_id == petition_id, column == value, Signature.created_at > now - WINDOW)
        )
        return stored + (0 if already_stored else 1)
    # A sorted set per petition and value, scored by time: the window slides with ``now``.
    key = f"{current_app.config['SIGNALS_KEY_PREFIX']}:{petition_id}:{name}:{value}"
    stamp = now.replace(tzinfo=dt.UTC).timestamp()
    pipe = redis_client(url).pipeline()
    pipe.zadd(key, {f"{stamp}:{secrets.token_hex(4)}": stamp})
    pipe.zremrangebyscore(key, "-inf", stamp - WINDOW.total_seconds())
    pipe.zcard(key)
    pipe.expire(key, int(WINDOW.total_seconds()))
    try:
        return pipe.execute()[2]
    except redis.RedisError:
        # Signing goes on without this signal rather than fail: the rate limiter, on the same
        # Redis, is what refuses signatures when it is gone.
        log.exception("velocity counter unavailable; %s not counted", name)
        return 0


def names_at_signing(terms, columns: dict, now: dt.datetime) -> list[str]:
    """Every signal of a signature counted at once (no confirmation by email)."""
    names = list(columns["signals"])
    if too_fast(terms, columns["form_age"]):
        names.append(FAST)
    crossed = crossed_velocity(terms, columns["network"], columns["email_domain"], now, already_stored=False)
    if crossed:
        prolong_surge(terms.id, now)
    return names + crossed


def names_at_confirmation(signature: Signature, now: dt.datetime) -> list[str]:
    """Every signal of a signature whose address was just confirmed: those of its signing, and
    the velocity of its network and domain now."""
    petition = signature.petition
    names = signature.signal_names
    if too_fast(petition, signature.form_age):
        names.append(FAST)
    crossed = crossed_velocity(petition, signature.network, signature.email_domain, now, already_stored=True)
    if crossed:
        prolong_surge(petition.id, now)
    return sorted(set(names + crossed), key=NAMES.index)


def prolong_surge(petition_id: int, now: dt.datetime) -> None:
    """Keep the petition's surge on for another ``SURGE_HOLD``; if none was on, start one and
    tell its organizers (once: of concurrent requests, the conditional UPDATE lets one start it).
    The petition's version (``updated_at``) stays: the page shows the surge at its next render."""
    until = now + SURGE_HOLD
    petition = Petition.__table__.c
    started = db.session.execute(
        update(Petition.__table__)
        .where(petition.id == petition_id, (petition.surge_until.is_(None)) | (petition.surge_until <= now))
        .values(surge_until=until, updated_at=petition.updated_at)
    ).rowcount
    if started:
        # Imported here: surges reads the signatures that this module writes.
        from .surges import surge_started

        surge_started(petition_id, now)
        return
    # Prolonged every few minutes at most: in a surge, most signatures leave the row alone.
    db.session.execute(
        update(Petition.__table__)
        .where(petition.id == petition_id, petition.surge_until < until - SURGE_HOLD / 6)
        .values(surge_until=until, updated_at=petition.updated_at)
    )
