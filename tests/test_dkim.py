"""DKIM: with a key and a selector configured, every message arrives signed for the domain of
MAIL_FROM, and the signature verifies (dkimpy, the public key handed over instead of DNS); it
covers the headers a receiver acts on, so it breaks if one of them changes on the way."""

import base64
import subprocess
from email import message_from_bytes
from email.policy import default as email_policy
from email.utils import parsedate_to_datetime

import dkim
import pytest

from petition.mail.sender import send_due

from .conftest import sign, valid_fields
from .test_mail import outbox
from .test_mail_headers import update_as_received

SELECTOR = "petition2026"
DOMAIN = "sign.example.org"


@pytest.fixture(scope="module")
def dkim_key(tmp_path_factory):
    """A fresh RSA key: its file, and the TXT record that publishes its public half."""
    folder = tmp_path_factory.mktemp("dkim")
    key = folder / "dkim.pem"
    subprocess.run(
        ["openssl", "genrsa", "-traditional", "-out", str(key), "2048"], check=True, capture_output=True
    )
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"], check=True, capture_output=True
    ).stdout
    return key, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def dns_for(record: bytes):
    """What DNS would answer for the selector's name, and nothing for any other."""

    def lookup(name, timeout=5):
        return record if name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode() else None

    return lookup


@pytest.fixture
def signing_app(make_app, raw_smtp, dkim_key):
    return make_app(
        SMTP_URL=raw_smtp.url,
        MAIL_FROM=f"petition@{DOMAIN}",
        BASE_URL=f"https://{DOMAIN}",
        DKIM_KEY_FILE=str(dkim_key[0]),
        DKIM_SELECTOR=SELECTOR,
    )


def test_a_confirmation_arrives_signed_and_verifies(signing_app, raw_smtp, dkim_key, bundled_petition):
    sign(signing_app.test_client(), bundled_petition.slug, **valid_fields())
    with signing_app.app_context():
        assert send_due() == (1, 0)

    [raw] = raw_smtp.raw
    assert raw.startswith(b"DKIM-Signature:")
    assert dkim.verify(raw, dnsfunc=dns_for(dkim_key[1]))
    message = message_from_bytes(raw, policy=email_policy)
    tags = dict(part.strip().split("=", 1) for part in message["DKIM-Signature"].split(";") if "=" in part)
    assert (tags["d"], tags["s"]) == (DOMAIN, SELECTOR)
    assert {"from", "to", "subject", "date", "message-id"} <= set(tags["h"].replace(" ", "").split(":"))
    assert message["Message-ID"].endswith(f"@{DOMAIN}>")
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None


def test_an_update_is_signed_with_its_unsubscribe_headers(
    signing_app, raw_smtp, dkim_key, petition, organizer
):
    raw = update_as_received(signing_app, raw_smtp, petition.slug, recipient="ana@example.org")

    assert dkim.verify(raw, dnsfunc=dns_for(dkim_key[1]))
    message = message_from_bytes(raw, policy=email_policy)
    assert "list-unsubscribe" in message["DKIM-Signature"].replace(" ", "").lower()
    assert message["List-Unsubscribe"].startswith(f"<https://{DOMAIN}/unsubscribe/")
    assert message["Message-ID"] and message["Date"]


def test_a_changed_header_or_body_breaks_the_signature(signing_app, raw_smtp, dkim_key, bundled_petition):
    sign(signing_app.test_client(), bundled_petition.slug, **valid_fields())
    with signing_app.app_context():
        send_due()
    [raw] = raw_smtp.raw
    dns = dns_for(dkim_key[1])

    assert not dkim.verify(raw.replace(b"To: ana@example.org", b"To: eve@example.org"), dnsfunc=dns)
    # The bodies travel in base64: "Hello Ana" is these twelve characters at the text's start.
    assert base64.b64encode(b"Hello Ana") in raw
    tampered = raw.replace(base64.b64encode(b"Hello Ana"), base64.b64encode(b"Hello Eve"))
    assert not dkim.verify(tampered, dnsfunc=dns)
    assert not dkim.verify(raw, dnsfunc=dns_for(b"v=DKIM1; k=rsa; p=" + base64.b64encode(b"another key")))


def test_without_a_key_nothing_is_signed(make_app, raw_smtp, bundled_petition):
    app = make_app(SMTP_URL=raw_smtp.url, MAIL_FROM=f"petition@{DOMAIN}")
    sign(app.test_client(), bundled_petition.slug, **valid_fields())
    with app.app_context():
        assert send_due() == (1, 0)
    assert b"DKIM-Signature" not in raw_smtp.raw[0]


def test_a_selector_without_a_key_keeps_the_mail_and_says_why(make_app, raw_smtp, bundled_petition):
    app = make_app(SMTP_URL=raw_smtp.url, MAIL_FROM=f"petition@{DOMAIN}", DKIM_SELECTOR=SELECTOR)
    sign(app.test_client(), bundled_petition.slug, **valid_fields())
    with app.app_context():
        assert send_due() == (0, 1)
    assert raw_smtp.raw == []
    [message] = outbox(app)
    assert message.sent_at is None and "DKIM_KEY_FILE" in message.last_error
