"""The base of every form: Flask-WTF's, with WTForms' own messages translated from a catalog
loaded once per language (Flask-WTF loads it again on every request); and, for a form built on
every request of a spike, fields bound once and copied."""

import functools

from babel import support
from flask import has_request_context, request
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.core import UnboundField
from wtforms.i18n import messages_path
from wtforms.meta import DefaultMeta


@functools.cache
def wtforms_translations(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class Form(FlaskForm):
    """A form that speaks the request's language (``ui_language``, read once when it is built:
    its messages, its choices, and what a signature records)."""

    def __init__(self, *args, **kwargs):
        self.ui_language = str(get_locale())
        if not args and "formdata" not in kwargs:
            kwargs["formdata"] = submitted_fields()
        super().__init__(*args, **kwargs)

    class Meta:
        def get_translations(self, form):
            return wtforms_translations(form.ui_language)


def submitted_fields():
    """The fields of the form this request submits, or None when it submits none.

    Only the form body: Flask-WTF would hand the fields uploaded files and a JSON body too, but
    every field here takes text, so a file or a JSON value in a field's place counts as no value
    (a required field then says it is missing) instead of reaching code that expects text.
    """
    if has_request_context() and request.method in ("POST", "PUT", "PATCH", "DELETE") and request.form:
        return request.form
    return None


# The plain fields a prototype may stand for: their state after binding depends only on the
# field's declaration, its name, prefix and translations; everything a request brings (data,
# raw_data, errors) is set on the copy by process() and validate(), never changed in place.
PLAIN_FIELDS = (StringField, TextAreaField, HiddenField, BooleanField, RadioField, SelectField)


@functools.cache
def bound_prototype(unbound_field: UnboundField, name: str, prefix: str, translations) -> Field:
    """``unbound_field`` bound as WTForms binds it, but to no form: the model of its copies.

    A default that is a plain value becomes a function returning it. WTForms accepts either, and
    tells them apart by calling the default and catching the ``TypeError`` of a value: an
    exception raised and caught for every field of every form built, 3-5 % of a signature.
    """
    if unbound_field.field_class not in PLAIN_FIELDS:
        raise TypeError(f"{unbound_field.field_class.__name__} cannot be bound from a prototype")
    field = unbound_field.bind(
        form=None, name=name, prefix=prefix, translations=translations, _meta=DefaultMeta()
    )
    if not callable(field.default):
        field.default = functools.partial(same, field.default)
    return field


def same(value):
    """``value`` itself: with :func:`functools.partial`, a plain default as a function."""
    return value


class PrototypeBinding:
    """A form ``Meta`` mixin that binds each field by copying a prototype bound once per name,
    prefix and language, instead of constructing it again (WTForms' ``bind_field`` hook).

    Building the 13 fields of the sign form was a tenth of a signature's time; a copy of a field's
    attributes costs a fraction of its constructor. Only the plain fields of
    :data:`PLAIN_FIELDS` are accepted: a field holding other fields or entries would share them.
    """

    def bind_field(self, form, unbound_field, options):
        name, prefix, translations = options["name"], options["prefix"], options["translations"]
        prototype = bound_prototype(unbound_field, name, prefix, translations)
        field = object.__new__(type(prototype))
        field.__dict__.update(prototype.__dict__)
        field._form = form
        field.meta = form.meta
        return field
