"""The signatory CSV: the contract's columns, streamed row by row, formulas neutralized."""

import csv
import io

from sqlalchemy import select

from ..extensions import db
from ..models import Signature

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
    return moment.replace(microsecond=0).isoformat() + "Z" if moment else ""


def csv_cells(signature: Signature) -> list[str]:
    cells = []
    for column in COLUMNS:
        value = getattr(signature, column)
        if column in ("created_at", "confirmed_at"):
            value = iso_utc(value)
        elif column in ("public", "updates"):
            value = "yes" if value else "no"
        else:
            value = neutralize(str(value))
        cells.append(value)
    return cells


def iter_csv(petition):
    """Yield the CSV of every signature of ``petition`` in chunks, oldest first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    query = (
        select(Signature)
        .where(Signature.petition_id == petition.id)
        .order_by(Signature.id)
        .execution_options(yield_per=BATCH)
    )
    for rows_written, signature in enumerate(db.session.scalars(query), start=1):
        writer.writerow(csv_cells(signature))
        if rows_written % BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
