"""Keys of the enterprises known when an ingest starts, for entity resolution (`ingest.resolve`):
Arrow columns (no Python object per known enterprise), with what the ingest adds in a dict; and
which rows of a counterparty column carry a known id (`known_rows`)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.arrays import one_array
from graph.duck import own_database
from ingest.arrow_text import few_among

__all__ = ["Known", "JOINED_FROM", "known_rows"]

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


def known_rows(ids: pa.Array, labels: pa.Array, known: pa.Array) -> tuple[np.ndarray, pa.Array, pa.Array]:
    """Which rows' id is among the `known` ids (a bool per row), and the distinct labels of those
    rows in the order they first appear, each with the id of its first row.

    Many rows (`JOINED_FROM`): DuckDB's aggregate and hash joins on every core, the distinct
    (id, label) pairs first (20M payees of 2.2M distinct ids against 2M enterprises, two cores:
    2.9-3.3 s; Arrow's dictionary of the rows on one core 6.0-7.0 s). Fewer: each distinct id
    looked up once, in one hash pass over the rows.
    """
    if len(ids) >= JOINED_FROM:
        con = own_database()  # its hash tables' memory goes back when it closes
        try:
            asked = {"pos": pa.array(np.arange(len(ids), dtype=np.int64)), "v": ids}
            con.register("asked", pa.table(asked if labels is ids else {**asked, "label": labels}))
            con.register("known", pa.table({"id": known}))
            # the distinct (id, label) pairs with their first row, then the few ids not known
            con.execute(_PAIRS_SQL.format(label="v" if labels is ids else "label"))
            unknown = con.sql(_UNKNOWN_ROWS_SQL).fetchnumpy()["pos"]
            hits = con.sql(_FIRST_LABELS_SQL).to_arrow_table()
        finally:
            con.close()
        mask = ids.is_valid().to_numpy(zero_copy_only=False)
        mask[np.asarray(unknown, dtype=np.int64)] = False
        return mask, one_array(hits["label"]), one_array(hits["id"])
    encoded = pc.dictionary_encode(ids)
    id_known = pc.is_in(encoded.dictionary, value_set=known)
    mask = pc.fill_null(id_known.take(encoded.indices), False)
    if not pc.any(mask).as_py():
        empty = pa.array([], pa.large_string())
        return mask.to_numpy(zero_copy_only=False), empty, empty
    if labels is ids or not pc.any(pc.and_(mask, pc.not_equal(labels, ids))).as_py():
        hits = encoded.dictionary.filter(id_known)  # each id is its own label, in first-appearance order
        return mask.to_numpy(zero_copy_only=False), hits, hits
    # each distinct label once, with the id of its first row: Arrow's dictionary is in
    # first-appearance order, so a code's first row is where the running maximum grows
    every = pc.all(mask).as_py()
    named = pc.dictionary_encode(labels if every else pc.filter(labels, mask))
    codes = named.indices.to_numpy(zero_copy_only=False)
    grows = np.maximum.accumulate(codes)
    first = np.flatnonzero(np.concatenate([[True], grows[1:] > grows[:-1]]))
    return (mask.to_numpy(zero_copy_only=False), named.dictionary,
            (ids if every else pc.filter(ids, mask)).take(pa.array(first)))


_PAIRS_SQL = "CREATE TABLE pairs AS SELECT v, {label} AS label, min(pos) AS first FROM asked WHERE v IS NOT NULL GROUP BY ALL"
# the rows whose id is not known; the known rows' distinct labels in first-appearance order
_UNKNOWN_ROWS_SQL = "SELECT pos FROM asked SEMI JOIN (SELECT DISTINCT v AS u FROM pairs ANTI JOIN known ON v = id) ON v = u"
_FIRST_LABELS_SQL = """
SELECT label, arg_min(v, first) AS id FROM pairs SEMI JOIN known ON v = id
GROUP BY label ORDER BY min(first)
"""

