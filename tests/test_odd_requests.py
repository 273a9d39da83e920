"""Odd requests are client errors: a file in any form field, an absurd page number, a far-off or
impossible date in any filter, unknown query parameters, a JSON body where a form is expected.
Every route of the app is swept, anonymously and as an organizer; every answer is below 500,
and one that refuses the input (4xx) says what was wrong."""

import io
import json
import re
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
import yaml

from petition.extensions import db
from petition.models import Petition, Signature
from petition.organizers import invalidation, invitations
from petition.organizers.export_views import XLSX_MIMETYPE
from petition.signing import tokens
from petition.updates import services as updates

from .conftest import login, valid_fields
from .support import store_signature

ABSURD_PAGES = ["99999999999999999999999", "-5", "abc", "1e9"]
ODD_DATES = ["9999-12-31", "0001-01-01", "2023-02-30", "99999-01-01"]
UNKNOWN_PARAMETERS = "foo=bar&page=1&evil=<script>"
# Names that mean something to url_for when a view passes the query string on.
URL_FOR_NAMES = "slug=other&_scheme=javascript&_external=1&_anchor=x&_method=DELETE"
DOWNLOADS = ("organizers.export_csv", "organizers.export_xlsx")
# Forms that only the site's JavaScript posts: the fields it sends.
SCRIPT_FIELDS = {"organizers.preview_body": ["body"], "updates.preview_update": ["body"]}
MESSAGE_PAGE = re.compile(r"<h1[^>]*>[^<]+</h1>\s*<p>\s*[^<\s]")


@pytest.fixture
def stored(app, petition):
    """A petition with a signature (and a real link for each emailed purpose) and a draft update."""
    signature_id = store_signature(app, petition.slug, updates=True, email="odd@example.org")
    with app.test_request_context():
        signature = db.session.get(Signature, signature_id)
        links = {purpose: tokens.make_token(signature, purpose) for purpose in tokens.MAX_AGE_SETTING}
        draft = updates.create_update(db.session.get(Petition, petition.id), "News", "Some news.")
        invited = invitations.invite("invited@example.org", db.session.get(Petition, petition.id), "viewer")
        links["accept"] = invitations.invitation_token(invited)
        db.session.commit()
        draft_id, invited_id = draft.id, invited.id
        # An invalidation that took no signature, for the address of its undo button.
        undoable = invalidation.invalidate(
            db.session.get(Petition, petition.id), {"domain": "none.example"}, "other", "x"
        )
    values = {
        "slug": petition.slug,
        "update_id": draft_id,
        "invalidation_id": undoable.id,
        "filename": "css/site.css",
        "organizer_id": invited_id,
        "language": "en",  # the share picture's
        "number": 1,  # the statement's first version
    }
    return SimpleNamespace(app=app, slug=petition.slug, links=links, values=values)


@pytest.fixture
def site(app, stored, organizer):
    """:func:`stored`, and two clients: one anonymous, one logged in as an organizer."""
    organizer_client = app.test_client()
    assert login(organizer_client).status_code == 303
    stored.clients = {"anonymous": app.test_client(), "organizer": organizer_client}
    return stored


def path_of(rule, site) -> str:
    """The rule's path with each of its arguments filled in from ``site``."""

    def value(match):
        name = match.group(1)
        if name == "token":  # signing.confirm, signing.withdraw_post, ...
            return site.links[rule.endpoint.split(".")[1].split("_")[0]]
        return str(site.values[name])

    return re.sub(r"<(?:[^:>]+:)?(\w+)>", value, rule.rule)


def rules(site, method: str):
    return [rule for rule in site.app.url_map.iter_rules() if method in rule.methods]


def problem_with(response, method: str = "GET") -> str | None:
    """What is wrong with an answer to an odd request: a server error, or a refusal (4xx) that
    does not say why. None when it is a proper answer."""
    data = response.get_data()  # read whole, so a streamed download runs to its end
    response.close()
    if response.status_code >= 500:
        return f"{response.status_code}"
    if response.status_code < 400 or method == "HEAD":
        return None
    if response.is_json:
        return None if (response.get_json() or {}).get("error") else "4xx JSON without an error"
    body = data.decode()
    if response.mimetype == "text/plain":
        return None if body.strip() else "empty 4xx"
    if "error-summary" in body or "error-message" in body or MESSAGE_PAGE.search(body):
        return None
    return f"{response.status_code} without a message"


def sweep(requests) -> list[str]:
    """Send each (client, method, url, options) and list the answers with a problem."""
    problems = []
    for client, method, url, options in requests:
        response = client.open(url, method=method, **options)
        problem = problem_with(response, method)
        if problem:
            problems.append(f"{method} {url[:120]}: {problem}")
    return problems


def get_requests(site, who: str, query: str):
    client = site.clients[who]
    return [(client, "GET", f"{path_of(rule, site)}?{query}", {}) for rule in rules(site, "GET")]


@pytest.mark.parametrize("who", ["anonymous", "organizer"])
@pytest.mark.parametrize("page", ABSURD_PAGES)
def test_an_absurd_page_number_is_never_a_server_error(site, who, page):
    assert sweep(get_requests(site, who, f"page={page}")) == []


@pytest.mark.parametrize("day", ODD_DATES)
def test_a_far_off_or_impossible_date_in_a_filter_is_never_a_server_error(site, day):
    requests = [
        request
        for name in ("since", "until")
        for request in get_requests(site, "organizer", f"{name}={day}&page=1")
    ]
    assert sweep(requests) == []


@pytest.mark.parametrize("day", ODD_DATES)
def test_a_download_refuses_an_odd_date_and_names_it(site, day):
    for download in ("export.csv", "export.xlsx"):
        for name in ("since", "until"):
            response = site.clients["organizer"].get(f"/admin/p/{site.slug}/{download}?{name}={day}")
            assert response.status_code == 400, (download, name)
            assert f"- {name}={day}: " in response.get_data(as_text=True)


@pytest.mark.parametrize("day", ODD_DATES)
def test_the_signature_list_refuses_an_odd_date_beside_its_filter(site, day):
    response = site.clients["organizer"].get(f"/admin/p/{site.slug}/signatures?until={day}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="until-error"' in html
    assert "odd@example.org" not in html, "an invalid filter lists nobody rather than everyone"


def test_the_signature_list_shows_its_nearest_page_for_an_absurd_number(site):
    html = site.clients["organizer"].get(f"/admin/p/{site.slug}/signatures?page=99999999999999999999999").text
    assert "odd@example.org" in html


@pytest.mark.parametrize("day", ODD_DATES)
def test_the_command_line_export_refuses_an_odd_date(stored, runner, day):
    for option in ("--since", "--until"):
        result = runner.invoke(args=["signatures", "export", stored.slug, option, day])
        assert result.exit_code == 2, result.output
        assert isinstance(result.exception, SystemExit), result.exception
        assert f"Invalid value for '{option}'" in result.output


def test_the_command_line_export_takes_a_plausible_range(stored, runner):
    result = runner.invoke(
        args=["signatures", "export", stored.slug, "--since", "1900-01-01", "--until", "2999-12-31"]
    )
    assert result.exit_code == 0, result.output
    assert "odd@example.org" in result.output


@pytest.mark.parametrize("query", [UNKNOWN_PARAMETERS, URL_FOR_NAMES])
def test_unknown_query_parameters_on_organizer_pages_are_ignored(site, query):
    client = site.clients["organizer"]
    for rule in rules(site, "GET"):
        if not rule.rule.startswith("/admin/") or rule.endpoint in DOWNLOADS:
            continue
        response = client.get(f"{path_of(rule, site)}?{query}")
        # 200, or the login page's redirect of a visitor who is logged in already
        assert response.status_code < 400, (rule.rule, response.status_code)
        assert "<script>" not in response.get_data(as_text=True), rule.rule


@pytest.mark.parametrize("download", ["export.csv", "export.xlsx"])
def test_a_download_refuses_an_unknown_filter_and_names_it(site, download):
    response = site.clients["organizer"].get(
        f"/admin/p/{site.slug}/{download}?contry=PE&{UNKNOWN_PARAMETERS}"
    )
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert body.startswith("These download filters are not valid:")
    for name in ("contry=PE", "foo=bar", "page=1", "evil=<script>"):
        assert (
            f"- {name}: There is no such filter. The filters are: kind, status, country, since, until."
            in body
        )
    assert "odd@example.org" not in body


def test_a_download_still_takes_its_filters_and_a_language(site):
    response = site.clients["organizer"].get(
        f"/admin/p/{site.slug}/export.csv?kind=individual&status=&country=pe&since=2000-01-01&until=2999-12-31&lang=es"
    )
    assert response.status_code == 200
    assert "odd@example.org" in response.get_data(as_text=True)


# A file where a form expects text


class PostForms(HTMLParser):
    """The POST forms of a page: their action and the name and value of each control."""

    def __init__(self, page_path: str):
        super().__init__()
        self.page_path = page_path
        self.forms: dict[str, dict] = {}
        self.current = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            action = (attrs.get("action") or self.page_path).split("?")[0]
            self.current = self.forms.setdefault(action, {})
        elif (
            tag in ("input", "select", "textarea", "button")
            and self.current is not None
            and attrs.get("name")
        ):
            self.current.setdefault(attrs["name"], attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None


def post_forms(site, client) -> dict[str, dict]:
    """Every POST form on the HTML pages this client may open, by the path it posts to."""
    forms = {}
    for rule in rules(site, "GET"):
        response = client.get(path_of(rule, site))
        if response.mimetype == "text/html":
            parser = PostForms(response.request.path)
            parser.feed(response.get_data(as_text=True))
            forms = parser.forms | forms
        response.close()
    return forms


def form_posts(site, who: str):
    """For each POST route, and each field of its form: the form with a file in that field."""
    client = site.clients[who]
    forms = post_forms(site, client)
    any_token = next((fields["csrf_token"] for fields in forms.values() if "csrf_token" in fields), "")
    requests = []
    for rule in rules(site, "POST"):
        path = path_of(rule, site)
        fields = forms.get(path) or dict.fromkeys(SCRIPT_FIELDS.get(rule.endpoint, []), "")
        fields = {"csrf_token": any_token} | fields
        if rule.endpoint in ("signing.sign", "signing.embed_sign"):
            fields |= valid_fields(email=f"file.{who}@example.org")
        for name in [*fields, "attachment"]:
            data = fields | {name: (io.BytesIO(b"x"), "x.txt")}
            requests.append((client, "POST", path, {"data": data, "content_type": "multipart/form-data"}))
    return requests


@pytest.mark.parametrize("who", ["anonymous", "organizer"])
def test_a_file_in_any_form_field_is_never_a_server_error(site, who):
    requests = form_posts(site, who)
    assert len({url for _client, _method, url, _options in requests}) == len(rules(site, "POST"))
    assert sweep(requests) == []


@pytest.mark.parametrize("body", ["[1, 2]", '{"name": {"first": "Ana"}, "email": 5}', "null"])
def test_a_json_body_where_a_form_is_expected_is_never_a_server_error(site, body):
    client = site.clients["organizer"]
    forms = post_forms(site, client)
    # The CSRF token in its header, so that the body reaches the forms
    token = next(fields["csrf_token"] for fields in forms.values() if "csrf_token" in fields)
    options = {"data": body, "content_type": "application/json", "headers": {"X-CSRFToken": token}}
    assert sweep([(client, "POST", path_of(rule, site), options) for rule in rules(site, "POST")]) == []


def test_a_file_in_place_of_a_required_field_says_the_field_is_missing(site):
    page = site.clients["anonymous"].get(f"/p/{site.slug}").get_data(as_text=True)
    fields = PostForms(f"/p/{site.slug}")
    fields.feed(page)
    data = fields.forms[f"/p/{site.slug}/sign"] | valid_fields(email="file@example.org")
    data["name"] = (io.BytesIO(b"Ana"), "name.txt")
    response = site.clients["anonymous"].post(
        f"/p/{site.slug}/sign", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert 'id="name-error"' in response.get_data(as_text=True)


# The refusal of a method says which methods the address takes


@pytest.mark.parametrize(
    ("path", "mimetype"),
    [("/p/{slug}", "text/html"), ("/api/v1/petitions/{slug}", "application/json"), ("/healthz", "text/html")],
)
def test_a_refused_method_is_a_405_that_says_which_are_allowed(client, petition, path, mimetype):
    response = client.post(path.format(slug=petition.slug))
    assert response.status_code == 405
    assert response.mimetype == mimetype
    [allow] = response.headers.getlist("Allow")
    assert {"GET", "HEAD"} <= {method.strip() for method in allow.split(",")}
    assert "POST" not in allow
    assert problem_with(response, "POST") is None


def test_a_refused_method_on_a_form_address_allows_post(client, petition):
    response = client.get(f"/p/{petition.slug}/sign")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


# Answers that say exactly what they hold


def test_the_api_lists_countries_largest_first_in_its_json_text(app, client, petition):
    for country, n in {"BR": 1, "CL": 2, "PE": 3, "UY": 1, "AR": 2}.items():
        for _ in range(n):
            store_signature(app, petition.slug, country=country)
    response = client.get(f"/api/v1/petitions/{petition.slug}")
    text = response.get_data(as_text=True)
    by_country = json.loads(text)["by_country"]  # a dict keeps the order of the text
    assert list(by_country.items()) == [("PE", 3), ("AR", 2), ("CL", 2), ("BR", 1), ("UY", 1)]
    assert (
        text.index('"PE"') < text.index('"AR"') < text.index('"CL"') < text.index('"BR"') < text.index('"UY"')
    )
    assert response.mimetype == "application/json"


def test_the_openapi_description_says_countries_come_largest_first(client):
    description = yaml.safe_load(client.get("/api/v1/openapi.yaml").get_data(as_text=True))
    by_country = description["components"]["schemas"]["Petition"]["allOf"][1]["properties"]["by_country"]
    assert "largest first" in " ".join(by_country["description"].split())


def test_the_csv_download_names_its_charset_once(client, organizer, petition):
    login(client)
    response = client.get(f"/admin/p/{petition.slug}/export.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    workbook = client.get(f"/admin/p/{petition.slug}/export.xlsx")
    assert workbook.headers["Content-Type"] == XLSX_MIMETYPE
