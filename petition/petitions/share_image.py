"""Each petition's share picture: the Open Graph image that social sites show beside a link.

1200×630 pixels (the size Facebook, X, LinkedIn and messengers expect), drawn with Pillow in the
bundled DejaVu fonts: the issuer, the title and the count towards the goal, in each language the
statement is written in. A picture is drawn once per version of the petition and language in
each worker and kept for ``SHARE_IMAGE_CACHE_SECONDS``, so the count on it may be that old; an
edit of the title gives the page a new address for it (see
:func:`petition.sharing.share_image_url`).
"""

import functools
import io
from pathlib import Path

from flask import abort, current_app
from flask_babel import force_locale, format_number, get_translations
from flask_babel import gettext as _
from PIL import Image, ImageDraw, ImageFont

from ..cache import cached
from ..http_cache import DOCUMENT_MAX_AGE, public_cacheable
from ..models import count_signatures
from . import bp, translations
from .pages import get_petition_or_404, progress_percent, terms_of

WIDTH, HEIGHT = 1200, 630
MARGIN = 80
TEXT_WIDTH = WIDTH - 2 * MARGIN
# The title's box, between the issuer's line and the count: sizes tried from the largest down.
TITLE_TOP, TITLE_BOTTOM = 150, 460
TITLE_SIZES = range(84, 35, -4)
LINE_SPACING = 1.18
BACKGROUND, INK, PALE, HIGHLIGHT, TRACK = "#7a0f12", "#ffffff", "#f6d9d6", "#ffbf47", "#5a0b0d"


@functools.lru_cache(maxsize=32)
def font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    """The bundled DejaVu Sans (which has every accent of the site's languages) at ``size`` px."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(Path(current_app.static_folder) / "fonts" / name), size)


def wrap(text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """``text`` in lines no wider than ``width``, broken between words; a word wider than a line
    (a long address) is broken where it must."""
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if face.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while face.getlength(word) > width:
            cut = len(word) - 1
            while cut > 1 and face.getlength(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines


def shorten(line: str, face: ImageFont.FreeTypeFont, width: int) -> str:
    """``line`` ended by an ellipsis, cut so that it fits ``width``."""
    while line and face.getlength(line + "…") > width:
        line = line[:-1]
    return line.rstrip() + "…"


def fit_title(title: str) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest of :data:`TITLE_SIZES` at which ``title`` fits its box, and its lines; at the
    smallest, as many lines as fit, the last one ending in an ellipsis."""
    height = TITLE_BOTTOM - TITLE_TOP
    for size in TITLE_SIZES:
        face = font(True, size)
        lines = wrap(title, face, TEXT_WIDTH)
        if len(lines) * size * LINE_SPACING <= height:
            return face, lines
    room = int(height // (face.size * LINE_SPACING))
    return face, [*lines[: room - 1], shorten(lines[room - 1], face, TEXT_WIDTH)]


def draw_share_image(title: str, issuer: str, count_line: str, progress: int) -> bytes:
    """The PNG: ``issuer`` above, ``title`` as large as it fits, ``count_line`` and a bar
    ``progress`` percent full below."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    if issuer:
        small = font(False, 34)
        if small.getlength(issuer) > TEXT_WIDTH:
            issuer = shorten(issuer, small, TEXT_WIDTH)
        draw.text((MARGIN, 70), issuer, font=small, fill=PALE)
    face, lines = fit_title(title)
    step = face.size * LINE_SPACING
    top = TITLE_TOP + (TITLE_BOTTOM - TITLE_TOP - step * len(lines)) / 2  # centred in its box
    for number, line in enumerate(lines):
        draw.text((MARGIN, top + number * step), line, font=face, fill=INK)
    draw.text((MARGIN, 490), count_line, font=font(True, 40), fill=HIGHLIGHT)
    draw.rounded_rectangle((MARGIN, 556, WIDTH - MARGIN, 572), radius=8, fill=TRACK)
    if progress:
        filled = MARGIN + max(16, TEXT_WIDTH * progress // 100)
        draw.rounded_rectangle((MARGIN, 556, filled, 572), radius=8, fill=HIGHLIGHT)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def render_share_image(slug: str, language: str) -> bytes:
    """The share picture of petition ``slug`` in ``language``; a 404 if its statement is not
    written in that language."""
    petition = get_petition_or_404(slug)
    if language not in translations.statement_languages(petition):
        abort(404)
    statement = translations.statement_for(petition, language)
    counts = count_signatures(petition)
    with force_locale(language):
        goal = _("Goal: %(goal)s", goal=format_number(petition.goal))
        if counts["total"]:
            total = format_number(counts["total"])
            # The catalog's own ngettext: Flask-Babel's would put the unformatted count in.
            plural = get_translations().ngettext("%(num)s signature", "%(num)s signatures", counts["total"])
            count_line = plural % {"num": total}
            count_line = f"{count_line} · {goal}"
        else:
            count_line = goal
    return draw_share_image(statement.title, petition.issuer, count_line, progress_percent(counts, petition))


@bp.get("/p/<slug>/share/<language>.png")
def share_image(slug, language):
    if language not in current_app.config["LANGUAGES"]:
        abort(404)
    terms = terms_of(slug)
    png = cached(
        ("share-image", terms.id, terms.version, language),
        current_app.config["SHARE_IMAGE_CACHE_SECONDS"],
        lambda: render_share_image(slug, language),
    )
    return public_cacheable(current_app.response_class(png, mimetype="image/png"), DOCUMENT_MAX_AGE)
