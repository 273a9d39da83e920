"""The signatory CSV, byte for byte: the database computes the cells and, on PostgreSQL, writes
the CSV with COPY; the bytes must be those Python's csv module writes from the stored values."""

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.models import Petition, Signature
from petition.organizers import export

# Cells that a CSV writer has to get right: separators, quotes, line breaks inside a cell,
# formula starts, text beyond ASCII, control characters, what PostgreSQL's COPY treats apart.
NASTY = [
    {"name": 'Ana, "la Roja"'},
    {"comment": "line one\nline two"},
    {"comment": "carriage\rreturn"},
    {"comment": "windows\r\nline"},
    {"comment": "ends with a line break\n"},
    {"comment": '"'},
    {"comment": '""'},
    {"comment": ","},
    {"comment": 'a quote then a break "\n and ""more"""'},
    {"name": "=1+1"},
    {"name": "+51 999"},
    {"name": "-2"},
    {"name": "@SUM(A1)"},
    {"name": "\tTabbed"},
    {"name": "\rCarriage first"},
    {"name": '=HYPERLINK("https://evil.example","x")'},
    {"name": "李华", "city": "São Paulo", "affiliation": "Zoë ✊🏽"},
    {"name": "Line\u2028separator", "comment": "next\x85line"},
    {"name": "Unit\x1fseparator", "comment": "bell\x07"},
    {"affiliation": " leading space", "website": "trailing space "},
    {"comment": "\\.", "website": "\\N"},
    {"comment": "'already quoted"},
    {"city": "", "affiliation": "", "contact_name": "", "website": "", "comment": "", "source": ""},
    {"kind": Signature.ORGANIZATION, "contact_name": 'Rosa, "Sutep"', "website": "https://x.example"},
    {"public": False, "updates": True, "source": "=cmd"},
    {"status": Signature.PENDING},
    {"status": Signature.REJECTED, "country": "AR"},
    {"email": "-dash@example.org"},
]


def add_signatures(app, petition, cells_list) -> list[int]:
    """Store a signature for each dict of cells, as they are (no form cleans them), oldest first."""
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, 678901)
    ids = []
    with app.app_context():
        for number, cells in enumerate(cells_list):
            values = {
                "kind": Signature.INDIVIDUAL,
                "name": f"Signer {number}",
                "email": f"signer{number}@example.org",
                "country": "PE",
                "status": Signature.CONFIRMED,
                "created_at": moment + dt.timedelta(days=number),
                **cells,
            }
            values["email_key"] = values["email"].lower()
            confirmed = values["status"] == Signature.CONFIRMED
            values["confirmed_at"] = moment + dt.timedelta(days=number, hours=1) if confirmed else None
            signature = Signature(petition_id=petition.id, **values)
            db.session.add(signature)
            db.session.flush()
            ids.append(signature.id)
        db.session.commit()
    return ids


def expected_csv(app, ids) -> bytes:
    """What the contract says, written by Python's csv module from the stored values."""

    def moment(value):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(export.COLUMNS)
    with app.app_context():
        rows = db.session.scalars(select(Signature).where(Signature.id.in_(ids)).order_by(Signature.id))
        for row in rows:
            cells = []
            for name in export.COLUMNS:
                value = getattr(row, name)
                if name in export.TIME_COLUMNS:
                    value = moment(value)
                elif name in export.FLAG_COLUMNS:
                    value = "yes" if value else "no"
                elif name in export.TEXT_COLUMNS:
                    value = export.neutralize(value)
                cells.append(value)
            writer.writerow(cells)
    return buffer.getvalue().encode()


def exported(app, slug, **filters) -> bytes:
    with app.app_context():
        petition = db.session.scalar(select(Petition).where(Petition.slug == slug))
        return b"".join(export.iter_csv(petition, **filters))


def on_postgresql(app) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


@pytest.mark.parametrize("batch", [1000, 1, 3], ids=["one-chunk", "row-by-row", "three-rows"])
def test_export_is_byte_for_byte_what_the_csv_module_writes(app, petition, monkeypatch, batch):
    monkeypatch.setattr(export, "BATCH", batch)
    ids = add_signatures(app, petition, NASTY)
    assert exported(app, petition.slug) == expected_csv(app, ids)


def test_copy_and_the_csv_module_write_the_same_bytes(app, petition):
    if not on_postgresql(app):
        pytest.skip("COPY is PostgreSQL's")
    add_signatures(app, petition, NASTY)
    with app.app_context():
        stored = db.session.get(Petition, petition.id)
        query = export.export_query(stored)
        written = b"".join(export.written_csv(query))
        copied = b"".join(export.copied_csv(query))
    assert copied.count(b"\r\n") >= len(NASTY)
    assert copied == written


def test_export_filters_are_applied_whatever_writes_the_csv(app, petition):
    ids = add_signatures(
        app,
        petition,
        [
            {"kind": Signature.ORGANIZATION, "country": "AR", "comment": "a, b"},
            {"country": "AR", "status": Signature.PENDING},
            {"country": "AR"},
            {"country": "PE"},
        ],
    )
    second_day, third_day = dt.date(2026, 1, 3), dt.date(2026, 1, 4)
    assert exported(app, petition.slug, country="ar", kind="individual") == expected_csv(app, ids[1:3])
    both = expected_csv(app, [ids[0], ids[2]])
    assert exported(app, petition.slug, status="confirmed", country="AR") == both
    assert exported(app, petition.slug, since=second_day, until=third_day) == expected_csv(app, ids[1:3])


@pytest.mark.parametrize("country", ["x' OR '1'='1", "pe'); DROP TABLE signature; --", "%s", "\\"])
def test_a_filter_value_is_data_not_sql(app, petition, country):
    ids = add_signatures(app, petition, [{}])
    assert exported(app, petition.slug, country=country) == expected_csv(app, [])
    assert exported(app, petition.slug) == expected_csv(app, ids)


def test_an_export_left_early_frees_its_connection(app, petition, monkeypatch):
    monkeypatch.setattr(export, "BATCH", 2)
    add_signatures(app, petition, [{} for _ in range(7)])
    with app.app_context():
        chunks = export.iter_csv(db.session.get(Petition, petition.id))
        first = next(chunks)
        chunks.close()
        db.session.rollback()  # the session gives its own connection back
        assert first.startswith(export.HEADER) and first.count(b"\r\n") == 3
        assert db.engine.pool.checkedout() == 0
        assert db.session.scalar(select(Signature.id).order_by(Signature.id.desc()).limit(1))
    assert exported(app, petition.slug).count(b"\r\n") == 8


def test_the_header_row_is_the_contract_columns(app, petition):
    assert exported(app, petition.slug) == (",".join(export.COLUMNS) + "\r\n").encode()


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([b"1,a\n", b"2,b\n"], b"1,a\r\n2,b\r\n"),
        ([b'1,"a\nb"\n', b"2,c\n"], b'1,"a\nb"\r\n2,c\r\n'),
        ([b'1,"x ""y""\n""z"""\n'], b'1,"x ""y""\n""z"""\r\n'),
        ([b'1,"\r\n",""""\n'], b'1,"\r\n",""""\r\n'),
    ],
)
def test_copy_rows_end_with_crlf_and_keep_line_breaks_inside_cells(rows, expected):
    assert b"".join(export.crlf_row_ends([rows])) == expected


@pytest.mark.parametrize(
    "rows",
    [
        [("1", "plain", "")],
        [("1", "a,b", "")],
        [("1", 'say "hi"', "")],
        [("1", "two\nlines", "x\r")],
        [(1, None, "mixed types")],
        [("",)],
    ],
)
def test_csv_lines_are_what_the_csv_module_writes(rows):
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    assert export.csv_lines(rows) == buffer.getvalue().encode()
