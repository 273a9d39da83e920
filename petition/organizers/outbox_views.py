"""``/admin/outbox``: the email outbox at a glance, for site administrators: what waits, since
when, and what fails, so a stalled sender is seen the same minute."""

from flask import render_template

from ..mail.status import age_seconds, outbox_status
from . import bp
from .access import admin_required


@bp.get("/outbox")
@admin_required
def outbox():
    status = outbox_status()
    return render_template(
        "organizers/outbox.html", status=status, oldest_age=age_seconds(status.oldest_waiting_at)
    )
