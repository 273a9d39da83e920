"""The signatory CSV: the contract's columns, then the category and reason of an invalidated
signature's invalidation, streamed in chunks, formulas neutralized.

Every export takes the same optional filters (``kind``, ``status``, ``country``, ``since``,
``until``); without them it holds every signature of the petition.

The database computes every cell (:func:`exported_cell`). On PostgreSQL it writes the CSV too,
with ``COPY … TO STDOUT``; elsewhere Python's csv module writes the rows of the DBAPI cursor.
Both give the same bytes for the same rows, which the tests compare.
"""

import csv
from itertools import islice
from types import SimpleNamespace

from sqlalchemy import String, and_, case, cast, func, literal, select, type_coerce

from ..extensions import db
from ..models import Invalidation, Signature
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
    # After the contract's columns: why an invalidated signature was taken out (else empty).
    "invalidation_category",
    "invalidation_reason",
    # The version of the statement the signature was given.
    "statement_version",
)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BATCH = 1000  # rows fetched at a time, and in each chunk of the CSV (about 150 KB)


def neutralize(value: str) -> str:
    """Keep spreadsheets from running a cell as a formula (OWASP's CSV injection advice)."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


# Columns whose text comes from signers (or, for the reason, from an organizer), and so may
# start like a formula.
TEXT_COLUMNS = frozenset(
    ("name", "email", "city", "affiliation", "contact_name", "website", "comment", "source")
    + ("invalidation_reason",)
)
TIME_COLUMNS = frozenset(("created_at", "confirmed_at"))
FLAG_COLUMNS = frozenset(("public", "updates"))
NUMBER_COLUMNS = frozenset(("id", "statement_version"))
NEVER_EMPTY = TIME_COLUMNS | FLAG_COLUMNS | NUMBER_COLUMNS  # a timestamp, yes or no, a number (or NULL)


def starts_like_formula(column, dialect: str):
    """Whether the text of ``column`` starts with one of the :data:`FORMULA_PREFIXES`."""
    if dialect == "postgresql":
        # The code of the first character (0 when empty): no substring to make.
        return func.ascii(column).in_([ord(prefix) for prefix in FORMULA_PREFIXES])
    first = func.substr(column, 1, 1).in_(FORMULA_PREFIXES)
    if dialect != "sqlite":
        return first
    # SQLite compares text by code point: one comparison tells most cells (those starting with a
    # letter, or empty) from a formula without taking a substring.
    below = chr(ord(max(FORMULA_PREFIXES)) + 1)
    return and_(column >= min(FORMULA_PREFIXES), column < below, first)


# The columns that come from the signature's invalidation (through an outer join: may be NULL).
INVALIDATION_COLUMNS = {"invalidation_category": "category", "invalidation_reason": "reason"}


def stored_column(name: str):
    """The table column that the export's column ``name`` shows."""
    if name in INVALIDATION_COLUMNS:
        return Invalidation.__table__.c[INVALIDATION_COLUMNS[name]]
    return Signature.__table__.c[name]


def may_be_null(name: str) -> bool:
    return name in INVALIDATION_COLUMNS or Signature.__table__.c[name].nullable


def exported_cell(name: str, dialect: str):
    """The column ``name`` as the CSV cell, computed by the database: a million rows then cost
    Python nothing but the copy into the file (``sqlite3 -csv`` is the yardstick)."""
    column = stored_column(name)
    if name in TIME_COLUMNS:
        if dialect == "postgresql":
            return func.to_char(column, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff"
        return func.replace(func.substr(type_coerce(column, String), 1, 19), " ", "T").concat("Z")
    if name in FLAG_COLUMNS:
        return case((column, "yes"), else_="no")
    if name in TEXT_COLUMNS:
        return case((starts_like_formula(column, dialect), literal("'").concat(column)), else_=column)
    return column


def export_query(petition, **filters):
    """The CSV cells of the signatures of ``petition`` that match ``filters``, oldest first."""
    table = Signature.__table__
    invalidation = Invalidation.__table__
    dialect = db.engine.dialect.name
    return (
        filtered_signatures(petition, **filters)
        .outerjoin(invalidation, invalidation.c.id == table.c.invalidation_id)
        .with_only_columns(*(exported_cell(name, dialect) for name in COLUMNS))
        .order_by(None)
        .order_by(table.c.id)
    )


def count_rows(petition, **filters) -> int:
    """How many signatures of ``petition`` match ``filters``: the rows an export of them holds."""
    matching = filtered_signatures(petition, **filters).order_by(None).subquery()
    return db.session.scalar(select(func.count()).select_from(matching))


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


def csv_lines(rows) -> bytes:
    """``rows`` as the contract's CSV lines, in UTF-8, each ended by CRLF: what Python's csv
    module writes.

    The csv module quotes a cell holding a comma, a quote, CR or LF (those of its line end): a row
    of text cells holding none of them is its cells joined with commas, written much faster so.
    The csv module writes the other rows, and those of one cell (it quotes an empty one).
    """
    # writerow returns what write returns: here the line itself.
    write_row = csv.writer(SimpleNamespace(write=str), lineterminator="\r\n").writerow
    if rows and len(rows[0]) > 1:
        commas = len(rows[0]) - 1
        try:
            lines = [
                line + "\r\n"
                if line.count(",") == commas and '"' not in line and "\r" not in line and "\n" not in line
                else write_row(row)
                for row, line in zip(rows, map(",".join, rows), strict=True)
            ]
            return "".join(lines).encode()
        except TypeError:  # a cell that is not text
            pass
    return "".join(map(write_row, rows)).encode()


HEADER = csv_lines([COLUMNS])


def iter_csv(petition, **filters):
    """Yield the CSV of the signatures of ``petition`` (all, or those matching ``filters``),
    oldest first, as UTF-8 bytes in chunks of :data:`BATCH` rows, the header row in the first."""
    query = export_query(petition, **filters)
    chunks = copied_csv(query) if db.engine.dialect.name == "postgresql" else written_csv(query)
    yield HEADER + next(chunks, b"")  # the query runs, and may fail, before the first byte
    yield from chunks


def written_csv(query):
    """Yield the CSV rows of ``query`` as Python's csv module writes them (see :func:`csv_lines`),
    :data:`BATCH` at a time.

    The rows come straight from the DBAPI cursor: the cells need no conversion, and SQLAlchemy's
    rows would add a fifth to the time. (Not for PostgreSQL, whose cursor here would hold every
    row in memory: there :func:`copied_csv` does the work.)
    """
    # Text, never NULL, for str.join (see csv_lines): numbers as text, no confirmation as empty.
    cells = (
        cast(cell, String)
        if name in NUMBER_COLUMNS
        else func.coalesce(cell, "")
        if may_be_null(name)
        else cell
        for name, cell in zip(COLUMNS, query.selected_columns, strict=True)
    )
    result = db.session.connection().execute(query.with_only_columns(*cells))
    try:
        while rows := result.cursor.fetchmany(BATCH):
            yield csv_lines(rows)
    finally:
        result.close()


def copied_csv(query):
    """Yield the CSV rows of ``query`` as PostgreSQL's ``COPY`` writes them, :data:`BATCH` at a
    time, in the bytes Python's csv module would write (see :func:`crlf_row_ends`).

    ``COPY`` quotes an empty string to tell it from NULL; the csv module writes both as nothing,
    so an empty cell is sent as NULL. COPY takes no parameters: psycopg binds them client-side,
    quoted by libpq.
    """
    cells = (
        cell if name in NEVER_EMPTY else func.nullif(cell, "")
        for name, cell in zip(COLUMNS, query.selected_columns, strict=True)
    )
    compiled = query.with_only_columns(*cells).compile(
        dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True}
    )
    statement = f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv, ENCODING 'UTF8')"
    # A connection of its own: until the last row is read, nothing else can use it.
    with db.engine.connect() as connection:
        driver_connection = connection.connection.driver_connection
        with driver_connection.cursor() as cursor, cursor.copy(statement, compiled.params) as copy:
            # As bytes, which the garbage collector need not follow (psycopg's memoryviews it
            # would, and a batch of them kept alive costs it a third of the export).
            yield from crlf_row_ends(batched(map(bytes, copy), BATCH))


def batched(items, size: int):
    """Lists of ``size`` of ``items``, the last one shorter (``itertools.batched`` from 3.12)."""
    items = iter(items)
    while batch := list(islice(items, size)):
        yield batch


def crlf_row_ends(batches):
    """Join each batch of ``COPY``'s rows (whole rows, as the protocol sends them), writing CRLF
    for the LF that ends each row.

    A LF inside a quoted cell (a comment on two lines) stays as it is, as the csv module leaves
    it: it follows an odd number of quotes in the batch, since every row holds an even number
    (COPY doubles a quote within a cell).
    """
    for rows in batches:
        block = b"".join(rows)
        if block.count(b"\n") == len(rows):  # no LF within a cell: each one ends a row
            yield block.replace(b"\n", b"\r\n")
            continue
        parts = block.split(b'"')
        parts[::2] = [part.replace(b"\n", b"\r\n") for part in parts[::2]]
        yield b'"'.join(parts)
