"""The public list of signatories: organizations first, grouped by country, then individuals;
and the same list as plain text, ready for a press release.

Every query is bounded: the organizations per country are a GROUP BY over listed organizations
alone (an index-only scan of ``ix_signature_petition_kind_listed``), a page reads its own rows,
and the text holds at most the ``SIGNATORIES_LISTED_MAX`` newest of each kind.
"""

import dataclasses

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func

from ..cache import cached
from ..countries import country_name, sort_key
from ..extensions import db
from ..models import Signature


@dataclasses.dataclass
class Page:
    """A page of the list, numbered from 1, as the template's pagination reads it."""

    page: int
    per_page: int
    total: int
    items: list

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def listed(petition, kind: str, country: str = ""):
    """Listed signatures of ``kind`` (from ``country``, if given)."""
    query = Signature.listed(petition).where(Signature.kind == kind)
    return query.where(Signature.country == country) if country else query


def organizations_by_country(petition, country: str = "") -> list[tuple[str, int]]:
    """(code, listed organizations) for each country, the largest first, then by name in the
    reader's language."""

    def load():
        query = (
            listed(petition, Signature.ORGANIZATION, country)
            .with_only_columns(Signature.country, func.count())
            .group_by(Signature.country)
        )
        return [tuple(row) for row in db.session.execute(query)]

    ttl = current_app.config["COUNTS_CACHE_SECONDS"]
    rows = cached(("listed-organizations", petition.id, country), ttl, load)
    return sorted(rows, key=lambda row: (-row[1], sort_key(country_name(row[0]))))


def organizations_in_order(petition, country: str = ""):
    """Listed organizations by country code, first signed first within each (the index's order)."""
    return listed(petition, Signature.ORGANIZATION, country).order_by(Signature.country, Signature.id)


def individuals_in_order(petition, country: str = ""):
    """Listed individuals, newest first."""
    return listed(petition, Signature.INDIVIDUAL, country).order_by(Signature.id.desc())


def page_of_signatories(petition, kind: str | None, country: str, first: int, size: int) -> list:
    """``size`` signatures from position ``first`` of the list (organizations, then individuals),
    each kind read with its own bounded query."""
    organizations = 0
    if size <= 0:
        return []
    if kind != Signature.INDIVIDUAL:
        organizations = sum(n for _, n in organizations_by_country(petition, country))
    items = []
    if kind != Signature.INDIVIDUAL and first < organizations:
        query = organizations_in_order(petition, country).offset(first).limit(size)
        items = db.session.scalars(query).all()
    if kind != Signature.ORGANIZATION and len(items) < size:
        query = individuals_in_order(petition, country)
        query = query.offset(max(0, first - organizations)).limit(size - len(items))
        items += db.session.scalars(query).all()
    return items


def sections(items) -> list[tuple[str, str, list]]:
    """``items`` of a page cut where the kind or an organization's country changes: (kind,
    country or "" for individuals, signatures), in the page's order."""
    found = []
    for signature in items:
        country = signature.country if signature.is_organization else ""
        if not found or found[-1][:2] != (signature.kind, country):
            found.append((signature.kind, country, []))
        found[-1][2].append(signature)
    return found


def signatory_line(signature) -> str:
    """An individual as the text list writes them: name, title or organization, country."""
    parts = [signature.name]
    if signature.affiliation:
        parts.append(signature.affiliation)
    parts.append(country_name(signature.country))
    return ", ".join(parts)


def signatories_text(petition, title: str) -> str:
    """The list as plain text in the reader's language: the organizations grouped by country
    (countries in alphabetical order), then the individuals, newest first."""
    most = current_app.config["SIGNATORIES_LISTED_MAX"]
    organizations = db.session.scalars(organizations_in_order(petition).limit(most)).all()
    individuals = db.session.scalars(individuals_in_order(petition).limit(most)).all()
    by_country: dict[str, list] = {}
    for organization in organizations:
        by_country.setdefault(country_name(organization.country), []).append(organization)
    lines = [title, ""]
    if organizations:
        lines.append(
            ngettext("%(num)s organization", "%(num)s organizations", len(organizations))
            + " · "
            + ngettext("%(num)s country", "%(num)s countries", len(by_country))
        )
        for name in sorted(by_country, key=sort_key):
            lines += ["", f"{name} ({len(by_country[name])})"]
            lines += [organization.name for organization in by_country[name]]
        lines.append("")
    if individuals:
        lines.append(ngettext("%(num)s individual", "%(num)s individuals", len(individuals)))
        lines += [signatory_line(individual) for individual in individuals]
        lines.append("")
    if not organizations and not individuals:
        lines.append(_("No public signatures match yet."))
    return "\n".join(lines).rstrip("\n") + "\n"
