"""The organizers' downloads of signatures: CSV streamed, XLSX from a temporary file; both take
the filters of :class:`ExportFilterForm` from the query string."""

import logging
import tempfile

from flask import current_app, request, stream_with_context
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db
from . import audit, bp
from .access import EXPORT, petition_for
from .export import count_rows, iter_csv
from .export_forms import ExportFilterForm

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

log = logging.getLogger(__name__)


def read_filters():
    """The valid filters of this request, or a 400 response that says what is wrong."""
    form = ExportFilterForm(request.args)
    valid = form.validate()
    unknown = form.unknown_parameters(request.args)
    if valid and not unknown:
        return form.criteria(), None
    problems = form.problems() + unknown
    lines = [_("These download filters are not valid:")] + [f"- {line}" for line in problems]
    body = "\n".join(lines) + "\n"
    return None, current_app.response_class(body, status=400, mimetype="text/plain")


def as_download(response, petition, extension: str):
    """Mark ``response`` as the signatures file of ``petition``, never to be cached."""
    name = f"{petition.slug}-signatures.{extension}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/p/<slug>/export.csv")
@login_required
def export_csv(slug):
    petition = petition_for(slug, EXPORT)
    criteria, refusal = read_filters()
    if refusal is not None:
        return refusal
    # Recorded, and committed, before the first byte: a download that breaks off is still one.
    # The count is of the moment of the request; the stream reads the rows just after.
    rows = count_rows(petition, **criteria)
    audit.record_export(petition, "csv", criteria, rows)
    db.session.commit()
    log.info("CSV export of %s by organizer %s, filters %s", petition.slug, current_user.id, criteria)
    response = current_app.response_class(
        stream_with_context(iter_csv(petition, **criteria)), content_type="text/csv; charset=utf-8"
    )
    return as_download(response, petition, "csv")


@bp.get("/p/<slug>/export.xlsx")
@login_required
def export_xlsx(slug):
    petition = petition_for(slug, EXPORT)
    criteria, refusal = read_filters()
    if refusal is not None:
        return refusal
    # On disk, not in memory; streamed in pieces, and closed (so deleted) once sent.
    target = tempfile.TemporaryFile()
    from . import xlsx  # openpyxl is slow to import: only when a workbook is asked for

    rows = xlsx.write_xlsx(petition, target, **criteria)
    size = target.tell()
    target.seek(0)
    audit.record_export(petition, "xlsx", criteria, rows)
    db.session.commit()
    log.info(
        "XLSX export of %s by organizer %s, %s rows, filters %s",
        petition.slug,
        current_user.id,
        rows,
        criteria,
    )
    response = current_app.response_class(read_and_close(target), mimetype=XLSX_MIMETYPE)
    response.call_on_close(target.close)  # also when the client leaves before the first piece
    response.headers["Content-Length"] = str(size)
    return as_download(response, petition, "xlsx")


def read_and_close(file, size: int = 64 * 1024):
    """Yield the contents of ``file`` in pieces, closing it at the end."""
    try:
        while piece := file.read(size):
            yield piece
    finally:
        file.close()
