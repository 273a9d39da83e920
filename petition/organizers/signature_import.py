"""Signatures collected on paper or at events, imported from a CSV with the export's column names.

The whole file is checked first, each row through the sign form's rules
(:class:`~.import_forms.ImportedSignatureForm`); a file with any bad row is refused whole, each
problem with its line number. A good file is stored in one transaction, counted at once (its
signers signed in person, and the organizer who imports it vouches for them) and marked with its
source: a row's own ``source`` cell, else the source of the import.

Importing a file again adds nothing. A row with an email address is a repeat of any signature
with that address on the petition, as signing is. A row without one is keyed by a fingerprint of
its kind, name, country, city and source (``import:<sha256>``: no address has that form, so the
key never meets an address's); the same person at two events with different sources is then two
signatures, and a repeat of a line within one source is one.

Imported signers receive no email: no confirmation, no receipt; the updates, if they asked.
"""

import csv
import hashlib
import io
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from werkzeug.datastructures import MultiDict

from ..extensions import db
from ..models import Signature, utcnow
from ..signing.services import email_key
from .export import COLUMNS, FORMULA_PREFIXES
from .import_forms import ImportedSignatureForm

REQUIRED = ("kind", "name", "country")
# The sign form's fields, each filled from the column of the same name.
FORM_FIELDS = (
    "kind",
    "name",
    "email",
    "country",
    "city",
    "affiliation",
    "contact_name",
    "website",
    "comment",
)
FLAGS = ("public", "updates")
YES, NO = frozenset(("yes", "y", "true", "1")), frozenset(("no", "n", "false", "0", ""))
ROWS_PER_QUERY = 500


class Problem(NamedTuple):
    """Why the file is refused: at ``line`` (1 is the header), in ``column`` (or "")."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.column:
            return _(
                "Line %(line)s, %(column)s: %(message)s",
                line=self.line,
                column=self.column,
                message=self.message,
            )
        return _("Line %(line)s: %(message)s", line=self.line, message=self.message)


class CheckedFile(NamedTuple):
    """A file read and checked: the signatures to store (one row per new key), the problems, and
    the lines that repeat an earlier line of the file."""

    rows: list[dict]
    problems: list[Problem]
    repeated_lines: list[int]


class Imported(NamedTuple):
    """What an import did (or, dry, would do): signatures added, rows that were there already."""

    added: int
    already: int


def decode(data: bytes) -> tuple[str | None, Problem | None]:
    """``data`` as text (UTF-8, with or without the mark spreadsheets put first)."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return None, Problem(line, "", _("The file is not UTF-8 text: save it as CSV UTF-8 and try again."))


def check_file(petition, data: bytes, source: str) -> CheckedFile:
    """Read and check the CSV ``data`` for ``petition``; nothing is stored."""
    text, problem = decode(data)
    if problem:
        return CheckedFile([], [problem], [])
    reader = csv.DictReader(io.StringIO(text, newline=""))
    problems = header_problems(reader)
    if problems:
        return CheckedFile([], problems, [])
    rows, seen, repeated, now = [], set(), [], utcnow()
    line = reader.line_num  # where the header ends
    try:
        for record in reader:
            start, line = line + 1, reader.line_num
            row, row_problems = checked_row(petition, record, start, source, now)
            problems += row_problems
            if row is None:
                continue
            if row["email_key"] in seen:
                repeated.append(start)
                continue
            seen.add(row["email_key"])
            rows.append(row)
    except csv.Error as error:
        problems.append(
            Problem(reader.line_num, "", _("This line is not valid CSV (%(error)s).", error=error))
        )
    if not rows and not problems and not repeated:
        problems.append(Problem(1, "", _("The file holds no signature.")))
    return CheckedFile(rows, problems, repeated)


def header_problems(reader) -> list[Problem]:
    """Missing, unknown or repeated columns in the header (normalized to lower case)."""
    if not reader.fieldnames:
        return [Problem(1, "", _("The file is empty."))]
    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames]
    names = reader.fieldnames
    problems = [Problem(1, name, _("This column is missing.")) for name in REQUIRED if name not in names]
    known = ", ".join(COLUMNS)
    problems += [
        Problem(1, name, _("There is no such column. The columns are: %(names)s.", names=known))
        for name in dict.fromkeys(names)
        if name not in COLUMNS
    ]
    problems += [
        Problem(1, name, _("This column appears twice."))
        for name in dict.fromkeys(names)
        if names.count(name) > 1
    ]
    return problems


def checked_row(petition, record: dict, line: int, source: str, now) -> tuple[dict | None, list[Problem]]:
    """The signature row that ``record`` describes, or its problems (None for a blank line)."""
    if None in record:
        return None, [Problem(line, "", _("This line has more cells than the header has columns."))]
    cells = {name: as_typed((value or "").strip()) for name, value in record.items()}
    if not any(cells.values()):
        return None, []  # spreadsheets leave empty lines at the end
    formdata = MultiDict((name, cells.get(name, "")) for name in FORM_FIELDS)
    formdata["kind"] = formdata["kind"].lower()
    formdata["country"] = formdata["country"].upper()
    problems = []
    for flag in FLAGS:
        value = cells.get(flag, "").lower()
        if value in YES:
            formdata[flag] = "y"
        elif value not in NO:
            problems.append(Problem(line, flag, _("Write yes or no.")))
    formdata["source"] = cells.get("source", "")
    form = ImportedSignatureForm(formdata=formdata)
    if not form.validate():
        problems += [Problem(line, name, errors[0]) for name, errors in form.errors.items()]
    if problems:
        return None, problems
    fields = form.signature_fields()
    fields["source"] = fields["source"] or source
    return {
        **fields,
        "petition_id": petition.id,
        "email_key": email_key(fields["email"]) if fields["email"] else fingerprint(fields),
        "locale": petition.language,
        # Signed on paper where the current text was shown.
        "statement_version": petition.statement_version,
        "status": Signature.CONFIRMED,
        "confirmed_at": now,
        "created_at": now,
    }, []


def as_typed(cell: str) -> str:
    """A cell without the quote that the export puts before a formula-like start (see
    :func:`~.export.neutralize`), so that an exported file imports as it was signed."""
    return cell[1:] if cell.startswith("'") and cell[1:2] and cell[1:2] in FORMULA_PREFIXES else cell


def fingerprint(fields: dict) -> str:
    """The key of a signature without an address (see the module's docstring)."""
    parts = (
        fields["kind"],
        fields["name"].lower(),
        fields["country"],
        fields["city"].lower(),
        fields["source"],
    )
    return "import:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def stored_keys(petition, keys: list[str]) -> set[str]:
    """Which of ``keys`` a signature of ``petition`` holds already."""
    found = set()
    for start in range(0, len(keys), ROWS_PER_QUERY):
        chunk = keys[start : start + ROWS_PER_QUERY]
        found.update(
            db.session.scalars(
                select(Signature.email_key).where(
                    Signature.petition_id == petition.id, Signature.email_key.in_(chunk)
                )
            )
        )
    return found


def store(petition, checked: CheckedFile, dry_run: bool = False) -> Imported:
    """Add the rows of ``checked`` (a file without problems) that ``petition`` does not hold yet,
    in the session's transaction; with ``dry_run``, only say how many that would be.

    Each INSERT skips a key already there (``ON CONFLICT DO NOTHING``): two imports of one file
    at the same moment add it once, and a signer who signs online meanwhile keeps their own row.
    """
    if checked.problems:
        raise ValueError("a file with problems is refused whole")
    repeated = len(checked.repeated_lines)
    if dry_run:
        there = len(stored_keys(petition, [row["email_key"] for row in checked.rows]))
        return Imported(len(checked.rows) - there, there + repeated)
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = Signature.__table__
    statement = (
        insert(table)
        .on_conflict_do_nothing(index_elements=["petition_id", "email_key"])
        .returning(table.c.id)
    )
    added = 0
    for start in range(0, len(checked.rows), ROWS_PER_QUERY):
        added += len(db.session.execute(statement, checked.rows[start : start + ROWS_PER_QUERY]).all())
    return Imported(added, len(checked.rows) - added + repeated)
