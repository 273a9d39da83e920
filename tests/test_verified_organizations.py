"""Verified organizations: those that confirm from an address at their website's domain are
marked verified, approved at once where the petition allows it, and marked on the public list."""

import pytest

from petition.extensions import db as _db
from petition.models import Petition, Signature
from petition.signing import tokens

from .conftest import csrf_token, login, organization_fields, sign, signatures, valid_fields
from .support import texts
from .test_counts import emailed_link_post, token_for


def sign_and_confirm(app, client, slug, **fields):
    sign(client, slug, **fields)
    [signature] = [s for s in signatures(app) if s.email_key == fields["email"].lower()]
    response = emailed_link_post(client, f"/confirm/{token_for(app, signature.id, tokens.CONFIRM)}")
    assert response.status_code == 200
    return next(s for s in signatures(app) if s.id == signature.id)


@pytest.mark.parametrize(
    ("email", "website", "verified"),
    [
        ("contact@sutep.example.org", "https://sutep.example.org", True),
        ("contact@sutep.example.org", "https://www.sutep.example.org/about", True),
        ("contact@lima.sutep.example.org", "sutep.example.org", True),
        ("Contact@SUTEP.example.org", "https://sutep.example.org", True),
        ("contact@example.org", "https://sutep.example.org", False),  # the parent domain
        ("contact@sutep-example.org", "https://example.org", False),
        ("contact@notsutep.example.org.evil.example", "https://sutep.example.org", False),
        ("sutep@gmail.com", "https://gmail.com", False),  # anyone may have an address there
        ("someone@anyone.co.uk", "https://co.uk", False),  # a public suffix
        ("contact@sutep.example.org", "", False),
    ],
)
def test_an_organization_confirming_from_its_websites_domain_is_verified(
    app, client, bundled_petition, email, website, verified
):
    signature = sign_and_confirm(
        app, client, bundled_petition.slug, **organization_fields(email=email, website=website)
    )
    assert signature.verified is verified


def test_verified_organizations_are_approved_at_once(app, client, bundled_petition):
    verified = sign_and_confirm(app, client, bundled_petition.slug, **organization_fields())
    other = sign_and_confirm(
        app, client, bundled_petition.slug, **organization_fields(email="union@mail.example.net")
    )

    assert (verified.verified, verified.status) == (True, Signature.CONFIRMED)
    assert (other.verified, other.status) == (False, Signature.AWAITING_APPROVAL)


def test_a_petition_may_keep_verified_organizations_waiting(app, client, bundled_petition):
    with app.app_context():
        _db.session.get(Petition, bundled_petition.id).approve_verified_organizations = False
        _db.session.commit()

    signature = sign_and_confirm(app, client, bundled_petition.slug, **organization_fields())

    assert (signature.verified, signature.status) == (True, Signature.AWAITING_APPROVAL)


def test_without_confirmation_nothing_is_verified(app, client, petition):
    sign(client, petition.slug, **organization_fields())

    [signature] = signatures(app)
    assert (signature.status, signature.verified) == (Signature.CONFIRMED, False)


def test_individuals_are_never_verified(app, client, bundled_petition):
    fields = valid_fields(email="ana@sutep.example.org", website="https://sutep.example.org")
    assert sign_and_confirm(app, client, bundled_petition.slug, **fields).verified is False


def test_the_public_list_says_verified_in_words(app, client, bundled_petition):
    sign_and_confirm(app, client, bundled_petition.slug, **organization_fields(name="Verified Union"))
    with app.app_context():
        _db.session.get(Petition, bundled_petition.id).organizations_need_approval = False
        _db.session.commit()
    sign_and_confirm(
        app,
        client,
        bundled_petition.slug,
        **organization_fields(name="Other Union", email="union@mail.example.net"),
    )

    html = client.get(f"/p/{bundled_petition.slug}/signatories").get_data(as_text=True)
    listed = [item for item in texts(html, "signatory") if "Union" in item]
    assert sorted(listed) == ["Other Union Cusco, Peru", "Verified Union ✓ verified Cusco, Peru"]


def test_the_editor_turns_the_automatic_approval_off(app, client, organizer, bundled_petition):
    login(client)
    page = client.get(f"/admin/p/{bundled_petition.slug}/edit")
    assert page.status_code == 200
    assert 'name="approve_verified_organizations"' in page.get_data(as_text=True)
    with app.app_context():
        petition = _db.session.get(Petition, bundled_petition.id)
        data = {
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "title": petition.title,
            "slug": petition.slug,
            "body": petition.body,
            "goal": petition.goal,
            "retention_days": petition.retention_days,
            "requires_confirmation": "y",
            "organizations_need_approval": "y",
            "save": "Save",
        }
    response = client.post(f"/admin/p/{bundled_petition.slug}/edit", data=data)

    assert response.status_code == 303
    with app.app_context():
        assert _db.session.get(Petition, bundled_petition.id).approve_verified_organizations is False


def test_moderators_see_which_organizations_are_verified(app, client, organizer, bundled_petition):
    sign_and_confirm(app, client, bundled_petition.slug, **organization_fields(name="Verified Union"))
    login(client)

    html = client.get(f"/admin/p/{bundled_petition.slug}/signatures").get_data(as_text=True)

    assert texts(html, "signatory-verified") == ["verified"]
