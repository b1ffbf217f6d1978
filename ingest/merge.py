"""Merging validated rows into the store's tables: nodes by id, facts by key, references checked.

Incremental and idempotent: a node's new non-empty fields override its stored ones (empty
ones keep them); a fact replaces the stored fact with the same key (`fact_id` for payments),
so re-ingesting a file changes nothing and a new month adds to the totals.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph.arrays import one_array
from graph.duck import duckdb_cursor
from graph.schema import FACT_TABLES, NODE_TABLES, TABLES, conform
from ingest.arrow_text import few_among
from ingest.known import JOINED_FROM
from ingest.names import normalise_names
from ingest.normalise import from_arrow, isin, to_arrow
from ingest.report import ROW_REJECTED, VALUE_DROPPED
from ingest.resolve import Resolver
from ingest.validate import Context

__all__ = ["node_frame", "merge_nodes", "merge_facts", "check_refs", "known_values", "resolve_facts", "absorb_externals",
           "remap_facts", "FACT_KEYS", "ID_COLUMN", "last_per_key"]

ID_COLUMN = {"enterprises": "enterprise_id", "persons": "person_id", "associations": "association_id",
             "managers": "manager_id", "branches": "branch_id"}
FACT_KEYS: dict[str, list[str]] = {t: list(TABLES[t].key) for t in FACT_TABLES}


def node_frame(table: str, rows: pd.DataFrame) -> pd.DataFrame:
    """Validated canonical node rows in the schema's shape (plus `_file`/`_row`)."""
    df = rows.rename(columns={ID_COLUMN[table]: "id"})
    if "name" not in df.columns:  # a source with only flags or managers: the name comes from elsewhere
        df["name"] = pd.Series(pd.NA, index=df.index, dtype="string")
    if table == "enterprises":
        df["name_norm"] = normalise_names(df["name"])
        df["is_external"] = False
    out = conform(table, df)
    for extra in ("_file", "_row"):
        if extra in df.columns:
            out[extra] = df[extra].to_numpy()
    return out


def merge_nodes(table: str, old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Stored nodes plus new ones; a new non-empty field overrides, an empty one keeps the stored."""
    new = conform(table, new)
    if new.empty:
        return old
    # only ids present on both sides need field-by-field merging; the rest are simply appended
    overlap = isin(new["id"], old["id"]) if len(old) else pd.Series(False, index=new.index)
    if overlap.any():
        # each shared id's stored row, field by field: a new non-empty value replaces the stored one
        updates = new[overlap]
        at = pc.index_in(to_arrow(updates["id"]), value_set=_array(old["id"].astype("string")))
        rows = at.to_numpy(zero_copy_only=False).astype(np.int64)
        old = old.reset_index(drop=True)
        stored = {col: _override(old[col], updates[col], rows) for col in old.columns if col != "id"}
        merged = pd.concat([old.assign(**stored), new[~overlap]], ignore_index=True)  # stored order, then new
    else:
        merged = pd.concat([old, new], ignore_index=True) if len(old) else new.copy()
    if table == "enterprises":
        listed = new.loc[~new["is_external"].fillna(False).astype(bool), "id"]
        merged.loc[isin(merged["id"], listed), "is_external"] = False
        for col in ("is_client", "is_credit_client", "is_external", "do_not_contact"):
            merged[col] = merged[col].fillna(False)
    if table == "persons":
        for col in ("is_retail_client", "do_not_contact"):
            merged[col] = merged[col].fillna(False)
    return conform(table, merged)


def _override(stored: pd.Series, values: pd.Series, rows: np.ndarray) -> pd.Series:
    """`stored` with `values` put at positions `rows`, where a value is not empty."""
    given = values.notna().to_numpy()
    if not given.any():
        return stored
    take = np.arange(len(stored))
    take[rows[given]] = len(stored) + np.arange(int(given.sum()))
    return pd.concat([stored, values[given]], ignore_index=True).take(take).reset_index(drop=True)


def merge_facts(table: str, old: pd.DataFrame, new: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Stored facts plus new ones, replacing by key; returns (facts, how many keys are new)."""
    new = conform(table, new)
    key = FACT_KEYS[table]
    if new.empty:
        return old, 0
    if old.empty:
        return last_per_key(new, key), len(new)
    old_keys, new_keys = _joined(old, key), _joined(new, key)
    if table == "roles":
        new = _role_span(old, old_keys, new, new_keys)
    # one dictionary over both sides' keys: membership either way is a look-up in a numpy mask
    both = pa.concat_arrays([_array(old_keys), _array(new_keys)])
    codes = pc.dictionary_encode(both).indices.to_numpy(zero_copy_only=False)
    old_codes, new_codes = codes[:len(old)], codes[len(old):]
    in_old = np.zeros(len(both), dtype=bool)
    in_old[old_codes] = True
    in_new = np.zeros(len(both), dtype=bool)
    in_new[new_codes] = True
    fresh = int((~in_old[new_codes]).sum())
    kept = old[~in_new[old_codes]]
    return last_per_key(pd.concat([kept, new], ignore_index=True), key), fresh


def last_per_key(df: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """`df.drop_duplicates(key, keep="last")` with a fresh index, without copying `df` when no key
    repeats (keyed facts nearly always are unique: the copy of millions of rows was the cost)."""
    repeated = _repeated(df, key)
    out = df[~repeated] if repeated is not None and repeated.any() else df
    return out.reset_index(drop=True)


def _repeated(df: pd.DataFrame, key: list[str]) -> np.ndarray | None:
    """`df.duplicated(key, keep="last")` from one Arrow dictionary code per key column (None: no
    key repeats). pandas factorizes each column a second time and combines them more slowly.

    Every key first gets a cheap test that settles the usual case: each row's print (`_prints`)
    is equal for equal keys, so when no print repeats (one numpy sort) no key repeats either.
    Only a key whose prints repeat is encoded exactly: the hash tables of its dictionary codes
    and their duplicates outgrow the CPU caches and grow faster than the rows (payroll's three
    columns: 1.1-1.7 s of CPU at 2M payments, 5-9.6 s at 5M; their prints 1.1-1.4 s and 2.6-3.1 s).
    """
    if any(pd.api.types.is_float_dtype(df[col].dtype) for col in key):  # NaN keys: pandas' own rules
        return df.duplicated(key, keep="last").to_numpy()
    arrays = [_key_array(df[col]) for col in key]
    prints = _prints(arrays)
    if prints is not None and len(prints) > 1:
        ordered = np.sort(prints)
        if not (ordered[1:] == ordered[:-1]).any():
            return None
    combined: np.ndarray | None = None
    size = 1
    for array in arrays:
        encoded = pc.dictionary_encode(array, null_encoding="encode")
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        n = max(len(encoded.dictionary), 1)
        if combined is None:
            if len(key) == 1 and n == len(codes):  # one key column, all values distinct
                return None
            combined, size = codes, n
            continue
        if size * n >= 2**62:  # keep the combined code within int64: renumber what is seen so far
            combined, uniques = pd.factorize(combined)
            size = len(uniques)
        combined, size = combined * n + codes, size * n
    return None if combined is None else pd.Series(combined).duplicated(keep="last").to_numpy()


def _key_array(values: pd.Series) -> pa.Array:
    array = pa.array(values.array if isinstance(values.dtype, pd.api.extensions.ExtensionDtype) else values.to_numpy())
    return one_array(array)


def _prints(arrays: list[pa.Array]) -> np.ndarray | None:
    """A uint64 per row, equal for rows whose key values are equal (None: no key column).

    DuckDB's `hash` of the key columns, read from the Arrow arrays in place: C++ over whole
    values on every core, a third to a half of the CPU time of numpy prints of each text's
    length and ends (payroll's three key columns at 2M payments: 0.19 s against 0.42-0.73 s).
    Different keys may share a print (then the caller takes the exact way), equal keys never differ.
    """
    if not arrays:
        return None
    con = duckdb_cursor()  # a cursor costs microseconds, a new database ~20 ms of CPU
    try:
        con.register("key_columns", pa.table({f"k{i}": array for i, array in enumerate(arrays)}))
        columns = ", ".join(f"k{i}" for i in range(len(arrays)))
        # a projection keeps the rows' order (DuckDB's preserve_insertion_order, on by default)
        prints = con.sql(f"SELECT hash({columns}) AS h FROM key_columns").fetchnumpy()["h"]  # noqa: S608 - our names
    finally:
        con.close()
    return np.asarray(prints, dtype=np.uint64)


def _array(keys: pd.Series) -> pa.Array:
    values = to_arrow(keys)
    return one_array(values)


def _role_span(old: pd.DataFrame, old_keys: pd.Series, new: pd.DataFrame, new_keys: pd.Series) -> pd.DataFrame:
    """A relation seen again keeps its earliest first_on and latest last_on across ingests."""
    new = new.copy()
    for col, how in (("first_on", "min"), ("last_on", "max")):
        stored = pd.Series(old[col].to_numpy(), index=old_keys.to_numpy())
        stored = stored[~stored.index.duplicated()]
        both = pd.DataFrame({"new": new[col].to_numpy(), "old": new_keys.map(stored).to_numpy()},
                            index=new.index).apply(pd.to_datetime)
        new[col] = both.min(axis=1) if how == "min" else both.max(axis=1)
    return new


def _joined(df: pd.DataFrame, key: list[str]) -> pd.Series:
    """The key columns as one text per row ("a\x1fb"; a blank part is ""), joined by Arrow."""
    parts = [to_arrow(df[col].astype("string")).fill_null("").cast(pa.large_string()) for col in key]
    joined = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, pa.scalar("\x1f", pa.large_string()))
    return from_arrow(joined, df.index)


def known_values(values: pd.Series, known: set[str] | pd.Series) -> pd.Series:
    """`isin` for a text column against many ids, the cheaper way round (nulls are False).

    Few rows against many ids (a handful of associations against every other node id): the few
    are found among the many, without hashing all of them into a look-up table. Many rows against
    many ids (payroll against persons): a join in DuckDB.
    """
    column = _array(values.astype("string"))
    ids = pa.array(list(known), pa.large_string()) if isinstance(known, set) else _array(known.dropna().astype("string"))
    near = few_among(column, ids)
    if near is not None or len(column) < JOINED_FROM:
        hit = pc.is_in(column, value_set=ids if near is None else ids.filter(near))
        return pd.Series(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), index=values.index, dtype=bool)
    # many rows against many ids: DuckDB's hash joins on every core give the positions of the
    # rows no id matches, the ids first cut down to those asked about (the 20M-payment bundle's
    # 24M payroll rows against 10M persons: 2.7-3.5 s; one join of the rows with every id 4.1-4.4 s
    # and 1 GB more; Arrow's look-up of each distinct value, on one core, 11 s). Ids fewer than a
    # quarter of the rows are joined as they are (10M persons against 2M enterprise ids: 0.4 s,
    # cut down first 1.3-2.3 s; 24M payroll rows against 2M employers: the same either way)
    con = duckdb_cursor()
    try:
        con.register("asked", pa.table({"pos": pa.array(np.arange(len(column), dtype=np.int64)), "v": column}))
        con.register("known", pa.table({"id": ids}))
        joined_whole = 4 * len(ids) < len(column)  # few ids for the rows: no cut-down (below)
        unknown = con.sql(_UNKNOWN_OF_ALL_SQL if joined_whole else _UNKNOWN_SQL).fetchnumpy()["pos"]
    finally:
        con.close()
    hit = column.is_valid().to_numpy(zero_copy_only=False)
    hit[np.asarray(unknown, dtype=np.int64)] = False
    return pd.Series(hit, index=values.index, dtype=bool)


_UNKNOWN_SQL = """
WITH distinct_asked AS (SELECT DISTINCT v FROM asked WHERE v IS NOT NULL),
     known_asked AS (SELECT id FROM known SEMI JOIN distinct_asked ON id = v)
SELECT pos FROM asked ANTI JOIN known_asked ON v = id WHERE v IS NOT NULL
"""
_UNKNOWN_OF_ALL_SQL = "SELECT pos FROM asked ANTI JOIN known ON v = id WHERE v IS NOT NULL"


def check_refs(table: str, rows: pd.DataFrame, column: str, known: set[str] | pd.Series, ctx: Context,
               what: str, required: bool = True,
               by_name: Callable[[pd.Series], pd.Series] | None = None) -> pd.DataFrame:
    """Reject (or, when not required, blank and report) rows whose `column` names no known node;
    `by_name` first gives the id of those values that are a node's name (NA where none)."""
    if rows.empty or column not in rows.columns:
        return rows
    values = rows[column].astype("string")
    bad = values.notna() & ~known_values(values, known)
    if bad.any() and by_name is not None:
        found = by_name(values[bad])
        named = found.index[found.notna().to_numpy()]
        if len(named):
            rows = rows.copy()
            rows.loc[named, column] = found.loc[named].astype(rows[column].dtype)
            bad.loc[named] = False
    if not bad.any():
        return rows
    for file, part in rows[bad].groupby("_file", sort=False):
        ctx.rejects.add(table, str(file), part["_row"], column, part[column], f"unknown {what} {column}",
                        ROW_REJECTED if required else VALUE_DROPPED)
    if required:
        return rows[~bad]
    rows = rows.copy()
    rows.loc[bad, column] = pd.NA
    return rows


def resolve_facts(table: str, rows: pd.DataFrame, prefix: str, resolver: Resolver, ctx: Context,
                  optional: bool = False) -> pd.DataFrame:
    """Resolve a counterparty (`<prefix>_id` / `<prefix>_name`) to a node id in `<prefix>_id`."""
    if rows.empty:
        return rows
    id_col, name_col = f"{prefix}_id", f"{prefix}_name"
    ids = rows[id_col].astype("string") if id_col in rows.columns else None
    names = rows[name_col].astype("string") if name_col in rows.columns else None
    present = pd.Series(False, index=rows.index)
    for s in (ids, names):
        if s is not None:
            present |= s.notna()
    if optional and not present.any():
        return rows
    given = present.to_numpy()
    if given.all():
        resolved, why = resolver.resolve(ids, names)
    else:
        resolved, why = resolver.resolve(ids[given] if ids is not None else None,
                                         names[given] if names is not None else None)
        resolved, why = _spread(resolved, given, rows.index), _spread(why, given, rows.index)
    shown = name_col if names is not None else id_col
    asked = rows[shown]  # the value a reject names (the id column is replaced just below)
    rows = rows.assign(**{id_col: resolved})
    failed = present & resolved.isna()
    if failed.any():
        for file, part in rows[failed].groupby("_file", sort=False):
            ctx.rejects.add(table, str(file), part["_row"], shown, asked.loc[part.index],
                            why.loc[part.index].fillna("unresolved"), ROW_REJECTED)
        rows = rows[~failed]
    return rows


def _spread(values: pd.Series, at: np.ndarray, index: pd.Index) -> pd.Series:
    """Text `values` of the rows where `at` is True, as a column over all rows (<NA> elsewhere)."""
    blank = pa.nulls(len(at), pa.large_string())
    return from_arrow(pc.replace_with_mask(blank, pa.array(at), _array(values)), index)


def absorb_externals(nodes: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """External enterprises whose name is now a listed enterprise's are folded into it.

    Returns the enterprises without them and the id remap (old id -> listed id) that
    `remap_facts` applies to the stored facts.
    """
    ext = nodes["is_external"].fillna(False).astype(bool)
    listed = nodes[~ext & nodes["name_norm"].notna()].drop_duplicates("name_norm", keep="last")
    externals = nodes[ext & nodes["name_norm"].notna()]
    pairs = externals[["id", "name_norm", "uscc"]].merge(
        listed[["id", "name_norm", "uscc"]].rename(columns={"id": "target", "uscc": "target_uscc"}),
        on="name_norm", how="inner")
    # a USCC is a hard key: an external whose valid USCC differs from the listed one stays apart
    clash = pairs["uscc"].notna() & pairs["target_uscc"].notna() & (pairs["uscc"] != pairs["target_uscc"])
    pairs = pairs[(pairs["target"] != pairs["id"]) & ~clash.fillna(False).astype(bool)]
    remap: dict[str, str] = dict(zip(pairs["id"].astype(str), pairs["target"].astype(str), strict=True))
    if not remap:
        return nodes, remap
    return nodes[~isin(nodes["id"], remap)].reset_index(drop=True), remap


_REMAPPED = {"payments": ("payer_id", "payee_id"), "bills": ("drawer_id", "payee_id"),
             "endorsements": ("from_id", "to_id"), "memberships": ("member_id",)}


def remap_facts(table: str, facts: pd.DataFrame, remap: dict[str, str]) -> pd.DataFrame:
    """`facts` of `table` with the enterprise ids `absorb_externals` folded replaced (a new frame)."""
    columns = _REMAPPED.get(table, ())
    if not remap or not columns or not len(facts):
        return facts
    return facts.assign(**{col: facts[col].replace(remap) for col in columns})


def node_ids(tables: dict[str, pd.DataFrame], *names: str) -> pd.Series:
    """The ids of the named node tables as one text column (for `isin`; no Python set is built)."""
    parts = [tables[name]["id"].astype("string") for name in names or tuple(NODE_TABLES)]
    return pd.concat(parts, ignore_index=True) if parts else pd.Series([], dtype="string")
