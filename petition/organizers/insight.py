"""Organizer insight: how a petition's signatures come in, by day, by country and by source.

Every number comes from an aggregate (GROUP BY) query that runs alike on SQLite and PostgreSQL,
so a dashboard view reads a few rows per day or country, never the signatures themselves.
"""

import datetime as dt
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, func, select

from ..countries import country_name
from ..extensions import db
from ..models import Signature, count_by_country, utcnow
from ..sharing import CHANNEL_LABELS, SITE_SOURCES
from . import charts

DAYS_SHOWN = 90
# Not counted yet, but may be: the email is unconfirmed, or the organization unapproved.
WAITING = (Signature.PENDING, Signature.AWAITING_APPROVAL)
# The ``?source=`` values the site's own links set, in the order the dashboard lists them.
KNOWN_SOURCES = (*SITE_SOURCES, "")
SOURCE_LABELS = CHANNEL_LABELS | {
    "email": _l("Email"),
    "link": _l("Copied link"),
    "qr": _l("QR code"),
    "embed": _l("Embedded widget"),
    "": _l("(none)"),
}


@dataclass(frozen=True)
class DayCount:
    """Signatures made on one UTC day: counted ones, and ones still waiting."""

    day: dt.date
    counted: int = 0
    waiting: int = 0


def signature_day():
    """The UTC day of ``created_at``. ``date()`` exists on both databases (SQLite answers text,
    PostgreSQL a date; ``type_`` makes both a ``datetime.date``); ``CAST(… AS DATE)`` would not
    do on SQLite, where it yields the year alone."""
    return func.date(Signature.created_at, type_=Date)


def signatures_per_day(petition, days: int = DAYS_SHOWN) -> list[DayCount]:
    """Counted and waiting signatures of ``petition`` for each UTC day, zeros included.

    The days run from the first signature to today while the petition is open (to its last
    signature once closed), at most the last ``days`` of them; empty without signatures.
    """
    shown = Signature.COUNTED + WAITING
    last = db.session.scalar(
        select(func.max(Signature.created_at)).where(
            Signature.petition_id == petition.id, Signature.status.in_(shown)
        )
    )
    if last is None:
        return []
    end = max(utcnow().date(), last.date()) if petition.is_open else last.date()
    start = end - dt.timedelta(days=days - 1)
    day = signature_day()
    rows = db.session.execute(
        select(day, Signature.status, func.count())
        .where(
            Signature.petition_id == petition.id,
            Signature.status.in_(shown),
            Signature.created_at >= dt.datetime.combine(start, dt.time.min),
        )
        .group_by(day, Signature.status)
    ).all()
    if not rows:
        return []
    counted, waiting = {}, {}
    for when, status, n in rows:
        tally = counted if status in Signature.COUNTED else waiting
        tally[when] = tally.get(when, 0) + n
    first = min(when for when, _status, _n in rows)
    dates = (first + dt.timedelta(days=offset) for offset in range((end - first).days + 1))
    return [DayCount(when, counted.get(when, 0), waiting.get(when, 0)) for when in dates]


def signatures_by_source(petition) -> list[tuple[str, str, int]]:
    """Counted signatures of ``petition`` by where the signer came from: (source, label, n) for
    each source the site's links set and any other stored one, largest first."""
    rows = db.session.execute(
        select(Signature.source, func.count())
        .where(Signature.petition_id == petition.id, Signature.status.in_(Signature.COUNTED))
        .group_by(Signature.source)
    ).all()
    counts = dict.fromkeys(KNOWN_SOURCES, 0) | {source or "": n for source, n in rows}
    order = {source: index for index, source in enumerate(KNOWN_SOURCES)}
    ranked = sorted(counts.items(), key=lambda item: (-item[1], order.get(item[0], len(order)), item[0]))
    return [(source, str(SOURCE_LABELS.get(source, source)), n) for source, n in ranked]


def signatures_by_country(petition) -> list[tuple[str, str, int]]:
    """Counted signatures of ``petition`` by country: (code, name, n), largest first."""
    return [(code, country_name(code), n) for code, n in count_by_country(petition).items()]


def petition_insight(petition) -> dict:
    """What the dashboard shows of ``petition``: the numbers and the charts drawn from them."""
    days = signatures_per_day(petition)
    countries = signatures_by_country(petition)
    return {
        "days": days,
        "active_days": [day for day in days if day.counted or day.waiting],
        "day_chart": charts.day_chart(days),
        "countries": countries,
        "country_chart": charts.country_chart(countries),
        "sources": signatures_by_source(petition),
    }
