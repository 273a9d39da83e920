"""Email through an outbox: queued in the transaction that causes it, delivered by a sender."""

from .outbox import email_values, queue_email

__all__ = ["email_values", "queue_email"]
