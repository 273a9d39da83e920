"""Surges, seen the same hour: where a petition's latest signatures come from, against its
usual rate, and the organizers' email when a surge starts."""

import dataclasses
import datetime as dt
import logging

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import func, or_, select

from ..extensions import db
from ..mail.outbox import email_values
from ..models import Organizer, OrganizerRole, OutboxMessage, Petition, Signature, utcnow
from ..sharing import absolute_url

log = logging.getLogger(__name__)
TOP = 5
# The usual rate is the petition's hourly average over this many days before the last one.
USUAL_DAYS = 7


@dataclasses.dataclass(frozen=True)
class Source:
    """A network (its short hash) or an email domain, and its signatures in a period."""

    value: str
    signatures: int


@dataclasses.dataclass(frozen=True)
class Period:
    """Where the signatures of one period came from, the most first."""

    hours: int
    total: int
    networks: list[Source]
    domains: list[Source]


@dataclasses.dataclass(frozen=True)
class SurgeReport:
    periods: list[Period]
    usual_per_hour: float
    in_surge: bool


def top_sources(petition_id: int, column, since: dt.datetime) -> list[Source]:
    rows = db.session.execute(
        select(column, func.count())
        .where(Signature.petition_id == petition_id, column != "", Signature.created_at > since)
        .group_by(column)
        .order_by(func.count().desc(), column)
        .limit(TOP)
    ).all()
    return [Source(value, count) for value, count in rows]


def signatures_between(petition_id: int, start: dt.datetime, end: dt.datetime) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Signature)
        .where(
            Signature.petition_id == petition_id, Signature.created_at > start, Signature.created_at <= end
        )
    )


def usual_per_hour(petition: Petition, now: dt.datetime) -> float:
    """Signatures per hour over the ``USUAL_DAYS`` before the last day (or since the petition
    began, if later); 0 for a petition younger than a day."""
    end = now - dt.timedelta(days=1)
    start = max(end - dt.timedelta(days=USUAL_DAYS), petition.created_at)
    hours = (end - start).total_seconds() / 3600
    if hours < 1:
        return 0.0
    return signatures_between(petition.id, start, end) / hours


def surge_report(petition: Petition, now: dt.datetime | None = None) -> SurgeReport:
    """The networks and email domains with the most signatures in the last hour and day."""
    now = now or utcnow()
    periods = []
    for hours in (1, 24):
        since = now - dt.timedelta(hours=hours)
        periods.append(
            Period(
                hours,
                signatures_between(petition.id, since, now),
                top_sources(petition.id, Signature.network, since),
                top_sources(petition.id, Signature.email_domain, since),
            )
        )
    in_surge = petition.surge_until is not None and petition.surge_until > now
    return SurgeReport(periods, usual_per_hour(petition, now), in_surge)


def organizer_addresses(petition_id: int) -> list[str]:
    """Who hears of a surge: the petition's organizers and the site's administrators; where no
    account holds a role or administers, every account (each sees every petition then)."""
    has_role = select(OrganizerRole.organizer_id).where(OrganizerRole.petition_id == petition_id)
    accounts = select(Organizer.email).order_by(Organizer.id)
    named = db.session.scalars(accounts.where(or_(Organizer.is_admin.is_(True), Organizer.id.in_(has_role))))
    return list(named) or list(db.session.scalars(accounts))


def surge_started(petition_id: int, now: dt.datetime) -> None:
    """A surge began on the petition: tell its organizers, if it wants them told. The email is
    written now (it names no signer) and goes through the outbox with the transaction."""
    petition = db.session.get(Petition, petition_id)
    log.warning("surge started on petition=%s", petition.slug)
    if not petition.notify_surges:
        return
    dashboard = absolute_url("organizers.petition_dashboard", slug=petition.slug)
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = render_template("emails/surge.subject.txt", petition=petition).strip()
        body = render_template("emails/surge.txt", petition=petition, dashboard_url=dashboard, started_at=now)
    for address in organizer_addresses(petition_id):
        values = email_values(address, "surge", context={"petition": petition.slug})
        db.session.add(OutboxMessage(**values, subject=subject, text_body=body))
