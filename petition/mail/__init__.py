"""Email through an outbox: queued in the transaction that causes it, delivered by a sender."""

from .outbox import queue_email

__all__ = ["queue_email"]
