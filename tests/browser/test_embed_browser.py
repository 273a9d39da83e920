"""The embed widget inside an <iframe> of a page on another origin, in real Chromium: it loads,
signs without any cookie of this site, and ends on the thank-you inside the frame."""

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from ..conftest import signatures
from .test_petition_browser import fill_individual

pytestmark = pytest.mark.browser


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def other_site(tmp_path):
    """Another site: a static folder served by http.server on 127.0.0.1 and a port of its own.
    Yields the folder and the site's origin."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, name="other-site", daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def campaign_page(widget_url: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Our campaign</title></head>
<body>
  <h1>Our campaign</h1>
  <iframe src="{widget_url}" title="Sign the petition" width="480" height="760"></iframe>
</body>
</html>
"""


def test_visitor_signs_through_the_widget_framed_by_another_site(
    app, live_server, petition, other_site, desktop_page
):
    folder, origin = other_site
    (folder / "campaign.html").write_text(campaign_page(f"{live_server}/p/{petition.slug}/embed"))
    page = desktop_page
    page.goto(f"{origin}/campaign.html")
    frame = page.frame_locator("iframe")
    expect(frame.get_by_role("heading", level=1, name=petition.title)).to_be_visible()

    privacy = frame.get_by_role("link", name="How we handle your data")
    expect(privacy).to_have_attribute("target", "_blank")
    expect(privacy).to_have_attribute("href", "/privacy")
    expect(frame.get_by_label("Show my name on the public list of signatories")).not_to_be_checked()
    fill_individual(frame, name="Ana Quispe", email="ana@example.org", country="Peru")
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        frame.get_by_role("button", name="Sign", exact=True).click()

    assert posted.value.status == 303
    assert posted.value.request.header_value("origin") == live_server, "the form posts from its own origin"
    expect(frame.get_by_role("heading", level=1, name="Thank you for signing")).to_be_visible()
    assert page.url == f"{origin}/campaign.html", "the visitor stays on the other site"
    assert page.frames[1].url == f"{live_server}/p/{petition.slug}/embed/thanks?result=signed"
    petition_link = frame.get_by_role("link", name="Open the petition in a new tab")
    expect(petition_link).to_have_attribute("target", "_blank")
    assert page.context.cookies(live_server) == [], "signing needed no cookie of this site"
    assert [(row.name, row.source, row.public) for row in signatures(app)] == [("Ana Quispe", "embed", False)]
