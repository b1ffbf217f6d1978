"""Entity resolution of counterparties: id, then USCC, then normalised name, then fuzzy.

A counterparty (a payee, an endorsee, an association member given by name) is matched to a
known enterprise in this order:

1. ``id``: its id is a known enterprise id;
2. ``uscc``: its USCC is a known enterprise's (a USCC is a hard key: two different valid
   USCCs never merge, whatever their names);
3. ``name``: its normalised name (`ingest.names`) is a known enterprise's;
4. ``fuzzy``: a rapidfuzz ratio of at least the `fuzzy_threshold` setting against names in the
   same block (same leading characters or first word, same branch suffix, same numbers);
5. ``external``: a new external enterprise node (the given id, or ``ext:<hash of name>``),
   which later names of this ingest can match too.

Only distinct (id, name, USCC) triples are resolved, most frequent first, so the work grows
with the number of distinct counterparties, not of payments.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process

from ingest.names import digits_of, external_id, is_latin, normalise_name, normalise_names, split_branch
from ingest.normalise import from_arrow, id_set, to_arrow
from ingest.settings import IngestSettings

__all__ = ["Resolver", "Decision"]


@dataclass(frozen=True)
class Decision:
    """How one distinct counterparty was resolved (`resolved_id` None: rejected, see `reason`)."""

    source_name: str
    resolved_id: str | None
    method: str
    score: float = math.nan
    reason: str = ""


@dataclass
class _Entry:
    node_id: str
    head: str
    branch: str
    digits: tuple[str, ...]
    uscc: str | None


def _words_align(a: str, b: str) -> bool:
    """Every word of the shorter English name is (nearly) a word of the longer one.

    A high overall ratio can hide a different key word (…Organization Moose vs …Horse);
    a truncated or misspelt word (DISTR vs DISTRICT) still aligns.
    """
    short, long_ = sorted((a.split(), b.split()), key=len)
    return all(any(w == v or (len(w) > 3 and (v.startswith(w) or w.startswith(v) or fuzz.ratio(w, v) >= 85))
                   for v in long_) for w in short)


@dataclass
class Resolver:
    """Resolves counterparties against the enterprises of the store plus this ingest."""

    enterprises: pd.DataFrame
    settings: IngestSettings
    other_ids: set[str] | pd.Series = field(default_factory=set)  # ids of the other node kinds
    new_nodes: dict[str, dict[str, object]] = field(default_factory=dict)
    decisions: dict[str, Decision] = field(default_factory=dict)

    def __post_init__(self) -> None:
        df = self.enterprises
        self._ids: set[str] = id_set(df["id"])
        self._id_array: pa.Array | None = None
        self._uscc: dict[str, str] = {}
        self._by_norm: dict[str, str] = {}
        # (block key, branch suffix, numbers, length) -> (heads, entries): fuzzy compares only within
        # blocks of the same key, branch and numbers, and of a length that can reach the threshold
        self._block_index: dict[tuple[str, str, tuple[str, ...], int], tuple[list[str], list[_Entry]]] = \
            defaultdict(lambda: ([], []))
        self._uscc_of: dict[str, str] = {}
        self._id_hits: list[pd.DataFrame] = []
        # prefer bank-listed enterprises, then clients, then the smallest id, for shared names
        order = df.assign(_ext=df["is_external"].fillna(False).astype(bool),
                          _client=~df["is_client"].fillna(False).astype(bool))
        order = order.sort_values(["_ext", "_client", "id"], kind="stable")
        ids = order["id"].astype("string")
        norms = order["name_norm"].astype("string")
        missing = norms.isna() | (norms == "")
        if missing.any():  # names stored without their normalised form: normalise the distinct ones
            norms = norms.mask(missing, normalise_names(order["name"].astype("string").fillna("")[missing]))
        norms = norms.mask(norms == "")
        usccs = order["uscc"].astype("string").mask(order["uscc"].astype("string") == "")
        with_uscc = usccs.notna()
        self._uscc = dict(zip(usccs[with_uscc].to_numpy(dtype=object)[::-1],
                              ids[with_uscc].to_numpy(dtype=object)[::-1], strict=True))  # first wins
        self._uscc_of = dict(zip(ids[with_uscc].to_numpy(dtype=object), usccs[with_uscc].to_numpy(dtype=object),
                                 strict=True))
        named = norms.notna()
        self._by_norm = dict(zip(norms[named].to_numpy(dtype=object)[::-1], ids[named].to_numpy(dtype=object)[::-1],
                                 strict=True))  # first wins
        # the fuzzy blocks are built on the first fuzzy look-up only (most ingests resolve by id)
        self._pending: list[tuple[str, str, str | None]] = list(zip(
            norms[named].to_numpy(dtype=object), ids[named].to_numpy(dtype=object),
            usccs[named].astype(object).where(usccs[named].notna(), None).to_numpy(dtype=object), strict=True))

    @property
    def _other_ids(self) -> set[str]:
        """`other_ids` as a set, built on the first id that is not an enterprise's (rare)."""
        if not isinstance(self.other_ids, set):
            self.other_ids = id_set(self.other_ids)
        return self.other_ids

    def _known_ids(self) -> pa.Array:
        """The enterprise ids known so far as an Arrow array for `isin` (rebuilt only when grown)."""
        if self._id_array is None or len(self._id_array) != len(self._ids):
            self._id_array = pa.array(list(self._ids), type=pa.large_string())
        return self._id_array

    # ----------------------------------------------------------------- index
    def _keys(self, head: str) -> list[str]:
        if is_latin(head):
            words = head.split()
            return [f"w:{words[0]}"] if words else []
        return [f"p:{head[: self.settings.fuzzy_block_prefix]}"] if head else []

    def _add(self, norm: str, node_id: str, uscc: str | None) -> None:
        if norm not in self._by_norm:
            self._by_norm[norm] = node_id
        self._pending.append((norm, node_id, uscc))

    @property
    def _blocks(self) -> dict[tuple[str, str, tuple[str, ...], int], tuple[list[str], list[_Entry]]]:
        """The fuzzy blocks, with every name known so far in them."""
        if self._pending:
            self._index()
        return self._block_index

    def _index(self) -> None:
        """Add the names waiting for the fuzzy blocks, in the order they became known."""
        pending, self._pending = self._pending, []
        for norm, node_id, uscc in pending:
            self._block(norm, node_id, uscc)

    def _block(self, norm: str, node_id: str, uscc: str | None) -> None:
        head, branch = split_branch(norm)
        entry = _Entry(node_id, head, branch, digits_of(norm), uscc)
        for key in self._keys(head):
            heads, entries = self._block_index[(key, branch, entry.digits, len(head))]
            heads.append(head)
            entries.append(entry)

    # --------------------------------------------------------------- resolve
    def resolve_one(self, node_id: str | None, name: str | None, uscc: str | None = None) -> Decision:
        """The decision for one counterparty (see the module docstring for the order)."""
        label = name or node_id or ""
        if node_id and node_id in self._ids:
            return Decision(label, node_id, "id", 100.0)
        if node_id and node_id in self._other_ids:
            return Decision(label, None, "rejected", reason=f"id {node_id} belongs to a node that is not an enterprise")
        if uscc and uscc in self._uscc:
            return Decision(label, self._uscc[uscc], "uscc", 100.0)
        if not name:
            return Decision(label, None, "rejected", reason=f"unknown id {node_id} and no name to resolve it by")
        norm = normalise_name(name)
        if not norm:
            return Decision(label, None, "rejected", reason="the name has no letters or digits")
        hit = self._by_norm.get(norm)
        if hit is not None and self._compatible(hit, uscc):
            return Decision(label, hit, "name", 100.0)
        fuzzy = self._fuzzy(norm, uscc)
        if fuzzy is not None:
            return Decision(label, fuzzy[0], "fuzzy", round(fuzzy[1], 1))
        new_id = node_id or external_id(norm)
        if new_id in self._ids:  # a hash shared with a listed enterprise's id: keep them apart
            new_id = external_id(norm + "|" + (uscc or ""))
        self._ids.add(new_id)
        self.new_nodes[new_id] = {"id": new_id, "name": name, "name_norm": norm, "uscc": uscc,
                                  "is_external": True, "is_client": False, "is_credit_client": False}
        if uscc:
            self._uscc[uscc] = new_id
            self._uscc_of[new_id] = uscc
        self._add(norm, new_id, uscc)
        return Decision(label, new_id, "external")

    def _compatible(self, node_id: str, uscc: str | None) -> bool:
        other = self._uscc_of.get(node_id)
        return not (uscc and other and other != uscc)

    def _fuzzy(self, norm: str, uscc: str | None) -> tuple[str, float] | None:
        blocks = self._blocks
        head, branch = split_branch(norm)
        digits = digits_of(norm)
        latin = is_latin(head)
        scorer = fuzz.token_sort_ratio if latin else fuzz.ratio
        best: tuple[str, float] | None = None
        # an (Indel) ratio >= t needs |a - b| <= (1 - t/100)(a + b): only those lengths can match
        slack = 1 - self.settings.fuzzy_threshold / 100
        size = len(head)
        lengths = range(math.ceil(size * (1 - slack) / (1 + slack)), math.floor(size * (1 + slack) / (1 - slack)) + 1)
        for key, length in ((k, n) for k in self._keys(head) for n in lengths):
            block = blocks.get((key, branch, digits, length))
            if block is None:
                continue
            heads, entries = block
            for _, score, pos in process.extract(head, heads, scorer=scorer, limit=5,
                                                 score_cutoff=self.settings.fuzzy_threshold):
                entry = entries[pos]
                if uscc and entry.uscc and entry.uscc != uscc:
                    continue  # a USCC is a hard key
                if latin and not _words_align(head, entry.head):
                    continue
                if best is None or score > best[1]:
                    best = (entry.node_id, float(score))
                break
        return best

    def resolve(self, ids: pd.Series | None, names: pd.Series | None,
                usccs: pd.Series | None = None) -> tuple[pd.Series, pd.Series]:
        """Resolved ids for aligned id/name(/USCC) columns, and the reason where none (else <NA>).

        Rows whose id is already a known enterprise id are settled in one vectorised step; only
        the distinct remaining (id, name, USCC) triples go through `resolve_one`, most frequent
        first. The columns stay Arrow arrays throughout (no Python object per row).
        """
        index = (ids if ids is not None else names).index  # type: ignore[union-attr]
        size = len(index)
        cols = [None if s is None else _text(s) for s in (ids, names, usccs)]
        resolved = pa.nulls(size, pa.large_string())
        reasons = pa.nulls(size, pa.large_string())
        rest = np.ones(size, dtype=bool)
        given_id = cols[0]
        if given_id is not None:
            known = pc.fill_null(pc.is_in(given_id, value_set=self._known_ids()), False)
            if pc.any(known).as_py():
                label = given_id if cols[1] is None else pc.coalesce(cols[1], given_id)
                # each distinct label once, with the id of its first row: Arrow's dictionary is in
                # first-appearance order, so a code's first row is where the running maximum grows
                labels = pc.dictionary_encode(pc.filter(label, known))
                codes = labels.indices.to_numpy(zero_copy_only=False)
                grows = np.maximum.accumulate(codes)
                first = np.flatnonzero(np.concatenate([[True], grows[1:] > grows[:-1]]))
                rows = pd.RangeIndex(len(first))
                self._id_hits.append(pd.DataFrame({
                    "source_name": from_arrow(labels.dictionary, rows),
                    "resolved_id": from_arrow(pc.filter(given_id, known).take(pa.array(first)), rows)}))
                resolved = pc.if_else(known, given_id, resolved)
                rest = ~known.to_numpy(zero_copy_only=False)
        if rest.any():
            at = pa.array(np.flatnonzero(rest)) if not rest.all() else None
            parts = [pa.nulls(int(rest.sum()), pa.large_string()) if c is None else (c if at is None else c.take(at))
                     for c in cols]
            keys = pc.binary_join_element_wise(*parts, pa.scalar("\x1f", pa.large_string()), null_handling="replace",
                                               null_replacement="")
            encoded = pc.dictionary_encode(keys)
            codes = encoded.indices.to_numpy(zero_copy_only=False)
            uniques = encoded.dictionary.to_pylist()
            counts = np.bincount(codes, minlength=len(uniques))
            order = sorted(range(len(uniques)), key=lambda k: (-int(counts[k]), uniques[k]))
            ids_of: list[str | None] = [None] * len(uniques)
            whys: list[str | None] = [None] * len(uniques)
            for k in order:  # one step per DISTINCT counterparty (see the module docstring)
                i, n, u = (part or None for part in uniques[k].split("\x1f"))
                decision = self.resolve_one(i, n, u)
                ids_of[k], whys[k] = decision.resolved_id, decision.reason or None
                if decision.resolved_id is not None and decision.source_name:
                    self.decisions[decision.source_name] = decision
            # broadcast the per-distinct decisions back to the rows
            rest_ids = pa.array(ids_of, pa.large_string()).take(encoded.indices)
            rest_whys = pa.array(whys, pa.large_string()).take(encoded.indices)
            if at is None:
                resolved, reasons = rest_ids, rest_whys
            else:
                mask = pa.array(rest)
                resolved = pc.replace_with_mask(resolved, mask, rest_ids)
                reasons = pc.replace_with_mask(reasons, mask, rest_whys)
        return from_arrow(resolved, index), from_arrow(reasons, index)

    def report(self) -> pd.DataFrame:
        """The decisions of this ingest: source_name, resolved_id, method, score."""
        rows = [{"source_name": d.source_name, "resolved_id": d.resolved_id, "method": d.method, "score": d.score}
                for d in self.decisions.values()]
        columns = ["source_name", "resolved_id", "method", "score"]
        by_id = [h.assign(method="id", score=100.0) for h in self._id_hits]
        frame = pd.concat([*by_id, pd.DataFrame(rows, columns=columns)], ignore_index=True)[columns]
        return frame.drop_duplicates("source_name", keep="last").reset_index(drop=True)


def _text(values: pd.Series) -> pa.Array:
    """A text column as one large_string Arrow array (zero-copy for pyarrow-backed strings)."""
    arr = to_arrow(values)
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return arr if arr.type == pa.large_string() else arr.cast(pa.large_string())
