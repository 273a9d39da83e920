"""The organizers' side: login, dashboards, the signatory CSV."""

import logging
from urllib.parse import urlsplit

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..extensions import db, limiter
from ..models import Petition, Signature, count_signatures
from ..petitions.pages import get_petition_or_404
from ..signing import surges
from . import auth, bp, insight, moderation
from .export_forms import ExportFilterForm
from .forms import LoginForm

log = logging.getLogger(__name__)


def login_limit():
    return current_app.config["RATELIMIT_LOGIN"]


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the dashboard: no open redirects."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            if "\\" not in target:
                return target
    return url_for("organizers.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        organizer = auth.authenticate(form.email.data, form.password.data)
        if organizer is not None:
            login_user(organizer)
            db.session.commit()
            log.info("organizer logged in: %s", organizer.id)
            return redirect(safe_next(request.args.get("next")), code=303)
        form.password.errors.append(_("That email address and password do not match an account."))
    status = 422 if request.method == "POST" else 200
    return render_template("organizers/login.html", form=form), status


@bp.post("/logout")
def logout():
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("organizers.login"), code=303)


@bp.get("/")
@login_required
def dashboard():
    petitions = db.session.scalars(select(Petition).order_by(Petition.created_at)).all()
    return render_template(
        "organizers/dashboard.html",
        petitions=[(petition, count_signatures(petition)) for petition in petitions],
    )


@bp.get("/p/<slug>")
@login_required
def petition_dashboard(slug):
    petition = get_petition_or_404(slug)
    latest = db.session.scalars(
        select(Signature).where(Signature.petition_id == petition.id).order_by(Signature.id.desc()).limit(50)
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
    )
