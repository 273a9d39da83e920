"""A small in-process cache with expiry, for what many requests ask within a few seconds:
the rendered petition page, the counts. Each worker process keeps its own."""

import threading
import time
from collections import OrderedDict


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


def cached(cache: TTLCache, key, ttl: float, compute):
    """``cache[key]`` while fresh, else ``compute()`` stored for ``ttl`` seconds."""
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, ttl)
    return value
