"""Alerts after an ingest: what changed between two versions of the tables."""

from __future__ import annotations

import pandas as pd

from graph.schema import conform
from ingest.triggers import detect_changes, read_alerts, record_alerts


def _tables(**overrides: pd.DataFrame) -> dict[str, pd.DataFrame]:
    base = {
        "enterprises": pd.DataFrame({"id": ["C", "S1", "S2"], "name": ["核心", "供一", "供二"],
                                     "is_client": [True, False, False]}),
        "persons": pd.DataFrame({"id": ["P1", "P2", "P3"], "aum": [40_000.0, 100_000.0, 100_000.0],
                                 "aum_prev": [40_000.0, 100_000.0, 100_000.0]}),
        "payments": pd.DataFrame({"payer_id": ["C"], "payee_id": ["S1"], "amount": [1.0]}),
        "bills": pd.DataFrame(), "roles": pd.DataFrame(), "memberships": pd.DataFrame(),
    }
    base.update(overrides)
    return {name: conform(name, df) for name, df in base.items()}


def test_new_supplier_executive_member_and_asset_crossings():
    before = _tables()
    after = _tables(
        payments=pd.DataFrame({"payer_id": ["C", "C"], "payee_id": ["S1", "S2"], "amount": [1.0, 2.0]}),
        roles=pd.DataFrame({"person_id": ["P9"], "enterprise_id": ["C"], "role": ["finance"]}),
        memberships=pd.DataFrame({"association_id": ["A1"], "member_id": ["S2"]}),
        persons=pd.DataFrame({"id": ["P1", "P2", "P3"], "aum": [60_000.0, 70_000.0, 40_000.0],
                              "aum_prev": [40_000.0, 100_000.0, 100_000.0]}),
    )
    alerts = detect_changes(before, after)
    kinds = {(a["kind"], a["entity_id"]) for a in alerts}
    assert ("new_supplier", "S2") in kinds and ("new_supplier", "S1") not in kinds
    assert ("new_executive", "P9") in kinds and ("new_member", "S2") in kinds
    assert ("crossed_threshold_up", "P1") in kinds
    assert ("outflow_query", "P2") in kinds and ("outflow_warning", "P3") in kinds
    assert all(a["link"].startswith("/viz/") for a in alerts)


def test_same_tables_make_no_alerts_and_alerts_are_logged(store):
    tables = _tables()
    assert detect_changes(tables, tables) == []
    alerts = detect_changes(_tables(), _tables(memberships=pd.DataFrame({"association_id": ["A"], "member_id": ["S1"]})))
    record_alerts(store, alerts, version="000002")
    logged = read_alerts(store)
    assert [a["kind"] for a in logged] == ["new_member"] and logged[0]["version"] == "000002"
