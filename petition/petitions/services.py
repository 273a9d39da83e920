"""The write side of petitions, and the pieces of a petition page that rarely change."""

import functools
import logging

from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import delete, select, update

from ..extensions import db
from ..models import OutboxMessage, Petition, Signature, utcnow
from . import translations, versions

log = logging.getLogger(__name__)
FIELDS = (
    "title",
    "subtitle",
    "issuer",
    "published_on",
    "source_url",
    "body",
    "demands",
    "language",
    "goal",
    "requires_confirmation",
    "organizations_need_approval",
    "approve_verified_organizations",
    "closes_at",
    "retention_days",
)
markdown = MarkdownIt("commonmark", {"html": False})


def load_petition(statement: dict, feature: bool = False) -> tuple[Petition, bool]:
    """Create or update the petition with ``statement['slug']``; return it and whether it is new.

    The first petition becomes the featured one; another becomes featured only when asked.
    A statement that says ``translation_of: <slug>`` is that petition in another language: it
    is stored as its translation, and the petition translated and whether the translation is
    new are returned.
    """
    if statement.get("translation_of"):
        petition, created = translations.load_translation(statement)
        if feature:
            feature_petition(petition)
        return petition, created
    petition = db.session.scalar(select(Petition).where(Petition.slug == statement["slug"]))
    created = petition is None
    if created:
        petition = Petition(slug=statement["slug"])
        db.session.add(petition)
    elif versions.changes_text(petition, statement):
        versions.keep_signed_text(petition)
    for field in FIELDS:
        if field in statement:
            setattr(petition, field, statement[field])
    has_featured = db.session.scalar(select(Petition.id).where(Petition.featured.is_(True)).limit(1))
    if feature or not has_featured:
        feature_petition(petition)
    db.session.flush()
    log.info("petition %s %s", petition.slug, "created" if created else "updated")
    return petition, created


def update_petition(petition: Petition, statement: dict) -> Petition:
    """Change ``petition`` to what ``statement`` says, its slug (the address) included.

    A change to a text someone signed makes a new version (see :mod:`.versions`). The caller
    checks that a new slug is free; the unique constraint refuses a race.
    """
    if versions.changes_text(petition, statement):
        versions.keep_signed_text(petition)
    petition.slug = statement.get("slug", petition.slug)
    for field in FIELDS:
        if field in statement:
            setattr(petition, field, statement[field])
    db.session.flush()
    log.info("petition %s updated", petition.slug)
    return petition


def feature_petition(petition: Petition) -> None:
    """Make ``petition`` the one the home page shows."""
    db.session.execute(update(Petition).where(Petition.featured.is_(True)).values(featured=False))
    petition.featured = True


def featured_petition() -> Petition | None:
    """The featured petition, else the oldest one; never an archived one."""
    return db.session.scalar(
        Petition.listed().order_by(Petition.featured.desc(), Petition.created_at, Petition.id).limit(1)
    )


def archive_petition(petition: Petition) -> None:
    """Close ``petition`` now (unless it closed already) and take it off the home page and the
    public list of petitions; its page stays, saying it is archived."""
    now = utcnow()
    petition.archived_at = now
    if petition.closes_at is None or petition.closes_at > now:
        petition.closes_at = now
    petition.featured = False
    db.session.flush()
    log.info("petition %s archived", petition.slug)


def restore_petition(petition: Petition) -> None:
    """List ``petition`` again; it stays closed until its closing date is changed."""
    petition.archived_at = None
    db.session.flush()
    log.info("petition %s restored", petition.slug)


def delete_petition(petition: Petition) -> int:
    """Delete ``petition`` with every signature and every email to or about its signers (the
    database's cascades take its translations, roles, counts and updates); return how many
    signatures went."""
    signatures = select(Signature.id).where(Signature.petition_id == petition.id)
    # The outbox keeps its rows when a signature goes (ON DELETE SET NULL): delete them first.
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.signature_id.in_(signatures)))
    deleted = db.session.execute(delete(Signature).where(Signature.petition_id == petition.id)).rowcount
    slug = petition.slug
    db.session.delete(petition)
    db.session.flush()
    log.info("petition %s deleted with %d signatures", slug, deleted)
    return deleted


def render_body(petition: Petition) -> Markup:
    """The statement's Markdown as HTML, rendered once per version of the petition."""
    return _render_markdown(petition.body)


@functools.lru_cache(maxsize=64)
def _render_markdown(text: str) -> Markup:
    return Markup(markdown.render(text))  # noqa: S704 - raw HTML is disabled in the parser
