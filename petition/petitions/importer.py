"""Reading a statement from a content file: Markdown with YAML front matter, or plain text."""

import datetime as dt
import re
import unicodedata
from pathlib import Path

import yaml

from ..models import Petition

LINK = re.compile(r"\[([^\]]+)\]\((#|[^)\s]*)\)")
AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
SENTENCE_END = (".", "!", "?", ":", "”", '"', "’", ")", "]", "»")
HEADING_MAX = 80
# A text with a line longer than this keeps each paragraph on one line (as word processors
# and web forms give it); shorter lines throughout mean text wrapped by hand, as in an email.
WRAPPED_LINE_MAX = 100
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
LANGUAGE = re.compile(r"[a-z]{2,3}")
# The longest value each column holds: a longer one is refused here, not by the database.
MAX_LENGTHS = {"slug": 80, "title": 200, "issuer": 200, "source_url": 500, "language": 8}


class StatementError(ValueError):
    """The file does not describe a statement."""


def slugify(text: str) -> str:
    """A URL slug from a title: lower case ASCII words joined by hyphens."""

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80].rstrip("-") or "petition"


def read_statement(path) -> dict:
    """Parse ``path`` into the fields of a petition."""
    text = Path(path).read_text(encoding="utf-8").lstrip("\ufeff")
    if text.startswith("---"):
        return check_statement(parse_front_matter(text))
    return check_statement(parse_plain_text(text))


def check_statement(statement: dict) -> dict:
    """Refuse what the database would refuse, or store wrongly, with a message for the organizer."""
    if not SLUG.fullmatch(statement["slug"]):
        raise StatementError("the slug may hold only lower-case letters, digits and single hyphens")
    if "translation_of" in statement:
        if not SLUG.fullmatch(statement["translation_of"]):
            raise StatementError("translation_of must be the slug of the petition translated")
        if not LANGUAGE.fullmatch(statement["language"]):
            raise StatementError("the language of a translation must be a code like es, fr or pt")
    for key, limit in MAX_LENGTHS.items():
        if len(statement[key]) > limit:
            raise StatementError(f"the {key} is longer than {limit} characters")
    goal = statement.get("goal", 1)
    if isinstance(goal, bool) or not isinstance(goal, int) or goal < 1:
        raise StatementError("the goal must be a whole number above zero")
    for key in ("requires_confirmation", "organizations_need_approval"):
        if not isinstance(statement.get(key, False), bool):
            raise StatementError(f"{key} must be true or false")
    low, high = Petition.MIN_RETENTION_DAYS, Petition.MAX_RETENTION_DAYS
    days = statement.get("retention_days", low)
    if isinstance(days, bool) or not isinstance(days, int) or not low <= days <= high:
        raise StatementError(f"retention_days must be a whole number of days from {low} to {high}")
    return statement


def parse_front_matter(text: str) -> dict:
    """Markdown with a YAML block between ``---`` lines at the top."""
    _, _, rest = text.partition("---")
    header, sep, body = rest.partition("\n---")
    if not sep:
        raise StatementError("the front matter has no closing '---' line")
    try:
        meta = yaml.safe_load(header) or {}
    except yaml.YAMLError as error:
        raise StatementError(f"the front matter is not valid YAML: {error}") from error
    if not isinstance(meta, dict) or not meta.get("title"):
        raise StatementError("the front matter needs at least a title")
    subtitle = meta.get("subtitle") or []
    if isinstance(subtitle, str):
        subtitle = subtitle.splitlines()
    if not isinstance(subtitle, list):
        raise StatementError("the subtitle must be a line of text or a list of lines")
    demands = meta.get("demands") or []
    if isinstance(demands, str):
        demands = [demands]
    if not isinstance(demands, list):
        raise StatementError("the demands must be a list")
    published = meta.get("date")
    if isinstance(published, str):
        published = parse_date(published)
        if published is None:
            raise StatementError(f"the date {meta['date']!r} is not a date like 2023-01-04")
    elif isinstance(published, dt.datetime):
        published = published.date()
    elif published is not None and not isinstance(published, dt.date):
        raise StatementError(f"the date {published!r} is not a date like 2023-01-04")
    statement = {
        "slug": str(meta.get("slug") or slugify(meta["title"])),
        "title": str(meta["title"]).strip(),
        "subtitle": "\n".join(str(line).strip() for line in subtitle),
        "issuer": str(meta.get("issuer") or "").strip(),
        "published_on": published,
        "source_url": str(meta.get("source") or "").strip(),
        "language": str(meta.get("language") or "en"),
        "demands": [str(demand).strip() for demand in demands],
        "body": body.partition("\n")[2].strip(),
    }
    for key in ("goal", "requires_confirmation", "organizations_need_approval", "retention_days"):
        if key in meta:
            statement[key] = meta[key]
    if meta.get("translation_of"):
        # The petition in another language: only its text is read (see translations.py).
        if not meta.get("language"):
            raise StatementError("a translation needs its language, e.g. language: es")
        statement["translation_of"] = str(meta["translation_of"]).strip()
        statement["language"] = statement["language"].strip().lower()
    return statement


def parse_date(text: str):
    for pattern in ("%d %B %Y", "%Y-%m-%d", "%B %d, %Y"):
        try:
            return dt.datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


def is_demand(paragraph: str) -> bool:
    letters = [c for c in paragraph if c.isalpha()]
    return paragraph.endswith("!") and bool(letters) and all(c.isupper() for c in letters)


def is_heading(paragraph: str) -> bool:
    return len(paragraph) <= HEADING_MAX and not paragraph.endswith(SENTENCE_END)


def plain_links(text: str) -> str:
    """``[text](#)`` becomes its text; a real link stays Markdown."""
    return LINK.sub(lambda m: m.group(1) if m.group(2) in ("", "#") else m.group(0), text)


def is_upper_case(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


def starts_new_paragraph(previous: str, line: str) -> bool:
    """Whether ``line`` begins a paragraph of its own although no blank line comes before it:
    each demand and each date stands on its own line (an upper-case line without its "!" runs
    on into the next), as does a line after the end of a sentence that starts in upper case."""
    if is_demand(previous) or parse_date(previous) or parse_date(line) or AUTOLINK.fullmatch(line):
        return True
    if is_demand(line):
        return not (is_upper_case(previous) and not previous.endswith("!"))
    return previous.endswith(SENTENCE_END) and not line[:1].islower()


def split_paragraphs(text: str) -> list[str]:
    """The paragraphs of ``text``: parted by blank lines, and inside a run of lines at each line
    break when paragraphs are kept on one line each, else wherever :func:`starts_new_paragraph`
    says (text wrapped by hand needs blank lines around its headings); the lines of one
    paragraph are joined by spaces."""
    one_per_line = any(len(line) > WRAPPED_LINE_MAX for line in text.splitlines())
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        lines = [" ".join(line.split()) for line in block.splitlines() if line.strip()]
        for index, line in enumerate(lines):
            if index and not one_per_line and not starts_new_paragraph(lines[index - 1], line):
                paragraphs[-1] += " " + line
            else:
                paragraphs.append(line)
    return paragraphs


def join_broken_paragraphs(paragraphs: list[str]) -> list[str]:
    """Mend paragraphs split mid-sentence: one that stops without punctuation and is followed
    by one starting in lower case is a single paragraph."""
    joined: list[str] = []
    for paragraph in paragraphs:
        if joined and not joined[-1].endswith(SENTENCE_END) and paragraph[:1].islower():
            joined[-1] += " " + paragraph
        else:
            joined.append(paragraph)
    return joined


def parse_plain_text(text: str) -> dict:
    """A statement laid out like the seed: the title on the first line, short lines as headings,
    demands in upper case ending in "!" one per line, issuer and date on the last lines, an
    optional source link last. Blank lines between paragraphs may be left out."""
    title, _, rest = text.strip().partition("\n")
    if not title.strip():
        raise StatementError("the file is empty")
    title, paragraphs = " ".join(title.split()), split_paragraphs(rest)
    source_url = ""
    while paragraphs and (AUTOLINK.fullmatch(paragraphs[-1]) or paragraphs[-1].endswith(":")):
        link = AUTOLINK.fullmatch(paragraphs.pop())
        source_url = source_url or (link.group(1) if link else "")
    published_on, issuer = None, ""
    if paragraphs and parse_date(paragraphs[-1]):
        published_on = parse_date(paragraphs.pop())
        if paragraphs and is_heading(paragraphs[-1]) and not is_demand(paragraphs[-1]):
            issuer = paragraphs.pop()

    subtitle = []
    while paragraphs and len(paragraphs[0]) <= HEADING_MAX:
        subtitle.append(plain_links(paragraphs.pop(0)))

    demands, blocks = [], []
    for paragraph in join_broken_paragraphs(paragraphs):
        if is_demand(paragraph):
            demands.append(paragraph)
        elif is_heading(paragraph):
            blocks.append("## " + plain_links(paragraph))
        else:
            blocks.append(plain_links(paragraph))
    return {
        "slug": slugify(title),
        "title": title,
        "subtitle": "\n".join(subtitle),
        "issuer": issuer,
        "published_on": published_on,
        "source_url": source_url,
        "language": "en",
        "demands": demands,
        "body": "\n\n".join(blocks),
    }
