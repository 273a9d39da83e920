"""The sign form: one form for individuals and organizations."""

import functools
import re
import unicodedata
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from ..countries import country_choices, english_names
from ..forms import Form
from ..models import Signature

SOURCE = re.compile(r"[a-z0-9_.-]{1,40}")
BARE_DOMAIN = re.compile(r"[\w-]+(\.[\w-]+)+(/\S*)?", re.UNICODE)
COMMENT_MAX = 500


@functools.cache
def country_select_choices(locale: str) -> list[SelectChoice]:
    """The country options, built once per language (the form is built on every page view)."""
    return [SelectChoice("", _l("Choose a country"))] + [
        SelectChoice(code, name) for code, name in country_choices()
    ]


def clean_source(value: str | None) -> str:
    """A ``?source=`` value fit to store: a short lower-case word, else nothing."""
    value = (value or "").strip().lower()
    return value if SOURCE.fullmatch(value) else ""


def tidy(value):
    """Trim and fold runs of white space: names are compared and listed as typed, once."""
    return " ".join(value.split()) if isinstance(value, str) else value


def trim(value):
    return value.strip() if isinstance(value, str) else value


# Unicode's control (Cc), surrogate (Cs) and private-use (Co) characters, and U+FFFD, the
# replacement character that broken encodings leave; all but tab, CR and LF, which a text area
# may hold. One regular expression search per field instead of a lookup per character.
UNPRINTABLE_BUT_NEWLINES = (
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # Cc
    "\ud800-\udfff"  # Cs
    "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"  # Co
    "\ufffd"
)
UNPRINTABLE = re.compile(f"[\t\n\r{UNPRINTABLE_BUT_NEWLINES}]")
UNPRINTABLE_IN_TEXT = re.compile(f"[{UNPRINTABLE_BUT_NEWLINES}]")


def printable(allow_newlines=False):
    """Refuse control characters, and the replacement character that broken encodings leave."""
    unprintable = UNPRINTABLE_IN_TEXT if allow_newlines else UNPRINTABLE

    def check(form, field):
        if field.data and unprintable.search(field.data):
            raise ValidationError(_l("Remove the invisible or unreadable characters."))

    return check


# Unicode's format characters (Cf) that draw nothing yet can reorder or hide text: the bidi
# controls (U+061C, U+200E-F, U+202A-E, U+2066-9), the soft hyphen, zero-width spaces and
# joiners, the word joiner, the byte order mark, the tags...; and the Hangul fillers, letters
# that draw nothing. (The Cf signs that do show, such as U+0600 or U+06DD, stay.)
INVISIBLE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    "\u115f\u1160\u3164\uffa0]"
)
# Inside a word these change its shape: the zero-width non-joiner and joiner (Persian, Indic
# scripts, emoji sequences) and the Mongolian vowel separator.
JOINERS = ("\u200c", "\u200d", "\u180e")


def joinable(character: str) -> bool:
    """A letter, a mark or a symbol (emoji): what a joiner stands between."""
    return unicodedata.category(character)[0] in "LMS"


def keep_joiner_in_a_word(match: re.Match) -> str:
    """The replacement of one invisible character: itself if it is a joiner inside a word, else nothing."""
    text, at = match.string, match.start()
    if match.group() in JOINERS and 0 < at < len(text) - 1:
        if joinable(text[at - 1]) and joinable(text[at + 1]):
            return match.group()
    return ""


def visible(value):
    """Drop the characters that draw nothing, except a joiner between two letters or emoji."""
    return INVISIBLE.sub(keep_joiner_in_a_word, value) if isinstance(value, str) else value


LOOKALIKE_MESSAGE = _l(
    "Use the address exactly as your email provider shows it, without special lookalike characters."
)


def has_lookalikes(address: str) -> bool:
    """Whether ``address`` holds a character that stands for another: a compatibility character
    (the ligature "ﬀ", fullwidth or superscript letters) or a canonical stand-in such as the
    Kelvin sign. Such an address could sign in the name of the mailbox it imitates. Checked one
    character at a time, so that an accent typed as a separate combining mark is not refused."""
    return not address.isascii() and any(
        unicodedata.normalize("NFKC", character) != character for character in address
    )


def names_someone(text: str | None) -> bool:
    """Whether ``text`` holds a letter or a digit: punctuation alone names nobody."""
    return any(character.isalnum() for character in text or "")


def legible(message):
    """Refuse a name with no letter or digit in it."""

    def check(form, field):
        if field.data and not names_someone(field.data):
            raise ValidationError(message)

    return check


def text_field(label, max_length, required_message=None, **kwargs):
    validators = [printable(), Length(max=max_length, message=_l("Use at most %(max)d characters."))]
    if required_message:
        validators[:0] = [DataRequired(message=required_message), legible(required_message)]
    return StringField(label, validators=validators, filters=[visible, tidy], **kwargs)


class SignatureForm(Form):
    """A signature by a person or, with ``kind=organization``, by an organization.

    Its token is not the session's (see :mod:`petition.signing.form_token`): the views check it.
    """

    class Meta:
        csrf = False

    kind = RadioField(
        _l("I am signing"),
        choices=[
            SelectChoice(Signature.INDIVIDUAL, _l("as an individual")),
            SelectChoice(Signature.ORGANIZATION, _l("for an organization")),
        ],
        default=Signature.INDIVIDUAL,
        validate_choice=True,
    )
    name = text_field(_l("Name"), 200, _l("Enter your name, or your organization's name."))
    email = StringField(
        _l("Email address"),
        validators=[InputRequired(message=_l("Enter an email address.")), printable()],
        filters=[trim],
    )
    country = SelectField(_l("Country"), validate_choice=False)
    city = text_field(_l("City (optional)"), 100)
    affiliation = text_field(_l("Title or organization (optional)"), 200)
    contact_name = text_field(_l("Contact person"), 200)
    website = StringField(
        _l("Website (optional)"), validators=[printable()], filters=[trim], render_kw={"inputmode": "url"}
    )
    comment = TextAreaField(
        _l("Comment (optional)"),
        validators=[
            printable(allow_newlines=True),
            Length(max=COMMENT_MAX, message=_l("Use at most %(max)d characters.")),
        ],
        filters=[visible, trim],
    )
    # Publishing a political opinion needs an active yes: the box starts unticked.
    public = BooleanField(_l("Show my name on the public list of signatories"), default=False)
    updates = BooleanField(_l("Send me news about this campaign"), default=False)
    source = HiddenField(filters=[trim])
    # A honeypot: hidden from people by CSS and from screen readers; bots fill it in.
    homepage = StringField(_l("Leave this field empty"), filters=[trim])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_select_choices(self.ui_language)

    @property
    def caught_in_honeypot(self) -> bool:
        return bool(self.homepage.data)

    @property
    def is_organization(self) -> bool:
        return self.kind.data == Signature.ORGANIZATION

    def validate_email(self, field):
        if len(field.data) > 254:
            raise ValidationError(_l("Email addresses are at most 254 characters long."))
        if has_lookalikes(field.data):
            raise ValidationError(LOOKALIKE_MESSAGE)
        try:
            checked = validate_email(field.data, check_deliverability=False)
        except EmailNotValidError as error:
            raise ValidationError(_l("Enter a valid email address, like name@example.org.")) from error
        field.data = checked.normalized

    def validate_country(self, field):
        if not field.data:
            raise ValidationError(_l("Choose a country."))
        if field.data not in english_names():  # the same codes in every language
            raise ValidationError(_l("Choose a country from the list."))

    def validate_contact_name(self, field):
        if self.is_organization and not names_someone(field.data):
            raise ValidationError(_l("Enter the name of a contact person."))

    def validate_website(self, field):
        if not field.data or not self.is_organization:
            return
        if "://" not in field.data and BARE_DOMAIN.fullmatch(field.data):
            field.data = "https://" + field.data
        try:
            parts = urlsplit(field.data)
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            parts = None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or "." not in parts.hostname
            or len(field.data) > 300
        ):
            raise ValidationError(_l("Enter a web address starting with http:// or https://."))

    def validate_source(self, field):
        field.data = clean_source(field.data)

    def signature_fields(self) -> dict:
        """What to store, with the fields of the other kind left empty."""
        organization = self.is_organization
        return {
            "kind": self.kind.data,
            "name": self.name.data,
            "email": self.email.data,
            "country": self.country.data,
            "city": self.city.data or "",
            "affiliation": "" if organization else self.affiliation.data or "",
            "contact_name": self.contact_name.data if organization else "",
            "website": self.website.data if organization else "",
            "comment": self.comment.data or "",
            "public": bool(self.public.data),
            "updates": bool(self.updates.data),
            "source": self.source.data or "",
        }
