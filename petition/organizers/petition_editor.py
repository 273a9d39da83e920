"""The petition editor: organizers create and change petitions, preview the statement, and
choose which petition the home page shows."""

import logging

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..petitions import services, versions
from ..sharing import absolute_url, petition_url
from . import bp
from .access import EDIT, VIEW, admin_required, petition_for
from .editor_forms import PetitionForm, form_data

log = logging.getLogger(__name__)


class AddressTaken(Exception):
    """Another petition got the address after the form was checked."""


def render_markdown_preview(text: str) -> Markup:
    """The statement as the petition page will show it: raw HTML is escaped, not rendered.

    Not through ``services.render_body``'s cache, which keeps the bodies of real petitions.
    """
    return Markup(services.markdown.render(text or ""))  # noqa: S704 - raw HTML is disabled in the parser


def editor_page(form, petition=None, status=200, confirming=False):
    """The editor, with the statement as it will show (the "Preview" button asks for just this).
    ``confirming``: the changes would make a new version of a signed text, and the page asks
    the organizer to publish them knowingly."""
    preview = render_markdown_preview(form.body.data) if form.body.data else None
    page = render_template(
        "organizers/petition_form.html",
        form=form,
        petition=petition,
        preview=preview,
        signed=petition is not None and versions.current_is_signed(petition),
        confirming=confirming,
    )
    return page, status


def save(form, petition=None):
    """Store the form and return the petition; None when another organizer took the address
    after the form was checked (the error then goes beside the field, nothing is stored)."""
    statement = form.statement()
    try:
        if petition is None:
            petition, created = services.load_petition(statement)
            if not created:  # load_petition updated the other petition: undo that
                raise AddressTaken(statement["slug"])
        else:
            services.update_petition(petition, statement)
        db.session.commit()
    except (IntegrityError, AddressTaken):
        db.session.rollback()
        form.slug.errors.append(_("Another petition already has this address. Choose another."))
        return None
    return petition


@bp.route("/petitions/new", methods=["GET", "POST"])
@admin_required
def new_petition():
    form = PetitionForm()
    if request.method == "POST" and form.preview.data:
        return editor_page(form)
    if form.validate_on_submit():
        petition = save(form)
        if petition is not None:
            log.info("petition %s created by organizer %s", petition.slug, current_user.id)
            flash(_("The petition is published at %(url)s.", url=petition_url(petition)), "success")
            return redirect(url_for("organizers.petition_dashboard", slug=petition.slug), code=303)
    return editor_page(form, status=422 if request.method == "POST" else 200)


@bp.route("/p/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_petition(slug):
    petition = petition_for(slug, EDIT)
    form = PetitionForm(petition=petition, data=form_data(petition) if request.method == "GET" else None)
    if request.method == "POST" and form.preview.data:
        return editor_page(form, petition)
    if form.validate_on_submit():
        # Signers agreed to the text as it is: the organizer is told before changing it.
        changed = versions.changes_text(petition, form.statement())
        changes_signed_text = changed and versions.current_is_signed(petition)
        if changes_signed_text and not form.publish_version.data:
            return editor_page(form, petition, confirming=True)
        if save(form, petition) is not None:
            log.info("petition %s edited by organizer %s", petition.slug, current_user.id)
            if changes_signed_text:
                flash(
                    _(
                        "Version %(number)s of the text is published; the signers of earlier versions"
                        " keep theirs, readable at %(url)s.",
                        number=petition.statement_version,
                        url=absolute_url("petitions.versions_list", slug=petition.slug),
                    ),
                    "success",
                )
            else:
                flash(_("Your changes are saved and shown on the petition page."), "success")
            return redirect(url_for("organizers.petition_dashboard", slug=petition.slug), code=303)
    return editor_page(form, petition, status=422 if request.method == "POST" else 200)


@bp.post("/preview")
@login_required
def preview_body():
    """The statement's Markdown as HTML, for the editor's live preview (site JavaScript)."""
    body = request.form.get("body")
    if body is None:
        abort(400)
    response = current_app.response_class(render_markdown_preview(body), mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/p/<slug>/feature")
@login_required
def feature(slug):
    """Make this petition the one the home page shows (the whole site's front page: an
    administrator's choice)."""
    petition = petition_for(slug, VIEW)
    if not current_user.is_admin:
        abort(403)
    services.feature_petition(petition)
    db.session.commit()
    log.info("petition %s featured by organizer %s", petition.slug, current_user.id)
    flash(_("The home page now shows “%(title)s”.", title=petition.title), "success")
    return redirect(url_for("organizers.dashboard"), code=303)
