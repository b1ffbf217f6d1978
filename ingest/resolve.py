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
   which later names of this ingest can match too — unless the name is no company's
   (`ingest.values.no_company`: a bank's clearing or transit account, the treasury, a payment
   platform, or a person's name), when the row is rejected with that reason.

Only distinct (id, name, USCC) triples are resolved, most frequent first, so the work grows
with the number of distinct counterparties, not of payments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process

from graph.arrays import one_array
from ingest.known import Known, known_rows
from ingest.names import (
    block_columns,
    block_id,
    block_key,
    digits_of,
    external_id,
    is_latin,
    normalise_name,
    normalise_names,
    normalise_texts,
    split_branch,
)
from ingest.normalise import from_arrow, to_arrow
from ingest.settings import IngestSettings
from ingest.values import no_company

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


class _Entries:
    """A fuzzy block's entries by place: its known names' (made when asked for: a block of a big
    store holds thousands, of which `process.extract` returns five), then this ingest's externals."""

    def __init__(self, heads: list[str], node_ids: pa.Array | None, usccs: pa.Array | None, start: int) -> None:
        # the known names' heads, and their ids and USCCs from `start` on (Arrow: read when asked)
        self._heads, self._ids, self._usccs, self._start = heads, node_ids, usccs, start
        self._known = len(heads)
        self._added: list[_Entry] = []

    def __getitem__(self, pos: int) -> _Entry:
        if pos < self._known:
            assert self._ids is not None and self._usccs is not None
            at = self._start + pos
            return _Entry(self._ids[at].as_py(), self._heads[pos], "", (), self._usccs[at].as_py())
        return self._added[pos - self._known]

    def append(self, entry: _Entry) -> None:
        self._added.append(entry)


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
    other_ids: set[str] | pd.Series = field(default_factory=set)  # ids of the other node kinds (made `Known`)
    new_nodes: dict[str, dict[str, object]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        df = self.enterprises
        self._ids = Known(_text(df["id"].dropna().astype("string")))
        self._decided: list[pd.DataFrame] = []  # per `resolve` call, the resolved distinct names in order
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
        named = norms.notna()
        # uscc -> id and name -> id: the first in this order wins; id -> uscc (ids are unique)
        self._uscc = Known(_text(usccs[with_uscc]), _text(ids[with_uscc]))
        self._uscc_of = Known(_text(ids[with_uscc]), _text(usccs[with_uscc]))
        self._by_norm = Known(_text(norms[named]), _text(ids[named]))
        # the fuzzy blocks are found on the first fuzzy look-up only (most ingests resolve by id or name)
        self._known: tuple[pd.Series, pd.Series, pd.Series] = (norms[named], ids[named], usccs[named])
        self._block_at: dict[str, tuple[int, int]] | None = None
        self._block_rows: tuple[pa.Array, pa.Array, pa.Array] | None = None
        self._open_blocks: dict[str, tuple[list[str], _Entries]] = {}

    @property
    def _other_ids(self) -> Known:
        """`other_ids` as `Known` (a set given by hand, or the ids of the other node tables)."""
        if not isinstance(self.other_ids, Known):
            given = self.other_ids
            keys = pa.array(sorted(given), pa.large_string()) if isinstance(given, set) \
                else _text(given.dropna().astype("string"))
            self.other_ids = Known(keys)  # type: ignore[assignment]
        return self.other_ids  # type: ignore[return-value]

    def _known_ids(self) -> pa.Array:
        """The enterprise ids known so far as an Arrow array for `isin` (rebuilt only when grown)."""
        return self._ids.all_keys()

    # ----------------------------------------------------------------- index
    def _keys(self, head: str) -> list[str]:
        key = block_key(head, self.settings.fuzzy_block_prefix)
        return [key] if key is not None else []

    def _index(self) -> None:
        """Sort the known names by fuzzy block once (Arrow kernels): a block is then one slice,
        made Python lists only when a name is looked for in it (`_block`)."""
        norms, ids, usccs = self._known
        blocks, heads = block_columns(_text(norms), self.settings.fuzzy_block_prefix)
        at = pc.sort_indices(blocks)  # stable: a block keeps the names' order
        blocks, heads = blocks.take(at), heads.take(at)
        kept = len(blocks) - blocks.null_count
        runs = pc.dictionary_encode(blocks.slice(0, kept))
        codes = runs.indices.to_numpy(zero_copy_only=False)
        starts = np.flatnonzero(np.concatenate([[True], codes[1:] != codes[:-1]])) if kept else np.array([], int)
        stops = np.append(starts[1:], kept) if kept else np.array([], int)  # no known name in any block
        self._block_at = dict(zip(runs.dictionary.to_pylist(), zip(starts.tolist(), stops.tolist(), strict=True),
                                  strict=True))
        taken = at.slice(0, kept)
        self._block_rows = (heads.slice(0, kept), _text(ids).take(taken), _text(usccs).take(taken))

    def block_spans(self) -> dict[str, tuple[int, int]]:
        """Each fuzzy block of the known names (`ingest.names.block_id`) and its slice in block order."""
        if self._block_at is None:
            self._index()
        return dict(self._block_at or {})

    def _block(self, block: str, create: bool = False) -> tuple[list[str], _Entries] | None:
        """The names of one fuzzy block (known names first, then this ingest's externals in order)."""
        found = self._open_blocks.get(block)
        if found is not None:
            return found
        if self._block_at is None:
            self._index()
        span = (self._block_at or {}).get(block)
        if span is None and not create:
            return None
        if span is None:  # a block no known name is in: this ingest's externals only
            entries, names = _Entries([], None, None, 0), []
        else:
            start, stop = span
            assert self._block_rows is not None  # `_index` made it with the spans
            heads, ids, usccs = self._block_rows
            known = heads.slice(start, stop - start).to_pylist()
            entries = _Entries(known, ids, usccs, start)
            names = list(known)  # the block's own list, which this ingest's externals are appended to
        self._open_blocks[block] = (names, entries)
        return names, entries

    def _add(self, norm: str, node_id: str, uscc: str | None) -> None:
        if norm not in self._by_norm:
            self._by_norm[norm] = node_id
        head, branch = split_branch(norm)
        digits = digits_of(norm)
        for key in self._keys(head):
            heads, entries = self._block(block_id(key, branch, digits, len(head)), create=True)  # type: ignore[misc]
            heads.append(head)
            entries.append(_Entry(node_id, head, branch, digits, uscc))

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
        return self._by_name(label, node_id, name, norm, uscc)

    def _by_name(self, label: str, node_id: str | None, name: str, norm: str, uscc: str | None) -> Decision:
        """Steps 3 to 5 of the module docstring for a name that no id or USCC settled."""
        hit = self._by_norm.get(norm)
        if hit is not None and self._compatible(hit, uscc):
            return Decision(label, hit, "name", 100.0)
        fuzzy = self._fuzzy(norm, uscc)
        if fuzzy is not None:
            return Decision(label, fuzzy[0], "fuzzy", round(fuzzy[1], 1))
        why = no_company(name)
        if why is not None:  # a clearing account or a person's name matching nothing known: no new firm
            return Decision(label, None, "rejected", reason=why)
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

    def ids_by_name(self, names: pa.Array) -> pa.Array:
        """The id of the enterprise (known, or added by this ingest) each name normalises to the
        name of; null where none. No fuzzy step and no new enterprise: for a column that should
        hold ids but holds names (a payroll export's 代发单位)."""
        return self._by_norm.lookup(normalise_texts(names.cast(pa.large_string())))

    def _compatible(self, node_id: str, uscc: str | None) -> bool:
        other = self._uscc_of.get(node_id)
        return not (uscc and other and other != uscc)

    def _fuzzy(self, norm: str, uscc: str | None) -> tuple[str, float] | None:
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
            block = self._block(block_id(key, branch, digits, length))
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

        Rows whose id is already a known enterprise id are settled in one vectorised step; the
        distinct remaining (id, name, USCC) triples are settled by joins on ids, USCCs and
        normalised names (`_settle`); only the names still unmatched go one by one through the
        fuzzy step, most frequent first. The columns stay Arrow arrays throughout.
        """
        index = (ids if ids is not None else names).index  # type: ignore[union-attr]
        size = len(index)
        cols = [None if s is None else _text(s) for s in (ids, names, usccs)]
        resolved = pa.nulls(size, pa.large_string())
        reasons = pa.nulls(size, pa.large_string())
        rest = np.ones(size, dtype=bool)
        given_id = cols[0]
        if given_id is not None:
            label = given_id if cols[1] is None else pc.coalesce(cols[1], given_id)
            known, labels, first_ids = known_rows(given_id, label, self._known_ids())
            if len(labels):
                rows = pd.RangeIndex(len(labels))
                self._id_hits.append(pd.DataFrame({"source_name": from_arrow(labels, rows),
                                                   "resolved_id": from_arrow(first_ids, rows)}))
                if known.all():
                    return from_arrow(given_id, index), from_arrow(reasons, index)
                rest = ~known
        if rest.any():
            at = pa.array(np.flatnonzero(rest)) if not rest.all() else None
            parts = [pa.nulls(int(rest.sum()), pa.large_string()) if c is None else (c if at is None else c.take(at))
                     for c in cols]
            keys = pc.binary_join_element_wise(*parts, pa.scalar("\x1f", pa.large_string()), null_handling="replace",
                                               null_replacement="")
            encoded = pc.dictionary_encode(keys)
            codes = encoded.indices.to_numpy(zero_copy_only=False)
            counts = np.bincount(codes, minlength=len(encoded.dictionary))
            # the distinct triples, most frequent first (ties by their text): the order they are resolved in
            order = pc.sort_indices(pa.table({"n": pa.array(-counts), "key": encoded.dictionary}),
                                    sort_keys=[("n", "ascending"), ("key", "ascending")])
            grows = np.maximum.accumulate(codes)
            first = np.flatnonzero(np.concatenate([[True], grows[1:] > grows[:-1]]))
            firsts = pa.array(first).take(order)
            triple = [_blank_as_null(p.take(firsts)) for p in parts]
            ids_of, whys = self._settle(*triple)
            # broadcast the per-distinct decisions back to the rows: one `take` by each row's code
            # (null on the rows known by id, which keep their id and have no reason)
            back = pc.sort_indices(order)  # dictionary code -> its place in `order`
            place = back.take(encoded.indices).to_numpy(zero_copy_only=False)
            if at is not None:
                spread = np.zeros(size, dtype=place.dtype)
                spread[rest] = place
                place = pa.array(spread, mask=~rest)
            resolved, reasons = ids_of.take(place), whys.take(place)
            if at is not None:
                resolved = pc.if_else(pa.array(rest), resolved, given_id)
        elif given_id is not None:
            resolved = given_id  # every row known by id
        return from_arrow(resolved, index), from_arrow(reasons, index)

    def _of_other_kind(self, ids: pa.Array) -> pa.Array:
        """Whether each id is a node of another kind."""
        given = pc.unique(pc.drop_null(ids))
        if len(given) == 0:
            return pa.array(np.zeros(len(ids), dtype=bool))
        found = pc.drop_null(self._other_ids.lookup_known(given))
        return pc.fill_null(pc.is_in(ids, value_set=found), False)

    def _settle(self, ids: pa.Array, names: pa.Array, usccs: pa.Array) -> tuple[pa.Array, pa.Array]:
        """Resolved ids and reasons of distinct triples given in the order they are resolved in.

        Exactly `resolve_one` on each triple in turn: what the known ids, USCCs and names settle is
        found by joins; only the triples left (their names matched nothing known) go through the
        fuzzy and external steps one by one, in order, because each new external enterprise can be
        the match of a later name. Such an external's id or USCC can also be what a LATER triple,
        settled here by its name, carries: those few are settled again.
        """
        text = pa.large_string()
        n = len(ids)
        labels = pc.coalesce(names, ids, pa.scalar("", text))
        other = self._of_other_kind(ids)
        by_uscc = self._uscc.lookup(usccs)
        norms = normalise_texts(names)
        by_name = self._by_norm.lookup(norms)
        clash = pc.fill_null(pc.and_(pc.is_valid(usccs), pc.not_equal(self._uscc_of.lookup(by_name), usccs)), False)
        by_name = pc.if_else(clash, pa.scalar(None, text), by_name)
        no_name = pc.is_null(names)
        no_letters = pc.equal(norms, "")
        null = pa.scalar(None, text)
        # the first true step decides (module docstring): other kind, USCC, no name, no letters, name
        steps = pc.make_struct(other, pc.is_valid(by_uscc), no_name, pc.fill_null(no_letters, False),
                               pc.is_valid(by_name))
        resolved = pc.case_when(steps, null, by_uscc, null, null, by_name, null)
        method = pc.case_when(steps, null, pa.scalar("uscc", text), null, null, pa.scalar("name", text), null)
        shown = pc.fill_null(ids, pa.scalar("None", text))
        why = pc.case_when(
            steps, _join("id ", shown, " belongs to a node that is not an enterprise"), null,
            _join("unknown id ", shown, " and no name to resolve it by"),
            pa.scalar("the name has no letters or digits", text), null, null)
        left = pc.and_(pc.is_null(resolved), pc.is_null(why))  # unmatched by anything known
        scores = np.full(n, np.nan)
        rest = pc.indices_nonzero(left)
        late: dict[str, dict[str, int]] = {"ids": {}, "usccs": {}}  # made by the triple at this place
        rest_ids: list[str | None] = []
        rest_methods: list[str] = []
        rest_whys: list[str | None] = []
        taken = [a.take(rest) for a in (labels, ids, names, norms, usccs)]
        self._prefetch(*taken[1:])
        rows = zip(rest.to_pylist(), *(a.to_pylist() for a in taken), strict=True)
        for place, label, node_id, name, norm, uscc in rows:  # one step per name left (see the docstring)
            decision = self.resolve_one(node_id, name, uscc) if (node_id in self._ids or uscc in self._uscc) \
                else self._by_name(label, node_id, name, norm, uscc)
            rest_ids.append(decision.resolved_id)
            rest_methods.append(decision.method)
            rest_whys.append(decision.reason or None)
            scores[place] = decision.score
            if decision.method == "external":
                late["ids"].setdefault(str(decision.resolved_id), place)
                if uscc:
                    late["usccs"].setdefault(uscc, place)
        if len(rest):
            resolved = pc.replace_with_mask(resolved, left, pa.array(rest_ids, text))
            method = pc.replace_with_mask(method, left, pa.array(rest_methods, text))
            why = pc.replace_with_mask(why, left, pa.array(rest_whys, text))
        if late["ids"] or late["usccs"]:
            resolved, method, why = _late(ids, usccs, other, by_uscc, left, (resolved, method, why), late, self._uscc)
        scores = np.where(pc.fill_null(pc.is_in(method, pa.array(["id", "uscc", "name"], text)), False)
                          .to_numpy(zero_copy_only=False), 100.0, scores)
        kept = pc.and_(pc.is_valid(resolved), pc.not_equal(labels, "")).to_numpy(zero_copy_only=False)
        self._decided.append(pd.DataFrame({
            "source_name": labels.filter(pa.array(kept)).to_pylist(),
            "resolved_id": resolved.filter(pa.array(kept)).to_pylist(),
            "method": method.filter(pa.array(kept)).to_pylist(),
            "score": scores[kept]}))
        return resolved, why

    def _prefetch(self, ids: pa.Array, names: pa.Array, norms: pa.Array, usccs: pa.Array) -> None:
        """Look up at once what the one-by-one steps can ask of the known enterprises about these
        triples: their ids (and the ids an external made of each name would take), USCCs and
        normalised names, and the USCC of each of those ids and of each enterprise the names match."""
        text = pa.large_string()
        made = [external_id(n + tail) for n, u in zip(norms.to_pylist(), usccs.to_pylist(), strict=True) if n
                for tail in ("", "|" + (u or ""))]
        new_ids = pa.concat_arrays([ids, pa.array(made, text)])  # every id these steps can give
        self._ids.prefetch(new_ids)
        self._other_ids.prefetch(ids)
        self._uscc.prefetch(usccs)
        self._by_norm.prefetch(norms)
        self._uscc_of.prefetch(pa.concat_arrays([new_ids, self._by_norm.lookup_known(norms)]))

    def report(self) -> pd.DataFrame:
        """The decisions of this ingest: source_name, resolved_id, method, score.

        A name resolved more than once is listed where it was first resolved, with its last decision.
        """
        columns = ["source_name", "resolved_id", "method", "score"]
        decided = pd.concat(self._decided, ignore_index=True) if self._decided else pd.DataFrame(columns=columns)
        firsts = decided[["source_name"]].drop_duplicates(keep="first")
        rows = firsts.merge(decided.drop_duplicates("source_name", keep="last"), on="source_name", how="left")
        rows = pd.DataFrame({c: rows[c].tolist() for c in columns}, columns=columns)
        by_id = [h.assign(method="id", score=100.0) for h in self._id_hits]
        frame = pd.concat([*by_id, rows], ignore_index=True)[columns]
        return frame.drop_duplicates("source_name", keep="last").reset_index(drop=True)


def _late(ids: pa.Array, usccs: pa.Array, other: pa.Array, by_uscc: pa.Array, left: pa.Array,
          decided: tuple[pa.Array, pa.Array, pa.Array], late: dict[str, dict[str, int]],
          uscc_ids: Known) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Triples settled by the known state whose id or USCC an EARLIER triple's new external took.

    `resolve_one` would settle them by that id (or USCC), which comes before the name step.
    """
    resolved, method, why = (a.to_pylist() for a in decided)
    text = pa.large_string()
    settled = pc.invert(left)
    made_ids = pa.array(list(late["ids"]), text)
    made_usccs = pa.array(list(late["usccs"]), text)
    by_id = pc.and_(settled, pc.fill_null(pc.is_in(ids, value_set=made_ids), False))
    by_new_uscc = pc.and_(pc.and_(settled, pc.invert(other)),
                          pc.and_(pc.is_null(by_uscc), pc.fill_null(pc.is_in(usccs, value_set=made_usccs), False)))
    for place in pc.indices_nonzero(pc.or_(by_id, by_new_uscc)).to_pylist():
        node_id, uscc = ids[place].as_py(), usccs[place].as_py()
        if node_id is not None and late["ids"].get(node_id, place) < place:
            resolved[place], method[place], why[place] = node_id, "id", None
        elif uscc is not None and not other[place].as_py() and late["usccs"].get(uscc, place) < place:
            resolved[place], method[place], why[place] = uscc_ids[uscc], "uscc", None
    return pa.array(resolved, text), pa.array(method, text), pa.array(why, text)


def _join(*parts: str | pa.Array) -> pa.Array:
    text = pa.large_string()
    return pc.binary_join_element_wise(*(pa.scalar(p, text) if isinstance(p, str) else p for p in parts),
                                       pa.scalar("", text))


def _blank_as_null(values: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.large_string()), values)


def _text(values: pd.Series) -> pa.Array:
    """A text column as one large_string Arrow array (zero-copy for pyarrow-backed strings)."""
    arr = to_arrow(values)
    arr = one_array(arr)
    return arr if arr.type == pa.large_string() else arr.cast(pa.large_string())
