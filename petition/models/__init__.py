"""The data model: petitions, their signatures and counts, the organizers who run them, the outbox."""

from .base import utcnow
from .counts import SignatureCount, count_by_country, count_signatures
from .organizer import AuditEvent, Organizer, OrganizerRole, RecoveryCode
from .outbox import OutboxMessage
from .petition import Petition, PetitionTranslation, StatementVersion
from .signature import Signature
from .update import Update

__all__ = [
    "AuditEvent",
    "Organizer",
    "OrganizerRole",
    "OutboxMessage",
    "Petition",
    "PetitionTranslation",
    "RecoveryCode",
    "Signature",
    "SignatureCount",
    "StatementVersion",
    "Update",
    "count_by_country",
    "count_signatures",
    "utcnow",
]
