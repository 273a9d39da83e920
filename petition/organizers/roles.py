"""Granting, changing and revoking roles on petitions; each change goes to the audit record."""

import logging

from sqlalchemy import func, select

from ..extensions import db
from ..models import Organizer, OrganizerRole, Petition
from . import audit

log = logging.getLogger(__name__)
OWNER = OrganizerRole.OWNER


class LastOwner(Exception):
    """The change would leave the petition without an owner."""


def find_organizer(email: str) -> Organizer | None:
    return db.session.scalar(select(Organizer).where(Organizer.email == email.strip().lower()))


def find_petition(slug: str) -> Petition | None:
    return db.session.scalar(select(Petition).where(Petition.slug == slug))


def count_owners(petition) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(OrganizerRole)
        .where(OrganizerRole.petition_id == petition.id, OrganizerRole.role == OWNER)
    )


def check_owner_stays(petition, held: OrganizerRole | None, may_leave_no_owner: bool) -> None:
    """Raise :class:`LastOwner` if taking ``held`` away leaves ``petition`` without an owner
    (an owner may not lock everyone but administrators out; an administrator may)."""
    if held is not None and held.role == OWNER and not may_leave_no_owner and count_owners(petition) == 1:
        raise LastOwner(petition.slug)


def grant_role(organizer, petition, role: str, may_leave_no_owner: bool = False, **actor) -> OrganizerRole:
    """Give ``organizer`` ``role`` on ``petition`` (replacing the role held there, if any), in
    the caller's transaction. ``actor`` is passed to :func:`audit.record` (``actor="…"`` from
    the command line)."""
    if role not in OrganizerRole.ROLES:
        raise ValueError(role)
    held = db.session.get(OrganizerRole, (organizer.id, petition.id))
    previous = held.role if held is not None else None
    if previous == role:
        return held
    if role != OWNER:
        check_owner_stays(petition, held, may_leave_no_owner)
    if held is None:
        held = OrganizerRole(organizer_id=organizer.id, petition_id=petition.id, role=role)
        db.session.add(held)
    else:
        held.role = role
    action = "role.grant" if previous is None else "role.change"
    audit.record(action, petition, account=organizer.email, role=role, previous=previous, **actor)
    db.session.flush()
    log.info("%s: %s is %s on %s", action, organizer.id, role, petition.slug)
    return held


def revoke_role(organizer, petition, may_leave_no_owner: bool = False, **actor) -> bool:
    """Take away ``organizer``'s role on ``petition``; False if there was none. An account left
    with no role and no administration loses its sessions too."""
    held = db.session.get(OrganizerRole, (organizer.id, petition.id))
    if held is None:
        return False
    check_owner_stays(petition, held, may_leave_no_owner)
    audit.record("role.revoke", petition, account=organizer.email, previous=held.role, **actor)
    db.session.delete(held)
    db.session.flush()
    if not organizer.is_admin and not db.session.scalar(
        select(OrganizerRole.petition_id).where(OrganizerRole.organizer_id == organizer.id).limit(1)
    ):
        organizer.session_version += 1  # nothing left to open: every session of it ends
    log.info("role.revoke: %s on %s", organizer.id, petition.slug)
    return True
