"""Organizer forms."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..forms import Form
from ..models import Signature


class LoginForm(Form):
    email = EmailField(
        _l("Email address"),
        validators=[InputRequired(message=_l("Enter your email address.")), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(message=_l("Enter your password.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


def status_filter() -> SelectField:
    """A filter on the signature's state; empty means any."""
    return SelectField(
        _l("Status"),
        choices=[SelectChoice("", _l("Any status"))]
        + [SelectChoice(status, status) for status in Signature.STATUSES],
        default="",
    )


def kind_filter() -> SelectField:
    """A filter on individuals or organizations; empty means everyone."""
    return SelectField(
        _l("Kind"),
        choices=[
            SelectChoice("", _l("Everyone")),
            SelectChoice(Signature.INDIVIDUAL, _l("Individuals")),
            SelectChoice(Signature.ORGANIZATION, _l("Organizations")),
        ],
        default="",
    )


class SignatureFilterForm(Form):
    """The organizer's filters on the signature list (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    status = status_filter()
    kind = kind_filter()
    country = StringField(_l("Country code"), validators=[Optional(), Length(min=2, max=2)])
    q = StringField(_l("Name, email or domain"), validators=[Optional(), Length(max=200)])
    since = DateField(_l("Signed from"), validators=[Optional()])
    until = DateField(_l("Signed until"), validators=[Optional()])


class ModerationForm(Form):
    """A bulk action on the signatures ticked in the list."""

    action = SelectField(
        _l("Action"),
        choices=[
            SelectChoice("approve", _l("Approve")),
            SelectChoice("hide", _l("Hide from the public list (still counted)")),
            SelectChoice("reject", _l("Reject (not counted)")),
            SelectChoice("restore", _l("Restore")),
        ],
    )
    ids = SelectMultipleField(_l("Signatures"), coerce=int, validate_choice=False)

    def validate_ids(self, field):
        if not field.data:
            raise ValidationError(_l("Tick at least one signature."))
