"""gunicorn's access log without the signers' tokens: the emailed links (confirm, withdraw,
unsubscribe) carry a token that acts on a signature, so their paths are logged without it and
without their query string, as is a Referer that names one. The check-your-email page's query
holds a hint of the signer's address: it is logged without its query string too.

gunicorn.conf.py sets ``logger_class`` to :class:`AccessLogger`.
"""

import re

from gunicorn.glogging import Logger

TOKEN_PATH = re.compile(r"(/(?:confirm|withdraw|unsubscribe)/)[^/?#\s]+")
REDACTED = r"\1[token]"
ADDRESS_HINT_PATH = re.compile(r"/p/[^/?#\s]+/check-email$")
# What gunicorn offers to the log format that holds the request's address or the Referer, with
# the names of the ``{…}e`` (environ) and ``{…}i`` (request header) forms.
ADDRESS_ATOMS = ("r", "U", "q", "{raw_uri}e", "{path_info}e", "{query_string}e")
REFERER_ATOMS = ("f", "{http_referer}e", "{referer}i")


def without_token(address: str) -> str:
    """``address`` (a path, or a whole URL) with the token of an emailed link replaced and the
    query string dropped; any other address unchanged."""
    path, _, _query = address.partition("?")
    redacted, count = TOKEN_PATH.subn(REDACTED, path)
    return redacted if count or ADDRESS_HINT_PATH.search(path) else address


def names_a_signer(address: str) -> bool:
    """Whether ``address`` carries an emailed link's token or the hint of an address."""
    return bool(TOKEN_PATH.search(address) or ADDRESS_HINT_PATH.search(address.partition("?")[0]))


class AccessLogger(Logger):
    """gunicorn's logger, whose access log never holds an emailed link's token."""

    def atoms(self, resp, req, environ, request_time):
        """gunicorn's atoms, with the request line, path, query and Referer of an emailed link
        redacted."""
        atoms = super().atoms(resp, req, environ, request_time)
        if names_a_signer(environ.get("RAW_URI") or environ.get("PATH_INFO") or ""):
            method = environ.get("REQUEST_METHOD", "-")
            path = without_token(environ.get("RAW_URI") or environ.get("PATH_INFO", ""))
            protocol = environ.get("SERVER_PROTOCOL", "-")
            for name in ADDRESS_ATOMS:
                if name in atoms:
                    atoms[name] = "-"
            atoms["r"] = f"{method} {path} {protocol}"
            atoms["U"] = path
        for name in REFERER_ATOMS:
            if atoms.get(name):
                atoms[name] = without_token(atoms[name])
        return atoms
