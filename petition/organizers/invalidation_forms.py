"""The bulk invalidation form: filters, a category and a reason; previewed, then confirmed."""

import re

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from ..countries import country_names
from ..forms import Form
from ..models import Invalidation
from . import invalidation
from .forms import day_filter

DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?\.[a-z0-9-]{2,}$")


def stripped(value):
    return value.strip() if isinstance(value, str) else value


def lower(value):
    return value.strip().lower() if isinstance(value, str) else value


def upper(value):
    return value.strip().upper() if isinstance(value, str) else value


CATEGORY_LABELS = {
    Invalidation.DUPLICATE: _l("Duplicates"),
    Invalidation.FAKE: _l("Fake names or addresses"),
    Invalidation.BOT: _l("Automated sign-ups"),
    Invalidation.OTHER: _l("Other"),
}


class InvalidationForm(Form):
    """Which signatures to invalidate (at least one filter) and why."""

    domain = StringField(
        _l("Email domain"),
        filters=[lower],
        validators=[
            Optional(),
            Length(max=253),
            Regexp(DOMAIN, message=_l("Enter a domain such as example.com.")),
        ],
    )
    network = StringField(
        _l("Network (the start of its hash)"),
        filters=[lower],
        validators=[
            Optional(),
            Regexp(r"^[0-9a-f]{4,64}$", message=_l("Enter at least 4 characters of the hash (0-9, a-f).")),
        ],
    )
    since = day_filter(_l("Signed from"))
    until = day_filter(_l("Signed until"))
    country = StringField(_l("Country code"), filters=[upper], validators=[Optional()])
    name = StringField(
        _l("Name contains (* matches anything)"), filters=[stripped], validators=[Optional(), Length(max=200)]
    )
    source = StringField(_l("Source"), filters=[stripped], validators=[Optional(), Length(max=40)])
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice("", _l("Any status"))]
        + [SelectChoice(status, status) for status in invalidation.SELECTABLE],
        default="",
    )
    category = SelectField(
        _l("Category"),
        choices=[SelectChoice(value, label) for value, label in CATEGORY_LABELS.items()],
        default=Invalidation.OTHER,
    )
    reason = StringField(
        _l("Reason"),
        filters=[stripped],
        validators=[DataRequired(message=_l("Say why these signatures are invalid.")), Length(max=500)],
    )

    def validate_country(self, field):
        if field.data and field.data not in country_names():
            raise ValidationError(_l("Enter a two-letter ISO country code, such as PE."))

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The last day comes before the first day."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and not self.criteria():
            # Beside the first filter: invalidating every signature is for the command line (--all).
            self.domain.errors.append(_l("Choose at least one filter."))
            return False
        return valid

    def criteria(self) -> dict:
        """The filters set, as :func:`petition.organizers.invalidation.conditions` takes them."""
        values = {name: self[name].data for name in invalidation.FILTERS}
        for name in ("since", "until"):
            values[name] = values[name].isoformat() if values[name] else None
        return {name: value for name, value in values.items() if value}
