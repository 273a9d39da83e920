"""The public pages in real Chromium: signing on a phone, as an organization, with errors and
without JavaScript; copying the share link; no third-party requests; no axe-core violations."""

import json
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from ..conftest import organization_fields, sign, signatures, valid_fields
from .conftest import AXE_SCRIPT, DESKTOP, PHONE

pytestmark = pytest.mark.browser

SIZES = {"phone": PHONE, "desktop": DESKTOP}


def submit_sign_form(page):
    """Press the form's Sign button and return the response to the POST."""
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.get_by_role("button", name="Sign", exact=True).click()
    page.wait_for_load_state()
    return posted.value


def fill_individual(page, name="Ana Quispe", email="ana@example.org", country="Peru"):
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Country").select_option(label=country)


def sign_in_browser(page, base, slug, **person):
    """Sign as an individual through the form; the page ends on the thank-you page."""
    page.goto(f"{base}/p/{slug}")
    fill_individual(page, **person)
    response = submit_sign_form(page)
    assert response.status == 303, f"the sign form answered {response.status}"
    page.wait_for_url(f"{base}/p/{slug}/thanks?result=signed")


def served_here(url: str) -> bool:
    """Whether the browser fetched ``url`` from the site itself (data: URLs fetch nothing)."""
    return url.startswith("data:") or urlsplit(url).hostname == "127.0.0.1"


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than the viewport (0 when nothing scrolls sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_phone_visitor_signs_and_then_appears_among_the_signatories(live_server, petition, phone_page):
    page = phone_page
    page.goto(f"{live_server}/p/{petition.slug}")
    expect(page.get_by_role("heading", level=1, name=petition.title)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    fill_individual(page, name="Ana Quispe", email="ana@example.org", country="Peru")
    # Listed only on an active yes; the box says what the list will show.
    public = page.get_by_label("Show my name on the public list of signatories")
    expect(public).not_to_be_checked()
    expect(public).to_have_accessible_description(
        re.compile("as an individual, the public list shows your name and country")
    )
    expect(page.locator("#public-hint .org-only")).to_be_hidden()
    public.check()
    response = submit_sign_form(page)

    assert response.status == 303
    page.wait_for_url(f"{live_server}/p/{petition.slug}/thanks?result=signed")
    expect(page.get_by_role("heading", level=1, name="Thank you for signing")).to_be_visible()
    assert horizontal_overflow(page) == 0

    page.goto(f"{live_server}/p/{petition.slug}/signatories")
    signatory = page.locator(".signatory", has_text="Ana Quispe")
    expect(signatory).to_have_count(1)
    expect(signatory.locator(".signatory-place")).to_have_text("Peru")
    assert horizontal_overflow(page) == 0


def test_organization_fields_appear_only_for_an_organization(app, live_server, petition, desktop_page):
    page = desktop_page
    page.goto(f"{live_server}/p/{petition.slug}")
    contact = page.get_by_label("Contact person")
    website = page.get_by_label("Website (optional)")
    affiliation = page.get_by_label("Title or organization (optional)")
    expect(contact).to_be_hidden()
    expect(website).to_be_hidden()
    expect(affiliation).to_be_visible()

    page.get_by_label("for an organization").check()

    expect(contact).to_be_visible()
    expect(website).to_be_visible()
    expect(affiliation).to_be_hidden()
    expect(page.locator("#public-hint .org-only")).to_be_visible()
    expect(page.locator("#public-hint .individual-only")).to_be_hidden()
    fill_individual(page, name="Sindicato Unitario", email="contact@sutep.example.org")
    contact.fill("Rosa Mamani")
    website.fill("https://sutep.example.org")
    assert submit_sign_form(page).status == 303
    page.wait_for_url(f"{live_server}/p/{petition.slug}/thanks?result=signed")
    expect(page.get_by_role("heading", level=1, name="Thank you for signing")).to_be_visible()
    stored = [(row.kind, row.name, row.contact_name, row.website) for row in signatures(app)]
    assert stored == [("organization", "Sindicato Unitario", "Rosa Mamani", "https://sutep.example.org")]


def test_empty_form_shows_each_error_beside_its_field_and_stores_nothing(
    app, live_server, petition, desktop_page
):
    page = desktop_page
    page.goto(f"{live_server}/p/{petition.slug}")

    response = submit_sign_form(page)

    assert response.status == 422
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()  # site.js moves focus there, so screen readers announce it
    links = summary.get_by_role("link")
    assert sorted(links.evaluate_all("links => links.map(a => a.getAttribute('href'))")) == [
        "#country",
        "#email",
        "#name",
    ]
    for field_id in ("name", "email", "country"):
        field = page.locator(f".field:has(> #{field_id})")
        expect(field).to_have_class(re.compile(r"\bfield-error\b"))
        expect(field.locator(".error-message")).to_be_visible()
        expect(page.locator(f"#{field_id}")).to_have_attribute("aria-invalid", "true")
    assert signatures(app) == []


def test_copy_link_button_copies_the_share_url(live_server, petition, new_context):
    context = new_context(**DESKTOP, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    sign_in_browser(page, live_server, petition.slug)
    button = page.get_by_role("button", name="Copy link")
    expect(button).to_be_visible()

    button.click()

    expect(page.locator(".copy-status")).to_have_text("Link copied")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == page.locator("#share-url").input_value()
    assert urlsplit(copied).path == f"/p/{petition.slug}"
    assert "source=link" in copied


def test_signing_works_without_javascript(app, live_server, petition, new_context):
    page = new_context(**PHONE, java_script_enabled=False).new_page()

    sign_in_browser(page, live_server, petition.slug, name="Luis Huamán", email="luis@example.org")

    expect(page.get_by_role("heading", level=1, name="Thank you for signing")).to_be_visible()
    expect(page.locator("button[data-copy]")).to_be_hidden()  # it only works with JavaScript
    assert [row.name for row in signatures(app)] == ["Luis Huamán"]


def test_public_pages_request_nothing_from_another_host(live_server, petition, desktop_page):
    page = desktop_page
    requested = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{live_server}/p/{petition.slug}")
    assert submit_sign_form(page).status == 422
    fill_individual(page)
    assert submit_sign_form(page).status == 303
    page.wait_for_url(f"{live_server}/p/{petition.slug}/thanks?result=signed")
    page.goto(f"{live_server}/p/{petition.slug}/signatories")
    page.goto(f"{live_server}/admin/login")
    page.goto(f"{live_server}/p/{petition.slug}/embed")
    page.wait_for_load_state("networkidle")

    paths = {urlsplit(url).path for url in requested}
    assert {"/static/css/site.css", "/static/js/site.js", f"/p/{petition.slug}/embed"} <= paths
    assert [url for url in requested if not served_here(url)] == []


def open_petition(page, base, slug):
    page.goto(f"{base}/p/{slug}")


def open_form_errors(page, base, slug):
    page.goto(f"{base}/p/{slug}")
    assert submit_sign_form(page).status == 422


def open_thanks(page, base, slug):
    sign_in_browser(page, base, slug, name="Carmen Flores", email="carmen@example.org")


def open_check_email(page, base, slug):
    page.goto(f"{base}/p/{slug}/check-email")


def open_privacy(page, base, slug):
    page.goto(f"{base}/privacy")


def open_signatories(page, base, slug):
    page.goto(f"{base}/p/{slug}/signatories")


def open_print(page, base, slug):
    page.goto(f"{base}/p/{slug}/print")


def open_login(page, base, slug):
    page.goto(f"{base}/admin/login")


def open_login_errors(page, base, slug):
    page.goto(f"{base}/admin/login")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".error-summary")).to_be_visible()


def open_embed(page, base, slug):
    page.goto(f"{base}/p/{slug}/embed")


def open_embed_errors(page, base, slug):
    page.goto(f"{base}/p/{slug}/embed")
    assert submit_sign_form(page).status == 422


def open_embed_thanks(page, base, slug):
    page.goto(f"{base}/p/{slug}/embed")
    fill_individual(page, name="Rosa Huamán", email="rosa@example.org")
    assert submit_sign_form(page).status == 303
    page.wait_for_url(f"{base}/p/{slug}/embed/thanks?result=signed")


PAGES = {
    "petition": open_petition,
    "form-errors": open_form_errors,
    "thanks": open_thanks,
    "check-email": open_check_email,
    "privacy": open_privacy,
    "signatories": open_signatories,
    "print": open_print,
    "login": open_login,
    "login-errors": open_login_errors,
    "embed": open_embed,
    "embed-errors": open_embed_errors,
    "embed-thanks": open_embed_thanks,
}


def describe(violations) -> str:
    return json.dumps(
        [
            {
                "id": violation["id"],
                "impact": violation["impact"],
                "help": violation["help"],
                "targets": [node["target"] for node in violation["nodes"]],
            }
            for violation in violations
        ],
        indent=2,
        ensure_ascii=False,
    )


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("page_name", PAGES)
def test_public_page_has_no_accessibility_violations(
    live_server, petition, client, new_context, page_name, size
):
    for fields in (valid_fields(), organization_fields()):
        assert sign(client, petition.slug, **fields).status_code == 303
    # bypass_csp: the site's CSP refuses injected scripts, and axe-core is one.
    page = new_context(**SIZES[size], bypass_csp=True).new_page()
    PAGES[page_name](page, live_server, petition.slug)

    page.add_script_tag(path=AXE_SCRIPT)
    results = page.evaluate("async () => await axe.run({resultTypes: ['violations']})")

    assert results["violations"] == [], describe(results["violations"])
