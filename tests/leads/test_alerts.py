"""Alerts after an ingest: what changed between two versions of the tables."""

from __future__ import annotations

import pandas as pd

from graph.schema import conform
from leads.alerts import alert_text, detect_changes, read_alerts, record_alerts


def _tables(**overrides: pd.DataFrame) -> dict[str, pd.DataFrame]:
    base = {
        "enterprises": pd.DataFrame({"id": ["C", "S1", "S2"], "name": ["核心", "供一", "供二"],
                                     "is_client": [True, False, False]}),
        "persons": pd.DataFrame({"id": ["P1", "P2", "P3"], "aum": [40_000.0, 100_000.0, 100_000.0],
                                 "aum_prev": [40_000.0, 100_000.0, 100_000.0]}),
        "payments": pd.DataFrame({"payer_id": ["C"], "payee_id": ["S1"], "amount": [1.0]}),
        "bills": pd.DataFrame(), "roles": pd.DataFrame(), "memberships": pd.DataFrame(),
        "associations": pd.DataFrame({"id": ["A1"], "name": ["保温材料行业协会"]}),
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
    (member,) = [a for a in alerts if a["kind"] == "new_member"]
    assert alert_text(member, "zh") == "供二 加入协会 保温材料行业协会"  # the association by its name, not its id


def test_same_tables_make_no_alerts_and_alerts_are_logged(store):
    tables = _tables()
    assert detect_changes(tables, tables) == []
    alerts = detect_changes(_tables(), _tables(memberships=pd.DataFrame({"association_id": ["A"], "member_id": ["S1"]})))
    record_alerts(store, alerts, version="000002")
    logged = read_alerts(store)
    assert [a["kind"] for a in logged] == ["new_member"] and logged[0]["version"] == "000002"


def _one_month_bundle(tmp_path):
    """A client and its one supplier of January."""
    bundle = tmp_path / "b"
    bundle.mkdir()
    (bundle / "enterprises.csv").write_text("enterprise_id,name,is_client\nC,核心制造有限公司,是\n", encoding="utf-8")
    (bundle / "payments.csv").write_text(
        "payer_id,payee_name,amount,paid_on\nC,甲供应有限公司,100,2024-01-05\n", encoding="utf-8")
    return bundle


def _add_a_second_month(bundle) -> None:
    """February brings the client a new supplier."""
    (bundle / "payments.csv").write_text(
        "payer_id,payee_name,amount,paid_on\nC,甲供应有限公司,100,2024-01-05\nC,乙材料有限公司,50,2024-02-05\n",
        encoding="utf-8")


def test_an_ingest_of_a_new_month_raises_alerts(tmp_path):
    from graph.networkx_store import NetworkxStore
    from ingest.job import run_ingest
    from leads.watchers import INGEST_WATCHERS

    bundle = _one_month_bundle(tmp_path)
    store = NetworkxStore(tmp_path / "s")
    assert run_ingest(store, bundle, watchers=INGEST_WATCHERS).alerts == 0  # the first ingest is the baseline
    _add_a_second_month(bundle)
    summary = run_ingest(store, bundle, watchers=INGEST_WATCHERS)
    logged = read_alerts(store)
    assert summary.alerts == 1 and [a["kind"] for a in logged] == ["new_supplier"]
    assert "乙材料" in alert_text(logged[0], "zh") and logged[0]["related_id"] == "C"
    assert run_ingest(store, bundle, watchers=INGEST_WATCHERS).alerts == 0  # the same bundle again: nothing new


def test_an_ingest_without_watchers_raises_no_alerts_and_tracks_nothing(tmp_path):
    """`ingest` knows no watchers of its own: the alerts and the tracking are the caller's choice."""
    from graph.networkx_store import NetworkxStore
    from ingest.job import run_ingest

    bundle = _one_month_bundle(tmp_path)
    store = NetworkxStore(tmp_path / "s")
    run_ingest(store, bundle)
    _add_a_second_month(bundle)
    assert run_ingest(store, bundle).alerts == 0
    assert read_alerts(store) == [] and not (store.state_dir / "track.parquet").exists()


def test_a_failed_tracking_snapshot_does_not_fail_the_ingest(tmp_path, monkeypatch, caplog):
    from graph.networkx_store import NetworkxStore
    from ingest.job import run_ingest
    from leads import watchers

    def broken(store, version):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(watchers, "record_snapshot", broken)
    bundle = tmp_path / "b"
    bundle.mkdir()
    (bundle / "enterprises.csv").write_text("enterprise_id,name,is_client\nC,核心制造有限公司,是\n", encoding="utf-8")
    store = NetworkxStore(tmp_path / "s")
    summary = run_ingest(store, bundle, watchers=watchers.INGEST_WATCHERS)
    assert summary.version == store.version and "tracking snapshot" in caplog.text


def test_the_alert_log_is_read_again_only_where_it_grew(store, monkeypatch):
    from leads import alerts

    parsed: list[str] = []
    add = alerts._AlertLog._add
    monkeypatch.setattr(alerts._AlertLog, "_add", lambda self, row: (parsed.append(row["entity_id"]), add(self, row)))

    def member(assoc: str, who: str) -> list[dict]:
        return detect_changes(_tables(), _tables(memberships=pd.DataFrame({"association_id": [assoc], "member_id": [who]})))

    record_alerts(store, member("A1", "S1"), version="000002")
    assert [a["entity_id"] for a in read_alerts(store)] == ["S1"]
    record_alerts(store, member("A1", "S2") + member("A1", "C"), version="000003")
    assert [a["entity_id"] for a in read_alerts(store)] == ["C", "S2", "S1"]  # appended lines, newest first
    assert parsed == ["S1", "S2", "C"]  # each line parsed once: the second read parsed only the two appended
    read_alerts(store, kind="new_member")
    assert len(parsed) == 3  # nothing appended: nothing parsed
    assert [a["version"] for a in read_alerts(store, entity="S2")] == ["000003"]
    assert [a["entity_id"] for a in read_alerts(store, entity="A1", limit=2)] == ["C", "S2"]  # related_id too
    assert read_alerts(store, kind="new_supplier") == [] and len(read_alerts(store, kind="new_member")) == 3
    log = store.state_dir / "alerts.jsonl"
    first = log.read_text(encoding="utf-8").splitlines()[0]
    log.write_text(first + "\n" + '{"kind": "new_member", "entity_id": "S9"', encoding="utf-8")  # rewritten; last line unfinished
    assert [a["entity_id"] for a in read_alerts(store)] == ["S1"]
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(', "related_id": "A1"}\n')  # the line completed
    assert [a["entity_id"] for a in read_alerts(store, entity="A1")] == ["S9", "S1"]
