"""A petition's organizers: who holds which role, invitations, and what moderators see; and the
page where an invitee chooses a password."""

import logging

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db
from ..models import Organizer, OrganizerRole
from . import audit, bp, invitations, roles
from .access import MANAGE, petition_for, role_label
from .forms import NewPasswordForm
from .team_forms import AddressesForm, InviteForm, RoleForm

log = logging.getLogger(__name__)


def holders(petition) -> list[tuple[Organizer, str]]:
    """Each account with a role on ``petition``, and the role, by address."""
    return db.session.execute(
        select(Organizer, OrganizerRole.role)
        .join(OrganizerRole, OrganizerRole.organizer_id == Organizer.id)
        .where(OrganizerRole.petition_id == petition.id)
        .order_by(Organizer.email)
    ).all()


def role_prefix(organizer_id: int) -> str:
    """One role form per account on the page: each with names and ids of its own."""
    return f"organizer-{organizer_id}"


def team_page(petition, invite=None, changed=None, status=200):
    """The page, with ``invite`` or the role form ``changed`` (organizer id, form) as posted."""
    rows = []
    for organizer, role in holders(petition):
        if changed and changed[0] == organizer.id:
            form = changed[1]
        else:
            form = RoleForm(formdata=None, prefix=role_prefix(organizer.id), role=role)
        rows.append((organizer, role, form))
    page = render_template(
        "organizers/team.html",
        petition=petition,
        rows=rows,
        invite=invite or InviteForm(formdata=None),
        addresses=AddressesForm(formdata=None, moderators_see_addresses=petition.moderators_see_addresses),
    )
    return page, status


def back_to_team(petition):
    return redirect(url_for("organizers.team", slug=petition.slug), code=303)


def last_owner_message() -> str:
    return _("A petition keeps at least one owner. Make someone else owner first.")


@bp.get("/p/<slug>/organizers")
@login_required
def team(slug):
    return team_page(petition_for(slug, MANAGE))


@bp.post("/p/<slug>/organizers")
@login_required
def invite(slug):
    petition = petition_for(slug, MANAGE)
    form = InviteForm()
    if not form.validate():
        return team_page(petition, invite=form, status=422)
    try:
        invitations.invite(
            form.email.data, petition, form.role.data, may_leave_no_owner=current_user.is_admin
        )
    except roles.LastOwner:
        db.session.rollback()
        form.role.errors.append(last_owner_message())
        return team_page(petition, invite=form, status=422)
    db.session.commit()
    flash(_("%(email)s is invited and has been sent an email.", email=form.email.data), "success")
    return back_to_team(petition)


def held_role(petition, organizer_id: int) -> Organizer:
    """The account holding a role on ``petition``; 404 for anyone else."""
    organizer = db.session.get(Organizer, organizer_id)
    if organizer is None or db.session.get(OrganizerRole, (organizer_id, petition.id)) is None:
        abort(404)
    return organizer


@bp.post("/p/<slug>/organizers/<int:organizer_id>")
@login_required
def change_role(slug, organizer_id):
    petition = petition_for(slug, MANAGE)
    organizer = held_role(petition, organizer_id)
    form = RoleForm(prefix=role_prefix(organizer.id))
    if form.validate():
        try:
            roles.grant_role(organizer, petition, form.role.data, may_leave_no_owner=current_user.is_admin)
        except roles.LastOwner:
            db.session.rollback()
            form.role.errors.append(last_owner_message())
        else:
            db.session.commit()
            flash(
                _("%(email)s is now %(role)s.", email=organizer.email, role=role_label(form.role.data)),
                "success",
            )
            return back_to_team(petition)
    return team_page(petition, changed=(organizer.id, form), status=422)


@bp.post("/p/<slug>/organizers/<int:organizer_id>/revoke")
@login_required
def revoke(slug, organizer_id):
    petition = petition_for(slug, MANAGE)
    organizer = held_role(petition, organizer_id)
    try:
        roles.revoke_role(organizer, petition, may_leave_no_owner=current_user.is_admin)
    except roles.LastOwner:
        db.session.rollback()
        form = RoleForm(formdata=None, prefix=role_prefix(organizer.id), role=OrganizerRole.OWNER)
        form.role.errors = [last_owner_message()]
        return team_page(petition, changed=(organizer.id, form), status=422)
    db.session.commit()
    flash(_("%(email)s no longer works on this petition.", email=organizer.email), "success")
    return back_to_team(petition)


@bp.post("/p/<slug>/organizers/addresses")
@login_required
def moderators_addresses(slug):
    petition = petition_for(slug, MANAGE)
    form = AddressesForm()
    if not form.validate():
        return team_page(petition, status=422)
    petition.moderators_see_addresses = form.moderators_see_addresses.data
    audit.record("petition.moderators_see_addresses", petition, allowed=petition.moderators_see_addresses)
    db.session.commit()
    flash(_("Your choice is saved."), "success")
    return back_to_team(petition)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    """Choose a password from the emailed link; nothing changes until the form is sent."""
    try:
        organizer = invitations.invited_organizer(token)
    except invitations.InvitationExpired:
        return render_template("organizers/invitation_problem.html", expired=True), 410
    except invitations.InvitationInvalid:
        return render_template("organizers/invitation_problem.html", expired=False), 404
    form = NewPasswordForm(email=organizer.email)
    if form.validate_on_submit():
        invitations.accept(organizer, form.new_password.data)
        db.session.commit()
        log.info("organizer %s chose a password", organizer.id)
        flash(_("Your password is set. Log in with it."), "success")
        return redirect(url_for("organizers.login"), code=303)
    page = render_template("organizers/invitation.html", form=form, organizer=organizer)
    return page, 422 if form.errors else 200
