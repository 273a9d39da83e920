"""The language chooser in real Chromium: choosing Español turns the site Spanish and keeps it
Spanish on the next page; the Spanish page passes axe-core."""

import json

import pytest
from playwright.sync_api import expect

from .conftest import AXE_SCRIPT, DESKTOP, PHONE

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_choosing_spanish_turns_the_site_spanish_and_it_stays_so(live_server, petition, new_context, size):
    page = new_context(**size).new_page()
    page.goto(f"{live_server}/p/{petition.slug}")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_role("navigation", name="Language").get_by_role("link", name="Español").click()

    page.wait_for_url(f"{live_server}/p/{petition.slug}?lang=es")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=2, name="Firma la petición")).to_be_visible()
    expect(page.get_by_label("Correo electrónico")).to_be_visible()
    current = page.get_by_role("navigation", name="Idioma").get_by_role("link", name="Español")
    expect(current).to_have_attribute("aria-current", "true")
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") == 0

    page.get_by_role("link", name="Ver todas las firmas").click()

    page.wait_for_url(f"{live_server}/p/{petition.slug}/signatories")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1, name="Firmantes")).to_be_visible()


def test_the_spanish_petition_page_has_no_accessibility_violations(live_server, petition, new_context):
    # bypass_csp: the site's CSP refuses injected scripts, and axe-core is one.
    page = new_context(**PHONE, bypass_csp=True, locale="es-PE").new_page()
    page.goto(f"{live_server}/p/{petition.slug}")
    expect(page.locator("html")).to_have_attribute("lang", "es")

    page.add_script_tag(path=AXE_SCRIPT)
    results = page.evaluate("async () => await axe.run({resultTypes: ['violations']})")

    summary = [{"id": v["id"], "targets": [n["target"] for n in v["nodes"]]} for v in results["violations"]]
    assert results["violations"] == [], json.dumps(summary, indent=2, ensure_ascii=False)
