"""Statements in other languages: storing a translation, and choosing the text each reader sees.

A translation is a content file whose front matter says ``translation_of: <slug>`` and
``language: es``; ``flask petition load`` stores it beside its petition. The petition page, the
pages after signing and the emails to a signer show it to readers of that language; everyone
else reads the original.
"""

import logging

from flask import current_app
from flask_babel import get_locale
from sqlalchemy import select

from ..extensions import db
from ..models import Petition, PetitionTranslation, utcnow
from . import versions
from .importer import StatementError

log = logging.getLogger(__name__)
TRANSLATED_FIELDS = ("title", "subtitle", "body", "demands")


def load_translation(statement: dict) -> tuple[Petition, bool]:
    """Create or update the translation that ``statement`` describes; return the petition it
    translates and whether the translation is new."""
    slug, language = statement["translation_of"], statement["language"]
    petition = db.session.scalar(select(Petition).where(Petition.slug == slug))
    if petition is None:
        raise StatementError(f"there is no petition {slug!r} to translate: load the original first")
    if language == petition.language:
        raise StatementError(f"the petition {slug!r} is written in {language!r} already")
    translation = find_translation(petition, language)
    created = translation is None
    # A new language, too, is a new version of a signed text: each version keeps every
    # language it was shown in, and no more.
    if created or versions.changes_text(translation, statement):
        versions.keep_signed_text(petition)
    if created:
        translation = PetitionTranslation(petition_id=petition.id, language=language)
        db.session.add(translation)
    for field in TRANSLATED_FIELDS:
        setattr(translation, field, statement[field])
    # A new version of what the petition's pages show: no worker serves the old one again.
    petition.updated_at = utcnow()
    db.session.flush()
    if language not in current_app.config["LANGUAGES"]:
        log.warning("translation %s of %s stored, but the site does not speak %s", language, slug, language)
    log.info("translation %s of %s %s", language, slug, "created" if created else "updated")
    return petition, created


def find_translation(petition: Petition, language: str) -> PetitionTranslation | None:
    return db.session.scalar(
        select(PetitionTranslation).where(
            PetitionTranslation.petition_id == petition.id, PetitionTranslation.language == language
        )
    )


def statement_for(petition: Petition, language: str) -> Petition | PetitionTranslation:
    """The text of ``petition`` for readers of ``language``: its translation into that language,
    else the original. Either has ``title``, ``subtitle_lines``, ``body``, ``demands`` and
    ``language``."""
    if language == petition.language:
        return petition
    return find_translation(petition, language) or petition


def localized(petition: Petition) -> Petition | PetitionTranslation:
    """The text of ``petition`` in the current language (a template global: emails are
    rendered in the signer's language, pages in the visitor's)."""
    return statement_for(petition, str(get_locale() or petition.language))


def statement_languages(petition: Petition) -> list[str]:
    """The interface languages the statement can be read in, in the chooser's order."""
    translated = db.session.scalars(
        select(PetitionTranslation.language).where(PetitionTranslation.petition_id == petition.id)
    ).all()
    available = {petition.language, *translated}
    return [code for code in current_app.config["LANGUAGES"] if code in available]
