"""Who is signing, as far as an address and a network can say: the mailbox an address reaches,
whether its domain hands out throwaway addresses, and a keyed name for the network it came from.

Every function here is a few string operations: signing calls them on each signature.
"""

import hashlib
import hmac
import ipaddress

from disposable_email_domains import blocklist
from flask import current_app

# Providers that deliver every spelling of a mailbox to it, and the spellings they ignore.
# No maintained package lists these offline (email-normalize looks providers up through DNS,
# too slow for signing), so the table holds what the providers document:
# - Gmail ignores dots in the local part and anything after a "+", and googlemail.com is
#   gmail.com (Gmail's help pages say both);
# - Outlook.com, iCloud, Fastmail and Proton deliver "name+tag" to "name";
#   proton.me, protonmail.com and pm.me are one mailbox.
# An address at any other domain is compared as typed, in lower case: a provider missing here
# only lets one person sign twice, while a wrong entry would merge two people.
SAME_MAILBOX_DOMAINS = {
    "googlemail.com": "gmail.com",
    "protonmail.com": "proton.me",
    "pm.me": "proton.me",
}
IGNORES_DOTS = frozenset({"gmail.com"})
IGNORES_PLUS_TAGS = frozenset(
    {
        "gmail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "icloud.com",
        "me.com",
        "fastmail.com",
        "proton.me",
    }
)
# Domains shared by millions of people: a burst of signatures from one of them says nothing,
# so the domain velocity signal skips them (as e-petitions' allowed domains do).
WEBMAIL_DOMAINS = IGNORES_PLUS_TAGS | {"yahoo.com", "aol.com", "gmx.de", "gmx.net", "web.de", "mail.ru"}

DISPOSABLE_DOMAINS = frozenset(blocklist)  # the disposable-email-domains package's list

NETWORK_HASH_LENGTH = 16  # hex digits: short enough to show, long enough not to collide


def email_key(email: str) -> str:
    """The form of an address under which repeats are recognized: Ana@X.org is ana@x.org, and
    at a provider that ignores dots and ``+tags``, a.na+x@gmail.com is ana@googlemail.com.

    Lower case, not case folding: folding makes "straße" "strasse", another mailbox.
    """
    local, at, domain = email.strip().lower().rpartition("@")
    if not at:
        return domain
    domain = SAME_MAILBOX_DOMAINS.get(domain, domain)
    if domain in IGNORES_PLUS_TAGS:
        local = local.partition("+")[0]
        if domain in IGNORES_DOTS:
            local = local.replace(".", "")
    return f"{local}@{domain}"


def email_domain(email: str) -> str:
    """The domain of ``email``, in lower case, as its provider answers to it."""
    domain = email.strip().lower().rpartition("@")[2]
    return SAME_MAILBOX_DOMAINS.get(domain, domain)


def is_disposable(domain: str) -> bool:
    """Whether ``domain`` (or a domain it is under) hands out throwaway addresses."""
    parts = domain.split(".")
    return any(".".join(parts[i:]) in DISPOSABLE_DOMAINS for i in range(len(parts) - 1))


def network_hash(ip: str | None) -> str:
    """A keyed hash of the network ``ip`` is in (its /24 for IPv4, its /64 for IPv6), shortened:
    signatures from one network share it, and no one can tell the network from it."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    # The network's leading bytes: a /24 is 3 bytes of an IPv4 address, a /64 8 of an IPv6 one.
    network = address.packed[:3] if address.version == 4 else address.packed[:8]
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, network, hashlib.sha256).hexdigest()[:NETWORK_HASH_LENGTH]
