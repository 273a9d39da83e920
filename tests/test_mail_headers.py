"""The headers of an update email, as the SMTP server receives them: the one-click unsubscription
headers on one line that mail clients can parse, every other header still correctly encoded."""

import re
from email import message_from_bytes
from email.policy import default as email_policy

import pytest

from .support import store_signature
from .test_updates import deliver_all, organizer_client, send_new_update, wants_news

LONG_HOST = ".".join(["firmas-por-la-justicia-climatica-y-los-derechos-de-los-pueblos"] * 3)
BASE_URLS = ["https://sign.example.org", f"https://{LONG_HOST}.example.org"]
SUBJECT = "Noticias de la campaña: ganamos una audiencia ante el Congreso de la República del Perú"
RECIPIENT = "ñandú@ejemplo.org"


def header_lines(raw: bytes) -> dict[bytes, bytes]:
    """Each header as sent, continuation lines included, by its lower-case name."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    fields = re.split(rb"\r\n(?![ \t])", head)
    return {field.split(b":", 1)[0].lower(): field for field in fields}


def update_as_received(app, sink, slug, recipient=RECIPIENT) -> bytes:
    """Send an update to one signer who asked for news; the bytes that arrived."""
    store_signature(app, slug, updates=True, email=recipient)
    send_new_update(organizer_client(app), slug, subject=SUBJECT)
    deliver_all(app)
    return next(raw for raw in sink.raw if message_from_bytes(raw, policy=email_policy)["Subject"] == SUBJECT)


@pytest.mark.parametrize("base_url", BASE_URLS)
def test_unsubscribe_headers_arrive_on_one_line_with_a_working_url(
    make_app, raw_smtp, petition, organizer, base_url
):
    app = make_app(SMTP_URL=raw_smtp.url, BASE_URL=base_url)
    raw = update_as_received(app, raw_smtp, petition.slug)

    headers = header_lines(raw)
    unsubscribe = headers[b"list-unsubscribe"]
    match = re.fullmatch(rb"List-Unsubscribe: <(https://[^<>\s]+/unsubscribe/[^<>\s]+)>", unsubscribe)
    assert match, unsubscribe
    url = match.group(1).decode()
    assert url.startswith(base_url + "/unsubscribe/") and len(unsubscribe) > 78
    assert b"=?" not in unsubscribe
    assert headers[b"list-unsubscribe-post"] == b"List-Unsubscribe-Post: List-Unsubscribe=One-Click"
    assert message_from_bytes(raw, policy=email_policy)["List-Unsubscribe"] == f"<{url}>"

    response = app.test_client().post(url, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not wants_news(app, RECIPIENT)


def test_a_long_subject_is_still_folded_into_short_encoded_words(make_app, raw_smtp, petition, organizer):
    app = make_app(SMTP_URL=raw_smtp.url, BASE_URL=BASE_URLS[1])
    raw = update_as_received(app, raw_smtp, petition.slug, recipient="ana@example.org")

    subject = header_lines(raw)[b"subject"]
    assert b"\r\n " in subject and all(len(line) <= 78 for line in subject.split(b"\r\n"))
    words = re.findall(rb"=\?utf-8\?[qb]\?[^?]*\?=", subject, flags=re.IGNORECASE)
    assert words and all(len(word) <= 75 for word in words), "RFC 2047 caps an encoded word at 75"
    assert message_from_bytes(raw, policy=email_policy)["Subject"] == SUBJECT


def test_an_internationalized_address_travels_as_utf8(make_app, raw_smtp, petition, organizer):
    app = make_app(SMTP_URL=raw_smtp.url, BASE_URL=BASE_URLS[1])
    raw = update_as_received(app, raw_smtp, petition.slug)

    headers = header_lines(raw)
    assert headers[b"to"] == b"To: " + RECIPIENT.encode()
    message = message_from_bytes(raw, policy=email_policy)
    assert message["To"] == RECIPIENT and message["Subject"] == SUBJECT
