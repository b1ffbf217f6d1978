"""Every Cypher statement the Neo4j backend runs, as constants.

Values always travel as ``$parameters``. Labels and relationship types cannot be
parameters in Cypher, so the per-label and per-type statements below are filled in once,
at import, from the fixed whitelists (`NODE_LABELS`, `ROW_LABELS`, `EDGE_TYPES`, which come
from `graph.schema`) — never from data. `tests/neo4j/test_cypher_is_parameterised.py`
checks exactly that.

The model: every graph node has the label ``Entity`` plus its kind (``Entity:Enterprise``)
and the properties ``_store`` (the namespace: several stores may share one database),
``id``, ``_pos`` (its row in the table) and its table's columns. Each row of a fact, derived
or result table is a node of its own label keyed by ``(_store, _key)``. Each ``edges`` row is
a relationship of its kind between two ``Entity`` nodes, keyed by ``_key``. One
``StoreVersion`` node per namespace holds the version, the table list and the history.
"""

from __future__ import annotations

from graph.schema import EDGE_KINDS, NODE_TABLES

__all__ = [
    "ENTITY", "VERSION_LABEL", "NODE_LABELS", "ROW_LABELS", "EDGE_TYPES", "SCHEMA", "LOCK_VERSION", "SET_VERSION",
    "GET_VERSION", "UPSERT_NODES", "DELETE_NODES", "UPSERT_ROWS", "DELETE_ROWS", "UPSERT_EDGES",
    "DELETE_EDGES", "DROP_ORPHANS", "READ_NODES", "READ_ROWS", "READ_EDGES", "NODE",
    "NODES_BY_IDS", "NEIGHBOUR_STEP", "SUBGRAPH_EDGES", "WHITELIST", "DROP_NAMESPACE",
]

ENTITY = "Entity"
# table -> label. Node tables use their schema kind; the other tables get a label of their own.
NODE_LABELS: dict[str, str] = {name: str(spec.node_kind) for name, spec in NODE_TABLES.items()}
ROW_LABELS: dict[str, str] = {
    "payments": "Payment",
    "bills": "Bill",
    "endorsements": "Endorsement",
    "payroll": "PayrollRun",
    "roles": "RoleFact",
    "memberships": "MembershipFact",
    "resolutions": "Resolution",
    "prospects": "Prospect",
}
EDGE_TYPES: tuple[str, ...] = tuple(EDGE_KINDS)
VERSION_LABEL = "StoreVersion"
# Every name that may appear in a statement outside a $parameter.
WHITELIST: frozenset[str] = frozenset(
    {ENTITY, VERSION_LABEL, *NODE_LABELS.values(), *ROW_LABELS.values(), *EDGE_TYPES}
)
_INDEXED = {"Enterprise": ("name", "name_norm", "uscc"), "Person": ("name",), "Association": ("name",),
            "Manager": ("name",), "Branch": ("name",)}


def _fill(template: str, name: str, prop: str = "") -> str:
    """Put a whitelisted label or type (and an indexed property) into a template.

    These are the only parts of a statement that are not parameters: Cypher cannot take a
    label, a relationship type or an index's property as a parameter.
    """
    if name not in WHITELIST:
        raise ValueError(f"{name!r} is not a whitelisted label or relationship type")
    if prop and prop not in _INDEXED.get(name, ()):
        raise ValueError(f"{prop!r} is not an indexed property of {name}")
    return template.replace("<NAME>", name).replace("<name>", name.lower()).replace("<PROP>", prop)


# ------------------------------------------------------------------ schema (auto-commit DDL)
SCHEMA: tuple[str, ...] = (
    "CREATE CONSTRAINT pg_entity_key IF NOT EXISTS FOR (n:Entity) REQUIRE (n._store, n.id) IS UNIQUE",
    "CREATE CONSTRAINT pg_version_key IF NOT EXISTS FOR (n:StoreVersion) REQUIRE n._store IS UNIQUE",
    *(_fill("CREATE CONSTRAINT pg_<name>_key IF NOT EXISTS FOR (n:<NAME>) "
            "REQUIRE (n._store, n.id) IS UNIQUE", label) for label in NODE_LABELS.values()),
    *(_fill("CREATE CONSTRAINT pg_<name>_key IF NOT EXISTS FOR (n:<NAME>) "
            "REQUIRE (n._store, n._key) IS UNIQUE", label) for label in ROW_LABELS.values()),
    *(_fill("CREATE INDEX pg_<name>_<PROP> IF NOT EXISTS FOR (n:<NAME>) ON (n.<PROP>)", label, prop)
      for label, props in _INDEXED.items() for prop in props),
)

# ------------------------------------------------------------------------- version
# SET on the version node takes its write lock: concurrent writers (on any machine) queue here.
LOCK_VERSION = ("MERGE (v:StoreVersion {_store: $store}) "
                "SET v._lock = $token RETURN v.version AS version")
SET_VERSION = ("MATCH (v:StoreVersion {_store: $store}) "
               "SET v.version = $version, v.tables = $tables, v.history = $history, v._lock = null")
GET_VERSION = ("MATCH (v:StoreVersion {_store: $store}) "
               "RETURN v.version AS version, v.tables AS tables, v.history AS history")

# -------------------------------------------------------------------------- writes
UPSERT_NODES: dict[str, str] = {
    label: _fill("UNWIND $rows AS row MERGE (n:Entity {_store: $store, id: row.id}) "
                 "SET n = row.props SET n:<NAME>", label)
    for label in NODE_LABELS.values()
}
# A deleted node row keeps a bare Entity while relationships still point at it.
DELETE_NODES: dict[str, str] = {
    label: _fill("UNWIND $ids AS id MATCH (n:<NAME> {_store: $store, id: id}) "
                 "REMOVE n:<NAME> SET n = {_store: $store, id: id}", label)
    for label in NODE_LABELS.values()
}
UPSERT_ROWS: dict[str, str] = {
    label: _fill("UNWIND $rows AS row MERGE (n:<NAME> {_store: $store, _key: row.key}) SET n = row.props", label)
    for label in ROW_LABELS.values()
}
DELETE_ROWS: dict[str, str] = {
    label: _fill("UNWIND $keys AS key MATCH (n:<NAME> {_store: $store, _key: key}) DELETE n", label)
    for label in ROW_LABELS.values()
}
# Endpoints missing from the node tables become bare Entity nodes, as networkx adds them.
UPSERT_EDGES: dict[str, str] = {
    kind: _fill("UNWIND $rows AS row "
                "MERGE (a:Entity {_store: $store, id: row.src}) "
                "MERGE (b:Entity {_store: $store, id: row.dst}) "
                "MERGE (a)-[r:<NAME> {_key: row.key}]->(b) SET r = row.props", kind)
    for kind in EDGE_TYPES
}
DELETE_EDGES: dict[str, str] = {
    kind: _fill("UNWIND $rows AS row "
                "MATCH (:Entity {_store: $store, id: row.src})-[r:<NAME> {_key: row.key}]->"
                "(:Entity {_store: $store, id: row.dst}) DELETE r", kind)
    for kind in EDGE_TYPES
}
DROP_ORPHANS = ("UNWIND $ids AS id MATCH (n:Entity {_store: $store, id: id}) "
                "WHERE size(labels(n)) = 1 AND NOT (n)--() DELETE n")

# --------------------------------------------------------------------------- reads
READ_NODES: dict[str, str] = {
    label: _fill("MATCH (n:<NAME> {_store: $store}) RETURN properties(n) AS p", label)
    for label in NODE_LABELS.values()
}
READ_ROWS: dict[str, str] = {
    label: _fill("MATCH (n:<NAME> {_store: $store}) RETURN properties(n) AS p", label)
    for label in ROW_LABELS.values()
}
READ_EDGES = ("MATCH (a:Entity {_store: $store})-[r]->(b:Entity) WHERE type(r) IN $types "
              "RETURN a.id AS src, b.id AS dst, type(r) AS kind, properties(r) AS p")
NODE = ("MATCH (n:Entity {_store: $store, id: $id}) "
        "RETURN labels(n) AS labels, properties(n) AS p")
NODES_BY_IDS = ("UNWIND $ids AS id MATCH (n:Entity {_store: $store, id: id}) "
                "RETURN labels(n) AS labels, properties(n) AS p")
# One hop of an ego network: the strongest qualifying edge to each neighbour, computed in Neo4j.
NEIGHBOUR_STEP = (
    "UNWIND $frontier AS fid MATCH (n:Entity {_store: $store, id: fid})-[r]-(m:Entity) "
    "WHERE type(r) IN $kinds AND ($min_amount IS NULL OR NOT type(r) IN $money "
    "OR coalesce(r.amount, 0.0) >= $min_amount) "
    "RETURN m.id AS id, max(coalesce(r.amount, 0.0)) AS amount"
)
SUBGRAPH_EDGES = ("UNWIND $ids AS id MATCH (a:Entity {_store: $store, id: id})-[r]->(b:Entity) "
                  "WHERE b.id IN $ids RETURN a.id AS src, b.id AS dst, type(r) AS kind, properties(r) AS p")

# ------------------------------------------------------------------------ removal
# Everything of one namespace (tests, or retiring a store); other namespaces are untouched.
DROP_NAMESPACE: tuple[str, ...] = tuple(
    _fill("MATCH (n:<NAME> {_store: $store}) DETACH DELETE n", label)
    for label in (ENTITY, *ROW_LABELS.values(), VERSION_LABEL)
)
