"""Verified organizations: those that confirm their signature from an address at their website's
domain. Verified means exactly that: whoever confirmed receives mail at the domain the
organization gave as its website. A signature never confirmed by email (a petition that counts
at once, an imported one) is never verified: nobody proved anything about its address."""

import functools
from urllib.parse import urlsplit

from flask import current_app
from publicsuffixlist import PublicSuffixList


@functools.cache
def public_suffixes() -> PublicSuffixList:
    """The Public Suffix List bundled with ``publicsuffixlist``, read once."""
    return PublicSuffixList()


def website_domain(website: str) -> str | None:
    """The domain of ``website`` that an address must be at, without a leading ``www.``; None
    when it is one where anyone may get a domain or an address (``co.uk``, ``github.io``, a
    webmail provider in ``UNVERIFIABLE_DOMAINS``): an address there proves nothing."""
    host = (urlsplit(website).hostname or "").rstrip(".").lower()
    host = host.removeprefix("www.")
    if not host or public_suffixes().privatesuffix(host) is None:
        return None
    if public_suffixes().privatesuffix(host) in current_app.config["UNVERIFIABLE_DOMAINS"]:
        return None
    return host


def is_verified(kind: str, email: str, website: str) -> bool:
    """Whether an organization (``kind``) whose confirmed address is ``email`` and whose website
    is ``website`` is verified: the address is at the website's domain or a subdomain of it."""
    if kind != "organization" or not website or "@" not in email:
        return False
    domain = website_domain(website)
    if domain is None:
        return False
    address_domain = email.rpartition("@")[2].rstrip(".").lower()
    return address_domain == domain or address_domain.endswith("." + domain)
