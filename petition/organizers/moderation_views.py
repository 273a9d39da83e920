"""The organizers' signature list: filters, bulk moderation, and the log of actions."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import false, func, select

from ..countries import country_name
from ..extensions import db
from ..models import Signature, count_signatures
from ..signing import signals
from . import bp, moderation
from .access import MODERATE, petition_for, sees_addresses
from .forms import ModerationForm, SignatureFilterForm


def list_arguments(args) -> dict:
    """The list's own parameters in ``args`` (its filters and page), to carry from one of its
    addresses to the next; any other parameter is left behind."""
    names = [field.name for field in SignatureFilterForm(formdata=None)] + ["page"]
    return {name: args[name] for name in names if args.get(name)}


def page_of(query, per_page: int):
    """The page of ``query`` that ``?page=N`` asks for: the first when N is not a whole number,
    the nearest page when it lies outside (the database is never asked for an offset past any
    row)."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max(-(-total // per_page), 1)
    number = min(max(request.args.get("page", 1, type=int), 1), pages)
    page = db.paginate(
        query, page=number, per_page=per_page, max_per_page=per_page, error_out=False, count=False
    )
    page.total = total
    return page


@bp.get("/p/<slug>/signatures")
@login_required
def signatures(slug):
    petition = petition_for(slug, MODERATE)
    filters = SignatureFilterForm(request.args)
    valid = filters.validate()
    criteria = {}
    if valid:
        criteria = {
            "status": filters.status.data,
            "kind": filters.kind.data,
            "country": filters.country.data,
            "text": filters.q.data,
            # Searching addresses would tell them to one who may not see them.
            "in_email": sees_addresses(petition),
            "since": filters.since.data,
            "until": filters.until.data,
            "network": filters.network.data,
            "domain": filters.domain.data,
        }
    query = moderation.filtered_signatures(petition, **criteria)
    if not valid:
        query = query.where(false())  # the errors show beside their filters, and no list
    page = page_of(query, current_app.config["MODERATION_PER_PAGE"])
    html = render_template(
        "organizers/signatures.html",
        petition=petition,
        filters=filters,
        form=ModerationForm(),
        page=page,
        list_args=list_arguments(request.args),
        counts=count_signatures(petition),
        country_name=country_name,
        statuses=Signature.STATUSES,
        signal_labels=signals.LABELS,
    )
    return html, 200 if valid else 422


@bp.post("/p/<slug>/signatures")
@login_required
def moderate(slug):
    petition = petition_for(slug, MODERATE)
    form = ModerationForm()
    back = url_for("organizers.signatures", slug=slug, **list_arguments(request.args))
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
