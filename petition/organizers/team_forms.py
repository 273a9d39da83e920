"""The forms of a petition's organizers page and of the invitation link."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from ..forms import Form
from ..models import OrganizerRole
from .access import ROLE_LABELS
from .auth import normalized_email


def role_field() -> SelectField:
    return SelectField(
        _l("Role"),
        choices=[SelectChoice(role, ROLE_LABELS[role]) for role in OrganizerRole.ROLES],
        default=OrganizerRole.VIEWER,
    )


class InviteForm(Form):
    """Invite someone, by address, to a role on the petition."""

    email = StringField(
        _l("Email address"),
        validators=[InputRequired(message=_l("Enter an email address.")), Length(max=254)],
        render_kw={"autocomplete": "off", "type": "email"},
    )
    role = role_field()

    def validate_email(self, field):
        try:
            field.data = normalized_email(field.data)  # as every organizer address is checked
        except ValueError as error:
            raise ValidationError(str(error)) from error


class RoleForm(Form):
    """Another role for someone who holds one on the petition."""

    role = role_field()


class AddressesForm(Form):
    """What the owners let the petition's moderators see."""

    moderators_see_addresses = BooleanField(_l("Moderators see the signers' email addresses"))
