"""The embed widget's own sign form (no session, a signed form token instead), the organizers'
embed snippet, and the API: OSDI names, the count endpoint, caching, CORS, the OpenAPI file."""

import datetime as dt
import re
import uuid
from pathlib import Path

import pytest
import yaml

from petition.extensions import db
from petition.models import Petition, Signature

from .conftest import hidden_inputs, login, sign, signatures, valid_fields
from .support import parse_html, store_signature, texts, token_from

ROOT = Path(__file__).resolve().parent.parent
HOUR = 3600


def embed_fields(**overrides) -> dict:
    """What a visitor types into the widget: name, email, country, and the two boxes."""
    fields = {
        "name": "Ana Quispe",
        "email": "ana@example.org",
        "country": "PE",
        "public": "y",
        "updates": "y",
    }
    fields.update(overrides)
    return {key: value for key, value in fields.items() if value is not None}


def embed_form(app, slug) -> dict:
    """The widget's hidden inputs, loaded by a client that is thrown away afterwards."""
    response = app.test_client().get(f"/p/{slug}/embed")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers, "the widget must not need a session"
    return hidden_inputs(response.get_data(as_text=True))


def embed_sign(app, slug, headers=None, **fields):
    """Post the widget's form the way a browser inside a third-party iframe does: from a client
    that never held this site's session cookie."""
    client = app.test_client()
    data = embed_form(app, slug) | embed_fields(**fields)
    response = client.post(f"/p/{slug}/embed/sign", data=data, headers=headers or {})
    assert client.get_cookie("session") is None
    return response


def frame_ancestors(response) -> str:
    match = re.search(r"frame-ancestors ([^;]+)", response.headers["Content-Security-Policy"])
    return match.group(1).strip()


def is_frameable(response) -> bool:
    return frame_ancestors(response) == "*" and "X-Frame-Options" not in response.headers


# Signing through the widget


def test_embed_signs_without_a_session_and_records_source_embed(app, petition):
    response = embed_sign(app, petition.slug)

    assert response.status_code == 303
    assert response.location == f"/p/{petition.slug}/embed/thanks?result=signed"
    [stored] = signatures(app)
    assert (stored.name, stored.email, stored.country) == ("Ana Quispe", "ana@example.org", "PE")
    assert (stored.kind, stored.source, stored.public, stored.updates) == ("individual", "embed", True, True)
    assert stored.status == Signature.CONFIRMED
    thanks = app.test_client().get(response.location)
    assert thanks.status_code == 200
    assert "Thank you for signing" in texts(thanks.get_data(as_text=True), "embed-title")
    assert is_frameable(thanks)


def test_embed_form_offers_the_short_set_of_fields_and_links_organizations_to_the_full_page(app, petition):
    html = app.test_client().get(f"/p/{petition.slug}/embed").get_data(as_text=True)
    elements = parse_html(html).elements
    [form] = [e for e in elements if e["tag"] == "form"]
    assert form["attrs"]["action"] == f"/p/{petition.slug}/embed/sign"
    named = {e["attrs"]["name"] for e in elements if e["tag"] in ("input", "select") and "name" in e["attrs"]}
    assert named == {
        "embed_token",
        "statement_version",
        "kind",
        "source",
        "name",
        "email",
        "country",
        "homepage",
        "public",
        "updates",
    }
    assert hidden_inputs(html)["source"] == "embed"
    assert "csrf_token" not in html
    more = [e for e in elements if e["tag"] == "a" and "organization" in "".join(e["text"])]
    assert more and more[0]["attrs"]["href"] == f"http://localhost/p/{petition.slug}?source=embed"
    assert more[0]["attrs"]["target"] == "_blank"


@pytest.mark.parametrize(
    ("fields", "field_id"),
    [
        ({"name": ""}, "name"),
        ({"email": "not-an-address"}, "email"),
        ({"email": ""}, "email"),
        ({"country": ""}, "country"),
        ({"country": "XX"}, "country"),
        ({"name": "Ana\x00"}, "name"),
    ],
)
def test_embed_refuses_bad_input_with_the_error_beside_its_field(app, petition, fields, field_id):
    response = embed_sign(app, petition.slug, **fields)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field_id}-error"' in html
    assert (
        f'aria-describedby="{field_id}-error"' in html
        or f'aria-describedby="{field_id}-hint {field_id}-error"' in html
    )
    assert texts(html, "error-summary")
    assert signatures(app) == []
    assert is_frameable(response)
    assert hidden_inputs(html)["embed_token"], "the widget comes back ready to send again"


@pytest.mark.parametrize(
    "forge",
    [
        lambda app, slug: None,
        lambda app, slug: "not-a-token",
        lambda app, slug: token_from(app, slug, secret="another-secret-key-that-is-long-enough-0123"),
        lambda app, slug: token_from(app, slug, salt="signature-confirm"),
        lambda app, slug: token_from(app, "another-petition"),
        lambda app, slug: token_from(app, slug, age=25 * HOUR),
    ],
    ids=["missing", "garbage", "other-secret", "other-salt", "other-petition", "expired"],
)
def test_forged_or_expired_embed_tokens_are_refused_and_store_nothing(app, petition, forge):
    data = embed_form(app, petition.slug) | embed_fields()
    token = forge(app, petition.slug)
    if token is None:
        del data["embed_token"]
    else:
        data["embed_token"] = token

    response = app.test_client().post(f"/p/{petition.slug}/embed/sign", data=data)

    assert response.status_code == 400
    assert "nothing was signed" in response.get_data(as_text=True)
    assert signatures(app) == []


def test_a_visitor_whose_form_grew_old_can_sign_with_the_form_they_get_back(app, petition):
    data = embed_form(app, petition.slug) | embed_fields()
    data["embed_token"] = token_from(app, petition.slug, age=25 * HOUR)
    refused = app.test_client().post(f"/p/{petition.slug}/embed/sign", data=data)
    assert refused.status_code == 400
    again = hidden_inputs(refused.get_data(as_text=True))
    assert again["embed_token"] != data["embed_token"]

    response = app.test_client().post(f"/p/{petition.slug}/embed/sign", data=data | again)

    assert response.status_code == 303
    assert [row.email for row in signatures(app)] == ["ana@example.org"]


def test_a_token_some_hours_old_is_still_good(app, petition):
    data = embed_form(app, petition.slug) | embed_fields()
    data["embed_token"] = token_from(app, petition.slug, age=23 * HOUR)
    assert app.test_client().post(f"/p/{petition.slug}/embed/sign", data=data).status_code == 303


@pytest.mark.parametrize("origin", ["https://attacker.example", "null", "http://localhost.attacker.example"])
def test_a_post_from_another_site_is_refused_even_with_a_good_token(app, petition, origin):
    response = embed_sign(app, petition.slug, headers={"Origin": origin})
    assert response.status_code == 400
    assert signatures(app) == []


@pytest.mark.parametrize("origin", ["http://localhost", None])
def test_a_post_from_the_widget_itself_is_accepted(app, petition, origin):
    headers = {"Origin": origin} if origin else {}
    assert embed_sign(app, petition.slug, headers=headers).status_code == 303


def test_the_origin_named_by_base_url_is_accepted(make_app, petition):
    other = make_app(BASE_URL="https://sign.example.org")
    response = embed_sign(other, petition.slug, headers={"Origin": "https://sign.example.org"})
    assert response.status_code == 303


def test_an_address_signs_once_whether_through_the_widget_or_the_page(app, client, petition):
    assert embed_sign(app, petition.slug).status_code == 303
    again = embed_sign(app, petition.slug, email="ANA@example.org", name="Ana Again")
    assert again.location == f"/p/{petition.slug}/embed/thanks?result=already"
    assert sign(client, petition.slug, **valid_fields(email="ana@example.org")).status_code == 303

    assert [(row.name, row.source) for row in signatures(app)] == [("Ana Quispe", "embed")]
    thanks = app.test_client().get(again.location).get_data(as_text=True)
    assert "already signed" in thanks
    counts = app.test_client().get(f"/api/v1/petitions/{petition.slug}/count").json["counts"]
    assert counts["total"] == 1


def test_embed_honeypot_stores_nothing_but_answers_like_success(app, petition):
    response = embed_sign(app, petition.slug, homepage="http://spam.example")
    assert response.status_code == 303
    assert response.location == f"/p/{petition.slug}/embed/thanks?result=signed"
    assert signatures(app) == []


def test_embed_honeypot_is_hidden_from_people_and_screen_readers(app, petition):
    html = app.test_client().get(f"/p/{petition.slug}/embed").get_data(as_text=True)
    [trap] = [e for e in parse_html(html).elements if e["attrs"].get("name") == "homepage"]
    assert trap["attrs"]["tabindex"] == "-1"
    assert re.search(r'<div class="hp" aria-hidden="true">\s*<label for="homepage"', html)


def test_embed_signing_is_rate_limited(make_app, petition):
    limited = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
        RATELIMIT_SIGN="2 per minute",
    )
    statuses = [embed_sign(limited, petition.slug, email=f"n{n}@example.org").status_code for n in range(3)]
    assert statuses == [303, 303, 429]
    assert len(signatures(limited)) == 2


def test_embed_on_a_petition_that_confirms_by_email_asks_to_check_the_inbox(app, bundled_petition):
    response = embed_sign(app, bundled_petition.slug)

    assert response.location == f"/p/{bundled_petition.slug}/embed/thanks?result=check-email"
    [stored] = signatures(app)
    assert (stored.status, stored.source) == (Signature.PENDING, "embed")
    assert "Check your inbox" in app.test_client().get(response.location).get_data(as_text=True)


def test_embed_of_a_closed_petition_has_no_form_and_takes_no_signature(app, petition):
    data = embed_form(app, petition.slug) | embed_fields()
    with app.app_context():
        stored = db.session.scalar(db.select(Petition).where(Petition.slug == petition.slug))
        stored.closes_at = dt.datetime(2020, 1, 1)
        db.session.commit()

    html = app.test_client().get(f"/p/{petition.slug}/embed").get_data(as_text=True)
    assert "<form" not in html
    assert "closed" in html
    response = app.test_client().post(f"/p/{petition.slug}/embed/sign", data=data)
    assert response.status_code == 303
    assert signatures(app) == []


# Framing


@pytest.mark.parametrize(
    "request_of",
    [
        lambda app, slug: app.test_client().get(f"/p/{slug}/embed"),
        lambda app, slug: app.test_client().get(f"/p/{slug}/embed/thanks"),
        lambda app, slug: embed_sign(app, slug, name=""),
        lambda app, slug: app.test_client().post(f"/p/{slug}/embed/sign", data=embed_fields()),
    ],
    ids=["widget", "thanks", "errors", "refused"],
)
def test_the_widget_and_its_answers_may_be_framed_by_any_site(app, petition, request_of):
    response = request_of(app, petition.slug)
    assert response.status_code in (200, 400, 422)
    assert is_frameable(response)


@pytest.mark.parametrize(
    "path",
    [
        "/p/{slug}",
        "/p/{slug}/thanks",
        "/p/{slug}/signatories",
        "/api/v1/petitions/{slug}/count",
        "/admin/login",
    ],
)
def test_other_pages_may_not_be_framed(client, petition, path):
    response = client.get(path.format(slug=petition.slug))
    assert frame_ancestors(response) == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_refused_main_sign_post_may_not_be_framed(client, petition):
    response = client.post(f"/p/{petition.slug}/sign", data=valid_fields())
    assert response.status_code == 400
    assert frame_ancestors(response) == "'none'"


# The organizers' snippet


@pytest.mark.parametrize("base_url", [None, "https://sign.example.org"])
def test_dashboard_offers_an_iframe_snippet_to_copy(make_app, organizer, petition, base_url):
    other = make_app(BASE_URL=base_url)
    client = other.test_client()
    login(client)
    html = client.get(f"/admin/p/{petition.slug}").get_data(as_text=True)

    [area] = [
        e
        for e in parse_html(html).elements
        if e["tag"] == "textarea" and e["attrs"].get("id") == "embed-snippet"
    ]
    assert "readonly" in area["attrs"]
    snippet = "".join(area["text"])
    origin = base_url or "http://localhost"
    assert snippet.startswith(f'<iframe src="{origin}/p/{petition.slug}/embed" title="{petition.title}"')
    assert snippet.endswith("></iframe>")
    assert 'data-copy="#embed-snippet"' in html
    assert 'for="embed-snippet"' in html


# The API: OSDI names and the count


def test_api_gives_osdi_names_beside_the_contract_fields(app, client, petition):
    store_signature(app, petition.slug)
    store_signature(app, petition.slug, kind=Signature.ORGANIZATION, contact_name="Rosa")
    data = client.get(f"/api/v1/petitions/{petition.slug}").json
    [item] = client.get("/api/v1/petitions").json["petitions"]

    for answer in (data, item):
        assert answer["total_signatures"] == answer["counts"]["total"] == 2
        assert answer["browser_url"] == answer["url"] == f"http://localhost/p/{petition.slug}"
        assert answer["identifiers"] == [f"petition:{petition.slug}"]
        assert answer["origin_system"] == "solidarity-petition"
        for key in ("created_date", "modified_date"):
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", answer[key])
            assert abs(dt.datetime.fromisoformat(answer[key]) - dt.datetime.now(dt.UTC)) < dt.timedelta(
                hours=1
            )


def test_count_endpoint_gives_only_the_counts(app, client, petition):
    store_signature(app, petition.slug)
    store_signature(app, petition.slug, status=Signature.PENDING)
    response = client.get(f"/api/v1/petitions/{petition.slug}/count")
    assert response.status_code == 200
    assert response.json == {
        "slug": petition.slug,
        "total_signatures": 1,
        "counts": {"total": 1, "individuals": 1, "organizations": 0},
    }
    assert client.get("/api/v1/petitions/no-such-petition/count").status_code == 404


# Caching and CORS

CACHED_PATHS = {
    "/api/v1/petitions": 5,
    "/api/v1/petitions/{slug}": 5,
    "/api/v1/petitions/{slug}/count": 5,
    "/api/v1/openapi.yaml": 3600,
    "/p/{slug}/qr.svg": 3600,
    "/p/{slug}/embed": 5,
}


@pytest.mark.parametrize(("path", "max_age"), CACHED_PATHS.items())
def test_public_answers_carry_cache_control_and_an_etag_and_answer_304(client, petition, path, max_age):
    url = path.format(slug=petition.slug)
    first = client.get(url)
    assert first.status_code == 200
    assert first.cache_control.public
    assert first.cache_control.max_age == max_age
    etag = first.headers["ETag"]

    again = client.get(url, headers={"If-None-Match": etag})

    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert client.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200


@pytest.mark.parametrize(
    "path", ["/api/v1/petitions/{slug}", "/api/v1/petitions/{slug}/count", "/p/{slug}/embed"]
)
def test_a_new_signature_changes_the_etag_of_the_counts(app, client, petition, path):
    url = path.format(slug=petition.slug)
    etag = client.get(url).headers["ETag"]
    store_signature(app, petition.slug)
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.headers["ETag"] != etag


def test_embed_varies_by_language(client, petition):
    vary = client.get(f"/p/{petition.slug}/embed").headers["Vary"]
    assert "Accept-Language" in vary


API_PATHS = [
    "/api/v1/petitions",
    "/api/v1/petitions/{slug}",
    "/api/v1/petitions/{slug}/count",
    "/api/v1/openapi.yaml",
    "/api/v1/petitions/no-such-petition",
]


@pytest.mark.parametrize("path", API_PATHS)
def test_api_may_be_read_by_scripts_on_any_site(client, petition, path):
    response = client.get(path.format(slug=petition.slug), headers={"Origin": "https://other.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]


def test_api_answers_a_cors_preflight(client, petition):
    response = client.options(
        f"/api/v1/petitions/{petition.slug}/count",
        headers={
            "Origin": "https://other.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert "If-None-Match" in response.headers["Access-Control-Allow-Headers"]


@pytest.mark.parametrize("path", ["/p/{slug}", "/p/{slug}/embed", "/admin/login"])
def test_pages_outside_the_api_are_not_opened_to_other_sites(client, petition, path):
    assert "Access-Control-Allow-Origin" not in client.get(path.format(slug=petition.slug)).headers


# The OpenAPI description

TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "boolean": bool,
    "number": (int, float),
}


def resolve(spec, schema):
    while "$ref" in schema:
        node = spec
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def check(spec, schema, value, where="$"):
    """Assert that ``value`` has the type and every required field ``schema`` documents."""
    schema = resolve(spec, schema)
    for part in schema.get("allOf", []):
        check(spec, part, value, where)
    kind = schema.get("type")
    if kind:
        assert isinstance(value, TYPES[kind]), f"{where} is not {kind}: {value!r}"
        assert kind == "boolean" or not isinstance(value, bool), f"{where} is a boolean"
    if "const" in schema:
        assert value == schema["const"], where
    if isinstance(value, dict):
        missing = set(schema.get("required", ())) - set(value)
        assert not missing, f"{where} lacks {sorted(missing)}"
        properties = schema.get("properties", {})
        for name, item in value.items():
            if name in properties:
                check(spec, properties[name], item, f"{where}.{name}")
            elif isinstance(schema.get("additionalProperties"), dict):
                check(spec, schema["additionalProperties"], item, f"{where}.{name}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            check(spec, schema["items"], item, f"{where}[{index}]")


@pytest.fixture
def spec():
    return yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))


def test_openapi_file_is_served_by_the_api(client, spec):
    response = client.get("/api/v1/openapi.yaml")
    assert response.status_code == 200
    assert response.mimetype == "application/yaml"
    assert yaml.safe_load(response.get_data(as_text=True)) == spec
    assert spec["openapi"].startswith("3.1")


def test_every_api_route_is_documented(app, spec):
    [server] = spec["servers"]
    routes = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule).removeprefix(server["url"])
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
    }
    assert routes == set(spec["paths"])


def test_every_documented_path_answers_with_the_documented_fields(app, client, petition, spec):
    store_signature(app, petition.slug, country="PE")
    store_signature(app, petition.slug, country="AR", kind=Signature.ORGANIZATION, contact_name="Rosa")
    [server] = spec["servers"]
    for path, item in spec["paths"].items():
        url = server["url"] + path.replace("{slug}", petition.slug)
        response = client.get(url)
        assert response.status_code == 200, url
        documented = item["get"]["responses"]["200"]
        [media_type] = documented["content"]
        assert response.mimetype == media_type, url
        if media_type == "application/json":
            check(spec, documented["content"][media_type]["schema"], response.json, url)
        for header in documented.get("headers", {}):
            assert header in response.headers, f"{url} lacks {header}"

    missing = client.get(server["url"] + "/petitions/no-such-petition")
    not_found = resolve(spec, spec["paths"]["/petitions/{slug}"]["get"]["responses"]["404"])
    check(spec, not_found["content"]["application/json"]["schema"], missing.json)
