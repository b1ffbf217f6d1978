"""Keys of the enterprises known when an ingest starts, for entity resolution (`ingest.resolve`):
Arrow columns (no Python object per known enterprise), with what the ingest adds in a dict."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ingest.arrow_text import few_among

__all__ = ["Known", "JOINED_FROM"]

# rows from which a look-up of a column's values among many known ids joins in DuckDB (its hash
# joins on every core) rather than in Arrow on one core: below it the query's own cost is more
# than it saves (`ingest.merge.known_values`, `ingest.resolve`)
JOINED_FROM = 200_000


class Known:
    """The keys (and values) of the enterprises known when a `Resolver` was made, as Arrow
    columns, then what this ingest adds, in a dict: a map ``key -> value`` (first wins among the
    known, as `index_in` finds a key's first place; the added keys are never known ones), or a
    set of keys (`values` None).

    No Python object per known enterprise (at 20M payments, 2M enterprises: 7 s of dicts and a
    set). The joins of `Resolver.resolve` look up whole columns (`lookup`); the one-by-one steps
    of the names left look up keys one at a time, answered from `prefetch` (the known values of
    the keys those steps can ask for, found in one join before them). A key not prefetched
    (`Resolver.resolve_one` called on its own) is answered from the known pairs made into a dict
    then, once."""

    def __init__(self, keys: pa.Array, values: pa.Array | None = None) -> None:
        self.keys, self.values = keys, values
        self.added: dict[str, str] = {}
        self._asked: dict[str, str | None] = {}
        self._whole: dict[str, str] | None = None
        self._all: pa.Array | None = None

    def lookup(self, keys: pa.Array) -> pa.Array:
        """The value of each key (null where absent; for a set, the key where present)."""
        text = pa.large_string()
        found = self.lookup_known(keys)
        if self.added:
            added = pa.array(list(self.added), text)
            given = pa.array(list(self.added.values()), text)
            found = pc.coalesce(found, given.take(pc.index_in(keys, value_set=added)))
        return found

    def prefetch(self, keys: pa.Array) -> None:
        """Look up `keys` among the known ones at once, for `get` and `in` to answer one by one."""
        keys = pc.unique(pc.drop_null(keys))
        if len(keys):
            self._asked.update(zip(keys.to_pylist(), self.lookup_known(keys).to_pylist(), strict=True))

    def lookup_known(self, keys: pa.Array) -> pa.Array:
        """The known value of each key (null where absent). A few keys against many known ones
        are found among them first (the few hashed, not the many)."""
        keys_known, values = self.keys, (self.keys if self.values is None else self.values)
        near = few_among(keys, keys_known)
        if near is not None:
            keys_known, values = keys_known.filter(near), values.filter(near)  # in order: the first still wins
        return values.take(pc.index_in(keys, value_set=keys_known))

    def get(self, key: str | None) -> str | None:
        if key is None:
            return None
        found = self.added.get(key)
        if found is not None:
            return found
        if key in self._asked:
            return self._asked[key]
        if self._whole is None:  # not prefetched: every known pair, once (first wins)
            values = self.keys if self.values is None else self.values
            self._whole = dict(zip(self.keys.to_pylist()[::-1], values.to_pylist()[::-1], strict=True))
        return self._whole.get(key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __getitem__(self, key: str) -> str:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __setitem__(self, key: str, value: str) -> None:
        self.added[key] = value

    def add(self, key: str) -> None:
        self.added[key] = key

    def __len__(self) -> int:
        return len(self.keys) + len(self.added)

    def all_keys(self) -> pa.Array:
        """The known keys then the added ones (rebuilt only when some were added since)."""
        if self._all is None or len(self._all) != len(self):
            self._all = pa.concat_arrays([self.keys, pa.array(list(self.added), pa.large_string())]) \
                if self.added else self.keys
        return self._all
