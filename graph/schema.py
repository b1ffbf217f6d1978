"""The data model as data: node kinds, edge kinds and the tables a store holds.

Every table has a fixed set of columns with a dtype; `conform` turns any DataFrame into
exactly that shape, so backends, ingest and scoring agree on what a table looks like.

Node ids are the bank's own ids (or ``ext:<hash>`` for counterparties known only by
name) and are unique across node kinds.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa

from graph.nested import NESTED, from_json, to_pandas

__all__ = [
    "NODE_KINDS",
    "EDGE_KINDS",
    "TABLES",
    "NODE_TABLES",
    "FACT_TABLES",
    "TableSpec",
    "conform",
    "conform_arrow",
    "arrow_schema",
    "as_frame",
    "TableData",
    "empty",
    "ROLES",
    "POSITIONS",
    "ASSOCIATION_KINDS",
    "TIERS",
    "FAMILIES",
    "KINDS_BY_FAMILY",
]

# "nested": a list column of `graph.nested.NESTED` (its Arrow type there), JSON text in pandas
Dtype = Literal["str", "float", "int", "bool", "date", "nested"]
# what `GraphStore.write` takes per table: a DataFrame, or an Arrow table (derived tables that
# never become pandas, e.g. ingest's `edges`)
TableData: TypeAlias = pd.DataFrame | pa.Table

NODE_KINDS = ("Enterprise", "Person", "Association", "Manager", "Branch")
EDGE_KINDS = (
    "PAYS",  # enterprise -> enterprise, aggregated payments
    "BILL",  # drawer -> payee, aggregated acceptance bills
    "ENDORSES",  # endorser -> endorsee along a bill's chain
    "PAYROLL",  # employer -> person
    "HOLDS_ROLE",  # person -> enterprise (role, share_pct)
    "MEMBER_OF",  # enterprise or person -> association (position)
    "PARENT_OF",  # enterprise -> enterprise
    "MANAGES",  # manager -> client enterprise or retail person
    "IN_BRANCH",  # enterprise, person or manager -> branch
)
ROLES = ("legal_rep", "director", "executive", "shareholder", "actual_controller", "finance", "employee",
         "other", "related")  # other: a title no word rule knows (kept in roles.title); related: no title
POSITIONS = ("member", "director", "vice_president", "president", "secretary_general")
ASSOCIATION_KINDS = ("industry_association", "chamber_of_commerce", "market", "park", "other")
TIERS = ("mass", "potential", "vip", "private")
FAMILIES = ("supply_chain", "referral", "retail_linkage", "ecosystem")
KINDS_BY_FAMILY = {
    "supply_chain": ("upstream", "downstream"),
    "referral": ("member", "association_target"),
    "retail_linkage": ("payroll", "executive", "corporate_from_retail", "outflow"),
    "ecosystem": ("group", "branch_store"),
}


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: dict[str, Dtype]
    key: tuple[str, ...] = ()
    node_kind: str | None = None
    doc: str = ""
    personal: tuple[str, ...] = field(default=())


def _spec(name: str, cols: str, key: str = "", node_kind: str | None = None, doc: str = "",
          personal: str = "") -> TableSpec:
    columns: dict[str, Dtype] = {}
    for part in cols.split():
        col, _, dtype = part.partition(":")
        columns[col] = dtype or "str"  # type: ignore[assignment]
    return TableSpec(name, columns, tuple(key.split()), node_kind, doc, tuple(personal.split()))


TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in [
        # --- nodes ---
        _spec("enterprises",
              "id name name_norm uscc industry region registered_capital:float is_client:bool "
              "is_credit_client:bool branch_id manager_id parent_id opened_on:date is_external:bool "
              "do_not_contact:bool",
              "id", "Enterprise", "client and external enterprises"),
        _spec("persons",
              "id name id_hash phone_masked is_retail_client:bool aum:float aum_prev:float tier "
              "branch_id manager_id do_not_contact:bool",
              "id", "Person", "persons; id_hash is salted, phone_masked is 138****5678", "name"),
        _spec("associations", "id name kind region", "id", "Association"),
        _spec("managers", "id name kind branch_id", "id", "Manager"),
        _spec("branches", "id name", "id", "Branch"),
        # --- facts (deduplicated input rows) ---
        _spec("payments",
              "fact_id payer_id payee_id payee_bank amount:float paid_on:date month payer_bank",
              "fact_id", doc="one row per payment; fact_id is stable across re-ingests"),
        _spec("bills",
              "bill_id drawer_id payee_id acceptor amount:float issued_on:date due_on:date discounted_by",
              "bill_id"),
        _spec("endorsements", "bill_id seq:int from_id to_id endorsed_on:date", "bill_id seq"),
        _spec("payroll", "employer_id person_id month amount:float", "employer_id person_id month"),
        _spec("roles", "person_id enterprise_id role share_pct:float title first_on:date last_on:date",
              "person_id enterprise_id role"),
        _spec("memberships", "association_id member_id member_kind position", "association_id member_id"),
        # --- derived graph edges (rebuilt from facts and nodes on every ingest) ---
        _spec("edges",
              "src dst kind amount:float count:int first_on:date last_on:date months_active:int "
              "other_bank_amount:float role share_pct:float position title",
              "src dst kind role",
              doc="aggregated edges of every kind in EDGE_KINDS"),
        # --- entity resolution decisions of the last ingest(s) ---
        _spec("resolutions", "source_name resolved_id method score:float", "source_name",
              doc="how each counterparty name was resolved: id, uscc, name, fuzzy or external"),
        # --- scoring results ---
        _spec("prospects",
              "family kind prospect_id name score:float rank:int reasons:nested evidence:nested path:nested "
              "suggested_products:nested manager_id branch_id anchor_id association_id employer_id "
              "is_deepening:bool details",
              "family kind prospect_id",
              doc="scored rows of every family, sorted by family/kind/rank; reasons (template ids and "
                  "parameters), evidence, path and products are Arrow lists (`graph.nested`, JSON text "
                  "in pandas), details is JSON text"),
    ]
}
NODE_TABLES = {name: spec for name, spec in TABLES.items() if spec.node_kind}
FACT_TABLES = ("payments", "bills", "endorsements", "payroll", "roles", "memberships")

_PANDAS = {"str": "string", "float": "float64", "int": "Int64", "bool": "boolean", "date": "datetime64[ns]",
           "nested": "string"}


def empty(table: str) -> pd.DataFrame:
    """An empty frame with the table's columns and dtypes."""
    spec = TABLES[table]
    return pd.DataFrame({c: pd.Series(dtype=_PANDAS[d]) for c, d in spec.columns.items()})


def _conformed(table: str, df: pd.DataFrame) -> bool:
    """True when `df` already has exactly the table's columns, in order, in the schema's dtypes."""
    spec = TABLES[table]
    if list(df.columns) != list(spec.columns) or not isinstance(df.index, pd.RangeIndex) or df.index.start != 0 \
            or df.index.step != 1:
        return False
    for col, dtype in spec.columns.items():
        have, want = df[col].dtype, pd.api.types.pandas_dtype(_PANDAS[dtype])
        if have != want or getattr(have, "storage", None) != getattr(want, "storage", None):
            return False
    return True


def conform(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Return `df` with exactly the table's columns (missing ones null) in the schema's dtypes.

    A frame already in that shape is returned as it is (conforming twice costs nothing).
    """
    if _conformed(table, df):
        return df
    spec = TABLES[table]
    out = pd.DataFrame(index=df.index)
    for col, dtype in spec.columns.items():
        if col in df.columns:
            s = df[col]
            if dtype == "date":
                s = pd.to_datetime(s, errors="coerce")
                if getattr(s.dt, "tz", None) is not None:
                    s = s.dt.tz_localize(None)
                s = s.astype("datetime64[ns]")
            elif dtype == "bool":
                s = s.astype("boolean")
            elif dtype == "int":
                s = pd.to_numeric(s, errors="coerce").round().astype("Int64")
            elif dtype == "float":
                s = pd.to_numeric(s, errors="coerce").astype("float64")
            elif dtype == "nested" and pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty"):
                # lists given in pandas (a caller's own rows): the JSON text pandas shows them as
                s = to_pandas(pa.table({col: pa.array(s.tolist(), NESTED[col])}))[col]
            else:
                s = s.astype("string")
            out[col] = s
        else:
            out[col] = pd.Series(pd.NA if dtype != "float" else float("nan"), index=df.index,
                                 dtype=_PANDAS[dtype])
    return out.reset_index(drop=True)


@functools.cache
def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema a conformed frame of `table` has (with the pandas metadata that makes
    `to_pandas` give the schema's dtypes back): what a stored Parquet file of the table holds."""
    schema = pa.Schema.from_pandas(empty(table), preserve_index=False)
    nested = [name for name, dtype in TABLES[table].columns.items() if dtype == "nested"]
    if not nested:
        return schema
    for name in nested:
        schema = schema.set(schema.get_field_index(name), pa.field(name, NESTED[name]))
    # pandas makes a list column an object column of arrays (`graph.nested.to_pandas`: JSON text)
    meta = json.loads(schema.metadata[b"pandas"])
    for col in meta["columns"]:
        if col["name"] in nested:
            col.update(pandas_type="object", numpy_type="object", metadata=None)
    return schema.with_metadata({b"pandas": json.dumps(meta).encode("utf-8")})


def conform_arrow(table: str, data: pa.Table) -> pa.Table:
    """`conform` for an Arrow table: exactly the table's columns (missing ones null), cast to
    `arrow_schema(table)`. A table already in that schema is returned as it is."""
    schema = arrow_schema(table)
    if data.schema.equals(schema, check_metadata=True):
        return data
    data = from_json(data)  # nested columns given as JSON text (pandas, a server backend, an older file)
    nulls = _nulls(data.num_rows, {fld.name: fld.type for fld in schema if fld.name not in data.column_names})
    columns = [data.column(fld.name).cast(fld.type) if fld.name in data.column_names else nulls[fld.name]
               for fld in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def _buffer_sizes(size: int, dtype: pa.DataType) -> list[int] | None:
    """The bytes of each buffer of an all-null array (validity first); None: Arrow's `nulls` makes it."""
    validity = (size + 7) // 8
    if pa.types.is_large_string(dtype) or pa.types.is_large_binary(dtype):
        return [validity, (size + 1) * 8, 0]
    if pa.types.is_string(dtype) or pa.types.is_binary(dtype):
        return [validity, (size + 1) * 4, 0]
    if pa.types.is_boolean(dtype):
        return [validity, validity]
    if pa.types.is_primitive(dtype):
        return [validity, size * dtype.bit_width // 8]
    return None  # nested


def _nulls(size: int, types: dict[str, pa.DataType]) -> dict[str, pa.Array]:
    """An all-null array of `size` rows per named type, `pa.nulls` alike, their buffers slices of
    one buffer of zeros. numpy's zeros come from calloc: the pages of a large one are the system's
    zero page until written, and nothing writes them (Arrow's `nulls` fills a buffer per column: at
    20M payments the four empty columns of the PAYS edges were 0.6 GB of memory written, ~1 s)."""
    sizes = {name: _buffer_sizes(size, dtype) for name, dtype in types.items()}
    largest = max((n for found in sizes.values() if found for n in found), default=0)
    zeros = pa.py_buffer(np.zeros(largest, dtype=np.uint8))
    return {name: pa.nulls(size, dtype) if sizes[name] is None
            else pa.Array.from_buffers(dtype, size, [zeros.slice(0, n) for n in sizes[name] or []], null_count=size)
            for name, dtype in types.items()}


def as_frame(table: str, data: TableData) -> pd.DataFrame:
    """The table's rows as a conformed DataFrame, whichever form they come in."""
    return conform(table, to_pandas(data) if isinstance(data, pa.Table) else data)
