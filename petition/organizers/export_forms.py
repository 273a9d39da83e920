"""The filters of the signatory downloads: one GET form, shown on the dashboard and read from
the query string of ``export.csv`` and ``export.xlsx``."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.fields import SelectChoice
from wtforms.validators import ValidationError

from ..countries import country_choices, country_names
from ..forms import Form
from .forms import day_filter, kind_filter, status_filter


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
    since = day_filter(_l("Signed from"))
    until = day_filter(_l("Signed until"))

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

    def unknown_parameters(self, args) -> list[str]:
        """A problem line for each parameter of ``args`` that is no filter: a typo such as
        ``contry=PE`` must not download everyone. ``lang`` chooses the language of the answer."""
        filters = [field.name for field in self]
        message = _("There is no such filter. The filters are: %(names)s.", names=", ".join(filters))
        return [f"{name}={args.get(name)}: {message}" for name in args if name not in {*filters, "lang"}]

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
