"""A petition's review thresholds and proof-of-work switch (see petition.signing.signals)."""

import logging

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import BooleanField
from wtforms.validators import InputRequired, NumberRange

from ..extensions import db
from ..forms import Form
from . import audit, bp
from .access import MANAGE, petition_for
from .editor_forms import WholeNumberField

log = logging.getLogger(__name__)
SETTINGS = (
    "network_hourly_limit",
    "domain_hourly_limit",
    "min_form_seconds",
    "proof_of_work",
    "notify_surges",
)


def whole_number(label, low: int, high: int) -> WholeNumberField:
    message = _l("Enter a whole number from %(low)s to %(high)s.", low=low, high=high)
    return WholeNumberField(
        label,
        validators=[InputRequired(message=message), NumberRange(min=low, max=high, message=message)],
        render_kw={"min": low, "max": high},
    )


class IntegrityForm(Form):
    network_hourly_limit = whole_number(_l("Signatures an hour from one network before review"), 1, 100_000)
    domain_hourly_limit = whole_number(
        _l("Signatures an hour from one email domain before review (big webmail providers aside)"), 1, 100_000
    )
    min_form_seconds = whole_number(_l("Seconds a form must have been open before it is sent"), 0, 600)
    proof_of_work = BooleanField(_l("Always ask for a proof of work, not only in a surge"))
    notify_surges = BooleanField(_l("Email the organizers when a surge starts"))


@bp.route("/p/<slug>/integrity", methods=["GET", "POST"])
@login_required
def integrity_settings(slug):
    petition = petition_for(slug, MANAGE)  # what counts as suspect is the owners' call
    form = IntegrityForm(obj=petition if request.method == "GET" else None)
    if form.validate_on_submit():
        changed = {name: getattr(form, name).data for name in SETTINGS}
        for name, value in changed.items():
            setattr(petition, name, value)
        audit.record("integrity_settings", petition=petition, **changed)
        db.session.commit()
        log.info("review thresholds of %s set by organizer %s", petition.slug, current_user.id)
        flash(_("The review thresholds are saved."), "success")
        return redirect(url_for("organizers.petition_dashboard", slug=slug), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("organizers/integrity.html", petition=petition, form=form), status
