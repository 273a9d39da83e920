"""Forms whose fields are bound by copying a prototype (petition.forms.PrototypeBinding) behave
exactly as forms whose fields WTForms constructs, and share nothing a request brings."""

import unicodedata

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import FieldList, StringField
from wtforms.meta import DefaultMeta

from petition.forms import Form, PrototypeBinding, bound_prototype
from petition.signing.forms import UNPRINTABLE, UNPRINTABLE_IN_TEXT, SignatureForm

from .conftest import valid_fields


class ConstructedSignatureForm(SignatureForm):
    """The sign form with every field constructed by WTForms, as a reference."""

    class Meta:
        bind_field = DefaultMeta.bind_field


def comparable(field) -> dict:
    """A field's attributes, with the objects it holds reduced to what they say."""
    result = {}
    for key, value in vars(field).items():
        if key in ("_form", "meta"):
            continue
        if key == "label":
            value = (value.field_id, str(value.text))
        elif key == "flags":
            value = sorted(vars(value).items())
        elif key in ("validators", "filters"):
            value = [id(item) for item in value]  # the same objects, from the same declaration
        elif key == "choices":
            value = [(choice.value, str(choice.label)) for choice in value]
        elif key == "default" and callable(value):
            value = value()  # a value, or a function giving it: WTForms takes either
        result[key] = value
    return result


def post(**fields) -> MultiDict:
    return MultiDict({key: value for key, value in fields.items() if value is not None})


@pytest.mark.parametrize("lang", ["en", "es"])
def test_copied_fields_equal_constructed_ones(app, lang):
    data = post(**valid_fields(kind="bogus", email="not an address"))
    with app.test_request_context(f"/?lang={lang}", method="POST"):
        copied, constructed = SignatureForm(formdata=data), ConstructedSignatureForm(formdata=data)
        assert copied.validate() is False and constructed.validate() is False

        assert list(copied._fields) == list(constructed._fields)
        for name, field in copied._fields.items():
            assert comparable(field) == comparable(constructed[name]), name
            assert field._form is copied and field.meta is copied.meta
            assert str(field()) == str(constructed[name]()), name
        assert copied.errors == constructed.errors
        assert copied.errors["kind"] == [("Not a valid choice." if lang == "en" else "Opción inválida.")]


def test_two_forms_share_nothing_a_request_brings(app):
    with app.test_request_context("/", method="POST"):
        first = SignatureForm(formdata=post(**valid_fields(name="Ana Quispe", email="ana@example.org")))
        second = SignatureForm(formdata=post(**valid_fields(name="", email="rosa@example.org")))

        assert first.validate() is True
        assert second.validate() is False
        assert (first.name.data, second.name.data) == ("Ana Quispe", "")
        assert first.name.errors == [] and second.name.errors
        assert first.name is not second.name
        assert (first.email.data, second.email.data) == ("ana@example.org", "rosa@example.org")


def test_copied_fields_give_their_defaults_without_an_exception(app):
    """WTForms calls a default and catches the TypeError of a plain value; copies give theirs
    by a call that succeeds, and a form without data holds the declared defaults."""
    with app.test_request_context("/"):
        form = SignatureForm(formdata=None)
        for name, field in form._fields.items():
            assert callable(field.default), name
        assert (form.kind.data, form.public.data, form.updates.data, form.name.data) == (
            "individual",
            False,
            False,
            None,
        )


def test_prototypes_hold_no_request_data(app):
    with app.test_request_context("/", method="POST"):
        form = SignatureForm(formdata=post(**valid_fields(name="", email="ana@example.org")))
        form.validate()
        translations = form.meta.get_translations(form)
        for name, unbound in SignatureForm._unbound_fields:
            prototype = bound_prototype(unbound, name, "", translations)
            request_state = {"data", "raw_data", "errors", "process_errors", "object_data"}
            assert not request_state & set(vars(prototype)), name
            assert prototype._form is None


def test_fields_that_hold_other_fields_are_refused(app):
    class ListForm(Form):
        class Meta(PrototypeBinding):
            csrf = False

        names = FieldList(StringField("Name"), min_entries=1)

    with app.test_request_context("/", method="POST"), pytest.raises(TypeError, match="FieldList"):
        ListForm(formdata=MultiDict())


def test_unprintable_characters_are_unicodes_control_surrogate_and_private_use_ones():
    for code in range(0x110000):
        char = chr(code)
        refused = unicodedata.category(char) in ("Cc", "Cs", "Co") or char == "\ufffd"
        assert bool(UNPRINTABLE.search(char)) is refused, hex(code)
        assert bool(UNPRINTABLE_IN_TEXT.search(char)) is (refused and char not in "\t\n\r"), hex(code)
