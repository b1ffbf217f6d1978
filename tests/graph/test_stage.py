"""The default `Stage` (what a backend without a staged write of its own, Neo4j, gets): the put
tables wait in memory and are committed with one `_commit`, as one `write` would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from graph.networkx_store import NetworkxStore
from graph.schema import conform
from graph.stage import Stage


def test_the_default_stage_holds_put_tables_in_memory_and_commits_them_once(tmp_path: Path) -> None:
    store = NetworkxStore(tmp_path / "s")
    v1 = store.write({"enterprises": pd.DataFrame({"id": ["E1", "E2"], "name": ["甲", "乙"]})})
    edges = pa.table({"src": ["E1"], "dst": ["E2"], "kind": ["PAYS"], "amount": [5.0]})
    with Stage(store, "in memory") as stage:
        stage.put("persons", pd.DataFrame({"id": ["P1"], "name": ["张三"], "aum": [1.0]}))
        stage.put("edges", edges)
        assert not any(p.name.startswith(".tmp-") for p in (tmp_path / "s" / "versions").iterdir())  # nothing on disk
        assert stage.read("persons", ["id", "aum"]).to_pylist() == [{"id": "P1", "aum": 1.0}]
        assert stage.read("edges", ["kind", "count"]).to_pylist() == [{"kind": "PAYS", "count": None}]
        assert stage.read("enterprises", ["id"]).column("id").to_pylist() == ["E1", "E2"]  # kept from v1
        assert store.version == v1
        v2 = stage.commit()
    assert store.version == v2 and store.manifest()["history"][-1]["note"] == "in memory"
    assert list(store.read("persons")["id"]) == ["P1"] and list(store.read("enterprises")["id"]) == ["E1", "E2"]
    pd.testing.assert_frame_equal(store.read("edges"), conform("edges", edges.to_pandas()))


def test_a_live_stage_outlives_the_clean_up_of_old_temporary_folders(tmp_path: Path) -> None:
    """Another writer's commit (a scoring run during a long ingest) removes temporary folders
    left by writers that are gone, never a live stage's, however old."""
    import os
    import subprocess
    import sys
    import time

    store = NetworkxStore(tmp_path / "s")
    store.write({"enterprises": pd.DataFrame({"id": ["E1"], "name": ["甲"]})})
    stage = store.stage("long ingest")
    stage.put("persons", pd.DataFrame({"id": ["P1"], "name": ["张三"]}))
    folder = stage.folder  # type: ignore[attr-defined]
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = folder.parent / f".tmp-{gone.stdout.strip()}-0123abcd"  # a killed writer's leftover
    left.mkdir()
    hours_ago = time.time() - 7200
    for path in (folder, left):
        os.utime(path, (hours_ago, hours_ago))
    store.write({"associations": pd.DataFrame({"id": ["A1"], "name": ["商会"]})}, note="score meanwhile")
    assert folder.exists() and not left.exists()
    stage.commit()
    assert list(store.read("persons")["id"]) == ["P1"] and list(store.read("associations")["id"]) == ["A1"]


def test_a_failed_commit_closes_the_stage_and_changes_nothing(tmp_path: Path, monkeypatch) -> None:
    import pytest

    store = NetworkxStore(tmp_path / "s")
    v1 = store.write({"enterprises": pd.DataFrame({"id": ["E1"], "name": ["甲"]})})
    stage = store.stage("fails")
    stage.put("persons", pd.DataFrame({"id": ["P1"], "name": ["张三"]}))

    def boom(*args: object) -> str:
        raise OSError("disk full")

    monkeypatch.setattr(store, "_finish", boom)
    with pytest.raises(OSError, match="disk full"):
        stage.commit()
    with pytest.raises(RuntimeError, match="committed or aborted"):
        stage.commit()  # never a second, half commit
    assert store.version == v1 and not any(p.name.startswith(".tmp-") for p in (tmp_path / "s" / "versions").iterdir())


def test_parquet_file_names_the_file_a_table_is_read_from(tmp_path: Path) -> None:
    """The embedded store's stage names the Parquet file of a put table (in the new version's
    folder) and of a kept one (the current version's); the default stage keeps no files."""
    store = NetworkxStore(tmp_path / "s")
    store.write({"enterprises": pd.DataFrame({"id": ["E1"], "name": ["甲"]})})
    with store.stage("files") as stage:
        stage.put("persons", pd.DataFrame({"id": ["P1"], "name": ["张三"], "aum": [1.0]}))
        put, kept = stage.parquet_file("persons"), stage.parquet_file("enterprises")
        assert put is not None and kept is not None
        assert pq.read_table(put, columns=["id"]).column("id").to_pylist() == ["P1"]
        assert pq.read_table(kept, columns=["id"]).column("id").to_pylist() == ["E1"]
        assert stage.parquet_file("associations") is None  # in no version yet
        stage.commit()
    with Stage(store, "in memory") as in_memory:
        in_memory.put("persons", pd.DataFrame({"id": ["P2"], "name": ["李四"], "aum": [2.0]}))
        assert in_memory.parquet_file("persons") is None


def test_the_manifest_lists_tables_in_name_order_whatever_order_they_were_put_in(tmp_path):
    import json

    import pandas as pd

    from graph.networkx_store import NetworkxStore

    store = NetworkxStore(tmp_path / "store")
    with store.stage(note="one") as staged:
        for name in ("payments", "enterprises", "branches"):
            staged.put(name, pd.DataFrame())
        staged.commit()
    listed = list(json.loads((store.root / "manifest.json").read_text(encoding="utf-8"))["tables"])
    assert listed == sorted(listed) and {"payments", "enterprises", "branches"} <= set(listed)


def test_a_kept_answer_is_built_once_however_many_ask_at_once(tmp_path):
    import threading
    import time

    import pandas as pd

    from graph.networkx_store import NetworkxStore

    store = NetworkxStore(tmp_path / "store")
    store.write({"branches": pd.DataFrame({"id": ["B1"], "name": ["一"]})})
    built: list[int] = []

    def slow() -> int:
        built.append(1)
        time.sleep(0.3)
        return 42

    got: list[int] = []
    threads = [threading.Thread(target=lambda: got.append(store.remembered(("slow",), slow, lambda v: v, keep=True)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [42] * 4 and built == [1]


def _edge_parts() -> list[pa.Table]:
    return [pa.table({"src": ["E1", "E2"], "dst": ["E2", "E3"], "kind": ["PAYS", "PAYS"], "amount": [5.0, 7.0]}),
            pa.table({"src": ["E1"], "dst": ["E3"], "kind": ["BILL"], "amount": [9.0]}),
            pa.table({"src": [], "dst": [], "kind": [], "amount": []},
                     schema=pa.schema([("src", pa.string()), ("dst", pa.string()), ("kind", pa.string()),
                                       ("amount", pa.float64())])),
            pa.table({"src": ["P1"], "dst": ["E1"], "kind": ["HOLDS_ROLE"], "role": ["director"]})]


def test_a_table_put_in_parts_is_the_parts_one_after_the_other(tmp_path: Path) -> None:
    """`put_parts` (the ingest's derived edges) stores the parts' rows in their order, on the
    embedded store (one Parquet file, each part starting a row group, written while the next part
    is made) and on the default stage (held in memory) alike."""
    whole = conform("edges", pa.concat_tables([p.select(["src", "dst", "kind"]) for p in _edge_parts()]).to_pandas())
    for name, make in (("embedded", lambda s: s.stage("parts")), ("default", lambda s: Stage(s, "parts"))):
        store = NetworkxStore(tmp_path / name)
        made: list[int] = []

        def parts(made: list[int]) -> Iterator[pa.Table]:
            for number, part in enumerate(_edge_parts()):
                made.append(number)  # made only when asked for
                yield part

        with make(store) as stage:
            stage.put_parts("edges", parts(made))
            assert made == [0, 1, 2, 3]
            stage.commit()
        stored = store.read("edges")
        pd.testing.assert_frame_equal(stored[["src", "dst", "kind"]], whole[["src", "dst", "kind"]])
        assert stored["amount"].tolist()[:3] == [5.0, 7.0, 9.0] and stored["role"].tolist()[3] == "director"
        if name == "embedded":
            path = tmp_path / name / store.manifest()["tables"]["edges"]["file"]
            assert pq.ParquetFile(path).metadata.num_row_groups == 3  # the empty part adds none
            assert store.manifest()["tables"]["edges"]["rows"] == 4


def test_a_part_that_fails_leaves_no_table_and_no_files(tmp_path: Path) -> None:
    """An error while the parts are made (the derive step ran out of memory) reaches the caller
    once the parts already made are written; the stage is thrown away whole."""
    import pytest

    store = NetworkxStore(tmp_path / "s")
    v1 = store.write({"enterprises": pd.DataFrame({"id": ["E1"], "name": ["甲"]})})

    def parts() -> Iterator[pa.Table]:
        yield _edge_parts()[0]
        raise MemoryError("derive ran out of memory")

    with pytest.raises(MemoryError), store.stage("fails") as stage:
        stage.put_parts("edges", parts())
    assert store.version == v1 and store.read("edges").empty
    assert not any(p.name.startswith(".tmp-") for p in (tmp_path / "s" / "versions").iterdir())
