"""The app's one cache, for what many requests ask within a few seconds: rendered petition
pages and PDFs, and counts. One policy: at most ``CACHE_MAX_ENTRIES`` entries, the least
recently used making room, each kept for the seconds its caller gives.

Each worker process keeps its own. A key that depends on a petition's text includes its version
(``Petition.updated_at``), which the request reads first: an edit is seen at once by every
worker, and an entry of an old version is never served again. A cache shared through Redis
(Flask-Caching's) would add a network round trip to every page view to save one render per
worker every few seconds; the shared cache of a busy site is the proxy in front
(``deploy/nginx.conf``), which keeps the answers for their ``Cache-Control`` lifetime.
"""

import threading
import time
from collections import OrderedDict

from flask import current_app


class TTLCache:
    """A mapping of at most ``maxsize`` entries, each expiring ``ttl`` seconds after it is set.

    When it is full, the entry set or read least recently makes room for the new one, so a burst
    of keys used once (a crawler's) pushes out only the oldest entries, never the busy ones.
    ``clock`` gives the time in seconds (a test passes one it controls).
    """

    def __init__(self, maxsize: int = 512, clock=time.monotonic):
        self.maxsize = maxsize
        self.clock = clock
        self._entries: OrderedDict = OrderedDict()  # key: (expiry, value), least recently used first
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many entries are held, expired ones included until they are read or pushed out."""
        return len(self._entries)

    def get(self, key):
        """The value for ``key``, or None when it is missing or expired."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] < self.clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def set(self, key, value, ttl: float) -> None:
        """Keep ``value`` for ``key`` ``ttl`` seconds (not at all when ``ttl`` is not positive)."""
        if ttl <= 0:
            return
        with self._lock:
            self._entries[key] = (self.clock() + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def init_app(app) -> None:
    """Give ``app`` its cache: ``app.extensions["cache"]``, a :class:`TTLCache`."""
    app.extensions["cache"] = TTLCache(maxsize=app.config["CACHE_MAX_ENTRIES"])


def cached(key: tuple, ttl: float, compute):
    """The app's cached value for ``key`` while fresh, else ``compute()`` kept ``ttl`` seconds."""
    cache = current_app.extensions["cache"]
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, ttl)
    return value
