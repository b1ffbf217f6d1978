"""No raw ID number or phone of the fixtures reaches the store, the reports or the logs."""

from __future__ import annotations

import logging
import re

import pyarrow.parquet as pq
import pytest

from graph.networkx_store import NetworkxStore
from ingest.job import run_ingest
from ingest.normalise import hash_id_number, id_number_valid
from tests.ingest.helpers import FIXTURES, rejects_of

PII = FIXTURES / "ingest" / "pii"


def raw_values() -> tuple[list[str], list[str]]:
    lines = (PII / "SOURCE.txt").read_text(encoding="utf-8").splitlines()
    ids = [line.split()[1] for line in lines if line.startswith("id ")]
    phones = [line.split()[1] for line in lines if line.startswith("phone ")]
    return ids, phones


def test_fixture_ids_are_real_gb11643_numbers() -> None:
    ids, phones = raw_values()
    assert sum(id_number_valid(i) for i in ids) == len(ids) - 1 == 5  # one deliberately invalid
    assert len(phones) == 6
    text = (PII / "persons.csv").read_text(encoding="utf-8")
    assert all(i in text for i in ids)


def test_store_reports_and_logs_hold_no_raw_id_or_phone(store: NetworkxStore,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    ids, phones = raw_values()
    with caplog.at_level(logging.DEBUG):
        summary = run_ingest(store, PII)
    # the ingest did its work: hashes and masks are there, bad rows are reported (masked)
    persons = store.read("persons").set_index("id")
    salt = store.secret("salt")
    assert persons.loc["P1", "id_hash"] == hash_id_number(ids[0], salt)
    assert persons.loc["P1", "phone_masked"] == "138****5678"
    assert persons.loc["P2", "phone_masked"] == "139****4321"
    assert persons.loc["P3", "phone_masked"] == "150****2222"
    assert persons["id_hash"].notna().sum() == 3  # P4 and P6 rejected, P5's number invalid
    rejects = rejects_of(summary.report_dir)
    assert {"persons.csv"} <= set(rejects["file"]) and len(rejects) >= 4

    needles = [*ids, *phones, *(p[3:7] + p[7:] for p in phones)]  # also the unmasked tail of a phone
    needles = [n for n in needles if len(n) >= 8]
    haystacks: dict[str, str] = {"logs": caplog.text, "summary": summary.render()}
    for path in store.root.rglob("*"):
        if path.is_file() and path.suffix == ".parquet":
            table = pq.read_table(path).to_pandas()
            haystacks[str(path)] = table.astype(str).to_csv(index=False)
        elif path.is_file():
            haystacks[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
    assert any("rejects.csv" in name for name in haystacks)
    for name, text in haystacks.items():
        flat = re.sub(r"[\s\-+]", "", text)
        for needle in needles:
            assert needle not in text and needle not in flat, f"{needle} found in {name}"
            assert needle.lower() not in text.lower(), f"{needle} found in {name}"


def test_a_full_width_id_number_is_kept_as_its_ascii_twin(tmp_path) -> None:
    """Exports typed with a Chinese input method carry full-width digits (１１０１…Ｘ): such an ID
    number is valid once NFKC makes it ASCII, hashes as the ASCII number does (so the person
    resolves with the rows that wrote it in ASCII), and neither form is stored; typed into a
    name, it is masked there as an ASCII one is."""
    import shutil

    bundle = tmp_path / "bundle"
    shutil.copytree(PII, bundle)
    ids, _ = raw_values()
    wide = {c: chr(ord(c) + 0xFEE0) for c in "0123456789X"}  # ASCII → full width
    text = (bundle / "persons.csv").read_text(encoding="utf-8")
    full_width = ["".join(wide[c] for c in ids[0]), "".join(wide[c] for c in ids[1]) + "\u3000"]
    text = text.replace(ids[0], full_width[0]).replace(ids[1], full_width[1])
    in_name = "".join(wide[c] for c in ids[2])  # a number typed into a name: masked there too
    text = text.replace("张敏", "张敏" + in_name)
    (bundle / "persons.csv").write_text(text, encoding="utf-8")
    store = NetworkxStore(tmp_path / "store")
    summary = run_ingest(store, bundle)
    persons = store.read("persons").set_index("id")
    salt = store.secret("salt")
    assert persons.loc["P1", "id_hash"] == hash_id_number(ids[0], salt)
    assert persons.loc["P2", "id_hash"] == hash_id_number(ids[1], salt)
    rejects = rejects_of(summary.report_dir)
    assert not set(rejects.loc[rejects["column"] == "id_number", "row"]) & {"2", "3"}  # P1, P2 not refused
    for path in store.root.rglob("*.parquet"):
        flat = pq.read_table(path).to_pandas().astype(str).to_csv(index=False)
        assert not any(n.strip() in flat for n in (*full_width, in_name, ids[0], ids[1], ids[2])), path
    assert persons.loc["P3", "name"].startswith("张敏" + in_name[:6])  # the rest of the name is kept
