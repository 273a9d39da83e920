"""A small in-process cache with expiry, for what many requests ask within a few seconds:
the rendered petition page, the counts. Each worker process keeps its own."""

import threading
import time

from flask import after_this_request, current_app, has_request_context


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

    def get_stale(self, key):
        """``(value, fresh)`` for ``key`` even when expired; ``(None, False)`` when missing."""
        entry = self._entries.get(key)
        if entry is None:
            return None, False
        return entry[1], entry[0] >= time.monotonic()

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


def cached_refreshed_after(cache: TTLCache, key, ttl: float, compute):
    """Like :func:`cached`, but once an entry has expired the request gets the old value at once
    and the new one is computed after its response has gone out, so no visitor waits for a slow
    query (counting a million signatures); only a missing entry is computed on the spot."""
    value, fresh = cache.get_stale(key)
    if value is None or ttl <= 0 or not has_request_context():
        return cached(cache, key, ttl, compute)
    if not fresh:
        cache.set(key, value, ttl)  # the next requests keep the old value: one refresh at a time
        app = current_app._get_current_object()

        def refresh():
            with app.app_context():
                cache.set(key, compute(), ttl)

        @after_this_request
        def refresh_when_sent(response):
            response.call_on_close(refresh)
            return response

    return value
