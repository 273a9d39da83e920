"""The base of every form: Flask-WTF's, with WTForms' own messages translated from a catalog
loaded once per language (Flask-WTF loads it again on every request)."""

import functools

from babel import support
from flask import has_request_context, request
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path


@functools.cache
def wtforms_translations(locale: str) -> support.Translations:
    """WTForms' own messages in ``locale``, loaded once (Meta.get_translations is its hook)."""
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
