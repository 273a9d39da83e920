"""The site on a phone (360 × 740) in real Chromium: the demands come right after the count and
before the statement, a Sign button stays in reach and leads to the form, the organizers' pages
do not scroll sideways, and their <time> values carry at most milliseconds."""

import re

import pytest
from playwright.sync_api import expect

from petition.extensions import db
from petition.models import AuditEvent

from ..conftest import ORGANIZER_EMAIL, ORGANIZER_PASSWORD
from ..support import store_signature
from .conftest import AXE_SCRIPT, PHONE

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = PHONE["viewport"]["width"], PHONE["viewport"]["height"]
# A valid global date and time string, at most milliseconds (HTML: "a valid time string").
DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,3})?)?Z")


def top(locator) -> float:
    box = locator.bounding_box()
    assert box is not None
    return box["y"]


def in_view(locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT


def log_in(page, live_server, path):
    page.goto(f"{live_server}{path}")
    page.get_by_label("Email address").fill(ORGANIZER_EMAIL)
    page.get_by_label("Password").fill(ORGANIZER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server}{path}")


def test_on_a_phone_the_demands_come_after_the_count_and_before_the_statement(
    live_server, petition, phone_page
):
    phone_page.goto(f"{live_server}/p/{petition.slug}")

    count = phone_page.locator(".petition-header .counts")
    demands = phone_page.get_by_role("region", name="Our demands")
    statement = phone_page.locator(".statement-text")
    expect(demands).to_be_visible()
    assert top(count) < top(demands) < top(statement)
    assert top(demands) < 2 * HEIGHT  # within the first two screens, not after the statement


def test_on_a_phone_the_sign_button_stays_in_reach_and_leads_to_the_form(live_server, petition, phone_page):
    phone_page.goto(f"{live_server}/p/{petition.slug}")
    sign_now = phone_page.get_by_role("link", name="Sign now")

    assert in_view(sign_now)
    # Halfway through the long statement, the button is still on the screen.
    phone_page.get_by_role(
        "heading", name="Illegitimate government and Congress"
    ).scroll_into_view_if_needed()
    assert in_view(sign_now)

    sign_now.click()
    expect(phone_page.get_by_role("heading", name="Sign the petition")).to_be_in_viewport()
    # At the form the button is back in its place above it: it covers none of the form.
    form = phone_page.get_by_role("region", name="Sign the petition")
    box, form_top = sign_now.bounding_box(), top(form)
    assert box["y"] + box["height"] <= form_top


def test_after_signing_on_a_phone_the_page_says_where_the_email_went(
    live_server, bundled_petition, new_context
):
    # bypass_csp: the site's CSP refuses injected scripts, and axe-core is one.
    page = new_context(**PHONE, bypass_csp=True).new_page()
    page.goto(f"{live_server}/p/{bundled_petition.slug}")
    page.get_by_label("Name", exact=True).fill("Ana Quispe")
    page.get_by_label("Email address").fill("ana.quispe@riseup.net")
    page.get_by_label("Country").select_option(label="Peru")
    page.get_by_role("button", name="Sign", exact=True).click()

    page.wait_for_url(re.compile(rf"/p/{bundled_petition.slug}/check-email\?to="))
    assert "quispe" not in page.url
    expect(page.get_by_text("We have sent an email to a…@riseup.net.")).to_be_visible()
    expect(page.locator(".share-links")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    page.add_script_tag(path=AXE_SCRIPT)
    assert page.evaluate("async () => (await axe.run({resultTypes: ['violations']})).violations") == []


def test_the_organizer_dashboard_does_not_scroll_sideways_on_a_phone(
    app, live_server, organizer, petition, phone_page
):
    store_signature(app, petition.slug)
    log_in(phone_page, live_server, "/admin/")
    for path in ("/admin/", f"/admin/p/{petition.slug}", "/admin/audit"):
        phone_page.goto(f"{live_server}{path}")
        width = phone_page.evaluate("document.documentElement.scrollWidth")
        assert width <= WIDTH, f"{path} is {width} px wide"


def test_organizer_times_carry_at_most_milliseconds(app, live_server, organizer, petition, phone_page):
    with app.app_context():
        # A moderation record of now: its time has microseconds, as the database keeps it.
        db.session.add(
            AuditEvent(
                actor=ORGANIZER_EMAIL, action="moderation.hide", petition_id=petition.id, rows=1, detail={}
            )
        )
        db.session.commit()
    log_in(phone_page, live_server, f"/admin/p/{petition.slug}")
    for path in (f"/admin/p/{petition.slug}", "/admin/audit"):
        phone_page.goto(f"{live_server}{path}")
        values = phone_page.locator("time[datetime]").evaluate_all("times => times.map(t => t.dateTime)")
        assert values, path
        assert [value for value in values if not DATETIME.fullmatch(value)] == [], path
