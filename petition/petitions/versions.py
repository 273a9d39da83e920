"""Versions of a statement: the text each signer agreed to.

A petition's text (title, subtitle, statement, demands, in every language it is written in) is
version 1 until someone signs it. A change after that, to any of them in any language, keeps the
signed text as it was (a :class:`~petition.models.StatementVersion` per language) and makes the
new text the next version; a change before anyone signed the current version changes it in place,
since nobody agreed to it yet.

A signature records the version its form showed (:func:`version_shown`); a signer reads it in
the language of their signature when the statement had one, else in the original.
"""

import hashlib
import json
import logging

from sqlalchemy import select

from ..extensions import db
from ..models import Petition, PetitionTranslation, Signature, StatementVersion, utcnow

log = logging.getLogger(__name__)
TEXT_FIELDS = ("title", "subtitle", "body", "demands")


def fingerprint(text) -> str:
    """A short fingerprint of a text (a petition, a translation or a version): the first 8 hex
    digits of the SHA-256 of its fields as canonical JSON. A receipt carries it; the versions page
    shows it, so that a signer can tell which text they signed."""
    canonical = json.dumps(
        {field: getattr(text, field) for field in TEXT_FIELDS},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:8]


def changes_text(text, statement: dict) -> bool:
    """Whether ``statement`` (the fields a form or a file gives) changes the text ``text``."""
    return any(field in statement and statement[field] != getattr(text, field) for field in TEXT_FIELDS)


def current_is_signed(petition: Petition) -> bool:
    """Whether anyone signed the text ``petition`` shows now."""
    if petition.id is None:
        return False
    query = select(Signature.id).where(
        Signature.petition_id == petition.id, Signature.statement_version == petition.statement_version
    )
    return db.session.scalar(query.limit(1)) is not None


def keep_signed_text(petition: Petition) -> bool:
    """Call before changing the text of ``petition``: when someone signed the current version,
    keep it, in every language, and number the text about to be written as the next one.
    Return whether a new version begins."""
    if not current_is_signed(petition):
        return False
    translated = db.session.scalars(
        select(PetitionTranslation).where(PetitionTranslation.petition_id == petition.id)
    ).all()
    now = utcnow()
    for text in (petition, *translated):
        db.session.add(
            StatementVersion(
                petition_id=petition.id,
                number=petition.statement_version,
                language=text.language,
                replaced_at=now,
                **{field: getattr(text, field) for field in TEXT_FIELDS},
            )
        )
    petition.statement_version += 1
    number = petition.statement_version
    log.info("petition %s: version %s kept, version %s begins", petition.slug, number - 1, number)
    return True


def version_shown(posted: str | None, current: int) -> int:
    """The version a sign form showed: the number it carries (``statement_version``) when it is
    that of an existing version, else ``current``. A form without it (a script's, or a page
    served before versions) signs the current text.

    ``current`` is the worker's view of the petition, at most ``PETITION_CHECK_SECONDS`` old: a
    number above it can only come from a page drawn within that time by another worker (no
    one fills in the form so fast) or from a forged form, and signs ``current``."""
    if not posted:
        return current
    try:
        number = int(posted)
    except ValueError:
        return current
    return number if 1 <= number <= current else current


def earlier_versions(petition: Petition, language: str) -> list[StatementVersion]:
    """The earlier versions of ``petition``, newest first, each in ``language`` if it was
    written in it, else in the original language."""
    rows = db.session.scalars(
        select(StatementVersion)
        .where(StatementVersion.petition_id == petition.id)
        .order_by(StatementVersion.number.desc())
    ).all()
    chosen: dict[int, StatementVersion] = {}
    for row in rows:
        if row.language == language or (row.number not in chosen and row.language == petition.language):
            chosen[row.number] = row
    return list(chosen.values())


def version_text(petition: Petition, number: int, language: str):
    """The text of version ``number`` of ``petition`` in ``language`` if it was written in it,
    else in the original language; None if there is no such version."""
    # Imported here: translations imports this module.
    from .translations import statement_for

    if number == petition.statement_version:
        return statement_for(petition, language)
    rows = db.session.scalars(
        select(StatementVersion).where(
            StatementVersion.petition_id == petition.id,
            StatementVersion.number == number,
            StatementVersion.language.in_((language, petition.language)),
        )
    ).all()
    by_language = {row.language: row for row in rows}
    return by_language.get(language) or by_language.get(petition.language)


def signed_fingerprint(signature: Signature) -> str:
    """The fingerprint of the text ``signature`` was given, in the language it was read in."""
    text = version_text(signature.petition, signature.statement_version, signature.locale)
    return fingerprint(text) if text is not None else ""
