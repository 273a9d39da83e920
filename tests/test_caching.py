"""The page and count caches: one render shared by visitors, each with a CSRF token of its own,
and counts that catch up within the cache's lifetime."""

import time

import pytest

from petition.models import _counts_cache
from petition.petitions.routes import _page_cache

from .conftest import csrf_token, sign, signatures, valid_fields
from .support import store_signature


@pytest.fixture
def cached_app(make_app):
    _page_cache.clear()
    _counts_cache.clear()
    yield make_app(PAGE_CACHE_SECONDS=0.5, COUNTS_CACHE_SECONDS=0.5)
    _page_cache.clear()
    _counts_cache.clear()


def total_on_page(client, slug):
    html = client.get(f"/p/{slug}").get_data(as_text=True)
    return html.split('<p class="count-total"><strong>')[1].split("<")[0]


def test_every_visitor_gets_the_same_page_and_its_token_works_for_each(cached_app, petition):
    first, second = cached_app.test_client(), cached_app.test_client()
    page_one = first.get(f"/p/{petition.slug}")
    page_two = second.get(f"/p/{petition.slug}")

    assert page_one.get_data() == page_two.get_data()
    assert csrf_token(page_one.get_data(as_text=True))
    assert "Set-Cookie" not in page_one.headers, "a page view starts no session"
    sign(first, petition.slug, **valid_fields(email="one@example.org"))
    sign(second, petition.slug, **valid_fields(email="two@example.org"))
    assert len(signatures(cached_app)) == 2


def test_counts_catch_up_within_the_cache_lifetime(cached_app, petition):
    client = cached_app.test_client()
    assert total_on_page(client, petition.slug) == "0"
    store_signature(cached_app, petition.slug)
    assert total_on_page(client, petition.slug) == "0", "served from the cache"

    time.sleep(0.6)
    assert total_on_page(client, petition.slug) == "1", "the first view after expiry counts afresh"


def test_api_counts_catch_up_within_the_cache_lifetime(cached_app, petition):
    client = cached_app.test_client()
    url = f"/api/v1/petitions/{petition.slug}"
    first = client.get(url).get_json()
    assert (first["counts"]["total"], first["by_country"]) == (0, {})
    store_signature(cached_app, petition.slug, country="CL")
    cached = client.get(url).get_json()
    assert (cached["counts"]["total"], cached["by_country"]) == (0, {}), "served from the cache"

    time.sleep(0.6)
    fresh = client.get(url).get_json()
    assert (fresh["counts"]["total"], fresh["by_country"]) == (1, {"CL": 1})


def test_a_visitor_with_a_message_gets_a_page_of_their_own(cached_app, petition):
    client = cached_app.test_client()
    client.get(f"/p/{petition.slug}")
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "A message for you alone")]

    own = client.get(f"/p/{petition.slug}")
    assert "A message for you alone" in own.get_data(as_text=True)
    assert own.cache_control.private and not own.cache_control.public
    other = cached_app.test_client().get(f"/p/{petition.slug}").get_data(as_text=True)
    assert "A message for you alone" not in other


def test_source_is_kept_apart_in_the_cache(cached_app, petition):
    client = cached_app.test_client()
    whatsapp = client.get(f"/p/{petition.slug}?source=whatsapp").get_data(as_text=True)
    plain = client.get(f"/p/{petition.slug}").get_data(as_text=True)

    assert 'name="source" type="hidden" value="whatsapp"' in whatsapp
    assert 'name="source" type="hidden" value=""' in plain


def test_shared_petition_page_may_be_kept_by_caches_as_long_as_its_counts(cached_app, petition):
    client = cached_app.test_client()
    response = client.get(f"/p/{petition.slug}")

    assert response.cache_control.public
    assert response.cache_control.max_age == 5
    assert {"Accept-Language", "Cookie"} <= set(response.vary)
    again = client.get(f"/p/{petition.slug}", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert again.get_data() == b""


def test_reads_say_they_vary_with_the_session_cookie_and_form_answers_do_not(client, bundled_petition):
    """A read that looked at the (empty) session may differ for a visitor who has one, so
    caches are told; the answer to a form is never cached, so it need not say. (Signing that
    waits for the email's confirmation leaves the session empty.)"""
    read = client.get("/healthz")
    assert "Cookie" in read.headers.get("Vary", "")

    answer = sign(client, bundled_petition.slug)
    assert answer.headers["Location"].endswith("/check-email")
    assert "Vary" not in answer.headers
    assert "Set-Cookie" not in answer.headers
