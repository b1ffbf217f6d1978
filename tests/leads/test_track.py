"""The tracking snapshot's association and chain metrics (`leads.track.compute_metrics`) on a
small hand-built store: what counts as a member, a client member, a chain and an opened store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from graph.networkx_store import NetworkxStore
from leads.campaigns import MIN_STORES
from leads.track import compute_metrics, record_snapshot


def _store(root: Path) -> NetworkxStore:
    store = NetworkxStore(root)
    store.write({
        "enterprises": pd.DataFrame({
            "id": ["C1", "C2", "N1", "HQ", "S1", "S2", "S3", "SMALL", "T1"],
            "name": list("甲乙丙丁戊己庚辛壬"),
            "is_client": [True, True, False, False, True, None, False, False, True],
            "parent_id": [None, None, None, None, "HQ", "HQ", "HQ", None, "SMALL"],
        }),
        "persons": pd.DataFrame({"id": ["P1"], "name": ["张三"], "aum": [1.0]}),
        "associations": pd.DataFrame({"id": ["A2", "A1"], "name": ["商会", "协会"]}),
        "memberships": pd.DataFrame({
            # C1 twice in A1 (two rows: one member, each row a client row), a person, a
            # non-client; a row without association is no membership
            "member_id": ["C1", "C1", "P1", "N1", "C2", "C2"],
            "association_id": ["A1", "A1", "A1", "A1", "A2", None],
        }),
    })
    return store


def _metrics(frame: pd.DataFrame, scope: str) -> dict[tuple[str, str], float]:
    rows = frame[frame["scope"] == scope]
    return {(str(r.scope_id), str(r.metric)): float(r.value) for r in rows.itertuples()}


def test_association_and_chain_metrics(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    metrics = compute_metrics(store)
    assert _metrics(metrics, "association") == {
        ("A1", "members"): 3.0, ("A1", "client_members"): 2.0,  # C1, P1, N1; C1's two rows are client rows
        ("A2", "members"): 1.0, ("A2", "client_members"): 1.0,
    }
    assert MIN_STORES == 3  # HQ has three stores (a chain), SMALL one (not)
    assert _metrics(metrics, "anchor") == {("HQ", "stores"): 3.0, ("HQ", "stores_opened"): 1.0}
    # rows by scope id within each metric, as a group-by gives them
    association = metrics[metrics["scope"] == "association"]
    assert association["scope_id"].tolist() == ["A1", "A2", "A1", "A2"]
    kept = record_snapshot(store, "v1")
    assert kept["version"].eq("v1").all() and kept["as_of"].str.match(r"^\d{4}-\d{2}$").all()


def test_a_snapshot_kept_before_branches_reads_whole_and_is_withheld_from_a_branch(tmp_path: Path) -> None:
    """A track.parquet of before figures were kept per branch (no `branch_id` column) still reads:
    whole for a reader of every branch (the CLI, an unscoped token), withheld and counted for a
    branch's reader, whose figures start with the first snapshot kept per branch."""
    from api.auth import User
    from api.masking import Viewer
    from leads.track import read_series, scoped_series

    store = _store(tmp_path / "s")
    pd.DataFrame({"version": "v0", "as_of": "2023-12", "scope": "association", "scope_id": "A1",
                  "metric": ["members", "client_members"], "value": [9.0, 5.0]}
                 ).to_parquet(store.state_dir / "track.parquet", index=False)
    b01 = Viewer(store, User(name="b01", role="corporate_manager", branch="B01")).in_scope
    everyone = Viewer(store, User(name="admin", role="admin")).in_scope
    assert read_series(store, "association", "A1")["value"].tolist() == [5.0, 9.0]
    assert scoped_series(store, "association", "A1", everyone)[0]["value"].tolist() == [5.0, 9.0]
    points, withheld = scoped_series(store, "association", "A1", b01)
    assert points.empty and withheld == 2
    record_snapshot(store, "v1")  # the old rows are kept as they were: every branch's
    assert read_series(store, "association", "A1")[["version", "metric", "value"]].values.tolist() == [
        ["v0", "client_members", 5.0], ["v1", "client_members", 2.0], ["v0", "members", 9.0], ["v1", "members", 3.0]]
    points, withheld = scoped_series(store, "association", "A1", b01)  # the members have no branch: shared
    assert points[["version", "metric", "value"]].values.tolist() == [["v1", "client_members", 2.0],
                                                                      ["v1", "members", 3.0]]
    assert withheld == 2
