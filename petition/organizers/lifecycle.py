"""The end of a petition: its owners archive it (closed, off the home page and the public list,
its page still there) or delete it with every signer's data."""

import logging

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..extensions import db
from ..models import Signature
from ..petitions import services
from . import audit, bp
from .access import MANAGE, petition_for
from .editor_forms import DeletePetitionForm

log = logging.getLogger(__name__)


@bp.post("/p/<slug>/archive")
@login_required
def archive(slug):
    petition = petition_for(slug, MANAGE)
    services.archive_petition(petition)
    audit.record("petition.archive", petition)
    db.session.commit()
    log.info("petition %s archived by organizer %s", petition.slug, current_user.id)
    flash(_("The petition is archived: it is closed and no longer listed."), "success")
    return redirect(url_for("organizers.petition_dashboard", slug=petition.slug), code=303)


@bp.post("/p/<slug>/restore")
@login_required
def restore(slug):
    petition = petition_for(slug, MANAGE)
    services.restore_petition(petition)
    audit.record("petition.restore", petition)
    db.session.commit()
    log.info("petition %s restored by organizer %s", petition.slug, current_user.id)
    flash(_("The petition is listed again. It stays closed until you change its closing date."), "success")
    return redirect(url_for("organizers.petition_dashboard", slug=petition.slug), code=303)


@bp.route("/p/<slug>/delete", methods=["GET", "POST"])
@login_required
def delete(slug):
    petition = petition_for(slug, MANAGE)
    form = DeletePetitionForm(petition=petition)
    if form.validate_on_submit():
        title = petition.title
        deleted = services.delete_petition(petition)
        # The record names the petition and how many signatures went, never who signed.
        audit.record("petition.delete", rows=deleted, slug=slug, title=title)
        db.session.commit()
        log.info("petition %s deleted by organizer %s", slug, current_user.id)
        flash(_("“%(title)s” is deleted, with every signature.", title=title), "success")
        return redirect(url_for("organizers.dashboard"), code=303)
    status = 422 if request.method == "POST" else 200
    stored = db.session.scalar(
        select(func.count()).select_from(Signature).where(Signature.petition_id == petition.id)
    )
    page = render_template(
        "organizers/petition_delete.html", petition=petition, form=form, signature_count=stored
    )
    return page, status
