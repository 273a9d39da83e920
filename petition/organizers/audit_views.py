"""``/admin/audit``: the audit record an account may see, newest first, filtered and paged."""

from flask import current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import false, or_, select
from wtforms import SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import Length, Optional

from ..extensions import db
from ..forms import Form
from ..models import AuditEvent, Petition
from . import bp
from .access import owned_petition_ids
from .moderation_views import page_of


class AuditFilterForm(Form):
    """The filters of the audit page (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    action = StringField(
        _l("Action"),
        validators=[Optional(), Length(max=40)],
        description=_l("An action, or the start of one: export, moderation, role, login…"),
    )
    petition = SelectField(_l("Petition"), default="")

    def __init__(self, *args, petitions, **kwargs):
        super().__init__(*args, **kwargs)
        self.petition.choices = [SelectChoice("", _l("Every petition"))] + [
            SelectChoice(petition.slug, petition.title) for petition in petitions
        ]


def visible_events():
    """A query for the records the logged-in account may see: every one for an administrator;
    else those about the petitions it owns, and its own."""
    query = select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    if current_user.is_admin:
        return query
    return query.where(
        or_(AuditEvent.petition_id.in_(owned_petition_ids()), AuditEvent.organizer_id == current_user.id)
    )


def audited_petitions():
    """The petitions whose records the account may see, to filter by."""
    query = select(Petition).order_by(Petition.title)
    if not current_user.is_admin:
        query = query.where(Petition.id.in_(owned_petition_ids()))
    return db.session.scalars(query).all()


@bp.get("/audit")
@login_required
def audit_record():
    petitions = audited_petitions()
    filters = AuditFilterForm(request.args, petitions=petitions)
    valid = filters.validate()
    query = visible_events()
    if valid and filters.action.data:
        action = filters.action.data.strip()
        query = query.where(or_(AuditEvent.action == action, AuditEvent.action.startswith(action + ".")))
    if valid and filters.petition.data:
        chosen = next(petition for petition in petitions if petition.slug == filters.petition.data)
        query = query.where(AuditEvent.petition_id == chosen.id)
    if not valid:
        query = query.where(false())  # the errors show beside their filters, and no list
    page = page_of(query, current_app.config["AUDIT_PER_PAGE"])
    slugs = dict(db.session.execute(select(Petition.id, Petition.slug)).all())
    args = {name: request.args[name] for name in ("action", "petition") if request.args.get(name)}
    html = render_template("organizers/audit.html", filters=filters, page=page, slugs=slugs, args=args)
    return html, 200 if valid else 422
