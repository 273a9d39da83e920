"""Nothing published without an active yes, and one address for one person: the public box
starts unticked and says what it publishes, the widget and the privacy page say who keeps what
and for how long, names carry no hidden characters, and lookalike addresses are refused."""

import pytest

from petition.mail.sender import send_due

from .conftest import hidden_inputs, organization_fields, sign, signatures, valid_fields
from .support import parse_html, texts

DAY = 24 * 3600


def element_with(html: str, tag: str, **attrs) -> dict:
    """The one ``tag`` element of the page whose attributes include ``attrs``."""
    [found] = [
        element
        for element in parse_html(html).elements
        if element["tag"] == tag and all(element["attrs"].get(key) == value for key, value in attrs.items())
    ]
    return found


def text_of(element: dict) -> str:
    return " ".join("".join(element["text"]).split())


def described_by(html: str, element: dict) -> str:
    """The text that assistive technology reads out with ``element`` (its aria-describedby)."""
    ids = element["attrs"]["aria-describedby"].split()
    return " ".join(text_of(element_with(html, "div", id=id_)) for id_ in ids)


def widget_sign(app, slug, **fields):
    """Post the widget's form from a client that holds no session, as a framed widget does."""
    page = app.test_client().get(f"/p/{slug}/embed")
    data = hidden_inputs(page.get_data(as_text=True)) | fields
    return app.test_client().post(f"/p/{slug}/embed/sign", data=data)


def listing(client, slug) -> str:
    return client.get(f"/p/{slug}/signatories").get_data(as_text=True)


# The public box


@pytest.mark.parametrize(
    ("path", "said"),
    [
        (
            "/p/{slug}",
            [
                "as an individual, the public list shows your name and country, and your city and title",
                "for an organization, the public list and the printed petition show its name and country",
                "Your email address, comment, website and contact person are never shown",
                "Unticked, your signature is counted without your name",
            ],
        ),
        (
            "/p/{slug}/embed",
            [
                "The list shows your name and country",
                "Unticked, you are counted without your name",
            ],
        ),
    ],
)
def test_the_public_box_starts_unticked_and_says_what_it_publishes(client, petition, path, said):
    html = client.get(path.format(slug=petition.slug)).get_data(as_text=True)

    box = element_with(html, "input", name="public")
    assert box["attrs"]["type"] == "checkbox"
    assert "checked" not in box["attrs"]
    hint = described_by(html, box)
    for words in said:
        assert words in hint


def test_the_public_list_shows_what_the_box_says_and_nothing_more(app, client, petition):
    sign(
        client,
        petition.slug,
        **valid_fields(affiliation="Teacher, SUTEP", comment="A private comment", email="ana@example.org"),
    )
    sign(
        client,
        petition.slug,
        **organization_fields(city="Puno", comment="Another comment", website="https://union.example.org"),
    )

    shown = " ".join(texts(listing(client, petition.slug), "signatory"))
    for public in (
        "Ana Quispe",
        "Teacher, SUTEP",
        "Cusco",
        "Peru",
        "Sindicato Unitario de Trabajadores",
        "Puno",
    ):
        assert public in shown
    html = listing(client, petition.slug)
    for private in (
        "A private comment",
        "Another comment",
        "ana@example.org",
        "union.example.org",
        "Rosa Mamani",
    ):
        assert private not in html


@pytest.mark.parametrize("form", ["page", "widget"])
def test_a_signature_without_the_public_box_is_counted_but_not_listed(app, client, petition, form):
    if form == "page":
        response = sign(client, petition.slug, **valid_fields(public=None))
    else:
        response = widget_sign(app, petition.slug, name="Ana Quispe", email="ana@example.org", country="PE")

    assert response.status_code == 303
    [row] = signatures(app)
    assert row.public is False
    assert texts(listing(client, petition.slug), "signatory") == []
    assert client.get(f"/api/v1/petitions/{petition.slug}").get_json()["counts"]["total"] == 1


# What the widget and the privacy page say


def test_the_widget_says_the_address_stays_private_and_links_to_the_privacy_page(client, petition):
    html = client.get(f"/p/{petition.slug}/embed").get_data(as_text=True)

    link = element_with(html, "a", href="/privacy")
    # Framed on another site: the page opens in a tab of its own, without a handle on the widget.
    assert link["attrs"]["target"] == "_blank"
    assert "noopener" in link["attrs"]["rel"].split()
    [notice] = texts(html, "embed-privacy")
    assert "Your email address is never shown" in notice
    assert client.get("/privacy").status_code == 200


@pytest.mark.parametrize(
    ("config", "holder", "href"),
    [
        (
            {
                "DATA_CONTROLLER_NAME": "Red Solidaria Perú",
                "DATA_CONTROLLER_CONTACT": "datos@red.example.org",
            },
            "Red Solidaria Perú",
            "mailto:datos@red.example.org",
        ),
        (
            {
                "DATA_CONTROLLER_NAME": "Red Solidaria",
                "DATA_CONTROLLER_CONTACT": "https://red.example.org/privacy",
            },
            "Red Solidaria",
            "https://red.example.org/privacy",
        ),
        (
            {"MAIL_FROM": "petition@sign.example.org"},
            "the organizers of this site",
            "mailto:petition@sign.example.org",
        ),
    ],
)
def test_the_privacy_page_names_who_holds_the_data_and_how_to_reach_them(make_app, config, holder, href):
    html = make_app(**config).test_client().get("/privacy").get_data(as_text=True)

    [who] = texts(html, "statement")
    assert f"Your data is held by {holder}," in who
    element_with(html, "a", href=href)


def test_the_data_controller_is_read_from_the_environment(make_app, monkeypatch):
    monkeypatch.setenv("DATA_CONTROLLER_NAME", "Coordinadora Solidaria")
    monkeypatch.setenv("DATA_CONTROLLER_CONTACT", "privacy@coordinadora.example.org")

    html = make_app().test_client().get("/privacy").get_data(as_text=True)

    assert "Coordinadora Solidaria" in html
    element_with(html, "a", href="mailto:privacy@coordinadora.example.org")


def test_the_privacy_page_states_each_period_from_the_configuration(make_app):
    app = make_app(
        CONFIRM_TOKEN_MAX_AGE=3 * DAY,
        PURGE_AFTER_DAYS=91,
        SENT_MAIL_RETENTION_DAYS=14,
    )

    [page] = texts(app.test_client().get("/privacy").get_data(as_text=True), "statement")

    assert "deleted when its confirmation link expires, within 3 days of signing" in page
    assert "91 days after it closes, names, email addresses and everything else" in page
    assert "erased 730 days after it was signed, unless the petition's organizers set another period" in page
    assert "each email we send is deleted 14 days after it was sent" in page
    assert "deleted at once, everywhere, including the emails we sent you" in page
    assert "access logs record neither your IP address nor the links in the emails" in page
    assert "keyed hash of your IP address is kept with your signature until the signature is erased" in page


# Names and text without hidden characters


def error_beside(html: str, field_id: str) -> str:
    """The text of the error message beside the field ``field_id``."""
    return text_of(element_with(html, "p", id=f"{field_id}-error"))


def test_bidi_controls_and_invisible_characters_are_stripped_from_what_is_stored(app, client, petition):
    sign(
        client,
        petition.slug,
        **valid_fields(
            name="Ana\u202eevil",
            city="Cu\u200bsco",
            affiliation="\u2066Teacher\u2069 \u200e",
            comment="\ufeff¡Fuera\u2060 Boluarte!\u061c",
        ),
    )
    sign(
        client,
        petition.slug,
        **organization_fields(name="\u202bSUTEP\u202c", contact_name="Rosa\u200f Mamani"),
    )

    individual, organization = signatures(app)
    assert (individual.name, individual.city, individual.affiliation) == ("Anaevil", "Cusco", "Teacher")
    assert individual.comment == "¡Fuera Boluarte!"
    assert (organization.name, organization.contact_name) == ("SUTEP", "Rosa Mamani")


@pytest.mark.parametrize("name", ["\u200b\u200b", "\u202e", "\ufeff \u2060", "\u3164", "...", "-- !"])
def test_a_name_with_no_letter_or_digit_is_refused_beside_the_name_field(app, client, petition, name):
    response = sign(client, petition.slug, **valid_fields(name=name))

    assert response.status_code == 422
    assert "Enter your name, or your organization's name." in error_beside(
        response.get_data(as_text=True), "name"
    )
    assert signatures(app) == []


def test_an_invisible_contact_person_is_refused_beside_its_field(app, client, petition):
    response = sign(client, petition.slug, **organization_fields(contact_name="\u200b\u200d"))

    assert response.status_code == 422
    assert "contact person" in error_beside(response.get_data(as_text=True), "contact_name")
    assert signatures(app) == []


@pytest.mark.parametrize(
    "name",
    [
        "مهر\u200cانگیز",  # Persian: a zero-width non-joiner between two letters
        "क्\u200dष",  # Devanagari: a joiner after a virama
        "Ana 👩\u200d💻",  # an emoji sequence
    ],
)
def test_a_joiner_inside_a_word_is_kept(app, client, petition, name):
    sign(client, petition.slug, **valid_fields(name=name))

    [row] = signatures(app)
    assert row.name == name


# One address, one person


@pytest.fixture
def mail_app(make_app, smtp):
    return make_app(SMTP_URL=smtp.url, MAIL_FROM="petition@sign.example.org")


@pytest.mark.parametrize(
    ("lookalike", "real"),
    [
        ("e\ufb00@example.org", "eff@example.org"),  # the ligature ff
        ("\u212aate@example.org", "kate@example.org"),  # the Kelvin sign
        ("\uff41\uff4e\uff41@example.org", "ana@example.org"),  # fullwidth letters
        ("ana@\uff45xample.org", "ana@example.org"),  # a fullwidth letter in the domain
        ("x\u00b2@example.org", "x2@example.org"),  # a superscript digit
    ],
)
def test_a_lookalike_address_is_refused_and_leaves_the_real_one_free(
    mail_app, smtp, bundled_petition, lookalike, real
):
    client = mail_app.test_client()
    refused = sign(client, bundled_petition.slug, **valid_fields(email=lookalike))

    assert refused.status_code == 422
    assert "lookalike characters" in error_beside(refused.get_data(as_text=True), "email")
    assert signatures(mail_app) == []

    signed = sign(client, bundled_petition.slug, **valid_fields(email=real))
    assert signed.headers["Location"].partition("?")[0].endswith(f"/p/{bundled_petition.slug}/check-email")
    [row] = signatures(mail_app)
    assert row.email == real
    with mail_app.app_context():
        assert send_due() == (1, 0)
    [message] = smtp.messages
    assert message["To"] == real
    assert "Confirm your signature" in message["Subject"]


def test_sharp_s_and_double_s_are_two_mailboxes(app, client, petition):
    first = sign(client, petition.slug, **valid_fields(email="straße@example.de"))
    second = sign(client, petition.slug, **valid_fields(email="strasse@example.de", name="Rosa Mamani"))

    assert first.status_code == second.status_code == 303
    rows = signatures(app)
    assert [(row.name, row.email) for row in rows] == [
        ("Ana Quispe", "straße@example.de"),
        ("Rosa Mamani", "strasse@example.de"),
    ]
    assert rows[0].email_key != rows[1].email_key


def test_an_address_in_other_capitals_is_the_same_signer(app, client, petition):
    sign(client, petition.slug, **valid_fields(email="álvaro@example.org"))
    response = sign(client, petition.slug, **valid_fields(email="ÁLVARO@Example.org", name="Someone Else"))

    assert response.status_code == 303
    assert [row.name for row in signatures(app)] == ["Ana Quispe"]
    assert "already signed" in client.get(response.headers["Location"]).get_data(as_text=True)
