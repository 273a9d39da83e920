"""The check-your-email page after signing names the address the email went to, in part (the
first character and the whole domain), carried signed and short-lived in the page's address,
never the address itself, and kept by no cache."""

import time

import pytest

from .conftest import sign, valid_fields
from .support import token_from

ADDRESS = "ana.quispe@riseup.net"
HINT = "a…@riseup.net"


def signed_and_followed(client, slug, **fields):
    answer = sign(client, slug, **valid_fields(email=ADDRESS, **fields))
    assert answer.status_code == 303
    return answer.headers["Location"], client.get(answer.headers["Location"])


def test_the_page_after_signing_says_where_the_email_went(client, bundled_petition):
    location, page = signed_and_followed(client, bundled_petition.slug)

    html = page.get_data(as_text=True)
    assert location.startswith(f"/p/{bundled_petition.slug}/check-email?to=")
    assert HINT in html
    assert ADDRESS not in html
    assert "quispe" not in location and "riseup" not in location.lower()
    assert {"no-store", "private"} <= set(page.headers["Cache-Control"].replace(" ", "").split(","))
    assert "Set-Cookie" not in page.headers
    assert 'class="share-links"' in html


def test_a_bot_in_the_honeypot_reads_the_same_page(app, client, bundled_petition):
    _location, page = signed_and_followed(client, bundled_petition.slug, homepage="http://spam.example")
    assert HINT in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="none"),
        pytest.param("not-a-token", id="garbage"),
        pytest.param("forged", id="another-key"),
    ],
)
def test_without_a_genuine_hint_the_page_names_no_address(app, client, bundled_petition, token):
    if token == "forged":
        token = token_from(app, "x…@attacker.example", secret="another-secret-key-that-is-long-enough")
    page = client.get(f"/p/{bundled_petition.slug}/check-email?to={token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "We have sent you an email." in html
    assert "@" not in html.split("<main", 1)[-1].split("</main>", 1)[0]


def test_the_hint_expires_after_a_quarter_of_an_hour(client, bundled_petition, monkeypatch):
    location, _page = signed_and_followed(client, bundled_petition.slug)
    later = time.time() + 16 * 60
    monkeypatch.setattr(time, "time", lambda: later)
    page = client.get(location)
    assert HINT not in page.get_data(as_text=True)
    assert "We have sent you an email." in page.get_data(as_text=True)
