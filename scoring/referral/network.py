"""The referral family's view of the store, as DuckDB tables: who can introduce whom.

`load_network` makes the node tables and the derived `edges` (MEMBER_OF, HOLDS_ROLE, and
PAYROLL/BILL for the products an enterprise holds) views of a DuckDB connection
(`scoring.features.store_view`: the store's Parquet files, read by DuckDB for the columns
and edge kinds a query asks for, with no pandas frame in between) and builds:

- ``entity``: every enterprise, and every person who is a member or holds a role (an
  enterprise id wins over a person with the same id), with its flags — client, credit
  client, products held, weak client, ``is_referrer`` (a client, not do-not-contact) and
  ``is_prospect`` (not do-not-contact; not a client, or a weak client);
- ``member`` (association_id, member_id, position) and ``role`` (person_id, enterprise_id, role);
- ``assoc``: every association with members, with its penetration (client members / members);
- ``names``: the display name of every entity, association and manager.

Each step is one SQL statement over whole tables; nothing here loops over rows.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from graph.store import GraphStore
from graph.vocabulary import ASSET_THRESHOLD
from scoring.features import store_view
from scoring.referral.settings import ReferralSettings

__all__ = ["load_network"]

_NODE_COLUMNS = {
    "enterprises": ["id", "name", "industry", "registered_capital", "is_client", "is_credit_client", "branch_id",
                    "manager_id", "parent_id", "opened_on", "do_not_contact"],
    "persons": ["id", "name", "is_retail_client", "aum", "tier", "branch_id", "manager_id", "do_not_contact"],
    "associations": ["id", "name", "kind"],
    "managers": ["id", "name", "branch_id"],
}
_EDGE_COLUMNS = ["src", "dst", "kind", "role", "position", "last_on"]

# Memberships and roles as the derived edges give them (an empty position is a plain member).
_LINKS_SQL = """
CREATE TEMP TABLE member AS
SELECT dst AS association_id, src AS member_id, coalesce(nullif(position, ''), 'member') AS position
FROM edges WHERE kind = 'MEMBER_OF' AND src IS NOT NULL AND dst IS NOT NULL;
CREATE TEMP TABLE role AS
SELECT DISTINCT src AS person_id, dst AS enterprise_id, coalesce(role, '') AS role
FROM edges WHERE kind = 'HOLDS_ROLE' AND src IS NOT NULL AND dst IS NOT NULL;
"""

# Enterprises with their products (account, credit, payroll, bills), then the persons who can
# take part in a chain (members and role holders: payroll staff are left out) with theirs
# (account, assets, VIP tier). Weak client: a client without credit holding few products.
_ENTITY_SQL = """
CREATE TEMP TABLE entity AS
WITH firm AS (
    SELECT id, coalesce(nullif(name, ''), id) AS name, 'enterprise' AS kind,
           coalesce(is_client, false) AS is_client,
           coalesce(is_client, false) AND coalesce(is_credit_client, false) AS is_credit,
           nullif(manager_id, '') AS manager_id, nullif(branch_id, '') AS branch_id,
           nullif(industry, '') AS industry, registered_capital AS capital, nullif(parent_id, '') AS parent_id,
           CAST(opened_on AS DATE) AS opened_on, coalesce(do_not_contact, false) AS dnc,
           id IN (SELECT src FROM edges WHERE kind = 'PAYROLL') AS pays_payroll,
           id IN (SELECT src FROM edges WHERE kind = 'BILL') AS draws_bills
    FROM enterprises WHERE id IS NOT NULL
), firm_products AS (
    SELECT *, is_client::INT + is_credit::INT + (is_client AND pays_payroll)::INT
              + (is_client AND draws_bills)::INT AS n_products
    FROM firm
), person AS (
    SELECT id, coalesce(nullif(name, ''), id) AS name, 'person' AS kind,
           coalesce(is_retail_client, false) AS is_client, false AS is_credit,
           nullif(manager_id, '') AS manager_id, nullif(branch_id, '') AS branch_id,
           NULL::VARCHAR AS industry, NULL::DOUBLE AS capital, NULL::VARCHAR AS parent_id, NULL::DATE AS opened_on,
           coalesce(do_not_contact, false) AS dnc,
           coalesce(is_retail_client, false)::INT
             + (coalesce(is_retail_client, false) AND coalesce(aum, 0) >= $assets)::INT
             + (coalesce(is_retail_client, false) AND coalesce(tier IN ('vip', 'private'), false))::INT AS n_products
    FROM persons
    WHERE id IN (SELECT member_id FROM member UNION SELECT person_id FROM role)
      AND id NOT IN (SELECT id FROM firm)
), both_kinds AS (
    SELECT id, name, kind, is_client, is_credit, manager_id, branch_id, industry, capital, parent_id, opened_on,
           dnc, n_products, is_client AND NOT is_credit AND n_products <= $weak_max AS is_weak
    FROM firm_products
    UNION ALL
    SELECT id, name, kind, is_client, is_credit, manager_id, branch_id, industry, capital, parent_id, opened_on,
           dnc, n_products, false AS is_weak
    FROM person
)
SELECT *, is_client AND NOT dnc AS is_referrer,
       NOT dnc AND (NOT is_client OR ($include_weak AND is_weak)) AS is_prospect,
       $credit_weight * is_credit::DOUBLE + n_products AS strength,
       CASE WHEN opened_on IS NOT NULL AND $as_of IS NOT NULL
            THEN greatest(0.0, date_diff('day', opened_on, $as_of::DATE) / 365.25) ELSE 0.0 END AS tenure_years
FROM both_kinds
"""

# Display names: an entity's, else an association's, else a manager's (the id when unnamed).
_NAMES_SQL = """
CREATE TEMP TABLE names AS
SELECT id, name FROM entity
UNION ALL
SELECT id, coalesce(nullif(name, ''), id) FROM associations
WHERE id IS NOT NULL AND id NOT IN (SELECT id FROM entity)
UNION ALL
SELECT id, coalesce(nullif(name, ''), id) FROM managers
WHERE id IS NOT NULL AND id NOT IN (SELECT id FROM entity) AND id NOT IN (SELECT id FROM associations WHERE id IS NOT NULL)
"""

# Every association with members (listed in `associations` or only named by memberships) and
# its penetration: the share of members already clients (social proof).
_ASSOC_SQL = """
CREATE TEMP TABLE assoc AS
SELECT m.association_id AS id, any_value(a.kind) AS kind,
       count(*) AS members, count(*) FILTER (WHERE e.is_client) AS clients,
       count(*) FILTER (WHERE e.is_client) / count(*) AS share,
       bool_or(a.id IS NOT NULL) AS listed
FROM member m LEFT JOIN entity e ON e.id = m.member_id
LEFT JOIN associations a ON a.id = m.association_id
GROUP BY m.association_id
"""


# The scoring date when none is set: the latest day in the data, an enterprise opened or a
# payment made (the last day of the PAYS edges); never the clock, so scores are deterministic.
_DATE_SQL = """
SELECT greatest((SELECT max(CAST(opened_on AS DATE)) FROM enterprises),
                (SELECT max(CAST(last_on AS DATE)) FROM edges WHERE kind = 'PAYS'))
"""


def load_network(con: duckdb.DuckDBPyConnection, store: GraphStore, cfg: ReferralSettings,
                 as_of: str | None = None) -> dt.date | None:
    """Build the family's tables in `con`; returns the scoring date (`as_of`, else `_DATE_SQL`)."""
    for table, columns in _NODE_COLUMNS.items():
        store_view(con, store, table, columns)
    store_view(con, store, "edges", _EDGE_COLUMNS)
    date = pd.Timestamp(as_of).date() if as_of else con.execute(_DATE_SQL).fetchall()[0][0]
    con.execute(_LINKS_SQL)
    con.execute(_ENTITY_SQL, {"assets": ASSET_THRESHOLD, "weak_max": cfg.weak_client_max_products,
                              "include_weak": cfg.include_weak_clients,
                              "credit_weight": cfg.referrer.credit_client, "as_of": date})
    con.execute(_NAMES_SQL)
    con.execute(_ASSOC_SQL)
    return date
