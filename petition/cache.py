"""A small in-process cache with expiry, for what many requests ask within a few seconds:
the rendered petition page, the counts. Each worker process keeps its own."""

import threading
import time


class TTLCache:
    """A bounded mapping whose entries expire ``ttl`` seconds after they are set."""

    def __init__(self, maxsize: int = 512):
        self.maxsize = maxsize
        self._entries: dict = {}
        self._lock = threading.Lock()

    def get(self, key):
        """The value for ``key``, or None when it is missing or expired."""
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def set(self, key, value, ttl: float) -> None:
        if ttl <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.maxsize:
                now = time.monotonic()
                self._entries = {k: e for k, e in self._entries.items() if e[0] >= now}
                if len(self._entries) >= self.maxsize:
                    self._entries.clear()
            self._entries[key] = (time.monotonic() + ttl, value)

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
