"""The data model: petitions, their signatures and counts, the organizers who run them, the outbox."""

from .base import utcnow
from .challenge import SpentChallenge
from .counts import SignatureCount, count_by_country, count_signatures
from .invalidation import Invalidation, SignatureTally, public_record
from .organizer import AuditEvent, Organizer, OrganizerRole, RecoveryCode
from .outbox import OutboxMessage
from .petition import Petition, PetitionTranslation, StatementVersion
from .signature import Signature
from .update import Update

__all__ = [
    "AuditEvent",
    "Invalidation",
    "Organizer",
    "OrganizerRole",
    "OutboxMessage",
    "Petition",
    "PetitionTranslation",
    "RecoveryCode",
    "Signature",
    "SpentChallenge",
    "SignatureCount",
    "SignatureTally",
    "StatementVersion",
    "Update",
    "count_by_country",
    "count_signatures",
    "public_record",
    "utcnow",
]
