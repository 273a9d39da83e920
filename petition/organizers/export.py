"""The signatory CSV: the contract's columns, streamed row by row, formulas neutralized.

Every export takes the same optional filters (``kind``, ``status``, ``country``, ``since``,
``until``); without them it holds every signature of the petition.
"""

import csv
import io

from sqlalchemy import String, case, func, literal, type_coerce

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


# Columns whose text comes from signers, and so may start like a formula.
TEXT_COLUMNS = frozenset(
    ("name", "email", "city", "affiliation", "contact_name", "website", "comment", "source")
)
TIME_COLUMNS = frozenset(("created_at", "confirmed_at"))
FLAG_COLUMNS = frozenset(("public", "updates"))


def exported_cell(column, dialect: str):
    """``column`` as the CSV cell, computed by the database: a million rows then cost Python
    nothing but the copy into the file (``sqlite3 -csv`` is the yardstick)."""
    name = column.key
    if name in TIME_COLUMNS:
        if dialect == "postgresql":
            return func.to_char(column, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        text = type_coerce(column, String)  # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff"
        return func.substr(text, 1, 10).concat("T").concat(func.substr(text, 12, 8)).concat("Z")
    if name in FLAG_COLUMNS:
        return case((column, "yes"), else_="no")
    if name in TEXT_COLUMNS:
        first = func.substr(column, 1, 1)
        return case((first.in_(FORMULA_PREFIXES), literal("'").concat(column)), else_=column)
    return column


def export_query(petition, **filters):
    """The CSV cells of the signatures of ``petition`` that match ``filters``, oldest first."""
    table = Signature.__table__
    dialect = db.engine.dialect.name
    return (
        filtered_signatures(petition, **filters)
        .with_only_columns(*(exported_cell(table.c[name], dialect) for name in COLUMNS))
        .order_by(None)
        .order_by(table.c.id)
    )


def iter_batches(petition, **filters):
    """Yield lists of rows of cells, streamed from the database (a server-side cursor on
    PostgreSQL, SQLite's own lazy cursor); the cells need no conversion on the way."""
    result = db.session.connection().execute(
        export_query(petition, **filters).execution_options(yield_per=BATCH)
    )
    try:
        yield from result.partitions(BATCH)
    finally:
        result.close()


def iter_rows(petition, **filters):
    """Yield the cells of each matching signature, as the CSV writes them."""
    for rows in iter_batches(petition, **filters):
        yield from rows


def iter_csv(petition, **filters):
    """Yield the CSV of the signatures of ``petition`` (all, or those matching ``filters``) in
    chunks, oldest first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for rows in iter_batches(petition, **filters):
        writer.writerows(rows)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
