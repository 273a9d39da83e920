"""The organizers' upload of signatures collected on paper or at events (see
:mod:`.signature_import`)."""

import logging

from flask import current_app, flash, render_template, request
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.datastructures import CombinedMultiDict

from ..extensions import csrf, db
from ..petitions.pages import see_other
from . import audit, bp, signature_import
from .access import EXPORT, petition_for
from .import_forms import ImportUploadForm

log = logging.getLogger(__name__)
MAX_PROBLEMS_SHOWN = 100


def import_page(petition, form, status=200, report=None):
    page = render_template("organizers/import.html", petition=petition, form=form, report=report)
    return page, status


@bp.route("/p/<slug>/import", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token, once the larger body limit below is set
@login_required
def import_signatures(slug):
    # A file is larger than any other form; the limit must be set before the body is read.
    request.max_content_length = current_app.config["IMPORT_MAX_BYTES"]
    petition = petition_for(slug, EXPORT)  # every signer's data: the owners' level, as exports
    if request.method == "GET":
        return import_page(petition, ImportUploadForm(formdata=None))
    form = ImportUploadForm(formdata=CombinedMultiDict((request.files, request.form)))
    if not form.validate():
        return import_page(petition, form, 422)
    checked = signature_import.check_file(petition, form.file.data.read(), form.source.data)
    if checked.problems:
        # A page, not a log: past the first problems, how many more (the command line lists all).
        shown = checked.problems[:MAX_PROBLEMS_SHOWN]
        form.file.errors = [str(problem) for problem in shown]
        if len(checked.problems) > len(shown):
            more = len(checked.problems) - len(shown)
            form.file.errors.append(ngettext("and %(num)s more problem", "and %(num)s more problems", more))
        return import_page(petition, form, 422)
    dry_run = bool(request.form.get("check"))
    done = signature_import.store(petition, checked, dry_run=dry_run)
    if dry_run:
        db.session.rollback()
        return import_page(petition, form, report=done)
    filename = (form.file.data.filename or "")[:200]
    audit.record("import", petition, rows=done.added, source=form.source.data, filename=filename)
    db.session.commit()
    log.info("import into %s by organizer %s: %s added", petition.slug, current_user.id, done.added)
    flash(
        ngettext("%(num)s signature added.", "%(num)s signatures added.", done.added)
        + " "
        + ngettext("%(num)s was there already.", "%(num)s were there already.", done.already),
        "success",
    )
    return see_other("organizers.petition_dashboard", slug=petition.slug)
