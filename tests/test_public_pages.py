"""The public pages: home, petition, signatories, QR code, embed, health, and what every
response carries (security headers, no email addresses, escaped names)."""

import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest
import segno

from petition.models import Signature

from .support import links, meta_content, parse_html, store_signature, texts

BASE_URL = "https://sign.example.org"
UNREACHABLE_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/none"
CHANNEL_HOSTS = {
    "whatsapp": ("wa.me", "api.whatsapp.com", "web.whatsapp.com"),
    "telegram": ("t.me", "telegram.me"),
    "x": ("x.com", "twitter.com"),
    "facebook": ("www.facebook.com", "facebook.com", "m.facebook.com"),
    "bluesky": ("bsky.app",),
}
CHANNELS = (*CHANNEL_HOSTS, "email")
HOSTILE_NAMES = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']
SVG = "{http://www.w3.org/2000/svg}"


def page_text(response) -> str:
    return response.get_data(as_text=True)


def fetch(client, path: str):
    """GET ``path`` and release the response (a static file stays open otherwise)."""
    response = client.get(path)
    response.get_data()
    response.close()
    return response


def csp_directives(response) -> dict[str, str]:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            directives[name] = value
    return directives


def base_of(app) -> str:
    return app.config.get("BASE_URL") or "http://localhost"


def share_link(html: str, channel: str) -> str:
    for href in links(html):
        parts = urlsplit(href)
        if channel == "email" and parts.scheme == "mailto":
            return href
        if parts.hostname in CHANNEL_HOSTS.get(channel, ()):
            return href
    raise AssertionError(f"no {channel} share link on the page")


def petition_urls_in(href: str) -> list[str]:
    """The absolute URLs carried inside a share link's query (or mailto body)."""
    found = []
    for values in parse_qs(urlsplit(href).query).values():
        for value in values:
            found += re.findall(r"https?://\S+", value)
    return found


# Home


def test_home_redirects_to_the_featured_petition(client, petition):
    response = client.get("/")
    assert response.status_code in (302, 303)
    assert urlsplit(response.headers["Location"]).path == f"/p/{petition.slug}"


def test_home_without_petitions_is_a_page_not_an_error(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"


# The petition page


def test_petition_page_shows_title_subtitle_and_demands(client, petition):
    response = client.get(f"/p/{petition.slug}")
    assert response.status_code == 200
    html = page_text(response)
    [heading] = [e for e in parse_html(html).elements if e["tag"] == "h1"]
    assert "".join(heading["text"]).strip() == petition.title
    for demand in (
        "AGAINST THE PARLIAMENTARY COUP: OUT WITH DINA BOLUARTE!",
        "END THE STATE OF EMERGENCY NOW!",
        "RELEASE OF ALL PRISONERS! INVESTIGATION OF THE DEATHS AND PUNISHMENT OF THE ASSASSINS!",
        "FOR A CONSTITUENT NATIONAL ASSEMBLY!",
    ):
        assert demand in html
    assert "The crisis of the Fujimori political system" in html


def test_petition_page_counts_only_confirmed_signatures(app, client, petition):
    store_signature(app, petition.slug)
    store_signature(app, petition.slug)
    store_signature(app, petition.slug, kind=Signature.ORGANIZATION, contact_name="Rosa")
    store_signature(app, petition.slug, status=Signature.PENDING)
    store_signature(app, petition.slug, status=Signature.REJECTED)
    html = page_text(client.get(f"/p/{petition.slug}"))
    [total] = texts(html, "count-total")
    assert re.match(r"3\b", total), total
    [kinds] = texts(html, "count-kinds")
    assert "1 organization" in kinds
    assert "2 individuals" in kinds


def test_petition_page_has_a_sign_form_with_csrf_token(client, petition):
    html = page_text(client.get(f"/p/{petition.slug}"))
    forms = [e for e in parse_html(html).elements if e["tag"] == "form"]
    [sign_form] = [f for f in forms if f["attrs"].get("action") == f"/p/{petition.slug}/sign"]
    assert sign_form["attrs"]["method"].lower() == "post"
    names = {e["attrs"].get("name") for e in parse_html(html).elements if e["tag"] in ("input", "select")}
    assert {"csrf_token", "kind", "name", "email", "country", "public"} <= names


def test_og_url_is_the_absolute_canonical_petition_url(client, petition):
    html = page_text(client.get(f"/p/{petition.slug}?source=whatsapp"))
    assert meta_content(html, "og:url") == f"http://localhost/p/{petition.slug}"
    canonical = [
        e for e in parse_html(html).elements if e["tag"] == "link" and e["attrs"].get("rel") == "canonical"
    ]
    assert [e["attrs"]["href"] for e in canonical] == [f"http://localhost/p/{petition.slug}"]


def test_petition_page_has_open_graph_and_twitter_card_tags(client, petition):
    html = page_text(client.get(f"/p/{petition.slug}"))
    assert meta_content(html, "og:title") == petition.title
    assert meta_content(html, "og:image").startswith("http://localhost/")
    assert meta_content(html, "twitter:card") in ("summary", "summary_large_image")
    assert meta_content(html, "og:description")


def test_og_image_is_served(client, petition):
    html = page_text(client.get(f"/p/{petition.slug}"))
    image = fetch(client, urlsplit(meta_content(html, "og:image")).path)
    assert image.status_code == 200
    assert image.mimetype.startswith("image/")


@pytest.mark.parametrize("how", ["config", "environment"])
def test_base_url_is_used_for_og_url_and_share_links(make_app, monkeypatch, petition, how):
    if how == "config":
        other = make_app(BASE_URL=BASE_URL)
    else:
        monkeypatch.setenv("BASE_URL", BASE_URL)
        other = make_app()
    html = page_text(other.test_client().get(f"/p/{petition.slug}"))
    assert meta_content(html, "og:url") == f"{BASE_URL}/p/{petition.slug}"
    assert meta_content(html, "og:image").startswith(BASE_URL + "/")
    for channel in CHANNELS:
        urls = petition_urls_in(share_link(html, channel))
        assert urls and all(url.startswith(f"{BASE_URL}/p/{petition.slug}?") for url in urls), channel


@pytest.mark.parametrize("channel", CHANNELS)
def test_each_share_link_carries_its_channel_as_source(client, petition, channel):
    html = page_text(client.get(f"/p/{petition.slug}"))
    urls = petition_urls_in(share_link(html, channel))
    assert urls, f"the {channel} link carries no petition URL"
    for url in urls:
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == "http://localhost"
        assert parts.path == f"/p/{petition.slug}"
        assert parse_qs(parts.query) == {"source": [channel]}


@pytest.mark.parametrize(
    "path",
    ["/p/no-such-petition", "/p/no-such-petition/signatories", "/p/no-such-petition/embed", "/nowhere"],
)
def test_unknown_address_gets_an_html_404_page(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "<html" in page_text(response)


def test_unknown_petition_qr_code_is_404(client):
    assert client.get("/p/no-such-petition/qr.svg").status_code == 404


# Signatories


def test_signatories_lists_organizations_before_individuals(app, client, petition):
    store_signature(app, petition.slug, name="Early Person")
    store_signature(app, petition.slug, name="Union One", kind=Signature.ORGANIZATION, contact_name="R")
    store_signature(app, petition.slug, name="Late Person")
    store_signature(app, petition.slug, name="Union Two", kind=Signature.ORGANIZATION, contact_name="R")
    names = texts(page_text(client.get(f"/p/{petition.slug}/signatories")), "signatory-name")
    assert sorted(names[:2]) == ["Union One", "Union Two"]
    assert sorted(names[2:]) == ["Early Person", "Late Person"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=organization", {"Union Lima", "Union Quito"}),
        ("kind=individual", {"Ana Lima", "Bea Buenos Aires"}),
        ("country=PE", {"Union Lima", "Ana Lima"}),
        ("country=pe", {"Union Lima", "Ana Lima"}),
        ("country=AR", {"Bea Buenos Aires"}),
        ("kind=organization&country=EC", {"Union Quito"}),
        ("kind=individual&country=EC", set()),
        ("kind=robot", {"Union Lima", "Union Quito", "Ana Lima", "Bea Buenos Aires"}),
        ("country=ZZ", {"Union Lima", "Union Quito", "Ana Lima", "Bea Buenos Aires"}),
    ],
)
def test_signatories_filters_by_kind_and_country(app, client, petition, query, expected):
    organization = {"kind": Signature.ORGANIZATION, "contact_name": "Rosa"}
    store_signature(app, petition.slug, name="Union Lima", country="PE", **organization)
    store_signature(app, petition.slug, name="Union Quito", country="EC", **organization)
    store_signature(app, petition.slug, name="Ana Lima", country="PE")
    store_signature(app, petition.slug, name="Bea Buenos Aires", country="AR")
    response = client.get(f"/p/{petition.slug}/signatories?{query}")
    assert response.status_code == 200
    assert set(texts(page_text(response), "signatory-name")) == expected


def test_signatories_are_paginated_without_gaps_or_repeats(app, make_app, petition):
    small = make_app(SIGNATORIES_PER_PAGE=2)
    stored = [store_signature(app, petition.slug, name=f"Person {n}") for n in range(5)]
    client = small.test_client()
    seen = []
    for number in (1, 2, 3):
        html = page_text(client.get(f"/p/{petition.slug}/signatories?page={number}"))
        names = texts(html, "signatory-name")
        assert len(names) == (2 if number < 3 else 1)
        seen += names
    assert sorted(seen) == sorted(f"Person {n}" for n in range(5))
    assert len(stored) == 5
    past_the_end = page_text(client.get(f"/p/{petition.slug}/signatories?page=4"))
    assert texts(past_the_end, "signatory-name") == []


def test_signatories_next_page_link_keeps_the_filter(app, make_app, petition):
    small = make_app(SIGNATORIES_PER_PAGE=2)
    for n in range(3):
        store_signature(app, petition.slug, name=f"Person {n}", country="AR")
    store_signature(
        app, petition.slug, name="Union", kind=Signature.ORGANIZATION, contact_name="R", country="AR"
    )
    html = page_text(small.test_client().get(f"/p/{petition.slug}/signatories?kind=individual&country=AR"))
    [next_link] = [e["attrs"]["href"] for e in parse_html(html).elements if e["attrs"].get("rel") == "next"]
    query = parse_qs(urlsplit(next_link).query)
    assert query["kind"] == ["individual"]
    assert query["country"] == ["AR"]
    assert query["page"] == ["2"]
    second = page_text(small.test_client().get(next_link))
    assert len(texts(second, "signatory-name")) == 1
    assert "Union" not in texts(second, "signatory-name")


@pytest.mark.parametrize("path", ["/p/{slug}", "/p/{slug}/signatories", "/p/{slug}/embed"])
def test_private_and_uncounted_signatures_are_never_listed(app, client, petition, path):
    store_signature(app, petition.slug, name="Listed Person")
    store_signature(app, petition.slug, name="Private Person", public=False)
    store_signature(app, petition.slug, name="Pending Person", status=Signature.PENDING)
    store_signature(app, petition.slug, name="Rejected Person", status=Signature.REJECTED)
    html = page_text(client.get(path.format(slug=petition.slug)))
    for hidden in ("Private Person", "Pending Person", "Rejected Person"):
        assert hidden not in html
    if path != "/p/{slug}/embed":
        assert "Listed Person" in texts(html, "signatory-name")


@pytest.mark.parametrize(
    "path",
    [
        "/p/{slug}",
        "/p/{slug}?source=whatsapp",
        "/p/{slug}/signatories",
        "/p/{slug}/signatories?kind=organization",
        "/p/{slug}/signatories?country=PE",
        "/p/{slug}/embed",
        "/p/{slug}/thanks",
        "/api/v1/petitions",
        "/api/v1/petitions/{slug}",
    ],
)
def test_no_email_address_appears_on_public_pages(app, client, petition, path):
    emails = [
        "Ana.Secret@Correo-Ana.example",
        "union-contact@sindicato-privado.example",
        "oculta@oculto.example",
    ]
    store_signature(app, petition.slug, name="Ana", email=emails[0], comment="Solidarity!")
    store_signature(
        app, petition.slug, name="Union", email=emails[1], kind=Signature.ORGANIZATION, contact_name="Rosa"
    )
    store_signature(app, petition.slug, name="Hidden", email=emails[2], public=False)
    response = client.get(path.format(slug=petition.slug))
    assert response.status_code == 200
    body = page_text(response).lower()
    for email in emails:
        assert email.lower() not in body
        assert email.split("@")[1].lower() not in body


@pytest.mark.parametrize("hostile", HOSTILE_NAMES)
@pytest.mark.parametrize("path", ["/p/{slug}", "/p/{slug}/signatories"])
def test_hostile_names_are_escaped(app, client, petition, hostile, path):
    store_signature(app, petition.slug, name=hostile, affiliation=hostile, city=hostile)
    html = page_text(client.get(path.format(slug=petition.slug)))
    assert hostile not in html
    assert "<img src=x" not in html
    assert "<script>alert" not in html
    assert hostile in texts(html, "signatory-name")


# QR code


def qr_modules(svg: bytes) -> set[tuple[int, int]]:
    """The dark modules drawn by the SVG's path, as (row, column) from the top-left dark one."""
    root = ET.fromstring(svg)  # noqa: S314 - our own response, parsed to check it
    dark = set()
    for path in root.iter(f"{SVG}path"):
        x = y = 0.0
        for command, numbers in re.findall(r"([MmHhVv])([-\d.\s]+)", path.get("d", "")):
            values = [float(n) for n in numbers.split()]
            if command == "M":
                x, y = values
            elif command == "m":
                x, y = x + values[0], y + values[1]
            elif command == "h":
                for column in range(int(values[0])):
                    dark.add((int(y), int(x) + column))
                x += values[0]
            elif command == "H":
                for column in range(int(x), int(values[0])):
                    dark.add((int(y), column))
                x = values[0]
            else:
                raise AssertionError(f"unexpected path command {command}")
    top, left = min(r for r, _ in dark), min(c for _, c in dark)
    return {(r - top, c - left) for r, c in dark}


def encodes(svg: bytes, text: str) -> bool:
    """Whether the SVG's modules are those of a QR code of ``text`` at any error level."""
    drawn = qr_modules(svg)
    for error in "lmqh":
        for boost in (True, False):
            code = segno.make(text, error=error, boost_error=boost)
            expected = {(r, c) for r, row in enumerate(code.matrix) for c, module in enumerate(row) if module}
            if drawn == expected:
                return True
    return False


@pytest.mark.parametrize("base", [None, BASE_URL])
def test_qr_code_is_an_svg_of_the_share_url(make_app, petition, base):
    other = make_app(BASE_URL=base)
    response = other.test_client().get(f"/p/{petition.slug}/qr.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)  # noqa: S314 - our own response, parsed to check it
    assert root.tag == f"{SVG}svg"
    assert root.findtext(f"{SVG}title") == petition.title
    assert root.find(f"{SVG}path") is not None
    origin = base or "http://localhost"
    assert encodes(response.data, f"{origin}/p/{petition.slug}?source=qr")
    assert not encodes(response.data, f"{origin}/p/{petition.slug}?source=other")


# Embed and framing


def test_embed_shows_title_count_and_link_and_may_be_framed(app, client, petition):
    store_signature(app, petition.slug)
    response = client.get(f"/p/{petition.slug}/embed")
    assert response.status_code == 200
    html = page_text(response)
    assert petition.title in html
    assert re.match(r"1\b", texts(html, "count-total")[0])
    assert any(urlsplit(href).path == f"/p/{petition.slug}" for href in links(html))
    ancestors = csp_directives(response).get("frame-ancestors", "")
    assert ancestors and "'none'" not in ancestors
    assert response.headers.get("X-Frame-Options", "").upper() not in ("DENY", "SAMEORIGIN")


HTML_ROUTES = [
    "/",
    "/p/{slug}",
    "/p/{slug}/signatories",
    "/p/{slug}/thanks",
    "/p/no-such-petition",
    "/admin/login",
]
OTHER_ROUTES = [
    "/p/{slug}/qr.svg",
    "/api/v1/petitions",
    "/api/v1/petitions/{slug}",
    "/api/v1/petitions/no-such-petition",
    "/healthz",
    "/admin/",
    "/admin/p/{slug}/export.csv",
    "/static/css/site.css",
]


@pytest.mark.parametrize("path", HTML_ROUTES + OTHER_ROUTES)
def test_every_other_response_refuses_framing(client, petition, path):
    response = fetch(client, path.format(slug=petition.slug))
    assert csp_directives(response)["frame-ancestors"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", [*HTML_ROUTES, *OTHER_ROUTES, "/p/{slug}/embed"])
def test_every_response_sends_security_headers(client, petition, path):
    response = fetch(client, path.format(slug=petition.slug))
    directives = csp_directives(response)
    assert "default-src" in directives
    assert "script-src" in directives
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    assert response.headers["Referrer-Policy"] != "unsafe-url"
    names = [name.lower() for name, _ in response.headers]
    repeated = {name for name in names if names.count(name) > 1 and name != "set-cookie"}
    assert not repeated


def test_refused_sign_post_also_sends_security_headers(client, petition):
    response = client.post(f"/p/{petition.slug}/sign", data={"name": "no token"})
    assert response.status_code == 400
    assert "'unsafe-inline'" not in csp_directives(response)["script-src"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", [*HTML_ROUTES, "/p/{slug}/embed"])
def test_pages_have_no_inline_scripts(client, petition, path):
    collector = parse_html(page_text(client.get(path.format(slug=petition.slug))))
    for element in collector.elements:
        if element["tag"] == "script":
            assert element["attrs"].get("src"), "inline script"
            assert not "".join(element["text"]).strip()
        assert not any(name.startswith("on") for name in element["attrs"]), element


# Health and limits


def test_healthz_is_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"


def test_healthz_is_503_when_the_database_does_not_answer(make_app):
    unreachable = make_app(SQLALCHEMY_DATABASE_URI=UNREACHABLE_DATABASE)
    response = unreachable.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/p/{slug}/sign", "/admin/login"])
def test_request_body_over_the_size_limit_gets_413(app, client, petition, path):
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit
    response = client.post(path.format(slug=petition.slug), data={"comment": "x" * (limit + 1)})
    assert response.status_code == 413
    assert client.get(f"/p/{petition.slug}/signatories").status_code == 200


def test_the_public_list_pages_through_the_newest_signatures_only(app, make_app, petition):
    """Every page reads a bounded range, however many have signed: the newest few are listed."""
    small = make_app(SIGNATORIES_PER_PAGE=2, SIGNATORIES_LISTED_MAX=3)
    for n in range(5):
        store_signature(app, petition.slug, name=f"Person {n}")
    client = small.test_client()

    first = page_text(client.get(f"/p/{petition.slug}/signatories"))
    second = page_text(client.get(f"/p/{petition.slug}/signatories?page=2"))
    assert texts(first, "signatory-name") + texts(second, "signatory-name") == [
        "Person 4",
        "Person 3",
        "Person 2",
    ]
    assert "Only the newest 3 public signatures are shown here." in first
    assert "Page 1 of 2" in first
    far = client.get(f"/p/{petition.slug}/signatories?page=100000")
    assert far.status_code == 200
    assert texts(page_text(far), "signatory-name") == []


def test_a_short_list_says_nothing_about_a_limit(app, client, petition):
    store_signature(app, petition.slug, name="Ana")
    assert "Only the newest" not in page_text(client.get(f"/p/{petition.slug}/signatories"))
