"""Who may do what on a petition: site administrators everything, anyone else what their role
on that petition allows. Every organizer view of a petition asks :func:`petition_for`."""

import functools

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db
from ..models import OrganizerRole, Petition
from ..petitions.pages import get_petition_or_404
from . import bp

OWNER, EDITOR, MODERATOR, VIEWER = OrganizerRole.ROLES

# What a view needs, and the roles that have it.
VIEW, EDIT, MODERATE, EXPORT, MANAGE = "view", "edit", "moderate", "export", "manage"
ALLOWED = {
    VIEW: frozenset(OrganizerRole.ROLES),  # counts, charts, sources
    EDIT: frozenset((OWNER, EDITOR)),  # the statement, its translations, updates to signers
    MODERATE: frozenset((OWNER, MODERATOR)),  # the signature list: names, countries, comments
    EXPORT: frozenset((OWNER,)),  # every signer's personal data
    MANAGE: frozenset((OWNER,)),  # who holds which role, what moderators see
}

ROLE_LABELS = {OWNER: _l("owner"), EDITOR: _l("editor"), MODERATOR: _l("moderator"), VIEWER: _l("viewer")}


@bp.app_template_global()
def role_label(role: str) -> str:
    """The name of ``role`` in the reader's language."""
    return str(ROLE_LABELS.get(role, role))


def role_on(petition, organizer=None) -> str | None:
    """The role ``organizer`` (the logged-in one unless given) holds on ``petition``, if any."""
    organizer = organizer or current_user
    held = db.session.get(OrganizerRole, (organizer.id, petition.id))
    return held.role if held is not None else None


@bp.app_template_global()
def can(need: str, petition, organizer=None) -> bool:
    """Whether ``organizer`` (the logged-in one unless given) may do ``need`` on ``petition``."""
    organizer = organizer or current_user
    return organizer.is_admin or role_on(petition, organizer) in ALLOWED[need]


@bp.app_template_global()
def sees_addresses(petition, organizer=None) -> bool:
    """Whether signers' email addresses show: to those who may export them, and to moderators
    when the petition's owners allow it."""
    if can(EXPORT, petition, organizer):
        return True
    return petition.moderators_see_addresses and role_on(petition, organizer) == MODERATOR


def petition_for(slug: str, need: str) -> Petition:
    """The petition at ``slug`` if the logged-in account may do ``need`` on it: 404 when it holds
    no role there (as if the petition did not exist, so unpublished slugs do not leak), 403 when
    its role is not enough."""
    petition = get_petition_or_404(slug)
    if current_user.is_admin:
        return petition
    role = role_on(petition)
    if role is None:
        abort(404)
    if role not in ALLOWED[need]:
        abort(403)
    return petition


def visible_petitions(organizer=None):
    """A query for the petitions ``organizer`` works on: all of them for an administrator."""
    organizer = organizer or current_user
    query = select(Petition).order_by(Petition.created_at, Petition.id)
    if organizer.is_admin:
        return query
    return query.join(OrganizerRole, OrganizerRole.petition_id == Petition.id).where(
        OrganizerRole.organizer_id == organizer.id
    )


def owned_petition_ids(organizer=None):
    """A query for the ids of the petitions ``organizer`` owns."""
    organizer = organizer or current_user
    return select(OrganizerRole.petition_id).where(
        OrganizerRole.organizer_id == organizer.id, OrganizerRole.role == OWNER
    )


def admin_required(view):
    """A view for site administrators only: 403 for any other account."""

    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
