"""Signing: validation, one signature per address, races, CSRF, sources."""

import pytest

from petition.extensions import db as _db
from petition.models import Signature

from .conftest import csrf_token, hidden_inputs, organization_fields, sign, signatures, valid_fields
from .support import at_the_same_moment, token_from


def error_beside(html: str, field_id: str) -> bool:
    return f'id="{field_id}-error"' in html


def test_individual_signature_is_stored_and_counted(app, client, petition):
    response = sign(client, petition.slug, **valid_fields(updates="y", comment="¡Fuera Boluarte!"))

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/p/{petition.slug}/thanks?result=signed")
    [row] = signatures(app)
    assert (row.kind, row.name, row.email, row.country, row.city) == (
        "individual",
        "Ana Quispe",
        "ana@example.org",
        "PE",
        "Cusco",
    )
    assert row.public is True and row.updates is True
    assert row.status == Signature.CONFIRMED and row.confirmed_at is not None
    assert row.comment == "¡Fuera Boluarte!"
    assert row.contact_name == "" and row.website == ""


def test_the_thanks_address_follows_the_mount_point(client, petition):
    """The address signing redirects to is built once per worker, but for each mount point."""
    page = client.get(f"/p/{petition.slug}")
    data = hidden_inputs(page.get_data(as_text=True)) | valid_fields()

    mounted = client.post(f"/p/{petition.slug}/sign", data=data, base_url="http://localhost/petitions")
    at_root = client.post(f"/p/{petition.slug}/sign", data=data | {"email": "rosa@example.org"})

    assert mounted.status_code == at_root.status_code == 303
    assert mounted.headers["Location"] == f"/petitions/p/{petition.slug}/thanks?result=signed"
    assert at_root.headers["Location"] == f"/p/{petition.slug}/thanks?result=signed"


def test_organization_signature_keeps_contact_and_website(app, client, petition):
    response = sign(client, petition.slug, **organization_fields(affiliation="ignored"))

    assert response.status_code == 303
    [row] = signatures(app)
    assert row.kind == "organization"
    assert row.contact_name == "Rosa Mamani"
    assert row.website == "https://sutep.example.org"
    assert row.affiliation == "", "affiliation belongs to individuals only"


def test_thank_you_page_offers_sharing(client, petition):
    response = sign(client, petition.slug)
    page = client.get(response.headers["Location"])

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Your signature is counted." in html
    for channel in ("whatsapp", "telegram", "x", "facebook", "bluesky", "email", "link"):
        assert f"source%3D{channel}" in html or f"source={channel}" in html


def test_signers_get_no_cookie_and_a_thanks_page_that_caches_may_share(client, petition):
    """A flash would put the signer's name in a cookie; the result travels in the address."""
    response = sign(client, petition.slug)
    thanks = client.get(response.headers["Location"])

    assert "Set-Cookie" not in response.headers
    assert "Set-Cookie" not in thanks.headers
    assert "Ana Quispe" not in thanks.get_data(as_text=True)
    assert thanks.headers["Cache-Control"].startswith("public")


def test_a_pending_message_keeps_the_thanks_page_private(client, petition):
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "A message for you alone")]

    thanks = client.get(f"/p/{petition.slug}/thanks")

    assert "A message for you alone" in thanks.get_data(as_text=True)
    assert thanks.headers["Cache-Control"] == "private"


def test_unticked_public_box_keeps_the_name_off_the_list(app, client, petition):
    response = sign(client, petition.slug, **valid_fields(public=None))
    client.get(response.headers["Location"])

    [row] = signatures(app)
    assert row.public is False
    listing = client.get(f"/p/{petition.slug}/signatories").get_data(as_text=True)
    assert "Ana Quispe" not in listing


def test_names_are_trimmed_and_spaces_folded(app, client, petition):
    sign(client, petition.slug, **valid_fields(name="   Ana    Quispe  ", city="  Cusco "))

    [row] = signatures(app)
    assert (row.name, row.city) == ("Ana Quispe", "Cusco")


def test_email_is_normalized_by_email_validator(app, client, petition):
    sign(client, petition.slug, **valid_fields(email="  Ana@EXAMPLE.org "))

    [row] = signatures(app)
    assert row.email == "Ana@example.org"
    assert row.email_key == "ana@example.org"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "Enter your name"),
        ({"name": "   "}, "name", "Enter your name"),
        ({"name": "x" * 201}, "name", "at most 200"),
        ({"name": "Ana\x00Quispe"}, "name", "invisible or unreadable"),
        ({"name": "Ana\x1bQuispe"}, "name", "invisible or unreadable"),
        ({"name": "Ana \ufffd Quispe"}, "name", "invisible or unreadable"),
        ({"email": ""}, "email", "Enter an email address"),
        ({"email": "not-an-address"}, "email", "valid email address"),
        ({"email": "ana@"}, "email", "valid email address"),
        ({"email": "ana@example"}, "email", "valid email address"),
        ({"email": "a" * 250 + "@example.org"}, "email", "at most 254"),
        ({"country": ""}, "country", "Choose a country"),
        ({"country": "XX"}, "country", "from the list"),
        ({"country": "Peru"}, "country", "from the list"),
        ({"city": "c" * 101}, "city", "at most 100"),
        ({"affiliation": "a" * 201}, "affiliation", "at most 200"),
        ({"comment": "c" * 501}, "comment", "at most 500"),
        ({"comment": "bad\x07bell"}, "comment", "invisible or unreadable"),
        ({"kind": "robot"}, "kind", "Not a valid choice"),
    ],
)
def test_invalid_individual_is_refused_with_the_error_beside_its_field(
    app, client, petition, overrides, field, message
):
    response = sign(client, petition.slug, **valid_fields(**overrides))

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="error-summary"' in html
    assert error_beside(html, field), f"no error beside {field}"
    assert message in html
    assert signatures(app) == []


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"contact_name": ""}, "contact_name", "contact person"),
        ({"website": "javascript:alert(1)"}, "website", "http:// or https://"),
        ({"website": "ftp://files.example.org"}, "website", "http:// or https://"),
        ({"website": "https://"}, "website", "http:// or https://"),
        ({"website": "https://localhost"}, "website", "http:// or https://"),
        ({"website": "https://example.org:99999"}, "website", "http:// or https://"),
    ],
)
def test_invalid_organization_is_refused_with_the_error_beside_its_field(
    app, client, petition, overrides, field, message
):
    response = sign(client, petition.slug, **organization_fields(**overrides))

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert error_beside(html, field)
    assert message in html
    assert signatures(app) == []


def test_a_bare_domain_becomes_an_https_website(app, client, petition):
    sign(client, petition.slug, **organization_fields(website="sutep.example.org/about"))

    [row] = signatures(app)
    assert row.website == "https://sutep.example.org/about"


def test_errors_keep_what_the_signer_typed(client, petition):
    response = sign(client, petition.slug, **valid_fields(email="nope", name="Ana Quispe"))

    html = response.get_data(as_text=True)
    assert 'value="Ana Quispe"' in html
    assert 'value="nope"' in html


def test_hostile_input_is_escaped_when_re_rendered(client, petition):
    hostile = '"><script>alert(1)</script>'
    response = sign(client, petition.slug, **valid_fields(name=hostile, email="bad"))

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize("email", ["ana@example.org", "ANA@example.org", "Ana@Example.ORG"])
def test_duplicate_email_is_not_counted_twice(app, client, petition, email):
    sign(client, petition.slug, **valid_fields(email="ana@example.org"))
    response = sign(client, petition.slug, **valid_fields(email=email, name="Someone Else"))

    assert response.status_code == 303
    rows = signatures(app)
    assert [row.name for row in rows] == ["Ana Quispe"]
    assert response.headers["Location"].endswith("/thanks?result=already")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "already signed" in page
    assert "Someone Else" not in page


def test_same_email_may_sign_another_petition(app, client, petition, db):
    from petition.petitions.services import load_petition

    other, _ = load_petition({"slug": "another", "title": "Another statement", "body": "Text."})
    db.session.commit()
    sign(client, petition.slug)
    sign(client, "another")

    assert len(signatures(app)) == 2


def test_identical_requests_racing_store_one_row(app, petition):
    """24 clients post the same signature at the same moment: one row, no server error."""
    clients = [app.test_client() for _ in range(24)]
    tokens = [csrf_token(c.get(f"/p/{petition.slug}").get_data(as_text=True)) for c in clients]

    def post(ready, client, token):
        ready()
        response = client.post(f"/p/{petition.slug}/sign", data={"csrf_token": token, **valid_fields()})
        return response.status_code

    statuses = at_the_same_moment(post, list(zip(clients, tokens, strict=True)), timeout=30)

    assert statuses == [303] * len(clients), statuses
    assert len(signatures(app)) == 1


def test_post_without_csrf_token_is_refused(app, client, petition):
    client.get(f"/p/{petition.slug}")
    response = client.post(f"/p/{petition.slug}/sign", data=valid_fields())

    assert response.status_code == 400
    assert signatures(app) == []


HOUR = 3600


@pytest.mark.parametrize(
    "forge",
    [
        lambda app, slug: "not-a-token",
        lambda app, slug: token_from(app, slug, secret="another-secret-key-that-is-long-enough-0123"),
        lambda app, slug: token_from(app, slug, salt="signature-confirm"),
        lambda app, slug: token_from(app, "another-petition"),
        lambda app, slug: token_from(app, slug, age=25 * HOUR),
    ],
    ids=["garbage", "other-secret", "other-salt", "other-petition", "expired"],
)
def test_a_forged_or_old_form_is_refused_and_comes_back_ready_to_send(app, client, petition, forge):
    data = {"csrf_token": forge(app, petition.slug), **valid_fields(name="Rosa Mamani")}

    refused = client.post(f"/p/{petition.slug}/sign", data=data)

    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "nothing was signed" in html
    assert 'value="Rosa Mamani"' in html, "what was typed comes back"
    assert signatures(app) == []
    again = client.post(f"/p/{petition.slug}/sign", data=data | hidden_inputs(html))
    assert again.status_code == 303
    assert [row.name for row in signatures(app)] == ["Rosa Mamani"]


def test_a_form_some_hours_old_is_still_good(app, client, petition):
    data = {"csrf_token": token_from(app, petition.slug, age=23 * HOUR), **valid_fields()}
    assert client.post(f"/p/{petition.slug}/sign", data=data).status_code == 303


@pytest.mark.parametrize("origin", ["https://attacker.example", "null", "http://localhost.attacker.example"])
def test_a_post_from_another_site_is_refused_even_with_a_good_token(app, client, petition, origin):
    token = csrf_token(client.get(f"/p/{petition.slug}").get_data(as_text=True))
    response = client.post(
        f"/p/{petition.slug}/sign", data={"csrf_token": token, **valid_fields()}, headers={"Origin": origin}
    )
    assert response.status_code == 400
    assert signatures(app) == []


def test_a_post_from_this_site_is_taken(app, client, petition):
    token = csrf_token(client.get(f"/p/{petition.slug}").get_data(as_text=True))
    response = client.post(
        f"/p/{petition.slug}/sign",
        data={"csrf_token": token, **valid_fields()},
        headers={"Origin": "http://localhost"},
    )
    assert response.status_code == 303


def test_signing_needs_no_cookie_at_all(app, bundled_petition):
    """In-app browsers of messaging apps may drop cookies: the form works without any."""
    reader, signer = app.test_client(), app.test_client()
    page = reader.get(f"/p/{bundled_petition.slug}")
    assert "Set-Cookie" not in page.headers

    response = signer.post(
        f"/p/{bundled_petition.slug}/sign", data=hidden_inputs(page.get_data(as_text=True)) | valid_fields()
    )

    assert response.status_code == 303
    assert response.headers["Location"].partition("?")[0].endswith("/check-email")
    assert "Set-Cookie" not in response.headers
    assert len(signatures(app)) == 1


def test_signing_by_get_is_not_allowed(client, petition):
    assert client.get(f"/p/{petition.slug}/sign").status_code == 405


def test_signing_an_unknown_petition_is_404(client, petition):
    page = client.get(f"/p/{petition.slug}")
    token = csrf_token(page.get_data(as_text=True))
    response = client.post("/p/no-such-petition/sign", data={"csrf_token": token, **valid_fields()})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("query", "stored"),
    [
        ("?source=whatsapp", "whatsapp"),
        ("?source=Telegram", "telegram"),
        ("?source=<script>", ""),
        ("?source=" + "x" * 41, ""),
        ("", ""),
    ],
)
def test_signature_records_the_source_of_the_link(app, client, petition, query, stored):
    sign(client, petition.slug, page_query=query, **valid_fields())

    [row] = signatures(app)
    assert row.source == stored


def test_signature_records_locale_and_a_hash_of_the_address_not_the_address(app, client, petition):
    sign(client, petition.slug)

    [row] = signatures(app)
    assert row.locale == "en"
    assert len(row.ip_hash) == 64 and "127.0.0.1" not in row.ip_hash


def test_closed_petition_refuses_signatures_politely(app, client, petition, db):
    from petition.models import Petition, utcnow

    db.session.get(Petition, petition.id).closes_at = utcnow()
    db.session.commit()
    page = client.get(f"/p/{petition.slug}").get_data(as_text=True)
    assert "closed" in page
    token = csrf_token(client.get("/admin/login").get_data(as_text=True))
    response = client.post(f"/p/{petition.slug}/sign", data={"csrf_token": token, **valid_fields()})

    assert response.status_code == 303
    assert signatures(app) == []


def test_unique_constraint_holds_without_the_form(app, petition, db):
    """The database refuses a second row for the same address, whatever the code above it does."""
    from sqlalchemy.exc import IntegrityError

    for name in ("First", "Second"):
        db.session.add(
            Signature(
                petition_id=petition.id,
                kind="individual",
                name=name,
                email="same@example.org",
                email_key="same@example.org",
                country="PE",
            )
        )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_unknown_kind_is_refused_by_the_database(app, petition, db):
    from sqlalchemy.exc import IntegrityError

    db.session.add(
        Signature(
            petition_id=petition.id,
            kind="robot",
            name="R",
            email="r@example.org",
            email_key="r@example.org",
            country="PE",
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


__all__ = ["_db"]
