"""Handing messages to the SMTP server: one connection kept open across batches, opened again
when the server has dropped it, and an optional DKIM signature on every message."""

import logging
import smtplib
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

import dkim
from flask import current_app

from .smtp import SMTPSettings

log = logging.getLogger(__name__)
# The headers the DKIM signature covers: what a receiver shows or acts on.
SIGNED_HEADERS = [
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"mime-version",
    b"content-type",
]


# The server's answers that refuse one message and leave the connection usable.
REFUSALS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


class DKIMSigner:
    """Signs the bytes of a message with the key in ``DKIM_KEY_FILE`` under ``DKIM_SELECTOR``,
    for the domain of ``MAIL_FROM`` (relaxed canonicalization, so folding in transit keeps it)."""

    def __init__(self, key_file: str, selector: str, sender: str):
        self.key = Path(key_file).read_bytes()
        self.selector = selector.encode()
        self.domain = parseaddr(sender)[1].rpartition("@")[2].encode()
        if not self.domain:
            raise ValueError("DKIM signing needs MAIL_FROM with a domain, e.g. petition@example.org")

    def sign(self, data: bytes) -> bytes:
        """``data`` with its DKIM-Signature header in front."""
        header = dkim.sign(
            data,
            self.selector,
            self.domain,
            self.key,
            include_headers=SIGNED_HEADERS,
            canonicalize=(b"relaxed", b"relaxed"),
        )
        return header + data


def dkim_signer(config) -> DKIMSigner | None:
    """The signer the configuration asks for, or None when ``DKIM_KEY_FILE`` is unset."""
    key_file, selector = config.get("DKIM_KEY_FILE"), config.get("DKIM_SELECTOR")
    if not key_file and not selector:
        return None
    if not (key_file and selector):
        raise ValueError("DKIM signing needs both DKIM_KEY_FILE and DKIM_SELECTOR")
    return DKIMSigner(key_file, selector, config["MAIL_FROM"])


def wire_format(email: EmailMessage) -> tuple[bytes, list[str]]:
    """The bytes of ``email`` as they travel, and the MAIL FROM options they need: UTF-8 headers
    and SMTPUTF8 for an internationalized address, as ``smtplib.SMTP.send_message`` does."""
    international = not all(str(email[name]).isascii() for name in ("From", "To"))
    data = email.as_bytes(policy=email.policy.clone(utf8=international, linesep="\r\n"))
    return data, (["SMTPUTF8", "BODY=8BITMIME"] if international else [])


class Mailer:
    """Sends messages over ``SMTP_URL`` (``url`` is empty without it), on one connection for as
    long as the server keeps it. Close it when done."""

    def __init__(self, config=None):
        self.config = config or current_app.config
        self.url = self.config.get("SMTP_URL")
        self.signer = None
        self.connection = None

    def connect(self) -> None:
        """Open the connection now if it is not open; raises what reading ``SMTP_URL``, the DKIM
        key or connecting raises, so the messages wait in the outbox with the reason."""
        if self.url and self.connection is None:
            self.signer = dkim_signer(self.config)
            self.connection = SMTPSettings(self.url).connect()

    def send(self, email: EmailMessage) -> None:
        """Hand ``email`` to the server. A connection the server closed (an idle timeout, a
        restart) is opened again once; any other failure closes it and is raised."""
        self.connect()
        data, options = wire_format(email)
        if self.signer is not None:
            data = self.signer.sign(data)
        sender, recipient = parseaddr(str(email["From"]))[1], str(email["To"])
        try:
            self.send_on_connection(sender, recipient, data, options)
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            # Closed by the server (an idle timeout, a restart): once more, on a new connection.
            self.connect()
            self.send_on_connection(sender, recipient, data, options)

    def send_on_connection(self, sender: str, recipient: str, data: bytes, options: list[str]) -> None:
        """Send on the open connection; close it on any failure but a refusal of this message."""
        try:
            self.connection.sendmail(sender, [recipient], data, options)
        except REFUSALS:
            raise
        except OSError:  # smtplib's errors too
            self.close()
            raise

    def close(self) -> None:
        """Say goodbye to the server, or just close the socket when it no longer answers."""
        connection, self.connection = self.connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()
