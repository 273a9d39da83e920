"""The forms of a signature import: each row of the file through the sign form's own rules, and
the organizer's upload."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField
from wtforms.validators import Optional, ValidationError

from ..forms import Form
from ..signing.forms import SOURCE, SignatureForm, printable, trim

DEFAULT_SOURCE = "import"


class ImportedSignatureForm(SignatureForm):
    """A row of an imported file: the sign form, except that a signature collected on paper may
    come without an email address (every other rule, the address's included when there is one,
    is the sign form's)."""

    email = StringField(_l("Email address"), validators=[Optional(), printable()], filters=[trim])

    def validate_updates(self, field):
        if field.data and not self.email.data:
            raise ValidationError(_l("Updates need an email address to be sent to."))


class ImportUploadForm(Form):
    """An organizer's upload of a signature file (CSV with the export's column names)."""

    file = FileField(_l("CSV file"), validators=[FileRequired(message=_l("Choose a CSV file."))])
    source = StringField(
        _l("Source"), default=DEFAULT_SOURCE, filters=[lambda value: (value or "").strip().lower()]
    )

    def validate_source(self, field):
        if not SOURCE.fullmatch(field.data or ""):
            raise ValidationError(
                _l("Use up to 40 lower-case letters, digits, dots, hyphens or underscores, e.g. paper.")
            )
