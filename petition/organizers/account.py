"""The organizer's own account: a new password; and the check every ``/admin`` request passes
(idle time)."""

import logging

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from ..extensions import db
from . import audit, auth, bp
from .forms import ChangePasswordForm

log = logging.getLogger(__name__)


@bp.before_app_request
def check_organizer_session():
    """On every ``/admin`` page: end a session idle too long."""
    if not request.path.startswith("/admin/") or not current_user.is_authenticated:
        return None
    if auth.idle_too_long():
        logout_user()
        session.clear()
        return None  # login_required now sends the visitor to the login form
    return None


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
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
