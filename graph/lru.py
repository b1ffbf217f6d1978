"""Bounded thread-safe maps the store keeps per process: tables and derived structures by
count (`Lru`), remembered answers by weight (`Answers`), a few long-lived ones by count (`Kept`)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

__all__ = ["Lru", "Answers", "Kept"]


class Lru:
    """A small thread-safe LRU map shared by every store object of the process."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def put(self, key: Any, value: Any) -> Any:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
            return value

    def drop(self, unwanted: Callable[[Any], bool]) -> None:
        """Remove the items whose key is `unwanted`."""
        with self._lock:
            for key in [k for k in self._items if unwanted(k)]:
                del self._items[key]


class Answers:
    """An LRU map bounded by the total weight of its values (one answer may not take over half)."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._items: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: Any, value: Any, weight: int) -> None:
        weight = max(1, int(weight))
        if weight > self.budget // 2:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self._total += weight - (old[1] if old else 0)
            self._items[key] = (value, weight)
            while self._total > self.budget and self._items:
                self._total -= self._items.popitem(last=False)[1][1]


class Kept:
    """A few long-lived answers kept by count (not weight), each built once however many ask at
    once: a second caller waits for the first (a served process's warm-up and a request)."""

    def __init__(self, size: int) -> None:
        self._items = Lru(size)
        self._lock = threading.Lock()
        self._building: dict[Any, threading.Lock] = {}

    def get_or_build(self, key: Any, compute: Callable[[], Any]) -> Any:
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        with building:
            found = self._items.get(key)
            return found if found is not None else self._items.put(key, compute())
