"""The organizers' signature list: filters, bulk moderation, and the log of actions."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..countries import country_name
from ..extensions import db
from ..models import Signature, count_signatures
from ..petitions.routes import get_petition_or_404
from . import moderation
from .forms import ModerationForm, SignatureFilterForm
from .routes import bp


@bp.get("/p/<slug>/signatures")
@login_required
def signatures(slug):
    petition = get_petition_or_404(slug)
    filters = SignatureFilterForm(request.args)
    criteria = {}
    if filters.validate():
        criteria = {
            "status": filters.status.data,
            "kind": filters.kind.data,
            "country": filters.country.data,
            "text": filters.q.data,
            "since": filters.since.data,
            "until": filters.until.data,
        }
    page = db.paginate(
        moderation.filtered_signatures(petition, **criteria),
        per_page=current_app.config["MODERATION_PER_PAGE"],
        max_per_page=current_app.config["MODERATION_PER_PAGE"],
        error_out=False,
    )
    return render_template(
        "organizers/signatures.html",
        petition=petition,
        filters=filters,
        form=ModerationForm(),
        page=page,
        counts=count_signatures(petition),
        country_name=country_name,
        statuses=Signature.STATUSES,
    )


@bp.post("/p/<slug>/signatures")
@login_required
def moderate(slug):
    petition = get_petition_or_404(slug)
    form = ModerationForm()
    back = url_for("organizers.signatures", slug=slug, **request.args)
    if not form.validate():
        for errors in form.errors.values():
            flash(errors[0], "error")
        return redirect(back, code=303)
    changed = moderation.moderate(petition, form.ids.data, form.action.data, current_user)
    db.session.commit()
    flash(
        _("%(action)s: %(count)s signatures changed.", action=form.action.data, count=changed),
        "success",
    )
    return redirect(back, code=303)
