"""The proof of work in real Chromium: the widget, served from the site under its CSP, solves
the site's challenge, and the signature it carries is counted at once."""

import pytest
from sqlalchemy import update

from petition.extensions import db as _db
from petition.models import Petition, Signature

from ..conftest import signatures
from .test_petition_browser import fill_individual, served_here, submit_sign_form

pytestmark = pytest.mark.browser


def test_a_solved_proof_of_work_signs_and_is_counted(app, live_server, petition, desktop_page):
    with app.app_context():
        _db.session.execute(
            update(Petition)
            .where(Petition.slug == petition.slug)
            .values(proof_of_work=True, min_form_seconds=0)
        )
        _db.session.commit()
    page = desktop_page
    problems, fetched = [], []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda request: fetched.append(request.url))

    page.goto(f"{live_server}/p/{petition.slug}")
    fill_individual(page, email="proof@example.org")
    page.locator("altcha-widget label").first.click()
    page.wait_for_function("() => document.querySelector('input[name=altcha]')?.value", timeout=30_000)
    response = submit_sign_form(page)

    assert response.status == 303
    assert [(s.email, s.status, s.signals) for s in signatures(app)] == [
        ("proof@example.org", Signature.CONFIRMED, "")
    ]
    assert problems == []
    assert all(served_here(url) for url in fetched), [url for url in fetched if not served_here(url)]
