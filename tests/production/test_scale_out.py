"""Two instances on different ports, sharing one PostgreSQL database and one Redis, behave as one
site: one signature per address whichever instance takes it, the same counts, one rate limit."""

from types import SimpleNamespace

import pytest

from .web import Servers, Visitor, app_environment, wait_for_api_total

pytestmark = pytest.mark.production

BASE_URL = "https://sign.example.org"


@pytest.fixture(scope="module")
def site(shared_postgres, tmp_path_factory):
    """Instances A and B: one database, one secret, one BASE_URL, rate limits off."""
    servers = Servers(tmp_path_factory.mktemp("scale-out"))
    try:
        env = app_environment(shared_postgres.url, BASE_URL=BASE_URL)
        a, b = servers.start(env, env)
        yield SimpleNamespace(database=shared_postgres, a=a, b=b)
    finally:
        servers.stop_all()


def templates_sent_to(site, email: str) -> list[str]:
    [row] = site.database.signatures(email)
    return [template for template, _sent, _to in site.database.outbox_by_signature()[row.id]]


def test_a_signature_made_on_one_instance_is_a_repeat_on_the_other(site):
    first = Visitor(site.a).sign(email="both@example.org")
    again = Visitor(site.b).sign(email="Both@Example.org")

    assert (first.status, again.status) == (303, 303)
    assert len(site.database.signatures("both@example.org")) == 1
    # B recognised the address: nothing stored, the confirmation sent again instead.
    assert templates_sent_to(site, "both@example.org") == ["confirm", "confirm"]

    site.database.execute("UPDATE signature SET status = 'confirmed' WHERE email_key = 'both@example.org'")
    assert Visitor(site.b).sign(email="both@example.org").status == 303
    assert len(site.database.signatures("both@example.org")) == 1
    assert templates_sent_to(site, "both@example.org") == ["confirm", "confirm", "already_signed"]
    site.a.assert_no_server_errors()
    site.b.assert_no_server_errors()


def test_a_form_opened_on_one_instance_is_accepted_by_the_other(site):
    visitor = Visitor(site.a)
    form = visitor.open_sign_form(email="traveller@example.org")

    response = visitor.submit_signature(form, server=site.b)

    assert response.status == 303, response.text[:2000]
    assert len(site.database.signatures("traveller@example.org")) == 1


def test_counts_agree_on_both_instances(site):
    for i in range(3):
        assert Visitor(site.a).sign(email=f"count-a{i}@example.org", country="PE").status == 303
    for i in range(2):
        assert Visitor(site.b).sign(email=f"count-b{i}@example.org", country="AR").status == 303
    # The API counts confirmed signatures: confirm these as their emailed links would.
    site.database.execute(
        "UPDATE signature SET status = 'confirmed', confirmed_at = CURRENT_TIMESTAMP "
        "WHERE email_key LIKE 'count-%'"
    )
    expected = site.database.scalar("SELECT count(*) FROM signature WHERE status IN ('confirmed', 'hidden')")

    on_a = wait_for_api_total(site.a, expected)
    on_b = wait_for_api_total(site.b, expected)

    assert on_a["counts"]["total"] == expected
    assert on_a == on_b
    assert on_a["by_country"]["AR"] == 2
    assert on_a["url"] == f"{BASE_URL}/p/{on_a['slug']}"


def test_rate_limits_are_shared_between_instances(site, servers, redis_available):
    env = app_environment(
        site.database.url,
        BASE_URL=BASE_URL,
        FLASK_RATELIMIT_ENABLED="true",
        FLASK_RATELIMIT_SIGN="10 per minute",
    )
    a, b = servers.start(env, env)  # one environment: the same Redis key prefix
    visitors = [Visitor(a) for _ in range(12)]
    forms = [visitor.open_sign_form(email=f"limited{i}@example.org") for i, visitor in enumerate(visitors)]

    # Six posts to each instance from the same address (127.0.0.1), one after the other.
    responses = [
        visitor.submit_signature(form, server=a if i < 6 else b)
        for i, (visitor, form) in enumerate(zip(visitors, forms, strict=True))
    ]

    assert [response.status for response in responses] == [303] * 10 + [429] * 2
    assert all(response.headers.get("Retry-After") for response in responses[10:])
    assert len(site.database.signatures("limited%")) == 10
    a.assert_no_server_errors()
    b.assert_no_server_errors()
