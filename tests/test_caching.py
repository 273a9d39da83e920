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


def test_each_visitor_of_a_cached_page_gets_a_working_token_of_their_own(cached_app, petition):
    first, second = cached_app.test_client(), cached_app.test_client()
    token_one = csrf_token(first.get(f"/p/{petition.slug}").get_data(as_text=True))
    token_two = csrf_token(second.get(f"/p/{petition.slug}").get_data(as_text=True))

    assert token_one != token_two
    assert "placeholder" not in token_one
    sign(first, petition.slug, **valid_fields(email="one@example.org"))
    sign(second, petition.slug, **valid_fields(email="two@example.org"))
    assert len(signatures(cached_app)) == 2


def test_counts_catch_up_without_any_visitor_waiting_for_the_count(cached_app, petition):
    client = cached_app.test_client()
    assert total_on_page(client, petition.slug) == "0"
    store_signature(cached_app, petition.slug)
    assert total_on_page(client, petition.slug) == "0", "served from the cache"

    time.sleep(0.6)
    response = client.get(f"/p/{petition.slug}")
    assert 'class="count-total"><strong>0<' in response.get_data(as_text=True), "old count at once"
    response.close()  # the count is refreshed once the response has gone out

    time.sleep(0.6)
    assert total_on_page(client, petition.slug) == "1"


def test_api_count_is_refreshed_after_the_response(cached_app, petition):
    client = cached_app.test_client()
    url = f"/api/v1/petitions/{petition.slug}"
    assert client.get(url).get_json()["counts"]["total"] == 0
    store_signature(cached_app, petition.slug)
    time.sleep(0.6)

    stale = client.get(url)
    assert stale.get_json()["counts"]["total"] == 0
    stale.close()
    assert client.get(url).get_json()["counts"]["total"] == 1


def test_a_visitor_with_a_message_gets_a_page_of_their_own(cached_app, petition):
    client = cached_app.test_client()
    client.get(f"/p/{petition.slug}")
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "A message for you alone")]

    assert "A message for you alone" in client.get(f"/p/{petition.slug}").get_data(as_text=True)
    other = cached_app.test_client().get(f"/p/{petition.slug}").get_data(as_text=True)
    assert "A message for you alone" not in other


def test_source_is_kept_apart_in_the_cache(cached_app, petition):
    client = cached_app.test_client()
    whatsapp = client.get(f"/p/{petition.slug}?source=whatsapp").get_data(as_text=True)
    plain = client.get(f"/p/{petition.slug}").get_data(as_text=True)

    assert 'name="source" type="hidden" value="whatsapp"' in whatsapp
    assert 'name="source" type="hidden" value=""' in plain


def test_petition_page_is_private_to_the_visitor(cached_app, petition):
    response = cached_app.test_client().get(f"/p/{petition.slug}")
    assert "private" in response.headers["Cache-Control"]
