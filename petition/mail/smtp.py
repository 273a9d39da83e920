"""The connection to the mail server that ``SMTP_URL`` names.

``smtp://host:port`` switches to TLS with STARTTLS when the server offers it. With a user name
and password in the URL, STARTTLS is required: a server that does not offer it, or a handshake
that fails, stops the connection before the password is sent, and the outbox keeps its mail
for the next attempt. ``?starttls=off`` lets a local relay that has no TLS take the password
anyway. ``smtps://`` speaks TLS from the first byte. Certificates are always verified.
"""

import logging
import smtplib
import ssl
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)
NO_STARTTLS = (
    "SMTP server offers no STARTTLS; refusing to send the password in clear "
    "(add ?starttls=off to SMTP_URL for a local relay)"
)


class SMTPSettings:
    """What ``SMTP_URL`` says: ``smtp://user:pass@host:port``, ``smtps://`` for TLS, and
    ``?starttls=off`` for a local relay that takes the password without TLS."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:pass@host:port or smtps://…")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname
        try:
            self.port = parts.port or (465 if self.tls else 25)
        except ValueError:
            # urllib's message quotes the text after the colon, which may be part of a password.
            raise ValueError(
                "SMTP_URL has a port that is not a number (percent-encode : / ? # @ in the password)"
            ) from None
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.starttls = starttls_wanted(parts.query, self.tls)

    def connect(self, timeout: float = 15) -> smtplib.SMTP:
        """A connection to the server, logged in if the URL has a user name; raises, before
        anything is sent, when the password would otherwise travel in clear."""
        if self.tls:
            context = ssl.create_default_context()
            connection = smtplib.SMTP_SSL(self.host, self.port, timeout=timeout, context=context)
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=timeout)
        try:
            if not self.tls:
                self.start_tls(connection)
            if self.username:
                connection.login(self.username, self.password or "")
        except BaseException:
            connection.close()
            raise
        return connection

    def start_tls(self, connection: smtplib.SMTP) -> None:
        """STARTTLS when the server offers it; required when there is a password to send."""
        connection.ehlo()
        if not self.starttls:
            if self.username:
                log.warning(
                    "SMTP_URL says starttls=off: the password goes to %s:%s in clear", self.host, self.port
                )
            return
        if connection.has_extn("starttls"):
            connection.starttls(context=ssl.create_default_context())
            connection.ehlo()
        elif self.username:
            raise smtplib.SMTPNotSupportedError(NO_STARTTLS)


def starttls_wanted(query: str, tls: bool) -> bool:
    """False when the URL's query says ``starttls=off``; a ValueError for anything else in it."""
    options = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(options) - {"starttls"})
    if unknown:
        # Name them only when they look like names: an unencoded "?" in a password starts a query.
        named = ": " + ", ".join(unknown) if all(name.isidentifier() for name in unknown) else ""
        raise ValueError(f"SMTP_URL has an unknown parameter{named} (the only one is starttls=off)")
    if "starttls" not in options:
        return True
    if options["starttls"] != ["off"]:
        raise ValueError("SMTP_URL: starttls takes one value, off (starttls=off)")
    if tls:
        raise ValueError("SMTP_URL: starttls=off is for smtp:// only; smtps:// always uses TLS")
    return False
