"""What every model module shares."""

import datetime as dt


def utcnow() -> dt.datetime:
    """The current time in UTC, without tzinfo (stored as UTC by convention)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
