"""Links nobody can redirect and secrets nobody shares: production builds every absolute link
from BASE_URL and answers only its host; the pages of the emailed links send no Referer."""

import logging
import re
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from petition import create_app
from petition.extensions import db
from petition.mail.sender import send_due
from petition.models import Organizer, OrganizerRole

from .conftest import hidden_inputs, login, sign, signatures, valid_fields
from .support import links, meta_content, parse_html
from .test_public_pages import encodes

BASE_URL = "https://sign.example.org"
SECRET = "a-production-secret-of-more-than-32-characters"
# The site's own host, reached as nginx passes it on (plain HTTP, another port): links must
# still start with BASE_URL.
OWN_HOST = "http://sign.example.org:8000"
URL = re.compile(r"https?://[^\s\"'<>&]+")
ORIGIN = re.compile(r"https?://[^/\s\"'<>&?]+")


@pytest.fixture
def clean_environment(monkeypatch):
    """No setting of the shell running the tests leaks into the apps built here."""
    for key in ("PETITION_ENV", "SECRET_KEY", "BASE_URL", "FLASK_SECRET_KEY", "FLASK_TRUSTED_HOSTS"):
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


def refusal(**config) -> str:
    """The message ``create_app`` refuses to start with."""
    with pytest.raises(RuntimeError) as refused:
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", **config})
    return str(refused.value)


@pytest.fixture
def production(make_app, clean_environment):
    return make_app(PETITION_ENV="production", SECRET_KEY=SECRET, BASE_URL=BASE_URL)


# BASE_URL


def test_production_refuses_to_start_without_base_url(clean_environment):
    clean_environment.setenv("PETITION_ENV", "production")
    clean_environment.setenv("SECRET_KEY", SECRET)
    assert "BASE_URL" in refusal()


@pytest.mark.parametrize(
    "base_url",
    [
        "sign.example.org",
        "//sign.example.org",
        "ftp://sign.example.org",
        "https://",
        "https://sign.example.org/petition",
        "https://sign.example.org/?source=x",
        "https://user@sign.example.org",
        "https://sign.example.org:http",
    ],
)
def test_production_refuses_a_base_url_that_is_not_an_origin(clean_environment, base_url):
    message = refusal(PETITION_ENV="production", SECRET_KEY=SECRET, BASE_URL=base_url)
    assert "BASE_URL" in message and "https://sign.example.org" in message


def test_base_url_may_end_with_a_slash(make_app, petition, clean_environment):
    other = make_app(PETITION_ENV="production", SECRET_KEY=SECRET, BASE_URL=BASE_URL + "/")
    answer = other.test_client().get(f"/api/v1/petitions/{petition.slug}", base_url=BASE_URL)
    assert answer.get_json()["url"] == f"{BASE_URL}/p/{petition.slug}"


@pytest.mark.parametrize("path", ["/", "/p/{slug}", "/api/v1/petitions/{slug}", "/healthz", "/admin/login"])
def test_production_refuses_requests_for_another_host(production, petition, path):
    response = production.test_client().get(path.format(slug=petition.slug), base_url="https://evil.example")
    assert response.status_code == 400
    assert b"evil.example" not in response.data


def test_production_refuses_a_signature_sent_to_another_host(production, petition):
    client = production.test_client()
    form = hidden_inputs(client.get(f"/p/{petition.slug}", base_url=OWN_HOST).get_data(as_text=True))
    response = client.post(
        f"/p/{petition.slug}/sign", data={**form, **valid_fields()}, base_url="https://evil.example"
    )
    assert response.status_code == 400
    assert signatures(production) == []


def test_flask_trusted_hosts_from_the_environment_is_kept(make_app, clean_environment, petition):
    clean_environment.setenv("FLASK_TRUSTED_HOSTS", '["sign.example.org", "petition.internal"]')
    other = make_app(PETITION_ENV="production", SECRET_KEY=SECRET, BASE_URL=BASE_URL)
    response = other.test_client().get(
        f"/api/v1/petitions/{petition.slug}", base_url="http://petition.internal"
    )
    assert response.status_code == 200
    assert response.get_json()["url"] == f"{BASE_URL}/p/{petition.slug}"


class OnHost:
    """A test client whose every request goes to ``base_url``, as a browser on that site."""

    def __init__(self, client, base_url: str):
        self.client = client
        self.base_url = base_url

    def get(self, path, **kwargs):
        return self.client.get(path, base_url=self.base_url, **kwargs)

    def post(self, path, **kwargs):
        return self.client.post(path, base_url=self.base_url, **kwargs)


def test_production_page_links_start_with_base_url(production, petition):
    html = OnHost(production.test_client(), OWN_HOST).get(f"/p/{petition.slug}").get_data(as_text=True)

    canonical = f"{BASE_URL}/p/{petition.slug}"
    assert meta_content(html, "og:url") == canonical
    elements = parse_html(html).elements
    assert [e["attrs"]["href"] for e in elements if e["attrs"].get("rel") == "canonical"] == [canonical]
    [share_url] = [e["attrs"]["value"] for e in elements if e["attrs"].get("id") == "share-url"]
    assert share_url.startswith(canonical + "?")
    shares = [unquote(href) for href in links(html) if href.startswith(("https://wa.me", "mailto:"))]
    assert len(shares) == 2 and all(canonical + "?source=" in href for href in shares)
    # Every address of this site on the page, in meta tags and inside the share links too.
    origins = {origin for origin in ORIGIN.findall(unquote(unquote(html))) if "sign.example.org" in origin}
    assert origins == {BASE_URL}


def test_production_qr_code_and_api_use_base_url(production, petition):
    client = OnHost(production.test_client(), OWN_HOST)
    svg = client.get(f"/p/{petition.slug}/qr.svg").data
    assert encodes(svg, f"{BASE_URL}/p/{petition.slug}?source=qr")

    assert (
        client.get(f"/api/v1/petitions/{petition.slug}").get_json()["url"] == f"{BASE_URL}/p/{petition.slug}"
    )
    listing = client.get("/api/v1/petitions").get_data(as_text=True)
    assert URL.findall(listing) and all(url.startswith(BASE_URL + "/") for url in URL.findall(listing))


def test_production_embed_snippet_uses_base_url(production, petition, organizer):
    # A viewer: an account that sees no personal data signs in without a second factor.
    with production.app_context():
        account = db.session.scalar(select(Organizer))
        account.is_admin = False
        db.session.add(OrganizerRole(organizer_id=account.id, petition_id=petition.id, role="viewer"))
        db.session.commit()
    client = OnHost(production.test_client(), OWN_HOST)
    assert login(client).status_code in (302, 303)
    html = client.get(f"/admin/p/{petition.slug}").get_data(as_text=True)
    [area] = [e for e in parse_html(html).elements if e["attrs"].get("id") == "embed-snippet"]
    assert "".join(area["text"]).startswith(f'<iframe src="{BASE_URL}/p/{petition.slug}/embed"')


def test_production_emails_link_to_base_url(make_app, smtp, bundled_petition, clean_environment):
    other = make_app(PETITION_ENV="production", SECRET_KEY=SECRET, BASE_URL=BASE_URL, SMTP_URL=smtp.url)
    response = sign(OnHost(other.test_client(), OWN_HOST), bundled_petition.slug, **valid_fields())
    assert response.status_code == 303
    with other.app_context():
        assert send_due() == (1, 0)
    [message] = smtp.messages
    for part in ("plain", "html"):
        body = message.get_body(preferencelist=(part,)).get_content()
        urls = [url for url in URL.findall(body) if "example.org" in url]
        assert any("/confirm/" in url for url in urls) and any("/withdraw/" in url for url in urls)
        assert all(url.startswith(BASE_URL + "/") for url in urls), urls


def test_varying_the_host_does_not_rebuild_the_pdf_in_production(
    make_app, petition, clean_environment, caplog
):
    other = make_app(PETITION_ENV="production", SECRET_KEY=SECRET, BASE_URL=BASE_URL, PAGE_CACHE_SECONDS=60)
    client = other.test_client()
    caplog.set_level(logging.INFO, logger="petition")
    assert client.get(f"/p/{petition.slug}/print.pdf", base_url=BASE_URL).status_code == 200
    assert "built" in caplog.text
    caplog.clear()
    for port in (8000, 8001, 8002):
        response = client.get(f"/p/{petition.slug}/print.pdf", base_url=f"http://sign.example.org:{port}")
        assert response.status_code == 200
    assert "built" not in caplog.text


def test_development_links_follow_the_request_host(make_app, petition, clean_environment):
    other = make_app()
    client = other.test_client()
    html = client.get(f"/p/{petition.slug}", base_url="http://192.0.2.7:5000").get_data(as_text=True)
    assert meta_content(html, "og:url") == f"http://192.0.2.7:5000/p/{petition.slug}"
    api = client.get(f"/api/v1/petitions/{petition.slug}", base_url="http://localhost:5000").get_json()
    assert api["url"] == f"http://localhost:5000/p/{petition.slug}"


# Secrets


@pytest.mark.parametrize("environment", ["prod", "Production", "dev", "staging", "test"])
def test_an_unknown_environment_refuses_to_start(clean_environment, environment):
    message = refusal(PETITION_ENV=environment, SECRET_KEY=SECRET, BASE_URL=BASE_URL)
    assert "development" in message and "production" in message and repr(environment) in message


@pytest.mark.parametrize("secret", [None, "", "short", "dev-only-secret-change-me"])
def test_production_refuses_to_start_without_a_real_secret(clean_environment, secret):
    config = {"PETITION_ENV": "production", "BASE_URL": BASE_URL}
    if secret is not None:
        config["SECRET_KEY"] = secret
    assert "SECRET_KEY" in refusal(**config)


def test_development_makes_a_random_secret_once_per_installation(make_app, clean_environment, tmp_path):
    first = make_app(SECRET_KEY=None, INSTANCE_PATH=str(tmp_path / "one"))
    key_file = tmp_path / "one" / "secret_key"
    secret = first.config["SECRET_KEY"]

    assert len(secret) >= 32
    assert key_file.read_text().strip() == secret
    assert key_file.stat().st_mode & 0o777 == 0o600
    restarted = make_app(SECRET_KEY=None, INSTANCE_PATH=str(tmp_path / "one"))
    assert restarted.config["SECRET_KEY"] == secret
    elsewhere = make_app(SECRET_KEY=None, INSTANCE_PATH=str(tmp_path / "two"))
    assert elsewhere.config["SECRET_KEY"] != secret
    assert sorted(path.name for path in (tmp_path / "one").iterdir()) == ["secret_key"]


def test_a_form_served_before_a_restart_is_accepted_after_it(make_app, clean_environment, tmp_path, petition):
    before = make_app(SECRET_KEY=None, INSTANCE_PATH=str(tmp_path))
    form = hidden_inputs(before.test_client().get(f"/p/{petition.slug}").get_data(as_text=True))
    elsewhere = make_app(SECRET_KEY=None, INSTANCE_PATH=str(tmp_path / "elsewhere"))
    refused = elsewhere.test_client().post(f"/p/{petition.slug}/sign", data={**form, **valid_fields()})
    assert refused.status_code == 400, "another installation's key does not sign this one's forms"

    after = make_app(SECRET_KEY=None, INSTANCE_PATH=str(tmp_path))
    response = after.test_client().post(f"/p/{petition.slug}/sign", data={**form, **valid_fields()})
    assert response.status_code == 303
    assert len(signatures(after)) == 1


def test_a_secret_key_given_is_used_and_nothing_is_written(make_app, clean_environment, tmp_path):
    assert make_app(SECRET_KEY=SECRET, INSTANCE_PATH=str(tmp_path)).config["SECRET_KEY"] == SECRET
    assert not (tmp_path / "secret_key").exists()


# The pages of the emailed links


@pytest.mark.parametrize("path", ["/confirm/{token}", "/withdraw/{token}", "/unsubscribe/{token}"])
def test_emailed_link_pages_send_no_referrer(client, path):
    response = client.get(path.format(token="not-a-real-token.abc"))
    assert response.headers.getlist("Referrer-Policy") == ["no-referrer"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_other_pages_keep_their_referrer_policy(client, petition):
    response = client.get(f"/p/{petition.slug}")
    assert response.headers.getlist("Referrer-Policy") == ["strict-origin-when-cross-origin"]
