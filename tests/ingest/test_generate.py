"""The demo and scale bundle generator: determinism, every planted case, the planted mess."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from demo import cases as dc
from demo.bundle import write_bundle
from graph.errors import InvalidRequest
from ingest.aliases import canonical_header
from ingest.values import canonical_value

# Independent implementations of the two check characters (GB 11643, GB 32100), checked
# against the published examples below, so the generator is not checked against itself.
_ID_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_W = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def id_ok(number: str) -> bool:
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return False
    return "10X98765432"[sum(int(c) * w for c, w in zip(number[:17], _ID_W, strict=True)) % 11] == number[17]


def uscc_ok(code: str) -> bool:
    if len(code) != 18 or any(c not in _USCC for c in code):
        return False
    return _USCC[(31 - sum(_USCC.index(c) * w for c, w in zip(code[:17], _USCC_W, strict=True)) % 31) % 31] == code[17]


def test_check_characters_match_published_examples() -> None:
    assert id_ok("11010519491231002X")
    assert not id_ok("110105194912310021")
    assert uscc_ok("91350100M000100Y43")
    assert not uscc_ok("91350100M000100Y44")


def read(bundle: Path, table: str) -> pd.DataFrame:
    """A bundle file with canonical column names, whatever its encoding and header language."""
    raw = (bundle / f"{table}.csv").read_bytes()
    for encoding in ("utf-8-sig", "gbk"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    from io import StringIO

    df = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    return df.rename(columns={c: canonical_header(table, c) or c for c in df.columns})


@pytest.fixture(scope="module")
def tables(demo_bundle: Path) -> dict[str, pd.DataFrame]:
    names = ["enterprises", "persons", "roles", "associations", "memberships", "payments", "bills",
             "endorsements", "payroll", "managers", "branches"]
    return {t: read(demo_bundle, t) for t in names}


def _amount(text: str) -> float | None:
    text = text.replace(",", "").strip()
    scale = 1.0
    if text.endswith("万元"):
        text, scale = text[:-2], 10_000.0
    try:
        value = float(text) * scale
    except ValueError:
        return None
    return value if value > 0 else None


def _date(text: str) -> pd.Timestamp | None:
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d"):
        try:
            return pd.Timestamp(pd.to_datetime(text, format=fmt))
        except ValueError:
            continue
    return None


@pytest.fixture(scope="module")
def payments(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The good payment rows, with parsed amounts and dates."""
    df = tables["payments"].copy()
    df["value"] = df["amount"].map(_amount)
    df["on"] = df["paid_on"].map(_date)
    good = df["value"].notna() & df["on"].notna() & ((df["payee_id"] != "") | (df["payee_name"] != ""))
    out = df[good].copy()
    out["month"] = out["on"].map(lambda d: d.strftime("%Y-%m"))
    return out


# ------------------------------------------------------------------ determinism and size
def test_same_seed_same_files_other_seed_differs(demo_bundle: Path, tmp_path: Path) -> None:
    again, other = tmp_path / "again", tmp_path / "other"
    stats = write_bundle(again, seed=7)
    write_bundle(other, seed=8)
    files = sorted(p.name for p in demo_bundle.iterdir())
    assert files == sorted(p.name for p in again.iterdir())
    assert all((demo_bundle / f).read_bytes() == (again / f).read_bytes() for f in files)
    assert any((demo_bundle / f).read_bytes() != (other / f).read_bytes() for f in files)
    assert set(stats) == {f.removesuffix(".csv") for f in files}
    assert all(len(read(again, table)) == rows for table, rows in stats.items())
    assert 20_000 < sum(stats.values()) < 100_000


def test_bundle_into_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "a-file"
    target.write_text("x")
    with pytest.raises(InvalidRequest, match="is a file"):
        write_bundle(target)
    with pytest.raises(InvalidRequest, match="at least"):
        write_bundle(tmp_path / "b", scale=10)


# ------------------------------------------------------------------ the mess of real exports
def test_gbk_file_is_really_gbk(demo_bundle: Path) -> None:
    raw = (demo_bundle / dc.GBK_FILE).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gbk")
    assert text.splitlines()[0].startswith("客户编号,姓名,身份证号")


def test_chinese_headers_and_values(demo_bundle: Path, tables: dict[str, pd.DataFrame]) -> None:
    for name in dc.CHINESE_HEADER_FILES:
        raw = (demo_bundle / name).read_bytes()
        header = (raw.decode("gbk") if name == dc.GBK_FILE else raw.decode("utf-8-sig")).splitlines()[0]
        assert re.search(r"[\u4e00-\u9fff]", header), name
        table = name.removesuffix(".csv")
        assert all(canonical_header(table, h) for h in header.split(",")), header
    assert set(tables["roles"]["role"].map(lambda v: canonical_value("role", v))) >= {
        "legal_rep", "actual_controller", "director", "finance"}
    assert tables["memberships"]["position"].map(lambda v: canonical_value("position", v)).notna().all()
    assert set(tables["persons"]["tier"]) - {""} == {"大众", "潜力", "贵宾", "私行"}


def test_messy_amounts_and_dates(tables: dict[str, pd.DataFrame]) -> None:
    pay = tables["payments"]
    assert pay["amount"].str.contains(r"^\d{1,3}(?:,\d{3})+\.\d\d$").sum() >= 3
    assert pay["amount"].str.endswith("万元").sum() >= 3
    assert pay["paid_on"].str.match(r"^\d{4}/\d\d/\d\d$").sum() >= 3
    assert pay["paid_on"].str.match(r"^\d{4}年\d\d月\d\d日$").sum() >= 3


def test_bad_rows_are_planted(tables: dict[str, pd.DataFrame], payments: pd.DataFrame) -> None:
    pay = tables["payments"]
    assert len(pay) - len(payments) == sum(1 for f, *_ in dc.BAD_ROWS if f == "payments.csv")
    assert (pay["paid_on"].map(_date).isna()).sum() == 1
    assert pay["amount"].str.startswith("-").sum() == 1
    assert ((pay["payee_id"] == "") & (pay["payee_name"] == "")).sum() == 1
    persons = tables["persons"]
    bad_ids = persons[~persons["id_number"].map(id_ok)]
    assert bad_ids["person_id"].tolist() == [dc.BAD_PERSON]
    ents = tables["enterprises"]
    assert ents.loc[ents["name"].str.strip() == "", "enterprise_id"].tolist() == [dc.BAD_ENTERPRISE]
    assert (~tables["payroll"]["month"].str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])")).sum() == 1


def test_ids_and_usccs_valid(tables: dict[str, pd.DataFrame]) -> None:
    persons = tables["persons"]
    good = persons[persons["person_id"] != dc.BAD_PERSON]
    assert good["id_number"].map(id_ok).all()
    assert good["phone"].str.fullmatch(r"1\d{10}|").all()
    ents = tables["enterprises"]
    clients = ents[ents["is_client"] == "是"]
    assert len(clients) >= 6 and clients["uscc"].map(uscc_ok).all()
    given = ents[ents["uscc"] != ""]
    assert given["uscc"].map(uscc_ok).all()
    assert given["uscc"].is_unique


# ------------------------------------------------------------------ planted cases
def test_supply_chain(tables: dict[str, pd.DataFrame], payments: pd.DataFrame) -> None:
    ents = tables["enterprises"].set_index("enterprise_id")
    assert ents.loc[dc.CORE, "is_credit_client"] == "是"
    assert ents.loc[dc.CORE_SUBSIDIARY, "parent_id"] == dc.CORE
    from_core = payments[payments["payer_id"] == dc.CORE]
    by_id = from_core[from_core["payee_id"].isin(dc.SUPPLIERS)]
    assert set(by_id["payee_id"]) == set(dc.SUPPLIERS) - set(dc.SUPPLIER_NAME_ONLY)
    for eid in dc.SUPPLIER_NAME_ONLY:  # known only by name variants, each normalising to the listed name
        rows = from_core[from_core["payee_name"].isin(dc.NAME_VARIANTS[eid])]
        assert len(rows) and (rows["payee_id"] == "").all(), eid
        plain = {_plain(v) for v in dc.NAME_VARIANTS[eid]}
        assert plain == {_plain(ents.loc[eid, "name"])}, eid
    variants = [v for vs in dc.NAME_VARIANTS.values() for v in vs]
    assert any("（" in v for v in variants) and any("(" in v for v in variants)
    assert any("有限责任公司" in v for v in variants) and any("  " in v for v in variants)
    assert (from_core["payee_name"] == dc.SUPPLIER_BRANCH_NAME).sum() == dc.SUPPLIER_BRANCH_PAYMENTS
    supplier_rows = from_core[from_core["payee_id"].isin(dc.SUPPLIERS) | (from_core["payee_id"] == "")]
    assert not (supplier_rows["payee_bank"] == "本行").any()
    assert supplier_rows["payee_bank"].nunique() >= 4
    months = from_core.assign(sid=from_core["payee_id"].where(from_core["payee_id"] != "",
                                                                 from_core["payee_name"].map(_plain)))
    for eid in dc.STEADY_SUPPLIERS:
        key = eid if eid not in dc.SUPPLIER_NAME_ONLY else _plain(ents.loc[eid, "name"])
        assert months.loc[months["sid"] == key, "month"].nunique() == dc.PAYMENT_MONTHS, eid
    for eid in dc.IRREGULAR_SUPPLIERS:
        key = eid if eid not in dc.SUPPLIER_NAME_ONLY else _plain(ents.loc[eid, "name"])
        assert 3 <= months.loc[months["sid"] == key, "month"].nunique() < dc.PAYMENT_MONTHS, eid
    weak = ents.loc[dc.WEAK_CLIENT_SUPPLIER]
    assert (weak["is_client"], weak["is_credit_client"]) == ("是", "否")
    assert (months["sid"] == _plain(weak["name"])).sum() == dc.WEAK_CLIENT_PAYMENTS
    for payer, payee in zip(dc.SUPPLIERS[:2], dc.TIER2_SUPPLIERS, strict=True):
        assert ((payments["payer_id"] == payer) & (payments["payee_id"] == payee)).sum() >= 5
    to_core = payments[payments["payee_id"] == dc.CORE]
    assert set(to_core["payer_id"]) == set(dc.BUYERS) and (to_core["payee_bank"] == "本行").all()


def _plain(name: str) -> str:
    """A test-local normal form: NFKC, no brackets or spaces, one legal form."""
    text = unicodedata.normalize("NFKC", name).replace("有限责任公司", "有限公司")
    return re.sub(r"[\s()]", "", text)


def test_bills_endorsed_and_discounted(tables: dict[str, pd.DataFrame]) -> None:
    bills = tables["bills"].set_index("bill_id")
    ends = tables["endorsements"]
    for bill in dc.ENDORSED_BILLS:
        row = bills.loc[bill]
        assert (row["drawer_id"], row["payee_id"], row["discounted_by"]) == (dc.CORE, dc.SUPPLIERS[0], dc.DISCOUNT_BANK)
        chain = ends[ends["bill_id"] == bill]
        assert chain[["from_id", "to_id"]].values.tolist() == [[dc.SUPPLIERS[0], dc.TIER2_ENDORSED]]
    assert (bills["drawer_id"] == dc.CORE).all() and (bills["acceptor"] == "本行").all()
    named = ends[ends["to_name"].isin(dc.EXTERNAL_ENDORSEES)]
    assert named["seq"].astype(int).tolist() == [1, 2]


def test_association_case(tables: dict[str, pd.DataFrame]) -> None:
    ents = tables["enterprises"].set_index("enterprise_id")
    members = tables["memberships"]
    ins = members[members["association_id"] == dc.ASSOC_INSULATION]
    firms = ins[ins["member_kind"].map(lambda v: canonical_value("member_kind", v)) == "enterprise"]["member_id"]
    credit = [m for m in firms if ents.loc[m, "is_credit_client"] == "是"]
    non_clients = sorted(m for m in firms if ents.loc[m, "is_client"] == "否")
    assert credit == [dc.ASSOC_CREDIT_MEMBER] and ents.loc[credit[0], "manager_id"] == dc.MGR_ASSOC
    assert non_clients == sorted(dc.ASSOC_PROSPECT_MEMBERS) and len(non_clients) == 14
    assert ents.loc[list(firms), "industry"].nunique() == 1
    sec = ins[ins["member_id"] == dc.SECRETARY_GENERAL]
    assert canonical_value("position", sec["position"].item()) == "secretary_general"
    assert canonical_value("member_kind", sec["member_kind"].item()) == "person"
    person = tables["persons"].set_index("person_id").loc[dc.SECRETARY_GENERAL]
    assert canonical_value("tier", person["tier"]) == "vip" and person["manager_id"] == dc.MGR_RETAIL_WEST
    roles = tables["roles"]
    director = roles[(roles["person_id"] == dc.INTERLOCK_DIRECTOR)]
    assert set(director["enterprise_id"]) == {dc.ASSOC_CREDIT_MEMBER, dc.ASSOC_PROSPECT_MEMBERS[0]}
    assert (director["role"].map(lambda v: canonical_value("role", v)) == "director").all()
    assoc = tables["associations"].set_index("association_id")
    assert assoc.loc[dc.ASSOC_INSULATION, "name"] == "保温材料行业协会"


def test_payroll_case(tables: dict[str, pd.DataFrame]) -> None:
    pay = tables["payroll"]
    pay = pay[pay["month"].str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])")].assign(value=lambda d: d["amount"].astype(float))
    staff = pay[pay["employer_id"] == dc.SUPERMARKET]
    assert staff["person_id"].nunique() == dc.SUPERMARKET_STAFF
    assert (staff["value"] >= dc.SUPERMARKET_PAY_MIN).all()
    per_person = staff.groupby("person_id")["month"].nunique()
    assert (per_person[~per_person.index.isin(dc.SHORT_TENURE_STAFF)] == dc.PAYROLL_MONTHS).all()
    assert per_person[dc.SHORT_TENURE_STAFF].between(2, 4).all()
    persons = tables["persons"].set_index("person_id")
    aum = persons.loc[per_person.index, "aum"].astype(float)
    assert aum[dc.NEAR_THRESHOLD_STAFF].between(35_000, 49_900).all()
    assert (aum[dc.ABOVE_THRESHOLD_STAFF] > dc.THRESHOLD).all()
    ordinary = per_person.index.difference(dc.NEAR_THRESHOLD_STAFF + dc.ABOVE_THRESHOLD_STAFF)
    retention = aum[ordinary] / staff.groupby("person_id")["value"].sum()[ordinary]
    assert retention.median() == pytest.approx(dc.SUPERMARKET_RETENTION, rel=0.15)
    assert (aum[ordinary] < 35_000).all()


def test_pharmacy_market_and_group(tables: dict[str, pd.DataFrame]) -> None:
    ents = tables["enterprises"].set_index("enterprise_id")
    stores = ents.loc[dc.PHARMACY_STORES]
    assert (stores["parent_id"] == dc.PHARMACY).all() and (stores["is_client"] == "否").all()
    assert stores["name"].str.fullmatch(r"康宁大药房连锁有限公司.+(门店|分店)").all()
    assert {"门店", "分店"} == set(stores["name"].str[-2:])
    assert ents.loc[dc.PHARMACY, "is_client"] == "是"
    members = tables["memberships"]
    market = members[members["association_id"] == dc.MARKET]["member_id"]
    assert sorted(m for m in market if ents.loc[m, "is_client"] == "是") == dc.MARKET_CLIENT_MERCHANTS
    assert len([m for m in market if ents.loc[m, "is_client"] == "否"]) == 50
    assert tables["associations"].set_index("association_id").loc[dc.MARKET, "kind"] == "market"


def test_executives_owners_and_outflow(tables: dict[str, pd.DataFrame]) -> None:
    persons = tables["persons"].set_index("person_id")
    roles = tables["roles"].assign(canon=lambda d: d["role"].map(lambda v: canonical_value("role", v)))
    execs = roles[roles["person_id"].isin(dc.CLIENT_EXECUTIVES)]
    assert set(execs["enterprise_id"]) == {dc.CORE, dc.SUPERMARKET}
    assert set(execs["canon"]) == {"legal_rep", "actual_controller", "director", "finance"}
    assert (execs.loc[execs["canon"] == "actual_controller", "share_pct"] != "").all()
    assert (persons.loc[dc.CLIENT_EXECUTIVES, "is_retail_client"] == "否").all()
    assert persons.loc[dc.DO_NOT_CONTACT, "do_not_contact"] == "是"
    assert (persons.drop(dc.DO_NOT_CONTACT)["do_not_contact"] == "").all()
    owners = roles[roles["person_id"].isin(dc.RETAIL_VIP_OWNERS)]
    assert set(owners["enterprise_id"]) == set(dc.VIP_COMPANIES)
    assert set(owners["canon"]) <= {"actual_controller", "legal_rep", "shareholder"}
    assert {canonical_value("tier", t) for t in persons.loc[dc.RETAIL_VIP_OWNERS, "tier"]} == {"vip", "private"}
    ents = tables["enterprises"].set_index("enterprise_id")
    assert (ents.loc[dc.VIP_COMPANIES, "is_client"] == "否").all()
    retail = persons[(persons["is_retail_client"] == "是") & (persons["aum_prev"] != "")]
    ratio = retail["aum"].astype(float) / retail["aum_prev"].astype(float)
    assert ratio[dc.OUTFLOW_QUERY] == pytest.approx(0.7, abs=0.05)
    assert ratio[dc.OUTFLOW_WARNING] == pytest.approx(0.4, abs=0.05)
    assert (ratio.drop([dc.OUTFLOW_QUERY, dc.OUTFLOW_WARNING]) > 0.8).all()
    assert set(dc.ORDINARY_RETAIL) <= set(retail.index)


def test_managers_and_branches(tables: dict[str, pd.DataFrame]) -> None:
    managers = tables["managers"].set_index("manager_id")
    kinds = managers["kind"].map(lambda v: canonical_value("manager_kind", v))
    assert kinds[[dc.MGR_CORE, dc.MGR_ASSOC]].eq("corporate").all()
    assert kinds[[dc.MGR_RETAIL_EAST, dc.MGR_RETAIL_WEST]].eq("retail").all()
    branches = dict(tables["branches"][["branch_id", "name"]].values)
    assert branches == {dc.BRANCH_EAST: "城东支行", dc.BRANCH_WEST: "城西支行"}
    used = set(tables["enterprises"]["manager_id"]) | set(tables["persons"]["manager_id"])
    assert used - {""} <= set(managers.index)


# ------------------------------------------------------------------ scale mode
@pytest.fixture(scope="module")
def scale_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("scale") / "bundle"
    return out, write_bundle(out, seed=3, scale=20_000)


def test_scale_row_counts(scale_bundle: tuple[Path, dict[str, int]]) -> None:
    out, stats = scale_bundle
    assert stats["payments"] == pytest.approx(20_000, rel=0.02)
    assert stats["enterprises"] == pytest.approx(2_000, rel=0.1)
    assert stats["persons"] == pytest.approx(10_000, rel=0.1)
    assert stats["payroll"] == pytest.approx(24_000, rel=0.1)
    for table, rows in stats.items():
        df = pd.read_csv(out / f"{table}.csv", dtype=str, keep_default_na=False, encoding="utf-8")
        assert len(df) == rows, table
        assert all(canonical_header(table, c) == c for c in df.columns), table


def test_scale_structure(scale_bundle: tuple[Path, dict[str, int]]) -> None:
    out, _ = scale_bundle
    ents = pd.read_csv(out / "enterprises.csv", dtype=str, keep_default_na=False)
    assert ents["enterprise_id"].is_unique and ents["name"].is_unique
    assert ents["uscc"].map(uscc_ok).all()
    with_parent = ents[ents["parent_id"] != ""]
    assert 0 < len(with_parent) < 0.1 * len(ents)
    assert (with_parent["parent_id"] < with_parent["enterprise_id"]).all()  # groups never form a cycle
    persons = pd.read_csv(out / "persons.csv", dtype=str, keep_default_na=False)
    assert persons["id_number"].map(id_ok).all()
    pay = pd.read_csv(out / "payments.csv", dtype=str, keep_default_na=False)
    assert set(pay.loc[pay["payee_id"] != "", "payee_id"]) <= set(ents["enterprise_id"])
    assert ((pay["payee_id"] == "") != (pay["payee_name"] == "")).all()
    assert 0.02 < (pay["payee_id"] == "").mean() < 0.08
    # heavy-tailed: the busiest 1% of payers make far more than 1% of the payments
    counts = pay["payer_id"].value_counts()
    assert counts.iloc[: max(1, len(counts) // 100)].sum() > 0.1 * len(pay)
    payroll = pd.read_csv(out / "payroll.csv", dtype=str, keep_default_na=False)
    sizes = payroll.groupby("employer_id")["person_id"].nunique().sort_values(ascending=False)
    assert sizes.iloc[0] > 5 * sizes.median()
    assert set(payroll["person_id"]) <= set(persons["person_id"])
    ends = pd.read_csv(out / "endorsements.csv", dtype=str, keep_default_na=False)
    assert set(ends["bill_id"]) <= set(pd.read_csv(out / "bills.csv", dtype=str)["bill_id"])


def test_scale_is_deterministic(tmp_path: Path) -> None:
    a, b, c = (write_bundle(tmp_path / n, seed=s, scale=2_000) for n, s in (("a", 1), ("b", 1), ("c", 2)))
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert a == b
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    assert (tmp_path / "a" / "payments.csv").read_bytes() != (tmp_path / "c" / "payments.csv").read_bytes()


# ------------------------------------------------------------------ through the real ingest
def test_demo_bundle_ingests_with_only_the_planted_rejects(demo_store) -> None:  # type: ignore[no-untyped-def]
    """Every planted bad row is reported, and nothing else in the bundle is (the rest is clean)."""
    reports = sorted(demo_store.reports_dir.glob("*/rejects.csv"))
    assert reports, "the demo ingest wrote no rejects report"
    rejects = pd.read_csv(reports[0], dtype=str, keep_default_na=False, encoding="utf-8-sig")
    reported = set(zip(rejects["file"], rejects["column"], strict=True))
    planted = {(f, c) for f, c, _ in dc.BAD_ROWS}
    assert planted <= reported
    assert reported <= planted
