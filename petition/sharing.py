"""Absolute links to a petition, and the share links that carry ``?source=<channel>``."""

from urllib.parse import quote, urlencode

from flask import current_app, has_request_context, request, url_for
from flask_babel import gettext as _

DEV_ORIGIN = "http://127.0.0.1:5000"
CHANNELS = ("whatsapp", "telegram", "x", "facebook", "bluesky", "email")


def absolute_url(endpoint: str, **values) -> str:
    """``endpoint`` as an absolute URL on ``BASE_URL``, else on the request's own host (outside a
    request, as in the mail worker, on the address ``make run`` serves)."""
    if has_request_context():
        base = current_app.config.get("BASE_URL") or request.host_url.rstrip("/")
        return base + url_for(endpoint, **values)
    base = current_app.config.get("BASE_URL") or DEV_ORIGIN
    return base + current_app.url_map.bind("localhost").build(endpoint, values)


def petition_url(petition, source: str | None = None) -> str:
    """The canonical address of ``petition``; with ``source``, the address to share."""
    if source:
        return absolute_url("petitions.show", slug=petition.slug, source=source)
    return absolute_url("petitions.show", slug=petition.slug)


def share_links(petition) -> list[dict]:
    """One link per channel, each opening that channel's own share screen."""
    text = _("Sign and share: %(title)s", title=petition.title)
    links = []
    for channel in CHANNELS:
        url = petition_url(petition, source=channel)
        href = {
            "whatsapp": "https://wa.me/?" + urlencode({"text": f"{text} {url}"}),
            "telegram": "https://t.me/share/url?" + urlencode({"url": url, "text": text}),
            "x": "https://x.com/intent/post?" + urlencode({"url": url, "text": text}),
            "facebook": "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url}),
            "bluesky": "https://bsky.app/intent/compose?" + urlencode({"text": f"{text} {url}"}),
            "email": f"mailto:?subject={quote(petition.title)}&body={quote(text + chr(10) + url)}",
        }[channel]
        links.append({"channel": channel, "label": CHANNEL_LABELS[channel], "href": href})
    return links


CHANNEL_LABELS = {
    "whatsapp": "WhatsApp",
    "telegram": "Telegram",
    "x": "X",
    "facebook": "Facebook",
    "bluesky": "Bluesky",
    "email": "Email",
}
