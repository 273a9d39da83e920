"""The delivery sheet as a PDF, built with fpdf2: the statement, its demands, the count and the
organizations that signed, set in DejaVu Sans (shipped in static/fonts/) so every accent prints."""

from pathlib import Path

from flask import current_app
from flask_babel import format_date, format_datetime, format_number, get_translations
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace, TextStyle
from markdown_it import MarkdownIt

FONT = "DejaVu"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
BLACK = "#000000"
LINE = 5.5  # mm per line of body text
# The statement's Markdown as the page shows it, but images stay text: the PDF builder would
# otherwise fetch whatever address an image names.
pdf_markdown = MarkdownIt("commonmark", {"html": False}).disable("image")
# Black on white, as the printed page; no italic face is shipped, so emphasis prints upright.
TAG_STYLES = {
    "a": FontFace(color=BLACK, emphasis="UNDERLINE"),
    "em": FontFace(),
    "i": FontFace(),
    "code": FontFace(family=FONT),
    "pre": TextStyle(font_family=FONT, t_margin=3),
    "blockquote": TextStyle(color=BLACK, t_margin=3, b_margin=3, l_margin=8),
    **{
        f"h{level}": TextStyle(font_family=FONT, font_style="B", color=BLACK, font_size_pt=size, t_margin=5)
        for level, size in zip(range(1, 7), (16, 14, 12, 11, 11, 11), strict=True)
    },
}


def ngettext(singular: str, plural: str, number: int) -> str:
    """Flask-Babel's ``ngettext`` with ``%(num)s`` written the reader's way (10,000 or 10.000), as
    the templates write it; named so, message extraction finds every call."""
    return get_translations().ungettext(singular, plural, number) % {"num": format_number(number)}


def font_path(filename: str) -> Path:
    return Path(current_app.static_folder) / "fonts" / filename


class DeliveryPDF(FPDF):
    """A4 pages, each with the petition's address and its page number at the foot."""

    def __init__(self, address: str):
        super().__init__(format="A4")
        self.address = address
        for style, filename in FONT_FILES.items():
            self.add_font(FONT, style, font_path(filename))
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(True, margin=20)

    def footer(self):
        self.set_y(-14)
        self.set_font(FONT, "", 8)
        page = _("Page %(page)s of %(pages)s", page=self.page_no(), pages="{nb}")
        self.cell(0, 6, f"{self.address}  ·  {page}", align="C")

    def paragraph(self, text: str, size: float = 11, style: str = "", space: float = 2) -> None:
        self.set_font(FONT, style, size)
        self.multi_cell(0, size * 0.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(space)

    def heading(self, text: str, size: float = 14) -> None:
        self.ln(3)
        self.paragraph(text, size=size, style="B")


def petition_pdf(sheet: dict) -> bytes:
    """The PDF of the delivery sheet that :func:`petition.petitions.delivery.delivery_sheet` gives."""
    petition, statement = sheet["petition"], sheet["statement"]
    pdf = DeliveryPDF(sheet["url"])
    pdf.set_title(statement.title)
    pdf.set_author(petition.issuer or _("Solidarity petitions"))
    pdf.set_lang(statement.language)
    pdf.set_creator(_("Solidarity petitions"))
    pdf.add_page()
    write_statement(pdf, petition, statement)
    write_counts(pdf, sheet)
    write_signatories(pdf, sheet)
    return bytes(pdf.output())


def write_statement(pdf: DeliveryPDF, petition, statement) -> None:
    """The statement (``statement``: the petition or its translation), then who issued it."""
    pdf.paragraph(statement.title, size=20, style="B", space=3)
    for line in statement.subtitle_lines:
        pdf.paragraph(line, size=12, space=1)
    if petition.published_on:
        pdf.paragraph(format_date(petition.published_on, "long"), size=10)
    pdf.ln(2)
    pdf.set_font(FONT, "", 11)
    pdf.write_html(pdf_markdown.render(statement.body), font_family=FONT, tag_styles=TAG_STYLES)
    if statement.demands:
        pdf.heading(_("Our demands"))
        for demand in statement.demands:
            pdf.paragraph(f"•  {demand}", style="B", space=1.5)
    pdf.ln(3)
    if petition.issuer:
        pdf.paragraph(petition.issuer, space=0.5)
    if petition.published_on:
        pdf.paragraph(format_date(petition.published_on, "long"))
    if petition.source_url:
        pdf.paragraph(_("Originally published at %(url)s", url=petition.source_url), size=9)


def write_counts(pdf: DeliveryPDF, sheet: dict) -> None:
    counts, petition = sheet["counts"], sheet["petition"]
    pdf.heading(_("Final count") if sheet["closed"] else _("Signatures so far"))
    pdf.paragraph(ngettext("%(num)s signature", "%(num)s signatures", counts["total"]), size=16, style="B")
    pdf.paragraph(
        ngettext("%(num)s organization", "%(num)s organizations", counts["organizations"])
        + " · "
        + ngettext("%(num)s individual", "%(num)s individuals", counts["individuals"])
    )
    if sheet["closed"]:
        when = _("The petition closed on %(date)s.", date=format_date(petition.closes_at, "long"))
    else:
        when = _("Counted on %(moment)s.", moment=format_datetime(sheet["as_of"], "long"))
    pdf.paragraph(when, size=10)
    pdf.paragraph(_("Goal: %(goal)s", goal=format_number(petition.goal)), size=10)


def write_signatories(pdf: DeliveryPDF, sheet: dict) -> None:
    counts, country_name = sheet["counts"], sheet["country_name"]
    pdf.add_page()
    pdf.paragraph(_("Organizations that signed"), size=16, style="B", space=3)
    if not sheet["organizations"]:
        pdf.paragraph(_("No organization has signed in public yet."))
    for organization in sheet["organizations"]:
        pdf.set_font(FONT, "B", 11)
        pdf.write(LINE, organization.name)
        place = ", ".join(p for p in (organization.city, country_name(organization.country)) if p)
        pdf.set_font(FONT, "", 11)  # the same size keeps both on one baseline
        pdf.write(LINE, f" — {place}" if place else "")
        pdf.ln(LINE + 1.5)
    pdf.ln(3)
    if sheet["unlisted_organizations"]:
        pdf.paragraph(
            ngettext(
                "And %(num)s organization not listed by name.",
                "And %(num)s organizations not listed by name.",
                sheet["unlisted_organizations"],
            )
        )
    pdf.heading(_("Individuals"))
    pdf.paragraph(
        ngettext(
            "%(num)s individual signed the petition.",
            "%(num)s individuals signed the petition.",
            counts["individuals"],
        )
    )
