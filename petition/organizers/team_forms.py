"""The forms of a petition's organizers page and of the invitation link."""

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length, ValidationError

from ..forms import Form
from ..models import OrganizerRole
from .access import ROLE_LABELS
from .auth import check_new_password


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
            field.data = validate_email(field.data, check_deliverability=False).normalized.lower()
        except EmailNotValidError as error:
            raise ValidationError(_l("Enter a valid email address, like name@example.org.")) from error


class RoleForm(Form):
    """Another role for someone who holds one on the petition."""

    role = role_field()


class AddressesForm(Form):
    """What the owners let the petition's moderators see."""

    moderators_see_addresses = BooleanField(_l("Moderators see the signers' email addresses"))


class NewPasswordForm(Form):
    """The invitee chooses a password. ``email`` is the account's, for the password rule."""

    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(message=_l("Enter your password.")), Length(max=200)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("The same password again"),
        validators=[EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )

    def __init__(self, *args, email: str, **kwargs):
        self.email = email
        super().__init__(*args, **kwargs)

    def validate_password(self, field):
        try:
            check_new_password(self.email, field.data)
        except ValueError as problem:
            raise ValidationError(str(problem)) from problem
