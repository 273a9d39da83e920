"""The organizers' side: login, dashboards, the signatory CSV."""

import logging
import math
from urllib.parse import urlsplit

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, logout_user
from sqlalchemy import select

from ..errors import handle_too_many_requests, retry_after
from ..extensions import db, limiter
from ..mail.status import age_seconds, outbox_status
from ..models import OrganizerRole, Signature, count_signatures
from ..signing import surges
from . import audit, auth, bp, insight, moderation, two_factor
from .access import MODERATE, VIEW, can, petition_for, visible_petitions
from .export_forms import ExportFilterForm
from .forms import CodeForm, LoginForm
from .import_forms import ImportUploadForm

log = logging.getLogger(__name__)


def login_limit():
    return current_app.config["RATELIMIT_LOGIN"]


def code_limit():
    return current_app.config["RATELIMIT_LOGIN_CODE"]


def account_limit():
    """Failed sign-ins per address typed, known or not: an unknown address is refused after as
    many failures as an account is locked after, so the refusal tells nobody which exist."""
    config = current_app.config
    return f"{config['LOGIN_LOCK_AFTER']} per {config['LOGIN_LOCK_MINUTES']} minutes"


def typed_address() -> str:
    return "sign-in:" + request.form.get("email", "").strip().lower()


def refused(response) -> bool:
    return response.status_code == 422


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the dashboard: no open redirects."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            if "\\" not in target:
                return target
    return url_for("organizers.dashboard")


def paused(form, field, minutes: int):
    """The sign-in form again, saying that signing in is paused: the same page for a locked
    account and for an address refused by the rate limits."""
    field.errors = [
        ngettext(
            "Too many failed attempts to sign in. Try again in %(num)s minute.",
            "Too many failed attempts to sign in. Try again in %(num)s minutes.",
            minutes,
        )
    ]
    template = "organizers/login.html" if field.name == "password" else "organizers/login_code.html"
    return render_template(template, form=form), 429, {"Retry-After": str(minutes * 60)}


@bp.errorhandler(429)
def too_many_attempts(error):
    """A rate limit refused a sign-in: say so on its form (other pages get the site's 429 page)."""
    if request.endpoint == "organizers.login":
        form = LoginForm()
        field = form.password
    elif request.endpoint == "organizers.login_code":
        form = CodeForm()
        field = form.code
    else:
        return handle_too_many_requests(error)
    return paused(form, field, max(1, math.ceil((retry_after() or 60) / 60)))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
@limiter.limit(account_limit, key_func=typed_address, methods=["POST"], deduct_when=refused)
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            organizer = auth.authenticate(form.email.data, form.password.data)
        except auth.AccountLocked as locked:
            db.session.commit()
            return paused(form, form.password, locked.minutes)
        if organizer is not None and organizer.totp_secret:
            auth.await_second_factor(organizer)
            db.session.commit()
            return redirect(url_for(".login_code", next=request.args.get("next")), code=303)
        if organizer is not None:
            auth.complete_sign_in(organizer)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")), code=303)
        db.session.commit()  # the failure counted, and the lock it may have caused
        form.password.errors.append(_("That email address and password do not match an account."))
    status = 422 if request.method == "POST" else 200
    return render_template("organizers/login.html", form=form), status


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(code_limit, methods=["POST"])
def login_code():
    """The second step of signing in: a code from the app, or a recovery code."""
    organizer = auth.pending_organizer()
    if organizer is None:
        flash(_("Sign in again: that step has expired."), "info")
        return redirect(url_for(".login", next=request.args.get("next")), code=303)
    form = CodeForm()
    if form.validate_on_submit():
        try:
            auth.check_not_locked(organizer)
        except auth.AccountLocked as locked:
            return paused(form, form.code, locked.minutes)
        used = two_factor.use_code(organizer, form.code.data)
        if used is not None:
            if used == "recovery":
                audit.record("2fa.recovery_used", organizer=organizer)
            auth.complete_sign_in(organizer)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")), code=303)
        auth.record_failure(organizer, "code")
        db.session.commit()
        form.code.errors.append(_("That code is not right, or was used already."))
    status = 422 if request.method == "POST" else 200
    return render_template("organizers/login_code.html", form=form), status


@bp.post("/logout")
def logout():
    """End this session and every other of the account."""
    if current_user.is_authenticated:
        audit.record("logout")
        auth.end_sessions(current_user)
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("organizers.login"), code=303)


@bp.get("/")
@login_required
def dashboard():
    petitions = db.session.scalars(visible_petitions()).all()
    roles = dict(
        db.session.execute(
            select(OrganizerRole.petition_id, OrganizerRole.role).where(
                OrganizerRole.organizer_id == current_user.id
            )
        ).all()
    )
    status = outbox_status() if current_user.is_admin else None  # the site's mail: administrators'
    return render_template(
        "organizers/dashboard.html",
        petitions=[(petition, count_signatures(petition), roles.get(petition.id)) for petition in petitions],
        outbox=status,
        oldest_age=age_seconds(status.oldest_waiting_at) if status else None,
    )


@bp.get("/p/<slug>")
@login_required
def petition_dashboard(slug):
    petition = petition_for(slug, VIEW)
    latest = []
    if can(MODERATE, petition):  # names and comments are for those who moderate them
        latest = db.session.scalars(
            select(Signature)
            .where(Signature.petition_id == petition.id)
            .order_by(Signature.id.desc())
            .limit(50)
        ).all()
    return render_template(
        "organizers/petition.html",
        petition=petition,
        counts=count_signatures(petition),
        latest=latest,
        awaiting_approval=moderation.awaiting_approval_count(petition),
        events=moderation.recent_events(petition),
        insight=insight.petition_insight(petition),
        surges=surges.surge_report(petition),
        suspect_count=moderation.suspect_count(petition),
        export_filters=ExportFilterForm(formdata=None),
        import_form=ImportUploadForm(formdata=None),
    )
