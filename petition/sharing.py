"""Absolute links to a petition, and the share links that carry ``?source=<channel>``."""

from urllib.parse import quote, urlencode

from flask import current_app, has_request_context, request, url_for
from flask_babel import gettext as _

DEV_ORIGIN = "http://127.0.0.1:5000"
CHANNELS = ("whatsapp", "telegram", "x", "facebook", "bluesky", "email")
# The sources the site's own links set: the share channels, the copied link, the QR code and the
# widget.
SITE_SOURCES = (*CHANNELS, "link", "qr", "embed")


def site_origin() -> str:
    """``BASE_URL`` (which production requires); else, in development, the request's own origin,
    and outside a request (the mail worker, the command line) the address ``make run`` serves."""
    base_url = current_app.config.get("BASE_URL")
    if base_url:
        return base_url  # made an origin, without a trailing slash, when the app was configured
    if has_request_context():
        return f"{request.scheme}://{request.host}"
    return DEV_ORIGIN


def absolute_url(endpoint: str, _origin: str | None = None, **values) -> str:
    """``endpoint`` as an absolute URL on ``BASE_URL`` when it is set, else on ``_origin`` (an
    origin recorded earlier, e.g. with a queued email), else on :func:`site_origin`."""
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        path = current_app.url_map.bind("localhost").build(endpoint, values)
    return (current_app.config.get("BASE_URL") or _origin or site_origin()) + path


def petition_url(petition, source: str | None = None, origin: str | None = None) -> str:
    """The canonical address of ``petition``; with ``source``, the address to share."""
    if source:
        return absolute_url("petitions.show", _origin=origin, slug=petition.slug, source=source)
    return absolute_url("petitions.show", _origin=origin, slug=petition.slug)


def share_image_url(petition, language: str) -> str:
    """The absolute address of the share picture of ``petition`` in ``language``. It names the
    petition's version, so that a site that keeps pictures by address fetches the new one after
    an edit (the picture itself ignores it)."""
    version = petition.updated_at.strftime("%Y%m%d%H%M%S%f")
    return absolute_url("petitions.share_image", slug=petition.slug, language=language, v=version)


def share_links(petition) -> list[dict]:
    """One link per channel, each opening that channel's own share screen, with the title in
    the reader's language."""
    # Imported here: the petitions package loads its views, and they import this module.
    from .petitions.translations import localized

    title = localized(petition).title
    text = _("Sign and share: %(title)s", title=title)
    links = []
    for channel in CHANNELS:
        url = petition_url(petition, source=channel)
        href = {
            "whatsapp": "https://wa.me/?" + urlencode({"text": f"{text} {url}"}),
            "telegram": "https://t.me/share/url?" + urlencode({"url": url, "text": text}),
            "x": "https://x.com/intent/post?" + urlencode({"url": url, "text": text}),
            "facebook": "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url}),
            "bluesky": "https://bsky.app/intent/compose?" + urlencode({"text": f"{text} {url}"}),
            "email": f"mailto:?subject={quote(title)}&body={quote(text + chr(10) + url)}",
        }[channel]
        label = _("Email") if channel == "email" else CHANNEL_LABELS[channel]
        links.append({"channel": channel, "label": label, "href": href})
    return links


CHANNEL_LABELS = {
    "whatsapp": "WhatsApp",
    "telegram": "Telegram",
    "x": "X",
    "facebook": "Facebook",
    "bluesky": "Bluesky",
    "email": "Email",
}
