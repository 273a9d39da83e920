"""The request class: form bodies whose bytes are not UTF-8 decode to U+FFFD, which the
forms refuse, instead of keeping the raw %XX text that Werkzeug leaves by default."""

from urllib.parse import parse_qsl

from flask import Request
from werkzeug.formparser import FormDataParser


class ReplacingFormDataParser(FormDataParser):
    def _parse_urlencoded(self, stream, mimetype, content_length, options):
        items = parse_qsl(stream.read().decode("utf-8", "replace"), keep_blank_values=True, errors="replace")
        return stream, self.cls(items), self.cls()


class PetitionRequest(Request):
    form_data_parser_class = ReplacingFormDataParser
