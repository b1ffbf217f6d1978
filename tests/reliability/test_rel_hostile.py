"""Hostile ingest input: fuzzed values, random bytes, formula and HTML names end to end.

- hypothesis writes small CSV bundles whose amounts, dates, ids, names, ID numbers and phones
  are arbitrary text (control characters, huge numbers, formulas, markup, path-like strings);
  the ingest must never crash: every row written is counted as read, each rejected row is in
  the report with its file, row, column and reason, and no raw ID number or phone is stored;
- random bytes as a table file: the ingest succeeds or fails with `InvalidData` naming the file;
- names that are spreadsheet formulas or HTML go through ingest, scoring and the API: the CSV and
  XLSX exports carry no live formula and every HTML page shows the markup as text.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from api.auth import add_token
from api.main import create_app
from graph.errors import InvalidData
from graph.networkx_store import NetworkxStore
from ingest.job import run_ingest
from scoring.run import score_all
from tests.reliability.helpers import ENTERPRISES, write_bundle_a

pytestmark = pytest.mark.timeout(120)

FUZZ_EXAMPLES = 20
BYTES_EXAMPLES = 15
# no shrinking: one ingest per example makes shrinking take minutes; the failing example is printed whole
PHASES = (Phase.explicit, Phase.reuse, Phase.generate)
VALID_ID = "11010519491231002X"  # a valid GB 11643 check character
VALID_PHONE = "13912345678"
TRICKY = ["", " ", "0", "-5", "1e309", "NaN", "inf", "1,000,000.00", "2万元", "3.5元", "１２３", "2024-02-30",
          "20241301", "2024年13月01日", "0000-00-00", "9999-12-31", "../../etc/passwd", "/etc/shadow", "\x00",
          "NULL", "None", "=1+1", "+cmd|' /C calc'!A0", "@SUM(A1)", "<script>alert(1)</script>", "'; DROP --",
          "是", "否", "Y", "x" * 300, VALID_ID, VALID_PHONE, "138 1234 5678", "+86 139-1234-5678"]
value = st.one_of(st.sampled_from(TRICKY), st.text(max_size=24),
                  st.integers(min_value=-10**20, max_value=10**20).map(str),
                  st.floats(allow_nan=True, allow_infinity=True).map(repr))


def _csv(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)  # "\r\n" rows: a lone "\r" or "\n" inside a value is quoted
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _check_reports(summary: object, written: dict[str, int]) -> pd.DataFrame:
    by_table = summary.by_table  # type: ignore[attr-defined]
    for table, n in written.items():
        assert by_table[table]["read"] == n, f"{table}: {n} rows written, {by_table[table]['read']} read"
    rejects = pd.read_csv(summary.report_dir / "rejects.csv", dtype=str,  # type: ignore[attr-defined]
                          keep_default_na=False, encoding="utf-8-sig")
    rejected_rows = rejects[rejects["action"] == "row rejected"]
    for table in written:
        mine = rejected_rows[rejected_rows["table"] == table]
        assert mine[["file", "row", "column", "reason"]].ne("").all().all(), mine.head()
        assert mine.drop_duplicates(["file", "row"]).shape[0] == by_table[table]["rejected"], table
    return rejects


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, derandomize=True, phases=PHASES,
          suppress_health_check=list(HealthCheck))
@given(enterprises=st.lists(st.lists(value, min_size=4, max_size=4), min_size=1, max_size=4),
       persons=st.lists(st.lists(value, min_size=4, max_size=4), min_size=0, max_size=4),
       payments=st.lists(st.lists(value, min_size=4, max_size=4), min_size=0, max_size=6))
def test_fuzzed_values_never_crash_and_every_row_is_accounted_for(
        enterprises: list[list[str]], persons: list[list[str]], payments: list[list[str]]) -> None:
    work = Path(tempfile.mkdtemp(prefix="fuzz-ingest-"))
    try:
        bundle = work / "bundle"
        bundle.mkdir()
        # one well-formed client row keeps the rest of the job (resolution, edges) in play
        ent_rows = [["E0001", "华东精工机械制造有限公司", "1", "B01"], *enterprises]
        files = {"enterprises.csv": (["enterprise_id", "name", "is_client", "branch_id"], ent_rows),
                 "persons.csv": (["person_id", "name", "id_number", "phone"], persons),
                 "payments.csv": (["payer_id", "payee_name", "amount", "paid_on"],
                                  [["E0001", *row[1:]] if i % 2 == 0 else row for i, row in enumerate(payments)])}
        for name, (header, rows) in files.items():
            (bundle / name).write_text(_csv(header, rows), encoding="utf-8")
        store = NetworkxStore(work / "store")
        try:
            summary = run_ingest(store, bundle)
        except InvalidData as exc:  # a whole file refused: allowed, with its name in the message
            assert any(name.split(".")[0] in str(exc) for name in files), str(exc)
            assert store.version is None
            return
        written = {"enterprises": len(ent_rows), "persons": len(persons), "payments": len(payments)}
        _check_reports(summary, {t: n for t, n in written.items() if n})
        assert len(store.read("payments")) == summary.by_table.get("payments", {}).get("accepted", 0)
        stored = " ".join(store.read(t).astype(str).to_csv(index=False) for t in ("persons", "enterprises"))
        # a value the bundle also gives as an id or a name is kept as that, legitimately
        shown = {v for row in persons for v in row[:2]} | {v for row in ent_rows for v in row} \
            | {v for row in payments for v in row}
        raw = {v for row in persons for v in row[2:] if sum(c.isdigit() for c in v) >= 7} - shown
        assert not [v for v in raw if v in stored], "a raw ID number or phone reached the store"
    finally:
        shutil.rmtree(work, ignore_errors=True)


@settings(max_examples=BYTES_EXAMPLES, deadline=None, database=None, derandomize=True, phases=PHASES,
          suppress_health_check=list(HealthCheck))
@given(blob=st.binary(max_size=600), table=st.sampled_from(["enterprises", "payments", "persons"]),
       suffix=st.sampled_from([".csv", ".xlsx", ".parquet"]))
def test_random_bytes_as_a_table_file_fail_cleanly(blob: bytes, table: str, suffix: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="fuzz-bytes-"))
    try:
        bundle = work / "bundle"
        bundle.mkdir()
        if table != "enterprises":
            (bundle / "enterprises.csv").write_text(ENTERPRISES, encoding="utf-8")
        (bundle / f"{table}{suffix}").write_bytes(blob)
        store = NetworkxStore(work / "store")
        try:
            run_ingest(store, bundle)
        except InvalidData as exc:
            assert table in str(exc), f"the message does not name the file: {exc}"
            assert store.version is None
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------- formulas and markup end to end
FORMULAS = ['=HYPERLINK("http://evil.example","点我")', "+cmd|' /C calc'!A0", "@SUM(1+1)有限公司",
            "-2+3贸易有限公司", "\t=1+1科技有限公司"]
MARKUP = ["<script>alert(1)</script>有限公司", '<img src=x onerror="alert(2)">贸易有限公司']


# the ingest keeps such names (flagged); a direct write also puts them on listed nodes and persons
RENAMES = {"ext:a2ad4b4d6faf": FORMULAS[0], "ext:d30767524c7d": MARKUP[0], "ext:9a9ae348778f": MARKUP[1],
           "P0001": FORMULAS[1], "P0002": FORMULAS[4]}


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: pytest.TempPathFactory) -> tuple[TestClient, str, NetworkxStore]:
    root = tmp_path_factory.mktemp("hostile")
    bundle = write_bundle_a(root / "bundle")
    evil = [["E0001", name, str(100_000 + 1000 * i), f"2024-01-1{i % 9}", ""] for i, name in
            enumerate(FORMULAS + MARKUP)]
    with open(bundle / "payments.csv", "a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(evil)
    store = NetworkxStore(root / "store")
    summary = run_ingest(store, bundle)
    rejects = pd.read_csv(summary.report_dir / "rejects.csv", dtype=str, keep_default_na=False,
                          encoding="utf-8-sig")
    flagged = rejects[(rejects["column"] == "payee_name") & (rejects["action"] == "value kept")]
    assert len(flagged) == len(evil), "odd names are kept but each is flagged in the report"
    assert summary.rejected == 0  # never a reason to lose the payment (DESIGN.md)
    tables = {t: store.read(t).copy() for t in ("enterprises", "persons")}
    for df in tables.values():
        df["name"] = [RENAMES.get(i, n) for i, n in zip(df["id"], df["name"], strict=True)]
    store.write(tables, note="hostile names")
    score_all(store)
    token = add_token(store, "hostile", "admin")
    client = TestClient(create_app(store.root))
    return client, token, store


def test_exports_carry_no_live_formula(hostile_app: tuple[TestClient, str, NetworkxStore]) -> None:
    client, token, _ = hostile_app
    h = {"Authorization": f"Bearer {token}"}
    planted = [n for n in RENAMES.values() if n in FORMULAS]
    cells: list[str] = []
    texts: list[str] = []
    for family in ("supply_chain", "retail_linkage"):
        r = client.get(f"/prospects/{family}?format=csv", headers=h)
        assert r.status_code == 200
        cells += [c for row in csv.reader(io.StringIO(r.content.decode("utf-8-sig"))) for c in row]
        r = client.get(f"/prospects/{family}?format=xlsx", headers=h)
        assert r.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
        values = [cell for row in sheet.iter_rows() for cell in row]
        assert not [c.coordinate for c in values if c.data_type == "f"], "a live formula in the XLSX export"
        texts += [str(c.value) for c in values if isinstance(c.value, str)]
    for where in (cells, texts):
        assert {n for n in planted if any(n.strip() in c for c in where)} == set(planted), "planted names missing"
        assert not [c for c in where if c[:1] in ("=", "+", "@", "\t", "\r") or (c[:1] == "-" and not _number(c))]


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_markup_in_names_is_text_on_every_page(hostile_app: tuple[TestClient, str, NetworkxStore]) -> None:
    client, token, store = hostile_app
    evil_ids = [i for i, name in RENAMES.items() if name in MARKUP]
    pages = ["/", "/viz/supply-chain/E0001", "/viz/payroll/E0001", "/viz/person/P0001",
             *[f"/viz/ego/{i}" for i in evil_ids], *[f"/viz/referral/{i}" for i in evil_ids],
             "/login?next=%3Cscript%3Ealert(3)%3C/script%3E"]
    client.get(f"/me?token={token}")  # the session cookie, as a browser would have it
    shown = 0
    for page in pages:
        r = client.get(page)
        assert r.status_code in (200, 404), (page, r.status_code)
        if r.status_code != 200:
            continue
        assert "text/html" in r.headers["content-type"]
        for raw in (*MARKUP, "<script>alert(3)</script>"):
            assert raw.split("有限公司")[0].split("贸易")[0] not in r.text, f"raw markup on {page}"
        shown += sum(1 for name in MARKUP if "&lt;" + name[1:8] in r.text or "\\u003c" + name[1:8] in r.text)
    assert shown >= 2, "the markup names were shown on no page at all: the check above proves nothing"


@pytest.mark.parametrize("paid_on", ["9999-12-31", "1000-01-01"])
def test_out_of_range_dates_are_rejected_rows(tmp_path: Path, paid_on: str) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "enterprises.csv").write_text(ENTERPRISES, encoding="utf-8")
    (bundle / "payments.csv").write_text(
        f"payer_id,payee_name,amount,paid_on\nE0001,苏州新材料有限公司,100,{paid_on}\n"
        "E0001,苏州新材料有限公司,200,2024-01-05\n", encoding="utf-8")
    summary = run_ingest(NetworkxStore(tmp_path / "store"), bundle)
    assert summary.by_table["payments"] == {"read": 2, "accepted": 1, "rejected": 1}


def test_rejects_report_carries_no_live_formula(tmp_path: Path) -> None:
    bundle = write_bundle_a(tmp_path / "bundle")
    with open(bundle / "payments.csv", "a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([["E0001", n, "1000", "2024-01-05", ""] for n in FORMULAS])
    summary = run_ingest(NetworkxStore(tmp_path / "store"), bundle)
    text = (summary.report_dir / "rejects.csv").read_text(encoding="utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert sum(1 for c in cells if any(f.strip()[1:] in c for f in FORMULAS)) >= len(FORMULAS)
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or (c[:1] == "-" and not _number(c))]
