"""The signatory CSV: the contract's columns, streamed row by row, formulas neutralized.

Every export takes the same optional filters (``kind``, ``status``, ``country``, ``since``,
``until``); without them it holds every signature of the petition.
"""

import csv
import io

from sqlalchemy import String, type_coerce

from ..extensions import db
from ..models import Signature
from .moderation import filtered_signatures

COLUMNS = (
    "id",
    "created_at",
    "kind",
    "name",
    "email",
    "country",
    "city",
    "affiliation",
    "contact_name",
    "website",
    "comment",
    "public",
    "updates",
    "status",
    "confirmed_at",
    "source",
)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BATCH = 1000


def neutralize(value: str) -> str:
    """Keep spreadsheets from running a cell as a formula (OWASP's CSV injection advice)."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def iso_utc(moment) -> str:
    """ISO 8601 in UTC to the second. SQLite hands the stored text over as it is (much faster
    than parsing a million datetimes); PostgreSQL hands over datetimes."""
    if not moment:
        return ""
    if isinstance(moment, str):
        return moment[:10] + "T" + moment[11:19] + "Z"
    return moment.replace(microsecond=0).isoformat() + "Z"


YES_NO = {True: "yes", False: "no"}  # SQLite's 1 and 0 are equal to True and False
# Columns whose text comes from signers, and so may start like a formula.
TEXT_COLUMNS = frozenset(
    ("name", "email", "city", "affiliation", "contact_name", "website", "comment", "source")
)
TIME_COLUMNS = frozenset(("created_at", "confirmed_at"))
FLAG_COLUMNS = frozenset(("public", "updates"))


def csv_cells(row) -> list:
    """The cells of one exported row (a tuple in COLUMNS order), as the CSV writes them."""
    cells = list(row)
    for index in TEXT_INDEXES:
        value = cells[index]
        if value and value[0] in FORMULA_FIRST_CHARACTERS:
            cells[index] = "'" + value
    for index in TIME_INDEXES:
        cells[index] = iso_utc(cells[index])
    for index in FLAG_INDEXES:
        cells[index] = YES_NO[cells[index]]
    return cells


TEXT_INDEXES = tuple(i for i, column in enumerate(COLUMNS) if column in TEXT_COLUMNS)
TIME_INDEXES = tuple(i for i, column in enumerate(COLUMNS) if column in TIME_COLUMNS)
FLAG_INDEXES = tuple(i for i, column in enumerate(COLUMNS) if column in FLAG_COLUMNS)
FORMULA_FIRST_CHARACTERS = frozenset(FORMULA_PREFIXES)


def export_query(petition, **filters):
    """The exported columns of the signatures of ``petition`` that match ``filters``, oldest
    first, streamed from the database in batches (plain rows: no ORM objects to build)."""
    table = Signature.__table__
    columns = [
        type_coerce(table.c[name], String) if name in TIME_COLUMNS and is_sqlite() else table.c[name]
        for name in COLUMNS
    ]
    return (
        filtered_signatures(petition, **filters)
        .with_only_columns(*columns)
        .order_by(None)
        .order_by(table.c.id)
        .execution_options(yield_per=BATCH)
    )


def is_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def iter_rows(petition, **filters):
    """Yield the cells of each matching signature, as the CSV writes them."""
    for row in db.session.execute(export_query(petition, **filters)):
        yield csv_cells(row)


def iter_csv(petition, **filters):
    """Yield the CSV of the signatures of ``petition`` (all, or those matching ``filters``) in
    chunks, oldest first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    result = db.session.execute(export_query(petition, **filters))
    for rows in result.partitions(BATCH):
        writer.writerows(map(csv_cells, rows))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
