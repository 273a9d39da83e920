"""Organizer insight and filtered downloads: signatures per day, by country and by source on the
dashboard; the filters of export.csv, export.xlsx and `flask signatures export`."""

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from petition.extensions import db
from petition.models import Petition, Signature, utcnow
from petition.organizers import insight
from petition.organizers.export import COLUMNS
from petition.organizers.xlsx import spreadsheet_cell

from .conftest import login
from .support import parse_html, store_signature, table_rows

TODAY = utcnow().date()


def days_ago(days: int, hour: int = 12, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime.combine(TODAY - dt.timedelta(days=days), dt.time(hour, minute, second))


def iso_day(days_back: int) -> str:
    """The UTC day ``days_back`` days before today, as the filters write it."""
    return (TODAY - dt.timedelta(days=days_back)).isoformat()


def signed_at(app, slug, when: dt.datetime, status=Signature.CONFIRMED, **fields) -> int:
    """Store a signature, then move its creation to ``when``."""
    signature_id = store_signature(app, slug, status=status, **fields)
    with app.app_context():
        db.session.execute(update(Signature).where(Signature.id == signature_id).values(created_at=when))
        db.session.commit()
    return signature_id


def with_petition(app, petition, compute):
    with app.app_context():
        return compute(db.session.get(Petition, petition.id))


def table(html: str, css_class: str) -> list[list[str]]:
    """The rows of the table carrying ``css_class``."""
    start = html.index(f'<table class="table {css_class}">')
    return table_rows(html[start : html.index("</table>", start)])


def csv_rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def download_ids(client, slug, query: str) -> list[int]:
    response = client.get(f"/admin/p/{slug}/export.csv{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return [int(row["id"]) for row in csv_rows(response.data)]


@pytest.fixture
def spread(app, petition):
    """Signatures over four days, in every state, from several countries and sources."""
    slug = petition.slug
    ids = {
        "pe_old": signed_at(app, slug, days_ago(3, 23, 59, 59), country="PE", source="whatsapp"),
        "ar_hidden": signed_at(app, slug, days_ago(2, 0, 0, 0), Signature.HIDDEN, country="AR", source="x"),
        "pe_org": signed_at(
            app, slug, days_ago(2, 8), kind=Signature.ORGANIZATION, contact_name="Rosa", country="PE"
        ),
        "pending": signed_at(app, slug, days_ago(2, 9), Signature.PENDING, country="CL", source="whatsapp"),
        "unapproved": signed_at(
            app,
            slug,
            days_ago(0, 1),
            Signature.AWAITING_APPROVAL,
            kind=Signature.ORGANIZATION,
            contact_name="Ana",
            country="BO",
        ),
        "rejected": signed_at(app, slug, days_ago(0, 2), Signature.REJECTED, country="BO", source="qr"),
        "pe_today": signed_at(app, slug, days_ago(0, 3), country="PE", source="whatsapp"),
    }
    return ids


# The numbers


def test_signatures_per_day_counts_counted_and_waiting_ones_per_utc_day(app, petition, spread):
    days = with_petition(app, petition, insight.signatures_per_day)

    assert [(day.day, day.counted, day.waiting) for day in days] == [
        (TODAY - dt.timedelta(days=3), 1, 0),  # 23:59:59 stays on its own day
        (TODAY - dt.timedelta(days=2), 2, 1),  # counted: confirmed and hidden; waiting: pending
        (TODAY - dt.timedelta(days=1), 0, 0),  # a quiet day is there, as zero
        (TODAY, 1, 1),  # the rejected signature counts nowhere
    ]


def test_signatures_per_day_of_a_closed_petition_end_at_its_last_signature(app, petition):
    signed_at(app, petition.slug, days_ago(40))
    signed_at(app, petition.slug, days_ago(38))
    with app.app_context():
        db.session.execute(update(Petition).values(closes_at=utcnow() - dt.timedelta(days=30)))
        db.session.commit()

    days = with_petition(app, petition, insight.signatures_per_day)

    assert [day.day for day in days] == [TODAY - dt.timedelta(days=n) for n in (40, 39, 38)]


def test_signatures_per_day_shows_at_most_the_last_ninety_days(app, petition):
    signed_at(app, petition.slug, days_ago(200))
    signed_at(app, petition.slug, days_ago(89))

    days = with_petition(app, petition, insight.signatures_per_day)

    assert days[0].day == TODAY - dt.timedelta(days=89)
    assert days[-1].day == TODAY
    assert len(days) == insight.DAYS_SHOWN
    assert sum(day.counted for day in days) == 1


def test_signatures_per_day_is_empty_without_signatures(app, petition):
    signed_at(app, petition.slug, days_ago(1), Signature.REJECTED)
    assert with_petition(app, petition, insight.signatures_per_day) == []


def test_signatures_by_country_counts_only_counted_ones(app, petition, spread):
    assert with_petition(app, petition, insight.signatures_by_country) == [
        ("PE", "Peru", 3),
        ("AR", "Argentina", 1),
    ]


def test_signatures_by_source_counts_only_counted_ones_and_lists_every_known_source(app, petition, spread):
    sources = with_petition(app, petition, insight.signatures_by_source)

    by_source = {source: n for source, _label, n in sources}
    assert by_source["whatsapp"] == 2
    assert by_source["x"] == 1
    assert by_source[""] == 1
    assert by_source["qr"] == 0  # the only QR signature was rejected
    assert set(by_source) == set(insight.KNOWN_SOURCES)
    assert sources[0] == ("whatsapp", "WhatsApp", 2)
    assert ("", "(none)", 1) in sources


def test_signatures_by_source_keeps_a_source_the_site_does_not_know(app, petition):
    store_signature(app, petition.slug, source="newsletter")
    sources = with_petition(app, petition, insight.signatures_by_source)
    assert sources[0] == ("newsletter", "newsletter", 1)


# The dashboard


def test_dashboard_shows_the_numbers_per_day_country_and_source(app, client, organizer, petition, spread):
    login(client)
    html = client.get(f"/admin/p/{petition.slug}").get_data(as_text=True)

    assert table(html, "per-day-table")[1:] == [
        [iso_day(3), "1", "0"],
        [iso_day(2), "2", "1"],
        [TODAY.isoformat(), "1", "1"],
    ]
    assert table(html, "by-country-table")[1:] == [["Peru PE", "3"], ["Argentina AR", "1"]]
    sources = table(html, "by-source-table")[1:]
    assert sources[0] == ["WhatsApp", "2"]
    assert ["(none)", "1"] in sources
    assert ["QR code", "0"] in sources


def test_dashboard_chart_is_an_svg_with_a_title_and_a_bar_per_day_with_signatures(
    app, client, organizer, petition, spread
):
    login(client)
    elements = parse_html(client.get(f"/admin/p/{petition.slug}").get_data(as_text=True)).elements

    [chart] = [e for e in elements if e["tag"] == "svg" and "day-chart" in e["attrs"].get("class", "")]
    assert chart["attrs"]["role"] == "img"
    title_id = chart["attrs"]["aria-labelledby"].split()[0]
    [title] = [e for e in elements if e["tag"] == "title" and e["attrs"].get("id") == title_id]
    assert "Counted signatures per day" in "".join(title["text"])
    bars = [e["attrs"]["data-day"] for e in elements if e["tag"] == "rect" and "data-day" in e["attrs"]]
    assert bars == [(TODAY - dt.timedelta(days=n)).isoformat() for n in (3, 2, 0)]
    assert "style" not in " ".join(" ".join(e["attrs"]) for e in elements if e["tag"] in ("svg", "rect"))


def test_dashboard_chart_on_the_first_day_has_one_narrow_bar_and_one_date(app, client, organizer, petition):
    signed_at(app, petition.slug, days_ago(0, hour=0))
    login(client)
    html = client.get(f"/admin/p/{petition.slug}").get_data(as_text=True)
    elements = parse_html(html).elements

    [bar] = [e["attrs"] for e in elements if e["tag"] == "rect" and "data-day" in e["attrs"]]
    assert float(bar["width"].rstrip("%")) <= 10
    assert float(bar["x"].rstrip("%")) + float(bar["width"].rstrip("%")) / 2 == pytest.approx(50)  # centred
    [title] = [e for e in elements if e["tag"] == "title" and e["attrs"].get("id") == "per-day-title"]
    assert "".join(title["text"]) == f"Counted signatures on {TODAY.isoformat()}, the first day (UTC)"
    assert "busiest" not in html
    [dates] = [e for e in elements if e["tag"] == "p" and "chart-dates" in e["attrs"].get("class", "")]
    assert "".join(dates["text"]).strip() == TODAY.isoformat()


def test_dashboard_country_chart_has_a_bar_per_country(app, client, organizer, petition, spread):
    login(client)
    elements = parse_html(client.get(f"/admin/p/{petition.slug}").get_data(as_text=True)).elements

    [chart] = [e for e in elements if e["tag"] == "svg" and "country-chart" in e["attrs"].get("class", "")]
    assert chart["attrs"]["role"] == "img"
    labels = [" ".join(e["text"]) for e in elements if e["tag"] == "text"]
    assert labels == ["Peru", "3", "Argentina", "1"]


def test_dashboard_without_signatures_says_so_instead_of_a_chart(client, organizer, petition):
    login(client)
    html = client.get(f"/admin/p/{petition.slug}").get_data(as_text=True)
    assert "<svg" not in html
    assert "No signatures yet." in html


def test_dashboard_offers_the_download_filters(client, organizer, petition):
    login(client)
    elements = parse_html(client.get(f"/admin/p/{petition.slug}").get_data(as_text=True)).elements

    [form] = [
        e for e in elements if e["tag"] == "form" and e["attrs"].get("action", "").endswith("/export.csv")
    ]
    assert form["attrs"]["method"] == "get"
    names = {e["attrs"].get("name") for e in elements if e["tag"] in ("select", "input")}
    assert {"kind", "status", "country", "since", "until"} <= names
    formactions = [e["attrs"].get("formaction") for e in elements if e["tag"] == "button"]
    assert f"/admin/p/{petition.slug}/export.xlsx" in formactions


# CSV filters


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?kind=organization", ["pe_org", "unapproved"]),
        ("?status=hidden", ["ar_hidden"]),
        ("?status=pending", ["pending"]),
        ("?country=PE", ["pe_old", "pe_org", "pe_today"]),
        ("?country=bo", ["unapproved", "rejected"]),
        (
            f"?since={iso_day(2)}",
            ["ar_hidden", "pe_org", "pending", "unapproved", "rejected", "pe_today"],
        ),
        (f"?until={iso_day(3)}", ["pe_old"]),
        (
            f"?since={iso_day(3)}&until={iso_day(2)}&country=PE&kind=individual&status=confirmed",
            ["pe_old"],
        ),
    ],
)
def test_export_filters_narrow_the_rows(client, organizer, petition, spread, query, expected):
    login(client)
    assert download_ids(client, petition.slug, query) == [spread[name] for name in expected]


def test_export_with_empty_filters_is_the_unfiltered_export(client, organizer, petition, spread):
    login(client)
    everything = client.get(f"/admin/p/{petition.slug}/export.csv").data
    from_the_form = client.get(
        f"/admin/p/{petition.slug}/export.csv?kind=&status=&country=&since=&until="
    ).data
    assert from_the_form == everything
    assert [int(row["id"]) for row in csv_rows(everything)] == sorted(spread.values())


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?kind=robot", "kind=robot: Not a valid choice. Use one of: individual, organization."),
        ("?status=deleted", "status=deleted: Not a valid choice. Use one of: pending, unapproved,"),
        ("?country=XX", "country=XX: Choose a country from the list"),
        ("?country=Peru", "country=Peru: Choose a country from the list"),
        ("?since=2024-02-30", "since=2024-02-30: Not a valid date value."),
        ("?until=yesterday", "until=yesterday: Not a valid date value."),
        ("?since=2024-05-02&until=2024-05-01", "until=2024-05-01: The last day comes before the first day."),
    ],
)
@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_invalid_export_filter_is_a_400_that_says_what_is_wrong(
    client, organizer, petition, extension, query, message
):
    login(client)
    response = client.get(f"/admin/p/{petition.slug}/export.{extension}{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    body = response.get_data(as_text=True)
    assert body.startswith("These download filters are not valid:")
    assert message in body


# XLSX


def xlsx_rows(data: bytes) -> list[list]:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    try:
        return [list(row) for row in workbook.active.iter_rows(values_only=True)]
    finally:
        workbook.close()


def test_xlsx_export_has_the_csv_columns_and_rows(app, client, organizer, petition, spread):
    store_signature(app, petition.slug, name="José Núñez", comment="¡Sí!", city="Cusco")
    login(client)
    csv_data = client.get(f"/admin/p/{petition.slug}/export.csv").get_data(as_text=True)

    response = client.get(f"/admin/p/{petition.slug}/export.xlsx")

    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{petition.slug}-signatures.xlsx"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    rows = xlsx_rows(response.data)
    assert tuple(rows[0]) == COLUMNS
    expected = list(csv.reader(io.StringIO(csv_data, newline="")))
    assert [[cell or "" for cell in row] for row in rows] == expected


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t"])
def test_xlsx_export_neutralizes_formulas(app, client, organizer, petition, start):
    store_signature(
        app, petition.slug, name=f'{start}HYPERLINK("http://evil.example")', comment=f"{start}1+1"
    )
    login(client)
    data = client.get(f"/admin/p/{petition.slug}/export.xlsx").data

    workbook = load_workbook(io.BytesIO(data))
    try:
        sheet = workbook.active
        assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
        header = [cell.value for cell in sheet[1]]
        row = [cell.value for cell in sheet[2]]
    finally:
        workbook.close()
    assert row[header.index("comment")] == f"'{start}1+1"
    assert row[header.index("name")].startswith(f"'{start}HYPERLINK")


def test_xlsx_cell_drops_control_characters_and_stays_neutralized():
    assert spreadsheet_cell("a\x00b\x1fc") == "abc"
    assert spreadsheet_cell("\x01=1+1") == "'=1+1"
    assert spreadsheet_cell("'=1+1") == "'=1+1"


def test_xlsx_export_takes_the_filters(client, organizer, petition, spread):
    login(client)
    rows = xlsx_rows(client.get(f"/admin/p/{petition.slug}/export.xlsx?country=PE&kind=individual").data)
    assert [int(row[0]) for row in rows[1:]] == [spread["pe_old"], spread["pe_today"]]


def test_anonymous_xlsx_export_is_401_without_data(client, petition, spread):
    response = client.get(f"/admin/p/{petition.slug}/export.xlsx")
    assert response.status_code == 401
    assert b"PK" not in response.data[:2]


def test_xlsx_export_of_an_unknown_petition_is_404(client, organizer):
    login(client)
    assert client.get("/admin/p/no-such-petition/export.xlsx").status_code == 404


# `flask signatures export` options


def test_export_command_takes_the_same_filters_as_the_download(
    app, client, runner, organizer, petition, spread
):
    since = iso_day(2)
    login(client)
    downloaded = client.get(f"/admin/p/{petition.slug}/export.csv?country=pe&since={since}&kind=organization")

    result = runner.invoke(
        args=[
            "signatures",
            "export",
            petition.slug,
            "--country",
            "pe",
            "--since",
            since,
            "--kind",
            "organization",
        ]
    )

    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == downloaded.data
    assert [int(row["id"]) for row in csv_rows(result.stdout_bytes)] == [spread["pe_org"]]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--status", "hidden"], ["ar_hidden"]),
        (["--until", iso_day(3)], ["pe_old"]),
        (["--kind", "organization", "--status", "unapproved"], ["unapproved"]),
    ],
)
def test_export_command_options_narrow_the_rows(runner, petition, spread, options, expected):
    result = runner.invoke(args=["signatures", "export", petition.slug, *options])
    assert result.exit_code == 0, result.output
    assert [int(row["id"]) for row in csv_rows(result.stdout_bytes)] == [spread[name] for name in expected]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--kind", "robot"], "Invalid value for '--kind'"),
        (["--status", "deleted"], "Invalid value for '--status'"),
        (["--country", "XX"], "'XX' is not an ISO 3166-1 alpha-2 country code"),
        (["--since", "2024-02-30"], "Invalid value for '--since'"),
        (["--since", "2024-05-02", "--until", "2024-05-01"], "the last day comes before --since"),
    ],
)
def test_export_command_refuses_invalid_options_cleanly(runner, petition, tmp_path, options, message):
    target = tmp_path / "signatures.csv"
    result = runner.invoke(args=["signatures", "export", petition.slug, "-o", str(target), *options])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not target.exists()
