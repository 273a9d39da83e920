"""The sign form as a page and a post see it: the fields it renders, what it accepts and
refuses, in which language it speaks, and the defaults it starts from."""

import unicodedata

import pytest
from werkzeug.datastructures import MultiDict

from petition.signing.forms import UNPRINTABLE, UNPRINTABLE_IN_TEXT, SignatureForm

from .conftest import valid_fields

FIELDS = (
    "kind",
    "name",
    "email",
    "country",
    "city",
    "affiliation",
    "contact_name",
    "website",
    "comment",
    "public",
    "updates",
    "source",
    "homepage",
)


def post(**fields) -> MultiDict:
    return MultiDict({key: value for key, value in fields.items() if value is not None})


def test_an_empty_form_renders_every_field_with_its_defaults(app):
    with app.test_request_context("/"):
        form = SignatureForm()
        assert [field.name for field in form] == list(FIELDS)
        assert all(f'name="{name}"' in str(form[name]()) for name in FIELDS)

        # Publishing a name needs an active yes: both boxes start unticked.
        assert form.public.data is False and "checked" not in str(form.public())
        assert form.updates.data is False and "checked" not in str(form.updates())
        assert form.kind.data == "individual"
        assert 'checked id="kind-0" name="kind" type="radio" value="individual"' in str(form.kind())
        assert form.name.data is None
        assert str(form.country()).startswith('<select id="country" name="country"><option value="">Choose a')
        assert "selected" not in str(form.country())


def test_the_form_builds_from_the_posted_body(app):
    """Built without arguments, the form reads the request's form body."""
    with app.test_request_context("/", method="POST", data=valid_fields(name="  Ana   Quispe ")):
        form = SignatureForm()
        assert form.validate() is True
        assert form.signature_fields() == {
            "kind": "individual",
            "name": "Ana Quispe",
            "email": "ana@example.org",
            "country": "PE",
            "city": "Cusco",
            "affiliation": "",
            "contact_name": "",
            "website": "",
            "comment": "",
            "public": True,
            "updates": False,
            "source": "",
        }


def test_an_unticked_box_is_not_consent(app):
    with app.test_request_context("/", method="POST"):
        form = SignatureForm(formdata=post(**valid_fields(public=None)))
        assert form.validate() is True
        assert form.signature_fields()["public"] is False


def test_refusals_name_their_field(app):
    data = post(**valid_fields(kind="bogus", name="", email="not an address", country="XX"))
    with app.test_request_context("/", method="POST"):
        form = SignatureForm(formdata=data)
        assert form.validate() is False
        assert form.errors == {
            "kind": ["Not a valid choice."],
            "name": ["Enter your name, or your organization's name."],
            "email": ["Enter a valid email address, like name@example.org."],
            "country": ["Choose a country from the list."],
        }


@pytest.mark.parametrize(
    ("lang", "label", "choose", "invalid_choice", "no_email"),
    [
        ("en", "Name", "Choose a country", "Not a valid choice.", "Enter an email address."),
        ("es", "Nombre", "Elige un país", "Opción inválida.", "Escribe un correo electrónico."),
    ],
)
def test_the_form_speaks_the_requests_language(app, lang, label, choose, invalid_choice, no_email):
    """Its labels, its choices, its own messages and WTForms' messages alike."""
    with app.test_request_context(f"/?lang={lang}", method="POST"):
        form = SignatureForm(formdata=post(**valid_fields(kind="bogus", email="")))
        assert form.ui_language == lang
        assert form.validate() is False
        assert str(form.name.label.text) == label
        assert f">{choose}</option>" in str(form.country())
        assert form.errors["kind"] == [invalid_choice]
        assert form.errors["email"] == [no_email]


def test_two_forms_share_nothing_a_request_brings(app):
    with app.test_request_context("/", method="POST"):
        first = SignatureForm(formdata=post(**valid_fields(name="Ana Quispe", email="ana@example.org")))
        second = SignatureForm(formdata=post(**valid_fields(name="", email="rosa@example.org")))

        assert first.validate() is True
        assert second.validate() is False
        assert (first.name.data, second.name.data) == ("Ana Quispe", "")
        assert first.name.errors == [] and second.name.errors
        assert (first.email.data, second.email.data) == ("ana@example.org", "rosa@example.org")

        third = SignatureForm(formdata=None)
        assert third.name.data is None and not third.name.errors
        assert third.public.data is False


def test_unprintable_characters_are_unicodes_control_surrogate_and_private_use_ones():
    for code in range(0x110000):
        char = chr(code)
        refused = unicodedata.category(char) in ("Cc", "Cs", "Co") or char == "\ufffd"
        assert bool(UNPRINTABLE.search(char)) is refused, hex(code)
        assert bool(UNPRINTABLE_IN_TEXT.search(char)) is (refused and char not in "\t\n\r"), hex(code)
