"""The organizer's dashboard in real Chromium: logged in through the form, the chart of
signatures per day shows a bar for each day with signatures, and axe-core finds nothing."""

import datetime as dt
import json

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from petition.extensions import db
from petition.models import Signature, utcnow

from ..conftest import ORGANIZER_EMAIL, ORGANIZER_PASSWORD
from ..support import store_signature
from .conftest import AXE_SCRIPT, DESKTOP

pytestmark = pytest.mark.browser

DAYS_BACK = (0, 2, 5)


def sign_days_ago(app, slug, days: int, **fields) -> None:
    signature_id = store_signature(app, slug, **fields)
    with app.app_context():
        when = utcnow() - dt.timedelta(days=days)
        db.session.execute(update(Signature).where(Signature.id == signature_id).values(created_at=when))
        db.session.commit()


def test_dashboard_chart_shows_each_day_with_signatures_and_passes_axe(
    app, live_server, organizer, petition, new_context
):
    for days in DAYS_BACK:
        sign_days_ago(app, petition.slug, days, country="PE", source="whatsapp")
    sign_days_ago(app, petition.slug, 1, status=Signature.PENDING, country="AR")
    # bypass_csp: the site's CSP refuses injected scripts, and axe-core is one.
    page = new_context(**DESKTOP, bypass_csp=True).new_page()

    page.goto(f"{live_server}/admin/p/{petition.slug}")
    page.get_by_label("Email address").fill(ORGANIZER_EMAIL)
    page.get_by_label("Password").fill(ORGANIZER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server}/admin/p/{petition.slug}")

    chart = page.get_by_role("img", name="Counted signatures per day")
    expect(chart).to_be_visible()
    bars = chart.locator("rect.chart-bar")
    expect(bars).to_have_count(len(DAYS_BACK))
    today = utcnow().date()
    expected_days = sorted((today - dt.timedelta(days=n)).isoformat() for n in DAYS_BACK)
    assert [bars.nth(i).get_attribute("data-day") for i in range(len(DAYS_BACK))] == expected_days
    for i in range(len(DAYS_BACK)):
        box = bars.nth(i).bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0
    expect(page.get_by_role("img", name="Counted signatures in the leading country")).to_be_visible()

    page.add_script_tag(path=AXE_SCRIPT)
    results = page.evaluate("async () => await axe.run({resultTypes: ['violations']})")
    violations = [
        {"id": v["id"], "help": v["help"], "targets": [node["target"] for node in v["nodes"]]}
        for v in results["violations"]
    ]
    assert violations == [], json.dumps(violations, indent=2)
