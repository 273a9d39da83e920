"""The organizer's own account: a new password, the second factor; and the checks every
``/admin`` request passes (idle time, a second factor where it is required)."""

import logging

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from ..extensions import db, limiter
from . import audit, auth, bp, two_factor
from .forms import ChangePasswordForm, CodeForm
from .routes import code_limit, login_limit

log = logging.getLogger(__name__)

# The pages with the secret or the recovery codes: kept by no browser or proxy cache.
NOT_STORED = {"Cache-Control": "no-store"}
SHOWN_KEY = "totp_shown"  # session key: the secret shown, until a code from it confirms it
# What an account that must enrol may still open.
BEFORE_ENROLMENT = {"organizers.two_factor", "organizers.logout", "organizers.login"}


@bp.before_app_request
def check_organizer_session():
    """On every ``/admin`` page: end a session idle too long, and send an account that sees
    personal data and must use a second factor to enrol before anything else."""
    if not request.path.startswith("/admin/") or not current_user.is_authenticated:
        return None
    if auth.idle_too_long():
        logout_user()
        session.clear()
        return None  # login_required now sends the visitor to the login form
    if (
        current_app.config["ORGANIZER_2FA_REQUIRED"]
        and not current_user.totp_secret
        and request.endpoint not in BEFORE_ENROLMENT
        and auth.sees_personal_data(current_user)
    ):
        return redirect(url_for("organizers.two_factor"))
    return None


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(login_limit, methods=["POST"])  # each post checks the current password
def change_password():
    """A new password ends every other session of the account; this one goes on, re-issued."""
    form = ChangePasswordForm(email=current_user.email)
    if form.validate_on_submit():
        if current_user.check_password(form.current_password.data):
            organizer = auth.signed_in_organizer()
            organizer.set_password(form.new_password.data)
            auth.end_sessions(organizer)
            audit.record("password.change", organizer=organizer)
            auth.start_session(organizer)  # re-issued, on the new version
            db.session.commit()
            flash(_("Your password is changed. Every other session of your account has ended."), "info")
            return redirect(url_for(".dashboard"), code=303)
        form.current_password.errors.append(_("That is not your current password."))
    status = 422 if request.method == "POST" else 200
    return render_template("organizers/account_password.html", form=form), status


@bp.route("/account/2fa", methods=["GET", "POST"], endpoint="two_factor")
@login_required
@limiter.limit(code_limit, methods=["POST"])
def two_factor_page():
    """Enrol (a new secret, confirmed by a code from the app), or turn the second factor off
    (with a code)."""
    organizer = auth.signed_in_organizer()
    form = CodeForm()
    if organizer.totp_secret:
        if form.validate_on_submit():
            if two_factor.use_code(organizer, form.code.data):
                two_factor.disable(organizer)
                audit.record("2fa.disable", organizer=organizer)
                db.session.commit()
                flash(_("Two-factor sign-in is off."), "info")
                return redirect(url_for(".two_factor"), code=303)
            form.code.errors.append(_("That code is not right, or was used already."))
        status = 422 if request.method == "POST" else 200
        return render_template("organizers/two_factor.html", form=form, enrolled=True), status
    secret = session.get(SHOWN_KEY) or two_factor.new_secret()
    if form.validate_on_submit():
        codes = two_factor.enrol(organizer, secret, form.code.data)
        if codes is not None:
            session.pop(SHOWN_KEY, None)
            audit.record("2fa.enrol", organizer=organizer)
            # A new factor: sessions opened without it end, and this one is re-issued.
            auth.end_sessions(organizer)
            auth.start_session(organizer)
            db.session.commit()
            log.info("organizer enrolled a second factor: %s", organizer.id)
            return render_template("organizers/recovery_codes.html", codes=codes), 200, NOT_STORED
        form.code.errors.append(_("That code is not right. Check the clock of your phone and try again."))
    session[SHOWN_KEY] = secret
    status = 422 if request.method == "POST" else 200
    page = render_template(
        "organizers/two_factor.html",
        form=form,
        enrolled=False,
        secret=secret,
        qr_code=two_factor.qr_code_svg(organizer, secret),
    )
    return page, status, NOT_STORED
