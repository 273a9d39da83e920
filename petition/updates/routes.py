"""The organizers' pages for updates: the list, a draft with its preview, and the send button."""

import logging

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from ..extensions import db
from ..models import Update
from ..organizers.access import EDIT, petition_for
from . import bp, delivery, services
from .forms import BODY_MAX, UpdateForm

log = logging.getLogger(__name__)


def get_update_or_404(petition, update_id: int) -> Update:
    """The update ``update_id`` of ``petition``; 404 for another petition's."""
    update = db.session.get(Update, update_id)
    if update is None or update.petition_id != petition.id:
        abort(404)
    return update


@bp.get("/admin/p/<slug>/updates")
@login_required
def updates(slug):
    """The petition's updates, newest first, with how many emails of each have gone."""
    petition = petition_for(slug, EDIT)
    updates = services.updates_of(petition)
    return render_template(
        "organizers/updates.html",
        petition=petition,
        updates=updates,
        progress=delivery.delivery_counts(updates),
        recipients=services.count_recipients(petition),
    )


@bp.route("/admin/p/<slug>/updates/new", methods=["GET", "POST"])
@login_required
def new_update(slug):
    """A blank draft."""
    petition = petition_for(slug, EDIT)
    return draft_page(petition, None, UpdateForm())


@bp.route("/admin/p/<slug>/updates/<int:update_id>", methods=["GET", "POST"])
@login_required
def edit_update(slug, update_id):
    """A draft to change and send; once it is sending, the update as it went out."""
    petition = petition_for(slug, EDIT)
    update = get_update_or_404(petition, update_id)
    if update.status == Update.DRAFT:
        return draft_page(petition, update, UpdateForm(obj=update))
    if request.method == "POST":
        flash(_("This update has gone out and can no longer change."), "info")
        return redirect(url_for("updates.edit_update", slug=slug, update_id=update.id), code=303)
    return render_template(
        "organizers/update_show.html",
        petition=petition,
        update=update,
        body=services.render_markdown(update.body),
        progress=delivery.delivery_counts([update])[update.id],
    )


def draft_page(petition, update: Update | None, form: UpdateForm):
    """Save the draft (then Post/Redirect/Get), or show it again with its preview."""
    if form.validate_on_submit() and not form.preview.data:
        if update is None:
            update = services.create_update(petition, form.subject.data, form.body.data, current_user)
        else:
            services.edit_update(update, form.subject.data, form.body.data)
        db.session.commit()
        flash(_("The draft is saved. Read the preview, then send it."), "success")
        return redirect(url_for("updates.edit_update", slug=petition.slug, update_id=update.id), code=303)
    page = render_template(
        "organizers/update_edit.html",
        petition=petition,
        update=update,
        form=form,
        preview=services.render_markdown(form.body.data),
        recipients=services.count_recipients(petition),
    )
    return page, 422 if form.errors else 200


@bp.post("/admin/p/<slug>/updates/preview")
@login_required
def preview_update(slug):
    """The body's HTML, for the live preview that static/js/update-preview.js shows."""
    petition_for(slug, EDIT)
    html = services.render_markdown(request.form.get("body", "")[:BODY_MAX])
    return html, 200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}


@bp.post("/admin/p/<slug>/updates/<int:update_id>/send")
@login_required
def send_update(slug, update_id):
    """Start sending (the global CSRF check has run): the sender delivers it in batches."""
    petition = petition_for(slug, EDIT)
    update = get_update_or_404(petition, update_id)
    count = services.count_recipients(petition)
    if count == 0:
        flash(_("No signer has asked for news yet, so there is no one to send it to."), "error")
        return redirect(url_for("updates.edit_update", slug=slug, update_id=update.id), code=303)
    if services.start_sending(update):
        db.session.commit()
        log.info("update %s started by organizer %s for %s signers", update.id, current_user.id, count)
        flash(ngettext("Sending to %(num)s signer.", "Sending to %(num)s signers.", count), "success")
    else:
        flash(_("This update has gone out already."), "info")
    return redirect(url_for("updates.updates", slug=slug), code=303)
