"""The organizers' petition editor: one form for a new petition and for changes to one."""

from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import BooleanField, DateField, IntegerField, StringField, SubmitField, TextAreaField
from wtforms.fields import DateTimeLocalField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..extensions import db
from ..forms import Form
from ..models import Petition, utcnow
from ..petitions.importer import MAX_LENGTHS, SLUG, slugify
from ..signing.forms import printable, tidy, trim

# The largest goal a 32-bit INTEGER column holds comfortably on every database.
MAX_GOAL = 1_000_000_000
CLOSES_AT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def too_long(limit: int) -> Length:
    return Length(max=limit, message=_l("Use at most %(max)d characters."))


def lower_trim(value):
    return value.strip().lower() if isinstance(value, str) else value


class WholeNumberField(IntegerField):
    """A number field that leaves the message about a wrong value to its own validator, so the
    organizer reads one error saying what to type, not WTForms' "Not a valid integer value"."""

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            try:
                self.data = int(valuelist[0].strip())
            except ValueError:
                self.data = None


def lines(text: str | None) -> list[str]:
    """The non-blank lines of a textarea, each trimmed."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class PetitionForm(Form):
    """A petition's statement and settings. ``petition`` is the one being edited, or None."""

    title = StringField(
        _l("Title"),
        validators=[InputRequired(message=_l("Enter a title.")), printable(), too_long(MAX_LENGTHS["title"])],
        filters=[tidy],
    )
    slug = StringField(
        _l("Address"),
        validators=[too_long(MAX_LENGTHS["slug"])],
        filters=[lower_trim],
    )
    subtitle = TextAreaField(_l("Subtitle lines (optional)"), validators=[printable(allow_newlines=True)])
    issuer = StringField(
        _l("Issued by (optional)"),
        validators=[printable(), too_long(MAX_LENGTHS["issuer"])],
        filters=[tidy],
    )
    published_on = DateField(_l("Date of the statement (optional)"), validators=[Optional()])
    source_url = StringField(
        _l("Source URL (optional)"),
        validators=[printable(), too_long(MAX_LENGTHS["source_url"])],
        filters=[trim],
    )
    body = TextAreaField(
        _l("Statement (Markdown)"),
        validators=[InputRequired(message=_l("Enter the statement.")), printable(allow_newlines=True)],
    )
    demands = TextAreaField(
        _l("Demands (optional, one per line)"), validators=[printable(allow_newlines=True)]
    )
    goal = WholeNumberField(
        _l("Goal (signatures)"),
        validators=[InputRequired(message=_l("Enter a goal: a number of signatures."))],
        default=1000,
    )
    closes_at = DateTimeLocalField(
        _l("Closes at, UTC (optional)"),
        format=CLOSES_AT_FORMATS,
        validators=[Optional()],
    )
    retention_days = WholeNumberField(
        _l("Without a closing date, keep each signer's details for (days)"),
        default=Petition.DEFAULT_RETENTION_DAYS,
        render_kw={"min": Petition.MIN_RETENTION_DAYS, "max": Petition.MAX_RETENTION_DAYS},
    )
    requires_confirmation = BooleanField(_l("Count a signature only once its email address is confirmed"))
    organizations_need_approval = BooleanField(_l("List organizations only once an organizer approves them"))
    approve_verified_organizations = BooleanField(
        _l("Approve at once the organizations that confirm from an address at their website's domain"),
        default=True,
    )
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save"))
    # Pressed on the step that warns that the changes make a new version of a signed text.
    publish_version = SubmitField(_l("Publish the new version"))

    def __init__(self, *args, petition: Petition | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.petition = petition

    def validate_goal(self, field):
        if field.data is None or not 1 <= field.data <= MAX_GOAL:
            raise ValidationError(
                _l("The goal must be a whole number from 1 to %(max)s, e.g. 10000.", max=f"{MAX_GOAL:,}")
            )

    def validate_retention_days(self, field):
        if not field.raw_data:  # a form posted without the field keeps what is stored
            field.data = self.petition.retention_days if self.petition else Petition.DEFAULT_RETENTION_DAYS
            return
        low, high = Petition.MIN_RETENTION_DAYS, Petition.MAX_RETENTION_DAYS
        if field.data is None or not low <= field.data <= high:
            raise ValidationError(
                _l(
                    "Keep the details for a whole number of days from %(low)s to %(high)s, e.g. 730.",
                    low=low,
                    high=high,
                )
            )

    def validate_slug(self, field):
        if not field.data:
            if self.petition is not None:
                raise ValidationError(_l("Enter the address: the part after /p/."))
            if not self.title.data:
                return  # the title's own error says what to do
            # A new petition takes its address from its title.
            field.data = slugify(self.title.data)
        if not SLUG.fullmatch(field.data):
            raise ValidationError(
                _l("Use only lower-case letters, digits and single hyphens, e.g. solidarity-with-peru.")
            )
        query = select(Petition.id).where(Petition.slug == field.data)
        if self.petition is not None:
            query = query.where(Petition.id != self.petition.id)
        if db.session.scalar(query) is not None:
            raise ValidationError(_l("Another petition already has this address. Choose another."))

    def validate_source_url(self, field):
        if field.data:
            parts = urlsplit(field.data)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValidationError(_l("Enter a web address starting with https:// or http://."))

    def validate_closes_at(self, field):
        if field.data is not None and self.petition is None and field.data <= utcnow():
            raise ValidationError(_l("A new petition cannot close in the past."))

    def statement(self) -> dict:
        """The form's values in the shape the petition services take."""
        return {
            "slug": self.slug.data,
            "title": self.title.data,
            "subtitle": "\n".join(lines(self.subtitle.data)),
            "issuer": self.issuer.data or "",
            "published_on": self.published_on.data,
            "source_url": self.source_url.data or "",
            "body": (self.body.data or "").strip(),
            "demands": lines(self.demands.data),
            "goal": self.goal.data,
            "closes_at": self.closes_at.data,
            "retention_days": self.retention_days.data,
            "requires_confirmation": self.requires_confirmation.data,
            "organizations_need_approval": self.organizations_need_approval.data,
            "approve_verified_organizations": self.approve_verified_organizations.data,
        }


def form_data(petition: Petition) -> dict:
    """A petition's values as the form shows them."""
    return {
        "title": petition.title,
        "slug": petition.slug,
        "subtitle": petition.subtitle,
        "issuer": petition.issuer,
        "published_on": petition.published_on,
        "source_url": petition.source_url,
        "body": petition.body,
        "demands": "\n".join(petition.demands or []),
        "goal": petition.goal,
        "closes_at": petition.closes_at,
        "retention_days": petition.retention_days,
        "requires_confirmation": petition.requires_confirmation,
        "organizations_need_approval": petition.organizations_need_approval,
        "approve_verified_organizations": petition.approve_verified_organizations,
    }


class DeletePetitionForm(Form):
    """Deleting a petition: its title typed again, so that no petition goes by a slip."""

    title = StringField(
        _l("Type the title of the petition to delete it"),
        validators=[InputRequired(message=_l("Type the title of the petition."))],
        filters=[tidy],
    )

    def __init__(self, *args, petition: Petition, **kwargs):
        super().__init__(*args, **kwargs)
        self.petition = petition

    def validate_title(self, field):
        if field.data != tidy(self.petition.title):
            raise ValidationError(_l("This is not the title of the petition. Type it exactly as shown."))
