"""The email policy messages are written with: the defaults of ``email.policy.default``, except
that the one-click unsubscription headers always go out on one line, and that each kind of
header gets its class once.

Python folds a header longer than 78 characters, and a URL has no space to fold at, so it turns
``<https://…>`` into RFC 2047 encoded words, which mail clients cannot read as a URL (RFC 2369
and RFC 8058 want the URL itself). RFC 5322 allows lines of up to 998 characters, so those
headers are folded at that length; every other header keeps the usual folding and encoding.
"""

from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.policy import default

LONGEST_LINE = 998  # RFC 5322, section 2.1.1
ONE_LINE_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post")


class OneLineHeader(UnstructuredHeader):
    """An unstructured header written on one line of up to 998 characters."""

    def fold(self, *, policy):
        """The header folded only past the longest line RFC 5322 allows."""
        return super().fold(policy=policy.clone(max_line_length=LONGEST_LINE))


class MailHeaderRegistry(HeaderRegistry):
    """A registry that makes the class for each header name once, where the standard one makes a
    new class for every header of every message the sender builds."""

    def __init__(self):
        super().__init__()
        self.classes = {}

    def __getitem__(self, name):
        key = name.lower()
        if key not in self.classes:
            self.classes[key] = super().__getitem__(name)
        return self.classes[key]

    def map_to_type(self, name, cls):
        super().map_to_type(name, cls)
        self.classes.pop(name.lower(), None)


def mail_policy():
    """``email.policy.default`` with :class:`OneLineHeader` for the unsubscription headers."""
    registry = MailHeaderRegistry()
    for name in ONE_LINE_HEADERS:
        registry.map_to_type(name, OneLineHeader)
    return default.clone(header_factory=registry)


MAIL_POLICY = mail_policy()
