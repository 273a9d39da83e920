"""Organizer forms."""

import datetime as dt

from flask_babel import lazy_gettext as _l
from wtforms import DateField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length, Optional, ValidationError

from ..forms import Form
from ..models import Signature
from .auth import check_new_password


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


class CodeForm(Form):
    """A code from the authenticator app, or a recovery code."""

    code = StringField(
        _l("Code"),
        validators=[InputRequired(message=_l("Enter the code.")), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"},
    )


class NewPasswordForm(Form):
    """A new password typed twice; ``email`` is the account's (a password may not hold it)."""

    new_password = PasswordField(
        _l("New password"),
        validators=[InputRequired(message=_l("Enter a new password.")), Length(max=200)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        _l("New password again"),
        validators=[
            InputRequired(message=_l("Enter the new password again.")),
            EqualTo("new_password", message=_l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )

    def __init__(self, *args, email: str = "", **kwargs):
        self.email = email
        super().__init__(*args, **kwargs)

    def validate_new_password(self, field):
        try:
            check_new_password(self.email, field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from error


class ChangePasswordForm(NewPasswordForm):
    """The current password, then a new one."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[InputRequired(message=_l("Enter your current password.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


# The days a filter may name: any day a signature can have been made on, with room on both sides;
# a day far outside (9999-12-31) is a typo, and its end would not fit a date.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)


def plausible_day(form, field):
    """A WTForms validator: the day lies between :data:`FIRST_DAY` and :data:`LAST_DAY`."""
    if field.data and not FIRST_DAY <= field.data <= LAST_DAY:
        first, last = FIRST_DAY.isoformat(), LAST_DAY.isoformat()
        raise ValidationError(_l("Enter a day between %(first)s and %(last)s.", first=first, last=last))


def day_filter(label) -> DateField:
    """An optional filter on the UTC day a signature was made (YYYY-MM-DD)."""
    return DateField(label, validators=[Optional(), plausible_day])


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
    since = day_filter(_l("Signed from"))
    until = day_filter(_l("Signed until"))
    # The surge report links here with one of these: a network's short hash, an email domain.
    network = StringField(_l("Network"), validators=[Optional(), Length(max=16)])
    domain = StringField(_l("Email domain"), validators=[Optional(), Length(max=254)])


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
