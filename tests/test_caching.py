"""The cache: one render shared by visitors, each with a CSRF token of its own, counts that
catch up within the cache's lifetime, and edits seen at once by every worker."""

import csv
import io

import pytest
from sqlalchemy import select

from petition.cache import TTLCache
from petition.extensions import db
from petition.models import Petition

from .conftest import csrf_token, hidden_inputs, login, sign, signatures, valid_fields
from .support import links, store_signature


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


def with_clock(app, clock):
    """``app`` with a cache of its own that reads ``clock``."""
    app.extensions["cache"] = TTLCache(maxsize=app.config["CACHE_MAX_ENTRIES"], clock=clock)
    return app


@pytest.fixture
def cached_app(make_app, clock):
    return with_clock(make_app(PAGE_CACHE_SECONDS=5, COUNTS_CACHE_SECONDS=5), clock)


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


def test_counts_catch_up_within_the_cache_lifetime(cached_app, clock, petition):
    client = cached_app.test_client()
    assert total_on_page(client, petition.slug) == "0"
    store_signature(cached_app, petition.slug)
    clock.now += 4.9
    assert total_on_page(client, petition.slug) == "0", "served from the cache"

    clock.now += 0.2
    assert total_on_page(client, petition.slug) == "1", "the first view after expiry counts afresh"


def test_api_counts_catch_up_within_the_cache_lifetime(cached_app, clock, petition):
    client = cached_app.test_client()
    url = f"/api/v1/petitions/{petition.slug}"
    first = client.get(url).get_json()
    assert (first["counts"]["total"], first["by_country"]) == (0, {})
    store_signature(cached_app, petition.slug, country="CL")
    cached = client.get(url).get_json()
    assert (cached["counts"]["total"], cached["by_country"]) == (0, {}), "served from the cache"

    clock.now += 5.1
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
    assert answer.headers["Location"].partition("?")[0].endswith("/check-email")
    assert "Vary" not in answer.headers
    assert "Set-Cookie" not in answer.headers


def test_a_full_cache_drops_its_oldest_entries_not_everything():
    cache = TTLCache(maxsize=3, clock=Clock())
    for key in "abcde":
        cache.set(key, key.upper(), ttl=60)

    assert len(cache) == 3
    assert [cache.get(key) for key in "abcde"] == [None, None, "C", "D", "E"]


def test_a_full_cache_keeps_the_entry_read_last():
    cache = TTLCache(maxsize=3, clock=Clock())
    for key in "abc":
        cache.set(key, key.upper(), ttl=60)
    assert cache.get("a") == "A"
    cache.set("d", "D", ttl=60)

    assert [cache.get(key) for key in "abcd"] == ["A", None, "C", "D"]


def test_entries_expire_after_their_time_to_live():
    clock = Clock()
    cache = TTLCache(clock=clock)
    cache.set("short", 1, ttl=5)
    cache.set("long", 2, ttl=50)
    cache.set("never kept", 3, ttl=0)
    clock.now += 5
    assert (cache.get("short"), cache.get("long"), cache.get("never kept")) == (1, 2, None)

    clock.now += 0.001
    assert (cache.get("short"), cache.get("long")) == (None, 2)
    assert len(cache) == 1, "an expired entry that is read is dropped"


@pytest.fixture
def long_cached_app(make_app, clock):
    return with_clock(make_app(PAGE_CACHE_SECONDS=60), clock)


def renders_held(app) -> int:
    return len(app.extensions["cache"])


def language_links_of(html: str) -> list[str]:
    return [href for href in links(html) if "lang=" in href]


def test_unknown_sources_share_one_cache_entry_and_each_page_keeps_its_source(long_cached_app, petition):
    client = long_cached_app.test_client()
    sources = ["newsletter", "partner.org_2"]
    pages = {source: client.get(f"/p/{petition.slug}?source={source}") for source in sources}

    assert renders_held(long_cached_app) == 1, "one render for both"
    for source, page in pages.items():
        html = page.get_data(as_text=True)
        assert hidden_inputs(html)["source"] == source
        assert language_links_of(html)
        assert all(f"source={source}&" in href for href in language_links_of(html))
        other = next(other for other in sources if other != source)
        assert other not in html
    first, second = (pages[source].headers["ETag"] for source in sources)
    assert first != second
    again = client.get(f"/p/{petition.slug}?source=newsletter", headers={"If-None-Match": first})
    assert again.status_code == 304
    assert (
        client.get(f"/p/{petition.slug}?source=partner.org_2", headers={"If-None-Match": first}).status_code
        == 200
    )

    client.get(f"/p/{petition.slug}?source=whatsapp")
    client.get(f"/p/{petition.slug}")
    assert renders_held(long_cached_app) == 3, "the site's own sources, and none, have a page each"


def test_a_signature_records_the_unknown_source_its_signer_came_by(long_cached_app, petition, organizer):
    client = long_cached_app.test_client()
    for source in ("newsletter", "partner.org_2"):
        email = f"{source}@example.org"
        assert (
            sign(client, petition.slug, f"?source={source}", **valid_fields(email=email)).status_code == 303
        )

    login(client)
    export = client.get(f"/admin/p/{petition.slug}/export.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(export)))
    assert {row["email"]: row["source"] for row in rows} == {
        "newsletter@example.org": "newsletter",
        "partner.org_2@example.org": "partner.org_2",
    }


def retitle(app, slug: str, title: str) -> None:
    """Change the title as any writer does: through the ORM, which moves the version on."""
    with app.app_context():
        db.session.scalar(select(Petition).where(Petition.slug == slug)).title = title
        db.session.commit()


def test_an_edit_reaches_every_worker_within_a_second_whatever_it_cached(make_app, clock, petition):
    """Two workers, each with its own cache, over one database: once either has read the new
    version of the petition, it never serves the old one again, though the page it rendered of
    the old one is good for minutes."""
    workers = [
        with_clock(make_app(PAGE_CACHE_SECONDS=300, PETITION_CHECK_SECONDS=1), clock) for _ in range(2)
    ]
    for worker in workers:
        assert petition.title in worker.test_client().get(f"/p/{petition.slug}").get_data(as_text=True)

    retitle(workers[0], petition.slug, "A changed title")
    clock.now += 1.01

    for worker in workers:
        html = worker.test_client().get(f"/p/{petition.slug}").get_data(as_text=True)
        assert "A changed title" in html and petition.title not in html


def test_a_new_translation_is_seen_at_once_in_its_language(long_cached_app, runner, tmp_path, petition):
    client = long_cached_app.test_client()
    before = client.get(f"/p/{petition.slug}", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Solidarité avec le peuple péruvien" not in before
    statement = tmp_path / "fr.md"
    statement.write_text(
        f"---\ntranslation_of: {petition.slug}\nlanguage: fr\n"
        "title: Solidarité avec le peuple péruvien\n---\n"
        "Le Bureau exécutif de la Quatrième Internationale.\n",
        encoding="utf-8",
    )

    assert runner.invoke(args=["petition", "load", str(statement)]).exit_code == 0

    after = client.get(f"/p/{petition.slug}", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Solidarité avec le peuple péruvien" in after


def test_the_cache_holds_at_most_its_bound_of_entries(make_app, clock, petition):
    """A crawler's burst of languages and sources cannot grow a worker's memory past the bound."""
    app = with_clock(make_app(PAGE_CACHE_SECONDS=300, CACHE_MAX_ENTRIES=2), clock)
    client = app.test_client()
    for source in ("whatsapp", "telegram", "x", "facebook", "email"):
        assert client.get(f"/p/{petition.slug}?source={source}").status_code == 200

    assert renders_held(app) == 2
