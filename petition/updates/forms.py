"""The organizers' forms for updates."""

from flask_babel import lazy_gettext as _l
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp

from ..forms import Form

SUBJECT_MAX = 200  # the column's size
BODY_MAX = 20_000


def strip(value):
    """Surrounding white space off, so a subject of spaces counts as empty."""
    return value.strip() if isinstance(value, str) else value


class UpdateForm(Form):
    """An update's subject and Markdown body, with a button to preview and one to save."""

    subject = StringField(
        _l("Subject"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Enter a subject.")),
            Length(max=SUBJECT_MAX, message=_l("Keep the subject under %(max)d characters.")),
            # It becomes an email header, which a line break would end.
            Regexp(r"[^\r\n]*\Z", message=_l("Write the subject on one line.")),
        ],
    )
    body = TextAreaField(
        _l("Message"),
        validators=[
            DataRequired(message=_l("Write the message.")),
            Length(max=BODY_MAX, message=_l("Keep the message under %(max)d characters.")),
        ],
    )
    save = SubmitField(_l("Save draft"))
    preview = SubmitField(_l("Preview"))
