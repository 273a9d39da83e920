"""The bulk invalidation page: filters, a preview of how many signatures match, the confirmation,
and the list of past invalidations, each with its undo button."""

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from ..extensions import db
from ..models import Invalidation
from . import bp, invalidation
from .access import MODERATE, petition_for
from .invalidation_forms import CATEGORY_LABELS, InvalidationForm


def previewed_key(criteria: dict) -> str:
    """What a preview showed, sent back with its confirmation."""
    return json.dumps(criteria, sort_keys=True)


def invalidation_page(petition, form, matching=None, status=200):
    html = render_template(
        "organizers/invalidate.html",
        petition=petition,
        form=form,
        matching=matching,
        previewed=previewed_key(form.criteria()) if matching is not None else "",
        invalidations=invalidation.invalidations(petition),
        category_labels=CATEGORY_LABELS,
    )
    return html, status


@bp.get("/p/<slug>/invalidate")
@login_required
def invalidate_form(slug):
    petition = petition_for(slug, MODERATE)
    return invalidation_page(petition, InvalidationForm(formdata=None))


@bp.post("/p/<slug>/invalidate")
@login_required
def invalidate(slug):
    """A press of Preview shows how many signatures match and asks to confirm; a press of the
    confirmation (``confirm``) invalidates them, if the filters are still those previewed (else
    it shows the preview of the new ones)."""
    petition = petition_for(slug, MODERATE)
    form = InvalidationForm()
    if not form.validate():
        return invalidation_page(petition, form, status=422)
    criteria = form.criteria()
    if "confirm" not in request.form or request.form.get("previewed") != previewed_key(criteria):
        return invalidation_page(petition, form, matching=invalidation.count_matching(petition, criteria))
    done = invalidation.invalidate(
        petition, criteria, form.category.data, form.reason.data, organizer=current_user
    )
    flash(ngettext("%(num)s signature invalidated.", "%(num)s signatures invalidated.", done.rows), "success")
    return redirect(url_for("organizers.invalidate_form", slug=slug), code=303)


@bp.post("/p/<slug>/invalidations/<int:invalidation_id>/undo")
@login_required
def undo_invalidation(slug, invalidation_id):
    petition = petition_for(slug, MODERATE)
    found = db.session.get(Invalidation, invalidation_id)
    if found is None or found.petition_id != petition.id:
        abort(404)
    restored = invalidation.undo(found, organizer=current_user)
    if restored is None:
        flash(_("That invalidation was undone already."), "info")
    else:
        flash(ngettext("%(num)s signature restored.", "%(num)s signatures restored.", restored), "success")
    return redirect(url_for("organizers.invalidate_form", slug=slug), code=303)
