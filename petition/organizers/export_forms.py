"""The filters of the signatory downloads: one GET form, shown on the dashboard and read from
the query string of ``export.csv`` and ``export.xlsx``."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField
from wtforms.fields import SelectChoice
from wtforms.validators import Optional, ValidationError

from ..countries import country_choices, country_names
from ..forms import Form
from .forms import kind_filter, status_filter

DATE_FORMAT = "%Y-%m-%d"


def upper(value):
    return value.strip().upper() if isinstance(value, str) else value


class ExportFilterForm(Form):
    """Which signatures a download holds; every field may stay empty (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    kind = kind_filter()
    status = status_filter()
    # Any ISO code is accepted (validate_country), in either case; the options are for the page.
    country = SelectField(_l("Country"), default="", filters=[upper], validate_choice=False)
    since = DateField(_l("Signed from"), format=DATE_FORMAT, validators=[Optional()])
    until = DateField(_l("Signed until"), format=DATE_FORMAT, validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [SelectChoice("", _l("Any country"))] + [
            SelectChoice(code, name) for code, name in country_choices()
        ]

    def validate_country(self, field):
        if field.data and field.data not in country_names():
            raise ValidationError(_l("Choose a country from the list (a two-letter ISO code)."))

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The last day comes before the first day."))

    def criteria(self) -> dict:
        """The filters the organizer set, for :func:`petition.organizers.export.export_query`."""
        return {
            name: getattr(self, name).data
            for name in ("kind", "status", "country", "since", "until")
            if getattr(self, name).data
        }

    def problems(self) -> list[str]:
        """Each error, after the parameter and the value that caused it; for a choice, the values
        it takes."""
        lines = []
        for name, errors in self.errors.items():
            field = self[name]
            given = field.raw_data[0] if field.raw_data else ""
            line = f"{name}={given}: {errors[0]}"
            if name in ("kind", "status"):
                values = ", ".join(choice.value for choice in field.choices if choice.value)
                line += " " + _("Use one of: %(values)s.", values=values)
            lines.append(line)
        return lines
